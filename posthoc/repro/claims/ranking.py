"""What the claims count: per setting, the best method among results that are not one-class,
paired gains on the same networks, and the one-class reference.

A *setting* is a configuration, an architecture and a measure. A method's *result* in a
setting is its runs over the seeds (networks); the result is one-class when most of its
runs are (:func:`posthoc.repro.comparison.one_class_flags`). A one-class result never counts
as the best, and a paired gain resting on one is left out and counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...methods import methods_of
from ..comparison import one_class_flags
from .verdict import bootstrap_interval, significance

KEYS = ["config", "arch", "measure"]
#: Two mean objectives closer than this are tied: neither is "the best".
TIE = 1e-9
TIED = "tie: "


def setting_stats(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per setting and method: mean objective over seeds, the share of seeds whose run is
    one-class (``one_class``), whether most are (``excluded``), and the seed count."""
    rows = in_order(rows)
    frame = rows.assign(one_class=one_class_flags(rows, split).astype(float))
    stats = (frame.groupby(KEYS + ["method"])
             .agg(objective=(f"{split}_objective", "mean"), one_class=("one_class", "mean"),
                  seeds=("seed", "nunique"))
             .reset_index())
    return stats.assign(excluded=stats["one_class"] > 0.5)


def in_order(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` sorted by setting, method and seed, so that every mean, interval and
    bootstrap draw is the same whatever order the store returned them in."""
    keys = [k for k in KEYS + ["method", "seed"] if k in rows]
    return rows.sort_values(keys, kind="stable").reset_index(drop=True)


def lowest(ordered: pd.DataFrame) -> list[str]:
    """The methods of ``ordered`` (sorted by objective) within :data:`TIE` of the lowest."""
    if ordered.empty:
        return []
    low = ordered["objective"].iloc[0]
    return list(ordered.loc[ordered["objective"] - low <= TIE, "method"])


def named(tied: list[str]) -> str:
    """The one best method, ``"tie: a = b"`` when several share the lowest mean, or ``""``."""
    return tied[0] if len(tied) == 1 else TIED + " = ".join(tied) if tied else ""


def tied_methods(best: str) -> list[str]:
    """The methods a ``best`` entry of :func:`best_methods` names as tied (else none)."""
    return best[len(TIED):].split(" = ") if best.startswith(TIED) else []


def best_methods(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per setting: the method with the lowest mean objective (``best``) and whether it is
    one-class (``best_is_one_class``); the same among results that are not one-class
    (``best_not_one_class``), the best two of those (``top_two``), and how many results
    were left out as one-class (``one_class_excluded``). Methods whose means lie within
    :data:`TIE` of the lowest share it: no method is then the best, and the column reads
    ``"tie: a = b"`` (:func:`tied_methods` reads it back)."""
    stats = setting_stats(rows, split)
    out = []
    for key, group in stats.groupby(KEYS):
        ordered = group.sort_values("objective", kind="stable")
        useful = ordered[~ordered["excluded"]]
        out.append(dict(zip(KEYS, key), best=named(lowest(ordered)),
                        best_is_one_class=bool(ordered["excluded"].iloc[0]),
                        best_not_one_class=named(lowest(useful)),
                        top_two=list(useful["method"].iloc[:2]),
                        one_class_excluded=int(ordered["excluded"].sum())))
    return pd.DataFrame(out)


def wins_of(best: pd.DataFrame, method: str) -> int:
    """In how many settings of :func:`best_methods` ``method`` alone is the best result that
    is not one-class."""
    return int((best["best_not_one_class"] == method).sum())


def paired(rows: pd.DataFrame, a: str, b: str, split: str = "test") -> pd.DataFrame:
    """Per seed and setting: ``b``'s objective minus ``a``'s (``gain``; positive: ``a`` is
    better), and ``excluded``: either side's result is one-class in that setting."""
    column = f"{split}_objective"
    flagged = setting_stats(rows, split)[KEYS + ["method", "excluded"]]
    sides = []
    for method in (a, b):
        part = rows[rows["method"] == method][KEYS + ["seed", column]]
        sides.append(part.merge(flagged[flagged["method"] == method].drop(columns="method"),
                                on=KEYS, how="left"))
    merged = sides[0].merge(sides[1], on=KEYS + ["seed"], suffixes=("_a", "_b"))
    merged = merged.sort_values(KEYS + ["seed"], kind="stable").reset_index(drop=True)
    return merged.assign(gain=merged[f"{column}_b"] - merged[f"{column}_a"],
                         excluded=merged["excluded_a"].fillna(False).astype(bool)
                         | merged["excluded_b"].fillna(False).astype(bool))


def present(rows: pd.DataFrame, family: str) -> list[str]:
    """The registered methods of ``family`` that ``rows`` hold, in the registry's order."""
    held = set(rows["method"])
    return [m for m in methods_of(family) if m in held]


def family_duel(rows: pd.DataFrame, split: str = "test", *,
                failed_networks: bool = True) -> pd.DataFrame:
    """Every (setting, fine-tuning method, post-processing method): the mean gain of the
    fine-tuning method over seeds, its bootstrap interval, its ``significance`` and
    ``excluded`` (either side's result is one-class). With ``failed_networks=False`` the
    seeds whose network failed (``network_failed``) are left out first."""
    if not failed_networks and "network_failed" in rows:
        rows = rows[~rows["network_failed"].fillna(False).astype(bool)]
    fine, post = present(rows, "fine-tuning"), present(rows, "post-processing")
    out = []
    for f in fine:
        for p in post:
            for index, (key, group) in enumerate(paired(rows, f, p, split).groupby(KEYS)):
                gains = group["gain"].to_numpy()
                low, high = bootstrap_interval(gains, seed=index)
                out.append(dict(zip(KEYS, key), fine_tuning=f, post_processing=p,
                                gain=gains.mean(), low=low, high=high,
                                significance=significance(gains, seed=index),
                                excluded=bool(group["excluded"].any())))
    return pd.DataFrame(out)


def reference_beaten(rows: pd.DataFrame, reference: dict[str, float],
                     split: str = "test") -> pd.DataFrame:
    """Per setting: the one-class reference's objective (``reference``: per configuration,
    predicting the majority class on the split), the best result that is not one-class, and
    ``beaten``: its per-seed objectives lie below the reference with a bootstrap interval
    of the mean difference below 0."""
    stats = setting_stats(rows, split)
    column = f"{split}_objective"
    out = []
    for index, (key, group) in enumerate(stats.groupby(KEYS)):
        config = key[0]
        useful = group[~group["excluded"]].sort_values("objective", kind="stable")
        target = reference.get(config, np.nan)
        if useful.empty or np.isnan(target):
            out.append(dict(zip(KEYS, key), reference=target, best="", objective=np.nan,
                            beaten=False))
            continue
        method = useful["method"].iloc[0]
        mask = (rows["method"] == method) & (rows[KEYS] == pd.Series(key, index=KEYS)).all(1)
        values = rows.loc[mask, column].dropna().to_numpy() - target
        out.append(dict(zip(KEYS, key), reference=target, best=method,
                        objective=useful["objective"].iloc[0],
                        beaten=bool(significance(values, seed=index) < 0)))
    return pd.DataFrame(out)


def reference_unbeaten(rows: pd.DataFrame, reference: dict[str, float],
                       split: str = "test") -> list[tuple[str, str]]:
    """The settings (configuration, measure) of ``rows`` where no method's mean objective on
    ``split`` (over its seeds) lies below the one-class reference (``reference``: per
    configuration, predicting the majority class on the split).

    Examples
    --------
    >>> rows = pd.DataFrame({"config": ["c"] * 4, "measure": ["spd", "spd", "eod", "eod"],
    ...                      "method": ["a", "b", "a", "b"],
    ...                      "test_objective": [0.2, 0.3, 0.05, 0.3]})
    >>> reference_unbeaten(rows, {"c": 0.1})
    [('c', 'spd')]
    """
    means = rows.groupby(["config", "measure", "method"])[f"{split}_objective"].mean()
    floor = means.groupby(level=[0, 1]).min()
    return [(config, measure) for (config, measure), value in floor.items()
            if config in reference and not value < reference[config]]


__all__ = ["KEYS", "TIE", "best_methods", "family_duel", "in_order", "lowest", "named",
           "paired", "present",
           "reference_beaten", "reference_unbeaten", "setting_stats", "tied_methods", "wins_of"]
