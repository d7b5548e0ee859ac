"""The package's two layers: the library never imports the paper's reproduction layer, and
imports sit at the top of modules except where a comment gives a measured reason."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "posthoc"
#: Imports allowed inside functions, each with its reason beside it in the code.
NESTED_IMPORTS = {
    ("data.py", "aif360.datasets"),                       # 1.3 s; a cached dataset skips it
    ("methods/baselines.py", "aif360.datasets"),          # about 2 s; fitted baselines only
    ("methods/baselines.py", "aif360.algorithms.postprocessing"),
    ("methods/baselines.py", "aif360.metrics"),
    ("methods/layerwise.py", "skopt"),                     # 1.2 s; the "skopt" optimiser only
    ("repro/study.py", "distributed"),                     # optional dependency
    ("numerics.py", "torch"),             # read after request() has set torch's environment
    # The book's extras (pyproject's [book]): checking a chapter's parameters needs none.
    ("repro/run_chapter.py", "jupytext"),
    ("repro/run_chapter.py", "papermill"),
    ("repro/run_chapter.py", "papermill.exceptions"),
    ("repro/run_chapter.py", "nbconvert"),
}


def _imports(path: Path):
    """(module imported, inside a function?) for every import of ``path``, with relative
    imports resolved against the package."""
    tree = ast.parse(path.read_text())
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    nested = {id(node) for fn in ast.walk(tree)
              if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
              for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in nested
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[:len(package) - node.level + 1])
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if node.module is None or node.level:
                for alias in node.names:
                    yield f"{module}.{alias.name}" if node.module is None else module, \
                        id(node) in nested
            else:
                yield module, id(node) in nested


def _library_files():
    return [p for p in PACKAGE.rglob("*.py") if "repro" not in p.relative_to(PACKAGE).parts]


def test_the_library_never_imports_the_reproduction_layer():
    offenders = [(str(p.relative_to(PACKAGE)), module) for p in _library_files()
                 for module, _ in _imports(p)
                 if module == "posthoc.repro" or module.startswith("posthoc.repro.")]
    assert offenders == []
    assert len(_library_files()) >= 15


def test_imports_inside_functions_are_only_the_measured_exceptions():
    nested = {(str(p.relative_to(PACKAGE)), module) for p in PACKAGE.rglob("*.py")
              for module, inside in _imports(p) if inside}
    assert nested == NESTED_IMPORTS


def test_the_library_leaves_the_root_logger_alone(datasets):
    import numpy as np

    from posthoc import Split, debias, load_dataset, train_networks

    root = logging.getLogger()
    handlers, disabled, level = list(root.handlers), root.disabled, root.level
    load_dataset("compas-race")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    split = Split(X, (X[:, 0] > 0).astype(int), (X[:, 1] > 0).astype(int))
    net = train_networks((split, split), seeds=[0], width=4, depth=1, max_epochs=2,
                         cache=False, progress=False, workers=1)[0]
    debias(net, split, "eqodds")
    assert (list(root.handlers), root.disabled, root.level) == (handlers, disabled, level)
