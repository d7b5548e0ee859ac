"""The store checks itself: committed cells recomputed here, from the committed networks,
equal their committed rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posthoc import numerics
from posthoc.repro.network_store import fill_cache
from posthoc.repro.self_check import check_rows, draw
from posthoc.repro.study import ResultStore

#: The staging store, computed from the committed networks (it replaces results/paper).
STAGING = Path(__file__).resolve().parents[1] / "results" / "paper-next"


@pytest.mark.skipif(numerics.in_force() != numerics.REPRODUCIBLE,
                    reason="identity across processors holds under posthoc's numerics only")
def test_committed_cells_recompute_identically_and_a_changed_row_is_caught(isolated_cache):
    fill_cache(STAGING / "networks", isolated_cache)
    rows = ResultStore(STAGING).load()
    cheap = rows[rows["method"].isin(["default", "roc", "thresholdopt"])]
    sample = draw(cheap, per_method=1, seed=20261206, budget_s=20)
    assert len(sample) == cheap["method"].nunique() >= 2
    table = check_rows(sample)
    assert table["identical"].all(), table.to_string()
    changed = sample.copy()
    changed["test_accuracy"] = np.nextafter(changed["test_accuracy"], 2.0)
    table = check_rows(changed.iloc[:1])
    assert not table["identical"].any() and table["differs_in"].iloc[0] == "test_accuracy"
    assert 0 < table["largest_difference"].iloc[0] < 1e-12
