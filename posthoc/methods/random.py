"""Random perturbation (the paper's Algorithm 1), batched over trials with torch.func.

Every trial multiplies each parameter of the original network (BatchNorm's included) by
independent N(1, std) noise; the trial and threshold with the lowest validation objective
win. All trials are evaluated as one stacked computation: the perturbed parameters get a
leading trial axis and ``torch.func.vmap`` runs ``functional_call`` over it, and the best
threshold of every trial comes from one batched, sort-based :func:`posthoc.best_threshold`.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from .._progress import steps
from ..data import Split
from ..metrics import MEASURES, Measure, call_measure, group_counts, weighted_objective
from ..thresholds import best_threshold
from ._common import set_mode
from ._spec import GRID, Fit, MethodSpec, Option, integer, number, one_of


def draw_noise(model: nn.Module, *, trials: int, seed: int) -> list[dict[str, torch.Tensor]]:
    """Standard normal draws: one flat draw per trial, split into the parameters' shapes in
    the order of ``named_parameters``.

    Both the batched and the one-at-a-time implementation use these same draws.
    """
    return [_split_flat(model, row) for row in noise_matrix(model, trials=trials, seed=seed)]


def noise_matrix(model: nn.Module, *, trials: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(int(seed))
    size = sum(p.numel() for p in model.parameters())
    return torch.stack([torch.randn(size, generator=generator) for _ in range(trials)])


def _split_flat(model: nn.Module, flat: torch.Tensor) -> dict[str, torch.Tensor]:
    """Views of a flat (..., P) tensor shaped like each parameter, with the leading axes."""
    out, offset = {}, 0
    for name, p in model.named_parameters():
        out[name] = flat[..., offset:offset + p.numel()].reshape(flat.shape[:-1] + p.shape)
        offset += p.numel()
    return out


def perturbed_parameters(model: nn.Module, noise: torch.Tensor, *,
                         std: float) -> dict[str, torch.Tensor]:
    """Parameters with a leading trial axis, ``theta * (noise * std + 1)``, computed for all
    trials at once from the (trials, P) noise matrix."""
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    views = _split_flat(model, theta * (noise * std + 1))
    return {name: view.contiguous() for name, view in views.items()}


def batched_scores(model: nn.Module, stacked: dict[str, torch.Tensor], X: torch.Tensor, *,
                   chunk: int = 4) -> torch.Tensor:
    """Scores of every stacked parameter set on ``X``: (trials, n), in eval mode.

    Trials go through ``vmap`` a few at a time: with 4 trials the activations of a layer stay
    in the CPU's caches, which measured several times faster than 64 at once on Adult.
    """
    buffers = {name: b for name, b in model.named_buffers()}
    model = set_mode(model, False)

    def one(params):
        out = functional_call(model, (params, buffers), (X,))
        return out.reshape(X.shape[0])

    trials = next(iter(stacked.values())).shape[0]
    parts = []
    with torch.no_grad():
        for start in steps(range(0, trials, chunk), desc="random perturbation: trials"):
            part = {name: value[start:start + chunk] for name, value in stacked.items()}
            parts.append(vmap(one)(part))
    return torch.cat(parts)


def random_perturbation(model: nn.Module, split: Split, *, measure: Measure, lam: float,
                        seed: int, trials: int, std: float, grid: int | None,
                        chunk: int, objective=None) -> dict:
    """Run Algorithm 1 on ``model`` (already a private copy) with the validation ``split``.

    Returns a dict with the best trial's index, threshold, objective and parameters.
    """
    X = torch.from_numpy(split.X)
    noise = noise_matrix(model, trials=trials, seed=seed)
    stacked = perturbed_parameters(model, noise, std=std)
    scores = batched_scores(model, stacked, X, chunk=chunk)
    found = best_threshold(scores, split.y, split.a, measure, lam=lam, grid=grid,
                           return_objective=True, objective=objective)
    trial = int(torch.argmin(found.objective))
    return {"trial": trial, "threshold": float(found.threshold[trial]),
            "objective": float(found.objective[trial]),
            "parameters": {name: value[trial].clone() for name, value in stacked.items()},
            "trial_objectives": found.objective.numpy()}


def _plain_objective(pred: np.ndarray, y: np.ndarray, a: np.ndarray, measure: Measure,
                     lam: float) -> float:
    """The objective of one prediction vector: the measure from that vector's own group
    counts, and scikit-learn's ``accuracy_score``, the way the authors' loop scored it."""
    from sklearn.metrics import accuracy_score   # here: scikit-learn is 0.9 s of any import

    if callable(measure):
        gap = call_measure(measure, pred.astype(np.int64), y, a)
    else:
        counts = group_counts(torch.from_numpy(pred), torch.from_numpy(y), torch.from_numpy(a))
        gap = float(MEASURES[measure].of_counts(counts))
    return weighted_objective(gap, accuracy_score(y, pred), lam)


def random_perturbation_loop(model: nn.Module, split: Split, *, measure: Measure, lam: float,
                             seed: int, trials: int, std: float, grid: int) -> dict:
    """The straightforward version, as the authors wrote it: one trial at a time (copy the
    model, perturb, forward), then a Python loop over a grid of thresholds. For benchmarks
    and tests."""
    X = torch.from_numpy(split.X)
    noise = draw_noise(model, trials=trials, seed=seed)
    thresholds = np.linspace(0, 1, grid)
    best = {"objective": np.inf, "trial": -1, "threshold": 0.0}
    for trial, draw in enumerate(noise):
        candidate = copy.deepcopy(model).eval()
        for name, param in candidate.named_parameters():
            param.data = param.data * (draw[name] * std + 1)
        with torch.no_grad():
            scores = candidate(X).reshape(-1).numpy()
        values = [_plain_objective(scores > t, split.y, split.a, measure, lam)
                  for t in thresholds]
        index = int(np.argmin(values))
        if values[index] < best["objective"]:
            best = {"objective": float(values[index]), "trial": trial,
                    "threshold": float(thresholds[index])}
    return best


def fit(model: nn.Module, split: Split, *, measure: Measure, lam: float, seed: int,
        objective, trials: int, std: float, grid: int | None, chunk: int,
        best_state: str) -> Fit:
    """Algorithm 1 on ``model`` (a private copy), which ends with the best trial's weights.

    With ``best_state="uncopied"`` it ends as the authors' code did: their loop kept the
    best trial's ``state_dict()`` without copying it, so the next trial overwrote it, and
    unless the last trial was the best, the result is the original network at the best
    trial's threshold.
    """
    found = random_perturbation(model, split, measure=measure, lam=lam, seed=seed,
                                trials=trials, std=std, grid=grid, chunk=chunk,
                                objective=objective)
    kept = best_state == "copied" or found["trial"] == trials - 1
    if kept:
        with torch.no_grad():
            for name, param in model.named_parameters():
                param.copy_(found["parameters"][name])
    return Fit(model=model, threshold=found["threshold"],
               details={"trial": found["trial"], "trial_objectives": found["trial_objectives"],
                        "weights": "best trial" if kept else "original"})


SPEC = MethodSpec(
    name="random", label="Random", family="fine-tuning", fit=fit, colour="#1f77b4",
    uses_objective=True,
    options=(Option("trials", 201, integer(1), "perturbed copies tried", budget=True),
             Option("std", 0.1, number(0.0), "standard deviation of the multiplicative noise"),
             Option("grid", 501, GRID, "thresholds tried per trial (the authors' 501)"),
             Option("chunk", 4, integer(1), "trials per batched forward pass (speed only)"),
             Option("best_state", "copied", one_of("copied", "uncopied"),
                    "'uncopied' ends as the authors' code did: the original weights at the "
                    "best trial's threshold, unless the last trial was the best")),
    description="random perturbation (Algorithm 1): multiplicative noise on every weight, "
                "the best of many trials")

__all__ = ["SPEC", "batched_scores", "draw_noise", "fit", "noise_matrix",
           "perturbed_parameters", "random_perturbation", "random_perturbation_loop"]
