"""posthoc.repro.tables and posthoc.repro.book_tables: the book's tables as a reader sees
them, checked on hand-made frames."""

from __future__ import annotations

import pandas as pd
import pytest

from posthoc.repro import tables
from posthoc.repro.book_tables import numbers_table, wide_by_setting
from posthoc.repro.tables import FAIL, PASS, Link, reader_table, transposed


def test_numbers_are_rounded_mean_and_sd_share_a_line_and_tests_show_marks():
    frame = pd.DataFrame({"method": ["ROC", "EO"], "m": [0.12345, 0.5], "s": [0.001, None],
                          "ok": [True, False], "p": [0.00001, 0.25]})
    shown = reader_table(frame, mean_sd={"objective": ("m", "s")}, checks=["ok"],
                         digits={"p": 2}).shown
    assert shown["objective"].tolist() == ["0.123 ± 0.001", "0.500"]
    assert shown["ok"].tolist() == [PASS, FAIL]
    assert shown["p"].tolist() == ["1.0e-05", "0.25"]     # too small for 2 decimals
    assert "m" not in shown and "s" not in shown


def test_the_index_becomes_columns_unless_it_only_numbers_the_rows():
    named = pd.DataFrame({"x": [1.0]}, index=pd.Index(["a"], name="config"))
    assert list(reader_table(named).shown.columns) == ["config", "x"]
    assert list(reader_table(pd.DataFrame({"x": [1.0]})).shown.columns) == ["x"]
    series = pd.Series([0.5, 0.25], index=["ROC", "EO"], name="gap")
    assert reader_table(series).shown["gap"].tolist() == ["0.500", "0.250"]


def test_a_constant_column_is_said_once_and_long_text_becomes_notes():
    frame = pd.DataFrame({"n": ["a", "b", "c"], "arch": "default",
                          "cause": ["", "one seed", "the protocol"]})
    table = reader_table(frame, notes="cause")
    assert "arch" not in table.shown and table.caption == "every row: arch default"
    assert table.shown["note"].tolist() == ["", "[1]", "[2]"]
    assert table.notes == ("one seed", "the protocol")
    html = table._repr_html_()
    assert "<li>one seed</li>" in html and "default" in html
    kept = reader_table(frame, keep_constant=["arch"])
    assert "arch" in kept.shown


def test_html_escapes_text_and_renders_links_and_group_headings():
    frame = pd.DataFrame({"group": ["g1", "g1", "g2"], "name": ["a<b", "c", "d"],
                          "page": [Link("Main", "main_comparison.html"), "", ""]})
    html = reader_table(frame, group="group")._repr_html_()
    assert "a&lt;b" in html and '<a href="main_comparison.html">Main</a>' in html
    assert html.count('class="posthoc-group"') == 2 and "<th>group</th>" not in html


def test_a_wide_table_is_shown_one_row_per_method_under_a_heading_per_setting(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(tables, "TABLES", tmp_path)
    index = pd.MultiIndex.from_product([["adult-sex"], ["default"], ["spd", "eod"]],
                                       names=["config", "arch", "measure"])
    wide = pd.DataFrame({"ROC": ["0.1", "0.2"], "EO": ["0.3", "0.4"]}, index=index)
    narrow = transposed(wide, "measure", row_label="method")
    assert narrow.to_dict("list") == {"group": ["adult-sex · default"] * 2,
                                      "method": ["ROC", "EO"], "spd": ["0.1", "0.3"],
                                      "eod": ["0.2", "0.4"]}
    table = wide_by_setting(wide, csv="wide")
    assert list(table.shown.columns) == ["group", "method", "SPD", "EOD"]
    assert table.shown["group"].iloc[0] == "ACI (sex) · paper's network"
    saved = pd.read_csv(tmp_path / "wide.csv")
    assert len(saved) == 2 and {"ROC", "EO", "measure"} <= set(saved.columns)
    assert 'href="../tables/wide.csv"' in table._repr_html_()
    with pytest.raises(ValueError, match="columns_from must be one of the index levels"):
        transposed(wide, "method")


def test_the_numbers_table_groups_by_table_and_protocol_and_notes_the_causes():
    numbers = pd.DataFrame([
        {"table": "table3", "config": "adult", "quantity": "accuracy", "model": "network",
         "protocol": "authors_code", "paper": 0.85, "paper_std": 0.002, "ours": 0.851,
         "ours_std": 0.001, "z": 0.5, "within_2_sigma": True, "n_failed_networks": 0,
         "cause": ""},
        {"table": "table1", "config": "adult-sex", "quantity": "spd", "model": "network",
         "protocol": "paper", "paper": -0.2, "paper_std": 0.01, "ours": -0.25,
         "ours_std": 0.01, "z": -5.0, "within_2_sigma": False, "n_failed_networks": 1,
         "cause": "seed 3's network reached only spd -0.9"}])
    table = numbers_table(numbers)
    assert table.shown["group"].tolist() == ["Table 1, the paper's setup",
                                             "Table 3, as the authors' code ran it"]
    assert table.shown["within ± 2σ"].tolist() == [FAIL, PASS]
    assert table.shown["(ours − paper) / σ"].tolist() == ["-5.0", "+0.5"]
    assert table.notes == ("seed 3's network reached only spd -0.9",)
    assert table.shown["number"].tolist() == ["ACI (sex) SPD", "ACI accuracy (network)"]
