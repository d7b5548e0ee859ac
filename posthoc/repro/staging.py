"""How far a staging store is from holding a profile's whole study.

The paper's results are recomputed from the committed networks into a staging store
(``results/paper-next``) that the book does not read, and that store replaces
``results/paper`` in one commit once it holds everything. This module says what it holds:
per study chapter and method, how many of the profile's cells it has under this checkout's
code (a cell of other code is not counted: the identity check re-keys it or it is computed
again), and which of the chapters' tables (Tables 1 and 3, Appendix A, the authors'-code
switches) it has::

    python -m posthoc.repro.staging --results results/paper-next

prints both and exits with status 0 when nothing is missing, 1 otherwise. When the store
has replaced ``results/paper`` and the book has re-derived ``claims.csv`` and
``comparison.csv``, :func:`moved` lists every verdict and number that moved::

    python -m posthoc.repro.staging --moved OLD.csv NEW.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .cells import cell_id
from .grids import STUDY_CHAPTERS, chapter_grids
from .profiles import PROFILES
from .store import ResultStore

#: The chapters' tables that are not study cells (:func:`posthoc.repro.store.stored_table`).
TABLES = ("table1_rows", "table3_runs", "appendix_a", "authors_switches")


def cell_status(results: str | Path, profile: str = "paper") -> pd.DataFrame:
    """Per study chapter and method: the profile's cells, how many the store at ``results``
    holds under this checkout's code, and how many are missing. A cell that two chapters
    share counts in both."""
    done = ResultStore(results).done()
    rows = [{"chapter": chapter, "method": cell.method,
             "done": cell_id(cell, settings) in done}
            for chapter in STUDY_CHAPTERS
            for cells, settings in chapter_grids(chapter, profile) for cell in cells]
    table = (pd.DataFrame(rows).groupby(["chapter", "method"], sort=False)["done"]
             .agg(cells="size", done="sum").reset_index())
    table["missing"] = table["cells"] - table["done"]
    return table


def table_status(results: str | Path) -> pd.DataFrame:
    """Which of :data:`TABLES` the store at ``results`` holds (its ``tables/`` folder)."""
    folder = Path(results) / "tables"
    return pd.DataFrame([{"table": name,
                          "stored": any(folder.glob(f"{name}-*.parquet"))} for name in TABLES])


def complete(results: str | Path, profile: str = "paper") -> bool:
    """Whether the store at ``results`` holds every cell and table of ``profile``."""
    return (not cell_status(results, profile)["missing"].any()
            and bool(table_status(results)["stored"].all()))


#: The rows and values of ``claims.csv`` and ``comparison.csv`` that :func:`moved` compares.
KEYS = {"claims": (["claim", "where"], ["verdict", "value"]),
        "comparison": (["table", "config", "quantity", "model", "protocol", "kind"],
                       ["ours", "within_2_sigma"])}


def moved(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Every row of ``claims.csv`` or ``comparison.csv`` (told apart by their columns) whose
    verdict or number differs between ``old`` and ``new``, or that only one of them has:
    the row's key, then each compared value before and after."""
    kind = "claims" if "verdict" in old.columns else "comparison"
    key, values = KEYS[kind]
    both = old[key + values].merge(new[key + values], on=key, how="outer",
                                   suffixes=(" before", " after"), indicator=True)
    changed = both["_merge"] != "both"
    for name in values:
        before, after = both[f"{name} before"], both[f"{name} after"]
        changed |= ~((before == after) | (before.isna() & after.isna()))
    return both[changed].drop(columns="_merge").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.staging",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", help="the staging store's folder")
    parser.add_argument("--profile", default="paper", choices=list(PROFILES))
    parser.add_argument("--moved", nargs=2, metavar=("OLD", "NEW"),
                        help="instead: the verdicts or numbers that differ between two "
                             "claims.csv or two comparison.csv")
    args = parser.parse_args(argv)
    if args.moved:
        old, new = (pd.read_csv(path) for path in args.moved)
        table = moved(old, new)
        print(table.to_string(index=False) if len(table) else "nothing moved")
        return 0
    if not args.results:
        parser.error("--results is required (or --moved OLD NEW)")
    cells = cell_status(args.results, args.profile)
    tables = table_status(args.results)
    print(cells.to_string(index=False))
    print(f"cells: {int(cells['done'].sum())} of {int(cells['cells'].sum())} held, "
          f"{int(cells['missing'].sum())} missing (a cell shared by two chapters counts twice)")
    print(tables.to_string(index=False))
    whole = not cells["missing"].any() and bool(tables["stored"].all())
    print("complete" if whole else "not complete")
    return 0 if whole else 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["KEYS", "TABLES", "cell_status", "complete", "moved", "table_status"]
