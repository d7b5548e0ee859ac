"""What the methods minimise: the paper's weighted objective, or its final version's constrained
one.

- ``"weighted"`` (the paper's, Equation 1): λ·|bias| + (1 − λ)·(1 − accuracy).
- ``"constrained"`` (the final NeurIPS 2020 version): the score is the balanced accuracy when
  |bias| < ε and 0 otherwise; the objective is 1 − score, so lower is better everywhere.
  While searching, each candidate is scored as the mean over ``resamples`` bootstrap
  resamples of the validation split, each with the tighter bound ε − ``margin``, so that a
  candidate just inside ε on one sample does not win by luck.

The threshold search stays one sort per candidate: a bootstrap resample is a vector of row
weights (how often each row was drawn), and the weighted counts of every cut come from one
cumulative sum, as the unweighted ones do (:func:`posthoc.metrics.cumulative_counts`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from ._validation import check_choice, check_lam, check_seed, is_integer
from .metrics import (MEASURES, GroupCounts, Measure, _prepare, counts_accuracy,
                      cumulative_counts, group_counts)

#: The objectives, and the final version's defaults of the constrained one.
OBJECTIVES = ("weighted", "constrained")
EPSILON, MARGIN, RESAMPLES = 0.05, 0.01, 5


def balanced_accuracy(c: GroupCounts) -> torch.Tensor:
    """The mean of the true-positive and true-negative rates over all rows (a rate with no
    rows counts 0), from the counts."""
    tp, fp, tn, fn = (x.sum(-1) for x in c)
    tpr = torch.where(tp + fn > 0, tp / (tp + fn).clamp(min=1e-300), torch.zeros_like(tp))
    tnr = torch.where(tn + fp > 0, tn / (tn + fp).clamp(min=1e-300), torch.zeros_like(tn))
    return (tpr + tnr) / 2


def _check_fraction(name: str, value: Any, *, low_open: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number in (0, 1); got {value!r}.")
    value = float(value)
    if not ((0.0 < value if low_open else 0.0 <= value) and value < 1.0):
        interval = "(0, 1)" if low_open else "[0, 1)"
        raise ValueError(f"{name} must lie in {interval}; got {value!r}.")
    return value


@dataclass(frozen=True)
class Objective:
    """An objective of the post-hoc methods (lower is better).

    Parameters
    ----------
    name : {"weighted", "constrained"}
    lam : float in [0, 1], default 0.75
        The weight of |bias| in the weighted objective.
    epsilon : float in (0, 1), default 0.05
        The constrained objective's bias tolerance.
    margin : float in [0, epsilon), default 0.01
        How much tighter than ``epsilon`` the bound is while searching (bootstrap scoring).
    resamples : int >= 0, default 5
        Bootstrap resamples of the validation split per candidate; 0 scores the split itself
        with the bound ``epsilon``.
    seed : int, default 0
        Seed of the resamples (the same for every candidate, so they are compared on the same
        samples).

    Examples
    --------
    >>> Objective("constrained").value([1, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 1], "spd")
    1.0
    >>> Objective("constrained").value([1, 0, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], "spd")
    0.0
    """

    name: str = "weighted"
    lam: float = 0.75
    epsilon: float = EPSILON
    margin: float = MARGIN
    resamples: int = RESAMPLES
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("objective", self.name, OBJECTIVES)
        object.__setattr__(self, "lam", check_lam(self.lam))
        object.__setattr__(self, "epsilon", _check_fraction("epsilon", self.epsilon))
        margin = _check_fraction("margin", self.margin, low_open=False)
        if margin >= self.epsilon:
            raise ValueError(f"margin must be smaller than epsilon ({self.epsilon}), so that "
                             f"the search bound epsilon - margin is positive; got {margin}.")
        object.__setattr__(self, "margin", margin)
        if not is_integer(self.resamples) or self.resamples < 0:
            raise ValueError(f"resamples must be an integer >= 0; got {self.resamples!r}.")
        object.__setattr__(self, "resamples", int(self.resamples))
        object.__setattr__(self, "seed", check_seed(self.seed))

    @property
    def constrained(self) -> bool:
        return self.name == "constrained"

    def to_dict(self) -> dict:
        """The objective as plain values (``Objective(**d)`` rebuilds it)."""
        return asdict(self)

    def describe(self) -> str:
        """One line for reports: ``weighted (lam 0.75)`` or ``constrained (eps 0.05, ...)``."""
        if not self.constrained:
            return f"weighted (lam {self.lam:g})"
        return (f"constrained (epsilon {self.epsilon:g}, {self.resamples} bootstrap "
                f"resamples, margin {self.margin:g})")

    # ------------------------------------------------------------------- from counts

    def _loss(self, c: GroupCounts, measure: str, bound: float) -> torch.Tensor:
        if not self.constrained:
            gap = MEASURES[measure].of_counts(c)
            return self.lam * gap.abs() + (1 - self.lam) * (1 - counts_accuracy(c))
        inside = MEASURES[measure].of_counts(c).abs() < bound
        return 1 - balanced_accuracy(c) * inside

    def of_counts(self, c: GroupCounts, measure: str) -> torch.Tensor:
        """The objective of the predictions the counts describe (no resampling)."""
        return self._loss(c, measure, self.epsilon)

    def value(self, y_pred, y_true, a, measure: Measure = "spd") -> float:
        """The objective of 0/1 predictions ``y_pred`` (n,) on one split, with no
        resampling: what :func:`posthoc.evaluate` reports."""
        if callable(measure):
            raise ValueError("an Objective takes a registered measure name (see "
                             "posthoc.register_measure); got a callable.")
        pred, y, group = _prepare(y_pred, y_true, a)
        return float(self.of_counts(group_counts(pred, y, group), measure))

    def bootstrap_weights(self, n: int) -> torch.Tensor:
        """(resamples, n) row weights: how often each row is drawn in each resample."""
        rng = np.random.default_rng(self.seed)
        draws = rng.integers(0, n, size=(self.resamples, n))
        return torch.from_numpy(np.stack([np.bincount(d, minlength=n) for d in draws])
                                .astype(np.float64))

    def sorted_curve(self, sorted_y: torch.Tensor, sorted_a: torch.Tensor,
                     order: torch.Tensor, measure: str) -> torch.Tensor:
        """The search objective of predicting the top k positive, every k = 0..n, for rows
        sorted by descending score (``order``: each row's original positions, (B, n)):
        (B, n + 1). The constrained objective is averaged over the bootstrap resamples with
        the bound ε − margin."""
        if not self.constrained or self.resamples == 0:
            return self.of_counts(cumulative_counts(sorted_y, sorted_a), measure)
        total = torch.zeros(sorted_y.shape[:-1] + (sorted_y.shape[-1] + 1,),
                            dtype=torch.float64)
        for weights in self.bootstrap_weights(sorted_y.shape[-1]):
            counts = cumulative_counts(sorted_y, sorted_a, weights=weights[order])
            total += 1 - self._loss(counts, measure, self.epsilon - self.margin)
        return 1 - total / self.resamples


def as_objective(objective: Any = "weighted", *, lam: float = 0.75, epsilon: Any = None,
                 margin: Any = None, resamples: Any = None, seed: int = 0) -> Objective:
    """An :class:`Objective` from ``debias``'s arguments: a name (with ``lam``, ``epsilon``,
    ``margin`` and ``resamples``, None meaning the default) or an :class:`Objective`."""
    if isinstance(objective, Objective):
        return objective
    if not isinstance(objective, str):
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)} or a "
                         f"posthoc.Objective; got {objective!r}.")
    check_choice("objective", objective, OBJECTIVES)
    chosen = {k: v for k, v in (("epsilon", epsilon), ("margin", margin),
                                ("resamples", resamples)) if v is not None}
    if objective == "weighted" and chosen:
        raise ValueError(f"{', '.join(chosen)} only apply to objective='constrained'; the "
                         "weighted objective has lam only.")
    return Objective(objective, lam=lam, seed=seed, **chosen)


__all__ = ["EPSILON", "MARGIN", "OBJECTIVES", "Objective", "RESAMPLES", "as_objective",
           "balanced_accuracy"]
