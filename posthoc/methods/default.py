"""The reference result: the unchanged model at the threshold of highest validation accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from ..data import Split
from ..thresholds import best_threshold
from ._common import scores_of
from ._spec import GRID, Fit, MethodSpec, Option

#: The authors' threshold grid for the default result and the baselines' input predictions.
ACCURACY_GRID = 1001


def accuracy_threshold(scores: np.ndarray, split: Split, grid: int | None = ACCURACY_GRID
                       ) -> float:
    """The threshold of highest accuracy of ``scores`` on ``split`` (lowest on ties)."""
    return float(best_threshold(scores, split.y, split.a, "spd", lam=0.0, grid=grid))


def fit(model: nn.Module, split: Split, *, measure: Any, lam: float, seed: int,
        grid: int | None) -> Fit:
    """Leave the model as it is; pick its most accurate validation threshold."""
    return Fit(model=model, threshold=accuracy_threshold(scores_of(model, split.X), split, grid))


SPEC = MethodSpec(
    name="default", label="Default", family="reference", fit=fit, colour="#7f7f7f",
    options=(Option("grid", ACCURACY_GRID, GRID, "thresholds tried (the authors' 1001)"),),
    description="the unchanged model, thresholded where validation accuracy is highest")

__all__ = ["ACCURACY_GRID", "SPEC", "accuracy_threshold", "fit"]
