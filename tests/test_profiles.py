"""posthoc.repro.profiles (papermill parameter checks), posthoc.models and posthoc.paper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posthoc.repro.parameters import resolve
from posthoc.repro.models import compare_models, table3
from posthoc.repro.paper import format_mean_std, paper_numbers


def test_profile_defaults_and_overrides():
    quick = resolve("need_for_networks", "quick")
    paper = resolve("need_for_networks", "paper")
    assert quick["seeds"] == [0, 1] and paper["seeds"] == list(range(10))
    assert paper["max_epochs"] == 1001
    assert resolve("need_for_networks", "quick", seeds=[3, 4], configs=["bank-age"]) == {
        **quick, "seeds": [3, 4], "configs": ["bank-age"]}


@pytest.mark.parametrize("kwargs, name", [
    (dict(profile="full"), "profile"),
    (dict(seeds=[0, 0]), "seeds"),
    (dict(seeds=[-1]), "seeds"),
    (dict(seeds="0,1"), "seeds"),
    (dict(configs=["adult"]), "configs"),
    (dict(configs=[]), "configs"),
    (dict(max_epochs=0), "max_epochs"),
    (dict(max_epochs=2.5), "max_epochs"),
    (dict(n_estimators=-3), "n_estimators"),
    (dict(trials=10), "trials"),
])
def test_bad_parameters_are_named(kwargs, name):
    profile = kwargs.pop("profile", "quick")
    with pytest.raises(ValueError, match=rf"^Parameter {name}=.*expected"):
        resolve("need_for_networks", profile, **kwargs)


def test_paper_numbers():
    table = paper_numbers("table3")
    assert len(table) == 18 and set(table["model_or_method"]) == {
        "logistic_regression", "network", "random_forest"}
    row = table.query("config == 'compas' and quantity == 'accuracy' and "
                      "model_or_method == 'network'").iloc[0]
    assert (row["mean"], row["std"]) == (0.641, 0.061)
    assert len(paper_numbers()) == 55
    with pytest.raises(ValueError, match="Unknown table 'table9'"):
        paper_numbers("table9")
    assert format_mean_std(0.8554, 0.0021) == "0.855 ± 0.002"
    assert format_mean_std(0.8554, float("nan")) == "0.855"


def test_table3_puts_ours_beside_the_paper():
    runs = pd.DataFrame({
        "config": ["adult-sex"] * 4, "dataset": ["adult"] * 4,
        "model": ["network", "network", "logistic_regression", "logistic_regression"],
        "seed": [0, 1, 0, 1], "accuracy": [0.85, 0.86, 0.84, 0.84],
        "roc_auc": [0.90, 0.91, 0.89, 0.89]})
    table = table3(runs)
    assert table.loc[("adult", "accuracy"), ("neural network", "ours")] == "0.855 ± 0.007"
    assert table.loc[("adult", "accuracy"), ("neural network", "paper")] == "0.855 ± 0.002"
    assert table.loc[("adult", "roc_auc"), ("logistic regression", "paper")] == "0.904 ± 0.000"
    assert list(table.columns.get_level_values(0).unique()) == ["logistic regression",
                                                                "neural network"]


def test_compare_models_on_compas(datasets):
    data = datasets["compas-race"]
    runs = compare_models(data, seeds=[0], max_epochs=3, n_estimators=5,
                          models=["logistic_regression", "random_forest"])
    assert list(runs["model"]) == ["logistic_regression"] * 2 + ["random_forest"] * 2
    assert list(runs["protocol"]) == ["paper", "authors_code"] * 2
    lr = runs.iloc[0]
    assert 0.6 < lr["accuracy"] < 0.75 and 0.65 < lr["roc_auc"] < 0.8
    assert lr["threshold"] == 0.5
    # The authors' protocol: the forest's threshold is its best validation accuracy on the
    # 1001-point grid, found here one threshold at a time.
    from sklearn.ensemble import RandomForestClassifier
    forest = RandomForestClassifier(n_estimators=5, random_state=0, n_jobs=1).fit(
        data.train.X, data.train.y)
    scores = forest.predict_proba(data.valid.X)[:, 1]
    accuracies = [((scores > t) == data.valid.y).mean() for t in np.linspace(0, 1, 1001)]
    assert runs.iloc[3]["threshold"] == pytest.approx(np.linspace(0, 1, 1001)[
        int(np.argmax(accuracies))])
    test_scores = forest.predict_proba(data.test.X)[:, 1]
    assert runs.iloc[3]["accuracy"] == pytest.approx(
        ((test_scores > runs.iloc[3]["threshold"]) == data.test.y).mean())
    with pytest.raises(ValueError, match="model 'svm'"):
        compare_models(datasets["compas-race"], seeds=[0], models=["svm"])


def test_each_budget_option_names_one_method():
    from posthoc.methods import METHODS
    from posthoc.repro.profiles import budget_options

    marked = [m for m, spec in METHODS.items() if spec.budget]
    assert budget_options() == {"trials": "random", "calls": "layerwise", "epochs": "adversarial"}
    assert len(budget_options()) == len(marked), "two methods mark the same budget name"
