"""The claims of the paper's Section 6.1 discussion, judged on the study's rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...methods import methods_of
from ..comparison import ARCH_LABELS, method_label
from ..paper import PAPER_LABELS
from .ranking import (best_methods, family_duel, paired, setting_stats, tied_methods,
                      wins_of)
from .verdict import CLAIMS, Verdict, effect, level, mean_interval_text

#: The method whose results the fine-tuning claim's evidence also reads without.
WEAKEST_BASELINE = "calibeqodds"


def _duel_verdict(duel: pd.DataFrame) -> tuple[str, int, int]:
    wins, losses = int((duel["significance"] > 0).sum()), int((duel["significance"] < 0).sum())
    verdict = ("supported" if wins >= 0.9 * len(duel) and losses == 0
               else "partly supported" if wins > len(duel) / 2 else "not supported")
    return verdict, wins, losses


def _worse_than_unmodified(rows: pd.DataFrame, method: str) -> tuple[int, int]:
    """In how many settings ``method``'s mean objective exceeds the unmodified network's."""
    stats = setting_stats(rows).pivot_table(index=["config", "arch", "measure"],
                                            columns="method", values="objective")
    if method not in stats or "default" not in stats:
        return 0, 0
    both = stats[[method, "default"]].dropna()
    return int((both[method] > both["default"]).sum()), len(both)


#: The claim on the paper's network, and on the ablation's other networks.
FINE_TUNING = {"default": CLAIMS["fine_tuning"], "variants": CLAIMS["fine_tuning_variants"]}


def fine_tuning_claim(rows: pd.DataFrame, *, arch: str = "default") -> Verdict:
    """Section 6.1 (``rows``: study rows; the networks of ``arch``, ``"variants"`` for
    every architecture but the paper's)."""
    record = FINE_TUNING["default" if arch == "default" else "variants"]
    chosen = rows[rows["arch"] != "default"] if arch == "variants" else rows[rows["arch"] == arch]
    if chosen.empty or chosen["seed"].nunique() < 2:
        return record.undecided("fewer than two seeds.")
    duel = family_duel(chosen, failed_networks=False)
    kept = duel[~duel["excluded"]] if not duel.empty else duel
    if kept.empty:
        return record.undecided("no pair of results that are not one-class.")
    verdict, wins, losses = _duel_verdict(kept)
    per_method = "; ".join(
        f"{method_label(f)} {int((g['significance'] > 0).sum())} gains, "
        f"{int((g['significance'] < 0).sum())} losses, mean gain {g['gain'].mean():+.3f}"
        for f, g in kept.groupby("fine_tuning", sort=False))
    worst = kept.loc[kept["gain"].idxmin()]
    worst_name = "the largest loss" if worst["gain"] < 0 else "the smallest gain"
    failed = (int(chosen["network_failed"].fillna(False).astype(bool).sum())
              if "network_failed" in chosen else 0)
    everything, all_wins, _ = _duel_verdict(family_duel(chosen))
    calib = kept[kept["post_processing"] != WEAKEST_BASELINE]
    worse, settings = _worse_than_unmodified(chosen, WEAKEST_BASELINE)
    worse_text = (f" (worse than the unmodified network in {worse} of {settings} settings)"
                  if settings else "")
    without = (f"; without {method_label(WEAKEST_BASELINE)}{worse_text}: "
               f"{_duel_verdict(calib)[0]}, "
               f"{_duel_verdict(calib)[1]} of {len(calib)} pairs significant gains"
               if len(calib) and len(calib) < len(kept) else "")
    return record.judged(
        verdict,
        f"{wins} of {len(kept)} pairs are significant gains and {losses} significant losses "
        f"({per_method}); {worst_name}: {method_label(worst['fine_tuning'])} against "
        f"{method_label(worst['post_processing'])} on "
        f"{PAPER_LABELS.get(worst['config'], worst['config'])} {worst['measure'].upper()}, "
        f"{worst['gain']:+.3f} [{worst['low']:+.3f}, {worst['high']:+.3f}].",
        number=f"{wins} of {len(kept)} pairs significant gains",
        exclusions=(f"{int(duel['excluded'].sum())} of {len(duel)} pairs rest on a one-class "
                    f"result, {failed} runs on failed networks; with both: {everything}, "
                    f"{all_wins} significant gains{without}"),
        **effect("share of pairs that are significant gains", wins / len(kept), 0.9))


RANDOM = CLAIMS["random"]


def random_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: the main comparison's study rows)."""
    main = rows[rows["arch"] == "default"]
    if "random" not in set(main["method"]):
        return RANDOM.undecided("random perturbation was not run.")
    best = best_methods(main)
    n, first = len(best), wins_of(best, "random")
    top2 = int(best["top_two"].map(lambda t: "random" in t).sum())
    raw = int((best["best"] == "random").sum())
    raw_verdict = level(raw >= n / 3, raw >= 1 or top2 >= n / 2)
    gains = paired(main, "random", "default")["gain"]
    return RANDOM.judged(
        level(first >= n / 3, first >= 1 or top2 >= n / 2),
        f"the best in {first} of {n} settings and among the best two in {top2}; "
        f"in {int(best['best_is_one_class'].sum())} settings the lowest mean "
        f"objective belongs to a one-class result; gain over the unmodified "
        f"network per network {mean_interval_text(gains)}.",
        number=f"best in {first} of {n} settings",
        exclusions=f"{int(best['one_class_excluded'].sum())} one-class results left "
                   f"out; counting them, the lowest in {raw} of {n}: {raw_verdict}",
        **effect("share of settings where it is the best", first / n, 1 / 3))


LAYERWISE = CLAIMS["layerwise"]


def layerwise_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: the main comparison's study rows)."""
    main = rows[rows["arch"] == "default"]
    if not {"layerwise", "random"} <= set(main["method"]) or main["seed"].nunique() < 2:
        return LAYERWISE.undecided("layer-wise or random perturbation was not "
                                   "run, or one seed only: no spread to compare.")
    best = best_methods(main)
    top2 = int(best["top_two"].map(lambda t: "layerwise" in t).sum())
    spread = (main[main["method"].isin(["layerwise", "random"])]
              .groupby(["config", "measure", "method"])["test_objective"].std()
              .unstack("method"))
    wider = int((spread["layerwise"] > spread["random"]).sum())
    ratio = (spread["layerwise"] / spread["random"]).to_numpy()
    gains = paired(main, "layerwise", "default")["gain"]
    well, susceptible = top2 >= 2, wider > len(spread) / 2
    stats = setting_stats(main)
    excluded = int(stats[stats["method"] == "layerwise"]["excluded"].sum())
    return LAYERWISE.judged(
        level(well and susceptible, well or susceptible),
        f"among the best two in {top2} of {len(best)} settings; its spread over "
        f"seeds exceeds random perturbation's in {wider} of {len(spread)} "
        f"(ratio of the two, median {np.median(ratio):.2f}); gain over the "
        f"unmodified network per network {mean_interval_text(gains)}.",
        number=f"among the best two in {top2} of {len(best)}",
        exclusions=f"layer-wise results one-class on most seeds: {excluded}",
        **effect("settings where it is among the best two", top2, 2))


def _adversarial_group(best, stats, reference, name, archs):
    chosen = best[best["arch"].isin(archs)]
    wins = wins_of(chosen, "adversarial")
    ties = int(chosen["best_not_one_class"].map(
        lambda b: "adversarial" in tied_methods(b)).sum())
    ranks = stats[stats["arch"].isin(archs) & (stats["method"] == "adversarial")]
    ref = reference[reference["config"].isin(set(ranks["config"]))]["rank"]
    improves = bool(len(ref) and ranks["rank"].mean() < ref.mean())
    rank = (f"mean rank {ranks['rank'].mean():.2f} over its {len(ranks)} result(s) that are "
            f"not one-class against {ref.mean():.2f} on the paper's network" if len(ref)
            else f"{len(ranks)} result(s) that are not one-class here and none on the paper's "
                 "network to rank against")
    text = (f"{name} ({', '.join(ARCH_LABELS.get(a, a) for a in archs)}): the best in {wins} "
            f"of {len(chosen)} settings (tied for the lowest in {ties}), {rank}")
    return (wins > len(chosen) / 2, improves), text, wins


ADVERSARIAL = CLAIMS["adversarial"]


def adversarial_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: study rows of the paper's network and the ablation's, SPD)."""
    spd = rows[rows["measure"] == "spd"]
    if "adversarial" not in set(spd["method"]) or set(spd["arch"]) == {"default"}:
        return ADVERSARIAL.undecided("adversarial fine-tuning or the other "
                                     "networks were not run.")
    stats = setting_stats(spd)
    stats = stats[~stats["excluded"]].copy()
    stats["rank"] = stats.groupby(["config", "arch"])["objective"].rank(method="min")
    best = best_methods(spd)
    reference = stats[(stats["arch"] == "default") & (stats["method"] == "adversarial")]
    groups = {"higher dropout": ["dropout-0.5"], "larger": ["width-64", "depth-20"]}
    results, parts, wins = [], [], 0
    for name, archs in groups.items():
        if best["arch"].isin(archs).any():
            result, text, won = _adversarial_group(best, stats, reference, name, archs)
            results.append(result)
            parts.append(text)
            wins += won
    every = all(a and b for a, b in results) and len(results) == len(groups)
    some = any(a or b for a, b in results)
    others = best[best["arch"] != "default"]
    return ADVERSARIAL.judged(
        level(every, some),
        "; ".join(parts) + ".",
        number=f"best in {wins} of {len(others)} settings of the other networks",
        exclusions=f"{int(others['one_class_excluded'].sum())} one-class results "
                   f"of the other networks left out; in "
                   f"{int(others['best_is_one_class'].sum())} of their settings the "
                   "lowest mean objective is one-class",
        **effect("share of the other networks' settings where it is the best",
                 wins / len(others) if len(others) else float("nan"), 0.5))


RUNTIME = CLAIMS["runtime"]


def runtime_claim(table2: pd.DataFrame) -> Verdict:
    """Table 2 (``table2``: :func:`posthoc.repro.comparison.runtime_table`)."""
    # Only the cost part: that fine-tuning is "more powerful" is fine_tuning_claim's.
    ours = table2.xs("ours", axis=1, level=1) if not table2.empty else table2
    slow = [method_label(m) for m in methods_of("fine-tuning") if method_label(m) in ours.index]
    fast = [method_label(m) for m in methods_of("post-processing")
            if method_label(m) in ours.index]
    if not slow or not fast:
        return RUNTIME.undecided("no fine-tuning or no post-processing "
                                 "runtimes.")
    slowest_fast, fastest_slow = ours.loc[fast].max().max(), ours.loc[slow].min().min()
    beaten = {f"{s} beats {p} in {int((ours.loc[s] < ours.loc[p]).sum())} of {ours.shape[1]}"
              for s in slow for p in fast if (ours.loc[s] < ours.loc[p]).any()}
    return RUNTIME.judged(
        level(fastest_slow > slowest_fast,
              fastest_slow > ours.loc[fast].min().min()),
        f"fine-tuning {fastest_slow:.2f}-{ours.loc[slow].max().max():.1f} s per run, "
        f"post-processing at most {slowest_fast:.2f} s"
        + (f"; faster than a post-processing method: {'; '.join(sorted(beaten))} "
           "configurations" if beaten else "") + ".",
        number=f"fastest fine-tuning {fastest_slow:.2f} s, slowest post-processing "
               f"{slowest_fast:.2f} s",
        **effect("fastest fine-tuning ÷ slowest post-processing time",
                 fastest_slow / slowest_fast, 1.0))


__all__ = ["WEAKEST_BASELINE", "adversarial_claim", "fine_tuning_claim", "layerwise_claim",
           "random_claim", "runtime_claim"]
