"""Finishing touches on the executed chapters before the book is built.

``python -m posthoc.repro.book NOTEBOOK...`` marks papermill's injected-parameters cell of
each executed notebook ``remove-cell``, so a reader sees the chapter's parameters once (its
own ``parameters`` cell), not twice.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


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


def main(argv: list[str] | None = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m posthoc.repro.book NOTEBOOK...", file=sys.stderr)
        return 2
    for path in paths:
        if not Path(path).is_file():
            print(f"posthoc.repro.book: error: {path} does not exist.", file=sys.stderr)
            return 2
        hide_injected_parameters(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
