"""The book's first page: what holds of the paper, read from the committed paper-scale
results (``results/paper``) whatever profile the book is built with."""

from __future__ import annotations

import pandas as pd

from ..data import PAPER_CONFIGURATIONS
from .chapters import chapter
from .claims import reference_unbeaten
from .comparison import one_class_flags
from .profiles import results_folder
from .store import read_parquet
from .tables import Link, ReaderTable, reader_table

#: How each verdict is shown on the first page.
VERDICT_MARKS = {"supported": "✓ supported", "partly supported": "◐ partly supported",
                 "not supported": "✗ not supported", "undecided": "? undecided"}


def committed(name: str) -> pd.DataFrame:
    """A table of the committed paper-scale results: ``claims``, ``comparison`` (CSV) or
    ``cells`` (the study's cells)."""
    folder = results_folder("paper")
    if name == "cells":
        return read_parquet(folder / "cells.parquet")
    if name in ("claims", "comparison"):
        return pd.read_csv(folder / f"{name}.csv", keep_default_na=False,
                           na_values=[""])
    raise ValueError(f"name={name!r}: expected 'claims', 'comparison' or 'cells'.")


def verdict_counts(claims: pd.DataFrame) -> dict[str, int]:
    """How many claims have each verdict, strongest first (every level, zeros included)."""
    counts = claims["verdict"].value_counts()
    return {level: int(counts.get(level, 0)) for level in VERDICT_MARKS}


def reproduced(comparison: pd.DataFrame) -> dict[str, int]:
    """How many of the paper's reported numbers lie within its ± 2σ (``within`` of
    ``numbers``), and how many of Table 1's spreads agree with the paper's by the F test
    (``spreads_consistent`` of ``spreads``)."""
    kind = comparison["kind"] if "kind" in comparison else pd.Series("mean", comparison.index)
    means, spreads = comparison[kind == "mean"], comparison[kind == "spread"]
    truthy = {True, "True", "true", 1}
    return {"within": int(means["within_2_sigma"].isin(truthy).sum()), "numbers": len(means),
            "spreads_consistent": int(spreads["spread_consistent"].isin(truthy).sum())
            if len(spreads) else 0, "spreads": len(spreads)}


def one_class_counts(cells: pd.DataFrame) -> dict[str, int]:
    """Among the main comparison's cells (weighted objective, the paper's network, the
    methods that change the model): how many are one-class on the test split, and how many
    exactly constant."""
    main = cells[(cells["objective"] == "weighted") & (cells["arch"] == "default")
                 & (cells["method"] != "default")
                 & cells["config"].isin(PAPER_CONFIGURATIONS)]
    return {"cells": len(main), "one_class": int(one_class_flags(main).sum()),
            "constant": int(main["test_constant"].eq(True).sum())}


def unbeaten_settings(cells: pd.DataFrame, reference: dict[str, float]) -> dict[str, int]:
    """Among the main comparison's settings (the paper's configurations and measures,
    weighted objective, the paper's network): how many there are, and in how many no
    method's mean test objective beats predicting the majority class (``reference``: per
    configuration, its objective on the test split)."""
    main = cells[(cells["objective"] == "weighted") & (cells["arch"] == "default")
                 & cells["config"].isin(PAPER_CONFIGURATIONS)]
    settings = main[["config", "measure"]].drop_duplicates()
    return {"settings": len(settings), "unbeaten": len(reference_unbeaten(main, reference))}


def headlines(numbers: dict[str, int], counts: dict[str, int]) -> dict[str, str]:
    """The first page's two opening sentences, chosen from the numbers: whether most
    reported numbers lie within ± 2σ, and whether most claims are supported in full.

    Examples
    --------
    >>> headlines({"within": 46, "numbers": 50}, {"supported": 7, "partly supported": 8,
    ...                                          "not supported": 4, "undecided": 0})["claims"]
    'Most of its conclusions hold only in part or not at all.'
    """
    share = numbers["within"] / numbers["numbers"] if numbers["numbers"] else 0.0
    judged = sum(counts.values()) - counts.get("undecided", 0)
    full = counts.get("supported", 0)
    return {"numbers": ("Most reported numbers reproduce." if share > 0.5
                        else "Most reported numbers do not reproduce."),
            "claims": ("Most of its conclusions hold." if full > judged / 2
                       else "Most of its conclusions hold only in part or not at all.")}


def claims_reader(claims: pd.DataFrame) -> ReaderTable:
    """The claims for the first page: the paper's words and where it says them, our
    verdict, the number it rests on, and a link to the chapter that reports it."""
    pages = [chapter(c) if isinstance(c, str) and c else None for c in claims["chapter"]]
    frame = pd.DataFrame({
        "The paper says": [f"“{c}” ({w})" for c, w in zip(claims["claim"], claims["where"])],
        "Our verdict": [VERDICT_MARKS.get(v, v) for v in claims["verdict"]],
        "The number": [n if isinstance(n, str) else "" for n in claims["number"]],
        "Chapter": [Link(p.title, f"{p.name}.html") if p else "" for p in pages]})
    return reader_table(frame, keep_constant=list(frame.columns))


__all__ = ["VERDICT_MARKS", "claims_reader", "committed", "headlines", "one_class_counts",
           "reproduced", "unbeaten_settings", "verdict_counts"]
