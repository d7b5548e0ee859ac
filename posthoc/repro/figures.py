"""The book's figures (matplotlib): Figure 1 from the study's rows, Figure 2 from the
perturbation studies. Colours and labels come from the method and measure registries.

* :func:`plot_objectives` - plots 1-3: the objective of every method per configuration, one
  panel per measure, mean over seeds with one standard deviation as error bars.
* :func:`plot_tradeoff` - plots 4-6: |bias| against accuracy of every method and
  configuration, with the objective's contour lines.
* :func:`plot_ablation` - plots 7-8: the objective of every method per architecture, one
  panel per dataset.
* :func:`plot_perturbation` - Figure 2: how few parameters carry the bias, and the singular
  values of the networks' stacked coefficient vectors.
* :func:`plot_frontier` - "Beyond the paper": test |bias| against test accuracy of every
  method swept over the tolerance ε, with bootstrap intervals over the networks.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..data import CONFIGURATIONS
from ..methods import METHODS
from ..metrics import MEASURES, weighted_objective
from .comparison import ARCH_LABELS, method_label, one_class_flags, ordered_methods, summary
from .paper import PAPER_LABELS, LiveMapping
from .sensitivity import coefficient_singular_values

#: Each configuration's marker, in the legends' order (from the configurations' records).
MARKERS = LiveMapping(lambda: {name: config.marker for name, config in CONFIGURATIONS.items()})


def colour(method: str) -> str:
    """The registered colour of ``method``."""
    return METHODS.check(method).colour


def measure_label(measure: str) -> str:
    """How the book names a registered measure."""
    return MEASURES.check(measure).label


#: How the figures name the one-class reference: predicting the majority class for everyone.
REFERENCE_NAME = "one class (majority)"


def _reference_marks(ax, groups: list[str], reference: dict[str, float] | None) -> None:
    """A dashed black segment across each group's bars at its one-class reference."""
    if not reference:
        return
    drawn = False
    for i, group in enumerate(groups):
        if group in reference and not np.isnan(reference[group]):
            ax.hlines(reference[group], i - 0.45, i + 0.45, colors="black", linestyles="--",
                      linewidth=1.2, zorder=4, label=None if drawn else REFERENCE_NAME)
            drawn = True


def _bars(ax, stats: pd.DataFrame, group: str, groups: list[str], labels: dict,
          reference: dict[str, float] | None = None) -> None:
    methods = ordered_methods(stats["method"])
    width = 0.8 / len(methods)
    x = np.arange(len(groups))
    hatched = False
    for i, method in enumerate(methods):
        part = stats[stats["method"] == method].set_index(group).reindex(groups)
        bars = ax.bar(x - 0.4 + (i + 0.5) * width, part["objective"], width,
                      yerr=part["objective_std"].fillna(0.0), capsize=2, color=colour(method),
                      label=method_label(method), error_kw={"elinewidth": 0.8})
        # A result that predicts one class on most seeds is hatched: its bias is 0 by
        # construction, not by debiasing.
        for bar, share in zip(bars, part.get("one_class", pd.Series(0.0, index=part.index))):
            if share > 0.5:
                bar.set_hatch("///")
                bar.set_edgecolor("black")
                hatched = True
    if hatched:
        ax.bar(np.nan, np.nan, color="white", edgecolor="black", hatch="///",
               label="one-class (most seeds)")
    _reference_marks(ax, groups, reference)
    ax.set_xticks(x, [labels.get(g, g) for g in groups])
    ax.set_ylabel("objective φ (lower is better)")
    ax.grid(axis="y", alpha=0.3)


def _panels(axes, n: int, width: float, height: float):
    """``axes`` as a flat list, or a new column of ``n`` panels, one per row, so that each
    panel keeps its size at the book's text width."""
    if axes is not None:
        return list(axes)
    _, grid = plt.subplots(n, 1, figsize=(width, height * n), squeeze=False)
    return list(grid[:, 0])


def _finish(axes, handles=None):
    if handles is None:              # every panel's entries, each label once, in order
        entries = {}
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                entries.setdefault(label, handle)
        handles = list(entries.values())
    axes[0].legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[0].figure.tight_layout()
    return axes[0].figure


def _bar_panels(stats: pd.DataFrame, axes, *, panel: str, panels: list[str], group: str,
                groups: list[str], labels: dict, width: float, title, reference) -> object:
    """One panel per value of ``panel``, bars per ``group`` and method; ``reference(value)``
    gives the panel's one-class reference per group (or None)."""
    axes = _panels(axes, len(panels), width, 3.8)
    for ax, value in zip(axes, panels):
        _bars(ax, stats[stats[panel] == value], group, groups, labels, reference(value))
        ax.set_title(title(value))
        ax.tick_params(axis="x", labelsize=8)
    return _finish(axes)


def plot_objectives(rows: pd.DataFrame, split: str = "test", *, axes=None,
                    reference: dict[str, float] | None = None):
    """Plots 1-3: one panel per measure, bars per configuration and method; ``reference``
    (per configuration, the objective of predicting the majority class) is drawn as a
    dashed line across each configuration's bars."""
    stats = summary(rows[rows["arch"] == "default"], split)
    return _bar_panels(
        stats, axes, panel="measure", panels=[m for m in MEASURES if m in set(stats["measure"])],
        group="config", groups=[c for c in MARKERS if c in set(stats["config"])],
        labels=PAPER_LABELS, width=7.5,
        title=lambda measure: f"{measure_label(measure)} ({split} split)",
        reference=lambda measure: reference)


def plot_tradeoff(rows: pd.DataFrame, split: str = "test", *, lam: float = 0.75, axes=None):
    """Plots 4-6: mean |bias| against mean accuracy per configuration (marker) and method
    (colour), one panel per measure; grey lines are levels of φ = λ|bias| + (1-λ)(1-acc)."""
    stats = summary(rows[rows["arch"] == "default"], split)
    measures = [m for m in MEASURES if m in set(stats["measure"])]
    axes = _panels(axes, len(measures), 7.5, 4.2)
    for ax, measure in zip(axes, measures):
        part = stats[stats["measure"] == measure]
        for _, r in part.iterrows():
            ax.scatter(r["abs_bias"], r["accuracy"], color=colour(r["method"]),
                       marker=MARKERS[r["config"]], s=36, edgecolor="black", linewidth=0.4,
                       zorder=3)
        b_max = max(0.05, float(part["abs_bias"].max()) * 1.1)
        a_lo = float(part["accuracy"].min()) - 0.02
        a_hi = min(1.0, float(part["accuracy"].max()) + 0.02)
        bias_grid, acc_grid = np.meshgrid(np.linspace(0, b_max, 200),
                                          np.linspace(a_lo, a_hi, 200))
        phi = weighted_objective(bias_grid, acc_grid, lam)
        contours = ax.contour(bias_grid, acc_grid, phi, levels=8, colors="black",
                              linewidths=0.6, alpha=0.6)
        ax.clabel(contours, fontsize=6, fmt="%.3f")
        ax.set_xlim(0, b_max)
        ax.set_ylim(a_lo, a_hi)
        ax.set_xlabel(f"|{measure_label(measure)}| ({split} split)")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{measure_label(measure)}: bias and accuracy")
        ax.grid(alpha=0.3)
    configs = [c for c in MARKERS if c in set(stats["config"])]
    handles = ([Line2D([], [], color=colour(m), marker="o", linestyle="",
                       label=method_label(m)) for m in ordered_methods(stats["method"])]
               + [Line2D([], [], color="black", marker=MARKERS[c], linestyle="",
                         markerfacecolor="white", label=PAPER_LABELS[c]) for c in configs])
    return _finish(axes, handles=handles)


def plot_ablation(rows: pd.DataFrame, split: str = "test", *, axes=None,
                  reference: dict[str, float] | None = None):
    """Plots 7-8: one panel per configuration, bars per architecture and method;
    ``reference`` (per configuration) as in :func:`plot_objectives`."""
    stats = summary(rows, split)
    stats = stats[stats["measure"] == "spd"]
    archs = [a for a in ARCH_LABELS if a in set(stats["arch"])]
    return _bar_panels(
        stats, axes, panel="config", panels=[c for c in MARKERS if c in set(stats["config"])],
        group="arch", groups=archs, labels=ARCH_LABELS, width=7.5,
        title=lambda config: f"{PAPER_LABELS[config]}, SPD ({split} split)",
        reference=lambda config: (None if reference is None or config not in reference
                                  else {a: reference[config] for a in archs}))


def plot_perturbation(coefs: Sequence[np.ndarray], seeds: Sequence[int]):
    """Figure 2: left, the share of the total |coefficient| carried by the largest
    coefficients, one line per network; right, the singular values of the networks' stacked
    unit coefficient vectors (all 1 when the vectors are orthogonal)."""
    singular = coefficient_singular_values(coefs)
    fig, (left, right) = plt.subplots(2, 1, figsize=(7.5, 8))
    for seed, coef in zip(seeds, coefs):
        magnitude = np.sort(np.abs(coef))[::-1]
        if magnitude.sum() == 0:
            continue                      # SPD never moved: no parameter carries bias
        share = np.cumsum(magnitude) / magnitude.sum()
        left.plot(np.arange(1, len(share) + 1) / len(share), share, label=f"seed {seed}")
    left.set_xscale("log")
    left.set_xlabel("fraction of parameters (largest |coefficient| first)")
    left.set_ylabel("share of total |coefficient|")
    left.set_title("How few parameters carry the bias")
    if left.get_lines():
        left.legend(fontsize=7, ncol=2)
    right.bar(np.arange(1, len(singular) + 1), singular)
    right.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    right.set_xticks(np.arange(1, len(singular) + 1))
    right.set_xlabel("singular value index")
    right.set_ylabel("singular value")
    right.set_title("Stacked normalised coefficient vectors")
    fig.tight_layout()
    return fig




def frontier_points(rows: pd.DataFrame, split: str = "test", *, n_boot: int = 2000,
                    seed: int = 0) -> pd.DataFrame:
    """Per configuration, method and tolerance ε: mean |bias| and accuracy over the networks
    on ``split``, each with a 95% percentile bootstrap interval over the networks (NaN with
    one network), and the share of one-class results (``one_class``)."""
    rng = np.random.default_rng(seed)
    out = []
    for (config, method, epsilon), group in rows.groupby(["config", "method", "epsilon"]):
        if "seed" in group:         # the same mean whatever the order the store gave
            group = group.sort_values("seed", kind="stable")
        values = np.stack([group[f"{split}_bias"].abs().to_numpy(dtype=float),
                           group[f"{split}_accuracy"].to_numpy(dtype=float)], axis=1)
        values = values[~np.isnan(values).any(axis=1)]
        if not len(values):
            continue
        mean = values.mean(axis=0)
        if len(values) > 1:
            draws = values[rng.integers(0, len(values), (n_boot, len(values)))].mean(axis=1)
            low, high = np.quantile(draws, [0.025, 0.975], axis=0)
        else:
            low = high = np.full(2, np.nan)
        one_class = float(one_class_flags(group, split).astype(float).mean())
        out.append({"config": config, "method": method, "epsilon": epsilon,
                    "networks": len(values), "abs_bias": mean[0], "abs_bias_low": low[0],
                    "abs_bias_high": high[0], "accuracy": mean[1], "accuracy_low": low[1],
                    "accuracy_high": high[1], "one_class": one_class})
    return pd.DataFrame(out)


def frontier_leaders(points: pd.DataFrame, epsilon: float) -> pd.DataFrame:
    """Per configuration and family (fine-tuning, post-processing), the method of highest
    mean accuracy among those of :func:`frontier_points` at tolerance ``epsilon`` whose mean
    |bias| is within it and whose results are not one-class on most networks; one row per
    configuration, NaN where no method of a family is."""
    useful = points["one_class"] <= 0.5 if "one_class" in points else True
    at = points[np.isclose(points["epsilon"], epsilon)
                & (points["abs_bias"] <= epsilon) & useful].copy()
    if at.empty:
        raise ValueError(f"epsilon={epsilon!r}: no frontier point at this tolerance has its "
                         "mean |bias| within it.")
    at["family"] = at["method"].map(lambda m: METHODS[m].family)
    out = {}
    for (config, family), group in at.groupby(["config", "family"]):
        if family not in ("fine-tuning", "post-processing"):
            continue
        best = group.loc[group["accuracy"].idxmax()]
        out.setdefault(config, {})[family] = (best["method"], best["accuracy"])
    rows = []
    for config in dict.fromkeys(points["config"]):
        found = out.get(config, {})
        row = {"config": config}
        for family in ("fine-tuning", "post-processing"):
            method, accuracy = found.get(family, (None, np.nan))
            row[f"{family} method"] = method
            row[f"{family} accuracy"] = accuracy
        rows.append(row)
    table = pd.DataFrame(rows)
    table["difference"] = table["post-processing accuracy"] - table["fine-tuning accuracy"]
    return table


def _coinciding(line: pd.DataFrame) -> dict[tuple[float, float], str]:
    """One label per distinct point of a method's line: its tolerances joined, or "every ε"
    for a method that ignores ε, such as the unmodified network."""
    labels: dict[tuple[float, float], list[str]] = {}
    for _, point in line.iterrows():
        key = (round(float(point["abs_bias"]), 9), round(float(point["accuracy"]), 9))
        labels.setdefault(key, []).append(f"{point['epsilon']:g}")
    if len(labels) == 1 and len(line) > 1:
        return {key: "every ε" for key in labels}
    return {key: ", ".join(values) for key, values in labels.items()}


def plot_frontier(rows: pd.DataFrame, split: str = "test", *, axes=None, n_boot: int = 2000,
                  majority: dict[str, float] | None = None):
    """One panel per configuration: each method's mean |bias| against mean accuracy at each
    tolerance ε (a line through the tolerances, the ε beside each point), with 95% bootstrap
    intervals over the networks as error bars; hollow markers are one-class results.
    ``majority`` (per configuration, the majority class's share of the split) adds the
    one-class reference as a black star at |bias| 0."""
    points = frontier_points(rows, split, n_boot=n_boot)
    configs = list(dict.fromkeys(points["config"]))
    axes = _panels(axes, len(configs), 7.5, 4.2)
    for ax, config in zip(axes, configs):
        part = points[points["config"] == config]
        for method in ordered_methods(part["method"]):
            line = part[part["method"] == method].sort_values("epsilon")
            xerr = np.abs(line[["abs_bias_low", "abs_bias_high"]].to_numpy().T
                          - line["abs_bias"].to_numpy())
            yerr = np.abs(line[["accuracy_low", "accuracy_high"]].to_numpy().T
                          - line["accuracy"].to_numpy())
            ax.errorbar(line["abs_bias"], line["accuracy"], xerr=np.nan_to_num(xerr),
                        yerr=np.nan_to_num(yerr), color=colour(method), marker="o",
                        markersize=5, linewidth=1, capsize=2, label=method_label(method),
                        markerfacecolor="white" if (line["one_class"] > 0.5).all()
                        else colour(method))
            for (x, y), epsilons in _coinciding(line).items():
                ax.annotate(epsilons, (x, y), fontsize=6, xytext=(3, 3),
                            textcoords="offset points")
        if majority and config in majority:
            ax.scatter([0.0], [majority[config]], marker="*", s=120, color="black", zorder=5,
                       label=REFERENCE_NAME)
        ax.set_xlabel(f"|bias| ({split} split)")
        ax.set_ylabel(f"accuracy ({split} split)")
        ax.set_title(PAPER_LABELS.get(config, config))
        ax.grid(alpha=0.3)
    return _finish(axes)


__all__ = ["MARKERS", "REFERENCE_NAME", "colour", "frontier_leaders", "frontier_points",
           "measure_label", "plot_ablation", "plot_frontier", "plot_objectives",
           "plot_perturbation", "plot_tradeoff"]
