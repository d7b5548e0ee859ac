"""OxonFair's ``FairPredictor`` on the model's scores: one offset per group on the logit.

OxonFair searches per-group offsets of the model's logit (truncated to [-15, 15]) that
maximise accuracy (balanced accuracy under the constrained objective) while the measure's
group difference stays within a tolerance: demographic parity for SPD, equal opportunity for
EOD, equalised odds for AOD. The tolerance is the ``tolerance`` option under the weighted
objective and ε − margin under the constrained one. A row is predicted positive when its
logit exceeds minus its group's offset; the offsets are kept as plain numbers, so a saved
result predicts the same. It works with any number of groups and needs the protected
attribute at prediction time.
"""

from __future__ import annotations

import logging

import numpy as np
from torch import nn

from ..data import Split
from ..metrics import Measure
from ._common import PostProcessorBase, scores_of
from ._spec import Fit, MethodSpec, Option, number
from .default import accuracy_threshold

#: OxonFair's group metric for each built-in measure.
CONSTRAINTS = {"spd": "demographic_parity", "eod": "equal_opportunity",
               "aod": "equalized_odds"}
#: OxonFair's truncation of the logits.
TRUNCATE = 15.0


def logits(scores: np.ndarray) -> np.ndarray:
    """log(s / (1 - s)), finite for scores of exactly 0 or 1."""
    scores = np.clip(np.asarray(scores, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.log(scores) - np.log1p(-scores)


class GroupOffsets(PostProcessorBase):
    """Per-group offsets on the truncated logit, as OxonFair's fast path applies them."""

    kind = "oxonfair"
    what = "the fair predictor"

    def __init__(self, groups, offsets):
        self.groups = [int(g) for g in groups]
        self.offsets = [float(o) for o in offsets]

    def to_params(self) -> dict:
        return {"groups": self.groups, "offsets": self.offsets}

    @classmethod
    def from_params(cls, params: dict) -> "GroupOffsets":
        return cls(params["groups"], params["offsets"])

    def decide(self, scores: np.ndarray, a: np.ndarray) -> np.ndarray:
        offset = np.asarray(self.offsets)[np.searchsorted(self.groups, a)]
        half = np.clip(logits(scores), -TRUNCATE, TRUNCATE) / 2
        # OxonFair takes the argmax of (-logit / 2, logit / 2 + offset): a tie is a 0.
        return (half + offset > -half).astype(np.int64)


def fit(model: nn.Module, split: Split, *, measure: Measure, lam: float, seed: int,
        objective, tolerance: float) -> Fit:
    """Fit OxonFair's FairPredictor on the model's validation scores."""
    # Imported here: OxonFair brings in scikit-learn, 0.9 s of every process's import of
    # posthoc otherwise, and only this fit uses it.
    import oxonfair.utils.group_metrics as metrics
    from oxonfair import DeepFairPredictor

    scores = scores_of(model, split.X)
    bound = objective.epsilon - objective.margin if objective.constrained else tolerance
    target = metrics.balanced_accuracy if objective.constrained else metrics.accuracy
    oxonfair_logger = logging.getLogger("oxonfair")
    level = oxonfair_logger.level
    oxonfair_logger.setLevel(logging.ERROR)
    try:
        predictor = DeepFairPredictor(split.y, logits(scores).reshape(-1, 1), split.a,
                                      use_actual_groups=True, truncate_logits=TRUNCATE)
        predictor.fit(target, getattr(metrics, CONSTRAINTS[measure]), bound)
    finally:
        oxonfair_logger.setLevel(level)
    groups = predictor.group_encoder.categories_[0]
    offsets = np.asarray(predictor.offset).reshape(len(groups), -1)[:, 0]
    return Fit(model=model, threshold=accuracy_threshold(scores, split),
               postprocessor=GroupOffsets(groups, offsets),
               details={"constraint": CONSTRAINTS[measure], "tolerance": bound})


SPEC = MethodSpec(
    name="fairpredictor", label="OxonFair", family="post-processing", fit=fit,
    colour="#e377c2", builtin_measures_only=True, uses_objective=True, measures=tuple(CONSTRAINTS),
    options=(Option("tolerance", 0.02, number(0.0, 1.0),
                    "largest group difference allowed under the weighted objective"),),
    description="OxonFair's FairPredictor: a per-group offset on the logit, maximising "
                "accuracy within a tolerance on the measure (needs the protected attribute "
                "to predict)")

__all__ = ["CONSTRAINTS", "GroupOffsets", "SPEC", "fit", "logits"]
