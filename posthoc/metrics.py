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


def to_container(result: torch.Tensor, like: ArrayLike):
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
    return to_container(measure_bias(pred, y, group, measure), y_pred)


def _accuracy(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (pred.to(torch.float64) == y.to(torch.float64)).to(torch.float64).mean(-1)


def accuracy(y_pred: ArrayLike, y_true: ArrayLike):
    """Share of correct 0/1 predictions along the last axis (batched like :func:`bias`)."""
    pred = as_tensor("y_pred", y_pred)
    y = as_tensor("y_true", y_true)
    check_same_length(y_pred=pred, y_true=y)
    check_binary("y_pred", pred)
    check_binary("y_true", y)
    return to_container(_accuracy(pred, y), y_pred)


def weighted_objective(bias, accuracy, lam: float):
    """The paper's objective lam * |bias| + (1 - lam) * (1 - accuracy), of numbers, arrays or
    tensors alike: the one place the weighted formula is written.

    Examples
    --------
    >>> round(weighted_objective(-0.2, 0.9, 0.75), 6)
    0.175
    """
    return lam * abs(bias) + (1 - lam) * (1 - accuracy)


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
    return to_container(weighted_objective(measure_bias(pred, y, group, measure), _accuracy(pred, y),
                                    lam), y_pred)


__all__ = ["GroupCounts", "MEASURES", "Measure", "MeasureSpec", "accuracy",
           "average_odds_difference", "bias", "call_measure", "check_measure",
           "checked_inputs", "counts_accuracy", "cumulative_counts",
           "equal_opportunity_difference", "group_counts", "measure_bias", "objective",
           "register_measure", "statistical_parity_difference", "to_container",
           "weighted_objective"]
