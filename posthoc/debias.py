"""``posthoc.debias``: one call for every post-hoc method, and ``posthoc.evaluate``."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from ._validation import check_choice, check_lam, check_positive_int
from .data import Split
from .metrics import MEASURES, Measure, accuracy, best_threshold, bias, check_measure, objective
from .methods._common import DebiasResult, frozen_copy, scores_of

#: Every method :func:`debias` runs.
METHODS = ("default", "random", "layerwise", "adversarial", "roc", "eqodds", "calibeqodds")
#: Threshold grids of the authors' code, used unless ``grid`` is given.
AUTHORS_GRID = {"default": 1001, "random": 501, "layerwise": 501, "adversarial": 1001}
_OPTIONS = {
    "default": {"grid"},
    "random": {"grid", "trials", "std", "chunk"},
    "layerwise": {"grid", "calls", "n_points", "layers", "optimiser", "optimiser_factory"},
    "adversarial": {"grid", "epochs", "critic_steps", "actor_steps", "batch_size"},
    "roc": set(), "eqodds": set(), "calibeqodds": set(),
}


def _default_threshold(scores: np.ndarray, split: Split, grid: Any) -> float:
    """The threshold of highest validation accuracy (the ``default`` result)."""
    return float(best_threshold(scores, split.y, split.a, "spd", lam=0.0, grid=grid))


def debias(model: nn.Module, split: Split, method: str, *, measure: Measure = "spd",
           lam: float = 0.75, seed: int = 0, **options: Any) -> DebiasResult:
    """Debias ``model`` post hoc with the validation ``split``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a float tensor of features to probabilities in [0, 1] (shape [n] or [n, 1]).
        It is never modified: fine-tuning methods work on a copy.
    split : Split
        The validation data the method may use.
    method : {"default", "random", "layerwise", "adversarial", "roc", "eqodds", "calibeqodds"}
        ``"default"`` is the unchanged model thresholded where validation accuracy is
        highest; ``"random"``, ``"layerwise"`` and ``"adversarial"`` fine-tune (the paper's
        Algorithms 1, 2 and 3); the last three are AIF360's post-processing baselines.
    measure : {"spd", "eod", "aod"} or callable, default "spd"
        Bias measure of the objective; a callable ``(y_pred, y_true, a) -> float`` works with
        the fine-tuning methods.
    lam : float in [0, 1], default 0.75
        Weight of |bias| in the objective.
    seed : int, default 0
        Seed of every random draw of the method.
    **options
        Method settings: ``grid`` (threshold grid size; the authors' 501 / 1001 by default,
        ``None`` for every cut point), ``trials`` and ``std`` (random), ``calls``,
        ``n_points``, ``layers``, ``optimiser`` (``"gbrt"``, the compiled default, or
        ``"skopt"``) and ``optimiser_factory`` (a callable ``(dims, seed) -> AskTell``)
        (layerwise), ``epochs``,
        ``critic_steps``, ``actor_steps``, ``batch_size`` (adversarial).

    Returns
    -------
    DebiasResult

    Raises
    ------
    ValueError
        Unknown method, measure or option; ``lam`` outside [0, 1]; a model the method cannot
        use.
    """
    method = check_choice("method", method, METHODS)
    measure = check_measure(measure)
    lam = check_lam(lam)
    if not isinstance(split, Split):
        raise ValueError(f"split must be a posthoc.Split; got {type(split).__name__}.")
    unknown = sorted(set(options) - _OPTIONS[method])
    if unknown:
        valid = ", ".join(sorted(_OPTIONS[method])) or "none"
        raise ValueError(f"Unknown option {unknown[0]!r} for method {method!r}; "
                         f"valid options are: {valid}.")
    if method == "roc" and callable(measure):
        raise ValueError("method 'roc' supports only the measures "
                         f"{', '.join(MEASURES)}; got a callable.")
    model = frozen_copy(model)
    grid = options.pop("grid", AUTHORS_GRID.get(method))
    start = time.perf_counter()
    details: dict[str, Any] = {}
    postprocessor = None
    predict = None
    if method == "default":
        scores = scores_of(model, split.X)
        threshold = _default_threshold(scores, split, grid)
    elif method == "random":
        from .methods.random import random_perturbation

        trials = check_positive_int("trials", options.get("trials", 201))
        found = random_perturbation(model, split, measure=measure, lam=lam, seed=seed,
                                    trials=trials, std=float(options.get("std", 0.1)),
                                    grid=grid, chunk=options.get("chunk", 4))
        with torch.no_grad():
            for name, param in model.named_parameters():
                param.copy_(found["parameters"][name])
        threshold = found["threshold"]
        details = {"trial": found["trial"], "trial_objectives": found["trial_objectives"]}
    elif method == "layerwise":
        from .methods.layerwise import layerwise_optimisation

        found = layerwise_optimisation(
            model, split, measure=measure, lam=lam, seed=seed, grid=grid,
            calls=check_positive_int("calls", options.get("calls", 100)),
            n_points=check_positive_int("n_points", options.get("n_points", 100)),
            layers=options.get("layers"), optimiser=options.get("optimiser", "gbrt"),
            optimiser_factory=options.get("optimiser_factory"))
        threshold = found["threshold"]
        details = {"layer": found["layer"], "layer_objectives": found["layer_objectives"]}
    elif method == "adversarial":
        from .methods.adversarial import adversarial_fine_tuning

        settings = {k: check_positive_int(k, options[k])
                    for k in ("epochs", "critic_steps", "actor_steps", "batch_size")
                    if k in options}
        model = adversarial_fine_tuning(model, split, measure=measure, lam=lam, seed=seed,
                                        **settings)
        scores = scores_of(model, split.X)
        threshold = float(best_threshold(scores, split.y, split.a, measure, lam=lam,
                                         grid=grid))
    else:
        from .methods.baselines import fit_baseline

        scores = scores_of(model, split.X)
        threshold = _default_threshold(scores, split, AUTHORS_GRID["default"])
        postprocessor = fit_baseline(method, scores, split.y, split.a, measure=measure,
                                     seed=seed, threshold=threshold)

        def predict(X, a, _model=model, _post=postprocessor):
            if a is None:
                raise ValueError(f"method {method!r} post-processes with the protected "
                                 "attribute: call predict(X, a).")
            return _post.predict(scores_of(_model, X), a)

    runtime_s = time.perf_counter() - start
    result = DebiasResult(method=method, measure=measure, lam=lam, threshold=threshold,
                          objective=float("nan"), runtime_s=runtime_s, model=model,
                          postprocessor=postprocessor, details=details, _predict=predict)
    result.objective = float(objective(result.predict_split(split), split.y, split.a,
                                       measure, lam=lam))
    return result


def evaluate(result: DebiasResult, split: Split) -> dict[str, float]:
    """Bias, accuracy and objective of ``result`` on ``split``, and the bias under each
    built-in measure (``bias_spd``, ``bias_eod``, ``bias_aod``)."""
    if not isinstance(result, DebiasResult):
        raise ValueError(f"result must be a DebiasResult; got {type(result).__name__}.")
    predictions = result.predict_split(split)
    row = {"bias": float(bias(predictions, split.y, split.a, result.measure)),
           "accuracy": float(accuracy(predictions, split.y)),
           "objective": float(objective(predictions, split.y, split.a, result.measure,
                                        lam=result.lam))}
    for name in MEASURES:
        row[f"bias_{name}"] = float(bias(predictions, split.y, split.a, name))
    return row


__all__ = ["METHODS", "debias", "evaluate"]
