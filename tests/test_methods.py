"""The method contract, walked over every registered method, and a toy method registered
from outside that works through debias, the study grid, the tables and a figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch

import posthoc
from posthoc import METHODS, Fit, MethodSpec, Option, debias, train_networks
from posthoc.methods import FAMILIES, scores_of
from posthoc.validation import Constraint
from posthoc.methods._spec import integer
from posthoc.repro.comparison import labelled, objective_table, ranks
from posthoc.repro.figures import colour, plot_objectives
from problems import biased_problem

#: Small budgets so that every built-in method runs in about a second here; a method not
#: listed runs with its defaults.
SMALL = {"random": {"trials": 4}, "layerwise": {"calls": 4, "layers": ["head"]},
         "adversarial": {"epochs": 1, "critic_steps": 3, "actor_steps": 3}}


@pytest.fixture(scope="module")
def problem():
    train, valid, test = (biased_problem(300, 0, features=4), biased_problem(200, 1, features=4),
                          biased_problem(200, 2, features=4))
    net = train_networks((train, valid), seeds=[0], width=6, depth=2, max_epochs=10,
                         cache=False, progress=False, workers=1)[0]
    return net, valid, test


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_keeps_the_contract(problem, name):
    net, valid, test = problem
    spec = METHODS[name]
    assert spec.family in FAMILIES and spec.label and spec.colour.startswith("#")
    before = _state(net)
    result = debias(net, valid, name, measure="eod", seed=3, **SMALL.get(name, {}))
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items()), \
        "the caller's model was changed"
    predictions = result.predict(test.X, test.a)
    assert predictions.shape == (len(test),) and set(np.unique(predictions)) <= {0, 1}
    again = debias(net, valid, name, measure="eod", seed=3, **SMALL.get(name, {}))
    assert np.array_equal(again.predict(test.X, test.a), predictions), "not deterministic"
    assert result.method == name and result.seed == 3
    assert set(result.options) == {option.name for option in spec.options}
    assert np.isfinite(result.objective) and np.isfinite(result.threshold)


@pytest.mark.parametrize("name, option, bad", [
    (name, option.name, bad) for name, spec in METHODS.items() for option in spec.options
    for bad in option.kind.bad])
def test_every_bad_option_value_is_refused_by_name(problem, name, option, bad):
    net, valid, _ = problem
    with pytest.raises(ValueError, match=rf"^Option {option}=.* of method '{name}' is not "
                                         r"allowed; expected "):
        debias(net, valid, name, **{option: bad})


@pytest.mark.parametrize("name", list(METHODS))
def test_an_unknown_option_is_refused_with_the_valid_ones(problem, name):
    net, valid, _ = problem
    valid_names = ", ".join(o.name for o in METHODS[name].options) or "none"
    with pytest.raises(ValueError, match=rf"Unknown option 'bogus' for method '{name}'; "
                                         rf"valid options are: {valid_names}\."):
        debias(net, valid, name, bogus=1)


def _rows(methods):
    """Study rows of every method on two settings and two seeds."""
    rng = np.random.default_rng(0)
    rows = []
    for config in ("adult-sex", "bank-age"):
        for seed in (0, 1):
            for method in methods:
                rows.append({"config": config, "arch": "default", "seed": seed,
                             "measure": "spd", "method": method,
                             "test_objective": rng.random(), "test_bias": rng.random() - 0.5,
                             "test_accuracy": rng.random()})
    return pd.DataFrame(rows)


def test_every_method_appears_in_every_table_and_figure():
    rows = _rows(list(METHODS))
    labels = [spec.label for spec in METHODS.values()]
    assert labelled(METHODS) == labels
    assert list(objective_table(rows).columns) == labels + ["one-class left out"]
    assert list(ranks(rows).columns) == labels
    figure = plot_objectives(rows)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == labels
    assert [colour(m) for m in METHODS] == [spec.colour for spec in METHODS.values()]
    matplotlib.pyplot.close(figure)


def test_a_method_missing_from_the_registry_is_an_error_not_a_gap():
    with pytest.raises(ValueError, match="Unknown method 'vanished'"):
        objective_table(_rows(["default", "vanished"]))


def _median_fit(model, split, *, measure, lam, seed, quantile):
    """The toy method: threshold the unchanged model at a quantile of its scores."""
    scores = scores_of(model, split.X)
    return Fit(model=model, threshold=float(np.quantile(scores, quantile)),
               details={"quantile": quantile})


TOY = MethodSpec(
    name="toy", label="Toy", family="post-processing", fit=_median_fit, colour="#000000",
    options=(Option("quantile", 0.5,
                    Constraint("a number in (0, 1)", lambda v: isinstance(v, float) and 0 < v < 1,
                               (0.0, 1.5, "half"))),))


@pytest.fixture
def toy():
    posthoc.register_method(TOY)
    try:
        yield TOY
    finally:
        METHODS.unregister("toy")


def test_a_registered_toy_method_works_through_debias_the_study_and_a_figure(
        toy, problem, data_dir, tmp_path):
    from posthoc.repro.study import ResultStore, Settings, grid, run_grid

    net, valid, test = problem
    result = debias(net, valid, "toy", quantile=0.25)
    assert result.threshold == pytest.approx(np.quantile(scores_of(net, valid.X), 0.25))
    assert result.predict(test.X).mean() == pytest.approx(
        (scores_of(net, test.X) > result.threshold).mean())
    with pytest.raises(ValueError, match="Option quantile='half' of method 'toy'"):
        debias(net, valid, "toy", quantile="half")

    cells = grid(configs=["compas-race"], seeds=[0], measures=["spd"],
                 methods=["default", "toy"])
    rows = run_grid(cells, Settings(max_epochs=2), ResultStore(tmp_path), progress=False,
                    data_dir=data_dir)
    assert set(rows["method"]) == {"default", "toy"}
    assert "Toy" in objective_table(rows).columns
    figure = plot_objectives(rows)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert [entry for entry in legend if entry != "one-class (most seeds)"] == ["Default", "Toy"]
    matplotlib.pyplot.close(figure)


def test_registering_a_name_twice_or_a_bad_spec_is_refused(toy):
    with pytest.raises(ValueError, match="A method named 'toy' is already registered"):
        posthoc.register_method(TOY)
    with pytest.raises(TypeError, match="spec must be a posthoc.MethodSpec"):
        posthoc.register_method({"name": "dict"})
    with pytest.raises(ValueError, match="family='magic' is not allowed"):
        MethodSpec(name="x", label="X", family="magic", fit=_median_fit)
    assert integer(1).accepts(3) and not integer(1).accepts(0)


@pytest.fixture
def fnrd():
    """A measure registered from outside: the false negative rate difference."""
    def fnr_difference(c):
        rate = c.fn / (c.fn + c.tp).clamp(min=1)
        return rate[..., 0] - rate[..., 1]

    posthoc.register_measure(posthoc.MeasureSpec("fnrd", "FNRD", fnr_difference,
                                                 "false negative rate difference"))
    yield "fnrd"
    posthoc.MEASURES.unregister("fnrd")


@pytest.mark.parametrize("name", list(METHODS))
def test_a_new_measure_runs_or_is_refused_by_name_and_leaves_the_grid(problem, fnrd, name):
    from posthoc.repro.study import grid

    net, valid, _ = problem
    spec = METHODS[name]
    cells = grid(configs=["compas-race"], seeds=[0], measures=["spd", fnrd], methods=[name])
    if spec.supports(fnrd):
        result = debias(net, valid, name, measure=fnrd, seed=0, **SMALL.get(name, {}))
        assert result.measure == fnrd and np.isfinite(result.objective)
        assert [c.measure for c in cells] == ["spd", fnrd]
    else:
        with pytest.raises(ValueError, match=rf"method '{name}' supports only the measures "
                                             rf"{', '.join(spec.measures)}; got measure='fnrd'"):
            debias(net, valid, name, measure=fnrd, **SMALL.get(name, {}))
        assert [c.measure for c in cells] == ["spd"]


def test_every_post_processor_kind_shares_the_base_and_its_input_checks():
    """Each saved post-processor class derives from the one base, which registered it, and
    refuses a protected attribute of the wrong length or an unknown group in one line."""
    from posthoc.methods import POSTPROCESSOR_KINDS, PostProcessorBase
    from posthoc.methods.fairpredictor import GroupOffsets

    assert set(POSTPROCESSOR_KINDS) == {"aif360", "fairlearn", "oxonfair"}
    assert all(issubclass(k, PostProcessorBase) for k in POSTPROCESSOR_KINDS.values())
    offsets = GroupOffsets([0, 1], [0.0, 0.5])
    assert offsets.predict([0.2, 0.9], [0, 1]).tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"a must have one entry per row \(length 2\)"):
        offsets.predict([0.2, 0.9], [0])
    with pytest.raises(ValueError, match="a holds group 2, which the fair predictor was not "
                                         r"fitted on \(groups \[0, 1\]\)"):
        offsets.predict([0.2, 0.9], [0, 2])
