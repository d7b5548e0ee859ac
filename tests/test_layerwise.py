"""Layer-wise optimisation scores each candidate with the part of the network after its layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from posthoc import PaperNet
from posthoc.methods.layerwise import (_score_candidates, downstream_of,
                                       layerwise_optimisation, linear_layers)
from posthoc.objectives import as_objective
from problems import biased_problem


class Residual(nn.Module):
    """A skip connection from the input around two layers, and a layer on it afterwards."""

    def __init__(self, n: int):
        super().__init__()
        self.inner = nn.Linear(n, n)
        self.outer = nn.Linear(n, n)
        self.head = nn.Linear(n, 1)

    def forward(self, x):
        h = torch.relu(self.outer(torch.relu(self.inner(x)))) + x
        return torch.sigmoid(self.head(h)).squeeze(-1)


class Branching(nn.Module):
    """Control flow that depends on the data: torch.fx cannot trace it."""

    def __init__(self, n: int):
        super().__init__()
        self.layer = nn.Linear(n, 1)

    def forward(self, x):
        if x.sum() > 0:
            return torch.sigmoid(self.layer(x)).squeeze(-1)
        return torch.sigmoid(-self.layer(x)).squeeze(-1)


def _models(n):
    torch.manual_seed(0)
    return [PaperNet(n, width=8, depth=3).eval(), Residual(n).eval()]


@pytest.mark.parametrize("kind", range(2))
def test_the_part_after_each_layer_scores_candidates_exactly_as_the_whole_model(kind):
    split = biased_problem(300, seed=1, features=6)
    model = _models(6)[kind]
    X = torch.from_numpy(split.X)
    for name, layer in linear_layers(model):
        downstream = downstream_of(model, name, X)
        assert downstream is not None
        candidates = torch.rand((5,) + tuple(layer.weight.shape),
                                generator=torch.Generator().manual_seed(3)) * 2 - 1
        whole = _score_candidates(model, f"{name}.weight", candidates, split, "spd", 0.75, 101,
                                  as_objective("weighted"))
        part = _score_candidates(model, f"{name}.weight", candidates, split, "spd", 0.75, 101,
                                 as_objective("weighted"), downstream=downstream)
        assert np.array_equal(whole[0], part[0]) and np.array_equal(whole[1], part[1])
    # The part after the residual network's second layer still needs the input.
    if kind == 1:
        _, inputs = downstream_of(model, "outer", X)
        assert len(inputs) == 2


def test_a_model_that_cannot_be_traced_is_scored_whole():
    split = biased_problem(200, seed=2, features=4)
    model = Branching(4).eval()
    assert downstream_of(model, "layer", torch.from_numpy(split.X)) is None
    fast = layerwise_optimisation(model, split, measure="spd", lam=0.75, seed=0, calls=6,
                                  n_points=20, grid=51, layers=None, optimiser="gbrt",
                                  objective=as_objective("weighted"))
    assert fast["layer"] == "layer" and np.isfinite(fast["objective"])


def test_reusing_the_upstream_part_changes_no_result():
    split = biased_problem(400, seed=3, features=6)
    runs = []
    for reuse in (False, True):
        model = _models(6)[0]
        runs.append(layerwise_optimisation(model, split, measure="eod", lam=0.75, seed=4,
                                           calls=14, n_points=30, grid=101, layers=None,
                                           optimiser="gbrt", objective=as_objective("weighted"),
                                           reuse_upstream=reuse))
    assert runs[0] == runs[1]
