"""The compiled GBRT surrogate against scikit-learn and against a brute-force re-derivation."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.utils.stats import _weighted_percentile

from posthoc.methods.gbrt import FastGBRT, QuantileGBRT, _fit_all, distinct_neighbours

# Quantiles that are exact in binary, so that scikit-learn's floating-point split gains
# tie exactly where the true gains tie, and both pick the first best split.
EXACT = (0.25, 0.5, 0.75)


@pytest.mark.parametrize("case", range(12))
def test_one_feature_equals_scikit_learn(case):
    rng = np.random.default_rng(case)
    n = int(rng.integers(4, 70))
    X = rng.uniform(-1, 1, (n, 1))
    y = np.sin(3 * X[:, 0]) + rng.normal(0, 0.3, n)
    if case % 3 == 0:
        y = np.round(y, 1)               # ties in the target
    if case % 4 == 0:
        X = np.round(X, 1)               # ties in the feature
    grid = np.vstack([X, rng.uniform(-1.2, 1.2, (40, 1))])
    ours = QuantileGBRT(quantiles=EXACT, seed=case).fit(X, y).predict_quantiles(grid)
    for m, alpha in enumerate(EXACT):
        theirs = GradientBoostingRegressor(n_estimators=30, loss="quantile", alpha=alpha,
                                           random_state=0).fit(X, y).predict(grid)
        np.testing.assert_allclose(ours[m], theirs, rtol=0, atol=1e-12)


def _brute_force(X, y, alphas, visit, n_estimators, max_depth=3, lr=0.1):
    """Gradient boosting of quantile trees written out node by node, with exact rational
    variance reductions; ties between features go to the earlier in ``visit``."""
    X = X.astype(np.float32).astype(np.float64)
    n, d = X.shape
    models = []
    for alpha in alphas:
        init = float(np.percentile(y, alpha * 100.0))
        raw = np.full(n, init)
        trees = []
        for t in range(n_estimators):
            grad = [Fraction(alpha) - (1 if y[j] < raw[j] else 0) for j in range(n)]
            nodes = {0: list(range(n))}
            splits, leaves = {}, {}
            for level in range(max_depth + 1):
                for node in [k for k in sorted(nodes) if 2 ** level - 1 <= k < 2 ** (level + 1) - 1]:
                    members = nodes[node]
                    values = {grad[j] for j in members}
                    if level == max_depth or len(members) < 2 or len(values) == 1:
                        leaves[node] = members
                        continue
                    total = sum(grad[j] for j in members)
                    best = None
                    for f in visit[t, level]:
                        ordered = sorted(members, key=lambda j: X[j, f])
                        left = Fraction(0)
                        for p in range(1, len(ordered)):
                            left += grad[ordered[p - 1]]
                            lo, hi = X[ordered[p - 1], f], X[ordered[p], f]
                            if not hi > lo + 1e-7:
                                continue
                            nl, nr = p, len(ordered) - p
                            gain = nl * nr * (left / nl - (total - left) / nr) ** 2
                            if best is None or gain > best[0]:
                                best = (gain, f, lo / 2.0 + hi / 2.0)
                    if best is None:
                        leaves[node] = members
                        continue
                    _, f, thr = best
                    splits[node] = (f, thr)
                    nodes[2 * node + 1] = [j for j in members if X[j, f] <= thr]
                    nodes[2 * node + 2] = [j for j in members if X[j, f] > thr]
            values = {}
            for node, members in leaves.items():
                res = np.array([y[j] - raw[j] for j in members])
                values[node] = float(_weighted_percentile(res, np.ones(len(res)), 100 * alpha))
                for j in members:
                    raw[j] += lr * values[node]
            trees.append((splits, values))
        models.append((init, trees))

    def predict(Z):
        Z = Z.astype(np.float32).astype(np.float64)
        out = np.empty((len(models), len(Z)))
        for m, (init, trees) in enumerate(models):
            for i, z in enumerate(Z):
                total = init
                for splits, values in trees:
                    node = 0
                    while node in splits:
                        f, thr = splits[node]
                        node = 2 * node + (1 if z[f] <= thr else 2)
                    total += lr * values[node]
                out[m, i] = total
        return out

    return predict


@pytest.mark.parametrize("case", range(5))
def test_many_features_equal_a_brute_force_derivation(case):
    rng = np.random.default_rng(100 + case)
    n, d = 24, 4
    X = rng.uniform(-1, 1, (n, d))
    if case == 2:
        X[:, 1] = np.round(X[:, 1], 1)
    y = X[:, 0] - 2 * X[:, 2] ** 2 + rng.normal(0, 0.2, n)
    if case >= 3:
        # Few distinct targets, as the objective gives: the same nodes recur across trees
        # and models, and many features tie for the best split.
        y = np.round(y)
        X = np.round(X, 1) if case == 4 else X
    model = QuantileGBRT(n_estimators=8, seed=case).fit(X, y)
    predict = _brute_force(X, y, model.quantiles, model.visit_, n_estimators=8)
    grid = np.vstack([X, rng.uniform(-1, 1, (30, d))])
    np.testing.assert_allclose(model.predict_quantiles(grid), predict(grid), rtol=0,
                               atol=1e-12)


def _fit_arrays(X, y, keys, *, chunks=1, remember=True, trees=30):
    columns = np.ascontiguousarray(X.T)
    order = np.argsort(columns, axis=1, kind="stable").astype(np.int64)
    sorted_x = np.take_along_axis(columns, order, axis=1)
    alphas = np.array([0.16, 0.5, 0.84])
    inits = np.array([np.percentile(y, a * 100) for a in alphas])
    feature = np.empty((3, trees, 7), dtype=np.int64)
    threshold, value = np.zeros((3, trees, 7)), np.zeros((3, trees, 15))
    _fit_all(order, sorted_x, distinct_neighbours(sorted_x), X, y, alphas, inits, keys, trees,
             3, 0.1, chunks, feature, threshold, value, remember)
    return feature, threshold, value


@pytest.mark.parametrize("case", range(6))
def test_remembered_nodes_give_the_model_a_scan_of_every_node_gives(case):
    # Targets with few distinct values (as layer-wise objectives have), features with and
    # without ties, 1 and 3 chunks: keeping each node's tied best splits for the fit must
    # change nothing, whatever the visiting order picks among them.
    rng = np.random.default_rng(40 + case)
    n, d = (30, 200) if case % 2 else (99, 60)
    X = rng.uniform(-1, 1, (n, d)).astype(np.float32)
    if case >= 2:
        X[:, : d // 2] = np.round(X[:, : d // 2], 1)
    y = np.round(rng.normal(size=n) * (1 + case % 3)) / 2
    keys = rng.random((30, 3, d))
    scanned = _fit_arrays(X, y, keys, remember=False)
    for chunks in (1, 3):
        remembered = _fit_arrays(X, y, keys, chunks=chunks, remember=True)
        for a, b in zip(scanned, remembered):
            assert np.array_equal(a, b)


def test_parallel_chunks_do_not_change_the_model():
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, (50, 64)).astype(np.float32)
    y = rng.normal(size=50)
    columns = np.ascontiguousarray(X.T)
    order = np.argsort(columns, axis=1, kind="stable").astype(np.int64)
    sorted_x = np.take_along_axis(columns, order, axis=1)
    keys = rng.random((30, 3, 64))
    alphas = np.array([0.16, 0.5, 0.84])
    inits = np.array([np.percentile(y, a * 100) for a in alphas])
    fitted = []
    for chunks in (1, 3, 8):
        feature = np.empty((3, 30, 7), dtype=np.int64)
        threshold, value = np.zeros((3, 30, 7)), np.zeros((3, 30, 15))
        _fit_all(order, sorted_x, distinct_neighbours(sorted_x), X, y, alphas, inits, keys, 30,
                 3, 0.1, chunks, feature, threshold, value)
        fitted.append((feature, threshold, value))
    for other in fitted[1:]:
        for a, b in zip(fitted[0], other):
            assert np.array_equal(a, b)


def test_fast_gbrt_is_deterministic_and_minimises():
    def run(seed):
        opt = FastGBRT(3, seed=seed, n_points=200)
        first = opt.ask(n_points=10)
        opt.tell(first, [sum((v - 0.3) ** 2 for v in p) for p in first])
        for _ in range(30):
            point = opt.ask()
            opt.tell(point, [sum((v - 0.3) ** 2 for v in point[0])])
        return np.array(opt.yi)

    a, b = run(0), run(0)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, run(1))
    # The surrogate-guided points beat the random initial ones.
    assert np.median(a[20:]) < np.median(a[:10])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="n_estimators=0 is not allowed"):
        QuantileGBRT(n_estimators=0)
    with pytest.raises(ValueError, match="quantiles=.* is not allowed"):
        QuantileGBRT(quantiles=(0.5, 1.5))
    with pytest.raises(ValueError, match=r"X must be \[n, d\]"):
        QuantileGBRT().fit(np.zeros((3, 2)), np.zeros(4))
    model = QuantileGBRT().fit(np.random.default_rng(0).random((10, 2)), np.arange(10.0))
    with pytest.raises(ValueError, match=r"X must be \[n, 2\]"):
        model.predict(np.zeros((3, 5)))
    opt = FastGBRT(2, seed=0)
    with pytest.raises(ValueError, match="n_points=11 is not allowed"):
        opt.ask(n_points=11)
    for threads in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match=re.escape(f"threads must be an integer >= 1; "
                                                       f"got {threads!r}")):
            QuantileGBRT(threads=threads)


def test_threads_change_neither_the_model_nor_numba_s_setting():
    import numba
    rng = np.random.default_rng(5)
    X, y = rng.uniform(-1, 1, (60, 7)), rng.normal(size=60)
    before = numba.get_num_threads()
    models = [QuantileGBRT(seed=3, threads=t).fit(X, y) for t in (1, 2, 64)]
    assert numba.get_num_threads() == before
    for other in models[1:]:
        for name in ("feature_", "threshold_", "value_"):
            np.testing.assert_array_equal(getattr(models[0], name), getattr(other, name))


@pytest.mark.parametrize("case", range(4))
def test_three_models_at_once_equal_each_model_alone(case):
    # Three models take a dedicated root scan; one model alone takes the general one.
    rng = np.random.default_rng(case)
    X = rng.uniform(-1, 1, (40, 30)).astype(np.float32)
    X[:, 3] = np.round(X[:, 3], 1)                     # tied values in one feature
    y = rng.normal(size=40)
    together = QuantileGBRT(quantiles=EXACT, seed=case).fit(X, y).predict_quantiles(X)
    for k, q in enumerate(EXACT):
        alone = QuantileGBRT(quantiles=(q,), seed=case).fit(X, y).predict_quantiles(X)
        assert np.array_equal(alone[0], together[k])
