"""posthoc.repro.chapters: one record per chapter, from which the build, the table of contents,
the parameters and the study's chapters are derived; and a toy chapter added end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from posthoc.repro import chapters as records
from posthoc.repro.chapters import (CHAPTERS, EXECUTION_ORDER, STUDY_CHAPTERS, Chapter, chapter,
                                    table_of_contents)
from posthoc.repro.parameters import chapter_defaults, parameter_checks, resolve
from posthoc.repro.profiles import PROFILES
from posthoc.validation import integer

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_chapter_record_has_a_source_parameters_and_a_place_in_the_build(name):
    record = chapter(name)
    assert record.name == name and record.title and record.covers
    source = (ROOT / record.source).read_text()
    assert "# %% tags=[\"parameters\"]" in source, "the chapter has a parameters cell"
    for profile in PROFILES:
        defaults = chapter_defaults(name, profile)
        assert set(defaults) <= set(parameter_checks(name)), "every parameter is constrained"
        # Every default passes the chapter's own checks, and the parameters cell names each.
        assert resolve(name, profile, **defaults) == defaults
        for parameter in defaults:
            assert f"\n{parameter} = " in source, (name, parameter)


def test_the_build_order_the_study_and_the_contents_come_from_the_records():
    orders = [c.order for c in CHAPTERS.values()]
    assert len(set(orders)) == len(orders)
    assert EXECUTION_ORDER[0] == "need_for_networks"
    # The first page reads the verdicts that the reproducibility chapter writes.
    assert EXECUTION_ORDER.index("intro") > EXECUTION_ORDER.index("reproducibility")
    # A chapter that reads study cells runs after every chapter that adds them.
    assert EXECUTION_ORDER.index("reproducibility") > max(map(EXECUTION_ORDER.index,
                                                              STUDY_CHAPTERS))
    assert STUDY_CHAPTERS == ("main_comparison", "ablations", "beyond")
    out = subprocess.run([sys.executable, "-m", "posthoc.repro.chapters", "sources"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    assert out == [f"notebooks/{name}.py" for name in EXECUTION_ORDER]
    toc = yaml.safe_load(table_of_contents())
    pages = [toc["root"]] + [entry["file"] for entry in toc["chapters"]]
    assert pages == [f"book/{n}" for n in CHAPTERS] + list(records.EXTRA_PAGES)
    assert all((ROOT / f"{page}.md").is_file() for page in records.EXTRA_PAGES)
    assert "_toc.yml" in (ROOT / ".gitignore").read_text()


def test_an_unknown_chapter_is_named_in_the_error():
    assert chapter("beyond").title == "Beyond the paper"
    with pytest.raises(ValueError, match="chapter='nope' is not a chapter"):
        chapter("nope")


TOY = '''# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
profile = "quick"
n_rows = None

# %%
from posthoc.repro.chapters import CHAPTERS, Chapter
from posthoc.repro.parameters import resolve_notebook

# The kernel is a new process: the toy chapter registers its record there too.
from posthoc.validation import integer
CHAPTERS.setdefault("toy", Chapter("toy", "Toy", "a test", order=99,
                                   parameters=lambda p: {"n_rows": len(p.study_seeds)},
                                   checks={"n_rows": integer(1)}))
settings = resolve_notebook("toy", globals())

# %%
from posthoc import load_dataset
data = load_dataset("german-sex")
print("rows", len(data.train.y[: settings["n_rows"]]))
'''


def test_a_toy_chapter_is_one_record_and_its_notebook(tmp_path, monkeypatch):
    """A new chapter: one record (here registered by the test) and its source. The build's
    list, the table of contents and the parameters follow; the one-command run executes it
    with a parameter, and refuses a bad value in one line."""
    from posthoc.repro.run_chapter import execute

    (tmp_path / "toy.py").write_text(TOY)
    toy = Chapter("toy", "Toy", "a test", order=99, folder=tmp_path,
                  parameters=lambda p: {"n_rows": len(p.study_seeds)},
                  checks={"n_rows": integer(1)})
    monkeypatch.setitem(CHAPTERS, "toy", toy)
    assert "  - file: book/toy" in table_of_contents()
    assert chapter_defaults("toy", "paper") == {"n_rows": 10}
    with pytest.raises(ValueError, match="Parameter n_rows='x' is not allowed; expected an "
                                         "integer >= 1"):
        execute("toy", "quick", {"n_rows": "x"}, out=tmp_path / "out")
    executed = execute("toy", "quick", {"n_rows": 3}, out=tmp_path / "out")
    notebook = nbformat.read(executed, as_version=4)
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "rows 3" in printed
