"""posthoc.repro.claims: every claim's criterion on hand-worked tables."""

from __future__ import annotations

import pandas as pd

from posthoc.repro.claims import (ablation_lead_claim, adversarial_claim, fine_tuning_claim,
                                  layerwise_claim, network_claim, random_claim, runtime_claim,
                                  spread_claim)


def test_a_verdict_prints_its_criterion_and_evidence():
    verdict = random_claim(pd.DataFrame({"Random": [1, 2, 3]}))
    assert verdict.verdict == "SUPPORTED" and verdict.supported is True
    text = str(verdict)
    assert text.startswith("SUPPORTED") and "criterion: " in text and verdict.evidence in text


def test_fine_tuning_claim_judges_family_means_by_hand():
    families = pd.DataFrame({"fine-tuning mean": [0.10, 0.20, 0.30],
                             "post-processing mean": [0.15, 0.25, 0.28],
                             "fine-tuning wins": [True, False, False]})
    verdict = fine_tuning_claim(families)
    # Gaps +0.05, +0.05, -0.02: above in 2 of 3, mean +0.027; best beats best in 1 of 3.
    assert verdict.verdict == "SUPPORTED"
    assert "in 2 of 3 settings (mean gap +0.027)" in verdict.evidence
    assert "in 1 of 3" in verdict.evidence
    families["post-processing mean"] = [0.15, 0.18, 0.28]   # gaps +0.05, -0.02, -0.02
    assert fine_tuning_claim(families).verdict == "NOT SUPPORTED"
    assert fine_tuning_claim(families.iloc[:0]).verdict == "UNDECIDED"


def test_adversarial_claim_counts_first_places_on_the_other_networks():
    index = pd.MultiIndex.from_tuples(
        [("adult-sex", "default"), ("adult-sex", "width-64"), ("adult-sex", "depth-20"),
         ("bank-age", "default"), ("bank-age", "width-64"), ("bank-age", "depth-20")],
        names=["config", "arch"])
    ranks_ = pd.DataFrame({"Adversarial": [1, 1, 3, 2, 1, 2]}, index=index)
    for other in ("Default", "Random", "ROC", "EqOdds", "CalibEqOdds"):
        ranks_[other] = 2
    verdict = adversarial_claim(ranks_)
    # Variants: ranks 1, 3, 1, 2 -> first on 2 of 4 (not most); the paper's network: 1, 2.
    assert verdict.verdict == "NOT SUPPORTED"
    assert "best of 6 on 2 of 4 settings" in verdict.evidence
    assert "(mean rank 1.75)" in verdict.evidence and "its mean rank is 1.50" in verdict.evidence
    ranks_.iloc[2, 0] = 1
    assert adversarial_claim(ranks_).verdict == "SUPPORTED"
    only_default = ranks_[ranks_.index.get_level_values("arch") == "default"]
    assert adversarial_claim(only_default).verdict == "UNDECIDED"
    assert adversarial_claim(ranks_.drop(columns="Adversarial")).verdict == "UNDECIDED"


def test_spread_claim_by_hand():
    ratios = pd.DataFrame({"spd": [6.0, 12.0, 1.0], "eod": [9.0, 30.0, 0.8],
                           "aod": [4.0, 15.0, 1.2]},
                          index=pd.Index(["adult-sex", "bank-age", "compas-race"], name="config"))
    verdict = spread_claim(ratios)
    # Medians 6, 15, 1: at least 5 in 2 of 3 configurations; 3 of 9 ratios reach 10.
    assert verdict.verdict == "SUPPORTED"
    assert "(median 6.0)" in verdict.evidence and "(median 15.0)" in verdict.evidence
    assert "ratios of 10 or more: 3 of 9" in verdict.evidence
    ratios.loc["bank-age"] = [4.0, 4.5, 3.0]
    assert spread_claim(ratios).verdict == "NOT SUPPORTED"
    assert spread_claim(ratios.iloc[:0]).verdict == "UNDECIDED"


def test_random_claim_counts_the_best_two():
    order = pd.DataFrame({"Random": [1, 3, 2, 4], "EqOdds": [2, 1, 1, 1]})
    verdict = random_claim(order)      # best two in 2 of 4: half
    assert verdict.verdict == "SUPPORTED"
    assert "in 1 of 4 settings and is among the best two in 2" in verdict.evidence
    order["Random"] = [1, 3, 3, 4]
    assert random_claim(order).verdict == "NOT SUPPORTED"
    assert random_claim(order.drop(columns="Random")).verdict == "UNDECIDED"


def _layerwise_rows(spread_lw: float) -> pd.DataFrame:
    rows = []
    for seed in range(4):
        for method, value in (("default", 0.30 + 0.01 * seed), ("random", 0.20),
                              ("layerwise", 0.25 + spread_lw * (seed % 2))):
            rows.append({"config": "adult-sex", "arch": "default", "measure": "spd",
                         "seed": seed, "method": method, "test_objective": value})
    return pd.DataFrame(rows)


def test_layerwise_claim_needs_a_good_setting_and_a_larger_spread():
    order = pd.DataFrame({"LayerwiseOpt": [2], "Random": [1]})
    supported = layerwise_claim(_layerwise_rows(0.1), order)
    assert supported.verdict == "SUPPORTED"
    assert "beats random perturbation on 0 of 4 networks" in supported.evidence
    # Layer-wise constant over seeds: no larger spread than random's (0).
    assert layerwise_claim(_layerwise_rows(0.0), order).verdict == "NOT SUPPORTED"
    assert layerwise_claim(_layerwise_rows(0.1), order.assign(LayerwiseOpt=[3])).verdict == (
        "NOT SUPPORTED")
    one_seed = _layerwise_rows(0.1).query("seed == 0")
    assert layerwise_claim(one_seed, order).verdict == "UNDECIDED"


def test_runtime_claim_compares_fine_tuning_with_the_fast_post_processors():
    table = pd.DataFrame({("ACI (sex)", "ours"): [5.0, 0.02, 0.03, 2.0],
                          ("ACI (sex)", "paper"): [30.0, 0.015, 0.14, 156.8]},
                         index=["ROC", "EqOdds", "CalibEqOdds", "Random"])
    verdict = runtime_claim(table)
    assert verdict.verdict == "SUPPORTED" and "EqOdds and CalibEqOdds at most 0.030 s" in (
        verdict.evidence)
    table.loc["Random", ("ACI (sex)", "ours")] = 0.01
    assert runtime_claim(table).verdict == "NOT SUPPORTED"


def test_network_claim_allows_one_std_on_compas_only():
    def runs(dataset, net, other):
        return pd.DataFrame({"dataset": dataset, "model": ["network"] * 2 + ["random_forest"] * 2,
                             "seed": [0, 1, 0, 1], "accuracy": net + other,
                             "roc_auc": net + other})

    # COMPAS: network mean 0.64, std 0.028; the forest 0.65: within one std.
    compas = runs("compas", [0.62, 0.66], [0.65, 0.65])
    assert network_claim(compas).verdict == "SUPPORTED"
    # The same gap on Adult is not allowed.
    assert network_claim(runs("adult", [0.62, 0.66], [0.65, 0.65])).verdict == "NOT SUPPORTED"
    assert "compas accuracy -0.010" in network_claim(compas).evidence


def test_ablation_lead_claim():
    order = pd.DataFrame({"Random": [1, 3, 2], "Adversarial": [2, 2, 3], "ROC": [3, 1, 1]})
    verdict = ablation_lead_claim(order)     # fine-tuning ahead in 1 of 3
    assert verdict.verdict == "NOT SUPPORTED" and "in 1 of 3" in verdict.evidence
    order["ROC"] = [3, 4, 4]
    assert ablation_lead_claim(order).verdict == "SUPPORTED"
