"""Degenerate models: networks that never trained, and classifiers that predict one class.

A network that predicts one class for everyone at its default threshold, or whose accuracy is
within half a point of the majority class's share, has not learnt anything the data's base
rate does not give: it is *failed*. A debiased classifier whose predictions are all one class
is *constant*: its bias is 0 under every measure, so a weighted objective can prefer it to
any useful classifier. Both are flagged wherever they appear.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._validation import check_lam
from .data import Split
from .methods import scores_of

#: A network is failed when its accuracy is at most this far above the majority share.
MAJORITY_MARGIN = 0.005
#: The network's default threshold.
DEFAULT_THRESHOLD = 0.5


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


__all__ = ["DEFAULT_THRESHOLD", "MAJORITY_MARGIN", "constant_objective", "is_constant",
           "majority_share", "network_health", "training_mode_health"]
