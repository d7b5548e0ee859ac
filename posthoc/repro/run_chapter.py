"""Re-execute one chapter with other parameters, in one command.

``python -m posthoc.repro.run_chapter main_comparison -p lam 0.5 -y "configs: [compas-race]"``
checks the parameters against the chapter's ``parameters`` cell (a bad value is one line
naming the parameter, the value and what is allowed, before anything runs), executes
``notebooks/<chapter>.py`` with papermill, and writes the executed notebook to
``_build/chapters/<chapter>.ipynb`` (``--out`` chooses the folder), with ``--html`` its HTML
page beside it, and its tables' CSV files in ``tables/`` beside them (``$POSTHOC_TABLES``
when set), never over the book's. It reads and fills the same results store and network cache as
``make book``, so in the paper profile only the missing cells are computed. ``make chapter
NAME=main_comparison ARGS='-p lam 0.5'`` runs it.

``-p NAME VALUE`` takes a number, ``True``/``False``/``None`` or else a string; ``-y
YAML`` takes a YAML mapping, for lists (``-y "seeds: [0, 1]"``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .chapters import CHAPTERS, chapter
from .parameters import resolve
from .profiles import PROFILES

#: The chapters' sources and the default output folder, in the checkout.
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "_build" / "chapters"


def parse_value(text: str) -> Any:
    """A ``-p`` value: an integer, a number, ``True``, ``False``, ``None``, else the text.

    >>> [parse_value(t) for t in ("3", "0.5", "None", "True", "spd")]
    [3, 0.5, None, True, 'spd']
    """
    named = {"None": None, "True": True, "False": False}
    if text in named:
        return named[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parameters_of(values: list[list[str]], documents: list[str]) -> dict[str, Any]:
    """The parameters given as ``-p NAME VALUE`` pairs and ``-y`` YAML mappings."""
    parameters = {name: parse_value(value) for name, value in values}
    for text in documents:
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"-y {text!r} is not YAML ({exc.__class__.__name__}); expected "
                             "a mapping such as 'configs: [compas-race]'.") from None
        if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
            raise ValueError(f"-y {text!r} is not allowed; expected a mapping of parameter "
                             "names to values, such as 'configs: [compas-race]'.")
        parameters.update(loaded)
    return parameters


def check(name: str, profile: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The chapter's resolved settings; a ValueError naming a bad chapter, profile,
    parameter or value."""
    chapter(name)
    return resolve(name, profile, **parameters)


def execute(name: str, profile: str, parameters: dict[str, Any], *,
            out: str | Path = OUT, html: bool = False) -> Path:
    """Execute the chapter ``name`` with ``parameters`` in ``profile``; return the executed
    notebook's path (its HTML page is beside it when ``html``)."""
    import jupytext
    import papermill

    check(name, profile, parameters)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.ipynb"
    # The kernel inherits the environment: the chapter's CSV tables go beside it.
    chosen = "POSTHOC_TABLES" not in os.environ
    if chosen:
        os.environ["POSTHOC_TABLES"] = str(out / "tables")
    try:
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / f"{name}.ipynb"
            jupytext.write(jupytext.read(ROOT / chapter(name).source), source)
            papermill.execute_notebook(str(source), str(target), kernel_name="python3",
                                       parameters={"profile": profile, **parameters},
                                       progress_bar=False, log_output=False, cwd=str(ROOT))
    finally:
        if chosen:
            del os.environ["POSTHOC_TABLES"]
    if html:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_filename(str(target))
        target.with_suffix(".html").write_text(body, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.run_chapter",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", help=", ".join(CHAPTERS))
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="one parameter")
    parser.add_argument("-y", "--yaml", action="append", default=[], metavar="YAML",
                        help="parameters as a YAML mapping")
    parser.add_argument("--profile", default="quick", help=", ".join(PROFILES))
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    parser.add_argument("--html", action="store_true", help="also write the HTML page")
    args = parser.parse_args(argv)
    try:
        parameters = parameters_of(args.parameter, args.yaml)
        check(args.chapter, args.profile, parameters)
    except ValueError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    from papermill.exceptions import PapermillExecutionError

    try:
        target = execute(args.chapter, args.profile, parameters, out=args.out, html=args.html)
    except PapermillExecutionError as exc:
        parser.exit(1, f"{parser.prog}: {args.chapter} stopped in cell {exc.exec_count}: "
                       f"{exc.ename}: {exc.evalue}\n")
    print(f"{args.chapter} ({args.profile}): {target}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["OUT", "check", "execute", "main", "parameters_of", "parse_value"]
