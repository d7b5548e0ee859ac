"""Finishing touches on the executed chapters before the book is built.

``python -m posthoc.repro.book [--profile P] [--times-only] NOTEBOOK...`` marks papermill's
injected-parameters cell of each executed notebook ``remove-cell``, so a reader sees the
chapter's parameters once (its own ``parameters`` cell), not twice; with ``--profile`` it
also records each chapter's execution time (papermill's) in ``results/chapter_times.csv``
(one file for every profile, committed, so the book shows times measured on a fresh
machine before a reader builds it), which the teaching page reads, labelled with
``--caches``: ``empty`` when the build started with no trained network cached (a fresh
machine; the Makefile looks), ``warm`` otherwise.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat
import pandas as pd

from ..validation import check_choice
from .profiles import check_profile, results_folder
from .study import save_csv

#: The file of chapter execution times, beside the profiles' results stores.
TIMES = "chapter_times.csv"
#: Its columns.
TIME_COLUMNS = ["profile", "chapter", "caches", "seconds"]
#: What a build's chapter times are labelled with: the state of the network cache when the
#: build started, and how the teaching page names each.
CACHE_STATES = {"empty": "fresh machine (empty caches)", "warm": "second run (warm caches)"}


def hide_injected_parameters(path: str | Path) -> int:
    """Tag papermill's injected cells of the notebook at ``path`` ``remove-cell``; return
    how many were tagged."""
    notebook = nbformat.read(path, as_version=4)
    tagged = 0
    for cell in notebook.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
            tagged += 1
    nbformat.write(notebook, path)
    return tagged


def chapter_seconds(path: str | Path) -> float:
    """How long papermill took to execute the notebook at ``path`` (NaN if not recorded)."""
    notebook = nbformat.read(path, as_version=4)
    duration = notebook.metadata.get("papermill", {}).get("duration")
    return float("nan") if duration is None else float(duration)


def times_file(results: str | Path | None = None) -> Path:
    """``chapter_times.csv`` in ``results`` (default: the folder of the profiles' stores)."""
    return Path(results_folder("paper").parent if results is None else results) / TIMES


def recorded_times(results: str | Path | None = None) -> pd.DataFrame:
    """Every recorded chapter time (:data:`TIME_COLUMNS`); empty when none is."""
    path = times_file(results)
    return pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=TIME_COLUMNS)


def record_times(profile: str, paths, *, caches: str = "warm",
                 results: str | Path | None = None) -> pd.DataFrame:
    """Add the execution times of the notebooks at ``paths`` in ``profile`` to
    ``chapter_times.csv`` (:func:`times_file`), labelled with the build's ``caches`` (a key
    of :data:`CACHE_STATES`); one row per profile, chapter and state, the latest run kept.
    Return the table."""
    check_profile(profile)
    check_choice("caches", caches, tuple(CACHE_STATES))
    fresh = pd.DataFrame({"profile": profile, "chapter": [Path(p).stem for p in paths],
                          "caches": caches,
                          "seconds": [round(chapter_seconds(p), 1) for p in paths]})
    kept = recorded_times(results)
    replaced = ((kept["profile"] == profile) & kept["chapter"].isin(fresh["chapter"])
                & (kept["caches"] == caches))
    rows = (pd.concat([kept[~replaced], fresh]) if len(kept) else fresh).sort_values(
        ["profile", "caches", "chapter"], kind="stable").reset_index(drop=True)
    save_csv(rows[TIME_COLUMNS], times_file(results))
    return rows


def chapter_times(profiles=("quick", "paper"), *, results: str | Path | None = None
                  ) -> pd.DataFrame:
    """Seconds per chapter (rows), one column per profile and cache state (named
    ``"<profile>, <state's label>"``, :data:`CACHE_STATES`); a chapter not yet run so is
    NaN."""
    recorded = recorded_times(results)
    columns = {}
    for profile in profiles:
        for state, label in CACHE_STATES.items():
            part = recorded[(recorded["profile"] == profile) & (recorded["caches"] == state)]
            columns[f"{profile}, {label}"] = part.set_index("chapter")["seconds"]
    return pd.DataFrame(columns)


#: An exercise in a chapter's source: its label, level and first sentence.
_EXERCISE = re.compile(r"# ```\{exercise\}\n# :label: (?P<label>[\w-]+)\n#\n"
                       r"# \*(?P<level>\w+)\.\* (?P<text>.*?)\n# ```", re.S)


#: The chapters' sources, in the checkout this package is imported from.
SOURCES = Path(__file__).resolve().parents[2] / "notebooks"


def exercises(folder: str | Path = SOURCES) -> pd.DataFrame:
    """Every exercise of the chapters' sources in ``folder``: chapter, label, level and the
    exercise's first sentence."""
    rows = []
    for path in sorted(Path(folder).glob("*.py")):
        for match in _EXERCISE.finditer(path.read_text()):
            text = " ".join(line.lstrip("# ").strip()
                            for line in match["text"].splitlines()).strip()
            first = re.split(r"(?<=[.?!])\s", text, maxsplit=1)[0]
            rows.append({"chapter": path.stem, "label": match["label"],
                         "level": match["level"].lower(), "exercise": first})
    return pd.DataFrame(rows, columns=["chapter", "label", "level", "exercise"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.book",
                                     description="Finish executed chapters for the book.")
    parser.add_argument("notebooks", nargs="+", help="executed notebooks")
    parser.add_argument("--profile", help="record the chapters' execution times for it")
    parser.add_argument("--times-only", action="store_true",
                        help="only record the times (leave the notebooks as they are)")
    parser.add_argument("--caches", default="warm", choices=sorted(CACHE_STATES),
                        help="the network cache's state when the build started")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if not Path(path).is_file():
            parser.error(f"{path} does not exist.")
    if args.profile is not None:
        try:
            record_times(args.profile, args.notebooks, caches=args.caches)
        except ValueError as exc:
            parser.error(str(exc))
    if not args.times_only:
        for path in args.notebooks:
            hide_injected_parameters(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
