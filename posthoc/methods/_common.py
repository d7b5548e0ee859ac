"""What every post-hoc method shares: the result object and model scoring."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data import Split
from ..metrics import Measure


def scores_of(model: nn.Module, X: np.ndarray | torch.Tensor) -> np.ndarray:
    """Probabilities of ``model`` (in eval mode, without gradients) as a float array [n]."""
    tensor = torch.as_tensor(X, dtype=torch.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(tensor)
    finally:
        model.train(was_training)
    out = out.reshape(out.shape[0], -1) if out.ndim > 1 else out[:, None]
    if out.shape[1] != 1:
        raise ValueError(f"model must output one probability per row (shape [n] or [n, 1]); "
                         f"got shape {tuple(out.shape)}.")
    return out[:, 0].double().numpy()


def frozen_copy(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` in eval mode, so the caller's model is never modified."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}.")
    return copy.deepcopy(model).eval()


@dataclass
class DebiasResult:
    """The outcome of :func:`posthoc.debias`.

    Attributes
    ----------
    method, measure, lam, seed
        What was run.
    options : dict
        Every option of the method, with the value it ran with.
    threshold : float
        Predictions are ``scores > threshold`` (fine-tuning methods and ``default``).
    objective : float
        Validation objective of the result.
    runtime_s : float
        Wall time of the method, in seconds.
    model : nn.Module
        The fine-tuned copy (or the unchanged original, for post-processing methods).
    postprocessor : object or None
        The fitted post-processor of a post-processing method: ``predict(scores, a)``.
    details : dict
        Method-specific information (trial index, per-layer objectives, ...).
    """

    method: str
    measure: Measure
    lam: float
    threshold: float
    objective: float
    runtime_s: float
    model: nn.Module
    postprocessor: Any = None
    details: dict = field(default_factory=dict)
    seed: int = 0
    options: dict = field(default_factory=dict)

    def scores(self, X: np.ndarray | torch.Tensor) -> np.ndarray:
        """The (fine-tuned) model's probabilities."""
        return scores_of(self.model, X)

    def predict(self, X: np.ndarray | torch.Tensor, a: np.ndarray | None = None) -> np.ndarray:
        """0/1 predictions; post-processors also need the protected attribute ``a``."""
        if self.postprocessor is not None:
            if a is None:
                raise ValueError(f"method {self.method!r} post-processes with the protected "
                                 "attribute: call predict(X, a).")
            return self.postprocessor.predict(self.scores(X), a)
        return (self.scores(X) > self.threshold).astype(np.int64)

    def predict_split(self, split: Split) -> np.ndarray:
        """0/1 predictions for a :class:`posthoc.Split`."""
        return self.predict(split.X, split.a)
