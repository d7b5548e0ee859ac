"""Running a grid of study cells into a results store: one after another, in local worker
processes, or on a Dask cluster, each finished cell written as it comes back."""

from __future__ import annotations

import os
import time
import warnings
from concurrent.futures import as_completed
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd
from tqdm import tqdm

from ..validation import check_choice, check_positive_int
from ..workers import process_pool
from .cells import Cell, Settings, cell_id, cell_key, code_commit, prepare_networks, run_cell
from .fingerprint import StaleCode, stale_cells
from .profiles import results_folder
from .store import ResultStore

Task = tuple[Cell, str, Settings]   # a cell, its id and its settings


def _init_worker() -> None:
    code_commit()                                 # the code this worker imported


def run_cell_task(cell: Cell, settings: Settings, identifier: str,
                  data_dir: str | Path | None) -> tuple[str, dict]:
    """:func:`~posthoc.repro.cells.run_cell`, returning the cell's id with its row (what a
    worker process or a cluster sends back)."""
    return identifier, run_cell(cell, settings, data_dir=data_dir)


Group = tuple[Sequence[Cell], Settings]


def run_grid(cells: Sequence[Cell], settings: Settings, store: ResultStore, *,
             progress: bool = True, data_dir: str | Path | None = None, workers: int = 1,
             scheduler: str | None = None, stale: str = "recompute") -> pd.DataFrame:
    """Run every cell not yet in ``store``, writing each as it finishes; return all rows of
    the grid (finished before or now).

    Cells run one after another (``workers=1``), in ``workers`` local processes, or on the
    Dask distributed cluster at ``scheduler`` (an address such as ``tcp://host:8786``).
    Either way the results come back here and are written one by one, atomically. A cell
    stored from other code (the same :func:`~posthoc.repro.cells.cell_key`, another
    fingerprint) is computed again with this code (``stale="recompute"``), or stops the run
    with :class:`~posthoc.repro.fingerprint.StaleCode` (``stale="refuse"``).
    """
    return run_groups([(cells, settings)], store, progress=progress, data_dir=data_dir,
                      workers=workers, scheduler=scheduler, stale=stale)[0]


def run_groups(groups: Sequence[Group], store: ResultStore, *, progress: bool = True,
               data_dir: str | Path | None = None, workers: int = 1,
               scheduler: str | None = None, stale: str = "recompute") -> list[pd.DataFrame]:
    """:func:`run_grid` of several grids, each with its settings, in one run: the missing
    cells of all of them share one pool of ``workers`` processes (a pool started once, whose
    processes keep what they loaded from one cell to the next). Returns each grid's rows."""
    check_positive_int("workers", workers)
    check_choice("stale", stale, ("recompute", "refuse"))
    code_commit()                                 # the code this process imported
    planned = []                                  # (identifiers, keys) per group
    pending: list[Task] = []
    done, seen = store.done(), set()
    for cells, settings in groups:
        cells = list(dict.fromkeys(cells))        # a cell given twice is computed once
        identifiers = [cell_id(cell, settings) for cell in cells]
        keys = dict(zip(identifiers, (cell_key(cell, settings) for cell in cells)))
        planned.append((identifiers, keys))
        waiting = [(cell, i, settings) for cell, i in zip(cells, identifiers) if i not in done]
        if waiting and stale == "refuse":
            old = stale_cells(store.load(), {keys[i]: i for _, i, _ in waiting})
            if len(old):
                raise StaleCode(store.folder, old)
        for task in waiting:
            if task[1] not in seen:
                seen.add(task[1])
                pending.append(task)
    if pending:
        store.check_writable()
    keys = {i: key for _, group_keys in planned for i, key in group_keys.items()}
    todo, held_elsewhere = _claimed(pending, store)
    started, start_clock = time.strftime("%Y-%m-%dT%H:%M:%S"), time.perf_counter()
    computed = _compute(todo, store, keys, progress=progress, data_dir=data_dir,
                        workers=workers, scheduler=scheduler)
    if todo:
        store.log_run({"started": started, "ended": time.strftime("%Y-%m-%dT%H:%M:%S"),
                       "seconds": round(time.perf_counter() - start_clock, 1),
                       "cells_computed": computed, "cells_in_grid": len(keys),
                       "cells_held_elsewhere": held_elsewhere, "workers": workers,
                       "scheduler": scheduler, "cores": os.cpu_count(),
                       "commit": code_commit()})
    rows = store.load()
    if rows.empty:
        return [rows for _ in planned]
    return [rows[rows["cell_id"].isin(identifiers)].reset_index(drop=True)
            for identifiers, _ in planned]


def _claimed(pending: list[Task], store: ResultStore) -> tuple[list[Task], int]:
    """The pending cells this runner holds the lock of, and how many another runner holds.
    Another runner on the same store may hold some cells, or have finished them since the
    store was read: those are left to it."""
    todo = []
    for task in pending:
        identifier = task[1]
        if not store.claim(identifier):
            continue
        if store.finished(identifier):
            store.release(identifier)
            continue
        todo.append(task)
    held_elsewhere = len([i for _, i, _ in pending if not store.finished(i)]) - len(todo)
    if held_elsewhere > 0:
        warnings.warn(f"{held_elsewhere} cell(s) of this grid are being computed by another "
                      f"runner on {store.folder}; they are left to it and missing from the "
                      "rows returned now.", RuntimeWarning, stacklevel=3)
    return todo, held_elsewhere


def _compute(todo: list[Task], store: ResultStore, keys: dict[str, str], *, progress: bool,
             data_dir: str | Path | None, workers: int, scheduler: str | None) -> int:
    """Compute the claimed cells, writing and releasing each as it finishes (and releasing
    the rest if the run stops); return how many were computed."""
    if not todo:
        return 0
    distinct: list[Settings] = []                # Settings hold dicts: not hashable
    for _, _, settings in todo:
        if settings not in distinct:
            distinct.append(settings)
    for settings in distinct:
        prepare_networks([cell for cell, _, s in todo if s == settings], settings,
                         progress=progress, data_dir=data_dir)
    bar = tqdm(total=len(todo), desc="study cells", unit="cell", disable=not progress)
    computed = []

    def finish(identifier: str, row: dict) -> None:
        row["cell_id"], row["cell_key"] = identifier, keys[identifier]
        store.write(identifier, row)
        store.release(identifier)
        computed.append(identifier)
        bar.update(1)

    try:
        if scheduler is not None:
            _on_cluster(todo, finish, scheduler=scheduler, data_dir=data_dir)
        elif workers > 1 and len(todo) > 1:
            with process_pool(min(workers, len(todo)), initializer=_init_worker) as pool:
                futures = [pool.submit(run_cell_task, cell, settings, identifier, data_dir)
                           for cell, identifier, settings in todo]
                for future in as_completed(futures):
                    finish(*future.result())
        else:
            for cell, identifier, settings in todo:
                finish(identifier, run_cell(cell, settings, data_dir=data_dir))
    finally:
        bar.close()
        for _, identifier, _ in todo:
            store.release(identifier)             # the ones not finished
    return len(computed)


def _on_cluster(todo: list[Task], finish: Callable[[str, dict], None], *, scheduler: str,
                data_dir: str | Path | None) -> None:
    # An optional dependency (the study extra), needed only for a cluster.
    from distributed import Client, as_completed as completed_on_cluster

    with Client(scheduler) as client:
        futures = [client.submit(run_cell_task, cell, settings, identifier, data_dir,
                                 key=f"posthoc-cell-{identifier}", pure=False)
                   for cell, identifier, settings in todo]
        for future in completed_on_cluster(futures):
            finish(*future.result())


def study_rows(profile: str, cells: Sequence[Cell], settings: Settings, *,
               results: str | Path | None = None, workers: int | None = None,
               progress: bool = False, data_dir: str | Path | None = None) -> pd.DataFrame:
    """The tidy rows of ``cells``, read from the profile's results store (default:
    :func:`posthoc.repro.profiles.results_folder`) and completed by running only the
    missing cells, in ``workers`` processes (default, or 0: one per core)."""
    return study_groups(profile, [(cells, settings)], results=results, workers=workers,
                        progress=progress, data_dir=data_dir)[0]


def study_groups(profile: str, groups: Sequence[Group], *, results: str | Path | None = None,
                 workers: int | None = None, progress: bool = False,
                 data_dir: str | Path | None = None) -> list[pd.DataFrame]:
    """:func:`study_rows` of several grids with their settings, their missing cells run
    together (:func:`run_groups`)."""
    store = ResultStore(results_folder(profile) if results is None else results)
    return run_groups(groups, store, progress=progress, data_dir=data_dir,
                      workers=workers or os.cpu_count() or 1,
                      stale="refuse" if profile == "paper" else "recompute")


__all__ = ["run_cell_task", "run_grid", "run_groups", "study_groups", "study_rows"]
