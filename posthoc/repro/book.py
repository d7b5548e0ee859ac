"""Finishing touches on the executed chapters before the book is built.

``python -m posthoc.repro.book [--profile P] [--times-only] NOTEBOOK...`` marks papermill's
injected-parameters cell of each executed notebook ``remove-cell``, so a reader sees the
chapter's parameters once (its own ``parameters`` cell), not twice; with ``--profile`` it
also records each chapter's execution time (papermill's) in
``results/<profile>/chapter_times.csv``, which the teaching page reads.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat
import pandas as pd

from .profiles import check_profile, results_folder
from .study import save_csv

#: The file of chapter execution times in a profile's results store.
TIMES = "chapter_times.csv"


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


def record_times(profile: str, paths, *, results: str | Path | None = None) -> pd.DataFrame:
    """Add the execution times of the notebooks at ``paths`` to the profile's
    ``chapter_times.csv`` (one row per chapter, the latest run kept); return the table."""
    check_profile(profile)
    target = Path(results_folder(profile) if results is None else results) / TIMES
    fresh = pd.DataFrame({"chapter": [Path(p).stem for p in paths],
                          "seconds": [round(chapter_seconds(p), 1) for p in paths]})
    if target.is_file():
        kept = pd.read_csv(target)
        fresh = pd.concat([kept[~kept["chapter"].isin(fresh["chapter"])], fresh])
    rows = fresh.reset_index(drop=True)
    save_csv(rows, target)
    return rows


def chapter_times(profiles=("quick", "paper"), *, results: str | Path | None = None
                  ) -> pd.DataFrame:
    """Seconds per chapter (rows) and profile (columns) from each profile's recorded times;
    a chapter not yet run in a profile is NaN."""
    columns = {}
    for profile in profiles:
        folder = Path(results_folder(profile) if results is None else Path(results) / profile)
        path = folder / TIMES
        if path.is_file():
            columns[profile] = pd.read_csv(path).set_index("chapter")["seconds"]
    return pd.DataFrame(columns, columns=list(profiles))


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
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if not Path(path).is_file():
            parser.error(f"{path} does not exist.")
    if args.profile is not None:
        try:
            record_times(args.profile, args.notebooks)
        except ValueError as exc:
            parser.error(str(exc))
    if not args.times_only:
        for path in args.notebooks:
            hide_injected_parameters(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
