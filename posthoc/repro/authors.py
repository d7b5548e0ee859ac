"""The authors' code, where it differs from their paper: each difference as a switch, and its
measured effect on the test objective.

Each switch runs the same network, configuration and measure twice: as the paper describes
the method (and as the rest of the book runs it) and as the authors' code behaved.

- ``random_uncopied``: random perturbation kept the best trial's ``state_dict()`` without
  copying it, so unless the last trial won, the result was the original network at the best
  trial's threshold (``best_state="uncopied"``).
- ``eqodds_true_labels``: equalised odds received the true labels in place of the network's
  predictions, when fitted and when evaluated.
- ``inverted_baselines``: on COMPAS the labels are AIF360's (1 = reoffends, favourable label
  0), and the scores P(reoffend) were handed to AIF360, which reads them as P(favourable): reject
  option classification and calibrated equalised odds ran inverted.
- ``layerwise_authors``: the authors' layer-wise search gave each weight the scikit-optimize
  dimension (-1.0, 1.0, w), a choice among three values; scored every candidate at one fixed
  threshold, the initial model's most accurate on the *test* split (101 points); and measured
  the bias of the scores themselves. Both versions search the output layer here (SPD), where
  scikit-optimize's categorical search stays affordable.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..validation import check_choice
from ..data import CONFIGURATIONS, Dataset, load_dataset
from ..debias import debias
from ..methods import scores_of
from ..methods.baselines import fit_baseline
from ..methods.default import accuracy_threshold
from ..metrics import MEASURES, accuracy, bias, objective
from ..training import train_networks
from .study import stored_table

#: Each switch: (what the authors' code did, the methods it concerns).
SWITCHES = {
    "random_uncopied": ("random perturbation's best weights kept without a copy", ("random",)),
    "eqodds_true_labels": ("equalised odds fitted and evaluated on the true labels",
                           ("eqodds",)),
    "inverted_baselines": ("COMPAS baselines given P(reoffend) as P(favourable)",
                           ("roc", "calibeqodds")),
    "layerwise_authors": ("layer-wise search over {-1, 1, w}, at the test split's best "
                          "threshold, with the scores' bias", ("layerwise",)),
}
#: The layer the layer-wise switch searches.
SWITCH_LAYERS = ["head"]


def test_split_threshold(network, dataset: Dataset) -> float:
    """The authors' fixed layer-wise threshold: the initial model's most accurate one on the
    test split, over 101 points."""
    scores = scores_of(network, dataset.test.X)
    grid = np.linspace(0.0, 1.0, 101)
    accuracy = ((scores[None, :] > grid[:, None]) == (dataset.test.y[None, :] == 1)).mean(1)
    return float(grid[int(np.argmax(accuracy))])


def _scored(switch, method, dataset, seed, measure, lam, predictions, protocol) -> dict:
    test = dataset.test
    return {"switch": switch, "method": method, "config": dataset.name, "seed": seed,
            "measure": measure, "protocol": protocol,
            "test_objective": float(objective(predictions, test.y, test.a, measure, lam=lam)),
            "test_bias": float(bias(predictions, test.y, test.a, measure)),
            "test_accuracy": float(accuracy(predictions, test.y)),
            "test_positive_rate": float(predictions.mean())}


def switch_rows(dataset: Dataset, network, seed: int, measure: str, *, lam: float,
                trials: int, calls: int = 100) -> list[dict]:
    """Every switch that applies to ``dataset`` on one network and measure: two rows each,
    ``protocol`` ``paper`` (ours) and ``authors_code``."""
    valid, test = dataset.valid, dataset.test
    rows = []
    for state, protocol in (("copied", "paper"), ("uncopied", "authors_code")):
        result = debias(network, valid, "random", measure=measure, lam=lam, seed=seed,
                        trials=trials, best_state=state)
        rows.append(_scored("random_uncopied", "random", dataset, seed, measure, lam,
                            result.predict_split(test), protocol))
    valid_scores, test_scores = scores_of(network, valid.X), scores_of(network, test.X)
    threshold = accuracy_threshold(valid_scores, valid)
    for labels, protocol in ((None, "paper"), (valid.y, "authors_code")):
        post = fit_baseline("eqodds", valid_scores, valid.y, valid.a, measure=measure,
                            seed=seed, threshold=threshold, labels=labels)
        predictions = post.predict(test_scores, test.a,
                                   labels=None if labels is None else test.y)
        rows.append(_scored("eqodds_true_labels", "eqodds", dataset, seed, measure, lam,
                            predictions, protocol))
    if measure == "spd":
        authors = {"space": "three-values", "soft_bias": True,
                   "threshold": test_split_threshold(network, dataset)}
        for options, protocol in (({}, "paper"), (authors, "authors_code")):
            result = debias(network, valid, "layerwise", measure=measure, lam=lam, seed=seed,
                            calls=calls, layers=SWITCH_LAYERS, **options)
            rows.append(_scored("layerwise_authors", "layerwise", dataset, seed, measure, lam,
                                result.predict_split(test), protocol))
    if CONFIGURATIONS[dataset.name].favourable_label == 0 and dataset.labels == "aif360":
        for method in SWITCHES["inverted_baselines"][1]:
            for favourable, protocol in ((1, "paper"), (0, "authors_code")):
                post = fit_baseline(method, valid_scores, valid.y, valid.a, measure=measure,
                                    seed=seed, threshold=threshold, favourable=favourable)
                rows.append(_scored("inverted_baselines", method, dataset, seed, measure, lam,
                                    post.predict(test_scores, test.a), protocol))
    return rows


def switch_table(profile: str, *, configs: Sequence[str], seeds: Sequence[int],
                 measures: Sequence[str], max_epochs: int, lam: float, trials: int,
                 calls: int, progress: bool = False, results=None) -> pd.DataFrame:
    """:func:`switch_rows` for every configuration, seed and measure, kept in the profile's
    results store."""
    measures = [check_choice("measure", m, MEASURES) for m in measures]

    def compute() -> pd.DataFrame:
        rows = []
        jobs = [(name, measure) for name in configs for measure in measures]
        datasets = {name: load_dataset(name) for name in configs}
        networks = {name: train_networks(datasets[name], seeds=seeds, max_epochs=max_epochs,
                                         progress=False) for name in configs}
        for name, measure in tqdm(jobs, desc="authors' switches", disable=not progress):
            for seed, network in zip(seeds, networks[name]):
                rows += switch_rows(datasets[name], network, seed, measure, lam=lam,
                                    trials=trials, calls=calls)
        return pd.DataFrame(rows)

    parameters = {"configs": list(configs), "seeds": list(seeds), "measures": measures,
                  "max_epochs": max_epochs, "lam": lam, "trials": trials, "calls": calls}
    return stored_table(profile, "authors_switches", parameters, compute, results=results)


def switch_effects(rows: pd.DataFrame) -> pd.DataFrame:
    """Per switch, method and configuration: the mean test objective as the paper describes
    the method and as the authors' code ran it, the mean change (authors − paper), the
    networks and measures it rests on, and the authors' mean positive rate."""
    keys = ["switch", "method", "config", "measure", "seed"]
    paired = (rows[rows["protocol"] == "paper"].merge(
        rows[rows["protocol"] == "authors_code"], on=keys, suffixes=("_paper", "_authors")))
    paired["change"] = paired["test_objective_authors"] - paired["test_objective_paper"]
    table = (paired.groupby(["switch", "method", "config"], sort=False)
             .agg(paper=("test_objective_paper", "mean"),
                  authors_code=("test_objective_authors", "mean"),
                  change=("change", "mean"), change_std=("change", "std"),
                  networks=("seed", "nunique"), measures=("measure", "nunique"),
                  authors_positive_rate=("test_positive_rate_authors", "mean"))
             .reset_index())
    table.insert(1, "what the authors' code did", table["switch"].map(
        lambda s: SWITCHES[s][0]))
    return table


__all__ = ["SWITCHES", "SWITCH_LAYERS", "switch_effects", "switch_rows", "switch_table",
           "test_split_threshold"]
