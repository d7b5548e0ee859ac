"""The store's identity check: show that a change of code leaves the stored cells' numbers
as they were, so that cells computed by earlier code can be kept.

Every cell records the fingerprint of the code that computed it
(:mod:`posthoc.repro.fingerprint`), and its id includes it, so a code change makes every
cell it could touch missing. ``python -m posthoc.repro.identity`` then checks, per method
and stored fingerprint other than this checkout's, a sample of the stored cells (drawn by a
fixed seed): each is computed twice on this machine, by the commit that computed it (in a
throwaway work tree of that commit) and by this checkout, on the same network from the
network cache, and the two rows are compared in every column but the runtime and the
provenance. Comparing the two codes on one machine, not a fresh row with the stored one,
keeps the check about the code: a network trained on another processor can differ in its
last bits, and so in every number computed from it. When every sampled cell is identical,
the group is re-keyed to this checkout's fingerprint, with the check recorded in its
``code_check`` column; when any differs, nothing is re-keyed and the differing columns are
named.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .fingerprint import ROOT, current_fingerprint, fingerprint_at
from .study import (Cell, ResultStore, Settings, code_commit, identifier_of,
                    prepare_networks, run_cell)
from .store import read_parquet

#: Columns that say when, where and by which code a cell ran, not what it computed.
VOLATILE = ("runtime_s", "cpu_s", "version", "commit", "torch_threads", "versions", "finished_at",
            "cell_id", "cell_key", "code", "code_check", "processor")
#: The columns that make a result group: one setting, every seed.
GROUP = ("objective", "epsilon", "lam", "max_epochs", "labels", "method_options", "config",
         "arch", "measure", "method")
#: What the other commit's code runs: each stored row's cell, written as one table.
RUN_CELLS = """
import json, sys
import pandas as pd
from posthoc.repro.study import Cell, Settings, run_cell
rows = []
for spec in json.load(open(sys.argv[1])):
    row = run_cell(Cell(**spec["cell"]), Settings(**spec["settings"]))
    row["cell_key"] = spec["cell_key"]
    rows.append(row)
pd.DataFrame(rows).to_parquet(sys.argv[2], index=False)
"""


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
    if "code_check" not in rows:
        rows["code_check"] = ""
    rows["code_check"] = rows["code_check"].fillna("")
    rows["cell_id"] = [identifier_of(k, c) for k, c in zip(rows["cell_key"], rows["code"])]
    return rows


def cell_of(row: pd.Series) -> tuple[Cell, Settings]:
    """The cell a stored row computed, and settings that compute it again."""
    epsilon = None if pd.isna(row["epsilon"]) else float(row["epsilon"])
    settings = Settings(lam=float(row["lam"]), max_epochs=int(row["max_epochs"]),
                        method_options={row["method"]: json.loads(row["method_options"])},
                        labels=row["labels"], objective=row["objective"], epsilon=epsilon)
    return Cell(row["config"], row["arch"], int(row["seed"]), row["measure"],
                row["method"]), settings


def _specs(rows: pd.DataFrame) -> list[dict]:
    specs = []
    for _, row in rows.iterrows():
        cell, settings = cell_of(row)
        specs.append({"cell": cell.__dict__, "cell_key": row["cell_key"],
                      "settings": {k: getattr(settings, k) for k in (
                          "lam", "max_epochs", "method_options", "labels", "objective",
                          "epsilon")}})
    return specs


def compute_here(rows: pd.DataFrame, *, data_dir=None) -> pd.DataFrame:
    """The cells of ``rows`` computed by this checkout (networks from the cache)."""
    fresh = []
    for _, row in rows.iterrows():
        cell, settings = cell_of(row)
        prepare_networks([cell], settings, data_dir=data_dir)
        fresh.append({**run_cell(cell, settings, data_dir=data_dir),
                      "cell_key": row["cell_key"]})
    return pd.DataFrame(fresh)


def compute_at(commit: str, rows: pd.DataFrame) -> pd.DataFrame:
    """The cells of ``rows`` computed by the code of ``commit``, in a throwaway work tree of
    it, on this machine (the same network cache, data and packages)."""
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), commit],
                       cwd=ROOT, check=True, capture_output=True)
        try:
            specs, out = Path(folder) / "cells.json", Path(folder) / "rows.parquet"
            specs.write_text(json.dumps(_specs(rows)))
            env = {**os.environ, "PYTHONPATH": str(tree)}
            done = subprocess.run([sys.executable, "-c", RUN_CELLS, str(specs), str(out)],
                                  cwd=tree, env=env, capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"the code of {commit} could not compute the cells: "
                                   f"{done.stderr.strip().splitlines()[-1:]}")
            return read_parquet(out)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           capture_output=True)


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
        same = (_missing(a) and _missing(b)) if _missing(a) or _missing(b) else bool(a == b)
        if not same:
            out.append(column)
    return out


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per cell (matched by ``cell_key``): whether the two rows are identical, and in which
    columns not."""
    by_key = after.set_index("cell_key")
    lines = []
    for _, row in before.iterrows():
        differs = differing_columns(row, by_key.loc[row["cell_key"]])
        lines.append({"cell_key": row["cell_key"], "identical": not differs,
                      "differs_in": ", ".join(differs)})
    return pd.DataFrame(lines)


def draw_sample(rows: pd.DataFrame, groups, *, per_group: int, seed: int) -> pd.DataFrame:
    """``per_group`` cells of each group of ``groups`` (index arrays into ``rows``), drawn
    by ``seed``: first among the cells of one network seed drawn for all groups (so the
    check trains few networks), then among the others."""
    rng = np.random.default_rng(seed)
    network = int(rng.choice(np.sort(rows["seed"].unique())))
    chosen = []
    for index in groups:
        group = rows.loc[index]
        first = list(rng.permutation(group.index[group["seed"] == network]))
        rest = list(rng.permutation(group.index[group["seed"] != network]))
        chosen.extend(sorted((first + rest)[:per_group]))
    return rows.loc[chosen]


def rekeyed(rows: pd.DataFrame, mask, note: str) -> pd.DataFrame:
    """``rows`` with those under ``mask`` moved to this checkout's fingerprint (new
    ``code`` and ``cell_id``) and ``note`` in their ``code_check``."""
    rows = rows.copy()
    for index in rows.index[mask]:
        code = current_fingerprint(rows.at[index, "method"])
        rows.at[index, "code"] = code
        rows.at[index, "cell_id"] = identifier_of(rows.at[index, "cell_key"], code)
        rows.at[index, "code_check"] = note
    return rows


def identity_check(store: ResultStore, *, per_group: int = 1, seed: int = 0,
                   data_dir=None) -> pd.DataFrame:
    """Run the check described in the module's docstring on ``store``; return one row per
    (method, fingerprint) checked: its cells, the commit that computed the sample, how many
    were sampled and identical, how many re-keyed, and the differing columns."""
    rows = with_code(store.load())
    current = rows["method"].map(current_fingerprint)
    groups = rows[rows["code"] != current].groupby(["method", "code"])
    report = []
    for (method, code), group in groups:
        sample = draw_sample(rows, [group.index], per_group=per_group, seed=seed)
        commit = str(sample["commit"].iloc[0]).removesuffix("-dirty")
        sample = sample[sample["commit"] == sample["commit"].iloc[0]]
        result = compare(compute_at(commit, sample), compute_here(sample, data_dir=data_dir))
        same = bool(len(result) and result["identical"].all())
        if same:
            rows = rekeyed(rows, rows.index.isin(group.index),
                           f"{code} = {current_fingerprint(method)}: {len(sample)} of "
                           f"{len(group)} cells computed here by {commit} and by "
                           f"{code_commit()}, identical")
        report.append({"method": method, "code": code, "cells": len(group), "commit": commit,
                       "sampled": len(sample), "identical": int(result["identical"].sum()),
                       "rekeyed": len(group) if same else 0,
                       "differs_in": ", ".join(sorted({c for d in result["differs_in"]
                                                       for c in d.split(", ") if c}))})
    store.rewrite(rows)
    return pd.DataFrame(report)


def mixed_cells(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows whose ``code`` is not the most frequent one of their result group."""
    keys = list(GROUP)
    frame = rows.assign(_eps=rows["epsilon"].fillna(-1.0))
    keys[keys.index("epsilon")] = "_eps"
    major = frame.groupby(keys)["code"].agg(lambda c: c.value_counts().index[0])
    majority = frame.set_index(keys).index.map(major)
    return rows[np.asarray(frame["code"]) != np.asarray(majority)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.identity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True, help="the results store's folder")
    parser.add_argument("--per-group", type=int, default=1,
                        help="cells checked per method and fingerprint (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    args = parser.parse_args(argv)
    report = identity_check(ResultStore(args.results), per_group=args.per_group,
                            seed=args.seed)
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(report.to_string(index=False) if len(report) else "every cell is by this code")
    return 0 if report.empty or (report["rekeyed"] == report["cells"]).all() else 1


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["GROUP", "RUN_CELLS", "VOLATILE", "cell_of", "compare", "compute_at",
           "compute_here", "differing_columns", "draw_sample", "identity_check", "main",
           "mixed_cells", "rekeyed", "with_code"]
