"""posthoc.objectives: the constrained objective against a brute force with explicit
bootstrap resamples and scikit-learn's balanced accuracy; the options' errors; every method
under it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

import posthoc
from posthoc import Objective, debias, evaluate
from posthoc.metrics import bias
from posthoc.thresholds import best_threshold


def test_the_batched_constrained_search_matches_explicit_resamples():
    rng = np.random.default_rng(0)
    n = 300
    scores = rng.random((3, n))
    y, a = (rng.random(n) < 0.4).astype(int), (rng.random(n) < 0.5).astype(int)
    objective = Objective("constrained", epsilon=0.1, margin=0.02, resamples=4, seed=3)
    found = best_threshold(scores, y, a, "spd", grid=101, objective=objective,
                           return_objective=True)
    weights = objective.bootstrap_weights(n).numpy().astype(int)
    for row in range(3):
        best = (np.inf, None)
        for t in np.linspace(0, 1, 101):
            pred = (scores[row] > t).astype(int)
            values = []
            for w in weights:
                rows = np.repeat(np.arange(n), w)          # the resample, row by row
                inside = abs(bias(pred[rows], y[rows], a[rows], "spd")) < 0.08
                values.append(balanced_accuracy_score(y[rows], pred[rows]) if inside else 0.0)
            if 1 - np.mean(values) < best[0] - 1e-12:
                best = (1 - np.mean(values), t)
        assert found.threshold[row] == pytest.approx(best[1])
        assert found.objective[row] == pytest.approx(best[0], abs=1e-12)


def test_without_resamples_the_objective_is_one_minus_balanced_accuracy_inside_epsilon():
    y = np.array([1, 0, 1, 0, 1, 0, 0, 0])
    a = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    pred = np.array([1, 0, 0, 0, 1, 0, 0, 0])         # SPD 0.25 - 0.25 = 0
    objective = Objective("constrained", epsilon=0.05, resamples=0)
    assert objective.value(pred, y, a, "spd") == pytest.approx(
        1 - balanced_accuracy_score(y, pred))
    unfair = np.array([1, 1, 0, 0, 0, 0, 0, 0])        # SPD 0.5
    assert objective.value(unfair, y, a, "spd") == 1.0
    weighted = Objective("weighted", lam=0.75)
    assert weighted.value(unfair, y, a, "spd") == pytest.approx(
        posthoc.objective(unfair, y, a, "spd", lam=0.75))


@pytest.mark.parametrize("kwargs, message", [
    ({"epsilon": 0.0}, "epsilon must lie in"), ({"epsilon": 1.5}, "epsilon must lie in"),
    ({"epsilon": "0.1"}, "epsilon must be a number"),
    ({"margin": 0.05}, "margin must be smaller than epsilon"),
    ({"margin": -0.01}, "margin must lie in"), ({"resamples": 2.5}, "resamples must be"),
    ({"name": "sharp"}, "objective"), ({"lam": 2}, "lam"),
])
def test_bad_objective_options_are_named(kwargs, message):
    options = {"name": "constrained", **kwargs}
    with pytest.raises(ValueError, match=message):
        Objective(**options)


def test_debias_refuses_options_of_the_other_objective(problem):
    net, valid, _ = problem
    with pytest.raises(ValueError, match="epsilon only apply to objective='constrained'"):
        debias(net, valid, "random", epsilon=0.1, trials=3)
    with pytest.raises(ValueError, match="objective"):
        debias(net, valid, "random", objective="fair", trials=3)
    with pytest.raises(ValueError, match="registered measure"):
        debias(net, valid, "random", objective="constrained", trials=3,
               measure=lambda p, y, a: 0.0)


@pytest.mark.parametrize("method, options", [
    ("default", {}), ("random", {"trials": 12}), ("layerwise", {"calls": 8, "layers": ["head"]}),
    ("adversarial", {"epochs": 1, "critic_steps": 10, "actor_steps": 10}), ("eqodds", {}),
])
def test_every_method_runs_under_the_constrained_objective_and_saves_it(problem, method,
                                                                        options, tmp_path):
    net, valid, test = problem
    result = debias(net, valid, method, objective="constrained", epsilon=0.1, seed=2,
                    **options)
    assert result.criterion.constrained and result.criterion.epsilon == 0.1
    # The final version's margins at epsilon 0.05, in proportion at 0.1.
    assert result.criterion.margin == pytest.approx(0.04 if method == "adversarial" else 0.02)
    predictions = result.predict(test.X, test.a)
    inside = abs(bias(predictions, test.y, test.a, "spd")) < 0.1
    expected = 1 - (balanced_accuracy_score(test.y, predictions) if inside else 0.0)
    assert evaluate(result, test)["objective"] == pytest.approx(expected)
    loaded = posthoc.load_result(result.save(tmp_path / "r.zip"))
    assert loaded.criterion == result.criterion
    assert evaluate(loaded, test)["objective"] == pytest.approx(expected)



def test_the_certified_search_keeps_candidates_whose_bootstrap_bound_is_within_epsilon():
    rng = np.random.default_rng(1)
    n = 200
    scores = rng.random((2, n))
    y, a = (rng.random(n) < 0.5).astype(int), (rng.random(n) < 0.5).astype(int)
    objective = Objective("certified", epsilon=0.1, resamples=30, seed=2)
    found = best_threshold(scores, y, a, "spd", grid=51, objective=objective,
                           return_objective=True)
    weights = objective.bootstrap_weights(n).numpy().astype(int)
    for row in range(2):
        best = (np.inf, None)
        for t in np.linspace(0, 1, 51):
            pred = (scores[row] > t).astype(int)
            gaps = []
            for w in weights:
                rows = np.repeat(np.arange(n), w)
                gaps.append(abs(bias(pred[rows], y[rows], a[rows], "spd")))
            bound = np.quantile(gaps, 0.95, method="higher")
            value = 1 - balanced_accuracy_score(y, pred) if bound <= 0.1 else np.inf
            if value < best[0] - 1e-12:
                best = (value, t)
        assert found.objective[row] == pytest.approx(best[0])
        if np.isfinite(best[0]):
            assert found.threshold[row] == pytest.approx(best[1])
        # The bound of the chosen predictions, computed on its own.
        pred = (scores[row] > found.threshold[row]).astype(int)
        if np.isfinite(best[0]):
            assert objective.certify(pred, y, a, "spd") <= 0.1


def test_debias_says_when_no_candidate_is_certified(problem):
    from posthoc.objectives import NoCertifiedCandidate

    net, valid, _ = problem
    with pytest.raises(NoCertifiedCandidate, match="no candidate of method 'default' is "
                                                   "certified.*above epsilon = 0.001"):
        debias(net, valid, "default", objective="certified", epsilon=0.001)
    result = debias(net, valid, "random", objective="certified", epsilon=0.2, trials=10)
    assert result.details["bias_bound"] <= 0.2
    with pytest.raises(ValueError, match="at least 20 resamples"):
        debias(net, valid, "random", objective="certified", resamples=5, trials=3)
