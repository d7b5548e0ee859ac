"""The store's identity check: recompute stored cells with this checkout's code and show
that they are bitwise identical, so that cells computed by earlier code can be kept.

Every cell records the fingerprint of the code that computed it
(:mod:`posthoc.repro.fingerprint`), and its id includes it, so a code change makes every
cell it could touch missing. ``python -m posthoc.repro.identity`` then, per method and
fingerprint other than this checkout's, recomputes a sample of the stored cells (chosen by a
fixed seed) and compares every column but the runtime and the provenance. When every sampled
cell is identical, the group is re-keyed to this checkout's fingerprint, with the check
recorded in its ``code_check`` column; when any differs, nothing is re-keyed and the
differing columns are named. ``--mixed`` first recomputes outright the cells whose
fingerprint differs from the rest of their result group (the same setting over seeds), so
that no table mixes cells of different code.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from typing import Sequence

import numpy as np
import pandas as pd

from .fingerprint import current_fingerprint, fingerprint_at
from .study import (Cell, ResultStore, Settings, cell_id, code_commit, identifier_of,
                    prepare_networks, run_grid)

#: Columns that say when, where and by which code a cell ran, not what it computed.
VOLATILE = ("runtime_s", "version", "commit", "torch_threads", "versions", "finished_at",
            "cell_id", "cell_key", "code", "code_check")
#: The columns that make a result group: one setting, every seed.
GROUP = ("objective", "epsilon", "lam", "max_epochs", "labels", "method_options", "config",
         "arch", "measure", "method")


def with_code(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with a ``cell_key`` (their old code-free id where missing) and a ``code``
    (the fingerprint of the commit that computed them, where missing)."""
    rows = rows.copy()
    if "cell_key" not in rows:
        rows["cell_key"] = rows["cell_id"]
    rows["cell_key"] = rows["cell_key"].fillna(rows["cell_id"])
    if "code" not in rows:
        rows["code"] = None
    missing = rows["code"].isna()
    rows.loc[missing, "code"] = [fingerprint_at(commit, method) for commit, method in
                                 zip(rows.loc[missing, "commit"], rows.loc[missing, "method"])]
    return rows


def cell_of(row: pd.Series) -> tuple[Cell, Settings]:
    """The cell a stored row computed, and settings that compute it again."""
    epsilon = None if pd.isna(row["epsilon"]) else float(row["epsilon"])
    settings = Settings(lam=float(row["lam"]), max_epochs=int(row["max_epochs"]),
                        method_options={row["method"]: json.loads(row["method_options"])},
                        labels=row["labels"], objective=row["objective"], epsilon=epsilon)
    return Cell(row["config"], row["arch"], int(row["seed"]), row["measure"],
                row["method"]), settings


def recompute(rows: pd.DataFrame, *, workers: int = 1, progress: bool = True,
              data_dir=None) -> pd.DataFrame:
    """Compute the cells of ``rows`` again with this checkout's code (in a throwaway store);
    the fresh rows carry the stored rows' ``cell_key``."""
    fresh = []
    pairs = [cell_of(row) for _, row in rows.iterrows()]
    by_training: dict[tuple, list[Cell]] = {}
    for cell, settings in pairs:
        by_training.setdefault((settings.max_epochs, settings.labels), []).append(cell)
    for (max_epochs, labels), cells in by_training.items():   # every network at once
        prepare_networks(cells, Settings(max_epochs=max_epochs, labels=labels),
                         progress=progress, data_dir=data_dir)
    with tempfile.TemporaryDirectory() as folder:
        store = ResultStore(folder)
        for _, group in rows.groupby(list(GROUP), dropna=False, sort=False):
            pairs = [cell_of(row) for _, row in group.iterrows()]
            out = run_grid([cell for cell, _ in pairs], pairs[0][1], store, workers=workers,
                           progress=progress, data_dir=data_dir)
            order = {cell_id(cell, settings): key
                     for (cell, settings), key in zip(pairs, group["cell_key"])}
            fresh.append(out.assign(cell_key=out["cell_id"].map(order)))
    return pd.concat(fresh, ignore_index=True) if fresh else rows.iloc[0:0]


def _missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and np.isnan(value))


def differing_columns(stored: pd.Series, fresh: pd.Series) -> list[str]:
    """The columns (but :data:`VOLATILE`) in which two rows of the same cell differ: values
    compared exactly, a missing value (None, NaN or an empty text) equal only to another.

    Examples
    --------
    >>> a = pd.Series({"test_bias": 0.1, "error": "", "runtime_s": 1.0})
    >>> differing_columns(a, pd.Series({"test_bias": 0.1, "error": None, "runtime_s": 2.0}))
    []
    >>> differing_columns(a, pd.Series({"test_bias": np.nextafter(0.1, 1), "error": None}))
    ['test_bias']
    """
    out = []
    for column in stored.index:
        if column in VOLATILE or column not in fresh.index:
            continue
        a, b = stored[column], fresh[column]
        if _missing(a) or _missing(b):
            same = _missing(a) and _missing(b)
        else:
            same = bool(a == b)
        if not same:
            out.append(column)
    return out


def compare(stored: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """Per stored cell: whether its recomputation is identical, and in which columns not."""
    by_key = fresh.set_index("cell_key")
    lines = []
    for _, row in stored.iterrows():
        other = by_key.loc[row["cell_key"]]
        differs = differing_columns(row, other)
        lines.append({"cell_key": row["cell_key"], "method": row["method"],
                      "code": row["code"], "identical": not differs,
                      "differs_in": ", ".join(differs)})
    return pd.DataFrame(lines)


def rekeyed(rows: pd.DataFrame, mask: pd.Series, note: str) -> pd.DataFrame:
    """``rows`` with those under ``mask`` moved to this checkout's fingerprint (new
    ``code`` and ``cell_id``) and ``note`` in their ``code_check``."""
    rows = rows.copy()
    if "code_check" not in rows:
        rows["code_check"] = ""
    for index in rows.index[mask]:
        code = current_fingerprint(rows.at[index, "method"])
        rows.at[index, "code"] = code
        rows.at[index, "cell_id"] = identifier_of(rows.at[index, "cell_key"], code)
        rows.at[index, "code_check"] = note
    return rows


def mixed_cells(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows whose ``code`` is not the most frequent one of their result group."""
    keys = list(GROUP)
    frame = rows.assign(_eps=rows["epsilon"].fillna(-1.0))
    keys[keys.index("epsilon")] = "_eps"
    major = frame.groupby(keys)["code"].agg(lambda c: c.value_counts().index[0])
    majority = frame.set_index(keys).index.map(major)
    return rows[np.asarray(frame["code"]) != np.asarray(majority)]


def draw_sample(rows: pd.DataFrame, groups, *, per_group: int, seed: int) -> pd.DataFrame:
    """``per_group`` cells of each group of ``groups`` (index arrays into ``rows``), drawn
    by ``seed``: first among the cells of one network seed drawn for all groups (so the
    check trains few networks), then among the others."""
    rng = np.random.default_rng(seed)
    network = int(rng.choice(np.sort(rows["seed"].unique())))
    chosen = []
    for index in groups:
        group = rows.loc[index]
        first = group[group["seed"] == network]
        rest = group[group["seed"] != network]
        picks = list(rng.permutation(first.index))[:per_group]
        picks += list(rng.permutation(rest.index))[:per_group - len(picks)]
        chosen.extend(sorted(picks))
    return rows.loc[chosen]


def identity_check(store: ResultStore, *, per_group: int = 2, seed: int = 0,
                   mixed: bool = False, workers: int = 1, progress: bool = True,
                   data_dir=None) -> pd.DataFrame:
    """Run the check described in the module's docstring on ``store``; return one row per
    (method, fingerprint) checked: cells, sampled, identical, re-keyed, differing columns."""
    rows = with_code(store.load())
    if mixed:
        minority = mixed_cells(rows)
        if len(minority):
            fresh = recompute(minority, workers=workers, progress=progress, data_dir=data_dir)
            fresh["code_check"] = "recomputed: its result group held other code"
            rows = pd.concat([rows.drop(minority.index), fresh], ignore_index=True)
    current = rows["method"].map(current_fingerprint)
    groups = rows[rows["code"] != current].groupby(["method", "code"])
    samples = draw_sample(rows, [g.index for _, g in groups], per_group=per_group, seed=seed)
    results = (compare(samples, recompute(samples, workers=workers, progress=progress,
                                          data_dir=data_dir))
               if len(samples) else pd.DataFrame(columns=["method", "code", "identical"]))
    report = []
    for (method, code), group in groups:
        sample = samples[samples.index.isin(group.index)]
        result = results[(results["method"] == method) & (results["code"] == code)]
        same = bool(result["identical"].all())
        note = (f"{code} = {current_fingerprint(method)}: {len(sample)} of {len(group)} cells "
                f"recomputed by {code_commit()}, identical")
        if same:
            rows = rekeyed(rows, rows.index.isin(group.index), note)
        report.append({"method": method, "code": code, "cells": len(group),
                       "sampled": len(sample), "identical": int(result["identical"].sum()),
                       "rekeyed": len(group) if same else 0,
                       "differs_in": ", ".join(sorted({c for d in result["differs_in"]
                                                       for c in d.split(", ") if c}))})
    store.rewrite(rows)
    return pd.DataFrame(report)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.identity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True, help="the results store's folder")
    parser.add_argument("--per-group", type=int, default=2,
                        help="cells recomputed per method and fingerprint (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument("--mixed", action="store_true",
                        help="first recompute the cells whose group holds other code")
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    args = parser.parse_args(argv)
    report = identity_check(ResultStore(args.results), per_group=args.per_group,
                            seed=args.seed, mixed=args.mixed, workers=args.workers)
    print(report.to_string(index=False) if len(report) else "every cell is by this code")
    return 0 if report.empty or (report["rekeyed"] == report["cells"]).all() else 1


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["GROUP", "VOLATILE", "cell_of", "compare", "differing_columns", "draw_sample",
           "identity_check",
           "main", "mixed_cells", "recompute", "rekeyed", "with_code"]
