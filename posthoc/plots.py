"""Figure 1 of the paper, drawn from the study's rows (matplotlib).

* :func:`plot_objectives` - plots 1-3: the objective of every method per configuration, one
  panel per measure, mean over seeds with one standard deviation as error bars.
* :func:`plot_tradeoff` - plots 4-6: |bias| against accuracy of every method and
  configuration, with the objective's contour lines.
* :func:`plot_ablation` - plots 7-8: the objective of every method per architecture, one
  panel per dataset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .comparison import ARCH_LABELS, METHOD_LABELS, summary
from .metrics import MEASURES
from .paper import PAPER_LABELS

COLOURS = {"default": "#7f7f7f", "random": "#1f77b4", "layerwise": "#17becf",
           "adversarial": "#2ca02c", "roc": "#d62728", "eqodds": "#ff7f0e",
           "calibeqodds": "#9467bd"}
MARKERS = {"adult-sex": "o", "bank-age": "s", "compas-race": "^", "compas-sex": "v"}
MEASURE_LABELS = {"spd": "SPD", "eod": "EOD", "aod": "AOD"}


def _bars(ax, stats: pd.DataFrame, group: str, groups: list[str], labels: dict) -> None:
    methods = [m for m in METHOD_LABELS if m in set(stats["method"])]
    width = 0.8 / len(methods)
    x = np.arange(len(groups))
    for i, method in enumerate(methods):
        part = stats[stats["method"] == method].set_index(group).reindex(groups)
        ax.bar(x - 0.4 + (i + 0.5) * width, part["objective"], width,
               yerr=part["objective_std"].fillna(0.0), capsize=2, color=COLOURS[method],
               label=METHOD_LABELS[method], error_kw={"elinewidth": 0.8})
    ax.set_xticks(x, [labels.get(g, g) for g in groups])
    ax.set_ylabel("objective φ (lower is better)")
    ax.grid(axis="y", alpha=0.3)


def _panels(axes, n: int, width: float, height: float):
    """``axes`` as a flat list, or a new row of ``n`` panels."""
    import matplotlib.pyplot as plt

    if axes is not None:
        return list(axes)
    _, grid = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    return list(grid[0])


def _finish(axes, **legend):
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), **legend)
    axes[0].figure.tight_layout()
    return axes[0].figure


def plot_objectives(rows: pd.DataFrame, split: str = "test", *, axes=None):
    """Plots 1-3: one panel per measure, bars per configuration and method."""
    stats = summary(rows[rows["arch"] == "default"], split)
    measures = [m for m in MEASURES if m in set(stats["measure"])]
    axes = _panels(axes, len(measures), 5.2, 3.8)
    configs = [c for c in MARKERS if c in set(stats["config"])]
    for ax, measure in zip(axes, measures):
        _bars(ax, stats[stats["measure"] == measure], "config", configs, PAPER_LABELS)
        ax.set_title(f"{MEASURE_LABELS[measure]} ({split} split)")
        ax.tick_params(axis="x", labelsize=8)
    return _finish(axes)


def plot_tradeoff(rows: pd.DataFrame, split: str = "test", *, lam: float = 0.75, axes=None):
    """Plots 4-6: mean |bias| against mean accuracy per configuration (marker) and method
    (colour), one panel per measure; grey lines are levels of φ = λ|bias| + (1-λ)(1-acc)."""
    from matplotlib.lines import Line2D

    stats = summary(rows[rows["arch"] == "default"], split)
    measures = [m for m in MEASURES if m in set(stats["measure"])]
    axes = _panels(axes, len(measures), 5.2, 4.2)
    for ax, measure in zip(axes, measures):
        part = stats[stats["measure"] == measure]
        for _, r in part.iterrows():
            ax.scatter(r["abs_bias"], r["accuracy"], color=COLOURS[r["method"]],
                       marker=MARKERS[r["config"]], s=36, edgecolor="black", linewidth=0.4,
                       zorder=3)
        b_max = max(0.05, float(part["abs_bias"].max()) * 1.1)
        a_lo = float(part["accuracy"].min()) - 0.02
        a_hi = min(1.0, float(part["accuracy"].max()) + 0.02)
        bias_grid, acc_grid = np.meshgrid(np.linspace(0, b_max, 200),
                                          np.linspace(a_lo, a_hi, 200))
        phi = lam * bias_grid + (1 - lam) * (1 - acc_grid)
        contours = ax.contour(bias_grid, acc_grid, phi, levels=8, colors="black",
                              linewidths=0.6, alpha=0.6)
        ax.clabel(contours, fontsize=6, fmt="%.3f")
        ax.set_xlim(0, b_max)
        ax.set_ylim(a_lo, a_hi)
        ax.set_xlabel(f"|{MEASURE_LABELS[measure]}| ({split} split)")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{MEASURE_LABELS[measure]}: bias and accuracy")
        ax.grid(alpha=0.3)
    methods = [m for m in METHOD_LABELS if m in set(stats["method"])]
    configs = [c for c in MARKERS if c in set(stats["config"])]
    handles = ([Line2D([], [], color=COLOURS[m], marker="o", linestyle="", label=METHOD_LABELS[m])
                for m in methods]
               + [Line2D([], [], color="black", marker=MARKERS[c], linestyle="",
                         markerfacecolor="white", label=PAPER_LABELS[c]) for c in configs])
    return _finish(axes, handles=handles)


def plot_ablation(rows: pd.DataFrame, split: str = "test", *, axes=None):
    """Plots 7-8: one panel per configuration, bars per architecture and method."""
    stats = summary(rows, split)
    stats = stats[stats["measure"] == "spd"]
    configs = [c for c in MARKERS if c in set(stats["config"])]
    axes = _panels(axes, len(configs), 6.0, 3.8)
    archs = [a for a in ARCH_LABELS if a in set(stats["arch"])]
    for ax, config in zip(axes, configs):
        _bars(ax, stats[stats["config"] == config], "arch", archs, ARCH_LABELS)
        ax.set_title(f"{PAPER_LABELS[config]}, SPD ({split} split)")
    return _finish(axes)


__all__ = ["COLOURS", "MARKERS", "plot_ablation", "plot_objectives", "plot_tradeoff"]
