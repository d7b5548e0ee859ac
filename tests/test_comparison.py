"""Tables, claims and figures of the comparison chapters, on hand-made rows."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from posthoc.repro.comparison import (against_paper, bootstrap_ci, fine_tuning_vs_post_processing,
                                objective_table, paired_tests, paired_wins, ranks,
                                runtime_table, summary)
from posthoc.repro.figures import plot_ablation, plot_objectives, plot_tradeoff


def _rows():
    # Two seeds; objective per method chosen by hand.
    objective = {"default": (0.20, 0.22), "random": (0.05, 0.07), "layerwise": (0.08, 0.04),
                 "adversarial": (0.06, 0.06), "roc": (0.10, 0.12), "eqodds": (0.09, 0.09),
                 "calibeqodds": (0.30, 0.32)}
    rows = []
    for arch in ("default", "width-64"):
        for seed in (0, 1):
            for method, values in objective.items():
                if arch != "default" and method == "layerwise":
                    continue
                phi = values[seed] + (0.01 if arch != "default" else 0.0)
                rows.append({"config": "adult-sex", "arch": arch, "seed": seed,
                             "measure": "spd", "method": method, "runtime_s": 1.0 + seed,
                             "valid_objective": phi - 0.01, "test_objective": phi,
                             "valid_bias": -phi, "test_bias": -phi,
                             "valid_accuracy": 1 - phi, "test_accuracy": 1 - phi})
    return pd.DataFrame(rows)


def test_summary_and_objective_table_by_hand():
    rows = _rows()
    stats = summary(rows, "test").set_index(["arch", "method"])
    assert stats.loc[("default", "random"), "objective"] == pytest.approx(0.06)
    assert stats.loc[("default", "random"), "objective_std"] == pytest.approx(
        np.std([0.05, 0.07], ddof=1))
    assert stats.loc[("default", "random"), "abs_bias"] == pytest.approx(0.06)
    assert stats.loc[("default", "random"), "seeds"] == 2
    table = objective_table(rows, "test")
    assert list(table.columns) == ["Default", "Random", "LayerwiseOpt", "Adversarial", "ROC",
                                   "EqOdds", "CalibEqOdds", "one-class left out"]
    # Random, layer-wise and adversarial tie at 0.06 on the paper's network: all starred.
    cell = table.loc[("adult-sex", "default", "spd")]
    starred = [c for c in table.columns if str(cell[c]).endswith("*")]
    assert starred == ["Random", "LayerwiseOpt", "Adversarial"]
    assert table.loc[("adult-sex", "default", "spd"), "Random"] == "0.060 ± 0.014 *"
    # Random one-class (0.5% positive) on both seeds: marked, counted, never starred; the
    # one-class reference sits beside, marked where it beats every method.
    rows.loc[rows["method"] == "random", "test_positive_rate"] = 0.005
    table = objective_table(rows, "test", reference={"adult-sex": 0.05})
    cell = table.loc[("adult-sex", "default", "spd")]
    assert cell["Random"] == "0.060 ± 0.014 †" and cell["one-class left out"] == 1
    assert [c for c in table.columns if str(cell[c]).endswith("*")] == ["LayerwiseOpt",
                                                                         "Adversarial"]
    assert cell["one class (majority)"] == "0.050 ▲"
    assert objective_table(rows, "test", reference={"adult-sex": 0.07}).loc[
        ("adult-sex", "default", "spd"), "one class (majority)"] == "0.070"
    # A one-class result has no rank, and is no family's best.
    order = ranks(rows, "test").loc[("adult-sex", "default", "spd")]
    assert pd.isna(order["Random"]) and order["LayerwiseOpt"] == 1
    families = fine_tuning_vs_post_processing(rows, "test").iloc[0]
    assert families["best fine-tuning"] != "Random" and families["one-class left out"] == 1


def test_spread_comparison_tests_the_ratio_of_variances():
    from scipy.stats import f

    from posthoc.repro.comparison import spread_comparison
    from posthoc.repro.reported import variance_ratio_test

    # The paper's Adult SPD std is 0.011 over 10 seeds; ours 0.033: variance 9 times larger.
    rng = np.random.default_rng(0)
    spd = rng.standard_normal(10)
    spd = -0.2 + 0.033 * (spd - spd.mean()) / spd.std(ddof=1)
    table1 = pd.DataFrame({"config": "adult-sex", "seed": range(10), "spd": spd,
                           "eod": spd, "aod": spd, "accuracy": 0.855})
    rows = spread_comparison(table1).set_index("quantity")
    spd_row = rows.loc["std(spd)"]
    assert spd_row["ours"] == pytest.approx(0.033) and spd_row["paper"] == 0.011
    assert spd_row["variance_ratio"] == pytest.approx(9.0)
    assert spd_row["variance_p"] == pytest.approx(2 * f.sf(9.0, 9, 9))
    assert not spd_row["spread_consistent"]
    # Our accuracy does not vary: ratio 0, far below the paper's 0.002.
    assert rows.loc["std(accuracy)", "variance_ratio"] == pytest.approx(0.0, abs=1e-20)
    assert variance_ratio_test(0.01, 10, 0.01) == pytest.approx((1.0, 1.0))


def test_ranks_families_and_paired_wins():
    rows = _rows()
    order = ranks(rows, "test")
    assert order.loc[("adult-sex", "default", "spd")].to_dict() == {
        "Default": 6, "Random": 1, "LayerwiseOpt": 1, "Adversarial": 1, "ROC": 5,
        "EqOdds": 4, "CalibEqOdds": 7}
    families = fine_tuning_vs_post_processing(rows, "test")
    assert len(families) == 1 and bool(families.loc[0, "fine-tuning wins"])
    assert families.loc[0, "best post-processing"] == "EqOdds"
    assert families.loc[0, "post-processing mean"] == pytest.approx((0.11 + 0.09 + 0.31) / 3)
    wins = paired_wins(rows, "layerwise", "random", "test")
    assert wins.loc[("adult-sex", "default", "spd")].tolist() == [1, 2]


def test_runtime_table_sits_beside_the_paper():
    table = runtime_table(_rows())
    assert table.loc["Random", ("ACI (sex)", "ours")] == pytest.approx(1.5)
    assert table.loc["Random", ("ACI (sex)", "paper")] == pytest.approx(156.848)
    assert "Default" not in table.index


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Unknown split 'train'; valid values are: valid, test"):
        summary(_rows(), "train")
    with pytest.raises(ValueError, match="rows is empty"):
        summary(pd.DataFrame(), "test")
    with pytest.raises(ValueError, match="lacks the columns"):
        summary(_rows().drop(columns="seed"), "test")


def test_figures_draw_every_method():
    rows = _rows()
    fig = plot_objectives(rows, "test")
    assert len(fig.axes[0].patches) == 7            # one bar per method, one configuration
    fig = plot_tradeoff(rows, "valid")
    assert len(fig.axes[0].collections) >= 7        # points and contour lines
    fig = plot_ablation(rows, "test")
    assert fig.axes[0].get_title().startswith("ACI (sex)")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert sum(np.isfinite(heights)) == 7 + 6       # paper's network: 7 methods; width 64: 6


def _ten_seeds():
    rng = np.random.default_rng(3)
    rows = []
    for seed in range(10):
        for method, centre in (("random", 0.05), ("roc", 0.09), ("eqodds", 0.05)):
            phi = centre + rng.normal(0, 0.01)
            rows.append({"config": "bank-age", "arch": "default", "seed": seed,
                         "measure": "spd", "method": method, "test_objective": phi})
    return pd.DataFrame(rows)


def test_bootstrap_interval_equals_a_loop_over_resamples():
    rows = _ten_seeds()
    ci = bootstrap_ci(rows, "test", n_boot=500, seed=7).set_index("method")
    values = rows[rows["method"] == "eqodds"]["test_objective"].to_numpy()
    rng = np.random.default_rng(7)
    means = {}
    for method in ("eqodds", "random", "roc"):        # groupby order
        v = rows[rows["method"] == method]["test_objective"].to_numpy()
        draws = rng.integers(0, 10, size=(500, 10))
        means[method] = [np.mean([v[i] for i in draw]) for draw in draws]
    low, high = np.quantile(means["eqodds"], [0.025, 0.975])
    assert ci.loc["eqodds", "low"] == pytest.approx(low)
    assert ci.loc["eqodds", "high"] == pytest.approx(high)
    assert ci.loc["eqodds", "low"] < values.mean() < ci.loc["eqodds", "high"]
    constant = rows.assign(test_objective=0.3)
    assert np.allclose(bootstrap_ci(constant, "test", n_boot=50)[["low", "high"]], 0.3)


def test_paired_tests_match_scipy():
    from scipy.stats import wilcoxon

    rows = _ten_seeds()
    tests = paired_tests(rows, ("random",), ("roc", "eqodds"), "test").set_index("second")
    a = rows[rows["method"] == "random"].sort_values("seed")["test_objective"].to_numpy()
    b = rows[rows["method"] == "roc"].sort_values("seed")["test_objective"].to_numpy()
    assert tests.loc["ROC", "p_value"] == pytest.approx(wilcoxon(a, b).pvalue)
    assert tests.loc["ROC", "p_value"] < 0.01 and tests.loc["ROC", "median_difference"] < 0
    assert tests.loc["ROC", "seeds"] == 10 and tests.loc["EqOdds", "p_value"] > 0.01


def test_against_paper_by_hand():
    assert against_paper(0.852, 0.001, 0.855, 0.002)["within_2_sigma"]
    assert not against_paper(0.850, 0.001, 0.855, 0.002)["within_2_sigma"]
    # A printed 0.000 counts as half a unit of the last digit.
    assert against_paper(0.8515, None, 0.852, 0.0)["within_2_sigma"]
    assert not against_paper(0.850, None, 0.852, 0.0)["within_2_sigma"]
    assert against_paper(0.850, None, 0.852, 0.0)["difference"] == pytest.approx(-0.002)


def test_paper_comparison_puts_each_reported_number_beside_ours():
    from posthoc.repro.comparison import paper_comparison
    from posthoc.repro.paper import paper_value

    mean, std = paper_value("table1", "adult-sex", "spd", "network")
    table1 = pd.DataFrame({"config": "adult-sex", "seed": [0, 1],
                           "spd": [mean - 0.001, mean + 0.001], "eod": 0.5, "aod": 0.5,
                           "accuracy": 0.5})
    runs = pd.DataFrame({"dataset": "bank", "model": "network", "seed": [0, 1],
                         "accuracy": [0.5, 0.5], "roc_auc": [0.9, 0.9]})
    appendix = pd.DataFrame({"r2": [0.8, 0.9]})
    numbers = paper_comparison(table1, runs, appendix, regression_config="adult-sex")
    # Table 1: four quantities; Table 3: bank network accuracy and ROC AUC; Appendix A: one.
    assert len(numbers) == 4 + 2 + 1
    spd = numbers[(numbers["table"] == "table1") & (numbers["quantity"] == "spd")].iloc[0]
    assert spd["ours"] == pytest.approx(mean) and spd["within_2_sigma"]
    assert spd["ours_std"] == pytest.approx(np.std([mean - 0.001, mean + 0.001], ddof=1))
    appendix_row = numbers[numbers["table"] == "appendixA"].iloc[0]
    assert appendix_row["config"] == "adult-sex" and appendix_row["ours"] == pytest.approx(0.85)


def test_a_number_outside_two_sigma_gets_the_cause_we_measured():
    from posthoc.repro.comparison import paper_comparison
    from posthoc.repro.paper import paper_value

    mean, std = paper_value("table1", "compas-race", "accuracy", "network")
    # Nine networks close to the paper, one stuck far below: the mean falls outside.
    accuracy = [mean + 0.002 * (k % 3 - 1) for k in range(9)] + [mean - 0.2]
    table1 = pd.DataFrame({"config": "compas-race", "seed": range(10), "accuracy": accuracy,
                           "spd": 0.2, "eod": 0.2, "aod": 0.2})
    lr, _ = paper_value("table3", "bank", "accuracy", "logistic_regression")
    runs = pd.DataFrame({"dataset": "bank", "model": "logistic_regression", "seed": [0, 0],
                         "protocol": ["paper", "authors_code"],
                         "accuracy": [lr - 0.01, lr], "roc_auc": [0.93, 0.93]})
    numbers = paper_comparison(table1, runs).set_index(["table", "quantity", "model",
                                                        "protocol"])
    row = numbers.loc[("table1", "accuracy", "network", "paper")]
    assert not row["within_2_sigma"]
    assert row["cause"].startswith("seed 9's network reached only accuracy")
    paper_protocol = numbers.loc[("table3", "accuracy", "logistic_regression", "paper")]
    assert not paper_protocol["within_2_sigma"]
    assert paper_protocol["cause"].startswith("the protocol: the authors' code")
    assert numbers.loc[("table3", "accuracy", "logistic_regression", "authors_code"),
                       "cause"] == ""
    # A spread-out sample with no single outlier gets no cause.
    table1["accuracy"] = [mean - 0.05 + 0.01 * (k % 5) for k in range(10)]
    row = paper_comparison(table1).set_index(["table", "quantity"]).loc[("table1", "accuracy")]
    assert not row["within_2_sigma"] and row["cause"] == ""


def test_paired_test_table_and_the_significant_count():
    from posthoc.repro.comparison import paired_test_table, significantly_lower

    tests = pd.DataFrame({"config": ["adult-sex"] * 3, "measure": ["spd"] * 3,
                          "first": ["Random", "Random", "Adversarial"],
                          "second": ["ROC", "EqOdds", "ROC"],
                          "median_difference": [-0.01, 0.02, -0.03],
                          "p_value": [0.01, 0.002, 0.2]})
    table = paired_test_table(tests)
    assert table.loc[("adult-sex", "spd"), "Random vs ROC"] == "- 0.010"
    assert table.loc[("adult-sex", "spd"), "Random vs EqOdds"] == "+ 0.002"
    # Significant and lower: only Random vs ROC (EqOdds is significant but higher).
    assert significantly_lower(tests) == 1


def test_frontier_points_by_hand():
    from posthoc.repro.figures import frontier_points, plot_frontier

    rows = pd.DataFrame({"config": "adult-sex", "method": ["random"] * 3 + ["default"],
                         "epsilon": [0.05, 0.05, 0.1, 0.05], "seed": [0, 1, 0, 0],
                         "test_bias": [-0.02, 0.04, 0.08, 0.2],
                         "test_accuracy": [0.80, 0.84, 0.85, 0.86],
                         "test_constant": [False, False, False, True]})
    points = frontier_points(rows).set_index(["method", "epsilon"])
    two = points.loc[("random", 0.05)]
    assert two["abs_bias"] == pytest.approx(0.03) and two["accuracy"] == pytest.approx(0.82)
    assert two["networks"] == 2 and 0.02 <= two["abs_bias_low"] <= two["abs_bias_high"] <= 0.04
    assert np.isnan(points.loc[("random", 0.1), "abs_bias_low"])     # one network
    assert points.loc[("default", 0.05), "one_class"] == 1.0
    figure = plot_frontier(rows)
    assert len(figure.axes) == 1 and figure.axes[0].get_title() == "ACI (sex)"
    labels = sorted(text.get_text() for text in figure.axes[0].texts)
    assert labels == ["0.05", "0.05", "0.1"]      # random's two tolerances, default's one
    # A method whose result does not depend on epsilon gets one label for every tolerance.
    same = pd.concat([rows[rows["method"] == "default"].assign(epsilon=e) for e in (0.05, 0.1)])
    figure = plot_frontier(same)
    assert [text.get_text() for text in figure.axes[0].texts] == ["every ε"]


def test_frontier_leaders_by_hand():
    from posthoc.repro.figures import frontier_leaders

    points = pd.DataFrame({
        "config": ["a"] * 5 + ["b"] * 2,
        "method": ["random", "adversarial", "thresholdopt", "fairpredictor", "default",
                   "random", "thresholdopt"],
        "epsilon": [0.05] * 7,
        "abs_bias": [0.04, 0.01, 0.03, 0.06, 0.01, 0.02, 0.08],
        "accuracy": [0.80, 0.70, 0.83, 0.90, 0.95, 0.60, 0.70]})
    table = frontier_leaders(points, 0.05).set_index("config")
    # a: fairpredictor (0.90) is above epsilon and default is no family of the two.
    assert table.loc["a", "fine-tuning method"] == "random"
    assert table.loc["a", "post-processing method"] == "thresholdopt"
    assert table.loc["a", "difference"] == pytest.approx(0.03)
    # b: the only post-processing point is above epsilon.
    assert table.loc["b", "fine-tuning accuracy"] == pytest.approx(0.60)
    assert table.loc["b", "post-processing method"] is None
    assert np.isnan(table.loc["b", "difference"])
    with pytest.raises(ValueError, match="epsilon=0.1"):
        frontier_leaders(points, 0.1)
