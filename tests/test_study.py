"""posthoc.repro.study: tidy rows, atomic store, resume, and a run killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import posthoc.repro.runner as runner
from posthoc.repro.store import read_parquet
from posthoc.repro.study import (Cell, ResultStore, Settings, cell_id, grid, identifier_of,
                                 run_grid)

SETTINGS = Settings(max_epochs=2, method_options={"random": {"trials": 5}})


def test_cells_check_their_fields():
    with pytest.raises(ValueError, match="method 'magic'"):
        Cell("compas-race", "default", 0, "spd", "magic")
    with pytest.raises(ValueError, match="arch 'tiny'"):
        Cell("compas-race", "tiny", 0, "spd", "random")
    cells = grid(configs=["compas-race"], seeds=[0, 1], measures=["spd", "eod"],
                 methods=["default"])
    assert len(cells) == 4 and len({cell_id(c, SETTINGS) for c in cells}) == 4
    assert cell_id(cells[0], SETTINGS) != cell_id(cells[0], Settings(max_epochs=3))


def test_run_grid_writes_tidy_rows_and_skips_what_is_done(data_dir, tmp_path, monkeypatch):
    cells = grid(configs=["compas-race"], seeds=[0], measures=["spd"],
                 methods=["default", "random"])
    store = ResultStore(tmp_path / "results")
    rows = run_grid(cells, SETTINGS, store, progress=False, data_dir=data_dir)
    assert len(rows) == 2 and set(rows["method"]) == {"default", "random"}
    for column in ("config", "arch", "seed", "measure", "lam", "threshold", "runtime_s",
                   "valid_objective", "test_bias", "test_accuracy", "test_bias_aod",
                   "version", "commit", "cell_id"):
        assert column in rows.columns
    random_row = rows[rows["method"] == "random"].iloc[0]
    default_row = rows[rows["method"] == "default"].iloc[0]
    assert random_row["valid_objective"] <= default_row["valid_objective"]

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished cell was run again")

    monkeypatch.setattr(runner, "run_cell", must_not_run)
    again = run_grid(cells, SETTINGS, store, progress=False, data_dir=data_dir)
    assert sorted(again["cell_id"]) == sorted(rows["cell_id"])
    # The first run is logged with its wall time; the second computed nothing, so no record.
    log = store.runs()
    assert len(log) == 1 and log.loc[0, "cells_computed"] == 2
    assert log.loc[0, "seconds"] > 0 and log.loc[0, "cells_in_grid"] == 2


def test_compacting_the_store_keeps_every_cell_once(tmp_path):
    import pandas as pd

    store = ResultStore(tmp_path)
    for i in range(5):
        store.write(f"c{i}", {"cell_id": f"c{i}", "value": float(i), "method": "random"})
    before = store.load().sort_values("cell_id").reset_index(drop=True)
    assert store.compact() == 5
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == ["cells.parquet"]
    assert store.done() == {f"c{i}" for i in range(5)}
    pd.testing.assert_frame_equal(store.load(), before)
    # A cell finished after compaction sits beside the packed file; both are read.
    store.write("c9", {"cell_id": "c9", "value": 9.0, "method": "roc"})
    assert store.done() == {"c0", "c1", "c2", "c3", "c4", "c9"}
    # A compaction stopped before removing the one-cell files reads each cell once.
    packed = tmp_path / "cells.parquet"
    pd.concat([read_parquet(packed), pd.read_parquet(tmp_path / "c9.parquet")]
              ).to_parquet(packed, index=False)
    rows = store.load()
    assert len(rows) == 6 and rows["cell_id"].is_unique
    assert store.compact() == 6 and len(store.load()) == 6
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == ["cells.parquet"]


def test_stored_tables_are_computed_once_per_parameters(tmp_path):
    import pandas as pd

    from posthoc.repro.study import stored_table

    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return pd.DataFrame({"x": [value, value + 1.5], "v": [[1.0, 2.0], [3.0]]})
        return run

    first = stored_table("quick", "demo", {"a": 1}, compute(1), results=tmp_path)
    again = stored_table("quick", "demo", {"a": 1}, compute(99), results=tmp_path)
    other = stored_table("quick", "demo", {"a": 2}, compute(2), results=tmp_path)
    assert calls == [1, 2]
    assert again["x"].tolist() == first["x"].tolist() == [1, 2.5]
    assert other["x"].tolist() == [2, 3.5] and list(again["v"][0]) == [1.0, 2.0]
    assert len(list((tmp_path / "tables").glob("demo-*.parquet"))) == 2
    assert not list((tmp_path / "tables").glob("*.tmp"))


def test_a_killed_run_loses_nothing_finished_and_duplicates_nothing(data_dir, tmp_path):
    folder = tmp_path / "results"
    script = textwrap.dedent(f"""
        from posthoc.repro.study import ResultStore, Settings, grid, run_grid
        cells = grid(configs=["compas-race"], seeds=[0], measures=["spd", "eod", "aod"],
                     methods=["default", "random", "eqodds", "calibeqodds"])
        settings = Settings(max_epochs=2, method_options={{"random": {{"trials": 60}}}})
        run_grid(cells, settings, ResultStore({str(folder)!r}), progress=False,
                 data_dir={str(data_dir)!r})
    """)
    process = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    deadline = time.time() + 240
    while time.time() < deadline and not list(folder.glob("*.parquet")):
        if process.poll() is not None:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = {p.stem for p in folder.glob("*.parquet")}
    assert 1 <= len(finished) < 12, "the run should be killed part-way"
    cells = grid(configs=["compas-race"], seeds=[0], measures=["spd", "eod", "aod"],
                 methods=["default", "random", "eqodds", "calibeqodds"])
    settings = Settings(max_epochs=2, method_options={"random": {"trials": 60}})
    before = {p.stem: p.stat().st_mtime_ns for p in folder.glob("*.parquet")}
    rows = run_grid(cells, settings, ResultStore(folder), progress=False, data_dir=data_dir)
    assert len(rows) == 12 and rows["cell_id"].is_unique
    # The cells finished before the kill were kept as they were, not run again.
    assert all(folder.joinpath(f"{name}.parquet").stat().st_mtime_ns == mtime
               for name, mtime in before.items())


def _small_grid():
    return grid(configs=["compas-race"], seeds=[0], measures=["spd", "eod"],
                methods=["default", "eqodds"])


def test_local_processes_give_the_same_rows(data_dir, tmp_path):
    serial = run_grid(_small_grid(), SETTINGS, ResultStore(tmp_path / "serial"),
                      progress=False, data_dir=data_dir)
    parallel = run_grid(_small_grid(), SETTINGS, ResultStore(tmp_path / "parallel"),
                        progress=False, data_dir=data_dir, workers=2)
    columns = ["cell_id", "valid_objective", "test_objective", "test_bias", "threshold"]
    assert serial.sort_values("cell_id")[columns].reset_index(drop=True).equals(
        parallel.sort_values("cell_id")[columns].reset_index(drop=True))


def test_a_dask_cluster_runs_the_cells(data_dir, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        rows = run_grid(_small_grid(), SETTINGS, ResultStore(tmp_path / "dask"),
                        progress=False, data_dir=data_dir, scheduler=cluster.scheduler_address)
    assert len(rows) == 4 and rows["cell_id"].is_unique
    reference = run_grid(_small_grid(), SETTINGS, ResultStore(tmp_path / "dask"),
                         progress=False, data_dir=data_dir)
    assert reference.equals(rows)


def test_profiles_and_the_command_line(data_dir, tmp_path, capsys):
    from posthoc.repro.study import main, profile_grid

    paper, settings = profile_grid("paper")
    # Main comparison 4 x 3 x 7 x 10, ablation 2 configs x 3 archs x 6 methods x 10.
    assert len(paper) == 840 + 360 and settings.max_epochs == 1001
    assert not any(c.method == "layerwise" and c.arch != "default" for c in paper)
    with pytest.raises(SystemExit):
        main(["--profile", "quick", "--methods", "magic"])
    assert "methods=['magic']" in capsys.readouterr().err
    assert main(["--profile", "quick", "--configs", "compas-sex", "--measures", "aod",
                 "--methods", "default", "calibeqodds", "--workers", "1",
                 "--results", str(tmp_path / "cli"), "--data-dir", str(data_dir)]) == 0
    assert len(ResultStore(tmp_path / "cli").done()) == 2
    assert "2 of 2 cells" in capsys.readouterr().err


@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_the_chapters_defaults_make_exactly_the_study_grid(profile):
    from posthoc.repro.parameters import resolve
    from posthoc.repro.study import (PAPER_STUDY, STUDY_CHAPTERS, chapter_grid, chapter_grids,
                                     profile_grid, profile_plan)

    cells, settings = profile_grid(profile)
    from_chapters = set()
    for chapter in PAPER_STUDY:
        # What the chapter's parameters cell resolves to when every parameter is None.
        chapter_cells, chapter_settings = chapter_grid(chapter, profile,
                                                       resolve(chapter, profile))
        assert chapter_settings == settings
        from_chapters |= set(chapter_cells)
    assert from_chapters == set(cells) and len(cells) == len(set(cells))
    # Every study chapter, "Beyond the paper" included: the same cells and settings.
    plan = {cell_id(c, s) for cells_, s in profile_plan(profile) for c in cells_}
    chapters = {cell_id(c, s) for chapter in STUDY_CHAPTERS
                for cells_, s in chapter_grids(chapter, profile, resolve(chapter, profile))
                for c in cells_}
    assert plan == chapters


def test_beyond_the_paper_runs_every_method_under_both_objectives_and_sweeps_epsilon():
    from posthoc.repro.study import beyond_grids, chapter_grid

    groups = beyond_grids("quick")
    by_objective = {}
    for cells, settings in groups:
        by_objective.setdefault((settings.objective, settings.epsilon), set()).update(cells)
    assert set(by_objective) == {("weighted", None), ("constrained", 0.05),
                                 ("constrained", 0.01), ("constrained", 0.02),
                                 ("constrained", 0.1), ("certified", 0.05)}
    weighted = by_objective[("weighted", None)]
    assert {c.method for c in weighted} >= {"thresholdopt", "fairpredictor", "random"}
    # The weighted cells of the paper's methods are the main comparison's, by name too.
    main, main_settings = chapter_grid("main_comparison", "quick")
    assert [s for _, s in groups if s.objective == "weighted"] == [main_settings]
    assert {c for c in weighted if c.config in ("adult-sex", "compas-race")
            and c.method in {m.method for m in main}} <= set(main)
    several = {c.config for c in by_objective[("certified", 0.05)]}
    assert several == {"adult-sex-race", "compas-race-all"}


#: What brings a profile's committed results back to today's grid after a change of code.
RECOMPUTE = {
    "quick": "run `make quick-results`",
    "paper": "re-key them with `python -m posthoc.repro.identity` if the change leaves every "
             "number alone, or recompute them into a staging store (`python -m "
             "posthoc.repro.study --profile paper --results results/paper-next`) that "
             "replaces results/paper whole"}


@pytest.mark.parametrize("profile", RECOMPUTE)
def test_the_committed_results_are_todays_grid(profile):
    # A profile's results are committed packed (cells.parquet), so that its book and make
    # test read its cells instead of computing them: the store holds every cell of today's
    # grid under today's code, and nothing else, so it never mixes cells of two codes or two
    # sets of networks.
    from posthoc.repro.profiles import results_folder
    from posthoc.repro.study import profile_plan

    rows = read_parquet(results_folder(profile) / ResultStore.PACKED)
    wanted = {cell_id(cell, settings) for cells, settings in profile_plan(profile)
              for cell in cells}
    missing, extra = wanted - set(rows["cell_id"]), set(rows["cell_id"]) - wanted
    assert not missing and not extra, (
        f"results/{profile} is not today's {profile} grid ({len(missing)} of {len(wanted)} "
        f"cells missing, {len(extra)} of other code or settings): {RECOMPUTE[profile]}")
    assert rows["cell_id"].is_unique
    # One code per method, and every cell named by its key and its method's code.
    assert (rows.groupby("method")["code"].nunique() == 1).all()
    assert (rows["cell_id"] == [identifier_of(k, c) for k, c in zip(rows["cell_key"],
                                                                    rows["code"])]).all()


@pytest.mark.parametrize("profile", RECOMPUTE)
def test_adversarial_fine_tuning_s_committed_cells_come_from_one_processor(profile):
    # Adversarial fine-tuning trains, and training is not bitwise identical across processor
    # vendors (README, *Training is not identical across processor vendors*): with its cells
    # from one processor, one machine of that vendor recomputes every one of them.
    from posthoc.repro.profiles import results_folder

    rows = read_parquet(results_folder(profile) / ResultStore.PACKED,
                        columns=["method", "processor"])
    processors = rows.loc[rows["method"] == "adversarial", "processor"].value_counts()
    assert len(processors) == 1, (
        f"results/{profile}'s adversarial cells come from {len(processors)} processors "
        f"({processors.to_dict()}); recompute the others' on one of them")


def test_a_budget_equal_to_the_default_leaves_the_cell_names_alone():
    from posthoc.repro.parameters import resolve
    from posthoc.repro.study import chapter_grid

    _, default = chapter_grid("main_comparison", "paper")
    _, explicit = chapter_grid("main_comparison", "paper",
                               resolve("main_comparison", "paper", trials=201, calls=100))
    _, other = chapter_grid("main_comparison", "paper", resolve("main_comparison", "paper",
                                                                trials=50))
    assert default == explicit and default.method_options == {}
    assert other.method_options == {"random": {"trials": 50}}


def test_a_method_that_cannot_run_or_certify_leaves_a_row_saying_why(data_dir, tmp_path):
    store = ResultStore(tmp_path / "results")
    cannot = grid(configs=["compas-race-all"], seeds=[0], measures=["spd"],
                  methods=["thresholdopt"])
    rows = run_grid(cannot, SETTINGS, store, progress=False, data_dir=data_dir)
    row = rows.iloc[0]
    assert "needs both labels in every group" in row["error"]
    assert row["certified"] is None and rows["test_objective"].isna().all()
    strict = Settings(max_epochs=2, objective="certified", epsilon=0.001)
    uncertified = grid(configs=["adult-sex"], seeds=[0], measures=["spd"], methods=["default"])
    row = run_grid(uncertified, strict, store, progress=False, data_dir=data_dir).iloc[0]
    assert row["certified"] == False and "no candidate" in row["error"]  # noqa: E712
    assert row["objective"] == "certified" and row["epsilon"] == 0.001
    with pytest.raises(ValueError, match="epsilon=0.05 only applies"):
        Settings(epsilon=0.05)
