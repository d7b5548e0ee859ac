"""The staging store's status: what of a profile's study it holds under this code."""

from __future__ import annotations

import pandas as pd

from posthoc.repro.cells import cell_id
from posthoc.repro.grids import STUDY_CHAPTERS, chapter_grids
from posthoc.repro.staging import TABLES, cell_status, complete, main, table_status
from posthoc.repro.store import ResultStore


def test_the_status_counts_the_cells_of_this_code_and_the_tables(tmp_path, capsys):
    empty = cell_status(tmp_path, "quick")
    assert set(empty["chapter"]) == set(STUDY_CHAPTERS)
    assert (empty["done"] == 0).all() and (empty["missing"] == empty["cells"]).all()
    expected = sum(len(cells) for chapter in STUDY_CHAPTERS
                   for cells, _ in chapter_grids(chapter, "quick"))
    assert empty["cells"].sum() == expected
    cells, settings = chapter_grids("main_comparison", "quick")[0]
    store = ResultStore(tmp_path)
    store.write(cell_id(cells[0], settings), {"method": cells[0].method})
    store.write("0" * 20, {"method": "default"})              # a cell of other code
    one = cell_status(tmp_path, "quick").set_index(["chapter", "method"])
    assert one.loc[("main_comparison", cells[0].method), "done"] == 1
    assert one["done"].sum() == sum(cells[0] in c for chapter in STUDY_CHAPTERS
                                    for c, s in chapter_grids(chapter, "quick")
                                    if s == settings)
    assert not table_status(tmp_path)["stored"].any()
    (tmp_path / "tables").mkdir()
    for name in TABLES[:2]:
        pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "tables" / f"{name}-0123456789ab.parquet")
    assert table_status(tmp_path)["stored"].tolist() == [True, True, False, False]
    assert not complete(tmp_path, "quick")
    assert main(["--results", str(tmp_path), "--profile", "quick"]) == 1
    assert capsys.readouterr().out.rstrip().endswith("not complete")


def test_moved_lists_every_verdict_and_number_that_changed():
    from pathlib import Path

    from posthoc.repro.staging import moved

    paper = Path(__file__).resolve().parents[1] / "results" / "paper"
    claims = pd.read_csv(paper / "claims.csv")
    assert moved(claims, claims).empty
    other = claims.copy()
    other.loc[0, "verdict"] = "not supported" if claims["verdict"][0] != "not supported" \
        else "supported"
    other.loc[2, "value"] = claims["value"][2] + 1e-9
    other = other.drop(index=5)
    found = moved(claims, other)
    assert sorted(found["claim"]) == sorted(claims["claim"][[0, 2, 5]])
    numbers = pd.read_csv(paper / "comparison.csv")
    changed = numbers.copy()
    changed.loc[3, "ours"] = numbers["ours"][3] * 2
    assert moved(numbers, numbers).empty
    assert moved(numbers, changed)[["config", "quantity"]].values.tolist() == \
        numbers[["config", "quantity"]].iloc[[3]].values.tolist()
