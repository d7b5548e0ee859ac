"""Every bad input we know of gets a clear error that names what is wrong, or works: one row
per case, each asserting its message."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import posthoc
from posthoc import Split, debias, evaluate
from posthoc.methods import NotApplicable
from posthoc.repro.parameters import resolve_notebook
from posthoc.repro.sensitivity import coefficient_singular_values, concentration
from posthoc.network_files import network_path
from posthoc.training import cache_key
from problems import biased_problem

VALID = biased_problem(200, 1)
WIDE = biased_problem(50, 2, features=7)


def _model(sigmoid: bool = True, width: int = 5) -> nn.Module:
    torch.manual_seed(0)
    layers = [nn.Linear(width, 8), nn.ReLU(), nn.Linear(8, 1)]
    return nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else []))


def nan_measure(y_pred, y_true, a):
    return float("nan")


def _debias(**kwargs):
    arguments = {"model": _model(), "split": VALID, "method": "random"}
    arguments.update(kwargs)
    if arguments["method"] == "random":
        arguments.setdefault("trials", 3)
    return debias(arguments.pop("model"), arguments.pop("split"), arguments.pop("method"),
                  **arguments)


def _two_column_model():
    return nn.Sequential(nn.Linear(5, 2), nn.Sigmoid())


def _unrelated_width():
    return evaluate(_debias(method="default"), WIDE)


def _post_processor_without_a():
    return _debias(method="eqodds").predict(VALID.X)


CASES = [
    # (case, call, error, message)
    ("no threads", lambda: _debias(threads=0),
     ValueError, r"threads must be an integer >= 1; got 0"),
    ("logits instead of probabilities", lambda: _debias(model=_model(sigmoid=False)),
     ValueError, r"model must output probabilities in \[0, 1\].*torch\.nn\.Sigmoid"),
    ("a measure returning NaN, random", lambda: _debias(measure=nan_measure),
     ValueError, r"measure 'nan_measure' returned nan .* finite number"),
    ("a measure returning NaN, layer-wise",
     lambda: _debias(method="layerwise", measure=nan_measure, calls=3),
     ValueError, r"measure 'nan_measure' returned nan"),
    ("no layers to optimise", lambda: _debias(method="layerwise", layers=[]),
     ValueError, r"Option layers=\[\] of method 'layerwise' is not allowed"),
    ("an unknown layer", lambda: _debias(method="layerwise", layers=["body.9"]),
     ValueError, r"Unknown layer 'body\.9'"),
    ("an empty split", lambda: Split(np.zeros((0, 5)), [], []),
     ValueError, r"X must hold at least one row"),
    ("a fractional seed", lambda: _debias(seed=1.5),
     ValueError, r"seed must be an integer in \[0, 4294967295\]; got 1\.5"),
    ("a seed given as text", lambda: _debias(seed="0"),
     ValueError, r"seed must be an integer in \[0, 4294967295\]; got '0'"),
    ("a seed too large for torch", lambda: _debias(seed=2**70),
     ValueError, r"seed must be an integer in \[0, 4294967295\]"),
    ("a negative seed", lambda: _debias(seed=-1), ValueError, r"seed must be an integer"),
    ("features of another width", _unrelated_width,
     ValueError, r"X must have shape \(n, 5\) for this model; got \(50, 7\)"),
    ("a model with two outputs", lambda: _debias(model=_two_column_model()),
     ValueError, r"model must output one probability per row"),
    ("lam outside [0, 1]", lambda: _debias(lam=2), ValueError, r"lam must be a number in"),
    ("an unknown method", lambda: _debias(method="magic"),
     ValueError, r"Unknown method 'magic'; valid values are: default, random"),
    ("an unknown measure", lambda: _debias(measure="xyz"),
     ValueError, r"Unknown measure 'xyz'; valid values are: spd, eod, aod"),
    ("an unknown option", lambda: _debias(trial=3),
     ValueError, r"Unknown option 'trial' for method 'random'"),
    ("a grid of one threshold", lambda: _debias(grid=1),
     ValueError, r"Option grid=1 of method 'random' is not allowed"),
    ("not a torch module", lambda: _debias(model=lambda X: X),
     TypeError, r"model must be a torch\.nn\.Module"),
    ("not a Split", lambda: _debias(split=(VALID.X, VALID.y, VALID.a)),
     ValueError, r"split must be a posthoc\.Split"),
    ("labels that are not 0/1", lambda: Split(np.zeros((3, 2)), [0, 2, 1], [0, 1, 1]),
     ValueError, r"y must contain only 0 and 1; got values \[2\]"),
    ("a post-processor asked without the protected attribute", _post_processor_without_a,
     ValueError, r"method 'eqodds' post-processes with the protected attribute"),
    ("a chapter parameter the chapter does not have",
     lambda: resolve_notebook("sensitivity", {"profile": "quick", "lam": 2}),
     ValueError, r"Parameter lam=2 is not allowed; expected one of the chapter's parameters"),
    ("a notebook without a profile", lambda: resolve_notebook("sensitivity", {}),
     ValueError, r"Parameter profile=None is not allowed"),
    ("lam beside an Objective with another lam",
     lambda: _debias(objective=posthoc.Objective("weighted", lam=0.1), lam=0.9),
     ValueError, r"lam=0\.9 conflicts with objective=Objective\(name='weighted', lam=0\.1"),
    ("epsilon beside a constrained Objective with another epsilon",
     lambda: _debias(objective=posthoc.Objective("constrained", epsilon=0.1), epsilon=0.05),
     ValueError, r"epsilon=0\.05 conflicts with objective=.*whose epsilon is 0\.1"),
    ("margin beside an Objective", lambda: _debias(
        objective=posthoc.Objective("constrained"), margin=0.02),
     ValueError, r"margin=0\.02 conflicts with objective=.*whose margin is 0\.01"),
    ("resamples beside an Objective", lambda: _debias(
        objective=posthoc.Objective("constrained"), resamples=9),
     ValueError, r"resamples=9 conflicts with objective=.*whose resamples is 5"),
    ("seed beside an Objective with another seed", lambda: _debias(
        objective=posthoc.Objective("weighted", seed=3), seed=4),
     ValueError, r"seed=4 conflicts with objective=.*whose seed is 3"),
    ("a protected attribute with one group",
     lambda: _debias(split=Split(VALID.X, VALID.y, np.zeros(len(VALID), dtype=int))),
     ValueError, r"split\.a holds one group only \(code 0\); measuring bias needs at least"),
    ("reject option classification with every label 1",
     lambda: _debias(method="roc", split=Split(VALID.X, np.ones(len(VALID), dtype=int),
                                               VALID.a)),
     NotApplicable, r"method 'roc' \(AIF360\) needs both labels in every group; "
                            r"group 0 of the split holds label 1 only"),
    ("equalised odds on three people",
     lambda: _debias(method="eqodds", split=Split(VALID.X[:3], [1, 0, 1], [0, 0, 1])),
     NotApplicable, r"method 'eqodds' \(AIF360\) needs both labels in every group; "
                            r"group 1 of the split holds label 1 only \(1 person\)"),
    ("two groups coded 0 and 2",
     lambda: _debias(split=Split(VALID.X, VALID.y, 2 * VALID.a)),
     ValueError, r"split\.a holds two groups coded \[0, 2\]; .*code them 0 and 1"),
]


def test_an_objective_given_once_sets_what_the_result_records():
    result = _debias(objective=posthoc.Objective("weighted", lam=0.1, seed=3))
    assert result.lam == 0.1 and result.seed == 3 and result.criterion.lam == 0.1
    same = _debias(objective=posthoc.Objective("weighted", lam=0.1), lam=0.1)
    assert same.lam == 0.1
    # Group codes given as floats equal to integers are the same codes.
    floats = Split(VALID.X, VALID.y, VALID.a.astype(float))
    assert _debias(split=floats, seed=0).threshold == _debias(seed=0).threshold


@pytest.mark.parametrize("case, call, error, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(case, call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_foreign_file_in_the_network_cache_is_retrained(isolated_cache):
    train, valid = biased_problem(120, 3), biased_problem(80, 4)
    kwargs = dict(seeds=[0], width=4, depth=1, max_epochs=2, progress=False, workers=1)
    first = posthoc.train_networks((train, valid), **kwargs)[0]
    key = cache_key(train, valid, seed=0, width=4, depth=1, dropout=0.2, max_epochs=2,
                    early_stopping=True)
    cached = network_path(isolated_cache, key)
    assert cached.is_file()
    torch.save({"something": "else"}, cached)
    with pytest.warns(RuntimeWarning, match=rf"network cache file .*{cached.name} is "
                                            r"unreadable or not a posthoc network"):
        again = posthoc.train_networks((train, valid), **kwargs)[0]
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(),
                                                 again.state_dict().values()))


def test_a_network_whose_spd_never_moves_gives_no_direction_instead_of_a_crash():
    zero = np.zeros(6)
    assert coefficient_singular_values([zero, zero]).shape == (0,)
    assert np.allclose(coefficient_singular_values([zero, np.ones(6)]), [1.0])
    assert all(np.isnan(v) for v in concentration(zero).values())
