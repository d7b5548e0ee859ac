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
from ...validation import check_choice
from .verdict import (CLAIMS, Verdict, binomial_tail, bootstrap_interval, effect, level,
                      mean_effect, mean_interval_text, significance)

#: The measure each baseline "was designed" for, in the paper's words (Section 6.1).
DESIGNED_FOR = {"roc": "spd", "eqodds": "eod", "calibeqodds": "eod"}


def _kept_gains(rows: pd.DataFrame, fine: str) -> pd.DataFrame:
    """``fine``'s per-seed gains over every post-processing method, pairs resting on a
    one-class result left out."""
    frames = [paired(rows, fine, post).assign(post=post) for post in present(
        rows, "post-processing")]
    gains = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return gains[~gains["excluded"]] if not gains.empty else gains


AVERAGE = CLAIMS["average"]


def average_claim(rows: pd.DataFrame) -> Verdict:
    """Abstract (``rows``: the main comparison's study rows)."""
    main = rows[rows["arch"] == "default"]
    fine = present(main, "fine-tuning")
    if main["seed"].nunique() < 2 or not fine or not present(main, "post-processing"):
        return AVERAGE.undecided("fewer than two seeds or a family missing.")
    per_seed = {f: _kept_gains(main, f).groupby("seed")["gain"].mean() for f in fine}
    each = {f: significance(g.to_numpy(), seed=i) for i, (f, g) in enumerate(per_seed.items())}
    pooled = pd.concat(per_seed, axis=1).mean(axis=1).to_numpy()
    return AVERAGE.judged(
        level(all(s > 0 for s in each.values()),
              significance(pooled) > 0),
        "; ".join(f"{method_label(f)} {mean_interval_text(g.to_numpy(), seed=i)}"
                  for i, (f, g) in enumerate(per_seed.items()))
        + f"; the three together {mean_interval_text(pooled)}.",
        number=f"mean gain {pooled.mean():+.3f}",
        **mean_effect("mean gain of the three fine-tuning methods", pooled, 0.0))


EACH_BEST = CLAIMS["each_best"]


def each_best_claim(rows: pd.DataFrame) -> Verdict:
    """Abstract (``rows``: the main comparison's and the ablation's study rows)."""
    fine = present(rows, "fine-tuning")
    if not fine:
        return EACH_BEST.undecided("no fine-tuning method was run.")
    best = best_methods(rows)
    wins = {f: wins_of(best, f) for f in fine}
    raw = {f: int((best["best"] == f).sum()) for f in fine}
    return EACH_BEST.judged(
        level(all(w >= 1 for w in wins.values()) and len(fine) == 3,
              any(w >= 1 for w in wins.values())),
        "; ".join(f"{method_label(f)} the best in {w} of {len(best)} settings"
                  for f, w in wins.items()) + ".",
        number=f"{sum(w >= 1 for w in wins.values())} of {len(fine)} methods best "
               "somewhere",
        exclusions=f"{int(best['one_class_excluded'].sum())} one-class results left "
                   "out; counting them: " + ", ".join(
                       f"{method_label(f)} {w}" for f, w in raw.items()),
        **effect("share of fine-tuning methods best somewhere",
                 np.mean([w >= 1 for w in wins.values()]), 1.0))


DESIGNED = CLAIMS["designed"]


def designed_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: the main comparison's study rows)."""
    main = rows[rows["arch"] == "default"]
    posts = [p for p in DESIGNED_FOR if p in set(main["method"])]
    if main["seed"].nunique() < 2 or not posts or not present(main, "fine-tuning"):
        return DESIGNED.undecided("fewer than two seeds or a family missing.")
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
    return DESIGNED.judged(
        level(all(c >= 1 for c in counts.values()),
              any(c >= 1 for c in counts.values())),
        "; ".join(parts) + ".",
        number=f"{sum(c >= 1 for c in counts.values())} of {len(posts)} baselines "
               "beaten on their own measure",
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


PARETO = CLAIMS["pareto"]


def pareto_claim(rows: pd.DataFrame) -> Verdict:
    """Section 6.1 (``rows``: the main comparison's study rows)."""
    main = rows[rows["arch"] == "default"]
    if main["seed"].nunique() < 2 or not present(main, "post-processing"):
        return PARETO.undecided("fewer than two seeds or a family missing.")
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
    return PARETO.judged(
        level(bool(optimal), bool(dominating)),
        f"{len(dominating)} dominating (setting, fine-tuning, post-processing) "
        f"triples, {len(optimal)} of them Pareto-optimal"
        + (f"; for example {shown}" if shown else "") + ".",
        number=f"{len(dominating)} dominating pairs, {len(optimal)} Pareto-optimal",
        **effect("dominating results that are Pareto-optimal", len(optimal), 1.0))


#: The one-class reference's claim under each objective the book judges it on.
MAJORITY = {objective: CLAIMS[f"majority_{objective}"]
            for objective in ("weighted", "constrained")}


def majority_claim(rows: pd.DataFrame, reference: dict[str, float], *,
                   objective: str = "weighted") -> Verdict:
    """The one-class reference (``rows``: study rows of one objective, the paper's network;
    ``reference``: per configuration, predicting the majority class's objective on the test
    split, :func:`posthoc.diagnostics.one_class_objective`)."""
    record = MAJORITY[check_choice("objective", objective, MAJORITY)]
    main = rows[(rows["arch"] == "default") & (rows["method"] != "default")]
    if main.empty or main["seed"].nunique() < 2:
        return record.undecided("fewer than two seeds.")
    beaten = reference_beaten(main, reference)
    n, wins = len(beaten), int(beaten["beaten"].sum())
    below = int((beaten["objective"] < beaten["reference"]).sum())
    winners = ", ".join(f"{method_label(r.best)} on {PAPER_LABELS.get(r.config, r.config)} "
                        f"{r.measure.upper()}" for r in beaten[beaten["beaten"]].itertuples())
    return record.judged(
        level(wins == n, wins >= 1),
        f"some method beats predicting the majority class in {wins} of {n} settings"
        + (f" ({winners})" if winners else "") + f"; the best mean is below the reference in "
        f"{below}; the reference: " + ", ".join(
            f"{PAPER_LABELS.get(c, c)} {v:.4f}" for c, v in reference.items()
            if c in set(main["config"])) + ".",
        number=f"beaten in {wins} of {n} settings",
        **effect("share of settings where a method beats the reference", wins / n, 1.0))


INITIAL_CONDITIONS = CLAIMS["initial_conditions"]


def initial_conditions_claim(rows: pd.DataFrame) -> Verdict:
    """Abstract and Section 1 (``rows``: the main comparison's study rows)."""
    main = rows[rows["arch"] == "default"]
    if main["seed"].nunique() < 4 or "default" not in set(main["method"]):
        return INITIAL_CONDITIONS.undecided("fewer than four networks.")
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
        return INITIAL_CONDITIONS.undecided("no result varies over the networks.")
    rho, p = np.array(found).T
    hits = int((p < 0.05).sum())
    tail = binomial_tail(hits, len(p), 0.05)
    low, high = bootstrap_interval(rho, statistic=np.median)
    return INITIAL_CONDITIONS.judged(
        level(tail < 0.05 and np.median(rho) >= 0.5, tail < 0.05),
        f"median ρ {np.median(rho):+.2f} [{low:+.2f}, {high:+.2f}] over {len(rho)} "
        f"(setting, method) pairs; p < 0.05 in {hits}, which chance gives with "
        f"probability {tail:.3f}.",
        number=f"median ρ {np.median(rho):+.2f}",
        **effect("median Spearman ρ of initial |bias| and objective",
                 np.median(rho), 0.5, low, high))


__all__ = ["DESIGNED_FOR", "average_claim", "designed_claim", "each_best_claim",
           "initial_conditions_claim", "majority_claim", "pareto_claim"]
