"""The paper's claims, each judged by one function with one criterion, wherever the book
prints it.

Every function takes tables computed elsewhere (by :mod:`posthoc.repro.comparison`,
:mod:`posthoc.repro.sensitivity` or :mod:`posthoc.repro.models`) and returns a
:class:`Verdict`: the claim in words, whether the data support it (``None`` when they cannot
decide), the criterion, written here before any number is seen, and the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..methods import methods_of
from .comparison import method_label, paired_wins
from .paper import PAPER_LABELS


@dataclass(frozen=True)
class Verdict:
    """One claim of the paper against our results."""

    claim: str
    supported: bool | None
    criterion: str
    evidence: str

    @property
    def verdict(self) -> str:
        """``"SUPPORTED"``, ``"NOT SUPPORTED"`` or ``"UNDECIDED"``."""
        return {True: "SUPPORTED", False: "NOT SUPPORTED", None: "UNDECIDED"}[self.supported]

    def __str__(self) -> str:
        return (f"{self.verdict:14s} {self.claim}\n{'':15s}criterion: {self.criterion}\n"
                f"{'':15s}{self.evidence}")


def _verdict(claim: str, criterion: str, supported, evidence: str) -> Verdict:
    return Verdict(claim, None if supported is None else bool(supported), criterion, evidence)


def network_claim(runs: pd.DataFrame) -> Verdict:
    """Table 3: the network is at least as good as logistic regression and a random forest
    on Adult and Bank, and within one standard deviation of the best model on COMPAS, in
    accuracy and ROC AUC (``runs``: :func:`posthoc.repro.models.compare_models` rows)."""
    criterion = ("on every dataset and for both accuracy and ROC AUC, the network's mean is at "
                 "least the best other model's mean minus one standard deviation of the "
                 "network's (COMPAS), or at least the best other mean (the other datasets)")
    claim = ("The network matches or beats logistic regression and a random forest (Adult, "
             "Bank) and is within one standard deviation of the best model (COMPAS).")
    mean = runs.groupby(["dataset", "model"])[["accuracy", "roc_auc"]].mean()
    std = runs.groupby(["dataset", "model"])[["accuracy", "roc_auc"]].std().fillna(0.0)
    parts, holds = [], []
    for dataset in mean.index.get_level_values(0).unique():
        if "network" not in mean.loc[dataset].index or len(mean.loc[dataset]) < 2:
            continue
        net, others = mean.loc[(dataset, "network")], mean.loc[dataset].drop("network")
        for quantity in ("accuracy", "roc_auc"):
            gap = net[quantity] - others[quantity].max()
            slack = std.loc[(dataset, "network"), quantity] if dataset == "compas" else 0.0
            holds.append(gap >= -slack)
            parts.append(f"{dataset} {quantity} {gap:+.3f}")
    if not holds:
        return _verdict(claim, criterion, None, "no dataset holds the network and another model.")
    return _verdict(claim, criterion, all(holds),
                    "network minus the best other model: " + ", ".join(parts) + ".")


def spread_claim(ratios: pd.DataFrame) -> Verdict:
    """Table 1: bias varies about an order of magnitude more with the seed than accuracy
    (``ratios``: :func:`posthoc.repro.sensitivity.spread_ratios`)."""
    claim = "Bias varies far more with the seed than accuracy (about an order of magnitude)."
    criterion = ("the median over SPD, EOD and AOD of std(bias) / std(accuracy) is at least 5 "
                 "(within a factor of two of 10) in most configurations")
    if ratios.empty:
        return _verdict(claim, criterion, None, "no configuration has two or more seeds.")
    medians = ratios.median(axis=1)
    return _verdict(
        claim, criterion, (medians >= 5).sum() > len(medians) / 2,
        "std(bias) / std(accuracy), lowest to highest over SPD, EOD and AOD: "
        + "; ".join(f"{PAPER_LABELS.get(c, c)} {r.min():.1f}-{r.max():.1f} (median "
                    f"{medians[c]:.1f})" for c, r in ratios.iterrows())
        + f"; ratios of 10 or more: {int((ratios >= 10).sum().sum())} of {ratios.size}.")


def fine_tuning_claim(families: pd.DataFrame) -> Verdict:
    """Figure 1: fine-tuning beats post-processing on average (``families``:
    :func:`posthoc.repro.comparison.fine_tuning_vs_post_processing`)."""
    claim = "The fine-tuning methods beat the post-processing ones on average."
    criterion = ("the post-processing family's mean objective is above the fine-tuning "
                 "family's on average over the settings and in most of them")
    if families.empty:
        return _verdict(claim, criterion, None, "no setting holds both families.")
    gap = families["post-processing mean"] - families["fine-tuning mean"]
    above = int((gap > 0).sum())
    return _verdict(
        claim, criterion, gap.mean() > 0 and above > len(gap) / 2,
        f"the post-processing family's mean test objective is above the fine-tuning "
        f"family's in {above} of {len(gap)} settings (mean gap {gap.mean():+.3f}); the best "
        f"fine-tuning method beats the best post-processing method in "
        f"{int(families['fine-tuning wins'].sum())} of {len(gap)}.")


def random_claim(order: pd.DataFrame) -> Verdict:
    """Section 6: random perturbation is a strong method, the best in many settings
    (``order``: :func:`posthoc.repro.comparison.ranks` on the paper's network)."""
    claim = "Random perturbation is a strong method, the best in many settings."
    criterion = "random perturbation is among the best two methods in at least half the settings"
    label = method_label("random")
    if label not in order:
        return _verdict(claim, criterion, None, "random perturbation was not run.")
    best, top2 = int((order[label] == 1).sum()), int((order[label] <= 2).sum())
    return _verdict(claim, criterion, top2 >= len(order) / 2,
                    f"random perturbation has the lowest mean test objective in {best} of "
                    f"{len(order)} settings and is among the best two in {top2}.")


def layerwise_claim(rows: pd.DataFrame, order: pd.DataFrame, split: str = "test") -> Verdict:
    """Section 6: layer-wise optimisation performs well in some settings but depends on the
    initial network (``rows``: the main comparison's study rows; ``order``: their ranks)."""
    claim = ("Layer-wise optimisation performs well in some settings, but depends on the "
             "initial network.")
    criterion = ("it is among the best two methods in at least one setting, and its test "
                 "objective's spread over seeds (mean std per setting) exceeds random "
                 "perturbation's")
    methods = set(rows["method"])
    if not {"layerwise", "random", "default"} <= methods:
        return _verdict(claim, criterion, None, "layer-wise, random or default was not run.")
    column = f"{split}_objective"
    label = method_label("layerwise")
    top2 = int((order[label] <= 2).sum())
    per_seed = paired_wins(rows, "layerwise", "random", split)
    lw = rows[rows["method"] == "layerwise"]
    paired = lw.merge(rows[rows["method"] == "default"], on=["config", "arch", "measure", "seed"],
                      suffixes=("", "_default"))
    evidence = (f"best two in {top2} of {len(order)} settings; it beats random perturbation "
                f"on {int(per_seed.iloc[:, 0].sum())} of {int(per_seed['seeds'].sum())} "
                f"networks")
    if rows["seed"].nunique() < 2:
        return _verdict(claim, criterion, None, evidence + "; one seed: no spread to compare.")
    spread_lw = lw.groupby(["config", "measure"])[column].std().mean()
    spread_random = (rows[rows["method"] == "random"]
                     .groupby(["config", "measure"])[column].std().mean())
    varies = paired[[f"{column}_default", column]].std().min() > 0
    corr = (np.corrcoef(paired[f"{column}_default"], paired[column])[0, 1] if varies
            else float("nan"))
    return _verdict(claim, criterion, top2 >= 1 and spread_lw > spread_random,
                    evidence + f"; mean spread over seeds {spread_lw:.3f} against random "
                    f"perturbation's {spread_random:.3f}; correlation with the initial "
                    f"network's objective {corr:.2f}.")


def runtime_claim(table2: pd.DataFrame) -> Verdict:
    """Table 2: fine-tuning costs more time than post-processing (``table2``:
    :func:`posthoc.repro.comparison.runtime_table`)."""
    claim = "Fine-tuning costs more time than post-processing."
    criterion = ("every fine-tuning method's mean time per run exceeds that of every "
                 "post-processing method other than reject option classification, which "
                 "searches thresholds too")
    ours = table2.xs("ours", axis=1, level=1) if not table2.empty else table2
    slow = [method_label(m) for m in methods_of("fine-tuning") if method_label(m) in ours.index]
    fast = [method_label(m) for m in methods_of("post-processing")
            if m != "roc" and method_label(m) in ours.index]
    if not slow or not fast:
        return _verdict(claim, criterion, None, "no fine-tuning or no post-processing runtimes.")
    return _verdict(claim, criterion, ours.loc[slow].min().min() > ours.loc[fast].max().max(),
                    f"fine-tuning {ours.loc[slow].min().min():.2f}-"
                    f"{ours.loc[slow].max().max():.1f} s per run, {' and '.join(fast)} at most "
                    f"{ours.loc[fast].max().max():.3f} s.")


def adversarial_claim(order: pd.DataFrame) -> Verdict:
    """Figure 1, plots 7-8: adversarial fine-tuning is best for larger and higher-dropout
    networks (``order``: :func:`posthoc.repro.comparison.ranks` over every network; the
    index has an ``arch`` level, whose ``"default"``, the paper's network, is the
    reference)."""
    claim = "Adversarial fine-tuning is best for larger and higher-dropout networks."
    criterion = "it ranks first on most settings of the other networks"
    label = method_label("adversarial")
    if label not in order:
        return _verdict(claim, criterion, None, "adversarial fine-tuning was not run.")
    adversarial_ranks, n_methods = order[label], order.shape[1]
    arch = adversarial_ranks.index.get_level_values("arch")
    variants = adversarial_ranks[arch != "default"]
    reference = adversarial_ranks[arch == "default"]
    if variants.empty:
        return _verdict(claim, criterion, None, "no results on the other networks.")
    evidence = (f"best of {n_methods} on {int((variants == 1).sum())} of {len(variants)} "
                f"settings of the other networks (mean rank {variants.mean():.2f})")
    if len(reference):
        evidence += f"; on the paper's network its mean rank is {reference.mean():.2f}"
    return _verdict(claim, criterion, (variants == 1).mean() > 0.5, evidence + ".")


def ablation_lead_claim(order: pd.DataFrame) -> Verdict:
    """Figure 1, plots 7-8: the fine-tuning methods keep their lead on other networks
    (``order``: ranks per configuration and network)."""
    claim = "The fine-tuning methods keep their lead over post-processing on other networks."
    criterion = ("in most (configuration, network) settings a fine-tuning method ranks above "
                 "every post-processing method")
    fine = [method_label(m) for m in methods_of("fine-tuning") if method_label(m) in order]
    post = [method_label(m) for m in methods_of("post-processing") if method_label(m) in order]
    if not fine or not post:
        return _verdict(claim, criterion, None, "one of the two families was not run.")
    ahead = order[fine].min(axis=1) < order[post].min(axis=1)
    return _verdict(claim, criterion, ahead.mean() > 0.5,
                    f"a fine-tuning method ranks above every post-processing method in "
                    f"{int(ahead.sum())} of {len(order)} (configuration, network) settings.")


__all__ = ["Verdict", "ablation_lead_claim", "adversarial_claim", "fine_tuning_claim",
           "layerwise_claim", "network_claim", "random_claim", "runtime_claim", "spread_claim"]
