"""Degenerate models: networks that never trained, and classifiers that predict one class.

A network that predicts one class for everyone at its default threshold, or whose accuracy is
within half a point of the majority class's share, has not learnt anything the data's base
rate does not give: it is *failed*. A debiased classifier whose predictions are all one class
is *constant*: its bias is 0 under every measure, so a weighted objective can prefer it to
any useful classifier. One that gives the same decision to at least
:data:`ONE_CLASS_SHARE` of a split is *one-class* there (:func:`is_one_class`): its bias is
near 0 by construction, not by debiasing. Failed networks and one-class results are flagged
wherever they appear, and a one-class result never counts as a method's best or as a gain.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .validation import check_lam
from .data import Split
from .methods import scores_of

#: A network is failed when its accuracy is at most this far above the majority share.
MAJORITY_MARGIN = 0.005
#: The network's default threshold.
DEFAULT_THRESHOLD = 0.5
#: A result is *one-class* on a split when one decision goes to at least this share of it.
#: Fixed before the study's results were read: at 99%, one person in a hundred at most gets
#: the other decision, so the gap between two groups' rates of either decision is at most
#: 0.01 divided by the smaller group's share (0.03 for COMPAS' Caucasians, a third of its
#: rows) under SPD, and the classifier decides almost nothing. A stricter share (exactly
#: constant) lets a classifier that flips a handful of people count as a debiased result.
ONE_CLASS_SHARE = 0.99


def majority_share(split: Split) -> float:
    """The accuracy of predicting the more frequent label for everyone."""
    share = float(np.mean(split.y)) if len(split) else 0.0
    return max(share, 1.0 - share)


def constant_objective(split: Split, *, lam: float = 0.75) -> float:
    """The weighted objective λ·|bias| + (1 − λ)·(1 − accuracy) of the best constant
    classifier on ``split``: bias 0 and the majority share's accuracy, so
    (1 − λ)·(1 − majority share). A debiased classifier scores better than predicting one
    class for everyone only below this value.

    Examples
    --------
    >>> import numpy as np
    >>> split = Split(np.zeros((4, 1)), [1, 0, 0, 0], [0, 1, 0, 1])
    >>> constant_objective(split, lam=0.75)
    0.0625
    """
    return float((1 - check_lam(lam)) * (1 - majority_share(split)))


def is_constant(predictions: np.ndarray) -> bool:
    """Whether 0/1 ``predictions`` are all one class."""
    predictions = np.asarray(predictions)
    return bool(predictions.size == 0 or predictions.min() == predictions.max())


def one_class_share(predictions: np.ndarray) -> float:
    """The share of 0/1 ``predictions`` that are the more frequent class (1.0 when empty)."""
    predictions = np.asarray(predictions)
    if predictions.size == 0:
        return 1.0
    rate = float(np.mean(predictions))
    return max(rate, 1.0 - rate)


def is_one_class(predictions: np.ndarray | None = None, *, positive_rate=None,
                 share: float = ONE_CLASS_SHARE):
    """Whether a result gives one decision to at least ``share`` of a split: from its 0/1
    ``predictions`` (a bool), or from ``positive_rate`` (a number or an array of them, as the
    study's rows record it; an array of bools, False where the rate is NaN, i.e. no result).

    Examples
    --------
    >>> is_one_class(np.r_[np.ones(995), np.zeros(5)])
    True
    >>> is_one_class(np.r_[np.ones(980), np.zeros(20)])
    False
    >>> is_one_class(positive_rate=np.array([0.0, 0.005, 0.5, 0.995, np.nan])).tolist()
    [True, True, False, True, False]
    """
    if not 0.5 < share <= 1:
        raise ValueError(f"share must be in (0.5, 1]; got {share!r}.")
    if (predictions is None) == (positive_rate is None):
        raise TypeError("is_one_class takes either predictions or positive_rate, not both "
                        "or neither.")
    if predictions is not None:
        return bool(one_class_share(predictions) >= share)
    rate = np.asarray(positive_rate, dtype=float)
    with np.errstate(invalid="ignore"):
        flags = np.maximum(rate, 1.0 - rate) >= share - 1e-12
    return bool(flags) if flags.ndim == 0 else flags


def one_class_objective(split: Split, *, objective: str = "weighted",
                        lam: float = 0.75) -> float:
    """The objective of predicting the majority class for everyone on ``split`` (bias 0):
    (1 − λ)·(1 − majority share) under the weighted objective, 1 − 0.5 under the
    constrained and certified ones (a constant classifier's balanced accuracy is 0.5).

    Examples
    --------
    >>> split = Split(np.zeros((4, 1)), [1, 0, 0, 0], [0, 1, 0, 1])
    >>> one_class_objective(split, lam=0.75), one_class_objective(split, objective="constrained")
    (0.0625, 0.5)
    """
    if objective == "weighted":
        return constant_objective(split, lam=lam)
    if objective in ("constrained", "certified"):
        return 0.5
    raise ValueError(f"objective must be 'weighted', 'constrained' or 'certified'; got "
                     f"{objective!r}.")


def network_health(model: nn.Module, split: Split, *,
                   threshold: float = DEFAULT_THRESHOLD) -> dict[str, float | bool]:
    """Accuracy and positive rate of ``model`` at ``threshold`` on ``split``, the majority
    share, and ``failed``: the model predicts one class, or its accuracy is within
    :data:`MAJORITY_MARGIN` of the majority share.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((4, 2), dtype=np.float32)
    >>> split = Split(X, [1, 1, 1, 0], [0, 1, 0, 1])
    >>> model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())
    >>> network_health(model, split)["failed"]
    True
    """
    with torch.no_grad():
        predictions = (scores_of(model, split.X) >= threshold).astype(np.int64)
    accuracy = float(np.mean(predictions == split.y))
    majority = majority_share(split)
    return {"accuracy": accuracy, "positive_rate": float(np.mean(predictions)),
            "majority_share": majority,
            "failed": bool(is_constant(predictions) or accuracy <= majority + MAJORITY_MARGIN)}


def training_mode_health(model: nn.Module, split: Split, *, seed: int = 0,
                         threshold: float = DEFAULT_THRESHOLD) -> dict[str, float | bool]:
    """:func:`network_health` of ``model`` in training mode: dropout on (masks drawn from
    ``seed``) and BatchNorm on the split's own statistics. A network that fails here too
    never learnt; one that fails in evaluation mode only is undone by the change of mode."""
    was_training = model.training
    model.train()
    try:
        with torch.no_grad(), torch.random.fork_rng():
            torch.manual_seed(seed)
            scores = model(torch.as_tensor(split.X)).reshape(-1).numpy()
    finally:
        model.train(was_training)
    predictions = (scores >= threshold).astype(np.int64)
    accuracy = float(np.mean(predictions == split.y))
    majority = majority_share(split)
    return {"accuracy": accuracy, "positive_rate": float(np.mean(predictions)),
            "majority_share": majority,
            "failed": bool(is_constant(predictions) or accuracy <= majority + MAJORITY_MARGIN)}


__all__ = ["DEFAULT_THRESHOLD", "MAJORITY_MARGIN", "ONE_CLASS_SHARE", "constant_objective",
           "is_constant", "is_one_class", "majority_share", "network_health",
           "one_class_objective", "one_class_share", "training_mode_health"]
