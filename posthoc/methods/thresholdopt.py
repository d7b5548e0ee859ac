"""fairlearn's ``ThresholdOptimizer`` (Hardt et al.'s post-processing) on the model's scores.

The network is a prefit estimator whose input is its own validation score, so any model that
outputs probabilities works, an exported program included. The constraint follows the
measure: demographic parity for SPD, true-positive-rate parity for EOD, equalised odds for
AOD. Under the weighted objective it maximises accuracy under exact parity; under the
constrained one it maximises balanced accuracy with the constraint relaxed to ε − margin
(fairlearn does not relax equalised odds, which then stays exact).

Its decisions are randomised between two thresholds per group. The fitted thresholds and
mixing probabilities are kept as plain numbers, and predictions are drawn from a generator
seeded with the result's seed, exactly as fairlearn's ``predict(random_state=seed)`` does,
so a saved and loaded result predicts the same. It needs the protected attribute at
prediction time.
"""

from __future__ import annotations

import warnings

import numpy as np
from torch import nn

from ..data import Split
from ..metrics import Measure
from ._common import PostProcessorBase, scores_of
from ._spec import Fit, MethodSpec, NotApplicable, Option, integer
from .default import accuracy_threshold

#: fairlearn's constraint for each built-in measure.
CONSTRAINTS = {"spd": "demographic_parity", "eod": "true_positive_rate_parity",
               "aod": "equalized_odds"}


class _Scores:
    """A prefit scikit-learn classifier whose single feature is already the score."""

    _estimator_type = "classifier"
    classes_ = np.array([0, 1])

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        score = np.asarray(X, dtype=np.float64)[:, 0]
        return np.stack([1 - score, score], axis=1)

    def predict(self, X):
        return (np.asarray(X, dtype=np.float64)[:, 0] > 0.5).astype(np.int64)

    def get_params(self, deep=True):
        return {}

    def __sklearn_is_fitted__(self):
        return True


def _operation(operator: str, threshold: float, scores: np.ndarray) -> np.ndarray:
    return (scores > threshold if operator == ">" else scores < threshold).astype(np.float64)


class GroupThresholds(PostProcessorBase):
    """Randomised thresholds per group, as fairlearn's ``InterpolatedThresholder`` applies
    them: with probability ``p0`` the first threshold operation, with ``p1`` the second,
    and with probability ``p_ignore`` a constant instead."""

    kind = "fairlearn"
    what = "the threshold optimiser"

    def __init__(self, groups: dict, seed: int):
        self.rules = {int(g): dict(v) for g, v in groups.items()}
        self.groups = sorted(self.rules)
        self.seed = int(seed)

    @classmethod
    def from_fairlearn(cls, optimizer, seed: int) -> "GroupThresholds":
        groups = {}
        for group, rule in optimizer.interpolated_thresholder_.interpolation_dict.items():
            groups[int(group)] = {
                "p0": float(rule.p0), "operation0": [rule.operation0.operator,
                                                     float(rule.operation0.threshold)],
                "p1": float(rule.p1), "operation1": [rule.operation1.operator,
                                                     float(rule.operation1.threshold)],
                "p_ignore": float(rule.get("p_ignore", 0.0)),
                "prediction_constant": float(rule.get("prediction_constant", 0.0))}
        return cls(groups, seed)

    def to_params(self) -> dict:
        return {"groups": {str(g): v for g, v in self.rules.items()}, "seed": self.seed}

    @classmethod
    def from_params(cls, params: dict) -> "GroupThresholds":
        return cls(params["groups"], params["seed"])

    def positive_probability(self, scores: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Each row's probability of a positive decision."""
        scores, a = self.checked(scores, a)
        out = np.zeros_like(scores)
        for group, rule in self.rules.items():
            inside = a == group
            value = (rule["p0"] * _operation(*rule["operation0"], scores[inside])
                     + rule["p1"] * _operation(*rule["operation1"], scores[inside]))
            out[inside] = (rule["p_ignore"] * rule["prediction_constant"]
                           + (1 - rule["p_ignore"]) * value)
        return out

    def decide(self, scores: np.ndarray, a: np.ndarray) -> np.ndarray:
        draws = np.random.RandomState(self.seed).rand(len(scores))
        return (self.positive_probability(scores, a) >= draws).astype(np.int64)


def fit(model: nn.Module, split: Split, *, measure: Measure, lam: float, seed: int,
        objective, grid_size: int) -> Fit:
    """Fit fairlearn's ThresholdOptimizer on the model's validation scores."""
    # Imported here: fairlearn brings in scikit-learn (see methods.fairpredictor).
    from fairlearn.postprocessing import ThresholdOptimizer

    constraint = CONSTRAINTS[measure]
    constrained = objective.constrained
    tol = (objective.epsilon - objective.margin
           if constrained and constraint != "equalized_odds" else None)
    scores = scores_of(model, split.X).astype(np.float64).reshape(-1, 1)
    optimizer = ThresholdOptimizer(
        estimator=_Scores(), constraints=constraint, prefit=True,
        objective="balanced_accuracy_score" if constrained else "accuracy_score",
        grid_size=grid_size, predict_method="predict_proba", tol=tol)
    single = [int(g) for g in np.unique(split.a) if len(np.unique(split.y[split.a == g])) < 2]
    if single:
        raise NotApplicable(f"method 'thresholdopt' (fairlearn) needs both labels in every "
                            f"group of the split; group {single[0]} has only one.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # fairlearn's notes on prefit estimators
        optimizer.fit(scores, split.y, sensitive_features=split.a)
    return Fit(model=model, threshold=accuracy_threshold(scores[:, 0], split),
               postprocessor=GroupThresholds.from_fairlearn(optimizer, seed),
               details={"constraint": constraint, "tolerance": tol})


SPEC = MethodSpec(
    name="thresholdopt", label="ThresholdOpt", family="post-processing", fit=fit,
    colour="#8c564b", builtin_measures_only=True, uses_objective=True, measures=tuple(CONSTRAINTS),
    options=(Option("grid_size", 1000, integer(2), "thresholds fairlearn tries per group"),),
    description="fairlearn's ThresholdOptimizer: randomised group-specific thresholds under "
                "the measure's parity constraint (needs the protected attribute to predict)")

__all__ = ["CONSTRAINTS", "GroupThresholds", "SPEC", "fit"]
