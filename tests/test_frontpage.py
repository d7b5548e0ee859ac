"""posthoc.repro.frontpage: the first page's numbers from hand-made tables, and from the
committed paper-scale results."""

from __future__ import annotations

import pandas as pd

from posthoc.repro.claims import CLAIM_COLUMNS, LEVELS
from posthoc.repro.frontpage import (claims_reader, committed, one_class_counts, reproduced,
                                     verdict_counts)


def test_counts_by_hand():
    comparison = pd.DataFrame({"kind": ["mean", "mean", "mean", "spread", "spread"],
                               "within_2_sigma": [True, False, True, None, None],
                               "spread_consistent": [None, None, None, True, False]})
    assert reproduced(comparison) == {"within": 2, "numbers": 3, "spreads_consistent": 1,
                                      "spreads": 2}
    claims = pd.DataFrame({"verdict": ["supported", "not supported", "not supported"]})
    assert verdict_counts(claims) == {"supported": 1, "partly supported": 0,
                                      "not supported": 2, "undecided": 0}
    cells = pd.DataFrame({"objective": "weighted", "arch": "default", "config": "adult-sex",
                          "method": ["random", "roc", "default", "random"],
                          "test_positive_rate": [0.995, 0.3, 0.0, 0.0],
                          "test_constant": [False, False, True, True]})
    assert one_class_counts(cells) == {"cells": 3, "one_class": 2, "constant": 1}


def test_the_claims_table_links_each_claim_to_its_chapter_and_escapes_the_words():
    claims = pd.DataFrame([{"claim": "a < b", "where": "Abstract", "verdict": "not supported",
                            "number": "2 of 12", "chapter": "main_comparison"}])
    page = claims_reader(claims)._repr_html_()
    assert "“a &lt; b”" in page and '<a href="main_comparison.html">The main comparison</a>' \
        in page and "✗ not supported" in page and "2 of 12" in page


def test_the_committed_claims_are_complete():
    claims = committed("claims")
    assert list(claims.columns) == CLAIM_COLUMNS
    assert set(claims["verdict"]) <= set(LEVELS)
    assert claims["chapter"].notna().all() and claims["number"].notna().all()
    numbers = reproduced(committed("comparison"))
    assert numbers["numbers"] == 50 and numbers["spreads"] == 12
