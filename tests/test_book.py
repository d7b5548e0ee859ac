"""posthoc.repro.book: papermill's injected parameters are removed from the built chapters,
and each chapter's execution time is recorded for the teaching page."""

from __future__ import annotations

import math

import nbformat
import pytest

from posthoc.repro.book import (CACHE_STATES, chapter_times, hide_injected_parameters, main,
                                record_times)


def test_the_injected_parameters_cell_is_marked_for_removal(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("profile = 'quick'",
                                                metadata={"tags": ["parameters"]}),
                      nbformat.v4.new_code_cell("profile = 'paper'",
                                                metadata={"tags": ["injected-parameters"]}),
                      nbformat.v4.new_code_cell("print(profile)")]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, path)
    assert hide_injected_parameters(path) == 1
    tags = [cell.metadata.get("tags", []) for cell in nbformat.read(path, as_version=4).cells]
    assert tags == [["parameters"], ["injected-parameters", "remove-cell"], []]
    assert hide_injected_parameters(path) == 0          # once is enough
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "missing.ipynb")])
    assert exit_.value.code == 2


def _executed(path, seconds):
    notebook = nbformat.v4.new_notebook()
    if seconds is not None:
        notebook.metadata["papermill"] = {"duration": seconds}
    nbformat.write(notebook, path)
    return path


def test_chapter_times_are_recorded_per_profile_and_cache_state_the_latest_run_kept(tmp_path):
    store = tmp_path / "results"
    first = [_executed(tmp_path / "sensitivity.ipynb", 14.04),
             _executed(tmp_path / "ablations.ipynb", None)]
    record_times("quick", first, caches="empty", results=store)
    record_times("quick", [_executed(tmp_path / "sensitivity.ipynb", 12.0)], caches="warm",
                 results=store)
    record_times("quick", [_executed(tmp_path / "sensitivity.ipynb", 11.0)], caches="warm",
                 results=store)
    record_times("paper", [_executed(tmp_path / "sensitivity.ipynb", 300.0)], caches="empty",
                 results=store)
    times = chapter_times(results=store)
    fresh, second = (f"quick, {CACHE_STATES[s]}" for s in ("empty", "warm"))
    assert times.loc["sensitivity", fresh] == 14.0       # the fresh run is kept beside
    assert times.loc["sensitivity", second] == 11.0      # the latest second run
    assert times.loc["sensitivity", f"paper, {CACHE_STATES['empty']}"] == 300.0
    assert math.isnan(times.loc["sensitivity", f"paper, {CACHE_STATES['warm']}"])
    assert math.isnan(times.loc["ablations", fresh])
    with pytest.raises(ValueError, match="caches 'cold'.*empty, warm"):
        record_times("quick", first, caches="cold", results=store)
