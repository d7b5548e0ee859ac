"""Which code computed a study cell: a fingerprint of the library modules a method's cell
runs, so that a cell's key says what determines its numbers, the code included.

A method's modules are its own module and everything it, the debiasing entry point, the
networks' training and the datasets import inside :mod:`posthoc`, transitively, except the
paper layer (:mod:`posthoc.repro`) and the modules of the other registered methods; a
package's ``__init__`` counts only where a name is imported from it (``from . import x``
of a module ``x`` counts ``x`` alone). Each
module is read as code, not as text: its syntax tree without docstrings, so a change to a
comment or a docstring leaves the fingerprint as it was, and any change to code changes it.
The same function reads the sources of any commit (:func:`git_reader`), so the cells
computed by earlier code get the fingerprint of the code that computed them.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import subprocess
from pathlib import Path
from typing import Callable, Optional

from ..methods import METHODS

#: The package's root folder (the one holding ``posthoc/``).
ROOT = Path(__file__).resolve().parents[2]
#: What every cell runs besides its method: debiasing, evaluation, training and the data.
ENTRY_MODULES = ("posthoc.debias", "posthoc.training", "posthoc.data", "posthoc.diagnostics")
#: The digits of the fingerprint kept.
DIGITS = 12

Reader = Callable[[str], Optional[str]]


def working_tree_reader(path: str) -> str | None:
    """The source at ``path`` (relative to :data:`ROOT`) in this checkout, or None."""
    file = ROOT / path
    return file.read_text() if file.is_file() else None


def git_reader(commit: str) -> Reader:
    """A reader of the sources at ``commit`` of the repository holding :data:`ROOT`."""
    @functools.cache
    def read(path: str) -> str | None:
        out = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True,
                             text=True, cwd=ROOT)
        return out.stdout if out.returncode == 0 else None
    return read


def _module_path(module: str, read: Reader) -> str | None:
    base = module.replace(".", "/")
    for path in (f"{base}.py", f"{base}/__init__.py"):
        if read(path) is not None:
            return path
    return None


def _import_candidates(module: str, path: str, tree: ast.AST) -> tuple[tuple[str, str], ...]:
    """What ``module`` (at ``path``) imports, as (name, fallback) pairs by absolute name:
    ``from package import name`` gives ``package.name``, which counts when it is a module,
    and else its fallback, the package itself (``name`` is one of its attributes); a plain
    ``import x`` gives ``x`` with itself as the fallback."""
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            stem = (f"{base}.{node.module}" if node.module else base) if node.level else (
                node.module or "")
            found.extend((f"{stem}.{alias.name}", stem) for alias in node.names)
    return tuple(found)


def _imports(candidates, is_module) -> set[str]:
    """The ``posthoc`` modules among :func:`_import_candidates`, each a module where
    ``is_module`` says so, else its fallback."""
    found = {name if is_module(name) else fallback for name, fallback in candidates}
    return {name for name in found if name == "posthoc" or name.startswith("posthoc.")}


@functools.lru_cache(maxsize=4096)
def _parsed(module: str, path: str, source: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """A module's import candidates and normalised code, parsed once per source text:
    every method's walk shares most modules (the entry modules and what they import), and
    parsing them again took about 1.5 s per method."""
    tree = ast.parse(source)
    return _import_candidates(module, path, tree), _normalised(tree)


def _normalised(tree: ast.AST) -> str:
    """The syntax tree without docstrings, as text."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def method_module(method: str) -> str:
    """The module that defines ``method``'s fit."""
    return METHODS.check(method).fit.__module__


def code_files(method: str, read: Reader = working_tree_reader) -> dict[str, str]:
    """``{path: normalised code}`` of every module ``method``'s cells run (see the module's
    docstring), as ``read`` gives the sources."""
    others = {method_module(m) for m in METHODS if m != method} - {method_module(method)}
    todo, seen, files = [method_module(method), *ENTRY_MODULES], set(), {}
    while todo:
        module = todo.pop()
        if module in seen or module in others or module.startswith("posthoc.repro"):
            continue
        seen.add(module)
        path = _module_path(module, read)
        if path is None:
            continue
        candidates, files[path] = _parsed(module, path, read(path))
        todo.extend(_imports(candidates, lambda name: _module_path(name, read) is not None))
    return files


def code_fingerprint(method: str, read: Reader = working_tree_reader) -> str:
    """The fingerprint of the code ``method``'s cells run: a hash of :func:`code_files`.

    Examples
    --------
    >>> len(code_fingerprint("random")) == DIGITS
    True
    >>> code_fingerprint("random") != code_fingerprint("roc")
    True
    """
    digest = hashlib.sha256()
    for path, code in sorted(code_files(method, read).items()):
        digest.update(path.encode() + b"\0" + code.encode() + b"\0")
    return digest.hexdigest()[:DIGITS]


@functools.cache
def current_fingerprint(method: str) -> str:
    """:func:`code_fingerprint` of this checkout, computed once per process (like the
    commit, it names the code the process imported)."""
    return code_fingerprint(method)


@functools.cache
def fingerprint_at(commit: str, method: str) -> str:
    """:func:`code_fingerprint` of ``method`` in the sources of ``commit``."""
    return code_fingerprint(method, git_reader(commit))



class StaleCode(RuntimeError):
    """Cells a run needs are stored, but were computed by other code."""

    def __init__(self, folder, rows) -> None:
        counts = rows.groupby(["method", "code"]).size()
        listed = ", ".join(f"{method} by code {code} ({n} cells)"
                           for (method, code), n in counts.items())
        super().__init__(
            f"results store {folder}: {len(rows)} cell(s) this run needs were computed by "
            f"other code than this checkout's ({listed}). Check that they are identical "
            f"(python -m posthoc.repro.identity --results {folder}), which re-keys them if "
            "they are, or remove them to compute them again.")
        self.rows = rows


def stale_cells(stored, wanted: dict[str, str]):
    """The rows of ``stored`` whose ``cell_key`` is one of ``wanted``'s keys but whose
    ``cell_id`` is not the id wanted for it ({cell_key: cell_id}): the same cell computed
    by other code."""
    if stored.empty or "cell_key" not in stored:
        return stored.iloc[0:0]
    keys = stored["cell_key"]
    hit = keys.isin(list(wanted)) & (stored["cell_id"] != keys.map(wanted))
    return stored[hit]


__all__ = ["DIGITS", "ENTRY_MODULES", "ROOT", "StaleCode", "code_files", "code_fingerprint",
           "current_fingerprint", "fingerprint_at", "git_reader", "method_module",
           "stale_cells", "working_tree_reader"]
