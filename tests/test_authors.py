"""posthoc.repro.authors: the switches' effect table on hand-worked rows, and one real run."""

from __future__ import annotations

import pandas as pd
import pytest

from posthoc.repro.authors import SWITCHES, switch_effects, switch_rows


def test_switch_effects_pairs_the_two_protocols_by_network_and_measure():
    rows = pd.DataFrame({
        "switch": "random_uncopied", "method": "random", "config": "adult-sex",
        "measure": ["spd", "spd", "spd", "spd"], "seed": [0, 0, 1, 1],
        "protocol": ["paper", "authors_code"] * 2, "test_objective": [0.10, 0.13, 0.20, 0.21],
        "test_positive_rate": [0.2, 0.3, 0.2, 0.5]})
    effects = switch_effects(rows).iloc[0]
    assert effects["paper"] == pytest.approx(0.15)
    assert effects["authors_code"] == pytest.approx(0.17)
    assert effects["change"] == pytest.approx(0.02) and effects["networks"] == 2
    assert effects["authors_positive_rate"] == pytest.approx(0.4)
    assert effects["what the authors' code did"] == SWITCHES["random_uncopied"][0]


def test_switch_rows_on_compas_include_the_inverted_baselines(datasets):
    from posthoc import train_networks

    data = datasets["compas-race"]
    net = train_networks(data, seeds=[0], max_epochs=3, progress=False)[0]
    rows = pd.DataFrame(switch_rows(data, net, 0, "spd", lam=0.75, trials=4, calls=3))
    assert set(rows["switch"]) == set(SWITCHES)
    assert (rows.groupby(["switch", "method"])["protocol"].nunique() == 2).all()
    # The authors' equalised odds post-processes the true labels: nearly always right.
    eqodds = rows[(rows["switch"] == "eqodds_true_labels") & (rows["protocol"] == "authors_code")]
    assert eqodds["test_accuracy"].iloc[0] > 0.9
    adult = datasets["adult-sex"]
    net = train_networks(adult, seeds=[0], max_epochs=3, progress=False)[0]
    assert "inverted_baselines" not in {r["switch"] for r in switch_rows(
        adult, net, 0, "eod", lam=0.75, trials=4, calls=3)}


def test_the_authors_layerwise_threshold_is_the_test_splits_most_accurate(datasets):
    import numpy as np

    from posthoc import train_networks
    from posthoc.methods import scores_of
    from posthoc.repro.authors import test_split_threshold

    data = datasets["bank-age"]
    net = train_networks(data, seeds=[1], max_epochs=3, progress=False)[0]
    scores = scores_of(net, data.test.X)
    accuracies = [((scores > t) == data.test.y).mean() for t in np.linspace(0, 1, 101)]
    assert test_split_threshold(net, data) == np.linspace(0, 1, 101)[int(np.argmax(accuracies))]
