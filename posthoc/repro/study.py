"""The study as a grid of cells, each run written atomically to a results store, and
``python -m posthoc.repro.study``, which runs a profile's grid.

A cell is one (configuration, architecture, seed, measure, method). Running it debiases the
seed's network with the method and evaluates the result on the validation and the test
split; the outcome is one tidy row. Each finished cell is written to its own parquet file
(written to a temporary name, then renamed), so an interrupted run loses nothing finished,
and a rerun skips what is done. The parts live in their own modules, and this one gathers
them: the cell, its key and its row (:mod:`~posthoc.repro.cells`), the store
(:mod:`~posthoc.repro.store`), the runner (:mod:`~posthoc.repro.runner`) and the chapters'
grids (:mod:`~posthoc.repro.grids`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from .cells import (VERSIONED, Cell, Settings, cell_id, cell_key, code_commit, grid,
                    identifier_of, prepare_networks, run_cell, versions_json)
from .grids import (PAPER_STUDY, STUDY_CHAPTERS, beyond_grids, chapter_grid, chapter_grids,
                    chapter_rows, merged_groups, profile_grid, profile_plan)
from .parameters import chapter_defaults, resolve
from .profiles import PROFILES, results_folder
from .runner import run_cell_task, run_grid, study_rows
from .store import ResultStore, dirty_cells, process_start, save_csv, stored_table


_ALSO_NARROWED = {"methods": ("frontier_methods",), "configs": ("multigroup_configs",)}


def _narrowed(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Each chosen chapter's default settings, narrowed to the command line's selection
    (values are checked against the main comparison's, the widest); chapters the selection
    leaves empty are dropped."""
    selection = {name: getattr(args, name) for name in ("configs", "measures", "methods",
                                                         "archs", "seeds")
                 if getattr(args, name) is not None}
    resolve("main_comparison", args.profile,
            **{k: v for k, v in selection.items() if k != "archs"})
    if "archs" in selection:
        resolve("ablations", args.profile, archs=selection["archs"])
    chosen = {}
    for chapter in args.chapters:
        settings = chapter_defaults(chapter, args.profile)
        if chapter == "ablations" and "spd" not in selection.get("measures", ["spd"]):
            continue
        for name, values in selection.items():
            for key in (name, *_ALSO_NARROWED.get(name, ())):
                if key in settings:
                    settings[key] = [v for v in settings[key] if v in values]
        if all(settings[name] for name in selection if name in settings):
            chosen[chapter] = settings
    return chosen


def main(argv: list[str] | None = None) -> int:
    """``python -m posthoc.repro.study``: run a profile's grid into its results store."""
    parser = argparse.ArgumentParser(
        prog="python -m posthoc.repro.study",
        description="Run a profile's study grid (the main comparison and the ablation) into "
                    "the results store the chapters read.")
    parser.add_argument("--profile", default="quick", choices=list(PROFILES))
    parser.add_argument("--results", default=None,
                        help="results store folder (default: the one the chapters read, "
                             "results/<profile> or $POSTHOC_RESULTS/<profile>)")
    parser.add_argument("--chapters", nargs="+", choices=list(STUDY_CHAPTERS),
                        default=list(STUDY_CHAPTERS), help="which chapters' cells to run")
    for name in ("configs", "measures", "methods", "archs"):
        parser.add_argument(f"--{name}", nargs="+", help=f"only these {name}")
    parser.add_argument("--seeds", nargs="+", type=int, help="only these seeds")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="local processes (default: the number of cores)")
    parser.add_argument("--scheduler", default=None,
                        help="address of a Dask distributed scheduler to run the cells on")
    parser.add_argument("--data-dir", default=None, help="raw data folder ($POSTHOC_DATA)")
    parser.add_argument("--compact", action="store_true",
                        help="afterwards, pack the store's finished cells into one file")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be a positive integer")
    try:
        plan = merged_groups([group for chapter, settings in _narrowed(args).items()
                        for group in chapter_grids(chapter, args.profile, settings)])
    except ValueError as exc:
        parser.error(str(exc))
    plan = [(cells, run) for cells, run in plan if cells]
    if not plan:
        parser.error("the selection leaves no cell to run")
    # A SIGTERM ends the run as Ctrl-C does: finished cells stay, the run is logged.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    folder = Path(args.results) if args.results else results_folder(args.profile)
    store = ResultStore(folder)
    try:
        store.check_writable()
    except ValueError as exc:
        parser.error(str(exc))
    start = time.perf_counter()
    finished = total = 0
    for cells, settings in plan:
        rows = run_grid(cells, settings, store, workers=args.workers,
                        scheduler=args.scheduler, data_dir=args.data_dir)
        finished, total = finished + len(rows), total + len(cells)
    print(f"{finished} of {total} cells in {folder} "
          f"({time.perf_counter() - start:.1f} s this run)", file=sys.stderr)
    if args.compact:
        print(f"{store.compact()} cells packed into {store.folder / store.PACKED}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this script's copy: what it submits to a Dask
    # cluster must be pickled by reference to posthoc.repro.study, which workers import,
    # not to __main__, which they cannot.
    from posthoc.repro.study import main as imported_main
    raise SystemExit(imported_main())


__all__ = ["Cell", "PAPER_STUDY", "ResultStore", "STUDY_CHAPTERS", "Settings", "VERSIONED",
           "beyond_grids", "cell_id", "cell_key", "chapter_grid", "chapter_grids",
           "chapter_rows", "code_commit", "dirty_cells", "grid", "identifier_of", "main",
           "merged_groups", "prepare_networks", "process_start", "profile_grid",
           "profile_plan", "run_cell", "run_cell_task", "run_grid", "save_csv",
           "stored_table", "study_rows", "versions_json"]
