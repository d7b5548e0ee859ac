"""Small seeded problems shared by the tests of the methods."""

from __future__ import annotations

import numpy as np

from posthoc import Split


def biased_problem(n: int, seed: int, *, features: int = 5) -> Split:
    """``n`` rows whose label depends on the protected attribute (the last feature)."""
    rng = np.random.default_rng(seed)
    a = (rng.random(n) < 0.6).astype(int)
    X = rng.normal(size=(n, features))
    X[:, -1] = a
    y = ((X[:, 0] + 1.2 * a + 0.7 * rng.normal(size=n)) > 0.6).astype(int)
    return Split(X, y, a)
