"""posthoc.repro.claims.overall and the one-class rule in the claims: each criterion on a
hand-made table whose verdict can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from posthoc.repro.claims import (average_claim, designed_claim, each_best_claim,
                                  fine_tuning_claim, initial_conditions_claim, majority_claim,
                                  pareto_claim, reference_beaten)

SEEDS = range(4)
NOISE = np.array([0.0, 0.004, -0.004, 0.002])      # per seed, so intervals have a width


def _rows(levels: dict, **columns) -> pd.DataFrame:
    """Study rows from {(config, measure, method): objective level}; every seed's objective
    is the level plus a small per-seed wiggle. ``columns`` add per-method columns as
    {column: {method: value or per-seed list}}."""
    rows = []
    for (config, measure, method), value in levels.items():
        for seed in SEEDS:
            row = {"config": config, "arch": "default", "measure": measure, "seed": seed,
                   "method": method, "test_objective": value + NOISE[seed],
                   "test_positive_rate": 0.3}
            for column, per_method in columns.items():
                if method in per_method:
                    entry = per_method[method]
                    row[column] = entry[seed] if isinstance(entry, list) else entry
            rows.append(row)
    return pd.DataFrame(rows)


def _levels(fine: dict, post: dict, configs=("adult-sex", "bank-age"), measures=("spd",)):
    return {(c, m, method): value for c in configs for m in measures
            for method, value in {**fine, **post}.items()}


POST = {"roc": 0.20, "eqodds": 0.20, "calibeqodds": 0.20}


def test_on_average_needs_each_fine_tuning_method_ahead():
    assert average_claim(_rows(_levels(
        {"random": 0.1, "layerwise": 0.1, "adversarial": 0.1}, POST))).verdict == "supported"
    # Adversarial behind by 0.05, the two others ahead by 0.1: the average is ahead.
    verdict = average_claim(_rows(_levels(
        {"random": 0.1, "layerwise": 0.1, "adversarial": 0.25}, POST)))
    assert verdict.verdict == "partly supported"
    assert "the three together +0.050" in verdict.evidence
    assert average_claim(_rows(_levels(
        {"random": 0.3, "layerwise": 0.3, "adversarial": 0.3}, POST))).verdict == "not supported"


def test_each_best_somewhere_and_one_class_wins_do_not_count():
    levels = {}
    for config, winner in zip(("adult-sex", "bank-age", "compas-race"),
                              ("random", "layerwise", "adversarial")):
        for method in ("random", "layerwise", "adversarial", "roc"):
            levels[(config, "spd", method)] = 0.1 if method == winner else 0.2
    assert each_best_claim(_rows(levels)).verdict == "supported"
    rows = _rows(levels)
    rows.loc[(rows["config"] == "compas-race") & (rows["method"] == "adversarial"),
             "test_positive_rate"] = 0.0
    verdict = each_best_claim(rows)
    assert verdict.verdict == "partly supported"
    assert "Adversarial the best in 0 of 3" in verdict.evidence
    assert "Adversarial 1" in verdict.exclusions


def test_designed_measure_counts_configurations_where_a_baseline_loses_on_its_own():
    levels = _levels({"random": 0.1}, {"roc": 0.2}, measures=("spd",))
    levels.update(_levels({"random": 0.3}, {"eqodds": 0.2, "calibeqodds": 0.2},
                          measures=("eod",)))
    verdict = designed_claim(_rows(levels))
    assert verdict.verdict == "partly supported"
    assert "ROC on SPD: beaten in 2 of 2 configurations" in verdict.evidence
    assert "EqOdds on EOD: beaten in 0 of 2" in verdict.evidence
    for key in [k for k in levels if k[1] == "eod" and k[2] == "random"]:
        levels[key] = 0.1
    assert designed_claim(_rows(levels)).verdict == "supported"


def _tradeoff(random_acc, random_bias, eqodds_acc, eqodds_bias):
    levels = {("adult-sex", "spd", m): 0.1 for m in ("random", "roc", "eqodds")}
    wiggle = list(NOISE)
    return _rows(levels,
                 test_accuracy={"random": [random_acc + w for w in wiggle],
                                "roc": [0.80 + w for w in wiggle],
                                "eqodds": [eqodds_acc + w for w in wiggle]},
                 test_bias={"random": [random_bias + w for w in wiggle],
                            "roc": [0.10 - w for w in wiggle],
                            "eqodds": [eqodds_bias + w for w in wiggle]})


def test_pareto_needs_domination_and_no_dominator():
    # Random: higher accuracy and lower bias than ROC on every network; nothing beats it.
    verdict = pareto_claim(_tradeoff(0.85, 0.02, 0.82, 0.05))
    assert verdict.verdict == "supported", verdict.evidence
    assert "Random over ROC on ACI (sex) SPD" in verdict.evidence
    # Equalised odds has both a higher mean accuracy and a lower mean |bias| than random.
    assert pareto_claim(_tradeoff(0.85, 0.02, 0.86, 0.01)).verdict == "partly supported"
    # Random no better in accuracy than ROC: no domination.
    assert pareto_claim(_tradeoff(0.80, 0.02, 0.82, 0.05)).verdict == "not supported"


def test_the_one_class_reference_is_beaten_only_by_results_that_are_not_one_class():
    levels = {("adult-sex", "spd", "random"): 0.05, ("adult-sex", "spd", "roc"): 0.15,
              ("bank-age", "spd", "random"): 0.05, ("bank-age", "spd", "roc"): 0.15}
    reference = {"adult-sex": 0.10, "bank-age": 0.10}
    rows = _rows(levels)
    assert majority_claim(rows, reference).verdict == "supported"
    # On Bank random is one-class: the best useful result, ROC, does not beat 0.10.
    rows.loc[(rows["config"] == "bank-age") & (rows["method"] == "random"),
             "test_positive_rate"] = 0.999
    verdict = majority_claim(rows, reference)
    assert verdict.verdict == "partly supported"
    assert "in 1 of 2 settings (Random on ACI (sex) SPD)" in verdict.evidence
    beaten = reference_beaten(rows, reference).set_index("config")
    assert beaten.loc["bank-age", "best"] == "roc" and not beaten.loc["bank-age", "beaten"]
    reference = {"adult-sex": 0.01, "bank-age": 0.01}
    assert majority_claim(_rows(levels), reference).verdict == "not supported"


def test_initial_conditions_by_rank_correlation():
    configs = ("adult-sex", "bank-age", "compas-race", "compas-sex")
    levels = _levels({"random": 0.1, "layerwise": 0.1}, {"default": 0.3}, configs=configs,
                     measures=("spd", "eod"))
    start = {"default": [0.05, 0.10, 0.15, 0.20]}
    rows = _rows(levels, valid_bias=start)
    # Each method's objective rises with the network's starting |bias| (0.1 + NOISE is not
    # monotone; replace it with a rising sequence).
    rising = np.tile([0.10, 0.11, 0.12, 0.13], len(rows) // 4)
    rows["test_objective"] = np.where(rows["method"] != "default", rising,
                                      rows["test_objective"])
    verdict = initial_conditions_claim(rows)
    assert verdict.verdict == "supported", verdict.evidence
    rows["test_objective"] = np.where(rows["method"] != "default", rising[::-1],
                                      rows["test_objective"])
    assert initial_conditions_claim(rows).verdict == "not supported"


def test_a_gain_over_a_one_class_result_is_left_out_and_counted():
    levels = _levels({"random": 0.1, "layerwise": 0.1, "adversarial": 0.1}, POST)
    rows = _rows(levels)
    assert fine_tuning_claim(rows).verdict == "supported"
    rows.loc[rows["method"] == "random", "test_positive_rate"] = 1.0
    verdict = fine_tuning_claim(rows)
    assert "12 of 12 pairs are significant gains" in verdict.evidence
    assert "6 of 18 pairs rest on a one-class result" in verdict.exclusions


def test_verdicts_do_not_depend_on_the_order_of_the_rows():
    from posthoc.repro.claims import layerwise_claim, random_claim

    levels = _levels({"random": 0.1, "layerwise": 0.12, "adversarial": 0.15}, POST,
                     measures=("spd", "eod"))
    rows = _rows(levels)
    rows["test_objective"] += np.random.default_rng(1).normal(0, 0.01, len(rows))
    shuffled = rows.sample(frac=1.0, random_state=3)
    for claim in (fine_tuning_claim, average_claim, random_claim, layerwise_claim):
        assert claim(rows).row() == claim(shuffled).row(), claim.__name__
    from posthoc.repro.claims.ranking import family_duel
    from posthoc.repro.comparison import bootstrap_ci

    pd.testing.assert_frame_equal(family_duel(rows), family_duel(shuffled))
    pd.testing.assert_frame_equal(bootstrap_ci(rows), bootstrap_ci(shuffled))


def test_every_decided_verdict_carries_the_statistic_its_chart_row_shows():
    import matplotlib

    matplotlib.use("Agg")
    from posthoc.repro.claims import (layerwise_claim, random_claim, verdict_table)
    from posthoc.repro.overview_figures import plot_verdicts

    levels = _levels({"random": 0.1, "layerwise": 0.12, "adversarial": 0.15}, POST,
                     measures=("spd", "eod"))
    rows = _rows(levels, test_accuracy={m: 0.8 for m in ("random", "roc")},
                 test_bias={m: 0.05 for m in ("random", "roc")})
    rows["test_objective"] += np.random.default_rng(1).normal(0, 0.01, len(rows))
    verdicts = [fine_tuning_claim(rows), average_claim(rows), random_claim(rows),
                layerwise_claim(rows), each_best_claim(rows), designed_claim(rows)]
    for verdict in verdicts:
        assert verdict.verdict == "undecided" or (verdict.effect and np.isfinite(verdict.value)
                                                  and np.isfinite(verdict.target)), verdict
    average = verdicts[1]
    assert average.low <= average.value <= average.high      # its bootstrap interval
    claims = verdict_table(verdicts)
    fig = plot_verdicts(claims)
    assert len(fig.axes) == len(claims)
    drawn = [len(ax.lines) for ax in fig.axes]
    assert drawn[1] == 3                # interval, point and target line
