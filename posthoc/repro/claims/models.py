"""The claims about the networks themselves: Table 3 (need for networks), Table 1 (bias
sensitivity) and Appendix A (the perturbation regressions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..paper import PAPER_LABELS, paper_numbers
from ..sensitivity import concentration
from .verdict import (LEVEL, N_BOOT, CLAIMS, Verdict, binomial_tail, bootstrap_interval, effect,
                      level, mean_effect, mean_interval_text)

#: The share of noise draws below whose quantile a statistic counts as "below chance".
NOISE_QUANTILE = 0.025


def _network_cases(runs: pd.DataFrame) -> tuple[list[bool], list[str]]:
    """Per dataset of the paper's Table 3 and quantity, whether the network meets its words,
    and the text (another dataset, German credit, is not part of the claim)."""
    mean = runs.groupby(["dataset", "model"])[["accuracy", "roc_auc"]].mean()
    std = runs.groupby(["dataset", "model"])[["accuracy", "roc_auc"]].std().fillna(0.0)
    claimed = set(paper_numbers("table3")["config"])
    parts, holds = [], []
    for dataset in mean.index.get_level_values(0).unique():
        if (dataset not in claimed or "network" not in mean.loc[dataset].index
                or len(mean.loc[dataset]) < 2):
            continue
        others = mean.loc[dataset].drop("network")
        for quantity in ("accuracy", "roc_auc"):
            rival = others[quantity].idxmax()
            net = runs[(runs["dataset"] == dataset) & (runs["model"] == "network")][quantity]
            gap = net.mean() - mean.loc[(dataset, rival), quantity]
            slack = std.loc[(dataset, "network"), quantity] if dataset == "compas" else 0.0
            holds.append(bool(gap > -slack if dataset == "compas" else gap > 0))
            low, high = bootstrap_interval(net.to_numpy() - mean.loc[(dataset, rival),
                                                                     quantity])
            parts.append(f"{dataset} {quantity} d = {gap:+.3f} [{low:+.3f}, {high:+.3f}] "
                         f"against {rival.replace('_', ' ')}")
    return holds, parts


def _network_level(holds: list[bool]) -> str:
    return level(all(holds), np.mean(holds) >= 0.5)


NETWORK = CLAIMS["network"]


def network_claim(runs: pd.DataFrame) -> Verdict:
    """Table 3 (``runs``: :func:`posthoc.repro.models.compare_models` rows of one
    protocol)."""
    if "protocol" in runs and runs["protocol"].nunique() > 1:
        raise ValueError("runs holds several protocols; pass the rows of one.")
    holds, parts = _network_cases(runs)
    if not holds:
        return NETWORK.undecided("no dataset of the paper's Table 3 holds the network and "
                                 "another model.")
    verdict = _network_level(holds)
    flips = []
    networks = runs[runs["model"] == "network"]
    for (dataset, seed), _ in networks.groupby(["dataset", "seed"]):
        rest = runs[~((runs["model"] == "network") & (runs["dataset"] == dataset)
                      & (runs["seed"] == seed))]
        other = _network_level(_network_cases(rest)[0])
        if other != verdict:
            flips.append(f"without {dataset}'s network of seed {seed}: {other}")
    return NETWORK.judged(
        verdict,
        f"{sum(holds)} of {len(holds)} cases hold; " + "; ".join(parts) + ".",
        number=f"{sum(holds)} of {len(holds)} cases hold",
        **effect("share of cases that hold", np.mean(holds), 1.0),
        exclusions="; ".join(flips) if flips else
                   "no single network changes the verdict")


MARGIN = CLAIMS["margin"]


def margin_claim(runs: pd.DataFrame) -> Verdict:
    """Section 6, "the need for neural networks" (``runs``: Table 3's runs of one
    protocol)."""
    adult = runs[runs["dataset"] == "adult"]
    if adult["model"].nunique() < 2 or "network" not in set(adult["model"]):
        return MARGIN.undecided("Adult's models were not run.")
    paper = paper_numbers("table3").query("config == 'adult'")
    gaps, lows, highs, parts = [], [], [], []
    for quantity in ("accuracy", "roc_auc"):
        means = adult.groupby("model")[quantity].mean()
        rival = means.drop("network").idxmax()
        net = adult[adult["model"] == "network"][quantity].to_numpy()
        low, high = bootstrap_interval(net - means[rival])
        highs.append(high)
        theirs = paper[paper["quantity"] == quantity].set_index("model_or_method")["mean"]
        gaps.append(net.mean() - means[rival])
        lows.append(low)
        parts.append(f"{quantity} d = {gaps[-1]:+.3f} (interval from {low:+.3f}) against "
                     f"{rival.replace('_', ' ')}; the paper's own Table 3 gives "
                     f"{theirs['network'] - theirs.drop('network').max():+.3f}")
    return MARGIN.judged(
        level(min(gaps) >= 0.02, min(lows) > 0),
        "; ".join(parts) + ".",
        number=f"+{100 * gaps[0]:.1f} points of accuracy, +{gaps[1]:.3f} AUC",
        **effect("Adult: the smaller margin d (accuracy or AUC)", min(gaps), 0.02,
                 lows[int(np.argmin(gaps))], highs[int(np.argmin(gaps))]))


def _median_spread_ratio(values: np.ndarray) -> np.ndarray:
    """Median over the bias columns of std(bias) / std(accuracy) over seeds, for
    (..., seeds, 1 + measures) arrays whose first column is accuracy."""
    std = values.std(axis=-2, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.median(std[..., 1:] / std[..., :1], axis=-1)


SPREAD = CLAIMS["spread"]


def spread_claim(rows: pd.DataFrame) -> Verdict:
    """Table 1 (``rows``: :func:`posthoc.repro.sensitivity.seed_rows` of the networks)."""
    ratios, bounds, parts, failed = [], [], [], 0
    for index, (config, group) in enumerate(rows.groupby("config", sort=False)):
        if len(group) < 2:
            continue
        values = group[["accuracy", "spd", "eod", "aod"]].to_numpy(dtype=float)
        ratio = float(_median_spread_ratio(values))
        draws = np.random.default_rng(index).integers(0, len(values), (N_BOOT, len(values)))
        low, high = np.nanquantile(_median_spread_ratio(values[draws]),
                                   [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        ratios.append(ratio)
        bounds.append((low, high))
        failed += int(group["failed"].sum()) if "failed" in group else 0
        parts.append(f"{PAPER_LABELS.get(config, config)} r = {ratio:.1f} [{low:.1f}, "
                     f"{high:.1f}]")
    if not ratios:
        return SPREAD.undecided("no configuration has two or more seeds.")
    ratios = np.array(ratios)
    return SPREAD.judged(
        level(bool((ratios >= 10).all()),
              bool((ratios >= np.sqrt(10)).all())),
        "; ".join(parts) + ".",
        number=f"r = {ratios.min():.1f} to {ratios.max():.1f}",
        **effect("the smallest ratio r of bias to accuracy spread", ratios.min(), 10,
                 *bounds[int(np.argmin(ratios))]),
        exclusions=f"failed networks among them: {failed} (none left out)")


REGRESSION = CLAIMS["regression"]


def regression_claim(studies: pd.DataFrame, paper: tuple[float, float]) -> Verdict:
    """Appendix A (``studies``: :func:`posthoc.repro.sensitivity.perturbation_table`;
    ``paper``: the paper's mean and std)."""
    mean, std = paper
    held, authors = studies["r2"].to_numpy(), studies["r2_authors"].to_numpy()
    return REGRESSION.judged(
        level(abs(np.mean(held) - mean) <= 2 * std,
              np.mean(held) >= 0.5),
        f"held-out R² {mean_interval_text(held)}; the authors' protocol "
        f"{mean_interval_text(authors)}, which reproduces their number but scores "
        f"rows it was fitted on (mean and 95% bootstrap interval over {len(held)} "
        "networks).",
        number=f"held-out R² {np.mean(held):.3f}",
        **mean_effect("held-out R²", held, mean - 2 * std))


FEW_PARAMETERS = CLAIMS["few_parameters"]


def few_parameters_claim(studies: pd.DataFrame, noise: np.ndarray) -> Verdict:
    """Appendix A, Figure 2 left (``noise``: :func:`posthoc.repro.sensitivity.
    noise_concentration` for the networks' parameter count)."""
    shares = np.array([concentration(c, (0.5,))[0.5] for c in studies["coef"]])
    floor = float(np.quantile(noise, NOISE_QUANTILE))
    below = int((shares < floor).sum())
    tail = binomial_tail(below, len(shares), NOISE_QUANTILE)
    median, typical = float(np.median(shares)), float(np.mean(noise))
    return FEW_PARAMETERS.judged(
        level(tail < 0.05 and median <= typical / 2,
              tail < 0.05 and median <= 0.75 * typical),
        f"f per network {mean_interval_text(shares)}; Gaussian noise gives "
        f"{np.mean(noise):.3f} (2.5% quantile {floor:.3f}); below it on {below} of "
        f"{len(shares)} networks, which chance gives with probability {tail:.2g}.",
        number=f"f = {np.median(shares):.3f} against noise's {np.mean(noise):.3f}",
        **mean_effect("median share f of parameters carrying half the bias", shares,
                      np.mean(noise) / 2, statistic=np.median))


SINGULAR_VALUES = CLAIMS["singular_values"]


def singular_values_claim(singular: np.ndarray, noise: np.ndarray) -> Verdict:
    """Appendix A, Figure 2 right (``singular``: the networks' coefficient singular values;
    ``noise``: :func:`posthoc.repro.sensitivity.noise_singular_values`, same shape per
    draw)."""
    if len(singular) < 2:
        return SINGULAR_VALUES.undecided("fewer than two networks.")
    close = bool(np.all(np.abs(singular - 1) <= 0.1))
    low, high = np.quantile(noise.max(axis=1), [0.025, 0.975])
    apart = bool(singular.max() <= high)
    return SINGULAR_VALUES.judged(
        level(close and apart, close),
        f"ours {singular.min():.3f}-{singular.max():.3f}; Gaussian noise vectors "
        f"give a largest value of {low:.3f}-{high:.3f} (95% range), so ours are "
        + ("no more alike than noise." if apart else "more alike than noise."),
        number=f"largest {singular.max():.3f} against noise's {high:.3f}",
        **effect("the largest singular value", singular.max(), high))


__all__ = ["NOISE_QUANTILE", "few_parameters_claim", "margin_claim", "network_claim",
           "regression_claim", "singular_values_claim", "spread_claim"]
