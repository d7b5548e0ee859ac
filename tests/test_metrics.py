"""posthoc.metrics against AIF360's ClassificationMetric, brute force and worked examples."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import torch

from posthoc import accuracy, best_threshold, bias, objective

AIF360_NAMES = {"spd": "statistical_parity_difference",
                "eod": "equal_opportunity_difference",
                "aod": "average_odds_difference"}


def aif360_bias(y_pred, y_true, a, measure):
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    frame = pd.DataFrame({"a": a.astype(float), "y": y_true.astype(float)})
    truth = BinaryLabelDataset(df=frame, label_names=["y"], protected_attribute_names=["a"])
    predicted = truth.copy(deepcopy=True)
    predicted.labels = y_pred.astype(float).reshape(-1, 1)
    metric = ClassificationMetric(truth, predicted, unprivileged_groups=[{"a": 0}],
                                  privileged_groups=[{"a": 1}])
    return getattr(metric, AIF360_NAMES[measure])()


@pytest.mark.parametrize("measure", ["spd", "eod", "aod"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bias_matches_aif360(measure, seed):
    rng = np.random.default_rng(seed)
    n = 500
    a = rng.integers(0, 2, n)
    y_true = rng.integers(0, 2, n)
    y_pred = (rng.random(n) < 0.3 + 0.3 * a).astype(int)
    assert bias(y_pred, y_true, a, measure) == pytest.approx(
        aif360_bias(y_pred, y_true, a, measure), abs=1e-12)


def test_worked_example():
    # a=0: rows 0,1 predict (1, 0); a=1: rows 2,3 predict (1, 1).
    y_pred, y_true, a = [1, 0, 1, 1], [1, 0, 0, 1], [0, 0, 1, 1]
    assert bias(y_pred, y_true, a, "spd") == pytest.approx(0.5 - 1.0)
    assert bias(y_pred, y_true, a, "eod") == pytest.approx(1.0 - 1.0)
    assert bias(y_pred, y_true, a, "aod") == pytest.approx(((0.0 - 1.0) + 0.0) / 2)
    assert accuracy(y_pred, y_true) == pytest.approx(0.75)
    assert objective(y_pred, y_true, a, "spd", lam=0.75) == pytest.approx(
        0.75 * 0.5 + 0.25 * 0.25)
    assert objective(y_pred, y_true, a, "spd", lam=0.0) == pytest.approx(0.25)


def test_empty_group_contributes_zero():
    # No privileged positives: TPR(a=1) counts as 0, as in the authors' code.
    y_pred, y_true, a = [1, 1, 0], [1, 0, 0], [0, 0, 1]
    assert bias(y_pred, y_true, a, "eod") == pytest.approx(1.0)
    # One group only is no bias of 1 (its positive rate): it is an error, as are two groups
    # coded other than 0 and 1 (the sign would be taken from the wrong codes).
    from posthoc.validation import ONE_GROUP, TWO_GROUPS_CODED

    with pytest.raises(ValueError, match=re.escape(ONE_GROUP.format(name="a", code=0))):
        bias([1, 1], [1, 0], [0, 0], "spd")
    with pytest.raises(ValueError, match=re.escape(TWO_GROUPS_CODED.format(name="a",
                                                                           codes=[0, 2]))):
        bias([1, 0, 1], [1, 0, 0], [0, 2, 2], "spd")
    # Float codes equal to integers are codes like the integers.
    from posthoc import Split
    assert Split(np.zeros((3, 1)), [1, 0, 1], [0.0, 1.0, 2.0]).a.tolist() == [0, 1, 2]


def test_batches_match_row_by_row_and_keep_the_container():
    rng = np.random.default_rng(3)
    n = 200
    a, y_true = rng.integers(0, 2, n), rng.integers(0, 2, n)
    y_pred = rng.integers(0, 2, (3, 4, n))
    for measure in ("spd", "eod", "aod"):
        batched = bias(y_pred, y_true, a, measure)
        assert isinstance(batched, np.ndarray) and batched.shape == (3, 4)
        for i in range(3):
            for j in range(4):
                assert batched[i, j] == pytest.approx(bias(y_pred[i, j], y_true, a, measure))
    as_tensor = objective(torch.from_numpy(y_pred), y_true, a, "aod")
    assert isinstance(as_tensor, torch.Tensor) and as_tensor.shape == (3, 4)
    assert np.allclose(as_tensor.numpy(), objective(y_pred, y_true, a, "aod"))


def test_callable_measure():
    rng = np.random.default_rng(4)
    a, y_true, y_pred = (rng.integers(0, 2, 100) for _ in range(3))

    def spd(pred, truth, group):
        return pred[group == 0].mean() - pred[group == 1].mean()

    assert bias(y_pred, y_true, a, spd) == pytest.approx(bias(y_pred, y_true, a, "spd"))
    assert objective(y_pred, y_true, a, spd) == pytest.approx(objective(y_pred, y_true, a, "spd"))


def brute_force(scores, y_true, a, measure, lam, thresholds):
    values = [objective((scores > t).astype(int), y_true, a, measure, lam=lam)
              for t in thresholds]
    return np.array(values)


@pytest.mark.parametrize("measure", ["spd", "eod", "aod"])
@pytest.mark.parametrize("lam", [0.0, 0.3, 0.75, 1.0])
def test_best_threshold_matches_brute_force(measure, lam):
    rng = np.random.default_rng(5)
    n = 120
    a, y_true = rng.integers(0, 2, n), rng.integers(0, 2, n)
    # Rounded scores create ties, which a cut can never split.
    scores = np.round(rng.random((3, n)) * 0.6 + 0.3 * y_true, 2).astype(np.float32)
    result = best_threshold(scores, y_true, a, measure, lam=lam, return_objective=True)
    assert result.threshold.shape == (3,)
    for row in range(3):
        candidates = np.concatenate([np.unique(scores[row]), [scores[row].min() - 1]])
        exhaustive = brute_force(scores[row], y_true, a, measure, lam, candidates)
        assert result.objective[row] == pytest.approx(exhaustive.min(), abs=1e-12)
        achieved = objective((scores[row] > result.threshold[row]).astype(int), y_true, a,
                             measure, lam=lam)
        assert achieved == pytest.approx(exhaustive.min(), abs=1e-12)


@pytest.mark.parametrize("grid", [501, 1001])
def test_grid_reproduces_the_authors_loop(grid):
    rng = np.random.default_rng(6)
    n = 300
    a, y_true = rng.integers(0, 2, n), rng.integers(0, 2, n)
    scores = rng.random(n)
    thresholds = np.linspace(0, 1, grid)
    exhaustive = brute_force(scores, y_true, a, "spd", 0.75, thresholds)
    result = best_threshold(scores, y_true, a, "spd", lam=0.75, grid=grid, return_objective=True)
    assert result.threshold == pytest.approx(thresholds[np.argmin(exhaustive)])
    assert result.objective == pytest.approx(exhaustive.min(), abs=1e-12)


def test_every_cut_is_at_least_as_good_as_a_grid():
    rng = np.random.default_rng(7)
    scores = torch.rand(50, 400)
    y_true, a = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    exact = best_threshold(scores, y_true, a, "aod", return_objective=True).objective
    grid = best_threshold(scores, y_true, a, "aod", grid=501, return_objective=True).objective
    assert isinstance(exact, torch.Tensor)
    assert bool((exact <= grid + 1e-12).all())


def test_best_threshold_with_a_callable_measure():
    rng = np.random.default_rng(8)
    n = 60
    a, y_true = rng.integers(0, 2, n), rng.integers(0, 2, n)
    scores = rng.random(n)

    def spd(pred, truth, group):
        return pred[group == 0].mean() - pred[group == 1].mean()

    ours = best_threshold(scores, y_true, a, spd, return_objective=True)
    builtin = best_threshold(scores, y_true, a, "spd", return_objective=True)
    assert ours.objective == pytest.approx(builtin.objective)


def test_lam_zero_maximises_accuracy():
    threshold = best_threshold([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0], [0, 1, 0, 1], "spd", lam=0.0)
    assert 0.3 < threshold < 0.8


@pytest.mark.parametrize("call, match", [
    (lambda: bias([1, 0], [1, 0], [0, 1], "dp"), r"measure 'dp'.*spd, eod, aod"),
    (lambda: objective([1, 0], [1, 0], [0, 1], "spd", lam=1.5), r"^lam "),
    (lambda: objective([1, 0], [1, 0], [0, 1], "spd", lam=-0.1), r"^lam "),
    (lambda: best_threshold([0.1, 0.2], [1, 0], [0, 1], "spd", lam=2), r"^lam "),
    (lambda: bias([1, 0, 1], [1, 0], [0, 1], "spd"), "length"),
    (lambda: best_threshold([0.1, 0.2, 0.3], [1, 0], [0, 1]), "length"),
    (lambda: bias([1, 0], [1, 0], [0, -2], "spd"), r"^a must hold group codes 0, 1"),
    (lambda: bias([1, 0], [1, 0], [0, 0.5], "spd"), r"^a must hold group codes 0, 1"),
    (lambda: bias([1, 0], [1, 3], [0, 1], "spd"), r"^y_true must contain only 0 and 1"),
    (lambda: bias([0.2, 0.9], [1, 0], [0, 1], "spd"), r"^y_pred must contain only 0 and 1"),
    (lambda: best_threshold([0.1, 0.2], [2, 0], [0, 1]), r"^y_true must"),
    (lambda: best_threshold([0.1, float("nan")], [1, 0], [0, 1]), r"^scores contains NaN"),
    (lambda: best_threshold([0.1, 0.2], [1, 0], [0, 1], grid=1), r"^grid must"),
])
def test_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _brute_gap(pred, y, a, measure):
    """The largest gap between any two groups' rates, written out pair by pair."""
    def rate(group, condition):
        members = (a == group) & condition
        return pred[members].mean() if members.any() else None

    def rates(group):
        everyone = np.ones_like(y, dtype=bool)
        if measure == "spd":
            return rate(group, everyone)
        if measure == "eod":
            return rate(group, y == 1)
        fpr, tpr = rate(group, y == 0), rate(group, y == 1)
        return None if fpr is None or tpr is None else 0.5 * (fpr + tpr)

    values = [rates(g) for g in np.unique(a)]
    values = [v for v in values if v is not None]
    return max(abs(p - q) for p in values for q in values) if len(values) > 1 else 0.0


@pytest.mark.parametrize("measure", ["spd", "eod", "aod"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_more_than_two_groups_give_the_largest_gap_by_brute_force(measure, seed):
    rng = np.random.default_rng(seed)
    n = 300
    a = rng.integers(0, 4, n)
    y = rng.integers(0, 2, n)
    if seed == 2:
        y[a == 3] = 0                      # a group without positives: left out of EOD
    pred = (rng.random(n) < 0.2 + 0.15 * a).astype(int)
    assert bias(pred, y, a, measure) == pytest.approx(_brute_gap(pred, y, a, measure),
                                                      abs=1e-12)
    # The threshold search counts every cut the same way.
    scores = rng.random(n)
    found = best_threshold(scores, y, a, measure, lam=0.6, return_objective=True)
    cuts = np.concatenate([[-1.0], np.unique(scores)])
    brute = min(0.6 * _brute_gap((scores > t).astype(int), y, a, measure)
                + 0.4 * (1 - ((scores > t) == y).mean()) for t in cuts)
    assert found.objective == pytest.approx(brute, abs=1e-12)


def test_two_groups_keep_the_signed_definition():
    pred, y, a = np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]), np.array([0, 0, 1, 1])
    assert bias(pred, y, a, "spd") == pytest.approx(-0.5)
    assert bias(pred, y, a + 0, "spd") == bias(pred, y, a, "spd")
