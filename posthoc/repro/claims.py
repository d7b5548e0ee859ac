"""The paper's claims, each in the paper's words and judged by one function with one criterion.

Every function takes tables computed elsewhere (by :mod:`posthoc.repro.comparison`,
:mod:`posthoc.repro.sensitivity` or :mod:`posthoc.repro.models`) and returns a
:class:`Verdict`: the claim as the paper words it, where it says so, one of three verdicts
(``supported``, ``partly supported``, ``not supported``; ``undecided`` when the data cannot
decide), the criterion, written here before any number was seen, and the evidence, with
effect sizes and percentile-bootstrap intervals over the seeds (networks).

Two rules hold for every claim:

- A result whose predictions are all one class (a *constant* classifier) never counts as a
  method "performing best": its bias is 0 by construction, and the paper's objective can
  prefer it to any useful classifier. Such results are counted in the evidence instead.
- A claim reads ``supported`` only when every part of its words holds; where the evidence
  contradicts a part, the verdict is at most ``partly supported``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..methods import methods_of
from .comparison import ARCH_LABELS, method_label
from .paper import PAPER_LABELS
from .sensitivity import concentration

#: The verdicts, strongest first.
LEVELS = ("supported", "partly supported", "not supported", "undecided")
#: Bootstrap resamples and confidence level of every interval.
N_BOOT, LEVEL = 2000, 0.95
#: Two mean objectives closer than this are tied: neither is "the best".
TIE = 1e-9


@dataclass(frozen=True)
class Verdict:
    """One claim of the paper against our results."""

    claim: str
    where: str
    verdict: str
    criterion: str
    evidence: str

    def __post_init__(self) -> None:
        if self.verdict not in LEVELS:
            raise ValueError(f"verdict must be one of {LEVELS}; got {self.verdict!r}.")

    def row(self) -> dict:
        """The verdict as one row of ``claims.csv``."""
        return asdict(self)

    def __str__(self) -> str:
        return (f"{self.verdict.upper()}: “{self.claim}” ({self.where})\n"
                f"  criterion: {self.criterion}\n  evidence: {self.evidence}")


def verdict_table(verdicts) -> pd.DataFrame:
    """Verdicts as a table: ``claim``, ``where``, ``verdict``, ``criterion``, ``evidence``."""
    return pd.DataFrame([v.row() for v in verdicts],
                        columns=["claim", "where", "verdict", "criterion", "evidence"])


def _level(all_parts: bool, some_part: bool) -> str:
    return "supported" if all_parts else "partly supported" if some_part else "not supported"


def bootstrap_interval(values, *, seed: int = 0, statistic=np.mean) -> tuple[float, float]:
    """Percentile bootstrap interval (:data:`LEVEL`, :data:`N_BOOT` resamples) of
    ``statistic`` over ``values`` (resampled with replacement, all resamples at once)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, len(values), (N_BOOT, len(values)))
    stats = statistic(values[draws], axis=1)
    low, high = np.quantile(stats, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(low), float(high)


def _ci(values, **kwargs) -> str:
    low, high = bootstrap_interval(values, **kwargs)
    return f"{np.mean(values):+.3f} [{low:+.3f}, {high:+.3f}]"


# --------------------------------------------------------------------------- study tables


def _settings(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per (configuration, architecture, measure, method): mean objective over seeds and
    whether most seeds' results are constant classifiers."""
    constant = (rows[f"{split}_constant"] if f"{split}_constant" in rows
                else pd.Series(False, index=rows.index))
    frame = rows.assign(_constant=constant.astype(bool))
    return (frame.groupby(["config", "arch", "measure", "method"])
            .agg(objective=(f"{split}_objective", "mean"), constant=("_constant", "mean"),
                 seeds=("seed", "nunique"))
            .reset_index())


def best_methods(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per setting (configuration, architecture, measure): the method with the lowest mean
    objective (``best``), the same among results that are not constant classifiers on most
    seeds (``best_non_constant``), and the best two of those (``top_two``). Methods whose
    means lie within :data:`TIE` of the lowest share it: no method is then the best, and the
    column reads ``"tie: a = b"`` (:func:`tied_methods` reads it back)."""
    stats = _settings(rows, split)
    out = []
    for key, group in stats.groupby(["config", "arch", "measure"]):
        ordered = group.sort_values("objective", kind="stable")
        useful = ordered[ordered["constant"] <= 0.5]
        out.append(dict(zip(["config", "arch", "measure"], key), best=_named(_lowest(ordered)),
                        best_is_constant=bool(ordered["constant"].iloc[0] > 0.5),
                        best_non_constant=_named(_lowest(useful)),
                        top_two=list(useful["method"].iloc[:2])))
    return pd.DataFrame(out)


def _lowest(ordered: pd.DataFrame) -> list[str]:
    """The methods of ``ordered`` (sorted by objective) within :data:`TIE` of the lowest."""
    if ordered.empty:
        return []
    low = ordered["objective"].iloc[0]
    return list(ordered.loc[ordered["objective"] - low <= TIE, "method"])


_TIED = "tie: "


def _named(tied: list[str]) -> str:
    """The one best method, ``"tie: a = b"`` when several share the lowest mean, or ``""``."""
    return tied[0] if len(tied) == 1 else _TIED + " = ".join(tied) if tied else ""


def tied_methods(best: str) -> list[str]:
    """The methods a ``best`` entry of :func:`best_methods` names as tied (else none)."""
    return best[len(_TIED):].split(" = ") if best.startswith(_TIED) else []


def _paired(rows: pd.DataFrame, a: str, b: str, split: str = "test") -> pd.DataFrame:
    """Per seed and setting: ``b``'s objective minus ``a``'s (positive: ``a`` is better)."""
    keys = ["config", "arch", "measure", "seed"]
    column = f"{split}_objective"
    left = rows[rows["method"] == a][keys + [column]]
    right = rows[rows["method"] == b][keys + [column]]
    merged = left.merge(right, on=keys, suffixes=("_a", "_b"))
    return merged.assign(gain=merged[f"{column}_b"] - merged[f"{column}_a"])


def _significance(gains: np.ndarray, seed: int) -> int:
    """+1 when the bootstrap interval of the mean gain lies above 0, -1 below, else 0."""
    low, high = bootstrap_interval(gains, seed=seed)
    return 1 if low > 0 else -1 if high < 0 else 0


def _family_duel(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Every (setting, fine-tuning method, post-processing method): the mean gain of the
    fine-tuning method over seeds, its bootstrap interval and its significance."""
    fine = [m for m in methods_of("fine-tuning") if m in set(rows["method"])]
    post = [m for m in methods_of("post-processing") if m in set(rows["method"])]
    out = []
    for f in fine:
        for p in post:
            paired = _paired(rows, f, p, split)
            for index, (key, group) in enumerate(paired.groupby(["config", "arch", "measure"])):
                gains = group["gain"].to_numpy()
                low, high = bootstrap_interval(gains, seed=index)
                out.append(dict(zip(["config", "arch", "measure"], key), fine_tuning=f,
                                post_processing=p, gain=gains.mean(), low=low, high=high,
                                significance=_significance(gains, index)))
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- the claims


def network_claim(runs: pd.DataFrame) -> Verdict:
    """Table 3 (``runs``: :func:`posthoc.repro.models.compare_models` rows of one
    protocol)."""
    claim = ("the neural network achieves better accuracy and ROC AUC on all datasets except "
             "COMPAS, which is within one standard deviation of the optimal performance")
    where = "Appendix A, Table 3"
    criterion = ("per dataset and quantity, d = network mean − best other model's mean over "
                 "seeds: on Adult and Bank the words hold when d > 0, on COMPAS when d ≥ −(the "
                 "network's standard deviation); supported when every case holds, partly "
                 "supported when at least half do, otherwise not supported")
    if "protocol" in runs and runs["protocol"].nunique() > 1:
        raise ValueError("runs holds several protocols; pass the rows of one.")
    mean = runs.groupby(["dataset", "model"])[["accuracy", "roc_auc"]].mean()
    std = runs.groupby(["dataset", "model"])[["accuracy", "roc_auc"]].std().fillna(0.0)
    parts, holds = [], []
    for dataset in mean.index.get_level_values(0).unique():
        if "network" not in mean.loc[dataset].index or len(mean.loc[dataset]) < 2:
            continue
        others = mean.loc[dataset].drop("network")
        for quantity in ("accuracy", "roc_auc"):
            rival = others[quantity].idxmax()
            net = runs[(runs["dataset"] == dataset) & (runs["model"] == "network")][quantity]
            best = runs[(runs["dataset"] == dataset) & (runs["model"] == rival)][quantity]
            gap = net.mean() - best.mean()
            slack = std.loc[(dataset, "network"), quantity] if dataset == "compas" else 0.0
            holds.append(gap > -slack if dataset == "compas" else gap > 0)
            low, high = bootstrap_interval(net.to_numpy() - best.mean())
            parts.append(f"{dataset} {quantity} d = {gap:+.3f} [{low:+.3f}, {high:+.3f}] "
                         f"against {rival.replace('_', ' ')}")
    if not holds:
        return Verdict(claim, where, "undecided", criterion,
                       "no dataset holds the network and another model.")
    return Verdict(claim, where, _level(all(holds), np.mean(holds) >= 0.5), criterion,
                   f"{sum(holds)} of {len(holds)} cases hold; " + "; ".join(parts) + ".")


def _median_spread_ratio(values: np.ndarray) -> np.ndarray:
    """Median over the bias columns of std(bias) / std(accuracy) over seeds, for
    (..., seeds, 1 + measures) arrays whose first column is accuracy."""
    std = values.std(axis=-2, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.median(std[..., 1:] / std[..., :1], axis=-1)


def spread_claim(rows: pd.DataFrame) -> Verdict:
    """Table 1 (``rows``: :func:`posthoc.repro.sensitivity.seed_rows` of the networks)."""
    claim = ("the standard deviation of the bias score is an order of magnitude higher than "
             "the standard deviation of the accuracy")
    where = "Section 6, Table 1"
    criterion = ("per configuration, r = median over SPD, EOD and AOD of std(bias) / "
                 "std(accuracy) over seeds: supported when r ≥ 10 in every configuration, "
                 "partly supported when r ≥ √10 ≈ 3.2 (half an order of magnitude) in every "
                 "configuration, otherwise not supported")
    measures = ["spd", "eod", "aod"]
    ratios, parts = [], []
    for index, (config, group) in enumerate(rows.groupby("config", sort=False)):
        if len(group) < 2:
            continue
        values = group[["accuracy", *measures]].to_numpy(dtype=float)
        ratio = float(_median_spread_ratio(values))
        draws = np.random.default_rng(index).integers(0, len(values),
                                                      (N_BOOT, len(values)))
        low, high = np.nanquantile(_median_spread_ratio(values[draws]),
                                   [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        ratios.append(ratio)
        failed = int(group["failed"].sum()) if "failed" in group else 0
        parts.append(f"{PAPER_LABELS.get(config, config)} r = {ratio:.1f} [{low:.1f}, "
                     f"{high:.1f}] ({failed} failed network(s) of {len(group)})")
    if not ratios:
        return Verdict(claim, where, "undecided", criterion,
                       "no configuration has two or more seeds.")
    ratios = np.array(ratios)
    return Verdict(claim, where, _level(bool((ratios >= 10).all()),
                                        bool((ratios >= np.sqrt(10)).all())),
                   criterion, "; ".join(parts) + ".")


def fine_tuning_claim(rows: pd.DataFrame, *, arch: str = "default") -> Verdict:
    """Section 6.1 (``rows``: study rows; the networks of ``arch``, ``"variants"`` for
    every architecture but the paper's)."""
    claim = "the three fine-tuning methods significantly outperform the baseline methods"
    where = ("Section 6.1, Discussion" if arch == "default"
             else "Section 6.1, Discussion, of Figure 1 plots 7-8")
    criterion = ("for every setting and every (fine-tuning, post-processing) pair, the gain "
                 "(post-processing objective − fine-tuning objective on the same network) "
                 "is significant when its 95% bootstrap interval over seeds lies above 0; "
                 "supported when at least 90% of the pairs are significant gains and none a "
                 "significant loss, partly supported when more than half are significant "
                 "gains, otherwise not supported")
    chosen = rows[rows["arch"] != "default"] if arch == "variants" else rows[rows["arch"] == arch]
    duel = _family_duel(chosen) if not chosen.empty else pd.DataFrame()
    if duel.empty or chosen["seed"].nunique() < 2:
        return Verdict(claim, where, "undecided", criterion,
                       "fewer than two seeds, or one of the two families was not run.")
    wins, losses = int((duel["significance"] > 0).sum()), int((duel["significance"] < 0).sum())
    per_method = "; ".join(
        f"{method_label(f)} {int((g['significance'] > 0).sum())} gains, "
        f"{int((g['significance'] < 0).sum())} losses, mean gain {g['gain'].mean():+.3f}"
        for f, g in duel.groupby("fine_tuning", sort=False))
    worst = duel.loc[duel["gain"].idxmin()]
    verdict = ("supported" if wins >= 0.9 * len(duel) and losses == 0
               else "partly supported" if wins > len(duel) / 2 else "not supported")
    return Verdict(claim, where, verdict, criterion,
                   f"{wins} of {len(duel)} pairs are significant gains and {losses} significant "
                   f"losses ({per_method}); the largest loss: {method_label(worst['fine_tuning'])} "
                   f"against {method_label(worst['post_processing'])} on "
                   f"{PAPER_LABELS.get(worst['config'], worst['config'])} "
                   f"{worst['measure'].upper()}, {worst['gain']:+.3f} [{worst['low']:+.3f}, "
                   f"{worst['high']:+.3f}].")


def random_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: the main comparison's study rows)."""
    claim = ("random perturbation is a strong fine-tuning technique, performing the best in "
             "many settings")
    where = "Section 6.1, Discussion"
    criterion = ("a method is the best in a setting when its mean test objective is the lowest "
                 "of all methods by more than 1e-9 and its results are not constant "
                 "classifiers on most seeds; supported when random perturbation is the best in "
                 "at least a third of the settings, partly supported when it is the best in "
                 "at least one or among the best two in at least half, otherwise not supported")
    main = rows[rows["arch"] == "default"]
    if "random" not in set(main["method"]):
        return Verdict(claim, where, "undecided", criterion, "random perturbation was not run.")
    best = best_methods(main)
    n = len(best)
    first = int((best["best_non_constant"] == "random").sum())
    top2 = int(best["top_two"].map(lambda t: "random" in t).sum())
    constant_firsts = int(best["best_is_constant"].sum())
    gains = _paired(main, "random", "default")["gain"]
    verdict = _level(first >= n / 3, first >= 1 or top2 >= n / 2)
    return Verdict(claim, where, verdict, criterion,
                   f"the best in {first} of {n} settings and among the best two in {top2}; "
                   f"in {constant_firsts} settings the lowest mean objective belongs to a "
                   f"constant classifier; gain over the unmodified network per network "
                   f"{_ci(gains)}.")


def layerwise_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: the main comparison's study rows)."""
    claim = ("layer-wise optimization performs well in some settings, but is sometimes "
             "susceptible to the initial conditions of the original model")
    where = "Section 6.1, Discussion"
    criterion = ("'performs well in some settings': among the best two non-constant methods in "
                 "at least two settings; 'susceptible to the initial conditions': its test "
                 "objective's standard deviation over seeds exceeds random perturbation's in "
                 "most settings; supported when both hold, partly supported when one does")
    main = rows[rows["arch"] == "default"]
    if not {"layerwise", "random"} <= set(main["method"]):
        return Verdict(claim, where, "undecided", criterion,
                       "layer-wise or random perturbation was not run.")
    if main["seed"].nunique() < 2:
        return Verdict(claim, where, "undecided", criterion, "one seed: no spread to compare.")
    best = best_methods(main)
    top2 = int(best["top_two"].map(lambda t: "layerwise" in t).sum())
    spread = (main[main["method"].isin(["layerwise", "random"])]
              .groupby(["config", "measure", "method"])["test_objective"].std()
              .unstack("method"))
    wider = int((spread["layerwise"] > spread["random"]).sum())
    ratio = (spread["layerwise"] / spread["random"]).to_numpy()
    gains = _paired(main, "layerwise", "default")["gain"]
    well, susceptible = top2 >= 2, wider > len(spread) / 2
    return Verdict(claim, where, _level(well and susceptible, well or susceptible), criterion,
                   f"among the best two in {top2} of {len(best)} settings; its spread over "
                   f"seeds exceeds random perturbation's in {wider} of {len(spread)} "
                   f"(ratio of the two, median {np.median(ratio):.2f}); gain over the "
                   f"unmodified network per network {_ci(gains)}.")


def adversarial_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: study rows of the paper's network and the ablation's, SPD)."""
    claim = ("the adversarial fine-tuning algorithm performs especially well when the dropout "
             "probability is higher and when the initial neural network is larger")
    where = "Section 6.1, Discussion; Figure 1, plots 7-8"
    criterion = ("for the dropout-0.5 network and for the larger ones (width 64, depth 20), "
                 "on the configurations both were run on: adversarial fine-tuning is the best "
                 "non-constant method (strictly, by more than 1e-9) in most of their settings, "
                 "and its mean rank is better than on the paper's network; supported when both "
                 "hold for both kinds of network, partly supported when either holds for "
                 "either, otherwise not supported")
    spd = rows[rows["measure"] == "spd"]
    if "adversarial" not in set(spd["method"]):
        return Verdict(claim, where, "undecided", criterion,
                       "adversarial fine-tuning was not run.")
    stats = _settings(spd)
    stats = stats[stats["constant"] <= 0.5]
    stats["rank"] = stats.groupby(["config", "arch"])["objective"].rank(method="min")
    best = best_methods(spd)
    reference = stats[(stats["arch"] == "default") & (stats["method"] == "adversarial")]
    groups = {"higher dropout": ["dropout-0.5"], "larger": ["width-64", "depth-20"]}
    results, parts = [], []
    for name, archs in groups.items():
        chosen = best[best["arch"].isin(archs)]
        if chosen.empty:
            continue
        wins = int((chosen["best_non_constant"] == "adversarial").sum())
        ties = int(chosen["best_non_constant"].map(
            lambda best: "adversarial" in tied_methods(best)).sum())
        ranks = stats[stats["arch"].isin(archs) & (stats["method"] == "adversarial")]
        configs = set(ranks["config"])
        ref = reference[reference["config"].isin(configs)]["rank"]
        improves = bool(len(ref) and ranks["rank"].mean() < ref.mean())
        results.append((wins > len(chosen) / 2, improves))
        parts.append(f"{name} ({', '.join(ARCH_LABELS.get(a, a) for a in archs)}): the best in "
                     f"{wins} of {len(chosen)} settings (tied for the lowest in {ties}), "
                     f"mean rank {ranks['rank'].mean():.2f} over its {len(ranks)} "
                     f"non-constant result(s) against {ref.mean():.2f} on the paper's "
                     "network")
    if not results:
        return Verdict(claim, where, "undecided", criterion, "no results on the other networks.")
    every = all(a and b for a, b in results) and len(results) == len(groups)
    some = any(a or b for a, b in results)
    constant = int(best[best["arch"] != "default"]["best_is_constant"].sum())
    return Verdict(claim, where, _level(every, some), criterion,
                   "; ".join(parts) + f"; in {constant} settings of the other networks the "
                   "lowest mean objective belongs to a constant classifier.")


def runtime_claim(table2: pd.DataFrame) -> Verdict:
    """Table 2 (``table2``: :func:`posthoc.repro.comparison.runtime_table`)."""
    # Only the cost part: that fine-tuning is "more powerful" is fine_tuning_claim's.
    claim = "[fine-tuning] comes at the price of computation time (See Table 2)"
    where = "Section 6.1, Discussion; Table 2"
    criterion = ("every fine-tuning method's mean time per run exceeds that of "
                 "every post-processing method other than reject option classification (which "
                 "searches thresholds too) — supported; exceeds at least the fastest "
                 "post-processing method's — partly supported; otherwise not supported")
    ours = table2.xs("ours", axis=1, level=1) if not table2.empty else table2
    slow = [method_label(m) for m in methods_of("fine-tuning") if method_label(m) in ours.index]
    fast = [method_label(m) for m in methods_of("post-processing")
            if m != "roc" and method_label(m) in ours.index]
    if not slow or not fast:
        return Verdict(claim, where, "undecided", criterion,
                       "no fine-tuning or no post-processing runtimes.")
    slowest_fast, fastest_slow = ours.loc[fast].max().max(), ours.loc[slow].min().min()
    return Verdict(claim, where, _level(fastest_slow > slowest_fast,
                                        fastest_slow > ours.loc[fast].min().min()), criterion,
                   f"fine-tuning {fastest_slow:.2f}-{ours.loc[slow].max().max():.1f} s per run, "
                   f"{' and '.join(fast)} at most {slowest_fast:.3f} s.")


def regression_claim(studies: pd.DataFrame, paper: tuple[float, float]) -> Verdict:
    """Appendix A (``studies``: :func:`posthoc.repro.sensitivity.perturbation_table`;
    ``paper``: the paper's mean and std)."""
    claim = ("the linear models are successfully able to predict the bias based on the random "
             "delta vectors with an R2 score of 0.861 ± 0.090")
    where = "Appendix A"
    criterion = ("supported when the R² on deltas the model was not fitted on (held out, hard "
                 "SPD) lies within the paper's mean ± 2 std; partly supported when only the "
                 "authors' protocol (soft SPD, scored on rows it was mostly fitted on) does; "
                 "otherwise not supported")
    mean, std = paper
    held, authors = studies["r2"].to_numpy(), studies["r2_authors"].to_numpy()
    inside = [abs(np.mean(v) - mean) <= 2 * std for v in (held, authors)]
    return Verdict(claim, where, _level(inside[0], inside[1]), criterion,
                   f"held-out R² {_ci(held)}; the authors' protocol {_ci(authors)} "
                   f"(mean and 95% bootstrap interval over {len(held)} networks).")


def few_parameters_claim(studies: pd.DataFrame, noise: np.ndarray) -> Verdict:
    """Appendix A, Figure 2 left (``noise``: :func:`posthoc.repro.sensitivity.
    noise_concentration` for the networks' parameter count)."""
    claim = "only a small fraction of the parameters contribute to the majority of the bias"
    where = "Appendix A, Figure 2 (left)"
    criterion = ("f = the smallest share of parameters whose |coefficients| carry half the "
                 "total; supported when f lies below the 2.5% quantile of f for Gaussian noise "
                 "vectors of the same length on most networks (fewer parameters than chance "
                 "carry the bias), partly supported on at least one network, otherwise not "
                 "supported")
    shares = np.array([concentration(c, (0.5,))[0.5] for c in studies["coef"]])
    floor = float(np.quantile(noise, 0.025))
    below = int((shares < floor).sum())
    return Verdict(claim, where, _level(below > len(shares) / 2, below >= 1), criterion,
                   f"f per network {_ci(shares)}; Gaussian noise gives {np.mean(noise):.3f} "
                   f"(2.5% quantile {floor:.3f}); below it on {below} of {len(shares)} networks.")


def singular_values_claim(singular: np.ndarray, noise: np.ndarray) -> Verdict:
    """Appendix A, Figure 2 right (``singular``: the networks' coefficient singular values;
    ``noise``: :func:`posthoc.repro.sensitivity.noise_singular_values`, same shape per
    draw)."""
    claim = ("the singular values are all close to 1. This indicates that the coefficients "
             "are all relatively different from one another")
    where = "Appendix A, Figure 2 (right)"
    criterion = ("the observation: every singular value within 0.1 of 1; the inference: the "
                 "largest singular value differs from what as many Gaussian noise vectors give "
                 "(outside its 95% range) — otherwise the statistic cannot tell networks whose "
                 "bias rests on different parameters from regressions that learnt nothing. "
                 "Supported when both hold, partly supported when only the observation does")
    if len(singular) < 2:
        return Verdict(claim, where, "undecided", criterion, "fewer than two networks.")
    close = bool(np.all(np.abs(singular - 1) <= 0.1))
    top = noise.max(axis=1)
    low, high = np.quantile(top, [0.025, 0.975])
    distinct = not (low <= singular.max() <= high)
    return Verdict(claim, where, _level(close and distinct, close), criterion,
                   f"ours {singular.min():.3f}-{singular.max():.3f}; Gaussian noise vectors "
                   f"give a largest value of {low:.3f}-{high:.3f} (95% range).")


__all__ = ["LEVELS", "Verdict", "adversarial_claim", "best_methods", "bootstrap_interval",
           "few_parameters_claim", "fine_tuning_claim", "layerwise_claim", "network_claim",
           "random_claim", "regression_claim", "runtime_claim", "singular_values_claim",
           "spread_claim", "tied_methods", "verdict_table"]
