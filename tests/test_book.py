"""posthoc.repro.book: papermill's injected parameters are removed from the built chapters."""

from __future__ import annotations

import nbformat

from posthoc.repro.book import hide_injected_parameters, main


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
    assert main([str(tmp_path / "missing.ipynb")]) == 2
