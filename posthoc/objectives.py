"""What the methods minimise: the paper's weighted objective, or its final version's constrained
one.

- ``"weighted"`` (the paper's, Equation 1): λ·|bias| + (1 − λ)·(1 − accuracy).
- ``"constrained"`` (the final NeurIPS 2020 version): the score is the balanced accuracy when
  |bias| < ε and 0 otherwise; the objective is 1 − score, so lower is better everywhere.
  While searching, each candidate is scored as the mean over ``resamples`` bootstrap
  resamples of the validation split, each with the tighter bound ε − ``margin``, so that a
  candidate just inside ε on one sample does not win by luck.
- ``"certified"``: only candidates whose upper bootstrap bound on |bias| (the ``confidence``
  quantile of |bias| over ``resamples`` resamples of the validation split) is at most ε
  qualify, and among them the one with the highest balanced accuracy wins. When none
  qualifies, :func:`posthoc.debias` says so (:class:`NoCertifiedCandidate`) instead of
  returning one.

The threshold search stays one sort per candidate: a bootstrap resample is a vector of row
weights (how often each row was drawn), and the weighted counts of every cut come from one
cumulative sum, as the unweighted ones do (:func:`posthoc.metrics.cumulative_counts`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from .validation import check_choice, check_fraction, check_lam, check_seed, is_integer
from .metrics import (MEASURES, GroupCounts, Measure, checked_inputs, counts_accuracy,
                      cumulative_counts, group_counts, weighted_objective)

#: The objectives, the final version's defaults of the constrained one, and the certified
#: selection's resamples and confidence level.
OBJECTIVES = ("weighted", "constrained", "certified")
EPSILON, MARGIN, RESAMPLES = 0.05, 0.01, 5
CERTIFIED_RESAMPLES, CONFIDENCE = 100, 0.95
#: Bytes of per-resample bias curves held at once by the certified search.
_CHUNK_BYTES = 200 * 2 ** 20


class NoCertifiedCandidate(ValueError):
    """No candidate's upper bootstrap bound on |bias| is within ε."""


def balanced_accuracy(c: GroupCounts) -> torch.Tensor:
    """The mean of the true-positive and true-negative rates over all rows (a rate with no
    rows counts 0), from the counts."""
    tp, fp, tn, fn = (x.sum(-1) for x in c)
    tpr = torch.where(tp + fn > 0, tp / (tp + fn).clamp(min=1e-300), torch.zeros_like(tp))
    tnr = torch.where(tn + fp > 0, tn / (tn + fp).clamp(min=1e-300), torch.zeros_like(tn))
    return (tpr + tnr) / 2


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
    margin : float in [0, epsilon), optional
        How much tighter than ``epsilon`` the bound is while searching (bootstrap scoring):
        0.01 by default, 0 for the certified selection, whose bound is its own margin.
    resamples : int >= 0, optional
        Bootstrap resamples of the validation split per candidate: 5 by default for the
        constrained objective (0 scores the split itself with the bound ``epsilon``), 100 for
        the certified selection.
    confidence : float in (0, 1), default 0.95
        The certified selection's confidence level: the quantile of |bias| over the
        resamples that must be at most ``epsilon``.
    seed : int, default 0
        Seed of the resamples (the same for every candidate, so they are compared on the same
        samples).

    Examples
    --------
    >>> Objective("constrained").value([1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1], "spd")
    1.0
    >>> Objective("constrained").value([1, 0, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], "spd")
    0.0
    """

    name: str = "weighted"
    lam: float = 0.75
    epsilon: float = EPSILON
    margin: float | None = None
    resamples: int | None = None
    seed: int = 0
    confidence: float = CONFIDENCE

    def __post_init__(self) -> None:
        check_choice("objective", self.name, OBJECTIVES)
        object.__setattr__(self, "lam", check_lam(self.lam))
        object.__setattr__(self, "epsilon", check_fraction("epsilon", self.epsilon))
        if self.margin is None:               # the certified bound needs no margin
            object.__setattr__(self, "margin", 0.0 if self.certified else MARGIN)
        margin = check_fraction("margin", self.margin, low_open=False)
        if margin >= self.epsilon:
            raise ValueError(f"margin must be smaller than epsilon ({self.epsilon}), so that "
                             f"the search bound epsilon - margin is positive; got {margin}.")
        object.__setattr__(self, "margin", margin)
        if self.resamples is None:
            object.__setattr__(self, "resamples", CERTIFIED_RESAMPLES if self.certified
                               else RESAMPLES)
        if not is_integer(self.resamples) or self.resamples < 0:
            raise ValueError(f"resamples must be an integer >= 0; got {self.resamples!r}.")
        if self.certified and self.resamples < 20:
            raise ValueError(f"the certified selection needs at least 20 resamples for its "
                             f"bound; got resamples={self.resamples}.")
        object.__setattr__(self, "resamples", int(self.resamples))
        object.__setattr__(self, "seed", check_seed(self.seed))
        object.__setattr__(self, "confidence", check_fraction("confidence", self.confidence))

    @property
    def constrained(self) -> bool:
        """Whether the objective has a bias tolerance (constrained or certified)."""
        return self.name in ("constrained", "certified")

    @property
    def certified(self) -> bool:
        return self.name == "certified"

    def to_dict(self) -> dict:
        """The objective as plain values (``Objective(**d)`` rebuilds it)."""
        return asdict(self)

    def describe(self) -> str:
        """One line for reports: ``weighted (lam 0.75)`` or ``constrained (eps 0.05, ...)``."""
        if not self.constrained:
            return f"weighted (lam {self.lam:g})"
        if self.certified:
            return (f"certified (|bias| <= epsilon {self.epsilon:g} at confidence "
                    f"{self.confidence:g}, {self.resamples} bootstrap resamples)")
        return (f"constrained (epsilon {self.epsilon:g}, {self.resamples} bootstrap "
                f"resamples, margin {self.margin:g})")

    # ------------------------------------------------------------------- from counts

    def _loss(self, c: GroupCounts, measure: str, bound: float) -> torch.Tensor:
        if not self.constrained:
            gap = MEASURES[measure].of_counts(c)
            return weighted_objective(gap, counts_accuracy(c), self.lam)
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
        pred, y, group = checked_inputs(y_pred, y_true, a)
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
        if self.certified:
            return self._certified_curve(sorted_y, sorted_a, order, measure)
        if not self.constrained or self.resamples == 0:
            return self.of_counts(cumulative_counts(sorted_y, sorted_a), measure)
        total = torch.zeros(sorted_y.shape[:-1] + (sorted_y.shape[-1] + 1,),
                            dtype=torch.float64)
        for weights in self.bootstrap_weights(sorted_y.shape[-1]):
            counts = cumulative_counts(sorted_y, sorted_a, weights=weights[order])
            total += 1 - self._loss(counts, measure, self.epsilon - self.margin)
        return 1 - total / self.resamples


    def _certified_curve(self, sorted_y, sorted_a, order, measure: str) -> torch.Tensor:
        """1 − balanced accuracy where the bootstrap bound on |bias| is at most ε, else
        +inf: every row's curve, a few rows at a time to bound the memory."""
        weights = self.bootstrap_weights(sorted_y.shape[-1])
        rows, n = sorted_y.shape
        chunk = max(1, _CHUNK_BYTES // (8 * self.resamples * (n + 1)))
        out = torch.empty(rows, n + 1, dtype=torch.float64)
        for start in range(0, rows, chunk):
            part = slice(start, start + chunk)
            gaps = torch.stack([MEASURES[measure].of_counts(cumulative_counts(
                sorted_y[part], sorted_a[part], weights=w[order[part]])).abs()
                for w in weights])
            bound = torch.quantile(gaps, self.confidence, dim=0, interpolation="higher")
            loss = 1 - balanced_accuracy(cumulative_counts(sorted_y[part], sorted_a[part]))
            out[part] = torch.where(bound <= self.epsilon, loss, torch.full_like(loss, torch.inf))
        return out

    def certify(self, y_pred, y_true, a, measure: str) -> float:
        """The upper bootstrap bound (the ``confidence`` quantile over the resamples) on
        |bias| of 0/1 predictions ``y_pred`` on one split."""
        pred, y, group = checked_inputs(y_pred, y_true, a)
        weights = self.bootstrap_weights(len(y))
        gaps = torch.stack([MEASURES[measure].of_counts(group_counts(pred * 1.0, y, group, w))
                            .abs() for w in weights])
        return float(torch.quantile(gaps, self.confidence, interpolation="higher"))


#: The error for an argument of ``debias`` that an :class:`Objective` given with it contradicts.
CONFLICT = ("{name}={given!r} conflicts with objective={objective!r}, whose {name} is {own!r}; "
            "give {name} in one place.")


def as_objective(objective: Any = "weighted", *, lam: Any = None, epsilon: Any = None,
                 margin: Any = None, resamples: Any = None, seed: Any = None) -> Objective:
    """An :class:`Objective` from ``debias``'s arguments: a name (with ``lam``, ``epsilon``,
    ``margin``, ``resamples`` and ``seed``, None meaning the default) or an
    :class:`Objective`, which any of them given beside it must agree with.

    Examples
    --------
    >>> as_objective(Objective("weighted", lam=0.1), lam=0.1).lam
    0.1
    >>> as_objective(Objective("weighted", lam=0.1), lam=0.9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: lam=0.9 conflicts with objective=Objective(...), whose lam is 0.1; give lam ...
    """
    given = {"lam": lam, "epsilon": epsilon, "margin": margin, "resamples": resamples,
             "seed": seed}
    if isinstance(objective, Objective):
        for name, value in given.items():
            if value is not None and value != getattr(objective, name):
                raise ValueError(CONFLICT.format(name=name, given=value, objective=objective,
                                                 own=getattr(objective, name)))
        return objective
    if not isinstance(objective, str):
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)} or a "
                         f"posthoc.Objective; got {objective!r}.")
    check_choice("objective", objective, OBJECTIVES)
    chosen = {k: v for k, v in given.items() if v is not None and k not in ("lam", "seed")}
    if objective == "certified":
        chosen.pop("margin", None)            # the certified selection has no margin
    if objective == "weighted" and chosen:
        raise ValueError(f"{', '.join(chosen)} only apply to objective='constrained'; the "
                         "weighted objective has lam only.")
    return Objective(objective, lam=0.75 if lam is None else lam,
                     seed=0 if seed is None else seed, **chosen)


__all__ = ["CERTIFIED_RESAMPLES", "CONFIDENCE", "CONFLICT", "EPSILON", "MARGIN",
           "NoCertifiedCandidate", "OBJECTIVES", "Objective", "RESAMPLES", "as_objective",
           "balanced_accuracy"]
