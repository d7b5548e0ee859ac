"""The store checks itself: committed cells recomputed from the committed networks, compared
with their committed rows.

The networks behind the paper's results are committed (:mod:`posthoc.repro.network_store`),
and every cell records the network it ran on (``network``, its cache key) and the numerics
it ran under (:mod:`posthoc.numerics`). So any committed cell can be computed again, here,
from the same weights, and its row compared with the committed one, column by column
(:func:`posthoc.repro.identity.differing_columns`: every column but the runtime and the
provenance). :func:`check_sample` draws cells by a fixed seed, at least one per method,
cheapest first within a budget of seconds (each cell's recorded runtime), recomputes them
and says per cell whether the row is identical, and where it is not, the largest
difference.

``python -m posthoc.repro.self_check --results results/paper`` runs it from the command
line; the reproducibility chapter shows its table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm

from .. import numerics
from ..network_files import cache_dir, network_path
from .identity import cell_of, differing_columns
from .study import ResultStore, prepare_networks, run_cell

#: The columns of :func:`check_sample`'s table.
CHECK_COLUMNS = ["method", "config", "arch", "seed", "measure", "objective", "identical",
                 "largest_difference", "differs_in", "processor", "same_processor"]


def draw(rows: pd.DataFrame, *, per_method: int = 1, seed: int = 0,
         budget_s: float | None = None) -> pd.DataFrame:
    """``per_method`` rows of each method, drawn by ``seed`` among the method's rows with a
    result; with ``budget_s``, among those whose recorded time (``cpu_s``, else
    ``runtime_s``) fits the budget shared out equally among the methods (each method's
    cheapest row when none fits)."""
    rng = np.random.default_rng(seed)
    chosen = []
    methods = sorted(rows["method"].unique())
    # The processor time where recorded: the wall time grows with other jobs.
    cost = rows["cpu_s"].fillna(rows["runtime_s"]) if "cpu_s" in rows else rows["runtime_s"]
    for method in methods:
        mine = rows[(rows["method"] == method) & cost.notna()]
        if mine.empty:
            continue
        if budget_s is not None:
            fits = mine[cost[mine.index] <= budget_s / len(methods) / per_method]
            mine = fits if len(fits) else mine.loc[[cost[mine.index].idxmin()]]
        picks = rng.permutation(mine.index)[:per_method]
        chosen.extend(sorted(picks))
    return rows.loc[chosen]


def largest_difference(stored: pd.Series, fresh: pd.Series, columns: Sequence[str]) -> float:
    """The largest absolute difference among the numeric ``columns`` of two rows (NaN when
    none of them is numeric on both)."""
    gaps = []
    for column in columns:
        a, b = stored.get(column), fresh.get(column)
        if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
            gaps.append(abs(float(a) - float(b)))
    return max(gaps) if gaps else float("nan")


def check_rows(sample: pd.DataFrame, *, data_dir=None, progress: bool = False) -> pd.DataFrame:
    """Each row of ``sample`` recomputed here and compared with itself (:data:`CHECK_COLUMNS`:
    ``processor`` is the one that computed the stored row, ``same_processor`` whether it is
    this one)."""
    lines = []
    for _, stored in tqdm(list(sample.iterrows()), desc="recomputing committed cells",
                          disable=not progress):
        cell, settings = cell_of(stored)
        prepare_networks([cell], settings, data_dir=data_dir)
        fresh = pd.Series(run_cell(cell, settings, data_dir=data_dir))
        differs = differing_columns(stored, fresh)
        lines.append({**{k: stored[k] for k in CHECK_COLUMNS[:6]}, "identical": not differs,
                      "largest_difference": (0.0 if not differs else
                                             largest_difference(stored, fresh, differs)),
                      "differs_in": ", ".join(differs),
                      # Training is not bitwise identical across processor vendors, so a
                      # method that trains (adversarial fine-tuning) can differ elsewhere.
                      "processor": stored.get("processor", ""),
                      "same_processor": stored.get("processor", "") == numerics.processor()})
    return pd.DataFrame(lines, columns=CHECK_COLUMNS)


def check_text(table: pd.DataFrame) -> str:
    """:func:`check_rows`' table in one or two sentences: how many cells are identical, and
    of those that differ, which were computed on another processor (training, adversarial
    fine-tuning's included, is not bitwise identical across processor vendors) and which on
    this one (a change of results).

    >>> table = pd.DataFrame({"method": ["roc", "adversarial"], "identical": [True, False],
    ...                       "processor": ["AMD EPYC", "AMD EPYC"],
    ...                       "same_processor": [False, False]})
    >>> check_text(table)  # doctest: +NORMALIZE_WHITESPACE
    '1 of the 2 recomputed cells are identical to their stored rows. 1 (adversarial) differ and
    were computed on another processor (AMD EPYC), where a method that trains gives other
    last bits.'
    """
    if table.empty:
        return "No stored cell could be recomputed here."
    differ = table[~table["identical"].astype(bool)]
    text = (f"{len(table) - len(differ)} of the {len(table)} recomputed cells are identical to "
            "their stored rows.")
    elsewhere = differ[~differ["same_processor"].astype(bool)]
    here = differ[differ["same_processor"].astype(bool)]
    if len(elsewhere):
        text += (f" {len(elsewhere)} ({', '.join(sorted(set(elsewhere['method'])))}) differ "
                 f"and were computed on another processor "
                 f"({', '.join(sorted(set(elsewhere['processor'])))}), where a method that "
                 "trains gives other last bits.")
    if len(here):
        text += (f" {len(here)} ({', '.join(sorted(set(here['method'])))}) differ on the "
                 "processor that computed them: the code's results have changed.")
    return text


def recomputable(rows: pd.DataFrame, cache: str | Path | None = None) -> pd.DataFrame:
    """The rows whose network (``network``, its cache key) is in the network cache (where
    ``make`` copies the committed networks), so that recomputing them trains nothing."""
    folder = cache_dir() if cache is None else Path(cache)
    if rows.empty or "network" not in rows:
        return rows.iloc[:0]
    present = rows["network"].map(lambda key: isinstance(key, str) and bool(key)
                                  and network_path(folder, key).is_file())
    return rows[present.astype(bool)]


def build_check(rows: pd.DataFrame, *, budget_s: float = 120.0, seed: int = 0,
                data_dir=None) -> tuple[pd.DataFrame, list[str]]:
    """The self-check a build runs: one cell per method among ``rows`` whose network is at
    hand (:func:`recomputable`), drawn by ``seed`` within ``budget_s`` seconds of recorded
    time, recomputed and compared (:func:`check_rows`); and the methods with no such
    cell."""
    at_hand = recomputable(rows)
    table = check_rows(draw(at_hand, seed=seed, budget_s=budget_s), data_dir=data_dir)
    missing = sorted(set(rows["method"]) - set(at_hand["method"])) if len(rows) else []
    return table, missing


def check_sample(folder: str | Path, *, per_method: int = 1, seed: int = 0,
                 budget_s: float | None = 120.0, data_dir=None,
                 progress: bool = False) -> pd.DataFrame:
    """:func:`draw` from the store in ``folder``, then :func:`check_rows`."""
    rows = ResultStore(folder).load()
    return check_rows(draw(rows, per_method=per_method, seed=seed, budget_s=budget_s),
                      data_dir=data_dir, progress=progress)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.self_check",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, required=True, help="a results store folder")
    parser.add_argument("--per-method", type=int, default=1, help="cells per method (1)")
    parser.add_argument("--seed", type=int, default=0, help="the draw's seed (0)")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds of recorded runtime to spend in all (120)")
    args = parser.parse_args(argv)
    if not args.results.is_dir():
        parser.error(f"--results {args.results} is not a folder.")
    table = check_sample(args.results, per_method=args.per_method, seed=args.seed,
                         budget_s=args.budget, progress=True)
    print(table.to_string(index=False))
    return 0 if table["identical"].all() else 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["CHECK_COLUMNS", "build_check", "check_rows", "check_text", "check_sample", "draw",
           "largest_difference", "main", "recomputable"]
