"""Command line: ``python -m posthoc data [DATA_DIR]`` fetches and verifies the raw files."""

from __future__ import annotations

import sys
from pathlib import Path

from .data import CHECKSUMS, default_data_dir, ensure_files

USAGE = ("usage: python -m posthoc data [DATA_DIR]   (the study: python -m posthoc.repro.study; "
         "benchmarks: python -m posthoc.repro.bench)")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "data" or len(args) > 2:
        print(USAGE, file=sys.stderr)
        return 2
    folder = Path(args[1]) if len(args) == 2 else default_data_dir()
    try:
        ensure_files(list(CHECKSUMS), folder)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"data folder {folder}: all {len(CHECKSUMS)} raw files present and verified")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
