"""The store checks itself: committed cells recomputed here, from the committed networks,
equal their committed rows."""

from __future__ import annotations

import numpy as np
import pytest

from posthoc import numerics
from posthoc.repro.network_store import fill_cache
from posthoc.repro.profiles import results_folder
from posthoc.repro.self_check import check_rows, draw
from posthoc.repro.study import ResultStore

#: The paper's results, computed from the committed networks.
COMMITTED = results_folder("paper")


@pytest.mark.skipif(numerics.in_force() != numerics.REPRODUCIBLE,
                    reason="identity across processors holds under posthoc's numerics only")
def test_committed_cells_recompute_identically_and_a_changed_row_is_caught(isolated_cache):
    fill_cache(COMMITTED / "networks", isolated_cache)
    rows = ResultStore(COMMITTED).load()
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


def test_the_build_check_recomputes_only_cells_whose_network_is_at_hand(isolated_cache):
    """Nothing is trained for the check: a method whose cells' networks are not in the cache
    is named instead, and a cell whose network is there is recomputed."""
    import shutil

    from posthoc.network_files import network_path
    from posthoc.repro.self_check import build_check, recomputable

    rows = ResultStore(COMMITTED).load()
    rows = rows[rows["method"].isin(["default", "roc"])]
    table, missing = build_check(rows, budget_s=20)
    assert table.empty and missing == ["default", "roc"]
    key = rows[rows["method"] == "default"]["network"].iloc[0]
    shutil.copy(network_path(COMMITTED / "networks", key), network_path(isolated_cache, key))
    assert set(recomputable(rows)["network"]) == {key}
    at_hand = set(rows[rows["network"] == key]["method"])
    table, missing = build_check(rows, budget_s=20)
    assert set(table["method"]) == at_hand and missing == sorted({"default", "roc"} - at_hand)
    assert table["identical"].all()
