"""posthoc.repro.sensitivity: Table 1 rows, spread ratios and the perturbation analysis."""

from __future__ import annotations

import numpy as np
import pytest

from posthoc import Split, bias, train_networks
from posthoc.data import Dataset
from posthoc.repro.sensitivity import (coefficient_singular_values, concentration,
                                       perturbation_study, seed_rows, spread_ratios)


def small_dataset():
    rng = np.random.default_rng(0)

    def part(n):
        a = (rng.random(n) < 0.6).astype(int)
        X = rng.normal(size=(n, 4))
        X[:, 3] = a
        y = ((X[:, 0] + a + 0.5 * rng.normal(size=n)) > 0.5).astype(int)
        return Split(X, y, a)

    return Dataset("adult-sex", "synthetic", "a", "a = 1", ["x0", "x1", "x2", "a"],
                   part(300), part(200), part(200))


def test_seed_rows_and_ratios():
    dataset = small_dataset()
    nets = train_networks(dataset, seeds=[0, 1, 2], width=8, depth=1, max_epochs=5,
                          cache=False, progress=False, workers=1)
    rows = seed_rows(dataset, nets, [0, 1, 2])
    assert list(rows["seed"]) == [0, 1, 2] and set(rows) >= {"spd", "eod", "aod", "accuracy"}
    ratios = spread_ratios(rows)
    assert ratios.loc["adult-sex", "spd"] == pytest.approx(rows["spd"].std()
                                                           / rows["accuracy"].std())


def test_perturbation_study_spd_matches_a_single_perturbed_network():
    import copy

    import torch

    from posthoc.methods.random import noise_matrix
    from posthoc.repro.sensitivity import default_threshold

    dataset = small_dataset()
    net = train_networks(dataset, seeds=[0], width=8, depth=1, max_epochs=5, cache=False,
                         progress=False, workers=1)[0]
    study = perturbation_study(net, dataset, n_deltas=30, seed=4)
    assert study["spd"].shape == (30,) and study["coef"].shape == (sum(
        p.numel() for p in net.parameters()),)
    # Delta 7, applied by hand to a copy, gives the same SPD.
    delta = noise_matrix(net, trials=30, seed=4)[7] * 0.1 + 1
    copy_ = copy.deepcopy(net)
    offset = 0
    with torch.no_grad():
        for p in copy_.parameters():
            p.mul_(delta[offset:offset + p.numel()].reshape(p.shape))
            offset += p.numel()
        scores = copy_(torch.from_numpy(dataset.test.X)).numpy()
    threshold = default_threshold(net, dataset.valid)
    expected = bias((scores > threshold).astype(int), dataset.test.y, dataset.test.a, "spd")
    assert study["spd"][7] == pytest.approx(expected)


def test_concentration_and_singular_values_by_hand():
    assert concentration(np.array([3.0, 1.0, 0.0, 0.0]), shares=(0.5, 0.9)) == {0.5: 0.25,
                                                                                0.9: 0.5}
    orthogonal = [np.array([2.0, 0, 0]), np.array([0, -3.0, 0])]
    assert np.allclose(coefficient_singular_values(orthogonal), [1, 1])
    same = [np.array([1.0, 1.0]), np.array([2.0, 2.0])]
    assert np.allclose(coefficient_singular_values(same), [np.sqrt(2), 0])


def test_perturbation_summary_by_hand():
    import pandas as pd

    from posthoc.repro.sensitivity import perturbation_summary

    studies = pd.DataFrame({"seed": [3, 4], "base_spd": [0.1, -0.2], "r2": [0.5, 0.1],
                            "r2_authors": [0.9, 0.8],
                            "spd": [np.array([0.0, 0.2]), np.array([0.1, 0.1])],
                            "coef": [np.array([3.0, 1.0, 0.0, 0.0]), np.ones(4)]})
    summary = perturbation_summary(studies)
    assert summary["seed"].tolist() == [3, 4]
    assert summary["SPD std over deltas"].tolist() == pytest.approx([0.1, 0.0])
    # |coef| 3, 1, 0, 0: the largest alone holds 75% (1 of 4 parameters for half), two 100%.
    assert summary["params for 50% of |coef|"].tolist() == [0.25, 0.5]
    assert summary["params for 90% of |coef|"].tolist() == [0.5, 1.0]


def test_the_authors_r2_scores_mostly_fitted_rows():
    # A target of pure noise, more parameters than rows: a linear model predicts nothing, yet
    # the authors' overlapping split scores it on rows it was mostly fitted on.
    from sklearn.linear_model import LinearRegression

    from posthoc.repro.sensitivity import authors_r2

    rng = np.random.default_rng(0)
    deltas, target = rng.normal(size=(200, 500)), rng.normal(size=200)
    overlapping = authors_r2(deltas, target, seed=1)
    held_out = LinearRegression().fit(deltas[:160], target[:160]).score(deltas[160:],
                                                                         target[160:])
    assert overlapping > 0.6 and held_out < 0.1


def test_soft_spd_and_noise_statistics_by_hand():
    from posthoc.repro.sensitivity import (noise_concentration, noise_singular_values,
                                           soft_spd)

    scores = np.array([[0.2, 0.4, 0.9, 0.7], [0.5, 0.5, 0.5, 0.5]])
    # Unprivileged (a = 0): rows 0 and 1; privileged: rows 2 and 3.
    assert soft_spd(scores, np.array([0, 0, 1, 1])).tolist() == pytest.approx([-0.5, 0.0])
    # Half of a Gaussian vector's total |value| sits in about its largest 24%.
    assert 0.23 < noise_concentration(20000, draws=5).mean() < 0.25
    values = noise_singular_values(10, 20000, draws=3)
    assert values.shape == (3, 10) and np.all(np.abs(values - 1) < 0.05)


def test_figure2_in_words_leaves_out_networks_no_delta_moved():
    from posthoc.repro.sensitivity import figure2_text

    noise_shares = np.array([0.2, 0.3, 0.4])
    noise_singular = np.array([[1.0], [1.1], [1.2]])
    # Half of |3, 1, 0, 0| is carried by its first entry: 1 of 4 parameters, 25.0%; of
    # |1, 1, 1, 1|, by two entries: 50.0%. The two unit vectors have cosine 2 / sqrt(10) and,
    # stacked, singular values sqrt(1 +- cosine): the largest is sqrt(1 + cosine).
    coefs = [np.array([3.0, 1.0, 0.0, 0.0]), np.zeros(4), np.ones(4)]
    cosine = (3 + 1) / (np.sqrt(10) * 2)
    text = figure2_text(coefs, noise_shares, noise_singular)
    assert "sits on 25.0% to 50.0% of the parameters" in text
    assert "over the 2 networks whose SPD some delta changed; 1 had none" in text
    assert "gives 30.0%" in text
    assert f"is {np.sqrt(1 + cosine):.3f};" in text
    low, high = np.quantile([1.0, 1.1, 1.2], [0.025, 0.975])
    assert f"give {low:.3f} to {high:.3f} (95% range)" in text
    assert figure2_text([np.zeros(4)] * 2, noise_shares, noise_singular).startswith(
        "No delta changed any network's SPD")
