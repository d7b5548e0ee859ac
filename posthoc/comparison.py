"""Tables and claim checks of the main comparison and the ablation, from the study's rows.

Every function takes the tidy rows of :func:`posthoc.study.study_rows` (one row per
configuration, architecture, seed, measure and method) and a ``split`` (``"valid"`` or
``"test"``); the columns read are ``{split}_objective``, ``{split}_bias`` and
``{split}_accuracy``.
"""

from __future__ import annotations

import pandas as pd

from ._validation import check_choice
from .paper import PAPER_LABELS, format_mean_std, paper_numbers

#: How the book names each method (the paper's names).
METHOD_LABELS = {"default": "Default", "random": "Random", "layerwise": "LayerwiseOpt",
                 "adversarial": "Adversarial", "roc": "ROC", "eqodds": "EqOdds",
                 "calibeqodds": "CalibEqOdds"}
FINE_TUNING = ("random", "layerwise", "adversarial")
POST_PROCESSING = ("roc", "eqodds", "calibeqodds")
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
                         "posthoc.study.study_rows.")


def _ordered(methods) -> list[str]:
    return [m for m in METHOD_LABELS if m in set(methods)]


def summary(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Mean and standard deviation over seeds of objective, |bias| and accuracy, with the
    number of seeds, per configuration, architecture, measure and method."""
    _check(rows, split)
    frame = rows.assign(abs_bias=rows[f"{split}_bias"].abs(),
                        objective=rows[f"{split}_objective"],
                        accuracy=rows[f"{split}_accuracy"])
    keys = ["config", "arch", "measure", "method"]
    out = frame.groupby(keys).agg(
        seeds=("seed", "nunique"), objective=("objective", "mean"),
        objective_std=("objective", "std"), abs_bias=("abs_bias", "mean"),
        abs_bias_std=("abs_bias", "std"), accuracy=("accuracy", "mean"),
        accuracy_std=("accuracy", "std")).reset_index()
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
    table = stats.pivot(index=["config", "arch", "measure"], columns="method", values="cell")
    table = table[_ordered(table.columns)].rename(columns=METHOD_LABELS)
    table.columns.name = None
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
    methods = [m for m in ("roc", "eqodds", "calibeqodds", "random", "adversarial",
                           "layerwise") if m in ours.index]
    columns = {}
    for config in configs:
        label = PAPER_LABELS[config]
        columns[(label, "ours")] = ours.loc[methods, config]
        columns[(label, "paper")] = paper.reindex(index=methods)[config]
    table = pd.DataFrame(columns)
    table.index = [METHOD_LABELS[m] for m in methods]
    return table


def fine_tuning_vs_post_processing(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per configuration and measure (paper's network): the mean objective of each family's
    best method and of each family on average, and which family wins."""
    stats = summary(rows[rows["arch"] == "default"], split)
    out = []
    for (config, measure), group in stats.groupby(["config", "measure"]):
        by = group.set_index("method")["objective"]
        fine = by.reindex(FINE_TUNING).dropna()
        post = by.reindex(POST_PROCESSING).dropna()
        if fine.empty or post.empty:
            continue
        out.append({"config": config, "measure": measure,
                    "best fine-tuning": METHOD_LABELS[fine.idxmin()],
                    "best fine-tuning objective": fine.min(),
                    "best post-processing": METHOD_LABELS[post.idxmin()],
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
    table = stats.pivot(index=["config", "arch", "measure"], columns="method", values="rank")
    table = table[_ordered(table.columns)].rename(columns=METHOD_LABELS)
    table.columns.name = None
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
    return wins.rename(columns={"sum": f"{METHOD_LABELS[a]} lower", "size": "seeds"})


def describe(rows: pd.DataFrame) -> str:
    """``"84 runs: 4 configurations x 3 measures x 7 methods x 1 seeds"`` (dimensions with
    one value left out, except seeds)."""
    parts = [(column, label) for column, label in (
        ("config", "configurations"), ("arch", "networks"), ("measure", "measures"),
        ("method", "methods"), ("seed", "seeds")) if column in rows]
    counts = [f"{rows[c].nunique()} {label}" for c, label in parts
              if rows[c].nunique() > 1 or c == "seed"]
    return f"{len(rows)} runs: " + " x ".join(counts)


def claim(text: str, supported: bool | None, evidence: str) -> str:
    """One line of a chapter's verdict; ``supported=None`` when the data cannot decide."""
    verdict = {True: "SUPPORTED", False: "NOT SUPPORTED", None: "UNDECIDED"}[
        None if supported is None else bool(supported)]
    return f"{verdict:14s} {text}\n{'':15s}{evidence}"


def fine_tuning_claim(families: pd.DataFrame) -> str:
    """The paper's claim that fine-tuning beats post-processing on average, judged on
    :func:`fine_tuning_vs_post_processing`: supported when the post-processing family's mean
    objective is above the fine-tuning family's on average and in most settings."""
    if families.empty:
        return claim("The fine-tuning methods beat the post-processing ones on average.",
                     None, "no setting holds both families.")
    gap = families["post-processing mean"] - families["fine-tuning mean"]
    above = int((gap > 0).sum())
    return claim(
        "The fine-tuning methods beat the post-processing ones on average.",
        bool(gap.mean() > 0 and above > len(gap) / 2),
        f"the post-processing family's mean test objective is above the fine-tuning "
        f"family's in {above} of {len(gap)} settings (mean gap {gap.mean():+.3f}); the best "
        f"fine-tuning method beats the best post-processing method in "
        f"{int(families['fine-tuning wins'].sum())} of {len(gap)}.")


def adversarial_claim(adversarial_ranks: pd.Series, n_methods: int) -> str:
    """The paper's claim that adversarial fine-tuning is best for larger and higher-dropout
    networks, from its rank (1 = best) per setting; the index has an ``arch`` level, and
    ``"default"`` (the paper's network) is the reference. Supported when it ranks first on
    most settings of the other networks."""
    arch = adversarial_ranks.index.get_level_values("arch")
    variants = adversarial_ranks[arch != "default"]
    reference = adversarial_ranks[arch == "default"]
    text = "Adversarial fine-tuning is best for larger and higher-dropout networks."
    if variants.empty:
        return claim(text, None, "no results on the other networks.")
    evidence = (f"best of {n_methods} on {int((variants == 1).sum())} of {len(variants)} "
                f"settings of the other networks (mean rank {variants.mean():.2f})")
    if len(reference):
        evidence += f"; on the paper's network its mean rank is {reference.mean():.2f}"
    return claim(text, bool((variants == 1).mean() > 0.5), evidence + ".")


def interval_table(intervals: pd.DataFrame, *, arch: str = "default") -> pd.DataFrame:
    """:func:`bootstrap_ci` as ``"mean [low, high]"``, one row per configuration and
    measure, one column per method."""
    part = intervals[intervals["arch"] == arch].copy()
    part["cell"] = [f"{m:.3f} [{lo:.3f}, {hi:.3f}]"
                    for m, lo, hi in zip(part["mean"], part["low"], part["high"])]
    table = part.pivot(index=["config", "measure"], columns="method", values="cell")
    table = table[_ordered(table.columns)].rename(columns=METHOD_LABELS)
    table.columns.name = None
    return table


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
    import numpy as np

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


def paired_tests(rows: pd.DataFrame, first: tuple[str, ...] = FINE_TUNING,
                 second: tuple[str, ...] = POST_PROCESSING, split: str = "test"
                 ) -> pd.DataFrame:
    """Wilcoxon signed-rank test of each method of ``first`` against each of ``second`` on
    the same networks (paired by seed), per configuration, architecture and measure: the
    median difference of the objective (negative: ``first`` lower) and the two-sided p."""
    import numpy as np
    from scipy.stats import wilcoxon

    _check(rows, split)
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
                                first=METHOD_LABELS[a], second=METHOD_LABELS[b],
                                seeds=len(diff), median_difference=float(np.median(diff)),
                                p_value=p))
    return pd.DataFrame(out)


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


__all__ = ["ARCH_LABELS", "FINE_TUNING", "METHOD_LABELS", "POST_PROCESSING", "adversarial_claim",
           "against_paper", "bootstrap_ci", "claim", "describe", "fine_tuning_claim",
           "fine_tuning_vs_post_processing", "interval_table", "objective_table", "paired_tests",
           "paired_wins", "ranks", "runtime_ratios", "runtime_table", "summary"]
