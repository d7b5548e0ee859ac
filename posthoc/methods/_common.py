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


NOT_PROBABILITIES = ("model must output probabilities in [0, 1]; got values from {low:.4g} to "
                     "{high:.4g}. If it outputs logits, end it with torch.nn.Sigmoid().")


def _width(model: nn.Module) -> int | None:
    """The number of features the model's first ``nn.Linear`` takes, if it has one."""
    first = next((m for m in model.modules() if isinstance(m, nn.Linear)), None)
    return None if first is None else first.in_features


def scores_of(model: nn.Module, X: np.ndarray | torch.Tensor) -> np.ndarray:
    """Probabilities of ``model`` (in eval mode, without gradients) as a float array [n].

    Raises
    ------
    ValueError
        If ``X`` is not 2-D or its width is not the model's, if the model fails on it, or if
        the output is not one probability in [0, 1] per row.
    """
    tensor = torch.as_tensor(X, dtype=torch.float32)
    width = _width(model)
    if tensor.ndim != 2 or (width is not None and tensor.shape[1] != width):
        raise ValueError(f"X must have shape (n, {width if width is not None else 'd'}) for "
                         f"this model; got {tuple(tensor.shape)}.")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(tensor)
    except RuntimeError as exc:
        raise ValueError(f"model could not score X of shape {tuple(tensor.shape)}: "
                         f"{exc}") from None
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim == 0 or out.shape[0] != tensor.shape[0]:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"model must output one probability per row (shape [n] or [n, 1]); "
                         f"got {shape} for {tensor.shape[0]} rows.")
    out = out.reshape(out.shape[0], -1) if out.ndim > 1 else out[:, None]
    if out.shape[1] != 1:
        raise ValueError(f"model must output one probability per row (shape [n] or [n, 1]); "
                         f"got shape {tuple(out.shape)}.")
    scores = out[:, 0].double()
    if bool(torch.isnan(scores).any()):
        raise ValueError(f"model output contains NaN for {int(torch.isnan(scores).sum())} of "
                         f"{scores.numel()} rows.")
    if scores.numel() and (float(scores.min()) < 0 or float(scores.max()) > 1):
        raise ValueError(NOT_PROBABILITIES.format(low=float(scores.min()),
                                                  high=float(scores.max())))
    return scores.numpy()


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
