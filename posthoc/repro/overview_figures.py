"""The two pictures of the reproducibility chapter.

* :func:`plot_forest` - every number the paper reports against ours: (ours − paper) / σ with
  our 95% interval, the ± 2σ band shaded, grouped by table and protocol, the numbers outside
  labelled with their measured cause.
* :func:`plot_verdicts` - every claim's verdict and the statistic it rests on, with its 95%
  interval and the value at which the criterion starts to hold.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .paper import PAPER_LABELS

#: Colours of the verdicts, strongest first (claims.verdict.LEVELS).
VERDICT_COLOURS = {"supported": "#1a7f37", "partly supported": "#bf8700",
                   "not supported": "#cf222e", "undecided": "#6e7781"}
#: How the forest plot names the tables and protocols.
TABLE_NAMES = {"table1": "Table 1", "table3": "Table 3", "appendixA": "Appendix A"}
PROTOCOL_NAMES = {"paper": "the paper's setup", "authors_code": "as the authors' code ran it",
                  "held_out": "held-out regression"}
QUANTITY_NAMES = {"aod": "AOD", "eod": "EOD", "spd": "SPD", "roc_auc": "ROC AUC",
                  "r2_delta_to_spd": "R² of SPD from the deltas"}
#: The forest plot's x range in σ; a number beyond it is drawn at the edge with its value.
FOREST_LIMIT = 8.0


def cause_label(cause: str) -> str:
    """The short name of a measured cause (:func:`posthoc.repro.reported.paper_comparison`)."""
    if not cause:
        return "no cause measured"
    if cause.startswith("the protocol"):
        return "the protocol"
    if cause.startswith("seed "):
        return cause.split("'")[0] + "'s network"
    return cause.split(":")[0]


def _forest_rows(numbers: pd.DataFrame) -> list:
    """``(y label, row or None)`` top to bottom: a heading per table and protocol, then its
    numbers."""
    rows = numbers[numbers["kind"] == "mean"] if "kind" in numbers else numbers
    order = {t: i for i, t in enumerate(TABLE_NAMES)}
    keyed = rows.assign(_t=rows["table"].map(order), _p=rows["protocol"].map(
        {p: i for i, p in enumerate(PROTOCOL_NAMES)}))
    lines = []
    for (table, protocol), part in keyed.groupby(["_t", "_p"], sort=True):
        first = part.iloc[0]
        lines.append((f"{TABLE_NAMES.get(first['table'], first['table'])}, "
                      f"{PROTOCOL_NAMES.get(first['protocol'], first['protocol'])}", None))
        for _, row in part.sort_values(["config", "model", "quantity"]).iterrows():
            label = (f"{PAPER_LABELS.get(row['config'], row['config'])} "
                     f"{QUANTITY_NAMES.get(row['quantity'], row['quantity'])}"
                     + ("" if row["model"] == "network" and row["table"] != "table3"
                        else f" ({row['model'].replace('_', ' ')})"))
            lines.append((label, row))
    return lines


def plot_forest(numbers: pd.DataFrame):
    """One row per reported number (``numbers``: :func:`posthoc.repro.reported.
    paper_comparison`): the standardised difference ``z`` with our 95% interval, the ± 2σ
    band shaded; a number outside the band is red and labelled with its cause."""
    lines = _forest_rows(numbers)
    fig, ax = plt.subplots(figsize=(7.4, 0.19 * len(lines) + 0.9))
    ax.axvspan(-2, 2, color="#ddf4ff", zorder=0, label="within the paper's ± 2σ")
    ax.axvline(0, color="#57606a", linewidth=0.8, zorder=1)
    labels = []
    for y, (label, row) in enumerate(lines):
        labels.append(label)
        if row is None:
            continue
        inside = bool(row["within_2_sigma"])
        tone = "#0969da" if inside else "#cf222e"
        z, low, high = (float(np.clip(row[k], -FOREST_LIMIT, FOREST_LIMIT))
                        for k in ("z", "z_low", "z_high"))
        ax.plot([low, high], [y, y], color=tone, linewidth=1.4, zorder=2)
        beyond = abs(row["z"]) > FOREST_LIMIT
        ax.plot(z, y, marker=(">" if z > 0 else "<") if beyond else "o", color=tone,
                markersize=4, zorder=3)
        note = (f"{row['z']:+.0f}σ " if beyond else "") + (
            "" if inside else cause_label(row.get("cause", "") or ""))
        if note:
            ax.text(FOREST_LIMIT + 0.3, y, note, va="center", fontsize=6.5, color=tone)
    ax.set_yticks(range(len(lines)), labels, fontsize=6.5)
    for tick, (_, row) in zip(ax.get_yticklabels(), lines):
        if row is None:
            tick.set_fontweight("bold")
    ax.set_ylim(len(lines) - 0.5, -0.7)
    ax.set_xlim(-FOREST_LIMIT - 0.5, FOREST_LIMIT + 0.5)
    ax.set_xlabel("(ours − paper) / the paper's σ, with our 95% interval", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(loc="lower left", fontsize=7, frameon=False, bbox_to_anchor=(0, 1.0))
    fig.tight_layout()
    return fig


def _short(text: str, width: int = 58) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def plot_verdicts(claims: pd.DataFrame):
    """One row per claim (``claims``: :func:`posthoc.repro.claims.verdict_table`): its
    verdict, the statistic it rests on with its 95% interval, and the criterion's target
    (dashed). Each row has its own scale, since the statistics differ."""
    n = len(claims)
    fig, axes = plt.subplots(n, 1, figsize=(7.4, 0.5 * n + 0.4), squeeze=False)
    for ax, (_, row) in zip(axes[:, 0], claims.iterrows()):
        tone = VERDICT_COLOURS.get(row["verdict"], "#6e7781")
        values = [row.get(k, np.nan) for k in ("value", "low", "high", "target")]
        finite = [float(v) for v in values if pd.notna(v) and np.isfinite(v)]
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.text(-0.02, 0.5, _short(row["claim"]), transform=ax.transAxes, ha="right",
                va="center", fontsize=6.5)
        ax.text(1.02, 0.5, row["verdict"], transform=ax.transAxes, ha="left", va="center",
                fontsize=7, color=tone, fontweight="bold")
        if not finite or pd.isna(row.get("value", np.nan)):
            ax.set_xticks([])
            ax.text(0.5, 0.5, "no statistic", transform=ax.transAxes, ha="center",
                    va="center", fontsize=6.5, color="#6e7781")
            continue
        span = max(finite) - min(finite) or abs(finite[0]) or 1.0
        ax.set_xlim(min(finite) - 0.15 * span, max(finite) + 0.15 * span)
        if pd.notna(row["low"]) and pd.notna(row["high"]):
            ax.plot([row["low"], row["high"]], [0, 0], color=tone, linewidth=1.6)
        ax.plot(row["value"], 0, "o", color=tone, markersize=5)
        if pd.notna(row["target"]):
            ax.axvline(row["target"], color="#57606a", linestyle="--", linewidth=0.9)
        ax.set_ylim(-1, 1.2)
        ax.text(0.0, 1.0, row.get("effect", ""), transform=ax.transAxes, fontsize=6,
                color="#57606a", va="top")
        ax.tick_params(axis="x", labelsize=6, length=2, pad=1)
    fig.subplots_adjust(left=0.5, right=0.84, top=0.99, bottom=0.02, hspace=0.9)
    return fig


__all__ = ["FOREST_LIMIT", "PROTOCOL_NAMES", "QUANTITY_NAMES", "TABLE_NAMES", "VERDICT_COLOURS", "cause_label",
           "plot_forest", "plot_verdicts"]
