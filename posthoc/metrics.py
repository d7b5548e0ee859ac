"""Group fairness measures written once, on confusion counts; the paper's objective; the best
threshold found by sorting.

Every measure is a function of :class:`GroupCounts`, each group's true and false positives
and negatives, counted once. :func:`bias` and :func:`objective` count hard predictions;
:func:`best_threshold` counts cumulatively over the sorted scores, so that one sort gives
every cut's counts and each measure is evaluated on all of them at once. A new built-in
measure is one function of the counts plus one :func:`register_measure` call.

Every function takes numpy arrays or torch tensors, and predictions or scores with leading
batch dimensions (for example trials x thresholds x n), so that a method scores thousands of
candidate predictions in one call. With two groups, bias is signed: unprivileged (a = 0)
minus privileged (a = 1), and a rate whose group has no members (no positives, say, for
EOD) is 0, as in the authors' code. ``a`` must hold at least two groups with members, and two
groups must be coded 0 and 1: anything else is an error, never another definition. With
more groups (codes 0, 1, ..., g - 1, for example an intersection of attributes),
each measure is the largest gap between any two groups that have members: a non-negative
number.

The argument order is ``(y_pred, y_true, a)``: predictions first, as the measures are
functions of the classifier's output. fairlearn's metrics take ``(y_true, y_pred, *,
sensitive_features)``, so ``bias(y_pred, y_true, a, "spd")`` is fairlearn's
``demographic_parity_difference(y_true, y_pred, sensitive_features=a)`` up to the sign (ours
is signed, fairlearn's is the absolute gap). A callable measure takes our order too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Union

import numpy as np
import torch

from ._registry import Registry
from .validation import (as_tensor, check_binary, check_groups, check_lam,
                          check_measurable_groups, check_same_length)

Measure = Union[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]]
ArrayLike = Any


class GroupCounts(NamedTuple):
    """Confusion counts per group, float64 tensors of shape (..., g): the last axis is the
    group code; with two groups 0 = unprivileged (a = 0) and 1 = privileged (a = 1). Soft
    predictions (scores in [0, 1]) give soft counts."""

    tp: torch.Tensor
    fp: torch.Tensor
    tn: torch.Tensor
    fn: torch.Tensor


def _rate(hits: torch.Tensor, members: torch.Tensor) -> torch.Tensor:
    """``hits / members``, and 0 where a group has no members."""
    return torch.where(members > 0, hits / members.clamp(min=1), torch.zeros_like(hits))


def _gap(rates: torch.Tensor, members: torch.Tensor) -> torch.Tensor:
    """With two groups, unprivileged minus privileged (signed). With more, the largest gap
    between any two groups that have members: the highest rate minus the lowest (0 when
    fewer than two groups have members)."""
    if rates.shape[-1] == 2:
        return rates[..., 0] - rates[..., 1]
    present = members > 0
    high = torch.where(present, rates, torch.full_like(rates, -torch.inf)).amax(-1)
    low = torch.where(present, rates, torch.full_like(rates, torch.inf)).amin(-1)
    return torch.where(present.sum(-1) >= 2, high - low, torch.zeros_like(high))


def statistical_parity_difference(c: GroupCounts) -> torch.Tensor:
    """P(yhat = 1 | a = 0) - P(yhat = 1 | a = 1).

    >>> c = group_counts(torch.tensor([1, 0, 1, 1]), torch.tensor([1, 0, 0, 1]),
    ...                  torch.tensor([0, 0, 1, 1]))
    >>> float(statistical_parity_difference(c))
    -0.5
    """
    members = c.tp + c.fp + c.tn + c.fn
    return _gap(_rate(c.tp + c.fp, members), members)


def equal_opportunity_difference(c: GroupCounts) -> torch.Tensor:
    """TPR(a = 0) - TPR(a = 1).

    >>> c = group_counts(torch.tensor([1, 0, 0, 1]), torch.tensor([1, 1, 1, 1]),
    ...                  torch.tensor([0, 0, 1, 1]))
    >>> float(equal_opportunity_difference(c))
    0.0
    """
    return _gap(_rate(c.tp, c.tp + c.fn), c.tp + c.fn)


def average_odds_difference(c: GroupCounts) -> torch.Tensor:
    """The mean of the FPR and the TPR differences.

    >>> c = group_counts(torch.tensor([1, 0, 1, 1]), torch.tensor([1, 0, 0, 1]),
    ...                  torch.tensor([0, 0, 1, 1]))
    >>> float(average_odds_difference(c))
    -0.5
    """
    negatives, positives = c.fp + c.tn, c.tp + c.fn
    if c.tp.shape[-1] == 2:
        return 0.5 * (_gap(_rate(c.fp, negatives), negatives)
                      + _gap(_rate(c.tp, positives), positives))
    # More groups: the largest gap in average odds, (FPR + TPR) / 2, between two groups.
    both = torch.minimum(negatives, positives)
    return 0.5 * _gap(_rate(c.fp, negatives) + _rate(c.tp, positives), both)


@dataclass(frozen=True)
class MeasureSpec:
    """A built-in bias measure: its name, how the book labels it, and its function of
    :class:`GroupCounts` (batched over leading axes)."""

    name: str
    label: str
    of_counts: Callable[[GroupCounts], torch.Tensor]
    description: str


#: The built-in measures, by name, in the book's order.
MEASURES: Registry[MeasureSpec] = Registry("measure")


def register_measure(spec: MeasureSpec, *, replace: bool = False) -> MeasureSpec:
    """Add a built-in measure (a function of :class:`GroupCounts`) to :data:`MEASURES`."""
    if not isinstance(spec, MeasureSpec):
        raise TypeError(f"spec must be a posthoc.metrics.MeasureSpec; got {type(spec).__name__}.")
    return MEASURES.register(spec, replace=replace)


for _spec in (
        MeasureSpec("spd", "SPD", statistical_parity_difference,
                    "statistical parity difference: P(yhat=1 | a=0) - P(yhat=1 | a=1)"),
        MeasureSpec("eod", "EOD", equal_opportunity_difference,
                    "equal opportunity difference: TPR(a=0) - TPR(a=1)"),
        MeasureSpec("aod", "AOD", average_odds_difference,
                    "average odds difference: mean of the FPR and TPR differences")):
    register_measure(_spec)


class BestThreshold(NamedTuple):
    """Result of :func:`best_threshold` with ``return_objective=True``."""

    threshold: Any
    objective: Any


def check_measure(measure: Any) -> Measure:
    """Return ``measure`` if it is a registered name or a callable, else raise ValueError."""
    if callable(measure):
        return measure
    return MEASURES.check(measure).name


def n_groups(group: torch.Tensor) -> int:
    """How many groups the codes ``group`` (0, 1, ...) make: at least two."""
    return max(2, int(group.max()) + 1) if group.numel() else 2


def group_counts(pred: torch.Tensor, y: torch.Tensor, group: torch.Tensor,
                 weights: torch.Tensor | None = None) -> GroupCounts:
    """Each group's counts of the predictions ``pred`` (..., n) against labels ``y`` and
    group codes ``group`` ((n,) or (..., n)); soft predictions give soft counts. ``weights``
    (n,) counts each row that many times (a bootstrap resample)."""
    pred = pred.to(torch.float64)
    y = y.to(torch.float64)
    members = torch.stack([group == k for k in range(n_groups(group))],
                          dim=-2).to(torch.float64)                          # (..., g, n)
    if weights is not None:
        members = members * weights.to(torch.float64)
    positives = members * y.unsqueeze(-2)
    negatives = members * (1 - y).unsqueeze(-2)
    tp = (pred.unsqueeze(-2) * positives).sum(-1)
    fp = (pred.unsqueeze(-2) * negatives).sum(-1)
    return GroupCounts(tp=tp, fp=fp, tn=negatives.sum(-1) - fp, fn=positives.sum(-1) - tp)


def cumulative_counts(sorted_y: torch.Tensor, sorted_a: torch.Tensor,
                      weights: torch.Tensor | None = None) -> GroupCounts:
    """The counts of predicting the top k positive, for every k = 0..n: ``sorted_y`` and
    ``sorted_a`` are labels and groups in descending order of score, shape (B, n); each
    count has shape (B, n + 1, g). One cumulative sum gives the whole curve. ``weights``
    (B, n), in the same order, counts each row that many times (a bootstrap resample)."""
    members = torch.stack([sorted_a == k for k in range(n_groups(sorted_a))],
                          dim=-1).to(torch.float64)
    if weights is not None:
        members = members * weights.to(torch.float64).unsqueeze(-1)
    y = sorted_y.to(torch.float64).unsqueeze(-1)
    positives, negatives = members * y, members * (1 - y)
    zero = torch.zeros(members.shape[:-2] + (1, members.shape[-1]), dtype=torch.float64)
    tp = torch.cat([zero, positives.cumsum(-2)], dim=-2)
    fp = torch.cat([zero, negatives.cumsum(-2)], dim=-2)
    return GroupCounts(tp=tp, fp=fp, tn=negatives.sum(-2, keepdim=True) - fp,
                       fn=positives.sum(-2, keepdim=True) - tp)


def counts_accuracy(c: GroupCounts) -> torch.Tensor:
    """Share of correct predictions, from the counts."""
    correct = (c.tp + c.tn).sum(-1)
    return correct / (correct + (c.fp + c.fn).sum(-1))


def checked_inputs(y_pred: ArrayLike, y_true: ArrayLike, a: ArrayLike, *,
                   pred_name: str = "y_pred", binary_pred: bool = True):
    """``(pred [..., n], y [n or ..., n], a [n or ..., n])`` as tensors, after the checks
    every measure needs: the same length, binary predictions (unless ``binary_pred`` is
    False, for scores) and labels, and two groups coded 0/1 that both have members. A
    custom measure starts with it.

    Examples
    --------
    >>> pred, y, a = checked_inputs([1, 0, 1], [1, 1, 0], [0, 1, 1])
    >>> pred.tolist(), a.tolist()
    ([1, 0, 1], [0, 1, 1])
    """
    pred = as_tensor(pred_name, y_pred)
    y = as_tensor("y_true", y_true)
    group = as_tensor("a", a)
    if pred.ndim == 0:
        raise ValueError(f"{pred_name} must have at least one dimension (n,); got a scalar.")
    check_same_length(**{pred_name: pred, "y_true": y, "a": group})
    if binary_pred:
        check_binary(pred_name, pred)
    check_binary("y_true", y)
    check_groups("a", group)
    check_measurable_groups("a", group)
    return pred, y, group


def _wrap(result: torch.Tensor, like: ArrayLike):
    """Return ``result`` in the kind of container the caller used."""
    if isinstance(like, torch.Tensor):
        return result
    array = result.numpy()
    return float(array) if array.ndim == 0 else array


def call_measure(measure: Callable, pred: np.ndarray, y: np.ndarray, a: np.ndarray) -> float:
    """A user measure's value on one prediction vector; anything but a finite number is an
    error that names the measure."""
    value = measure(pred, y, a)
    name = getattr(measure, "__name__", repr(measure))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"measure {name!r} must return a number; got {value!r}.") from None
    if not np.isfinite(number):
        raise ValueError(f"measure {name!r} returned {number} on {len(pred)} predictions; it "
                         "must return a finite number.")
    return number


def _callable_bias(pred: torch.Tensor, y: torch.Tensor, group: torch.Tensor, measure: Callable):
    """Apply a user measure to each prediction vector of a batch."""
    shape = torch.broadcast_shapes(pred.shape, y.shape, group.shape)
    pred_np = torch.broadcast_to(pred, shape).reshape(-1, shape[-1]).numpy()
    y_np = torch.broadcast_to(y, shape).reshape(-1, shape[-1]).numpy()
    a_np = torch.broadcast_to(group, shape).reshape(-1, shape[-1]).numpy()
    values = [call_measure(measure, pred_np[row], y_np[row], a_np[row])
              for row in range(pred_np.shape[0])]
    return torch.tensor(values, dtype=torch.float64).reshape(shape[:-1])


def measure_bias(pred: torch.Tensor, y: torch.Tensor, group: torch.Tensor,
                 measure: Measure) -> torch.Tensor:
    """Bias of already checked tensors under a measure name or callable; ``pred`` may be
    soft (scores), as adversarial fine-tuning's critic target is."""
    if callable(measure):
        return _callable_bias(pred, y, group, measure)
    return MEASURES[measure].of_counts(group_counts(pred, y, group))


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
    measure : name in MEASURES or callable
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
    pred, y, group = checked_inputs(y_pred, y_true, a)
    return _wrap(measure_bias(pred, y, group, measure), y_pred)


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


def _phi(gap: torch.Tensor, acc: torch.Tensor, lam: float) -> torch.Tensor:
    """The paper's objective from a bias and an accuracy."""
    return lam * gap.abs() + (1 - lam) * (1 - acc)


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
    pred, y, group = checked_inputs(y_pred, y_true, a)
    return _wrap(_phi(measure_bias(pred, y, group, measure), _accuracy(pred, y), lam), y_pred)


# --------------------------------------------------------------------------- thresholds


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
            out[row, col] = lam * abs(value) + (1 - lam) * (1 - acc)
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
        curve = _phi(MEASURES[measure].of_counts(counts), counts_accuracy(counts), lam)
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
    result_threshold = _wrap(threshold.reshape(batch_shape), scores)
    if return_objective:
        return BestThreshold(result_threshold, _wrap(best_value.reshape(batch_shape), scores))
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


__all__ = ["BestThreshold", "GroupCounts", "MEASURES", "Measure", "MeasureSpec", "accuracy",
           "average_odds_difference", "call_measure", "checked_inputs", "best_threshold", "bias", "check_measure",
           "counts_accuracy", "cumulative_counts", "equal_opportunity_difference",
           "group_counts", "measure_bias", "objective", "register_measure",
           "statistical_parity_difference"]
