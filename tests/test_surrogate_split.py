"""The layer-wise time split: its timed optimiser asks what the plain one asks, and the
table has one row per layer and run, with the steps each layer took."""

from __future__ import annotations

import numpy as np

from posthoc.methods.gbrt import FastGBRT
from posthoc.methods.layerwise import linear_layers
from posthoc.repro.surrogate_split import TimedGBRT, layer_split


def test_the_timed_optimiser_asks_what_the_plain_one_asks():
    plain, timed = FastGBRT(3, seed=4), TimedGBRT(3, seed=4)
    rng = np.random.default_rng(0)
    for _ in range(14):
        x, y = plain.ask()[0], timed.ask()[0]
        assert x == y
        value = float(rng.normal())
        plain.tell([x], [value])
        timed.tell([y], [value])
    assert timed.steps == 4 and timed.step_s > 0


def test_the_split_has_a_row_per_layer_with_its_steps(problem):
    net, valid, _ = problem
    table = layer_split(net, valid, objective="constrained", remember=False, calls=13)
    layers = linear_layers(net)
    assert list(table["layer"]) == list(range(len(layers)))
    assert list(table["weights"]) == [m.weight.numel() for _, m in layers]
    assert (table["steps"] == 3).all()
    assert ((1 <= table["distinct_values"]) & (table["distinct_values"] <= 13)).all()
    assert set(table["objective"]) == {"constrained"} and not table["remember"].any()
