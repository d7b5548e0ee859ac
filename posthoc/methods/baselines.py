"""The three post-processing baselines, from AIF360, with the authors' settings.

Each is fitted on the validation split from the model's scores (and, for equalised odds, its
0/1 predictions at the most accurate threshold), and predicts from scores and the protected
attribute for any split. AIF360 is imported when a baseline is first fitted: importing its
post-processing algorithms takes about 2 s, which ``import posthoc`` should not pay.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._logging import without_root_records
from ..data import Split
from ..metrics import Measure, n_groups
from ._common import PostProcessorBase, scores_of
from ._spec import Fit, MethodSpec, NotApplicable
from .default import accuracy_threshold

#: AIF360's metric names for reject option classification.
ROC_METRICS = {"spd": "Statistical parity difference", "aod": "Average odds difference",
               "eod": "Equal opportunity difference"}
BASELINES = ("roc", "eqodds", "calibeqodds")
_GROUPS = dict(unprivileged_groups=[{"a": 0}], privileged_groups=[{"a": 1}])


def _quiet_import():
    """AIF360 logs a warning on the root logger per optional dependency it lacks, on first
    import: drop those records only."""
    return without_root_records("will be unavailable")


def _aif360_dataset(y: np.ndarray, a: np.ndarray, scores: np.ndarray | None = None,
                    labels: np.ndarray | None = None, *, favourable: int = 1):
    """A BinaryLabelDataset holding labels, the protected attribute ``a`` and scores, with
    ``favourable`` as its favourable label (AIF360 reads the scores as P(favourable))."""
    with _quiet_import():
        from aif360.datasets import BinaryLabelDataset

    frame = pd.DataFrame({"a": np.asarray(a, dtype=float), "y": np.asarray(y, dtype=float)})
    dataset = BinaryLabelDataset(df=frame, label_names=["y"], protected_attribute_names=["a"],
                                 favorable_label=float(favourable),
                                 unfavorable_label=float(1 - favourable))
    if scores is not None:
        dataset.scores = np.asarray(scores, dtype=float).reshape(-1, 1)
    if labels is not None:
        dataset.labels = np.asarray(labels, dtype=float).reshape(-1, 1)
    return dataset


class PostProcessor(PostProcessorBase):
    """A fitted AIF360 post-processor that predicts from scores and the protected attribute.

    ``threshold`` turns scores into the 0/1 predictions that equalised odds post-processes
    (the threshold of highest validation accuracy, as for the ``default`` result).
    """

    kind = "aif360"
    what = "the AIF360 post-processor"
    #: What each algorithm's ``predict`` reads of its fitted state.
    FITTED = {"roc": ("classification_threshold", "ROC_margin"),
              "eqodds": ("model_params",),
              "calibeqodds": ("base_rate_priv", "base_rate_unpriv", "priv_mix_rate",
                              "unpriv_mix_rate")}

    def __init__(self, method: str, algorithm, threshold: float, *, measure: str = "spd",
                 seed: int = 0, favourable: int = 1):
        self.method = method
        self.algorithm = algorithm
        self.threshold = threshold
        self.measure = measure
        self.seed = seed
        self.favourable = favourable

    def to_params(self) -> dict:
        """The fitted post-processor as plain numbers (what :meth:`from_params` rebuilds it
        from, with identical predictions), never a pickle."""
        fitted = {}
        for name in self.FITTED[self.method]:
            value = getattr(self.algorithm, name)
            if name == "model_params":          # scipy's linprog result: only .x is read
                value = value.x
            fitted[name] = np.asarray(value, dtype=float).tolist()
        return {"method": self.method, "threshold": float(self.threshold),
                "measure": self.measure, "seed": int(self.seed),
                "favourable": int(self.favourable), "fitted": fitted}

    @classmethod
    def from_params(cls, params: dict) -> "PostProcessor":
        """The post-processor :meth:`to_params` described."""
        method = params["method"]
        algorithm = _algorithm(method, params["measure"], params["seed"])
        for name in cls.FITTED[method]:
            value = np.asarray(params["fitted"][name], dtype=float)
            if name == "model_params":
                value = SimpleNamespace(x=value)
            elif value.ndim == 0:
                value = float(value)
            setattr(algorithm, name, value)
        return cls(method, algorithm, params["threshold"], measure=params["measure"],
                   seed=params["seed"], favourable=params.get("favourable", 1))

    def predict(self, scores: np.ndarray, a: np.ndarray,
                labels: np.ndarray | None = None) -> np.ndarray:
        """0/1 predictions from ``scores`` and ``a``; equalised odds post-processes
        ``labels`` when given, else the scores thresholded at :attr:`threshold`."""
        scores, a = self.checked(scores, a)
        _two_groups(self.method, a)
        labels = ((scores > self.threshold) if labels is None else np.asarray(labels)
                  ).astype(float)
        # The true labels are not used by predict; zeros stand in for them.
        dataset = _aif360_dataset(np.zeros_like(scores), a, scores=scores, labels=labels,
                                  favourable=self.favourable)
        return self.algorithm.predict(dataset).labels.ravel().astype(np.int64)


def fit_baseline(method: str, scores: np.ndarray, y: np.ndarray, a: np.ndarray, *,
                 measure: Measure, seed: int, threshold: float, favourable: int = 1,
                 labels: np.ndarray | None = None) -> PostProcessor:
    """Fit ``"roc"``, ``"eqodds"`` or ``"calibeqodds"`` on validation scores.

    ``favourable`` is the label AIF360 is told is favourable; AIF360 reads the scores as
    its probability, so ``favourable=0`` with scores of P(y = 1) runs the algorithm inverted
    (what the authors' code did on COMPAS). ``labels`` replaces the 0/1 predictions the
    post-processor is fitted on (the authors' equalised odds received the true labels).
    """
    algorithm = _algorithm(method, measure, seed)
    if method == "roc":   # searches the scores alone: no AIF360 datasets needed
        fit_reject_option(algorithm, scores, y, a, favourable=favourable)
    else:
        truth = _aif360_dataset(y, a, favourable=favourable)
        predictions = (scores > threshold) if labels is None else np.asarray(labels)
        predicted = _aif360_dataset(y, a, scores=scores, labels=predictions.astype(float),
                                    favourable=favourable)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # AIF360's pandas deprecation chatter
                algorithm = algorithm.fit(truth, predicted)
        finally:
            release_metric_caches()
    return PostProcessor(method, algorithm, threshold,
                         measure=measure if isinstance(measure, str) else "spd", seed=seed,
                         favourable=favourable)


def fit_reject_option(algorithm, scores: np.ndarray, y: np.ndarray, a: np.ndarray, *,
                      favourable: int = 1):
    """AIF360's ``RejectOptionClassification.fit``, computed at once over its whole grid.

    AIF360 builds two metric objects per grid point (5,000 of them) and computes each rate
    through pandas; here every point's confusion counts come from one array operation per
    classification threshold. The grid, the arithmetic (float64 divisions of the same
    integer counts, in the same order) and the choice (the first point of highest balanced
    accuracy whose measure lies within the bounds, else the first of lowest measure) are
    AIF360's, so the threshold and margin it sets are the ones ``algorithm.fit`` would set
    (a test compares them on every measure and both label orientations).
    """
    scores = np.asarray(scores, dtype=float).ravel()
    positive = np.asarray(y).ravel() == favourable           # the true favourable outcome
    privileged = np.asarray(a).ravel() == 1
    groups = {None: np.ones_like(privileged), True: privileged, False: ~privileged}
    totals = {g: (float(np.sum(positive & rows)), float(np.sum(~positive & rows)),
                  float(np.sum(rows))) for g, rows in groups.items()}
    metric = {name: measure for measure, name in ROC_METRICS.items()}[algorithm.metric_name]
    fair, balanced, margins_all, thresholds_all = [], [], [], []
    for threshold in np.linspace(algorithm.low_class_thresh, algorithm.high_class_thresh,
                                 algorithm.num_class_thresh):
        high = threshold if threshold <= 0.5 else (1.0 - threshold)
        margins = np.linspace(0.0, high, algorithm.num_ROC_margin)
        critical = ((scores[None, :] <= threshold + margins[:, None])
                    & (scores[None, :] > threshold - margins[:, None]))
        predicted = np.where(critical, ~privileged[None, :], (scores > threshold)[None, :])
        rates = {}
        for g, rows in groups.items():
            p, n, count = totals[g]
            tp = np.sum(predicted & (positive & rows)[None, :], axis=1).astype(np.float64)
            fp = np.sum(predicted & (~positive & rows)[None, :], axis=1).astype(np.float64)
            tn = n - fp
            with np.errstate(divide="ignore", invalid="ignore"):
                rates[g] = dict(tpr=tp / p, tnr=tn / n, fpr=fp / n, base=(tp + fp) / count)
        balanced.append(0.5 * (rates[None]["tpr"] + rates[None]["tnr"]))
        if metric == "spd":
            fair.append(rates[False]["base"] - rates[True]["base"])
        elif metric == "aod":
            fair.append(0.5 * ((rates[False]["fpr"] - rates[True]["fpr"])
                               + (rates[False]["tpr"] - rates[True]["tpr"])))
        else:
            fair.append(rates[False]["tpr"] - rates[True]["tpr"])
        margins_all.append(margins)
        thresholds_all.append(np.full_like(margins, threshold))
    fair, balanced = np.concatenate(fair), np.concatenate(balanced)
    margins_all, thresholds_all = np.concatenate(margins_all), np.concatenate(thresholds_all)
    within = (fair >= algorithm.metric_lb) & (fair <= algorithm.metric_ub)
    if within.any():
        best = np.where(balanced[within] == np.max(balanced[within]))[0][0]
    else:
        within = np.ones(len(fair), dtype=bool)   # AIF360 warns, then takes the lowest
        best = np.where(fair == np.min(fair))[0][0]
    algorithm.ROC_margin = margins_all[within][best]
    algorithm.classification_threshold = thresholds_all[within][best]
    return algorithm


def _algorithm(method: str, measure: Measure, seed: int):
    """AIF360's unfitted post-processor ``method`` with the authors' settings."""
    with _quiet_import():
        from aif360.algorithms.postprocessing import (
            CalibratedEqOddsPostprocessing, EqOddsPostprocessing, RejectOptionClassification)

    if method == "roc":
        if measure not in ROC_METRICS:
            raise ValueError(f"method 'roc' supports only the measures "
                             f"{', '.join(ROC_METRICS)}; got {measure!r}.")
        return RejectOptionClassification(
            low_class_thresh=0.01, high_class_thresh=0.99, num_class_thresh=100,
            num_ROC_margin=50, metric_name=ROC_METRICS[measure], metric_ub=0.05,
            metric_lb=-0.05, **_GROUPS)
    if method == "eqodds":
        return EqOddsPostprocessing(seed=seed, **_GROUPS)
    if method == "calibeqodds":
        return CalibratedEqOddsPostprocessing(cost_constraint="fpr", seed=seed, **_GROUPS)
    raise ValueError(f"Unknown baseline {method!r}; valid values are: {', '.join(BASELINES)}.")


def _memo_caches() -> list[dict]:
    """The dictionaries behind AIF360's ``memoize`` decorator on its metric classes."""
    with _quiet_import():
        from aif360.metrics import ClassificationMetric

    caches = []
    for cls in ClassificationMetric.__mro__:
        for value in vars(cls).values():
            code = getattr(value, "__code__", None)
            closure = getattr(value, "__closure__", None)
            if code is None or closure is None or "cache" not in code.co_freevars:
                continue
            cell = closure[code.co_freevars.index("cache")].cell_contents
            if isinstance(cell, dict):
                caches.append(cell)
    return caches


def release_metric_caches() -> int:
    """Empty AIF360's metric caches; return how many entries were dropped.

    AIF360 memoises every metric method in a module-level dictionary keyed by the metric
    object itself, so each ``ClassificationMetric`` ever built, with the datasets it holds,
    stays alive. Reject option classification builds thousands per fit: without this, a
    process running the study grows by about 100 MB per fit on COMPAS.
    """
    dropped = 0
    for cache in _memo_caches():
        dropped += len(cache)
        cache.clear()
    return dropped


def _two_groups(method: str, a: np.ndarray) -> None:
    """AIF360's post-processors know a privileged and an unprivileged group only."""
    groups = n_groups(torch.as_tensor(np.asarray(a)))
    if groups > 2:
        raise NotApplicable(f"method {method!r} (AIF360) supports two groups, a in {{0, 1}}; got "
                         f"{groups} groups. The fine-tuning methods work with any number.")


def _both_labels_per_group(method: str, y: np.ndarray, a: np.ndarray) -> None:
    """AIF360's post-processors need every group to hold both labels; otherwise their rates
    divide by zero (reject option classification) or their linear program has no solution
    (the equalised odds ones)."""
    for group in np.unique(a):
        labels = np.unique(y[a == group])
        if len(labels) < 2:
            members = int((a == group).sum())
            raise NotApplicable(f"method {method!r} (AIF360) needs both labels in every group; "
                                f"group {int(group)} of the split holds label "
                                f"{int(labels[0])} only ({members} "
                                f"{'person' if members == 1 else 'people'}).")


def _fitter(method: str):
    def fit(model: nn.Module, split: Split, *, measure: Measure, lam: float, seed: int) -> Fit:
        _two_groups(method, split.a)
        _both_labels_per_group(method, split.y, split.a)
        scores = scores_of(model, split.X)
        threshold = accuracy_threshold(scores, split)
        postprocessor = fit_baseline(method, scores, split.y, split.a, measure=measure,
                                     seed=seed, threshold=threshold)
        return Fit(model=model, threshold=threshold, postprocessor=postprocessor)

    fit.__name__ = f"fit_{method}"
    fit.__doc__ = f"Fit AIF360's {method!r} post-processor on the model's validation scores."
    return fit


SPECS = (
    MethodSpec(name="roc", label="ROC", family="post-processing", fit=_fitter("roc"),
               colour="#d62728", builtin_measures_only=True, measures=tuple(ROC_METRICS),
               description="reject option classification (AIF360), bounded to |bias| <= 0.05 "
                           "on the chosen measure"),
    MethodSpec(name="eqodds", label="EqOdds", family="post-processing",
               fit=_fitter("eqodds"), colour="#ff7f0e",
               description="equalised odds post-processing (AIF360)"),
    MethodSpec(name="calibeqodds", label="CalibEqOdds", family="post-processing",
               fit=_fitter("calibeqodds"), colour="#9467bd",
               description="calibrated equalised odds post-processing (AIF360), false "
                           "positive rate cost"),
)
