"""Sensitivity of bias to the seed: the paper's Table 1 and the perturbation analysis of
Appendix A (Figure 2)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.metrics import r2_score

from ..data import Dataset, Split, load_dataset
from ..diagnostics import network_health
from ..methods import scores_of
from ..methods.default import accuracy_threshold
from ..methods.random import batched_scores, noise_matrix, perturbed_parameters
from ..metrics import MEASURES, accuracy, bias
from ..training import train_networks
from .paper import format_mean_std, format_range, paper_numbers
from .study import stored_table


def default_threshold(network: nn.Module, valid: Split) -> float:
    """The threshold of highest validation accuracy (grid of 1001, as the authors')."""
    return accuracy_threshold(scores_of(network, valid.X), valid)


def seed_rows(dataset: Dataset, networks: Sequence[nn.Module],
              seeds: Sequence[int]) -> pd.DataFrame:
    """Bias under each measure and accuracy on the test split, one row per network.

    Each network is thresholded where its validation accuracy is highest (the ``default``
    result of the study); ``failed`` flags a network that never trained
    (:func:`posthoc.diagnostics.network_health` on the validation split).
    """
    rows = []
    for seed, network in zip(seeds, networks):
        threshold = default_threshold(network, dataset.valid)
        pred = (scores_of(network, dataset.test.X) > threshold).astype(np.int64)
        row = {"config": dataset.name, "seed": seed, "threshold": threshold,
               "accuracy": accuracy(pred, dataset.test.y),
               "failed": network_health(network, dataset.valid)["failed"]}
        for measure in MEASURES:
            row[measure] = bias(pred, dataset.test.y, dataset.test.a, measure)
        rows.append(row)
    return pd.DataFrame(rows)


def seed_table(profile: str, *, configs: Sequence[str], seeds: Sequence[int],
               max_epochs: int, results=None) -> pd.DataFrame:
    """:func:`seed_rows` for every configuration (networks trained or read from the cache),
    kept in the profile's results store."""
    def compute() -> pd.DataFrame:
        frames = []
        for name in configs:
            dataset = load_dataset(name)
            networks = train_networks(dataset, seeds=seeds, max_epochs=max_epochs,
                                      progress=False)
            frames.append(seed_rows(dataset, networks, seeds))
        return pd.concat(frames, ignore_index=True)

    parameters = {"configs": list(configs), "seeds": list(seeds), "max_epochs": max_epochs,
                  "columns": 2}
    return stored_table(profile, "table1_rows", parameters, compute, results=results)


def perturbation_table(profile: str, *, config: str, seeds: Sequence[int], max_epochs: int,
                       n_deltas: int, results=None) -> pd.DataFrame:
    """:func:`perturbation_study` of each seed's network, one row per network (``spd`` and
    ``coef`` as arrays), kept in the profile's results store."""
    def compute() -> pd.DataFrame:
        dataset = load_dataset(config)
        networks = train_networks(dataset, seeds=seeds, max_epochs=max_epochs, progress=False)
        rows = []
        for seed, network in zip(seeds, networks):
            study = perturbation_study(network, dataset, n_deltas=n_deltas, seed=seed)
            rows.append({"config": config, "seed": seed, "r2": study["r2"],
                         "r2_authors": study["r2_authors"], "alpha": study["alpha"],
                         "base_spd": study["base_spd"],
                         **{key: study[key].astype(np.float64) for key in ARRAYS}})
        return pd.DataFrame(rows)

    parameters = {"config": config, "seeds": list(seeds), "max_epochs": max_epochs,
                  "n_deltas": n_deltas, "columns": 2}
    table = stored_table(profile, "appendix_a", parameters, compute, results=results)
    for key in ARRAYS:
        table[key] = [np.asarray(v, dtype=np.float64) for v in table[key]]
    return table


#: The array columns of :func:`perturbation_table`.
ARRAYS = ("spd", "soft_spd", "coef")


def table1(rows: pd.DataFrame) -> pd.DataFrame:
    """Table 1 from :func:`seed_rows`: one row per configuration and quantity, ours over
    every network and over the networks that trained (mean ± std over seeds), the number of
    failed networks, and the paper's."""
    paper = paper_numbers("table1")
    failed = rows["failed"] if "failed" in rows else pd.Series(False, index=rows.index)
    lines = []
    for config, group in rows.groupby("config", sort=False):
        trained = group[~failed.loc[group.index].to_numpy()]
        for quantity in ("aod", "eod", "spd", "accuracy"):
            ref = paper[(paper["config"] == config) & (paper["quantity"] == quantity)]
            lines.append({
                "config": config, "quantity": quantity,
                "ours": format_mean_std(group[quantity].mean(), group[quantity].std()),
                "ours, trained networks": (format_mean_std(trained[quantity].mean(),
                                                           trained[quantity].std())
                                           if len(trained) else "–"),
                "failed networks": f"{len(group) - len(trained)} of {len(group)}",
                "paper": (format_mean_std(ref["mean"].iloc[0], ref["std"].iloc[0])
                          if len(ref) else "–")})
    return pd.DataFrame(lines).set_index(["config", "quantity"])


def weakest_network_effect(rows: pd.DataFrame) -> pd.DataFrame:
    """Per configuration of :func:`seed_rows`: the seed of the least accurate network, and by
    how much it multiplies the standard deviation over seeds of accuracy and of each bias
    measure (the spread with it divided by the spread without it).

    Examples
    --------
    >>> rows = pd.DataFrame({"config": "c", "seed": range(4), "accuracy": [0.8, 0.8, 0.8, 0.5],
    ...                      "spd": [0.1, 0.2, 0.1, 0.2], "eod": 0.0, "aod": 0.0})
    >>> effect = weakest_network_effect(rows).iloc[0]
    >>> int(effect["seed"]), round(float(effect["spd"]), 2)
    (3, 1.0)
    """
    out = []
    for config, group in rows.groupby("config", sort=False):
        if len(group) < 3:
            continue
        weakest = group["accuracy"].idxmin()
        rest = group.drop(weakest)
        with np.errstate(divide="ignore", invalid="ignore"):
            factors = {q: float(group[q].std() / rest[q].std())
                       for q in ("accuracy", *MEASURES)}
        out.append({"config": config, "seed": int(group.loc[weakest, "seed"]), **factors})
    return pd.DataFrame(out)


def spread_ratios(rows: pd.DataFrame) -> pd.DataFrame:
    """Standard deviation over seeds of each bias measure divided by that of accuracy."""
    std = rows.groupby("config", sort=False)[["accuracy", *MEASURES]].std()
    return std[list(MEASURES)].div(std["accuracy"], axis=0)


def perturbation_study(network: nn.Module, dataset: Dataset, *, n_deltas: int = 1000,
                       std: float = 0.1, seed: int = 0, holdout: float = 0.2,
                       chunk: int = 4) -> dict:
    """Appendix A for one network: SPD of ``n_deltas`` multiplicatively perturbed copies.

    Every parameter is multiplied by its entry of a delta vector drawn from N(1, std); the
    perturbed networks are evaluated in batches on the test split, thresholded at the
    unperturbed network's default threshold. A ridge regression (penalty chosen by
    cross-validation) predicts SPD from the delta vector; its R² is measured on the
    ``holdout`` share of the deltas it was not fitted on, because with more parameters than
    deltas an in-sample linear fit is perfect by construction.

    Returns
    -------
    dict with ``spd`` (n_deltas,), ``coef`` (n_parameters,), ``r2`` (held out) and
    ``base_spd`` (the unperturbed network's).
    """
    model = network.eval()
    threshold = default_threshold(model, dataset.valid)
    noise = noise_matrix(model, trials=n_deltas, seed=seed)
    stacked = perturbed_parameters(model, noise, std=std)
    scores = batched_scores(model, stacked, torch.from_numpy(dataset.test.X), chunk=chunk)
    pred = (scores > threshold).to(torch.int64)
    spd = np.asarray(bias(pred, dataset.test.y, dataset.test.a, "spd"))
    soft = soft_spd(scores.numpy(), dataset.test.a)
    deltas = (noise * std + 1).numpy()
    n_fit = int(round(n_deltas * (1 - holdout)))
    regression = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(deltas[:n_fit], spd[:n_fit])
    base = (scores_of(model, dataset.test.X) > threshold).astype(np.int64)
    return {"spd": spd, "soft_spd": soft, "coef": regression.coef_.copy(),
            "r2": float(regression.score(deltas[n_fit:], spd[n_fit:])),
            "r2_authors": authors_r2(deltas, soft, seed=seed),
            "alpha": float(regression.alpha_),
            "base_spd": float(bias(base, dataset.test.y, dataset.test.a, "spd"))}


def soft_spd(scores: np.ndarray, a: np.ndarray) -> np.ndarray:
    """SPD of the scores themselves, with no threshold (the authors' Appendix A): the mean
    score of the unprivileged group minus the privileged group's, per row of ``scores``."""
    scores = np.atleast_2d(scores)
    a = np.asarray(a)
    return scores[:, a == 0].mean(1) - scores[:, a == 1].mean(1)


#: The authors' Appendix A protocol: fit on the first 800 of one permutation of the deltas,
#: score on the last 200 of a second permutation, report mean ± 2.2 std over networks.
AUTHORS_FIT, AUTHORS_SCORE, AUTHORS_SPREAD = 0.8, 0.2, 2.2


def authors_r2(deltas: np.ndarray, target: np.ndarray, *, seed: int) -> float:
    """R² under the authors' protocol: ``LinearRegression`` fitted on the first 80% of one
    random permutation of the rows and scored on the last 20% of a second, independent
    permutation, so that about 80% of the scored rows were also fitted."""
    rng = np.random.default_rng(seed)
    n = len(target)
    fit = rng.permutation(n)[:int(round(n * AUTHORS_FIT))]
    score = rng.permutation(n)[n - int(round(n * AUTHORS_SCORE)):]
    model = LinearRegression().fit(deltas[fit], target[fit])
    return float(r2_score(target[score], model.predict(deltas[score])))


def noise_concentration(n_parameters: int, *, draws: int = 200, share: float = 0.5,
                        seed: int = 0) -> np.ndarray:
    """:func:`concentration` at ``share`` of ``draws`` Gaussian vectors of length
    ``n_parameters``: what the statistic gives when no parameter matters more than another."""
    rng = np.random.default_rng(seed)
    return np.array([concentration(rng.standard_normal(n_parameters), (share,))[share]
                     for _ in range(draws)])


def noise_singular_values(n_vectors: int, n_parameters: int, *, draws: int = 50,
                          seed: int = 0) -> np.ndarray:
    """:func:`coefficient_singular_values` of ``n_vectors`` Gaussian vectors, ``draws``
    times: (draws, n_vectors). Independent random directions in many dimensions are nearly
    orthogonal, so these lie close to 1 too."""
    rng = np.random.default_rng(seed)
    return np.stack([coefficient_singular_values(list(rng.standard_normal((n_vectors,
                                                                           n_parameters))))
                     for _ in range(draws)])


def perturbation_summary(studies: pd.DataFrame) -> pd.DataFrame:
    """One row per network of :func:`perturbation_table`: its unperturbed SPD, the spread of
    SPD over the deltas, the held-out R² and how few parameters carry half and 90% of the
    total |coefficient|."""
    return pd.DataFrame({
        "seed": studies["seed"], "SPD unperturbed": studies["base_spd"],
        "SPD std over deltas": [np.std(spd) for spd in studies["spd"]],
        "held-out R²": studies["r2"], "authors' R² (soft SPD, overlapping)":
            studies["r2_authors"],
        "params for 50% of |coef|": [concentration(c)[0.5] for c in studies["coef"]],
        "params for 90% of |coef|": [concentration(c)[0.9] for c in studies["coef"]]})


def concentration(coef: np.ndarray, shares: Sequence[float] = (0.5, 0.9)) -> dict[float, float]:
    """Smallest fraction of parameters whose |coefficients| sum to each share of the total."""
    magnitude = np.sort(np.abs(coef))[::-1]
    if magnitude.sum() == 0:
        return {share: float("nan") for share in shares}   # no parameter carries any bias
    cumulative = np.cumsum(magnitude) / magnitude.sum()
    return {share: float((np.searchsorted(cumulative, share) + 1) / len(coef))
            for share in shares}


def coefficient_singular_values(coefs: Sequence[np.ndarray]) -> np.ndarray:
    """Singular values of the stacked coefficient vectors, each scaled to unit length.

    All equal to 1 when the vectors are orthogonal (each network's bias rests on different
    parameters); one large value and the rest near 0 when they point the same way. A zero
    vector (a network whose SPD no delta changed) has no direction and is left out; with
    none left, the result is empty.
    """
    norms = [np.linalg.norm(c) for c in coefs]
    kept = [c / norm for c, norm in zip(coefs, norms) if norm > 0]
    if not kept:
        return np.zeros(0)
    return np.linalg.svd(np.stack(kept), compute_uv=False)


def figure2_text(coefs: Sequence[np.ndarray], noise_shares: np.ndarray,
                 noise_singular: np.ndarray) -> str:
    """Figure 2's two statistics beside Gaussian noise's, in words: the share of the
    parameters carrying half of the total |coefficient| (over the networks; ``noise_shares``
    of :func:`noise_concentration`) and the largest singular value of the stacked unit
    coefficient vectors (``noise_singular`` of :func:`noise_singular_values`). A network
    whose SPD no delta changed has no coefficient to measure; when no network has one, the
    text says so."""
    moved = [np.asarray(coef) for coef in coefs if np.any(np.asarray(coef) != 0)]
    if not moved:
        return ("No delta changed any network's SPD here, so every coefficient is zero and "
                "neither statistic has anything to measure.")
    shares = [concentration(coef, (0.5,))[0.5] for coef in moved]
    largest = coefficient_singular_values(moved).max()
    low, high = np.quantile(noise_singular.max(axis=1), [0.025, 0.975])
    unmoved = len(coefs) - len(moved)
    return (f"Half of the total |coefficient| sits on "
            f"{format_range(min(shares), max(shares), '.1%')} of the parameters (over the "
            + (f"{len(moved)} networks whose SPD some delta changed; {unmoved} had none"
               if unmoved else "networks")
            + f"); a vector of Gaussian noise of the same length gives "
            f"{np.median(noise_shares):.1%}, so \"a small fraction of the parameters\" is close "
            f"to what any coefficient vector shows. The largest singular value of the stacked "
            f"unit coefficient vectors is {largest:.3f}; as many Gaussian noise vectors give "
            f"{format_range(low, high)} (95% range).")


__all__ = ["ARRAYS", "AUTHORS_SPREAD", "authors_r2", "coefficient_singular_values",
           "concentration", "default_threshold", "figure2_text", "noise_concentration",
           "noise_singular_values", "perturbation_study", "perturbation_summary",
           "perturbation_table", "seed_rows", "seed_table", "soft_spd", "spread_ratios",
           "table1", "weakest_network_effect"]
