"""Every number the paper reports (Tables 1 and 3, Appendix A) beside ours, and Table 1's
standard deviations against the paper's with a test of their ratio."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import f as f_distribution
from scipy.stats import t as t_distribution

from .paper import paper_numbers
from .sensitivity import AUTHORS_SPREAD

#: The paper's number of seeds behind each mean ± std of Table 1.
PAPER_SEEDS = 10


def against_paper(ours_mean: float, ours_std: float | None, paper_mean: float,
                  paper_std: float | None, *, resolution: float = 0.0005) -> dict:
    """Ours beside the paper's number: the difference and whether ours lies within the
    paper's mean ± 2 standard deviations. A standard deviation the paper prints as 0.000
    (or omits) is taken as ``resolution``, half a unit of its last printed digit."""
    sigma = resolution if paper_std is None or pd.isna(paper_std) else max(paper_std,
                                                                            resolution)
    difference = ours_mean - paper_mean
    return {"ours": ours_mean, "ours_std": ours_std, "paper": paper_mean,
            "paper_std": paper_std, "sigma": sigma, "difference": difference,
            "within_2_sigma": bool(abs(difference) <= 2 * sigma)}


def standardised(line: dict, n: int, *, level: float = 0.95) -> dict:
    """The difference of :func:`against_paper`'s ``line`` in units of the paper's σ (``z``),
    with the t interval (``level``) of our mean over ``n`` values in the same units; the
    interval is the point when there is one value."""
    z = line["difference"] / line["sigma"]
    std = line["ours_std"]
    if n < 2 or std is None or pd.isna(std):
        return {"n": n, "z": z, "z_low": z, "z_high": z}
    half = t_distribution.ppf(0.5 + level / 2, n - 1) * std / np.sqrt(n) / line["sigma"]
    return {"n": n, "z": z, "z_low": z - half, "z_high": z + half}


#: The columns of ``comparison.csv`` (:func:`paper_comparison`).
COMPARISON_COLUMNS = ["table", "config", "quantity", "model", "protocol", "paper", "paper_std",
                      "ours", "ours_std", "difference", "within_2_sigma", "n_failed_networks",
                      "cause", "kind", "sigma", "n", "z", "z_low", "z_high"]
#: The columns of :func:`spread_comparison`'s rows, which ``comparison.csv`` holds too.
SPREAD_COLUMNS = ["table", "config", "quantity", "model", "protocol", "paper", "ours",
                  "n_seeds", "variance_ratio", "variance_p", "spread_consistent", "kind"]

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
    ``n_failed_networks`` counts the networks among ours that never trained; ``sigma`` is
    the σ the comparison used, and ``z`` (``z_low``, ``z_high``) the difference in units of
    it with our 95% interval (:func:`standardised`), over ``n`` values. ``cause`` says,
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
        line.update(standardised(line, len(values)))
        lines.append({"table": table, "config": shown_as or config, "quantity": quantity,
                      "model": model, "protocol": protocol, **line,
                      "n_failed_networks": int(failed), "cause": cause, "kind": "mean"})

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


def variance_ratio_test(ours_std: float, n_ours: int, paper_std: float,
                        n_paper: int = PAPER_SEEDS, *, resolution: float = 0.0005
                        ) -> tuple[float, float]:
    """The ratio of variances (ours / the paper's) and its two-sided F test's p-value
    (degrees of freedom n − 1 each); a standard deviation printed as 0.000 counts as
    ``resolution``.

    Examples
    --------
    >>> ratio, p = variance_ratio_test(0.02, 10, 0.01)
    >>> round(ratio, 1), round(p, 3)
    (4.0, 0.051)
    """
    ratio = ours_std ** 2 / max(paper_std, resolution) ** 2
    tail = f_distribution.sf(ratio, n_ours - 1, n_paper - 1)
    return float(ratio), float(min(1.0, 2 * min(tail, 1 - tail)))


def spread_comparison(table1_rows: pd.DataFrame, *, level: float = 0.05) -> pd.DataFrame:
    """Table 1's point: the standard deviation over seeds of each bias measure and of
    accuracy, ours beside the paper's, with :func:`variance_ratio_test`; a spread is
    ``spread_consistent`` with the paper's when the test's p-value is at least ``level``.
    One row per configuration and quantity (:data:`SPREAD_COLUMNS`)."""
    paper = paper_numbers("table1").set_index(["config", "quantity"])
    lines = []
    for config, group in table1_rows.groupby("config"):
        for quantity in ("aod", "eod", "spd", "accuracy"):
            if (config, quantity) not in paper.index or len(group) < 2:
                continue
            ours = float(group[quantity].std(ddof=1))
            theirs = float(paper.loc[(config, quantity), "std"])
            ratio, p = variance_ratio_test(ours, len(group), theirs)
            lines.append({"table": "table1", "config": config, "quantity": f"std({quantity})",
                          "model": "network", "protocol": "paper", "paper": theirs,
                          "ours": ours, "n_seeds": len(group), "variance_ratio": ratio,
                          "variance_p": p, "spread_consistent": bool(p >= level),
                          "kind": "spread"})
    return pd.DataFrame(lines, columns=SPREAD_COLUMNS)


__all__ = ["AUTHORS_PROTOCOL", "COMPARISON_COLUMNS", "PAPER_SEEDS", "SPREAD_COLUMNS",
           "against_paper", "paper_comparison", "paper_time_estimate", "spread_comparison",
           "standardised", "variance_ratio_test"]
