"""Tables of the main comparison and the ablation, from the study's rows.

Every function takes the tidy rows of :func:`posthoc.repro.study.study_rows` (one row per
configuration, architecture, seed, measure and method) and a ``split`` (``"valid"`` or
``"test"``); the columns read are ``{split}_objective``, ``{split}_bias`` and
``{split}_accuracy``. Methods are labelled, ordered and grouped into families by the method
registry, :data:`posthoc.METHODS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from ..validation import check_choice
from ..diagnostics import is_one_class
from ..methods import METHODS, methods_of
from .paper import PAPER_LABELS, format_mean_std, paper_numbers
from .reported import (AUTHORS_PROTOCOL, COMPARISON_COLUMNS, against_paper, paper_comparison,
                       paper_time_estimate, spread_comparison)

SPLITS = ("valid", "test")
#: Mean objectives closer than this count as tied (they are means of the same numbers).
_TIE = 1e-12
ARCH_LABELS = {"default": "paper's network", "dropout-0.5": "dropout 0.5",
               "width-64": "width 64", "depth-20": "depth 20"}


def _check(rows: pd.DataFrame, split: str) -> None:
    check_choice("split", split, SPLITS)
    if rows.empty:
        raise ValueError("rows is empty: the study store holds no finished cell for this "
                         "selection.")
    missing = {"config", "arch", "seed", "measure", "method", f"{split}_objective"} - set(rows)
    if missing:
        raise ValueError(f"rows lacks the columns {sorted(missing)}; expected the rows of "
                         "posthoc.repro.study.study_rows.")


def method_label(method: str) -> str:
    """How the book names ``method`` (its registered label)."""
    return METHODS.check(method).label


def labelled(methods) -> list[str]:
    """The labels of ``methods``, in the registry's order."""
    return [method_label(m) for m in ordered_methods(methods)]


def ordered_methods(methods) -> list[str]:
    """``methods`` in the registry's order; an unregistered one is an error, never dropped."""
    present = set(methods)
    for method in present:
        METHODS.check(method)
    return [m for m in METHODS if m in present]


def _relabel(table: pd.DataFrame) -> pd.DataFrame:
    """Method columns in the registry's order, named by their labels."""
    table = table[ordered_methods(table.columns)].rename(columns=method_label)
    table.columns.name = None
    return table


def one_class_flags(rows: pd.DataFrame, split: str = "test") -> pd.Series:
    """Per row: whether its result is one-class on ``split``
    (:func:`posthoc.diagnostics.is_one_class` of ``{split}_positive_rate``); rows that
    record only whether the result is exactly constant use that; a row without a result is
    not one-class."""
    rate = f"{split}_positive_rate"
    if rate in rows:
        return pd.Series(is_one_class(positive_rate=rows[rate].to_numpy(dtype=float)),
                         index=rows.index)
    if f"{split}_constant" in rows:
        return rows[f"{split}_constant"].fillna(False).astype(bool)
    return pd.Series(False, index=rows.index)


def summary(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Mean and standard deviation over seeds of objective, |bias| and accuracy, with the
    number of seeds and the share of seeds whose result is one-class (``one_class``:
    :func:`one_class_flags`), per configuration, architecture, measure and method."""
    _check(rows, split)
    # Sorted first, so that every mean is summed in one order whatever the store's.
    rows = rows.sort_values(["config", "arch", "measure", "method", "seed"],
                            kind="stable").reset_index(drop=True)
    frame = rows.assign(abs_bias=rows[f"{split}_bias"].abs(),
                        objective=rows[f"{split}_objective"],
                        accuracy=rows[f"{split}_accuracy"],
                        one_class=one_class_flags(rows, split).astype(float))
    keys = ["config", "arch", "measure", "method"]
    out = frame.groupby(keys).agg(
        seeds=("seed", "nunique"), objective=("objective", "mean"),
        objective_std=("objective", "std"), abs_bias=("abs_bias", "mean"),
        abs_bias_std=("abs_bias", "std"), accuracy=("accuracy", "mean"),
        accuracy_std=("accuracy", "std"), one_class=("one_class", "mean")).reset_index()
    return out


#: The column of :func:`objective_table` that holds the one-class reference.
REFERENCE_LABEL = "one class (majority)"


def objective_table(rows: pd.DataFrame, split: str = "test", *,
                    reference: dict[str, float] | None = None) -> pd.DataFrame:
    """Objective (mean ± std over seeds), one row per configuration, architecture and
    measure, one column per method. ``*`` marks the lowest mean among results that are not
    one-class (most seeds one-class: marked ``†`` and never the best); ``one-class left
    out`` counts them. ``reference`` (per configuration, the objective of predicting the
    majority class on the split) adds it as the column :data:`REFERENCE_LABEL`, marked
    ``▲`` where it is lower than every method's mean."""
    stats = summary(rows, split)
    stats["cell"] = [format_mean_std(m, s) for m, s in zip(stats["objective"],
                                                           stats["objective_std"])]
    excluded = stats["one_class"] > 0.5
    useful = stats["objective"].where(~excluded)
    lowest = useful.groupby([stats["config"], stats["arch"], stats["measure"]]).transform("min")
    best = ~excluded & (stats["objective"] <= lowest + _TIE)
    stats.loc[best, "cell"] = stats.loc[best, "cell"] + " *"
    stats.loc[excluded, "cell"] = stats.loc[excluded, "cell"] + " †"
    keys = ["config", "arch", "measure"]
    table = _relabel(stats.pivot(index=keys, columns="method", values="cell"))
    table["one-class left out"] = excluded.groupby([stats[k] for k in keys]).sum().astype(int)
    if reference is not None:
        floor = stats.groupby(keys)["objective"].min()
        values = pd.Series([reference.get(c, np.nan) for c in table.index.get_level_values(0)],
                           index=table.index)
        table[REFERENCE_LABEL] = [f"{v:.3f}" + (" ▲" if v < floor.loc[i] else "")
                                  for i, v in values.items()]
    return table


def runtime_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Table 2: seconds per run of each method (mean over seeds and measures, paper's
    network), ours beside the paper's."""
    if rows.empty:
        raise ValueError("rows is empty: the study store holds no finished cell.")
    main = rows[(rows["arch"] == "default") & (rows["method"] != "default")]
    ours = main.groupby(["method", "config"])["runtime_s"].mean().unstack("config")
    paper = paper_numbers("table2").pivot(index="model_or_method", columns="config",
                                          values="mean")
    configs = [c for c in ("adult-sex", "bank-age", "compas-sex", "compas-race")
               if c in ours.columns]
    methods = [m for m in methods_of("post-processing") + methods_of("fine-tuning")
               if m in ours.index]
    columns = {}
    for config in configs:
        label = PAPER_LABELS[config]
        columns[(label, "ours")] = ours.loc[methods, config]
        columns[(label, "paper")] = paper.reindex(index=methods)[config]
    table = pd.DataFrame(columns)
    table.index = [method_label(m) for m in methods]
    return table


def fine_tuning_vs_post_processing(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per configuration and measure (paper's network): the mean objective of each family's
    best method and of each family on average, and which family wins; results one-class on
    most seeds are left out (``one-class left out`` counts them)."""
    stats = summary(rows[rows["arch"] == "default"], split)
    out = []
    for (config, measure), group in stats.groupby(["config", "measure"]):
        useful = group[group["one_class"] <= 0.5]
        by = useful.set_index("method")["objective"]
        fine = by.reindex(methods_of("fine-tuning")).dropna()
        post = by.reindex(methods_of("post-processing")).dropna()
        if fine.empty or post.empty:
            continue
        out.append({"config": config, "measure": measure,
                    "best fine-tuning": method_label(fine.idxmin()),
                    "best fine-tuning objective": fine.min(),
                    "best post-processing": method_label(post.idxmin()),
                    "best post-processing objective": post.min(),
                    "fine-tuning mean": fine.mean(), "post-processing mean": post.mean(),
                    "fine-tuning wins": bool(fine.min() < post.min()),
                    "one-class left out": len(group) - len(useful)})
    return pd.DataFrame(out)


def ranks(rows: pd.DataFrame, split: str = "test", *, arch: str | None = "default"
          ) -> pd.DataFrame:
    """Rank (1 = lowest mean objective) of each method per configuration, architecture and
    measure, among the results that are not one-class on most seeds (those have no rank);
    ``arch=None`` keeps every architecture."""
    stats = summary(rows if arch is None else rows[rows["arch"] == arch], split)
    useful = stats[stats["one_class"] <= 0.5].copy()
    useful["rank"] = (useful["objective"] / _TIE).round().groupby(
        [useful["config"], useful["arch"], useful["measure"]]).rank(method="min")
    stats = stats.merge(useful[["config", "arch", "measure", "method", "rank"]], how="left",
                        on=["config", "arch", "measure", "method"])
    table = _relabel(stats.pivot(index=["config", "arch", "measure"], columns="method",
                                 values="rank"))
    return table.astype("Int64")


def paired_wins(rows: pd.DataFrame, a: str, b: str, split: str = "test") -> pd.DataFrame:
    """Per configuration, architecture and measure: on how many seeds method ``a`` has a
    lower objective than ``b`` on the same network, out of how many."""
    _check(rows, split)
    col = f"{split}_objective"
    wide = rows[rows["method"].isin([a, b])].pivot_table(
        index=["config", "arch", "measure", "seed"], columns="method", values=col)
    if a not in wide or b not in wide:
        raise ValueError(f"rows must hold both methods {a!r} and {b!r}.")
    wide = wide.dropna()
    wins = (wide[a] < wide[b]).groupby(level=[0, 1, 2]).agg(["sum", "size"])
    return wins.rename(columns={"sum": f"{method_label(a)} lower", "size": "seeds"})


def describe(rows: pd.DataFrame) -> str:
    """``"84 runs: 4 configurations x 3 measures x 7 methods x 1 seeds"`` (dimensions with
    one value left out, except seeds)."""
    parts = [(column, label) for column, label in (
        ("config", "configurations"), ("arch", "networks"), ("measure", "measures"),
        ("method", "methods"), ("seed", "seeds")) if column in rows]
    counts = [f"{rows[c].nunique()} {label}" for c, label in parts
              if rows[c].nunique() > 1 or c == "seed"]
    return f"{len(rows)} runs: " + " x ".join(counts)


def interval_table(intervals: pd.DataFrame, *, arch: str = "default") -> pd.DataFrame:
    """:func:`bootstrap_ci` as ``"mean [low, high]"``, one row per configuration and
    measure, one column per method."""
    part = intervals[intervals["arch"] == arch].copy()
    part["cell"] = [f"{m:.3f} [{lo:.3f}, {hi:.3f}]"
                    for m, lo, hi in zip(part["mean"], part["low"], part["high"])]
    return _relabel(part.pivot(index=["config", "measure"], columns="method", values="cell"))


def runtime_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`runtime_table` with a third column per configuration: paper / ours."""
    out = {}
    for config in table.columns.get_level_values(0).unique():
        out[(config, "ours (s)")] = table[(config, "ours")]
        out[(config, "paper (s)")] = table[(config, "paper")]
        out[(config, "paper / ours")] = table[(config, "paper")] / table[(config, "ours")]
    return pd.DataFrame(out)





def bootstrap_ci(rows: pd.DataFrame, split: str = "test", *, n_boot: int = 2000,
                 level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Percentile bootstrap confidence interval of the mean objective over seeds, per
    configuration, architecture, measure and method (seeds resampled with replacement;
    all resamples of a group drawn at once)."""
    _check(rows, split)
    rng = np.random.default_rng(seed)
    out = []
    for key, group in rows.groupby(["config", "arch", "measure", "method"]):
        # In seed order, so that the draws do not depend on the store's row order.
        values = group.sort_values("seed", kind="stable")[f"{split}_objective"].to_numpy(
            dtype=float)
        draws = rng.integers(0, len(values), size=(n_boot, len(values)))
        means = values[draws].mean(axis=1)
        low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
        out.append(dict(zip(["config", "arch", "measure", "method"], key),
                        seeds=len(values), mean=values.mean(), low=low, high=high))
    return pd.DataFrame(out)


def paired_tests(rows: pd.DataFrame, first: tuple[str, ...] | None = None,
                 second: tuple[str, ...] | None = None, split: str = "test"
                 ) -> pd.DataFrame:
    """Wilcoxon signed-rank test of each method of ``first`` against each of ``second`` on
    the same networks (paired by seed), per configuration, architecture and measure: the
    median difference of the objective (negative: ``first`` lower) and the two-sided p.
    ``first`` and ``second`` default to the fine-tuning and the post-processing family."""
    _check(rows, split)
    first = methods_of("fine-tuning") if first is None else first
    second = methods_of("post-processing") if second is None else second
    wide = rows.pivot_table(index=["config", "arch", "measure", "seed"], columns="method",
                            values=f"{split}_objective")
    out = []
    for key, group in wide.groupby(level=[0, 1, 2]):
        for a in first:
            for b in second:
                if a not in group or b not in group:
                    continue
                pair = group[[a, b]].dropna()
                diff = (pair[a] - pair[b]).to_numpy()
                if len(diff) < 2 or np.all(diff == 0):
                    p = np.nan
                else:
                    p = float(wilcoxon(pair[a], pair[b]).pvalue)
                out.append(dict(zip(["config", "arch", "measure"], key),
                                first=method_label(a), second=method_label(b),
                                seeds=len(diff), median_difference=float(np.median(diff)),
                                p_value=p))
    return pd.DataFrame(out)


def paired_test_table(tests: pd.DataFrame) -> pd.DataFrame:
    """:func:`paired_tests` as one row per configuration and measure, one column per pair;
    each cell is the p-value after the sign of the median difference ("-": the first method
    lower, "+": the second lower)."""
    cells = [f"{'-' if d < 0 else '+' if d > 0 else '='} {p:.3f}"
             for d, p in zip(tests["median_difference"], tests["p_value"])]
    return tests.assign(pair=tests["first"] + " vs " + tests["second"], cell=cells).pivot(
        index=["config", "measure"], columns="pair", values="cell")


def significantly_lower(tests: pd.DataFrame, level: float = 0.05) -> int:
    """How many of :func:`paired_tests`' comparisons have the first method significantly
    lower (p below ``level``, negative median difference)."""
    return int(((tests["p_value"] < level) & (tests["median_difference"] < 0)).sum())


__all__ = ["ARCH_LABELS", "AUTHORS_PROTOCOL", "COMPARISON_COLUMNS", "REFERENCE_LABEL",
           "against_paper", "bootstrap_ci", "describe", "fine_tuning_vs_post_processing",
           "interval_table", "labelled", "method_label", "objective_table", "one_class_flags",
           "ordered_methods", "paired_test_table", "paired_tests", "paired_wins",
           "paper_comparison", "paper_time_estimate", "ranks", "runtime_ratios",
           "runtime_table", "significantly_lower", "spread_comparison", "summary"]
