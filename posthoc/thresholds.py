"""The threshold search: the threshold of a score vector that minimises the objective,
over every cut point or the authors' grid, batched over leading dimensions."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
import torch

from .metrics import (MEASURES, ArrayLike, Measure, call_measure, check_measure,
                      checked_inputs, counts_accuracy, cumulative_counts, to_container,
                      weighted_objective)
from .validation import check_lam


class BestThreshold(NamedTuple):
    """Result of :func:`best_threshold` with ``return_objective=True``."""

    threshold: Any
    objective: Any


def _callable_at_cuts(order: torch.Tensor, y: torch.Tensor, group: torch.Tensor,
                      cuts: torch.Tensor, measure: Callable, lam: float) -> torch.Tensor:
    """Objective of a user measure at the given cut sizes (B, C), one call per candidate."""
    batch, n = order.shape
    out = torch.full(cuts.shape, float("inf"), dtype=torch.float64)
    y_rows = torch.broadcast_to(y, (batch, n)).numpy()
    a_rows = torch.broadcast_to(group, (batch, n)).numpy()
    for row in range(batch):
        ranks = torch.empty(n, dtype=torch.long)
        ranks[order[row]] = torch.arange(n)
        for col, k in enumerate(cuts[row].tolist()):
            if k < 0:
                continue
            pred = (ranks < k).numpy().astype(np.int64)
            value = call_measure(measure, pred, y_rows[row], a_rows[row])
            acc = float((pred == y_rows[row]).mean())
            out[row, col] = weighted_objective(value, acc, lam)
    return out


def _check_grid(grid: Any) -> int | None:
    if grid is not None and (isinstance(grid, bool) or not isinstance(grid, (int, np.integer))
                             or grid < 2):
        raise ValueError(f"grid must be an integer >= 2 or None; got {grid!r}.")
    return None if grid is None else int(grid)


def _score_rows(scores: ArrayLike, y_true: ArrayLike, a: ArrayLike):
    """Checked scores as rows (B, n) with their labels and groups broadcast to them."""
    s, y, group = checked_inputs(scores, y_true, a, pred_name="scores", binary_pred=False)
    if not s.is_floating_point():
        s = s.to(torch.float64)
    if bool((~torch.isfinite(s)).any()):
        raise ValueError("scores contains NaN or infinite values.")
    n = s.shape[-1]
    if n == 0:
        raise ValueError("scores must hold at least one score along the last axis; got length 0.")
    flat = s.reshape(-1, n)
    rows = flat.shape[0]
    y_rows = torch.broadcast_to(y, s.shape[:-1] + (n,)).reshape(rows, n)
    a_rows = torch.broadcast_to(group, s.shape[:-1] + (n,)).reshape(rows, n)
    return flat, y_rows, a_rows, (y, group), s.shape[:-1]


def _candidate_cuts(desc: torch.Tensor, grid: int | None):
    """For each row, the cut sizes k (top k positive) to try, -1 for an unreachable cut,
    and the grid's thresholds (None without a grid)."""
    rows, n = desc.shape
    if grid is None:
        # Cut k is reachable iff k is 0, n, or the k-th and (k+1)-th largest scores differ.
        reachable = torch.ones(rows, n + 1, dtype=torch.bool)
        reachable[:, 1:n] = desc[:, :-1] > desc[:, 1:]
        cuts = torch.arange(n + 1).expand(rows, n + 1)
        return torch.where(reachable, cuts, torch.full_like(cuts, -1)), None
    thresholds = torch.linspace(0, 1, grid, dtype=torch.float64)
    ascending = desc.flip(-1).to(torch.float64).contiguous()
    above = n - torch.searchsorted(ascending, thresholds.expand(rows, -1).contiguous(),
                                   right=True)
    return above, thresholds


def _values_at_cuts(order, y_rows, a_rows, labels, candidates, measure, lam, objective=None):
    """The objective at every candidate cut, +inf where the cut is unreachable."""
    if objective is not None and objective.constrained:
        if callable(measure):
            raise ValueError("objective 'constrained' takes a registered measure name (see "
                             "posthoc.register_measure); got a callable.")
        curve = objective.sorted_curve(torch.gather(y_rows, 1, order),
                                       torch.gather(a_rows, 1, order), order, measure)
        values = torch.gather(curve, 1, candidates.clamp(min=0))
    elif callable(measure):
        values = _callable_at_cuts(order, *labels, candidates, measure, lam)
    else:
        counts = cumulative_counts(torch.gather(y_rows, 1, order), torch.gather(a_rows, 1, order))
        curve = weighted_objective(MEASURES[measure].of_counts(counts), counts_accuracy(counts),
                                   lam)
        values = torch.gather(curve, 1, candidates.clamp(min=0))
    return torch.where(candidates >= 0, values, torch.full_like(values, float("inf")))


def _pick_best(values: torch.Tensor, desc: torch.Tensor, thresholds: torch.Tensor | None):
    """The threshold and objective of each row's lowest value. Ties go to the lowest
    threshold, as ``numpy.argmin`` over the authors' ascending grid does."""
    if thresholds is None:
        n = desc.shape[-1]
        best_k = n - torch.argmin(values.flip(-1), dim=-1)   # the largest k among ties
        return _threshold_for_cut(desc, best_k), torch.gather(values, 1, best_k[:, None])[:, 0]
    best_j = torch.argmin(values, dim=-1)
    return thresholds[best_j], torch.gather(values, 1, best_j[:, None])[:, 0]


def best_threshold(scores: ArrayLike, y_true: ArrayLike, a: ArrayLike,
                   measure: Measure = "spd", *, lam: float = 0.75, grid: int | None = None,
                   return_objective: bool = False, objective: Any = None):
    """The threshold t minimising the objective of the predictions ``scores > t``.

    Without ``grid``, every distinct cut point is considered: the scores are sorted once and
    each group's counts of predicting the top k positive come from cumulative sums, so the
    objective of every k costs O(n) after the O(n log n) sort. With ``grid=G``, only the
    thresholds ``linspace(0, 1, G)`` are tried, as in the authors' code (501 or 1001
    points); ties go to the lowest threshold, as ``numpy.argmin`` over their ascending grid
    does.

    Parameters
    ----------
    scores : array of shape (..., n)
        Scores (for example probabilities); leading dimensions are a batch, each row is
        thresholded on its own.
    y_true, a : arrays of shape (n,) or (..., n)
        0/1 labels and protected attribute (1 = privileged).
    measure : name in MEASURES or callable
        Bias measure, as in :func:`bias`. A callable is evaluated once per candidate.
    lam : float in [0, 1], default 0.75
        Weight of |bias|; ``lam=0`` maximises accuracy.
    grid : int, optional
        Number of evenly spaced thresholds in [0, 1] to try instead of every cut point.
    return_objective : bool, default False
        Also return the objective at the threshold.
    objective : posthoc.Objective, optional
        The objective to minimise; without it, the weighted objective with ``lam``. A
        weighted :class:`~posthoc.Objective` uses its own ``lam``.

    Returns
    -------
    threshold or BestThreshold(threshold, objective)
        Shape ``scores.shape[:-1]``. Without a grid, the threshold is the midpoint between the
        two scores around the cut (in the scores' dtype), so that ``scores > threshold``
        reproduces exactly the best predictions.

    Examples
    --------
    >>> best_threshold([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0], [0, 1, 0, 1], "spd", lam=0.0)
    0.55
    """
    measure = check_measure(measure)
    lam = check_lam(lam) if objective is None else objective.lam
    grid = _check_grid(grid)
    flat, y_rows, a_rows, labels, batch_shape = _score_rows(scores, y_true, a)
    desc, order = torch.sort(flat, dim=-1, descending=True, stable=True)
    candidates, thresholds = _candidate_cuts(desc, grid)
    values = _values_at_cuts(order, y_rows, a_rows, labels, candidates, measure, lam,
                             objective)
    threshold, best_value = _pick_best(values, desc, thresholds)
    result_threshold = to_container(threshold.reshape(batch_shape), scores)
    if return_objective:
        return BestThreshold(result_threshold, to_container(best_value.reshape(batch_shape), scores))
    return result_threshold


def _threshold_for_cut(desc: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """A threshold t with exactly the top ``k`` of each sorted row strictly above it."""
    rows, n = desc.shape
    index = torch.arange(rows)
    lower = desc[index, k.clamp(max=n - 1)]            # largest score left out
    upper = desc[index, (k - 1).clamp(min=0)]          # smallest score kept
    middle = ((lower.to(torch.float64) + upper.to(torch.float64)) / 2).to(desc.dtype)
    inside = (middle > lower) & (middle < upper)
    threshold = torch.where(inside, middle, lower)
    threshold = torch.where(k == 0, desc[:, 0], threshold)
    below_all = torch.nextafter(desc[:, -1], torch.tensor(float("-inf"), dtype=desc.dtype))
    return torch.where(k == n, below_all, threshold)


__all__ = ["BestThreshold", "best_threshold"]
