"""Table 3 of the paper: logistic regression and random forest beside the paper's network."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from .._validation import check_choice, check_seeds
from ..data import Dataset, load_dataset
from ..training import train_networks
from .paper import format_mean_std, paper_numbers
from .study import stored_table

MODELS = ("logistic_regression", "network", "random_forest")
MODEL_LABELS = {"logistic_regression": "logistic regression", "network": "neural network",
                "random_forest": "random forest"}


def _scores_table(dataset: Dataset, model: str, seed: int, scores: np.ndarray) -> dict:
    y = dataset.test.y
    return {"config": dataset.name, "dataset": dataset.name.split("-")[0], "model": model,
            "seed": seed, "accuracy": float(((scores > 0.5) == y).mean()),
            "roc_auc": float(roc_auc_score(y, scores))}


def compare_models(dataset: Dataset, *, seeds: Sequence[int], models: Sequence[str] = MODELS,
                   max_epochs: int = 1001, n_estimators: int = 100,
                   progress: bool = False) -> pd.DataFrame:
    """Accuracy and ROC AUC on the test split of each model and seed (one row per run).

    Logistic regression (scikit-learn defaults, more iterations) and a random forest
    (``n_estimators`` trees, the seed as ``random_state``) are fitted on the training split;
    the network is the paper's, trained by :func:`posthoc.train_networks` (all seeds at once,
    cached). Accuracy thresholds the scores at 0.5.
    """
    seeds = check_seeds("seeds", seeds)
    models = [check_choice("model", m, MODELS) for m in models]
    rows = []
    X_train, y_train, X_test = dataset.train.X, dataset.train.y, dataset.test.X
    if "logistic_regression" in models:
        for seed in seeds:
            fitted = LogisticRegression(max_iter=2000, random_state=seed).fit(X_train, y_train)
            rows.append(_scores_table(dataset, "logistic_regression", seed,
                                      fitted.predict_proba(X_test)[:, 1]))
    if "network" in models:
        networks = train_networks(dataset, seeds=seeds, max_epochs=max_epochs,
                                  progress=progress)
        with torch.no_grad():
            for seed, net in zip(seeds, networks):
                rows.append(_scores_table(dataset, "network", seed,
                                          net(torch.from_numpy(X_test)).numpy()))
    if "random_forest" in models:
        for seed in seeds:
            fitted = RandomForestClassifier(n_estimators=n_estimators, random_state=seed,
                                            n_jobs=2).fit(X_train, y_train)
            # Parallel prediction sums the trees in completion order, which changes the last
            # bits between runs; one thread sums them in a fixed order.
            fitted.set_params(n_jobs=1)
            rows.append(_scores_table(dataset, "random_forest", seed,
                                      fitted.predict_proba(X_test)[:, 1]))
    return pd.DataFrame(rows)


def model_runs(profile: str, *, configs: Sequence[str], seeds: Sequence[int],
               max_epochs: int, n_estimators: int, results=None) -> pd.DataFrame:
    """:func:`compare_models` for every configuration, kept in the profile's results store
    (computed once per parameters, then read)."""
    parameters = {"configs": list(configs), "seeds": list(seeds), "max_epochs": max_epochs,
                  "n_estimators": n_estimators}
    return stored_table(profile, "table3_runs", parameters, lambda: pd.concat([
        compare_models(load_dataset(name), seeds=seeds, max_epochs=max_epochs,
                       n_estimators=n_estimators) for name in configs], ignore_index=True),
        results=results)


def table3(runs: pd.DataFrame) -> pd.DataFrame:
    """Table 3 from :func:`compare_models` rows: ours (mean ± std over seeds) beside the paper's.

    One row per dataset and quantity, one column pair (ours, paper) per model.
    """
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


def majority_networks(runs: pd.DataFrame, datasets: dict[str, Dataset], *,
                      tolerance: float = 0.01) -> pd.DataFrame:
    """Per configuration: the test split's majority-class accuracy and the seeds whose
    network's test accuracy lies within ``tolerance`` of it (networks that never left their
    initial plateau predict one class for almost everybody)."""
    rows = []
    for name, dataset in datasets.items():
        share = float(dataset.test.y.mean())
        majority = max(share, 1 - share)
        nets = runs[(runs["config"] == name) & (runs["model"] == "network")]
        stuck = nets[(nets["accuracy"] - majority).abs() < tolerance]["seed"].tolist()
        rows.append({"config": name, "majority accuracy": majority, "networks": len(nets),
                     "at the majority rate": len(stuck), "seeds": stuck})
    return pd.DataFrame(rows)


def best_models(runs: pd.DataFrame) -> pd.DataFrame:
    """The model with the highest mean accuracy and ROC AUC, per dataset."""
    best = (runs.groupby(["dataset", "model"])[["accuracy", "roc_auc"]].mean()
            .groupby("dataset").idxmax().map(lambda pair: MODEL_LABELS[pair[1]]))
    best.columns = ["best accuracy", "best ROC AUC"]
    return best


__all__ = ["MODELS", "MODEL_LABELS", "best_models", "compare_models", "majority_networks",
           "model_runs", "table3"]
