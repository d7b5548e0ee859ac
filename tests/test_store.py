"""The results store survives damage and sharing: unreadable files are quarantined and
recomputed, runners never compute a cell twice, workers die with their parent, and a cell's
numbers do not depend on the number of workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from posthoc.repro.study import Cell, ResultStore, Settings, cell_id, grid, run_grid

SETTINGS = Settings(max_epochs=2, method_options={"random": {"trials": 5}})


def _cells(methods=("default", "random")):
    return grid(configs=["compas-race"], seeds=[0], measures=["spd"], methods=list(methods))


def test_an_unreadable_cell_file_is_quarantined_and_recomputed(data_dir, tmp_path):
    store = ResultStore(tmp_path)
    rows = run_grid(_cells(), SETTINGS, store, progress=False, data_dir=data_dir)
    victim = tmp_path / f"{rows['cell_id'][0]}.parquet"
    victim.write_bytes(victim.read_bytes()[:40])          # truncated
    with pytest.warns(RuntimeWarning, match=rf"{victim.name} could not be read"):
        assert rows["cell_id"][0] not in store.done()
    assert (tmp_path / "quarantine" / victim.name).is_file() and not victim.exists()
    again = run_grid(_cells(), SETTINGS, store, progress=False, data_dir=data_dir)
    assert sorted(again["cell_id"]) == sorted(rows["cell_id"])
    assert store.runs()["cells_computed"].tolist() == [2, 1]


def test_an_unreadable_packed_file_is_quarantined_and_compaction_still_works(data_dir,
                                                                             tmp_path):
    store = ResultStore(tmp_path)
    run_grid(_cells(["default"]), SETTINGS, store, progress=False, data_dir=data_dir)
    (tmp_path / ResultStore.PACKED).write_bytes(b"not a parquet file")
    with pytest.warns(RuntimeWarning, match="cells.parquet could not be read"):
        assert store.compact() == 1
    assert len(store.load()) == 1 and (tmp_path / "quarantine" / "cells.parquet").is_file()


def _lock(store: ResultStore, cell: Cell, *, pid: int, since: float) -> Path:
    path = store.folder / store.LOCKS / f"{cell_id(cell, SETTINGS)}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    import socket

    path.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "since": since}))
    return path


def test_a_cell_locked_by_a_live_runner_is_left_to_it(data_dir, tmp_path):
    store = ResultStore(tmp_path)
    default, random_ = _cells()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _lock(store, random_, pid=holder.pid, since=time.time())
        with pytest.warns(RuntimeWarning, match="1 cell.* another runner"):
            rows = run_grid([default, random_], SETTINGS, store, progress=False,
                            data_dir=data_dir)
        assert rows["method"].tolist() == ["default"]
        assert store.runs().iloc[-1]["cells_held_elsewhere"] == 1
    finally:
        holder.kill()
        holder.wait()
    # Its holder is gone: the lock has expired and the cell is computed now.
    rows = run_grid([default, random_], SETTINGS, store, progress=False, data_dir=data_dir)
    assert sorted(rows["method"]) == ["default", "random"]
    assert not list((tmp_path / store.LOCKS).glob("*.lock"))


def test_an_old_lock_expires(tmp_path):
    store = ResultStore(tmp_path, stale_after_s=60)
    (cell,) = _cells(["default"])
    _lock(store, cell, pid=os.getppid(), since=time.time() - 3600)   # a live pid, but old
    assert store.claim(cell_id(cell, SETTINGS))
    assert not ResultStore(tmp_path).claim(cell_id(cell, SETTINGS))   # now held by us


def test_two_runners_on_one_store_compute_each_cell_once(data_dir, tmp_path):
    script = textwrap.dedent(f"""
        from posthoc.repro.study import ResultStore, Settings, grid, run_grid
        cells = grid(configs=["compas-race"], seeds=[0], measures=["spd", "eod", "aod"],
                     methods=["default", "random", "eqodds"])
        run_grid(cells, Settings(max_epochs=2, method_options={{"random": {{"trials": 30}}}}),
                 ResultStore({str(tmp_path)!r}), progress=False, data_dir={str(data_dir)!r})
    """)
    # Train the network first, so that both runners start computing cells at once.
    run_grid(_cells(["default"]), SETTINGS, ResultStore(tmp_path / "warm"), progress=False,
             data_dir=data_dir)
    runners = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert [r.wait(timeout=300) for r in runners] == [0, 0]
    log = ResultStore(tmp_path).runs()
    assert log["cells_computed"].sum() == 9
    assert len(ResultStore(tmp_path).load()) == 9


def test_duplicate_values_and_cells_are_collapsed(data_dir, tmp_path, monkeypatch):
    cells = grid(configs=["compas-race", "compas-race"], seeds=[0, 0], measures=["spd"],
                 methods=["default", "default"])
    assert len(cells) == 1
    rows = run_grid(cells * 3, SETTINGS, ResultStore(tmp_path), progress=False,
                    data_dir=data_dir)
    assert len(rows) == 1 and ResultStore(tmp_path).runs()["cells_computed"].tolist() == [1]


def _state(pid: int) -> str | None:
    """A process's state letter, or None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next(line.split()[1] for line in status.splitlines() if line.startswith("State:"))


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_workers_exit_when_their_parent_is_killed(data_dir, tmp_path, how):
    # SIGKILL: the workers notice their parent is gone. SIGTERM (the command line's
    # handler, as Ctrl-C): the run is logged and the cells under way are stopped at once.
    script = textwrap.dedent(f"""
        import signal, sys
        from posthoc.repro.study import ResultStore, Settings, grid, run_grid
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        cells = grid(configs=["compas-race"], seeds=[0], measures=["spd", "eod", "aod"],
                     methods=["random"])
        run_grid(cells, Settings(max_epochs=2, method_options={{"random": {{"trials": 4000}}}}),
                 ResultStore({str(tmp_path)!r}), progress=False, data_dir={str(data_dir)!r},
                 workers=2)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    children: list[int] = []
    deadline = time.time() + 120
    while time.time() < deadline and len(children) < 2:
        time.sleep(0.2)
        children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                    and _ppid(int(p.name)) == parent.pid and _is_worker(int(p.name))]
    assert len(children) >= 2, "the run should have started its workers"
    os.kill(parent.pid, getattr(signal, how))
    parent.wait(timeout=30)
    # A worker still importing when its parent dies starts watching once it has imported
    # (several seconds on a busy machine).
    deadline = time.time() + 30
    while time.time() < deadline and any(_state(pid) not in (None, "Z") for pid in children):
        time.sleep(0.2)
    assert all(_state(pid) in (None, "Z") for pid in children), "a worker outlived its parent"


def _ppid(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("PPid:")))


def _is_worker(pid: int) -> bool:
    try:
        return b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_the_numbers_do_not_depend_on_the_number_of_workers(data_dir, tmp_path):
    cells = grid(configs=["compas-race"], seeds=[0], measures=["spd", "eod"],
                 methods=["default", "random", "adversarial", "layerwise"])
    settings = Settings(max_epochs=2, method_options={
        "random": {"trials": 8}, "adversarial": {"epochs": 1, "critic_steps": 20,
                                                 "actor_steps": 20},
        "layerwise": {"calls": 12, "layers": ["head"]}})
    one = run_grid(cells, settings, ResultStore(tmp_path / "one"), progress=False,
                   data_dir=data_dir, workers=1)
    two = run_grid(cells, settings, ResultStore(tmp_path / "two"), progress=False,
                   data_dir=data_dir, workers=2)
    assert len(one) == len(two) == 8
    timing = ["runtime_s", "cpu_s", "finished_at"]
    one = one.drop(columns=timing).sort_values("cell_id").reset_index(drop=True)
    two = two.drop(columns=timing).sort_values("cell_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(one, two)
    assert set(one["torch_threads"]) == {1}
    assert json.loads(one["versions"][0])["torch"].startswith("2.")


def test_a_reused_pid_does_not_hold_a_lock_and_compactions_take_turns(tmp_path):
    import json
    import os
    import threading

    from posthoc.repro.study import ResultStore, process_start

    store = ResultStore(tmp_path)
    assert store.claim("c1")
    lock = tmp_path / "locks" / "c1.lock"
    record = json.loads(lock.read_text())
    assert record["started"] == process_start(os.getpid()) is not None
    # The same live PID, but a process that started at another time: the lock is stale.
    lock.write_text(json.dumps({**record, "started": record["started"] - 1}))
    assert store.claim("c1")
    # Two compactions at once: the second waits for the first, and no cell is lost.
    for i in range(30):
        store.write(f"c{i}", {"cell_id": f"c{i}", "value": float(i)})
    results, errors = [], []

    def pack():
        try:
            results.append(store.compact())
        except Exception as exc:  # noqa: BLE001 - the test reports any
            errors.append(exc)
    threads = [threading.Thread(target=pack) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [30, 30] and len(store.load()) == 30


def test_a_store_that_cannot_be_written_is_named_in_one_line(tmp_path, capsys):
    import pytest

    from posthoc.repro.study import ResultStore, main

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match=f"results store {blocker} is a file; expected a "
                                         "folder"):
        ResultStore(blocker).check_writable()
    with pytest.raises(SystemExit) as exit_:
        main(["--profile", "quick", "--results", str(blocker), "--methods", "default"])
    assert exit_.value.code == 2
    assert f"results store {blocker} is a file" in capsys.readouterr().err


def test_grids_of_several_settings_run_together_and_each_gets_its_rows(data_dir, tmp_path):
    """run_groups: the missing cells of every grid are computed in one run (one pool of
    workers), and each grid gets the rows of its own settings, as run_grid gives them."""
    from posthoc.repro.runner import run_groups

    store = ResultStore(tmp_path / "together")
    half = Settings(max_epochs=2, lam=0.5, method_options=SETTINGS.method_options)
    first, second = run_groups([(_cells(), SETTINGS), (_cells(["default"]), half)], store,
                               progress=False, data_dir=data_dir, workers=2)
    assert first["lam"].tolist() == [0.75, 0.75] and second["lam"].tolist() == [0.5]
    assert store.runs()["cells_computed"].tolist() == [3]
    alone = run_grid(_cells(["default"]), half, ResultStore(tmp_path / "alone"),
                     progress=False, data_dir=data_dir)
    timing = ["runtime_s", "cpu_s", "finished_at"]
    pd.testing.assert_frame_equal(second.drop(columns=timing), alone.drop(columns=timing))


def test_a_process_loads_a_configuration_once_and_each_cell_gets_its_own_copy(data_dir):
    import numpy as np

    from posthoc import load_dataset
    from posthoc.repro.cells import cell_dataset

    first = cell_dataset("compas-race", "aif360", data_dir)
    first.valid.X[:] = 0                                    # a cell that spoils its copy
    again = cell_dataset("compas-race", "aif360", data_dir)
    fresh = load_dataset("compas-race", data_dir=data_dir)
    assert again.valid.X is not first.valid.X
    for name in ("train", "valid", "test"):
        for part in ("X", "y", "a"):
            assert np.array_equal(getattr(getattr(again, name), part),
                                  getattr(getattr(fresh, name), part))
