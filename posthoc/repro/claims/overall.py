"""The paper's overall claims (abstract, introduction, Section 6.1), judged on the study's
rows, and the one-class reference that no page of the paper shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ..comparison import method_label, one_class_flags
from ..paper import PAPER_LABELS
from .ranking import (KEYS, best_methods, paired, present, reference_beaten, setting_stats,
                      wins_of)
from .verdict import (Verdict, binomial_tail, bootstrap_interval, effect, level, mean_effect,
                      mean_interval_text,
                      significance, undecided)

#: The measure each baseline "was designed" for, in the paper's words (Section 6.1).
DESIGNED_FOR = {"roc": "spd", "eqodds": "eod", "calibeqodds": "eod"}


def _kept_gains(rows: pd.DataFrame, fine: str) -> pd.DataFrame:
    """``fine``'s per-seed gains over every post-processing method, pairs resting on a
    one-class result left out."""
    frames = [paired(rows, fine, post).assign(post=post) for post in present(
        rows, "post-processing")]
    gains = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return gains[~gains["excluded"]] if not gains.empty else gains


def average_claim(rows: pd.DataFrame) -> Verdict:
    """Abstract (``rows``: the main comparison's study rows)."""
    claim = "Our algorithms outperform the existing post-processing techniques on average"
    where = "Abstract; Section 1"
    criterion = ("per network, a fine-tuning method's gain is the post-processing objective "
                 "minus its own, averaged over the settings and the three post-processing "
                 "methods (pairs resting on a one-class result left out); supported when each "
                 "fine-tuning method's mean gain has a 95% bootstrap interval over the "
                 "networks above 0, partly supported when the three methods' average does, "
                 "otherwise not supported")
    main = rows[rows["arch"] == "default"]
    fine = present(main, "fine-tuning")
    if main["seed"].nunique() < 2 or not fine or not present(main, "post-processing"):
        return undecided(claim, where, criterion, "fewer than two seeds or a family missing.",
                         "main_comparison")
    per_seed = {f: _kept_gains(main, f).groupby("seed")["gain"].mean() for f in fine}
    each = {f: significance(g.to_numpy(), seed=i) for i, (f, g) in enumerate(per_seed.items())}
    pooled = pd.concat(per_seed, axis=1).mean(axis=1).to_numpy()
    return Verdict(claim, where, level(all(s > 0 for s in each.values()),
                                       significance(pooled) > 0), criterion,
                   "; ".join(f"{method_label(f)} {mean_interval_text(g.to_numpy(), seed=i)}"
                             for i, (f, g) in enumerate(per_seed.items()))
                   + f"; the three together {mean_interval_text(pooled)}.",
                   number=f"mean gain {pooled.mean():+.3f}", chapter="main_comparison",
                   **mean_effect("mean gain of the three fine-tuning methods", pooled, 0.0))


def each_best_claim(rows: pd.DataFrame) -> Verdict:
    """Abstract (``rows``: the main comparison's and the ablation's study rows)."""
    claim = "each of our algorithms perform best in certain settings"
    where = "Abstract"
    criterion = ("in the settings of the paper's network and of the ablation's networks, a "
                 "method is the best when its mean test objective is the lowest of all by "
                 "more than 1e-9 and its results are not one-class on most seeds; supported "
                 "when each of the three fine-tuning methods is the best in at least one "
                 "setting, partly supported when one or two are, otherwise not supported")
    fine = present(rows, "fine-tuning")
    if not fine:
        return undecided(claim, where, criterion, "no fine-tuning method was run.",
                         "main_comparison")
    best = best_methods(rows)
    wins = {f: wins_of(best, f) for f in fine}
    raw = {f: int((best["best"] == f).sum()) for f in fine}
    return Verdict(claim, where, level(all(w >= 1 for w in wins.values()) and len(fine) == 3,
                                       any(w >= 1 for w in wins.values())), criterion,
                   "; ".join(f"{method_label(f)} the best in {w} of {len(best)} settings"
                             for f, w in wins.items()) + ".",
                   number=f"{sum(w >= 1 for w in wins.values())} of {len(fine)} methods best "
                          "somewhere",
                   exclusions=(f"{int(best['one_class_excluded'].sum())} one-class results left "
                               "out; counting them: " + ", ".join(
                                   f"{method_label(f)} {w}" for f, w in raw.items())),
                   chapter="main_comparison",
                   **effect("share of fine-tuning methods best somewhere",
                            np.mean([w >= 1 for w in wins.values()]), 1.0))


def designed_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: the main comparison's study rows)."""
    claim = ("[the fine-tuning methods outperform the baselines] sometimes even on the "
             "fairness metric for which the baseline was designed")
    where = "Section 6.1, Discussion"
    criterion = ("on each baseline's own measure as Section 6.1 names it (reject option "
                 "classification: SPD; equalised odds and its calibrated version: EOD), a "
                 "configuration counts when some fine-tuning method's paired gain over the "
                 "baseline has a 95% bootstrap interval over seeds above 0 (neither result "
                 "one-class); supported when this happens in at least one configuration for "
                 "every baseline, partly supported when for some, otherwise not supported")
    main = rows[rows["arch"] == "default"]
    posts = [p for p in DESIGNED_FOR if p in set(main["method"])]
    if main["seed"].nunique() < 2 or not posts or not present(main, "fine-tuning"):
        return undecided(claim, where, criterion, "fewer than two seeds or a family missing.",
                         "main_comparison")
    counts, parts = {}, []
    for post in posts:
        own = main[main["measure"] == DESIGNED_FOR[post]]
        configs = set()
        for fine in present(own, "fine-tuning"):
            for i, (key, group) in enumerate(paired(own, fine, post).groupby(KEYS)):
                if not group["excluded"].any() and significance(group["gain"], seed=i) > 0:
                    configs.add(key[0])
        counts[post] = len(configs)
        parts.append(f"{method_label(post)} on {DESIGNED_FOR[post].upper()}: beaten in "
                     f"{len(configs)} of {own['config'].nunique()} configurations")
    return Verdict(claim, where, level(all(c >= 1 for c in counts.values()),
                                       any(c >= 1 for c in counts.values())), criterion,
                   "; ".join(parts) + ".",
                   number=f"{sum(c >= 1 for c in counts.values())} of {len(posts)} baselines "
                          "beaten on their own measure", chapter="main_comparison",
                   **effect("share of baselines beaten on their own measure",
                            np.mean([c >= 1 for c in counts.values()]), 1.0))


def _dominance(rows: pd.DataFrame, fine: str, post: str) -> list[str]:
    """Settings where ``fine`` has significantly higher accuracy and lower |bias| than
    ``post`` on the same networks (neither result one-class)."""
    found = []
    for i, (key, group) in enumerate(paired(rows, fine, post).groupby(KEYS)):
        if group["excluded"].any():
            continue
        side = rows[rows[KEYS].apply(tuple, axis=1) == key]
        wide = side.pivot_table(index="seed", columns="method",
                                values=["test_accuracy", "test_bias"])
        accuracy = (wide["test_accuracy"][fine] - wide["test_accuracy"][post]).dropna()
        bias = (wide["test_bias"][post].abs() - wide["test_bias"][fine].abs()).dropna()
        if significance(accuracy, seed=i) > 0 and significance(bias, seed=i) > 0:
            found.append(key)
    return found


def pareto_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: the main comparison's study rows)."""
    claim = ("sometimes the fine-tuning methods simultaneously achieve higher accuracy and "
             "lower bias compared to the post-processing methods, making the fine-tuning "
             "methods Pareto-optimal")
    where = "Section 6.1, Discussion"
    criterion = ("a fine-tuning result dominates a post-processing one in a setting when its "
                 "paired differences in test accuracy (higher) and |bias| (lower) both have "
                 "95% bootstrap intervals over seeds on the right side of 0, neither result "
                 "one-class; it is Pareto-optimal when no result of the setting that is not "
                 "one-class has both a higher mean accuracy and a lower mean |bias|; supported "
                 "when some setting has a dominating fine-tuning result that is also "
                 "Pareto-optimal, partly supported when one dominates, otherwise not supported")
    main = rows[rows["arch"] == "default"]
    if main["seed"].nunique() < 2 or not present(main, "post-processing"):
        return undecided(claim, where, criterion, "fewer than two seeds or a family missing.",
                         "main_comparison")
    flagged = main.assign(_one=one_class_flags(main))
    means = flagged.groupby(KEYS + ["method"]).agg(
        accuracy=("test_accuracy", "mean"), bias=("test_bias", lambda b: b.abs().mean()),
        one=("_one", "mean")).reset_index()
    dominating, optimal = [], []
    for fine in present(main, "fine-tuning"):
        for post in present(main, "post-processing"):
            for key in _dominance(main, fine, post):
                dominating.append((key, fine, post))
                here = means[(means[KEYS].apply(tuple, axis=1) == key) & (means["one"] <= 0.5)]
                me = here[here["method"] == fine].iloc[0]
                if not ((here["accuracy"] > me["accuracy"]) & (here["bias"] < me["bias"])).any():
                    optimal.append((key, fine, post))
    shown = "; ".join(f"{method_label(f)} over {method_label(p)} on "
                      f"{PAPER_LABELS.get(k[0], k[0])} {k[2].upper()}"
                      for k, f, p in dominating[:4])
    return Verdict(claim, where, level(bool(optimal), bool(dominating)), criterion,
                   f"{len(dominating)} dominating (setting, fine-tuning, post-processing) "
                   f"triples, {len(optimal)} of them Pareto-optimal"
                   + (f"; for example {shown}" if shown else "") + ".",
                   number=f"{len(dominating)} dominating pairs, {len(optimal)} Pareto-optimal",
                   chapter="main_comparison",
                   **effect("dominating results that are Pareto-optimal", len(optimal), 1.0))


def majority_claim(rows: pd.DataFrame, reference: dict[str, float], *,
                   objective: str = "weighted") -> Verdict:
    """The one-class reference (``rows``: study rows of one objective, the paper's network;
    ``reference``: per configuration, predicting the majority class's objective on the test
    split, :func:`posthoc.diagnostics.one_class_objective`)."""
    claim = ("debiasing the network gives a lower objective than predicting the majority "
             "class for everyone (the paper shows no such reference)")
    where = f"Equation 1, Figure 1 ({objective} objective)"
    chapter = "main_comparison" if objective == "weighted" else "beyond"
    criterion = ("per setting, the best result that is not one-class beats the one-class "
                 "reference when its per-network test objectives minus the reference's have a "
                 "95% bootstrap interval below 0; supported when that holds in every setting, "
                 "partly supported when in at least one, otherwise not supported")
    main = rows[(rows["arch"] == "default") & (rows["method"] != "default")]
    if main.empty or main["seed"].nunique() < 2:
        return undecided(claim, where, criterion, "fewer than two seeds.", chapter)
    beaten = reference_beaten(main, reference)
    n, wins = len(beaten), int(beaten["beaten"].sum())
    below = int((beaten["objective"] < beaten["reference"]).sum())
    winners = ", ".join(f"{method_label(r.best)} on {PAPER_LABELS.get(r.config, r.config)} "
                        f"{r.measure.upper()}" for r in beaten[beaten["beaten"]].itertuples())
    return Verdict(claim, where, level(wins == n, wins >= 1), criterion,
                   f"some method beats predicting the majority class in {wins} of {n} "
                   f"settings" + (f" ({winners})" if winners else "") + f"; the best mean is "
                   f"below the reference in {below}; the reference: "
                   + ", ".join(f"{PAPER_LABELS.get(c, c)} {v:.4f}"
                               for c, v in reference.items() if c in set(main["config"])) + ".",
                   number=f"beaten in {wins} of {n} settings", chapter=chapter,
                   **effect("share of settings where a method beats the reference", wins / n,
                            1.0))


def initial_conditions_claim(rows: pd.DataFrame) -> Verdict:
    """Abstract and Section 1 (``rows``: the main comparison's study rows)."""
    claim = ("the difficulty of post-hoc debiasing is highly dependent on the initial "
             "conditions of the original model")
    where = "Abstract; Section 1"
    criterion = ("per setting and fine-tuning method, ρ = Spearman correlation over networks "
                 "between the unmodified network's validation |bias| and the method's test "
                 "objective (results one-class on most seeds left out); supported when the "
                 "number of one-sided p < 0.05 is beyond chance (binomial tail < 0.05) and the "
                 "median ρ is at least 0.5, partly supported when the count is beyond chance, "
                 "otherwise not supported")
    main = rows[rows["arch"] == "default"]
    if main["seed"].nunique() < 4 or "default" not in set(main["method"]):
        return undecided(claim, where, criterion, "fewer than four networks.",
                         "main_comparison")
    start = main[main["method"] == "default"].set_index(KEYS + ["seed"])["valid_bias"].abs()
    stats = setting_stats(main)
    found = []
    for fine in present(main, "fine-tuning"):
        kept = stats[(stats["method"] == fine) & ~stats["excluded"]][KEYS]
        runs = main[main["method"] == fine].merge(kept, on=KEYS)
        for _, group in runs.groupby(KEYS):
            initial = start.reindex(pd.MultiIndex.from_frame(group[KEYS + ["seed"]]))
            if group["test_objective"].nunique() > 1 and initial.nunique() > 1:
                rho, p = spearmanr(initial.to_numpy(), group["test_objective"].to_numpy(),
                                   alternative="greater")
                found.append((rho, p))
    if not found:
        return undecided(claim, where, criterion, "no result varies over the networks.",
                         "main_comparison")
    rho, p = np.array(found).T
    hits = int((p < 0.05).sum())
    tail = binomial_tail(hits, len(p), 0.05)
    low, high = bootstrap_interval(rho, statistic=np.median)
    return Verdict(claim, where, level(tail < 0.05 and np.median(rho) >= 0.5, tail < 0.05),
                   criterion,
                   f"median ρ {np.median(rho):+.2f} [{low:+.2f}, {high:+.2f}] over {len(rho)} "
                   f"(setting, method) pairs; p < 0.05 in {hits}, which chance gives with "
                   f"probability {tail:.3f}.", number=f"median ρ {np.median(rho):+.2f}",
                   chapter="main_comparison",
                   **effect("median Spearman ρ of initial |bias| and objective",
                            np.median(rho), 0.5, low, high))


__all__ = ["DESIGNED_FOR", "average_claim", "designed_claim", "each_best_claim",
           "initial_conditions_claim", "majority_claim", "pareto_claim"]
