"""Every chapter re-executes with values its parameters cell documents other than the
defaults (quick profile): one configuration, one measure, a subset of methods, another λ or
ε, and every registered method where a method is a parameter. Two chapters run at a time;
each uses the network cache the quick book filled and a copy of its results store, so only
cells the defaults left out are computed, and the book's own store stays as the book left it
(nbval re-executes the book's chapters from it, beside this matrix)."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from posthoc.methods import METHODS
from posthoc.repro.chapters import CHAPTERS, no_parameters
from posthoc.repro.profiles import results_folder
from posthoc.repro.run_chapter import execute

#: (chapter, parameters): at least two selections per chapter that has parameters. The
#: selections keep to the small configurations where the kind of selection allows, so that
#: the matrix's new cells and tables stay cheap, and compute in the chapter's own process
#: (``workers=1``): two chapters already run at a time here, and the book's own execution
#: runs the default pool of one process per core.
MATRIX = [
    ("need_for_networks", {"configs": ["compas-race"], "seeds": [1]}),
    ("need_for_networks", {"configs": ["german-sex"], "n_estimators": 10}),
    ("sensitivity", {"configs": ["german-sex"], "regression_config": "german-sex",
                     "n_deltas": 50}),
    ("sensitivity", {"configs": ["bank-age", "compas-race"], "seeds": [1],
                     "regression_config": "compas-race"}),
    ("main_comparison", {"configs": ["compas-race"], "measures": ["spd"], "lam": 0.5,
                         "workers": 1}),
    ("main_comparison", {"methods": ["default", "roc"], "measures": ["eod"], "workers": 1}),
    ("ablations", {"configs": ["bank-age"], "archs": ["width-64"], "workers": 1}),
    ("ablations", {"methods": ["default", "eqodds"], "lam": 0.5, "archs": ["dropout-0.5"],
                   "workers": 1}),
    # German credit (1,000 rows) keeps the new cells of another measure and ε cheap.
    ("beyond", {"configs": ["german-sex"], "measures": ["aod"], "epsilon": 0.1,
                "multigroup_configs": ["compas-race-all"], "workers": 1}),
    ("beyond", {"methods": ["default", "roc", "thresholdopt"], "epsilons": [0.1],
                "frontier_methods": ["default", "roc"],
                "multigroup_configs": ["compas-race-all"], "workers": 1}),
    ("reproducibility", {"n_boot": 100, "workers": 1}),
    ("reproducibility", {"n_boot": 50, "workers": 1}),
    *[("own_model", {"method": method, "measure": measure, "epochs": 1, "trials": 4,
                     "lam": 0.3, **({"options": {"calls": 4}} if method == "layerwise" else {})})
      for method, measure in zip(METHODS, ["eod", "aod", "spd"] * len(METHODS))],
]
#: The chapters with no parameters but the profile (the quick book executes them).
NO_PARAMETERS = {"intro", "teaching"}


def _label(entry) -> str:
    name, parameters = entry
    return name + "[" + ",".join(f"{k}={v}" for k, v in parameters.items()) + "]"


@pytest.fixture(scope="module")
def executed(tmp_path_factory, monkeypatch_module):
    """Each entry of the matrix executed: its notebook, or the error that stopped it."""
    def run(number_entry):
        number, (name, parameters) = number_entry
        try:
            return execute(name, "quick", parameters,
                           out=tmp_path_factory.mktemp(f"run{number}"))
        except Exception as exc:  # noqa: BLE001 - reported by the entry's test
            return exc
    # One folder for every run's CSV tables (the book's own stay as the quick book wrote them),
    # and a copy of the quick book's results store for the cells the selections add.
    monkeypatch_module.setenv("POSTHOC_TABLES", str(tmp_path_factory.mktemp("tables")))
    # The other profiles' results, which some chapters read (the paper's claims), are linked.
    results, book = tmp_path_factory.mktemp("results"), results_folder("quick")
    for other in (book.parent.iterdir() if book.parent.is_dir() else []):
        if other.is_dir() and other.name != "quick":
            (results / other.name).symlink_to(other.resolve(), target_is_directory=True)
    if book.is_dir():
        shutil.copytree(book, results / "quick", ignore=shutil.ignore_patterns("locks", "*.tmp"))
    monkeypatch_module.setenv("POSTHOC_RESULTS", str(results))
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(map(_label, MATRIX), pool.map(run, enumerate(MATRIX))))


def test_every_chapter_with_parameters_is_in_the_matrix():
    covered = {name for name, _ in MATRIX}
    assert covered == set(CHAPTERS) - NO_PARAMETERS
    for name in covered - {"own_model"}:
        assert sum(entry[0] == name for entry in MATRIX) >= 2, name
    assert {p["method"] for n, p in MATRIX if n == "own_model"} == set(METHODS)
    assert all(CHAPTERS[name].parameters is no_parameters for name in NO_PARAMETERS)


@pytest.mark.parametrize("label", [_label(entry) for entry in MATRIX])
def test_the_chapter_runs_with_the_selection(executed, label):
    result = executed[label]
    if isinstance(result, Exception):
        pytest.fail(f"{label}: {type(result).__name__}: {str(result)[-2000:]}")
    notebook = nbformat.read(result, as_version=4)
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors
