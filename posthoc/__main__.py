"""The ``posthoc`` command line (also ``python -m posthoc``).

* ``posthoc debias`` debiases a ``torch.export`` program with a CSV validation split and saves
  the result;
* ``posthoc evaluate`` scores a saved result on a CSV split;
* ``posthoc data [DATA_DIR]`` fetches and verifies the paper's raw files.

Bad input ends with exit status 2 and one line on stderr naming what is wrong.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ._archive import load_program
from .data import CHECKSUMS, Split, default_data_dir, ensure_files
from .debias import debias, evaluate
from .methods import METHODS, input_width, load_result
from .metrics import MEASURES

USAGE_ERROR = 2


class _Usage(Exception):
    """A mistake in the command line's input: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage and exits; we want one line
        raise _Usage(message)


def _split_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="CSV file, one row per person")
    parser.add_argument("--label", required=True, help="the 0/1 label column")
    parser.add_argument("--protected", required=True, help="the protected attribute's column")
    parser.add_argument("--privileged", default=None,
                        help="value(s) of the protected column that are privileged, comma "
                             "separated (optional if the column is already 0/1)")
    parser.add_argument("--features", default=None,
                        help="the model's input columns in its order, comma separated "
                             "(default: every column except the label)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="posthoc", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("debias", help="debias a torch.export program and save it")
    run.add_argument("--model", required=True, help="a torch.export program (.pt2)")
    _split_arguments(run)
    run.add_argument("--method", default="random", help="one of: " + ", ".join(METHODS))
    run.add_argument("--measure", default="spd", help="one of: " + ", ".join(MEASURES))
    run.add_argument("--lam", type=float, default=0.75, help="weight of |bias| (default 0.75)")
    run.add_argument("--seed", type=int, default=0, help="seed of the method (default 0)")
    run.add_argument("--objective", default="weighted", choices=["weighted", "constrained"],
                     help="weighted: lam*|bias| + (1-lam)*(1-accuracy) (the paper's); "
                          "constrained: balanced accuracy while |bias| < epsilon")
    run.add_argument("--epsilon", type=float, default=None,
                     help="the constrained objective's bias tolerance (default 0.05)")
    run.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                     help="a method option, e.g. --option trials=50 (repeatable)")
    run.add_argument("--out", required=True, help="where to write the result file")
    run.add_argument("--quiet", action="store_true",
                     help="no progress bar (the long methods show one on stderr)")
    score = commands.add_parser("evaluate", help="score a saved result on a CSV split")
    score.add_argument("--result", required=True, help="a file written by posthoc debias")
    _split_arguments(score)
    score.add_argument("--json", action="store_true", help="print one JSON object")
    data = commands.add_parser("data", help="fetch and verify the paper's raw data files")
    data.add_argument("folder", nargs="?", default=None, help="data folder ($POSTHOC_DATA)")
    return parser


def _existing_file(kind: str, name: str) -> Path:
    """``name`` as a path, after checking that it is a file (a folder or nothing is named)."""
    path = Path(name)
    if path.is_dir():
        raise _Usage(f"{kind} {path} is a directory; expected a file.")
    if not path.is_file():
        raise _Usage(f"{kind} {path} does not exist.")
    return path


def _writable_target(name: str) -> Path:
    """``--out``'s path, after checking that a file can be written there."""
    path = Path(name)
    if path.is_dir():
        raise _Usage(f"--out {path} is a directory; expected the path of the file to write.")
    parent = next((p for p in [path.parent, *path.parent.parents] if p.exists()), Path("."))
    if not parent.is_dir():
        raise _Usage(f"--out {path}: {parent} is a file, so no folder can be made there.")
    if not os.access(parent, os.W_OK | os.X_OK) or str(path.resolve()).startswith("/proc/"):
        raise _Usage(f"--out {path}: {parent} cannot be written by this user.")
    return path


def _read_split(args: argparse.Namespace) -> Split:
    path = _existing_file("data file", args.data)
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise _Usage(f"data file {path} is not a readable CSV file ({exc}).") from None
    if frame.empty:
        raise _Usage(f"data file {path} has no rows (only a header: "
                     f"{', '.join(map(str, frame.columns[:8]))}).")
    privileged = None
    if args.privileged is not None and args.protected in frame.columns:
        wanted = args.privileged.split(",")
        held = frame[args.protected].dropna().unique().tolist()
        privileged = [value for value in held if str(value) in wanted]
        unknown = [w for w in wanted if w not in {str(v) for v in held}]
        if unknown:
            raise _Usage(f"privileged value {unknown[0]!r} does not occur in column "
                         f"{args.protected!r} of {path}; it holds: "
                         f"{', '.join(sorted(map(str, held))[:10])}.")
    features = args.features.split(",") if args.features else None
    return Split.from_frame(frame, label=args.label, protected=args.protected,
                            privileged=privileged, features=features)


def _options(pairs: list[str]) -> dict[str, Any]:
    options = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise _Usage(f"--option {pair!r} is not NAME=VALUE.")
        try:
            options[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[name] = text
    return options


def _check_width(split: Split, expected: int | None, args: argparse.Namespace,
                 what: str) -> None:
    if expected is not None and split.X.shape[1] != expected:
        columns = args.features or "every column but the label"
        raise _Usage(f"{what} takes {expected} features; {args.data} gives "
                     f"{split.X.shape[1]} ({columns}). Name the model's input columns with "
                     "--features, in its order.")


def _debias(args: argparse.Namespace) -> int:
    out = _writable_target(args.out)
    model = load_program(_existing_file("model file", args.model))
    split = _read_split(args)
    _check_width(split, input_width(model), args, f"model {args.model}")
    result = debias(model, split, args.method, measure=args.measure, lam=args.lam,
                    seed=args.seed, objective=args.objective, epsilon=args.epsilon,
                    progress=not args.quiet, **_options(args.option))
    path = result.save(out)
    print(f"{result.method} on {len(split)} rows: validation objective "
          f"{result.objective:.4f}, threshold {result.threshold:.4f}; saved to {path}",
          file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    path = _existing_file("result file", args.result)
    split = _read_split(args)
    result = load_result(path)
    _check_width(split, result.n_features, args, f"result {args.result}")
    row = evaluate(result, split)
    numbers = {key: row[key] for key in ("bias", "accuracy", "objective")}
    if args.json:
        print(json.dumps(numbers))
    else:
        print(f"bias ({result.measure}) {numbers['bias']:+.4f}\naccuracy "
              f"{numbers['accuracy']:.4f}\nobjective {numbers['objective']:.4f} (lam "
              f"{result.lam})")
    return 0


def _data(args: argparse.Namespace) -> int:
    folder = Path(args.folder) if args.folder else default_data_dir()
    try:
        ensure_files(list(CHECKSUMS), folder)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"data folder {folder}: all {len(CHECKSUMS)} raw files present and verified")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return its exit status."""
    commands = {"debias": _debias, "evaluate": _evaluate, "data": _data}
    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
        return commands[args.command](args)
    except (_Usage, ValueError, TypeError, FileNotFoundError, PermissionError) as exc:
        message = " ".join(str(exc).split())
        print(f"posthoc: error: {message}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
