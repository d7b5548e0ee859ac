"""posthoc.diagnostics and the flags the study and evaluate record."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from posthoc import Split, debias, evaluate
from posthoc.diagnostics import constant_objective, is_constant, majority_share, network_health


class Fixed(torch.nn.Module):
    """Outputs the given probabilities, whatever the input."""

    def __init__(self, scores):
        super().__init__()
        self.scores = torch.as_tensor(scores, dtype=torch.float32)
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.scores[: x.shape[0]] + 0 * self.weight


def _split(y, a=None):
    y = np.asarray(y)
    a = np.arange(len(y)) % 2 if a is None else a
    return Split(np.zeros((len(y), 2), dtype=np.float32), y, a)


def test_a_network_that_predicts_one_class_or_the_base_rate_is_failed():
    split = _split([1, 0, 0, 0, 0, 0, 0, 0, 0, 0])          # majority share 0.9
    assert majority_share(split) == 0.9
    one_class = network_health(Fixed([0.1] * 10), split)
    assert one_class["failed"] and one_class["positive_rate"] == 0.0
    # Right on one positive, wrong on nothing else: accuracy 1.0 > 0.9 + 0.005.
    good = network_health(Fixed([0.9] + [0.1] * 9), split)
    assert not good["failed"] and good["accuracy"] == 1.0
    # Predicts both classes but is no better than the base rate: accuracy 0.9.
    base_rate = network_health(Fixed([0.9, 0.9] + [0.1] * 8), split)
    assert base_rate["failed"] and base_rate["accuracy"] == 0.9


def test_the_constant_classifiers_objective_by_hand():
    # Majority share 0.75: bias 0, error 0.25, objective 0.25 * 0.25.
    assert constant_objective(_split([1, 0, 0, 0]), lam=0.75) == pytest.approx(0.0625)
    assert constant_objective(_split([1, 0, 0, 0]), lam=1.0) == 0.0
    assert is_constant(np.ones(3)) and not is_constant(np.array([0, 1]))


def test_evaluate_reports_the_positive_rate_and_constant_predictions():
    split = _split([1, 0, 1, 0, 1, 0, 1, 0])
    result = debias(Fixed([0.8, 0.2] * 4), split, "default")
    row = evaluate(result, split)
    from posthoc.debias import evaluation_keys
    assert list(row) == evaluation_keys()
    assert row["positive_rate"] == 0.5 and row["constant"] is False
    flat = debias(Fixed([0.3] * 8), split, "default")
    row = evaluate(flat, split)
    assert row["constant"] is True and row["positive_rate"] in (0.0, 1.0)
    assert row["bias"] == 0.0


def test_table1_gives_statistics_with_and_without_failed_networks():
    from posthoc.repro.sensitivity import table1

    rows = pd.DataFrame({"config": "adult-sex", "seed": [0, 1, 2],
                         "accuracy": [0.85, 0.86, 0.75], "spd": [-0.2, -0.18, 0.0],
                         "eod": [-0.1, -0.08, 0.0], "aod": [-0.1, -0.09, 0.0],
                         "failed": [False, False, True]})
    table = table1(rows)
    accuracy = table.loc[("adult-sex", "accuracy")]
    assert accuracy["failed networks"] == "1 of 3"
    assert accuracy["ours"] == "0.820 ± 0.061"
    assert accuracy["ours, trained networks"] == "0.855 ± 0.007"
    assert accuracy["paper"] == "0.855 ± 0.002"


def test_csv_tables_are_written_atomically_and_dirty_cells_are_found(tmp_path):
    from posthoc.repro.study import dirty_cells, save_csv

    frame = pd.DataFrame({"commit": ["abc1234", "abc1234-dirty", "unknown"], "x": [1, 2, 3]})
    path = save_csv(frame, tmp_path / "deep" / "t.csv")
    assert pd.read_csv(path).equals(frame)
    assert [p.name for p in path.parent.iterdir()] == ["t.csv"]
    assert dirty_cells(frame)["x"].tolist() == [2, 3]


def test_training_mode_health_uses_dropout_and_batch_statistics_and_restores_the_mode():
    from posthoc.diagnostics import training_mode_health

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    split = Split(X, (X[:, 0] > 0).astype(int), (X[:, 1] > 0).astype(int))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.5),
                                torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 1),
                                torch.nn.Sigmoid()).eval()
    first = training_mode_health(model, split, seed=1)
    assert not model.training                                  # the mode is restored
    assert training_mode_health(model, split, seed=1) == first  # the masks come from the seed
    # By hand: dropout masks from the seed, BatchNorm on this batch's statistics.
    model.train()
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(1)
        scores = model(torch.from_numpy(X)).reshape(-1).numpy()
    model.eval()
    assert first["accuracy"] == pytest.approx(np.mean((scores >= 0.5) == split.y))


def test_one_class_at_the_documented_share_and_the_reference_objectives():
    from posthoc.diagnostics import (ONE_CLASS_SHARE, is_one_class, one_class_objective,
                                     one_class_share)

    assert ONE_CLASS_SHARE == 0.99
    # 10 of 1000 people get the other decision: exactly at the share, one-class; 11: not.
    assert is_one_class(np.r_[np.zeros(990), np.ones(10)])
    assert not is_one_class(np.r_[np.zeros(989), np.ones(11)])
    assert one_class_share(np.r_[np.ones(3), np.zeros(1)]) == 0.75
    rates = is_one_class(positive_rate=np.array([0.01, 0.011, 0.99, np.nan]))
    assert rates.tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match="share must be in"):
        is_one_class(np.ones(3), share=0.4)
    with pytest.raises(TypeError, match="either predictions or positive_rate"):
        is_one_class()
    split = _split([1, 0, 0, 0])
    assert one_class_objective(split, lam=0.75) == pytest.approx(constant_objective(split))
    assert one_class_objective(split, objective="certified") == 0.5
    with pytest.raises(ValueError, match="objective must be"):
        one_class_objective(split, objective="accuracy")
