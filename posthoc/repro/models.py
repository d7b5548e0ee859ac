"""Table 3 of the paper: logistic regression and random forest beside the paper's network."""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
import pandas as pd

from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score

from ..validation import check_choice, check_seeds
from ..configurations import DATASETS
from ..data import Dataset, load_dataset
from ..diagnostics import network_health
from ..methods import scores_of
from ..training import train_networks
from .paper import format_mean_std, format_range, paper_numbers, paper_value
from .study import stored_table

MODELS = ("logistic_regression", "network", "random_forest")
MODEL_LABELS = {"logistic_regression": "logistic regression", "network": "neural network",
                "random_forest": "random forest"}


#: How Table 3's models are fitted and thresholded: ``"paper"`` as we read the paper
#: (``LogisticRegression`` with scikit-learn's defaults, scores thresholded at 0.5) and
#: ``"authors_code"`` as the authors' analysis notebook did (``LogisticRegressionCV`` and,
#: for every model, the threshold of best validation accuracy on a grid of 1001 points).
PROTOCOLS = ("paper", "authors_code")
THRESHOLD_GRID = np.linspace(0.0, 1.0, 1001)


def best_accuracy_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The threshold of the 1001-point grid with the highest accuracy (the first if tied),
    computed for all thresholds at once."""
    predicted = scores[None, :] > THRESHOLD_GRID[:, None]
    return float(THRESHOLD_GRID[int(np.argmax((predicted == (y[None, :] == 1)).mean(1)))])


def _rows(dataset: Dataset, model: str, seed: int, protocol: str, valid_scores: np.ndarray,
          test_scores: np.ndarray, failed: bool = False) -> dict:
    y = dataset.test.y
    threshold = (best_accuracy_threshold(valid_scores, dataset.valid.y)
                 if protocol == "authors_code" else 0.5)
    return {"config": dataset.name, "dataset": dataset.name.split("-")[0], "model": model,
            "seed": seed, "protocol": protocol, "threshold": threshold,
            "accuracy": float(((test_scores > threshold) == y).mean()),
            "roc_auc": float(roc_auc_score(y, test_scores)), "failed": failed}


def _probabilities(fitted, split) -> np.ndarray:
    return fitted.predict_proba(split.X)[:, 1]


def compare_models(dataset: Dataset, *, seeds: Sequence[int], models: Sequence[str] = MODELS,
                   max_epochs: int = 1001, n_estimators: int = 100,
                   protocols: Sequence[str] = PROTOCOLS, progress: bool = False
                   ) -> pd.DataFrame:
    """Accuracy and ROC AUC on the test split of each model, seed and protocol (one row per
    run; see :data:`PROTOCOLS`).

    Logistic regression (more iterations than scikit-learn's default; its fit draws nothing,
    so every seed has the same) and a random forest (``n_estimators`` trees, the seed as
    ``random_state``) are fitted on the training split;
    the network is the paper's, trained by :func:`posthoc.train_networks` (all seeds at once,
    cached), and ``failed`` flags a network that never trained
    (:func:`posthoc.diagnostics.network_health`).
    """
    seeds = check_seeds("seeds", seeds)
    models = [check_choice("model", m, MODELS) for m in models]
    protocols = [check_choice("protocol", p, PROTOCOLS) for p in protocols]
    rows = []
    X_train, y_train = dataset.train.X, dataset.train.y
    if "logistic_regression" in models:
        # Both fits are deterministic (lbfgs draws nothing; the authors' cross-validation
        # folds are not shuffled), so each protocol's is fitted once and every seed has it.
        scores = {}
        for protocol in protocols:
            estimator = (LogisticRegressionCV(max_iter=2000) if protocol == "authors_code"
                         else LogisticRegression(max_iter=2000))
            fitted = estimator.fit(X_train, y_train)
            scores[protocol] = (_probabilities(fitted, dataset.valid),
                                _probabilities(fitted, dataset.test))
        rows += [_rows(dataset, "logistic_regression", seed, protocol, *scores[protocol])
                 for seed, protocol in itertools.product(seeds, protocols)]
    if "network" in models:
        networks = train_networks(dataset, seeds=seeds, max_epochs=max_epochs,
                                  progress=progress)
        for seed, net in zip(seeds, networks):
            failed = network_health(net, dataset.valid)["failed"]
            valid_scores, test_scores = scores_of(net, dataset.valid.X), scores_of(
                net, dataset.test.X)
            rows += [_rows(dataset, "network", seed, protocol, valid_scores, test_scores,
                           failed) for protocol in protocols]
    if "random_forest" in models:
        for seed in seeds:
            fitted = RandomForestClassifier(n_estimators=n_estimators, random_state=seed,
                                            n_jobs=2).fit(X_train, y_train)
            # Parallel prediction sums the trees in completion order, which changes the last
            # bits between runs; one thread sums them in a fixed order.
            fitted.set_params(n_jobs=1)
            valid_scores = _probabilities(fitted, dataset.valid)
            test_scores = _probabilities(fitted, dataset.test)
            rows += [_rows(dataset, "random_forest", seed, protocol, valid_scores, test_scores)
                     for protocol in protocols]
    return pd.DataFrame(rows)


def model_runs(profile: str, *, configs: Sequence[str], seeds: Sequence[int],
               max_epochs: int, n_estimators: int, results=None) -> pd.DataFrame:
    """:func:`compare_models` for every configuration and both protocols, kept in the
    profile's results store (computed once per parameters, then read)."""
    parameters = {"configs": list(configs), "seeds": list(seeds), "max_epochs": max_epochs,
                  "n_estimators": n_estimators, "protocols": list(PROTOCOLS)}
    return stored_table(profile, "table3_runs", parameters, lambda: pd.concat([
        compare_models(load_dataset(name), seeds=seeds, max_epochs=max_epochs,
                       n_estimators=n_estimators) for name in configs], ignore_index=True),
        results=results)


def table3(runs: pd.DataFrame, protocol: str = "authors_code") -> pd.DataFrame:
    """Table 3 from :func:`compare_models` rows of one ``protocol``: ours (mean ± std over
    seeds) beside the paper's.

    One row per dataset and quantity, one column pair (ours, paper) per model.
    """
    check_choice("protocol", protocol, PROTOCOLS)
    if "protocol" in runs:
        runs = runs[runs["protocol"] == protocol]
    paper = paper_numbers("table3")
    summary = (runs.melt(id_vars=["dataset", "model", "seed"],
                         value_vars=["accuracy", "roc_auc"], var_name="quantity")
               .groupby(["dataset", "quantity", "model"])["value"]
               .agg(["mean", "std", "count"]).reset_index())
    merged = summary.merge(paper.rename(columns={"config": "dataset", "model_or_method": "model",
                                                 "mean": "paper_mean", "std": "paper_std"}),
                           on=["dataset", "quantity", "model"], how="left")
    merged["ours"] = [format_mean_std(m, s if c > 1 else None)
                      for m, s, c in zip(merged["mean"], merged["std"], merged["count"])]
    merged["paper"] = [format_mean_std(m, s) if pd.notna(m) else "–"
                       for m, s in zip(merged["paper_mean"], merged["paper_std"])]
    merged["model"] = merged["model"].map(MODEL_LABELS)
    table = merged.pivot(index=["dataset", "quantity"], columns="model",
                         values=["ours", "paper"])
    table = table.swaplevel(0, 1, axis=1).sort_index(axis=1, level=0, sort_remaining=False)
    order = [MODEL_LABELS[m] for m in MODELS if MODEL_LABELS[m] in table.columns.levels[0]]
    return table.reindex(columns=order, level=0)


def seed_spread_text(runs: pd.DataFrame, dataset: str) -> str:
    """Sentences on how the network's test accuracy on ``dataset`` spreads over the seeds of
    :func:`compare_models` rows (the authors' protocol), beside the paper's, with the weakest
    seed set apart; or, when ``runs`` hold no network of ``dataset``, that the selection left
    it out."""
    label = DATASETS[dataset].label
    paper = format_mean_std(*paper_value("table3", dataset, "accuracy", "network"))
    nets = runs[(runs["dataset"] == dataset) & (runs["model"] == "network")
                & (runs["protocol"] == "authors_code")].set_index("seed")["accuracy"]
    if nets.empty:
        return (f"{label}, where the paper's network is least stable across seeds (the paper "
                f"reports {paper}), is not among the configurations selected here.")
    text = (f"{label} is where the network is least stable across seeds: our test accuracy "
            f"there is {format_mean_std(nets.mean(), nets.std())} against the paper's {paper}.")
    if len(nets) == 1:
        return text + " With one seed, there is no spread across seeds to look at."
    weakest = nets.idxmin()
    others = nets.drop(weakest)
    reach = (f"the other {len(others)} reach" if len(others) > 1 else "the other reaches")
    return text + (
        f" The weakest {label} network, seed {weakest}'s, reaches {nets[weakest]:.3f} on the "
        f"test split, and {reach} {format_range(others.min(), others.max())}; without it the "
        f"mean is {format_mean_std(others.mean(), others.std())}. Whether it counts as failed "
        "is in the table above: our rule only catches networks that learnt (almost) nothing, "
        "not one that stopped well below its siblings.")


def failed_networks(runs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: how many networks failed (predict one class at 0.5, or are within
    half a point of the majority share on the validation split) and their seeds, with the
    network's test accuracy over every network and over those that trained (the authors'
    thresholds)."""
    nets = runs[runs["model"] == "network"]
    if "protocol" in nets:
        nets = nets[nets["protocol"] == "authors_code"]
    rows = []
    for name, group in nets.groupby("config", sort=False):
        trained = group[~group["failed"]]
        rows.append({"config": name, "networks": len(group),
                     "failed": int(group["failed"].sum()),
                     "failed seeds": group.loc[group["failed"], "seed"].tolist(),
                     "accuracy, all": format_mean_std(group["accuracy"].mean(),
                                                      group["accuracy"].std()),
                     "accuracy, trained": (format_mean_std(trained["accuracy"].mean(),
                                                           trained["accuracy"].std())
                                           if len(trained) else "–")})
    return pd.DataFrame(rows)


def best_models(runs: pd.DataFrame, protocol: str = "authors_code") -> pd.DataFrame:
    """The model with the highest mean accuracy and ROC AUC, per dataset (one protocol)."""
    if "protocol" in runs:
        runs = runs[runs["protocol"] == check_choice("protocol", protocol, PROTOCOLS)]
    best = (runs.groupby(["dataset", "model"])[["accuracy", "roc_auc"]].mean()
            .groupby("dataset").idxmax().map(lambda pair: MODEL_LABELS[pair[1]]))
    best.columns = ["best accuracy", "best ROC AUC"]
    return best


__all__ = ["MODELS", "MODEL_LABELS", "PROTOCOLS", "best_accuracy_threshold", "best_models",
           "compare_models", "failed_networks", "model_runs", "seed_spread_text",
           "table3"]
