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

from .._validation import check_choice
from ..methods import METHODS, methods_of
from .paper import PAPER_LABELS, format_mean_std, paper_numbers
from .sensitivity import AUTHORS_SPREAD

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


def summary(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Mean and standard deviation over seeds of objective, |bias| and accuracy, with the
    number of seeds and the share of seeds whose result is a constant classifier
    (``constant``; 0 when the rows do not record it), per configuration, architecture,
    measure and method."""
    _check(rows, split)
    constant = (rows[f"{split}_constant"].astype(float) if f"{split}_constant" in rows
                else 0.0)
    frame = rows.assign(abs_bias=rows[f"{split}_bias"].abs(),
                        objective=rows[f"{split}_objective"],
                        accuracy=rows[f"{split}_accuracy"], constant=constant)
    keys = ["config", "arch", "measure", "method"]
    out = frame.groupby(keys).agg(
        seeds=("seed", "nunique"), objective=("objective", "mean"),
        objective_std=("objective", "std"), abs_bias=("abs_bias", "mean"),
        abs_bias_std=("abs_bias", "std"), accuracy=("accuracy", "mean"),
        accuracy_std=("accuracy", "std"), constant=("constant", "mean")).reset_index()
    return out


def objective_table(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Objective (mean ± std over seeds), one row per configuration, architecture and
    measure, one column per method; the best method's cell is marked with ``*``."""
    stats = summary(rows, split)
    stats["cell"] = [format_mean_std(m, s) for m, s in zip(stats["objective"],
                                                           stats["objective_std"])]
    lowest = stats.groupby(["config", "arch", "measure"])["objective"].transform("min")
    best = stats["objective"] <= lowest + _TIE
    stats.loc[best, "cell"] = stats.loc[best, "cell"] + " *"
    return _relabel(stats.pivot(index=["config", "arch", "measure"], columns="method",
                                values="cell"))


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
    best method and of each family on average, and which family wins."""
    stats = summary(rows[rows["arch"] == "default"], split)
    out = []
    for (config, measure), group in stats.groupby(["config", "measure"]):
        by = group.set_index("method")["objective"]
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
                    "fine-tuning wins": bool(fine.min() < post.min())})
    return pd.DataFrame(out)


def ranks(rows: pd.DataFrame, split: str = "test", *, arch: str | None = "default"
          ) -> pd.DataFrame:
    """Rank (1 = lowest mean objective) of each method per configuration, architecture and
    measure; ``arch=None`` keeps every architecture."""
    stats = summary(rows if arch is None else rows[rows["arch"] == arch], split)
    stats["rank"] = (stats["objective"] / _TIE).round().groupby(
        [stats["config"], stats["arch"], stats["measure"]]).rank(method="min")
    table = _relabel(stats.pivot(index=["config", "arch", "measure"], columns="method",
                                 values="rank"))
    return table.astype(int)


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
        values = group[f"{split}_objective"].to_numpy(dtype=float)
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


def against_paper(ours_mean: float, ours_std: float | None, paper_mean: float,
                  paper_std: float | None, *, resolution: float = 0.0005) -> dict:
    """Ours beside the paper's number: the difference and whether ours lies within the
    paper's mean ± 2 standard deviations. A standard deviation the paper prints as 0.000
    (or omits) is taken as ``resolution``, half a unit of its last printed digit."""
    sigma = resolution if paper_std is None or pd.isna(paper_std) else max(paper_std,
                                                                            resolution)
    difference = ours_mean - paper_mean
    return {"ours": ours_mean, "ours_std": ours_std, "paper": paper_mean,
            "paper_std": paper_std, "difference": difference,
            "within_2_sigma": bool(abs(difference) <= 2 * sigma)}


#: The columns of ``comparison.csv`` (:func:`paper_comparison`).
COMPARISON_COLUMNS = ["table", "config", "quantity", "model", "protocol", "paper", "paper_std",
                      "ours", "ours_std", "difference", "within_2_sigma", "n_failed_networks",
                      "cause"]

#: What the authors' code did differently, by table (the ``authors_code`` protocol).
AUTHORS_PROTOCOL = {"table3": "each model's threshold at its best validation accuracy and "
                              "LogisticRegressionCV",
                    "appendixA": "soft SPD, scored on deltas it was mostly fitted on"}


def _outlier_cause(values: np.ndarray, seeds: np.ndarray, paper_mean: float,
                   paper_std: float, quantity: str) -> str:
    """If one seed lies far below the others (more than 5 median absolute deviations) and
    ours lies within the paper's ± 2σ without it, say so with the numbers."""
    if len(values) < 4:
        return ""
    low = int(np.argmin(values))
    rest = np.delete(values, low)
    spread = np.median(np.abs(rest - np.median(rest)))
    if values[low] >= np.median(rest) - 5 * max(spread, 1e-9):
        return ""
    line = against_paper(float(rest.mean()), float(rest.std(ddof=1)), paper_mean, paper_std)
    if not line["within_2_sigma"]:
        return ""
    return (f"seed {int(seeds[low])}'s network reached only {quantity} {values[low]:.3f} "
            f"(the others {rest.min():.3f} to {rest.max():.3f}); without it ours is "
            f"{rest.mean():.3f} ± {rest.std(ddof=1):.3f}, within the paper's ± 2σ")


def _protocol_causes(frame: pd.DataFrame) -> pd.Series:
    """For a row outside ± 2σ under our protocol whose authors'-code row lies within: the
    protocol is the cause, with the authors' number."""
    causes = frame["cause"].copy()
    key = ["table", "config", "quantity", "model"]
    authors = frame[frame["protocol"] == "authors_code"].set_index(key)
    for index, row in frame.iterrows():
        if row["within_2_sigma"] or row["protocol"] == "authors_code" or causes[index]:
            continue
        match = tuple(row[k] for k in key)
        if match in authors.index and authors.loc[match, "within_2_sigma"]:
            causes[index] = (f"the protocol: the authors' code ({AUTHORS_PROTOCOL[row['table']]}) "
                             f"gives {authors.loc[match, 'ours']:.3f}, within the paper's ± 2σ")
    return causes


def paper_comparison(table1_rows: pd.DataFrame | None, table3_runs: pd.DataFrame | None = None,
                     appendix_rows: pd.DataFrame | None = None, *,
                     regression_config: str = "") -> pd.DataFrame:
    """Every number of Tables 1 and 3 and Appendix A the paper reports, ours beside it
    (:func:`against_paper`), one row per number and protocol (:data:`COMPARISON_COLUMNS`).

    ``protocol`` says how ours was computed: ``paper`` is the paper's setup as we implement
    it, ``authors_code`` the behaviour of the authors' code where it differs (Table 3's
    thresholds and logistic regression; Appendix A's soft SPD scored on rows it was mostly
    fitted on), ``held_out`` our Appendix A regression scored on deltas it never saw.
    ``n_failed_networks`` counts the networks among ours that never trained. ``cause`` says,
    for a number outside the paper's ± 2σ, what we measured to explain it: the protocol
    (the authors'-code row lies within), or one seed's network far below the others (the
    rest lie within); it is empty when neither holds.

    The paper's Appendix A prints mean ± 2.2 std (the authors' notebook), so its σ is the
    printed value divided by 2.2 there.

    ``table1_rows``: :func:`posthoc.repro.sensitivity.seed_table`; ``table3_runs``:
    :func:`posthoc.repro.models.model_runs`; ``appendix_rows``:
    :func:`posthoc.repro.sensitivity.perturbation_table` of ``regression_config`` (the
    paper's Appendix A row has the configuration ``"all"``). A table given as None is left
    out.
    """
    table1_rows = pd.DataFrame(columns=["config"]) if table1_rows is None else table1_rows
    table3_runs = (pd.DataFrame(columns=["dataset", "model", "protocol"])
                   if table3_runs is None else table3_runs)
    appendix_rows = pd.DataFrame() if appendix_rows is None else appendix_rows
    paper = paper_numbers()
    lines = []

    def compare(table, config, quantity, model, protocol, values, failed=0, shown_as=None,
                spread=1.0, seeds=None):
        ref = paper[(paper["table"] == table) & (paper["config"] == config)
                    & (paper["quantity"] == quantity) & (paper["model_or_method"] == model)]
        if ref.empty or len(values) == 0:
            return
        std = float(np.std(values, ddof=1)) if len(values) > 1 else np.nan
        printed = ref["std"].iloc[0]
        line = against_paper(float(np.mean(values)), std, float(ref["mean"].iloc[0]),
                             printed / spread)
        line["paper_std"] = printed
        cause = ("" if line["within_2_sigma"] or seeds is None else
                 _outlier_cause(np.asarray(values, dtype=float), np.asarray(seeds),
                                float(ref["mean"].iloc[0]), printed / spread, quantity))
        lines.append({"table": table, "config": shown_as or config, "quantity": quantity,
                      "model": model, "protocol": protocol, **line,
                      "n_failed_networks": int(failed), "cause": cause})

    for config, group in table1_rows.groupby("config"):
        failed = group["failed"].sum() if "failed" in group else 0
        for quantity in ("aod", "eod", "spd", "accuracy"):
            compare("table1", config, quantity, "network", "paper", group[quantity].to_numpy(),
                    failed, seeds=group["seed"].to_numpy() if "seed" in group else None)
    runs = table3_runs if "protocol" in table3_runs else table3_runs.assign(protocol="paper")
    for (dataset, model, protocol), group in runs.groupby(["dataset", "model", "protocol"]):
        failed = group["failed"].sum() if model == "network" and "failed" in group else 0
        for quantity in ("accuracy", "roc_auc"):
            compare("table3", dataset, quantity, model, protocol, group[quantity].to_numpy(),
                    failed, seeds=group["seed"].to_numpy() if model == "network" else None)
    for protocol, column in (("held_out", "r2"), ("authors_code", "r2_authors")):
        if column in appendix_rows:
            compare("appendixA", "all", "r2_delta_to_spd", "network", protocol,
                    appendix_rows[column].to_numpy(), shown_as=regression_config,
                    spread=AUTHORS_SPREAD)
    frame = pd.DataFrame(lines, columns=COMPARISON_COLUMNS)
    if not frame.empty:
        frame["cause"] = _protocol_causes(frame)
    return frame


def paper_time_estimate(rows: pd.DataFrame) -> float:
    """Seconds the paper's Table 2 runtimes add up to over the study cells ``rows`` (methods
    and configurations it does not time count 0)."""
    per_cell = paper_numbers("table2").set_index(["model_or_method", "config"])["mean"]
    return float(sum(per_cell.get((m, c), 0.0) for m, c in zip(rows["method"], rows["config"])))


__all__ = ["ARCH_LABELS", "AUTHORS_PROTOCOL", "COMPARISON_COLUMNS", "against_paper", "bootstrap_ci", "describe",
           "fine_tuning_vs_post_processing", "interval_table", "labelled", "method_label",
           "objective_table", "ordered_methods", "paired_test_table", "paired_tests",
           "paired_wins", "paper_comparison", "paper_time_estimate", "ranks", "runtime_ratios",
           "runtime_table", "significantly_lower", "summary"]
