"""The book's tables, each built from a library table by :func:`~posthoc.repro.tables.
reader_table`: the chapters call these and show the result.

A table with one column per method (nine methods do not fit a page) is shown narrow: one
heading per configuration (and network), one row per method, one column per measure
(:func:`wide_by_setting`).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from .comparison import ARCH_LABELS, method_label
from .overview_figures import PROTOCOL_NAMES, QUANTITY_NAMES, TABLE_NAMES
from .paper import PAPER_LABELS
from .tables import ReaderTable, reader_table, transposed


def setting_heading(*levels) -> str:
    """A heading for index levels such as (configuration, architecture): the paper's names."""
    names = [PAPER_LABELS.get(v, ARCH_LABELS.get(v, str(v))) for v in levels]
    return " · ".join(names)


def wide_by_setting(table: pd.DataFrame, *, columns_from: str = "measure", row_label: str =
                    "method", csv: str | None = None, caption: str = "",
                    upper: bool = True) -> ReaderTable:
    """A table with one column per method and an index of settings (e.g.
    :func:`posthoc.repro.comparison.objective_table`), one heading per setting, one row per
    method and one column per value of the index level ``columns_from`` (upper-cased when
    ``upper``, as measures are)."""
    narrow = transposed(table, columns_from, row_label=row_label, heading=setting_heading)
    if upper:
        narrow = narrow.rename(columns={c: c.upper() for c in narrow.columns
                                        if c not in ("group", row_label)})
    full = reader_table(table, csv=csv).csv
    return replace(reader_table(narrow, group="group", caption=caption), csv=full)


def number_label(row) -> str:
    """A reported number's name: configuration, quantity and (in Table 3) the model."""
    name = (f"{PAPER_LABELS.get(row['config'], row['config'])} "
            f"{QUANTITY_NAMES.get(row['quantity'], row['quantity'])}")
    return name + (f" ({row['model'].replace('_', ' ')})" if row["table"] == "table3" else "")


def numbers_table(numbers: pd.DataFrame, *, csv: str | None = None) -> ReaderTable:
    """:func:`posthoc.repro.reported.paper_comparison` for reading: one heading per table
    and protocol, the paper's and our mean ± sd, the difference in the paper's σ, ✓ within
    ± 2σ, failed networks, and each measured cause as a note."""
    frame = numbers.assign(
        group=[f"{TABLE_NAMES.get(t, t)}, {PROTOCOL_NAMES.get(p, p)}"
               for t, p in zip(numbers["table"], numbers["protocol"])],
        number=[number_label(r) for _, r in numbers.iterrows()],
        cause=numbers["cause"].fillna(""),
        z_text=[f"{z:+.1f}".replace("-0.0", "0.0").replace("+0.0", "0.0")
                for z in numbers["z"]])
    frame = frame.assign(
        _t=frame["table"].map({t: i for i, t in enumerate(TABLE_NAMES)}),
        _p=frame["protocol"].map({p: i for i, p in enumerate(PROTOCOL_NAMES)})
    ).sort_values(["_t", "_p"], kind="stable")
    paper_sd = frame["paper_std"].where(frame["table"] != "appendixA")
    frame = frame.assign(paper_sd=paper_sd)
    reader = reader_table(
        frame, columns={"group": "group", "number": "number", "paper": "paper",
                        "ours": "ours", "z_text": "(ours − paper) / σ",
                        "within_2_sigma": "within ± 2σ", "n_failed_networks": "failed networks",
                        "cause": "cause"},
        mean_sd={"paper": ("paper", "paper_sd"), "ours": ("ours", "ours_std")},
        checks=["within_2_sigma"], group="group", numeric=["z_text"],
        notes="cause")
    return replace(reader, csv=reader_table(numbers, csv=csv).csv)


def claims_table(claims: pd.DataFrame, *, csv: str | None = None) -> ReaderTable:
    """:func:`posthoc.repro.claims.verdict_table` for reading: each claim, where the paper
    makes it, its verdict and the number it rests on; the criterion, the evidence and what
    was left out as the claim's note."""
    def sentence(text) -> str:
        text = str(text).strip() if isinstance(text, str) else ""
        return text if not text or text.endswith((".", "?", "!")) else text + "."

    notes = [f"Criterion: {sentence(r.criterion)} Evidence: {sentence(r.evidence)}"
             + (f" Left out: {sentence(r.exclusions)}" if sentence(r.exclusions) else "")
             for r in claims.itertuples()]
    frame = claims.assign(note=notes)
    return reader_table(frame, columns={"claim": "claim", "where": "where",
                                        "verdict": "verdict", "number": "the number",
                                        "note": "note"},
                        notes="note", csv=csv)




def families_table(families: pd.DataFrame, *, csv: str | None = None) -> ReaderTable:
    """:func:`posthoc.repro.comparison.fine_tuning_vs_post_processing` for reading: per
    configuration (a heading) and measure, each family's best method with its objective,
    each family's mean, ✓ where fine-tuning wins, and the one-class results left out."""
    frame = families.assign(
        group=[PAPER_LABELS.get(c, c) for c in families["config"]],
        measure=families["measure"].str.upper(),
        fine=[f"{m} {v:.3f}" for m, v in zip(families["best fine-tuning"],
                                              families["best fine-tuning objective"])],
        post=[f"{m} {v:.3f}" for m, v in zip(families["best post-processing"],
                                              families["best post-processing objective"])],
        means=[f"{a:.3f} / {b:.3f}" for a, b in zip(families["fine-tuning mean"],
                                                   families["post-processing mean"])])
    return reader_table(frame, columns={
        "group": "group", "measure": "measure", "fine": "best fine-tuning",
        "post": "best post-processing",
        "means": "family means (fine-tuning / post-processing)",
        "fine-tuning wins": "fine-tuning wins",
        "one-class left out": "one-class left out"}, checks=["fine-tuning wins"],
        group="group", numeric=["means"], csv=csv)


def runtimes_table(table: pd.DataFrame, *, csv: str | None = None) -> ReaderTable:
    """A runtime table (:func:`posthoc.repro.comparison.runtime_table` or
    :func:`~posthoc.repro.comparison.runtime_ratios`: one column per configuration and
    quantity) with one heading per configuration and one row per method."""
    return wide_by_setting(table.T.rename_axis(["config", "time"]), columns_from="time",
                           upper=False, csv=csv)


def best_table(best: pd.DataFrame, *, by=("config", "arch"), csv: str | None = None
               ) -> ReaderTable:
    """:func:`posthoc.repro.claims.best_methods` for reading: one heading per configuration
    (and network), per measure the lowest mean objective's method (marked † when it is
    one-class), the best and the best two among results that are not one-class, and how
    many one-class results were left out. ``by``: the columns of the headings."""
    def label(name) -> str:
        if not isinstance(name, str) or not name:
            return ""
        if name.startswith("tie: "):
            return "tie: " + " = ".join(method_label(m) for m in name[5:].split(" = "))
        return method_label(name)

    levels = [c for c in by if c in best]
    frame = best.assign(
        group=[setting_heading(*values) for values in best[levels].itertuples(index=False)],
        measure=best["measure"].str.upper(),
        lowest=[label(b) + (" †" if one else "")
                for b, one in zip(best["best"], best["best_is_one_class"])],
        useful=[label(b) for b in best["best_not_one_class"]],
        two=[", ".join(label(m) for m in t) for t in best["top_two"]])
    return reader_table(frame, columns={
        "group": "group", "measure": "measure", "lowest": "lowest mean (†: one-class)",
        "useful": "best, not one-class", "two": "best two, not one-class",
        "one_class_excluded": "one-class left out"}, group="group", csv=csv)


__all__ = ["best_table", "claims_table", "families_table", "number_label", "numbers_table",
           "runtimes_table", "setting_heading", "wide_by_setting"]
