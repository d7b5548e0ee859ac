"""The README's architecture examples run as written: a method and a measure added from
outside the package work through debias and the metrics."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import posthoc

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _example(heading: str) -> str:
    section = README.split(f"### {heading}", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    a = (X[:, 1] > 0).astype(np.int64)
    split = posthoc.Split(X, (X[:, 0] + 0.5 * a > 0).astype(np.int64), a)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Sigmoid())
    return model, split


def test_the_method_example_registers_a_working_method(problem):
    model, split = problem
    try:
        exec(_example("Adding a method"), {})
        result = posthoc.debias(model, split, "quantile", quantile=0.3)
        scores = posthoc.methods.scores_of(model, split.X)
        assert result.threshold == pytest.approx(np.quantile(scores, 0.3))
        assert posthoc.METHODS["quantile"].family == "post-processing"
        with pytest.raises(ValueError, match="Option quantile=1.5 of method 'quantile'"):
            posthoc.debias(model, split, "quantile", quantile=1.5)
    finally:
        if "quantile" in posthoc.METHODS:
            posthoc.METHODS.unregister("quantile")


def test_the_measure_example_registers_a_working_measure(problem):
    model, split = problem
    try:
        exec(_example("Adding a measure"), {})
        pred = np.array([1, 0, 0, 1, 1, 0])
        y = np.array([1, 1, 1, 1, 0, 1])
        a = np.array([0, 0, 0, 1, 1, 1])
        # Unprivileged: positives 3, missed 2 -> 2/3; privileged: positives 2, missed 1 -> 1/2.
        assert posthoc.bias(pred, y, a, "fnrd") == pytest.approx(2 / 3 - 1 / 2)
        # The threshold search uses it on every cut: the same as brute force over cuts.
        scores = posthoc.methods.scores_of(model, split.X)
        best = posthoc.best_threshold(scores, split.y, split.a, "fnrd", lam=0.5,
                                      return_objective=True)
        cuts = np.unique(scores)
        brute = min(posthoc.objective((scores > t).astype(int), split.y, split.a, "fnrd",
                                      lam=0.5) for t in np.concatenate([[-1.0], cuts]))
        assert best.objective == pytest.approx(brute)
        result = posthoc.debias(model, split, "random", measure="fnrd", trials=3)
        assert np.isfinite(result.objective)
    finally:
        if "fnrd" in posthoc.MEASURES:
            posthoc.MEASURES.unregister("fnrd")
