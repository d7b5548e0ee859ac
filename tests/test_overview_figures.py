"""The reproducibility chapter's pictures: the forest plot of every reported number and the
standardised differences it draws, against a hand computation."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from posthoc.repro.overview_figures import FOREST_LIMIT, cause_label, plot_forest  # noqa: E402
from posthoc.repro.reported import against_paper, standardised  # noqa: E402


def test_the_standardised_difference_and_its_interval_by_hand():
    line = against_paper(0.86, 0.01, 0.85, 0.002)
    z = standardised(line, 10)
    assert z["z"] == pytest.approx(5.0)
    half = 2.2621571627409915 * 0.01 / np.sqrt(10) / 0.002     # t(0.975, 9)
    assert z["z_high"] - z["z"] == pytest.approx(half)
    printed_zero = standardised(against_paper(0.8515, None, 0.852, 0.0), 1)
    assert printed_zero["z"] == pytest.approx(-1.0) and printed_zero["z_low"] == \
        printed_zero["z"]


def _numbers():
    rows = []
    for i, (z, cause) in enumerate([(0.5, ""), (-3.0, "the protocol: the authors' code"),
                                    (25.0, "seed 8's network reached only accuracy 0.5")]):
        rows.append({"table": "table1", "config": "adult-sex", "quantity": f"q{i}",
                     "model": "network", "protocol": "paper", "z": z, "z_low": z - 1,
                     "z_high": z + 1, "within_2_sigma": abs(z) <= 2, "cause": cause,
                     "kind": "mean"})
    return pd.DataFrame(rows)


def test_the_forest_plot_draws_one_row_per_number_and_labels_the_misses():
    fig = plot_forest(_numbers())
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Table 1, the paper's setup" and len(labels) == 4
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["the protocol", "+25σ seed 8's network"]
    points = [line for line in ax.lines if line.get_marker() not in ("None", None, "")]
    assert max(abs(p.get_xdata()[0]) for p in points) == FOREST_LIMIT   # drawn at the edge
    assert cause_label("") == "no cause measured"
