"""The networks a profile uses, as records: every study cell's network is in the plan."""

from __future__ import annotations

from posthoc.repro.network_plan import NetworkSet, chunks, network_rows, network_sets
from posthoc.repro.profiles import ARCHITECTURES, TABLE_CONFIGS
from posthoc.repro.study import profile_plan
from posthoc.training import cache_key


def test_chunks_keep_every_seed_once_in_order():
    item = NetworkSet("adult-sex", "default", tuple(range(10)), 40)
    parts = chunks(item, 4)
    assert [p.seeds for p in parts] == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9)]
    assert all(p.config == "adult-sex" and p.max_epochs == 40 for p in parts)
    assert chunks(item, None) == [item] == chunks(item, 10)


def test_every_cell_and_table_network_is_in_the_plan(datasets):
    rows = network_rows("quick")
    keys = {row["key"] for row in rows}
    for cells, settings in profile_plan("quick"):
        for cell in {(c.config, c.arch, c.seed) for c in cells if c.config in datasets}:
            config, arch, seed = cell
            data = datasets[config]
            key = cache_key(data.train, data.valid, seed=seed, max_epochs=settings.max_epochs,
                            early_stopping=True, **ARCHITECTURES[arch])
            assert key in keys, cell
    assert {row["restore"] for row in rows} == {"best", "final"}
    sets = network_sets("quick")
    assert {s.config for s in sets} >= set(TABLE_CONFIGS)
    # The paper's network before the ablation's.
    archs = [s.arch for s in sets]
    assert archs == sorted(archs, key=list(ARCHITECTURES).index)
