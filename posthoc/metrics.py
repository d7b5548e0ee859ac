"""Group fairness measures, the paper's objective, and the best threshold found by sorting.

Every function takes numpy arrays or torch tensors, and predictions or scores with leading
batch dimensions (for example trials x thresholds x n), so that a method scores thousands of
candidate predictions in one call. Bias is signed: unprivileged (a = 0) minus privileged
(a = 1). An empty group contributes a rate of 0, as in the authors' code.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Union

import numpy as np
import torch

from ._validation import as_tensor, check_binary, check_choice, check_lam, check_same_length

#: The built-in measures.
MEASURES = ("spd", "eod", "aod")
#: Grid sizes of the authors' code: 501 points (random perturbation), 1001 (the rest).
AUTHORS_GRIDS = (501, 1001)

Measure = Union[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]]
ArrayLike = Any


class BestThreshold(NamedTuple):
    """Result of :func:`best_threshold` with ``return_objective=True``."""

    threshold: Any
    objective: Any


def check_measure(measure: Any) -> Measure:
    """Return ``measure`` if it is a built-in name or a callable, else raise ValueError."""
    if callable(measure):
        return measure
    return check_choice("measure", measure, MEASURES)


def _prepare(y_pred: ArrayLike, y_true: ArrayLike, a: ArrayLike, *, pred_name: str = "y_pred",
             binary_pred: bool = True):
    """Tensors (pred [..., n], y [n or ..., n], a [n or ..., n]) with checks."""
    pred = as_tensor(pred_name, y_pred)
    y = as_tensor("y_true", y_true)
    group = as_tensor("a", a)
    if pred.ndim == 0:
        raise ValueError(f"{pred_name} must have at least one dimension (n,); got a scalar.")
    check_same_length(**{pred_name: pred, "y_true": y, "a": group})
    if binary_pred:
        check_binary(pred_name, pred)
    check_binary("y_true", y)
    check_binary("a", group)
    return pred, y, group


def _wrap(result: torch.Tensor, like: ArrayLike):
    """Return ``result`` in the kind of container the caller used."""
    if isinstance(like, torch.Tensor):
        return result
    array = result.numpy()
    return float(array) if array.ndim == 0 else array


def _rate(pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``pred`` over ``mask`` along the last axis; 0 for an empty group."""
    count = mask.sum(-1)
    total = (pred * mask).sum(-1)
    return torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))


def _builtin_bias(pred: torch.Tensor, y: torch.Tensor, group: torch.Tensor, measure: str):
    pred = pred.to(torch.float64)
    y = y.to(torch.float64)
    unpriv = (group == 0).to(torch.float64)
    priv = (group == 1).to(torch.float64)
    if measure == "spd":
        return _rate(pred, unpriv) - _rate(pred, priv)
    tpr_gap = _rate(pred, unpriv * y) - _rate(pred, priv * y)
    if measure == "eod":
        return tpr_gap
    fpr_gap = _rate(pred, unpriv * (1 - y)) - _rate(pred, priv * (1 - y))
    return 0.5 * (fpr_gap + tpr_gap)


def _callable_bias(pred: torch.Tensor, y: torch.Tensor, group: torch.Tensor, measure: Callable):
    """Apply a user measure to each prediction vector of a batch."""
    shape = torch.broadcast_shapes(pred.shape, y.shape, group.shape)
    pred_np = torch.broadcast_to(pred, shape).reshape(-1, shape[-1]).numpy()
    y_np = torch.broadcast_to(y, shape).reshape(-1, shape[-1]).numpy()
    a_np = torch.broadcast_to(group, shape).reshape(-1, shape[-1]).numpy()
    values = []
    for row in range(pred_np.shape[0]):
        value = measure(pred_np[row], y_np[row], a_np[row])
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            raise ValueError(f"measure {getattr(measure, '__name__', measure)!r} must return a "
                             f"number; got {value!r}.") from None
    return torch.tensor(values, dtype=torch.float64).reshape(shape[:-1])


def _bias(pred, y, group, measure):
    if callable(measure):
        return _callable_bias(pred, y, group, measure)
    return _builtin_bias(pred, y, group, measure)


def bias(y_pred: ArrayLike, y_true: ArrayLike, a: ArrayLike, measure: Measure = "spd"):
    """Signed bias of hard predictions: unprivileged (a = 0) minus privileged (a = 1).

    Parameters
    ----------
    y_pred : array of shape (..., n)
        0/1 predictions; leading dimensions are a batch of prediction vectors.
    y_true : array of shape (n,) or (..., n)
        0/1 labels.
    a : array of shape (n,) or (..., n)
        Protected attribute, 1 = privileged.
    measure : {"spd", "eod", "aod"} or callable
        ``"spd"``: P(yhat=1 | a=0) - P(yhat=1 | a=1); ``"eod"``: TPR(a=0) - TPR(a=1);
        ``"aod"``: mean of the FPR and TPR differences; or a callable
        ``(y_pred, y_true, a) -> float`` applied to each prediction vector.

    Returns
    -------
    float, numpy array or tensor
        Shape ``y_pred.shape[:-1]``; a tensor if ``y_pred`` is a tensor.

    Raises
    ------
    ValueError
        Unknown measure (lists the valid ones), length mismatch, non-binary input.

    Examples
    --------
    >>> bias([1, 0, 1, 1], [1, 0, 0, 1], [0, 0, 1, 1], "spd")
    -0.5
    """
    measure = check_measure(measure)
    pred, y, group = _prepare(y_pred, y_true, a)
    return _wrap(_bias(pred, y, group, measure), y_pred)


def _accuracy(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (pred.to(torch.float64) == y.to(torch.float64)).to(torch.float64).mean(-1)


def accuracy(y_pred: ArrayLike, y_true: ArrayLike):
    """Share of correct 0/1 predictions along the last axis (batched like :func:`bias`)."""
    pred = as_tensor("y_pred", y_pred)
    y = as_tensor("y_true", y_true)
    check_same_length(y_pred=pred, y_true=y)
    check_binary("y_pred", pred)
    check_binary("y_true", y)
    return _wrap(_accuracy(pred, y), y_pred)


def objective(y_pred: ArrayLike, y_true: ArrayLike, a: ArrayLike, measure: Measure = "spd", *,
              lam: float = 0.75):
    """The paper's objective phi = lam * |bias| + (1 - lam) * (1 - accuracy); lower is better.

    Parameters are those of :func:`bias`; ``lam`` in [0, 1] weighs bias against accuracy.

    Examples
    --------
    >>> objective([1, 0, 1, 1], [1, 0, 0, 1], [0, 0, 1, 1], "spd", lam=0.75)
    0.4375
    """
    measure = check_measure(measure)
    lam = check_lam(lam)
    pred, y, group = _prepare(y_pred, y_true, a)
    acc = _accuracy(pred, y)
    value = lam * _bias(pred, y, group, measure).abs() + (1 - lam) * (1 - acc)
    return _wrap(value, y_pred)


# --------------------------------------------------------------------------- thresholds


def _objective_at_cuts(sorted_y: torch.Tensor, sorted_a: torch.Tensor, measure: str,
                       lam: float) -> torch.Tensor:
    """Objective of predicting the top k scores positive, for every k = 0..n.

    ``sorted_y`` and ``sorted_a`` are labels and groups ordered by descending score, shape
    (B, n); the result has shape (B, n + 1). Counts are cumulative sums, so the whole curve
    costs O(n) after the sort.
    """
    y = sorted_y.to(torch.float64)
    unpriv = (sorted_a == 0).to(torch.float64)
    priv = 1.0 - unpriv

    def cumulative(values: torch.Tensor) -> torch.Tensor:
        zero = torch.zeros(values.shape[:-1] + (1,), dtype=values.dtype)
        return torch.cat([zero, values.cumsum(-1)], dim=-1)

    def rate(hits: torch.Tensor, members: torch.Tensor) -> torch.Tensor:
        count = members.sum(-1, keepdim=True)
        return torch.where(count > 0, cumulative(hits) / count.clamp(min=1),
                           torch.zeros(()).to(torch.float64))

    n = y.shape[-1]
    true_pos = cumulative(y)
    negatives = n - y.sum(-1, keepdim=True)
    false_pos = cumulative(1 - y)
    acc = (true_pos + negatives - false_pos) / n
    if measure == "spd":
        gap = rate(unpriv, unpriv) - rate(priv, priv)
    else:
        gap = rate(unpriv * y, unpriv * y) - rate(priv * y, priv * y)
        if measure == "aod":
            fpr_gap = (rate(unpriv * (1 - y), unpriv * (1 - y))
                       - rate(priv * (1 - y), priv * (1 - y)))
            gap = 0.5 * (fpr_gap + gap)
    return lam * gap.abs() + (1 - lam) * (1 - acc)


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
            value = float(measure(pred, y_rows[row], a_rows[row]))
            acc = float((pred == y_rows[row]).mean())
            out[row, col] = lam * abs(value) + (1 - lam) * (1 - acc)
    return out


def best_threshold(scores: ArrayLike, y_true: ArrayLike, a: ArrayLike,
                   measure: Measure = "spd", *, lam: float = 0.75, grid: int | None = None,
                   return_objective: bool = False):
    """The threshold t minimising the objective of the predictions ``scores > t``.

    Without ``grid``, every distinct cut point is considered: the scores are sorted once and
    the objective of predicting the top k positive is computed for all k by cumulative sums,
    in O(n log n). With ``grid=G``, only the thresholds ``linspace(0, 1, G)`` are tried, as in
    the authors' code (501 or 1001 points); ties go to the lowest threshold, as
    ``numpy.argmin`` over their ascending grid does.

    Parameters
    ----------
    scores : array of shape (..., n)
        Scores (for example probabilities); leading dimensions are a batch, each row is
        thresholded on its own.
    y_true, a : arrays of shape (n,) or (..., n)
        0/1 labels and protected attribute (1 = privileged).
    measure : {"spd", "eod", "aod"} or callable
        Bias measure, as in :func:`bias`. A callable is evaluated once per candidate.
    lam : float in [0, 1], default 0.75
        Weight of |bias|; ``lam=0`` maximises accuracy.
    grid : int, optional
        Number of evenly spaced thresholds in [0, 1] to try instead of every cut point.
    return_objective : bool, default False
        Also return the objective at the threshold.

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
    lam = check_lam(lam)
    if grid is not None and (isinstance(grid, bool) or not isinstance(grid, (int, np.integer))
                             or grid < 2):
        raise ValueError(f"grid must be an integer >= 2 or None; got {grid!r}.")
    s, y, group = _prepare(scores, y_true, a, pred_name="scores", binary_pred=False)
    if not s.is_floating_point():
        s = s.to(torch.float64)
    if bool((~torch.isfinite(s)).any()):
        raise ValueError("scores contains NaN or infinite values.")
    batch_shape = s.shape[:-1]
    n = s.shape[-1]
    if n == 0:
        raise ValueError("scores must hold at least one score along the last axis; got length 0.")
    flat = s.reshape(-1, n)
    rows = flat.shape[0]
    y_rows = torch.broadcast_to(y, batch_shape + (n,)).reshape(rows, n)
    a_rows = torch.broadcast_to(group, batch_shape + (n,)).reshape(rows, n)

    desc, order = torch.sort(flat, dim=-1, descending=True, stable=True)
    if grid is None:
        # Cut k (top k positive) is reachable iff k is 0, n, or the k-th and (k+1)-th
        # largest scores differ.
        reachable = torch.ones(rows, n + 1, dtype=torch.bool)
        reachable[:, 1:n] = desc[:, :-1] > desc[:, 1:]
        cuts = torch.arange(n + 1).expand(rows, n + 1)
        candidates = torch.where(reachable, cuts, torch.full_like(cuts, -1))
    else:
        thresholds = torch.linspace(0, 1, int(grid), dtype=torch.float64)
        ascending = desc.flip(-1).to(torch.float64).contiguous()
        above = n - torch.searchsorted(ascending, thresholds.expand(rows, -1).contiguous(),
                                       right=True)
        candidates = above

    if callable(measure):
        values = _callable_at_cuts(order, y, group, candidates, measure, lam)
        values = torch.where(candidates >= 0, values, torch.full_like(values, float("inf")))
    else:
        sorted_y = torch.gather(y_rows, 1, order)
        sorted_a = torch.gather(a_rows, 1, order)
        curve = _objective_at_cuts(sorted_y, sorted_a, measure, lam)
        values = torch.gather(curve, 1, candidates.clamp(min=0))
        values = torch.where(candidates >= 0, values, torch.full_like(values, float("inf")))

    if grid is None:
        # Ties go to the lowest threshold (the largest k), as with an ascending grid.
        best_from_end = torch.argmin(values.flip(-1), dim=-1)
        best_k = n - best_from_end
        best_value = torch.gather(values, 1, best_k[:, None])[:, 0]
        threshold = _threshold_for_cut(desc, best_k)
    else:
        best_j = torch.argmin(values, dim=-1)
        best_value = torch.gather(values, 1, best_j[:, None])[:, 0]
        threshold = thresholds[best_j]

    threshold = threshold.reshape(batch_shape)
    best_value = best_value.reshape(batch_shape)
    result_threshold = _wrap(threshold, scores)
    if return_objective:
        return BestThreshold(result_threshold, _wrap(best_value, scores))
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


__all__ = ["AUTHORS_GRIDS", "BestThreshold", "MEASURES", "accuracy", "best_threshold", "bias",
           "check_measure", "objective"]
