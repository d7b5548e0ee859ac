"""``posthoc.debias``: one call for every registered post-hoc method, and ``posthoc.evaluate``."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from torch import nn

from ._progress import shown
from .validation import check_lam, check_measurable_groups, check_seed
from .threads import check_threads, limited_threads
from .data import Split
from .diagnostics import is_constant
from .methods import METHODS, DebiasResult, frozen_copy, scores_of
from .metrics import MEASURES, Measure, accuracy, bias, check_measure
from .objectives import EPSILON, NoCertifiedCandidate, Objective, as_objective


def debias(model: nn.Module, split: Split, method: str, *, measure: Measure = "spd",
           lam: float | None = None, seed: int | None = None,
           objective: str | Objective = "weighted",
           epsilon: float | None = None, margin: float | None = None,
           resamples: int | None = None, progress: bool = False,
           threads: int | str = 1,
           **options: Any) -> DebiasResult:
    """Debias ``model`` post hoc with the validation ``split``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a float tensor of features to probabilities in [0, 1] (shape [n] or [n, 1]).
        It is never modified: every method works on a copy.
    split : Split
        The validation data the method may use.
    method : name in posthoc.METHODS
        ``"default"`` is the unchanged model thresholded where validation accuracy is
        highest; ``"random"``, ``"layerwise"`` and ``"adversarial"`` fine-tune (the paper's
        Algorithms 1, 2 and 3); ``"roc"``, ``"eqodds"`` and ``"calibeqodds"`` are AIF360's
        post-processing baselines. ``posthoc.METHODS[method].options`` lists a method's
        options with their defaults.
    measure : name in posthoc.MEASURES or callable, default "spd"
        Bias measure of the objective; a callable ``(y_pred, y_true, a) -> float`` works with
        every method whose spec does not say ``builtin_measures_only``.
    lam : float in [0, 1], default 0.75
        Weight of |bias| in the objective (the objective's own, when ``objective`` is a
        :class:`posthoc.Objective`).
    seed : int, default 0
        Seed of every random draw of the method (and of the bootstrap resamples; the
        objective's own, when ``objective`` is a :class:`posthoc.Objective`).
    objective : {"weighted", "constrained", "certified"} or posthoc.Objective
        ``"weighted"`` (the default) is the paper's λ·|bias| + (1 − λ)·(1 − accuracy).
        ``"constrained"`` is its final version's: 1 − balanced accuracy while |bias| <
        ``epsilon``, else 1, each candidate scored over ``resamples`` bootstrap resamples of
        ``split`` with the bound ``epsilon - margin``. ``"certified"`` keeps only candidates
        whose upper bootstrap bound on |bias| (95% by default, over 100 resamples) is at most
        ``epsilon`` and raises :class:`posthoc.objectives.NoCertifiedCandidate` when the
        result's is not. The post-processing methods and ``default`` do not optimise an
        objective; their result is reported (and certified) under it.
    epsilon, margin, resamples : optional
        The tolerance (default 0.05), bootstrap margin (the method's: 0.01, 0.02 for
        adversarial fine-tuning, at ε = 0.05, in proportion to ε otherwise) and number of
        resamples (5; 100 for ``"certified"``).
    progress : bool, default False
        Show the long methods' progress (trials, layers or epochs) on stderr.
    threads : int or "auto", default 1
        Threads torch and numba may use while the method runs (restored afterwards).
        ``"auto"`` takes one per idle core when the call starts
        (:func:`posthoc.threads.auto_threads`), for a machine where nothing else will start
        meanwhile. The methods work on small batched tensors, where a second thread gains
        a little on an idle machine and loses much as soon as another process runs (on a
        2-core machine beside one busy process, two threads made random perturbation and
        layer-wise optimisation 2.5 times slower than one, and the compiled optimiser's
        scan 16 times slower; ``python -m posthoc.repro.bench --busy`` measures it). The
        numbers do not depend on it.
    **options
        The method's options, for example ``trials`` (random), ``calls`` (layerwise),
        ``epochs`` (adversarial), ``grid`` (thresholds tried; ``None`` for every cut point).

    Returns
    -------
    DebiasResult

    Raises
    ------
    ValueError
        Unknown method, measure or option; a bad option value; ``lam`` outside [0, 1]; a
        seed that is not an integer in [0, 2**32 - 1]; an :class:`posthoc.Objective` beside a
        ``lam``, ``epsilon``, ``margin``, ``resamples`` or ``seed`` that contradicts it; a
        split with one group, or two groups coded other than 0 and 1; a model that does not
        take the split's features or does not output probabilities; a model the method
        cannot use.

    Examples
    --------
    >>> import numpy as np, torch
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)).astype(np.float32)
    >>> split = Split(X, (X[:, 0] > 0).astype(np.int64), (X[:, 1] > 0).astype(np.int64))
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Sigmoid())
    >>> result = debias(model, split, "random", trials=5)
    >>> result.predict(split.X).shape
    (200,)
    """
    spec = METHODS.check(method)
    measure = _checked_measure(spec, measure)
    threads = check_threads(threads)
    criterion = _criterion(spec, split, measure, objective, lam=lam, seed=seed,
                           epsilon=epsilon, resamples=resamples, margin=margin)
    settings = spec.resolve(options)
    copy = frozen_copy(model)
    scores_of(copy, split.X)     # the model takes the split's width and outputs probabilities
    start = time.perf_counter()
    objective_option = {"objective": criterion} if spec.uses_objective else {}
    with shown(progress), limited_threads(threads):
        fitted = spec.fit(copy, split, measure=measure, lam=criterion.lam, seed=criterion.seed,
                          **settings, **objective_option)
    result = DebiasResult(method=spec.name, measure=measure, lam=criterion.lam,
                          threshold=float(fitted.threshold), objective=float("nan"),
                          runtime_s=time.perf_counter() - start, model=fitted.model,
                          postprocessor=fitted.postprocessor, details=fitted.details,
                          seed=criterion.seed, options=settings,
                          n_features=split.X.shape[1], criterion=criterion)
    result.objective = result.objective_of(split)
    if criterion.certified:
        result.details["bias_bound"] = _certified_bound(result, split, spec.name)
    return result


def _checked_measure(spec, measure: Measure) -> Measure:
    measure = check_measure(measure)
    if not spec.supports(measure):
        supported = ", ".join(spec.measures if spec.measures is not None else MEASURES)
        got = "a callable" if callable(measure) else f"measure={measure!r}"
        raise ValueError(f"method {spec.name!r} supports only the measures {supported}; "
                         f"got {got}.")
    return measure


def _criterion(spec, split: Split, measure: Measure, objective: str | Objective, *,
               lam: float | None, seed: int | None, epsilon: float | None,
               resamples: int | None, margin: float | None) -> Objective:
    """The objective a debiasing run optimises, after checking the split and the values
    that define it (its ``lam`` and ``seed`` are the ones the search uses)."""
    lam = None if lam is None else check_lam(lam)
    seed = None if seed is None else check_seed(seed)
    if not isinstance(split, Split):
        raise ValueError(f"split must be a posthoc.Split; got {type(split).__name__}.")
    check_measurable_groups("split.a", split.a)
    if margin is None and objective == "constrained":
        # The final version's margins (0.01; 0.02 for adversarial fine-tuning) belong to its
        # tolerance 0.05; another tolerance scales them in proportion.
        margin = spec.margin * (EPSILON if epsilon is None else epsilon) / EPSILON
    criterion = as_objective(objective, lam=lam, epsilon=epsilon, resamples=resamples,
                             margin=margin, seed=seed)
    if criterion.constrained and callable(measure):
        raise ValueError("objective 'constrained' takes a registered measure name (see "
                         "posthoc.register_measure); got a callable.")
    return criterion


def _certified_bound(result: DebiasResult, split: Split, method: str) -> float:
    """The upper bootstrap bound on the result's |bias| on ``split``; raises
    :class:`NoCertifiedCandidate` when it exceeds the tolerance."""
    criterion, measure = result.criterion, result.measure
    bound = criterion.certify(result.predict_split(split), split.y, split.a, measure)
    if bound > criterion.epsilon:
        raise NoCertifiedCandidate(
            f"no candidate of method {method!r} is certified: the best one's upper "
            f"bound on |{measure}| at confidence {criterion.confidence:g} is {bound:.4f} on "
            f"the validation split ({criterion.resamples} bootstrap resamples), above "
            f"epsilon = {criterion.epsilon:g}. Allow a larger epsilon or a lower "
            "confidence, or use objective='constrained'.")
    return bound


def evaluation_keys() -> list[str]:
    """The keys of :func:`evaluate`'s dictionary, in order."""
    return (["bias", "accuracy", "objective", "positive_rate", "constant"]
            + [f"bias_{name}" for name in MEASURES])


def evaluate(result: DebiasResult, split: Split) -> dict[str, float]:
    """Bias, accuracy and objective of ``result`` on ``split``, the share of predicted 1s
    (``positive_rate``), whether every prediction is one class (``constant``: its bias is 0
    under every measure), and the bias under each registered measure (``bias_spd``,
    ``bias_eod``, ``bias_aod``, ...)."""
    if not isinstance(result, DebiasResult):
        raise ValueError(f"result must be a DebiasResult; got {type(result).__name__}.")
    predictions = result.predict_split(split)
    row = {"bias": float(bias(predictions, split.y, split.a, result.measure)),
           "accuracy": float(accuracy(predictions, split.y)),
           "objective": result.objective_of(split),
           "positive_rate": float(np.mean(predictions)) if len(predictions) else float("nan"),
           "constant": is_constant(predictions)}
    for name in MEASURES:
        row[f"bias_{name}"] = float(bias(predictions, split.y, split.a, name))
    return row


__all__ = ["debias", "evaluate", "evaluation_keys"]
