"""scikit-optimize's GBRT surrogate with the LCB acquisition, compiled for speed.

Layer-wise optimisation asks a black-box optimiser for 100 weight matrices per layer. The
authors ran ``skopt.gbrt_minimize``: after 10 random points, every step refits three
gradient-boosted quantile regressors (scikit-learn's ``GradientBoostingRegressor(loss=
"quantile", n_estimators=30)`` at the quantiles 0.16, 0.5 and 0.84, trees of depth 3,
learning rate 0.1) on every point so far, draws ``n_points`` uniform candidates and takes the
one with the lowest ``mean - 1.96 * std``, where ``mean`` is the 0.5 quantile and ``std``
half the distance between the other two. On a 1,024-dimensional layer scikit-learn's trees
spend most of a minute per layer on that refit.

:class:`FastGBRT` is the same optimiser, and :class:`QuantileGBRT` the same surrogate,
computed differently:

* The quantile loss's negative gradient takes two values, ``alpha`` where the target is at
  least the current prediction and ``alpha - 1`` where it is below. The squared-error gain of
  a split then reduces to integer counts: with ``n`` samples and ``q`` of them below the
  prediction in a node, and ``nl``, ``ql`` on the left, the gain (scikit-learn's
  ``friedman_mse`` proxy) is ``(nl * q - n * ql) ** 2 / (nl * (n - nl))``, compared exactly
  in integers.
* The samples are sorted once per feature per fit; one pass over each sorted feature scores
  every candidate split of every node of a tree level at once.
* A node's best splits depend only on its samples and on which of them lie below the
  model's prediction. The same node recurs often within a fit, in later trees and in the
  other quantile models, because the objective's values have many ties (on Adult, 90 root
  scans of a fit at 99 points come down to 8 distinct nodes; on COMPAS to about half). So
  every node's best splits (each feature tied for the best gain, at its first best
  position) are kept for the fit, and a node seen before is not scanned again; the
  visiting order then picks among its tied features exactly as a scan would have.
* The features are scanned in chunks, compiled with numba; ``threads`` of them run in
  parallel (default: the numba threads in force, which :func:`posthoc.debias` sets to one
  unless cores are idle, see :mod:`posthoc.threads`: on a 2-core machine with one other busy
  process, two threads made a fit about 16 times slower than one, since each level's scan
  waits for its slowest thread). The result does not depend on the number of threads.

Everything else follows scikit-learn: features in float32, splits only between values more
than 1e-7 apart, the threshold halfway between them, nodes that are pure or hold fewer than
two samples left as leaves, the initial prediction ``np.percentile(y, 100 * alpha)`` and
each leaf's value the lower weighted percentile of the residuals in it. Ties between
features are broken by a random visiting order, as scikit-learn's splitter does (its order
comes from its own random stream, so tied splits can differ from scikit-learn's).
"""

from __future__ import annotations

# Chooses a writable cache folder for numba, so it must come first (see the module).
from .. import _numba_cache  # noqa: F401  # isort: skip
import numpy as np
import numba
from numba import njit, prange, types
from numba.typed import Dict

from ..threads import numba_threads
from ..validation import check_positive_int

QUANTILES = (0.16, 0.5, 0.84)
_LEAF = -1          # feature index of a leaf
_ABSENT = -2        # feature index of a node the tree does not have
_FEATURE_THRESHOLD = 1e-7


@njit(cache=True, nogil=True)
def _lower_percentile(values, alpha):
    """scikit-learn's ``_weighted_percentile`` with unit weights at ``100 * alpha``."""
    n = values.shape[0]
    ordered = np.sort(values)
    target = (100.0 * alpha) / 100.0 * n
    index = 0
    while index < n and float(index + 1) < target:
        index += 1
    if index > n - 1:
        index = n - 1
    return ordered[index]


@njit(cache=True, nogil=True)
def _start_tree(m, t, y, raw, below, node_of, feature, value, is_open):
    """Model ``m``'s tree ``t`` starts as one open root holding every sample; ``below``
    marks the samples whose label is under the model's current prediction."""
    for j in range(y.shape[0]):
        below[m, j] = 1 if y[j] < raw[m, j] else 0
        node_of[m, j] = 0
    feature[m, t, :] = _ABSENT
    value[m, t, :] = 0.0
    is_open[m, :] = False
    is_open[m, 0] = True


@njit(cache=True, nogil=True)
def _open_slots(m, t, first, last, width, below, node_of, slot_of, slot_node, total_n,
                total_q, active, is_open, count, count_below, feature):
    """Give each open node of the level (``first`` to ``last``) of model ``m`` that can be
    split a slot ``m * width + k``, make the others leaves, and map samples to their node's
    slot (-1: none); return how many slots were opened."""
    n = node_of.shape[1]
    count[:] = 0
    count_below[:] = 0
    for j in range(n):
        node = node_of[m, j]
        if node >= first:
            count[node] += 1
            count_below[node] += below[m, j]
    for k in range(width):
        active[m * width + k] = False
    k = 0
    for node in range(first, last):
        if not is_open[m, node]:
            continue
        pure = count_below[node] == 0 or count_below[node] == count[node]
        if count[node] < 2 or pure:
            feature[m, t, node] = _LEAF
        else:
            s = m * width + k
            slot_node[s] = node
            total_n[s] = count[node]
            total_q[s] = count_below[node]
            active[s] = True
            k += 1
    for j in range(n):
        slot_of[m, j] = -1
        node = node_of[m, j]
        if node >= first:
            for kk in range(k):
                if slot_node[m * width + kk] == node:
                    slot_of[m, j] = m * width + kk
    return k


@njit(cache=True, nogil=True, inline="always")
def _better(num, den, s, best_num, best_den, count):
    """Whether gain ``num / den`` beats slot ``s``'s best so far; gains
    ``(nl*q - n*ql)**2 / (nl*(n-nl))`` are compared exactly, as integer fractions."""
    return count[s] == 0 or num * best_den[s] > best_num[s] * den


@njit(cache=True, nogil=True, inline="always")
def _equal(num, den, s, best_num, best_den):
    return num * best_den[s] == best_num[s] * den


@njit(cache=True, nogil=True)
def _restart(s, num, den, f, right, left, best_num, best_den, count, tie_f, tie_r, tie_l):
    """A better split for slot ``s``: its list of best splits starts again with it."""
    best_num[s] = num
    best_den[s] = den
    count[s] = 1
    tie_f[s, 0] = f
    tie_r[s, 0] = right
    tie_l[s, 0] = left


@njit(cache=True, nogil=True)
def _join(s, f, right, left, count, tie_f, tie_r, tie_l):
    """A split as good as slot ``s``'s best joins its list, unless its feature is there
    already (a feature keeps its first best position)."""
    k = count[s]
    if tie_f[s, k - 1] != f:
        tie_f[s, k] = f
        tie_r[s, k] = right
        tie_l[s, k] = left
        count[s] = k + 1


# The scans below keep the comparison inline and call _restart and _join only when a split
# is at least as good as the best so far, which is rare: a call with this many arrays on
# every candidate split costs more than the scan itself.


@njit(cache=True, nogil=True)
def _scan_root_three(f, order, distinct, below, width, total_q, best_num, best_den, count,
                     tie_f, tie_r, tie_l):
    """:func:`_scan_root` for three models whose roots all need a scan (the usual case),
    with the running counts in scalars: about three times faster."""
    n = order.shape[1]
    q0, q1, q2 = total_q[0], total_q[width], total_q[2 * width]
    l0 = l1 = l2 = 0
    for i in range(n):
        if i > 0 and distinct[f, i]:
            den = i * (n - i)
            num = i * q0 - n * l0
            num = num * num
            if _better(num, den, 0, best_num, best_den, count):
                _restart(0, num, den, f, i, i - 1, best_num, best_den, count, tie_f, tie_r,
                         tie_l)
            elif _equal(num, den, 0, best_num, best_den):
                _join(0, f, i, i - 1, count, tie_f, tie_r, tie_l)
            num = i * q1 - n * l1
            num = num * num
            if _better(num, den, width, best_num, best_den, count):
                _restart(width, num, den, f, i, i - 1, best_num, best_den, count, tie_f,
                         tie_r, tie_l)
            elif _equal(num, den, width, best_num, best_den):
                _join(width, f, i, i - 1, count, tie_f, tie_r, tie_l)
            num = i * q2 - n * l2
            num = num * num
            if _better(num, den, 2 * width, best_num, best_den, count):
                _restart(2 * width, num, den, f, i, i - 1, best_num, best_den, count, tie_f,
                         tie_r, tie_l)
            elif _equal(num, den, 2 * width, best_num, best_den):
                _join(2 * width, f, i, i - 1, count, tie_f, tie_r, tie_l)
        j = order[f, i]
        l0 += below[0, j]
        l1 += below[1, j]
        l2 += below[2, j]


@njit(cache=True, nogil=True)
def _scan_root_one(f, order, distinct, below, m, width, total_q, best_num, best_den, count,
                   tie_f, tie_r, tie_l):
    """:func:`_scan_root` for the one model ``m`` whose root needs a scan, the others'
    roots having been seen before in the fit."""
    n = order.shape[1]
    s = m * width
    q = total_q[s]
    left = 0
    for i in range(n):
        if i > 0 and distinct[f, i]:
            den = i * (n - i)
            num = i * q - n * left
            num = num * num
            if _better(num, den, s, best_num, best_den, count):
                _restart(s, num, den, f, i, i - 1, best_num, best_den, count, tie_f, tie_r,
                         tie_l)
            elif _equal(num, den, s, best_num, best_den):
                _join(s, f, i, i - 1, count, tie_f, tie_r, tie_l)
        left += below[m, order[f, i]]


@njit(cache=True, nogil=True)
def _scan_root(f, order, distinct, below, width, scan_models, total_q, left_q, best_num,
               best_den, count, tie_f, tie_r, tie_l):
    """Score every split of feature ``f`` at the root level: one node per model, holding
    every sample, so model m's slot is m * width, nl is the position, and whether a split
    lies between two neighbours was decided once per fit (``distinct``)."""
    n = order.shape[1]
    n_scan = scan_models.shape[0]
    left_q[:] = 0
    for i in range(n):
        if i > 0 and distinct[f, i]:
            den = i * (n - i)
            for k in range(n_scan):       # an index loop: iterating the array is slower
                m = scan_models[k]
                s = m * width
                num = i * total_q[s] - n * left_q[m]
                num = num * num
                if _better(num, den, s, best_num, best_den, count):
                    _restart(s, num, den, f, i, i - 1, best_num, best_den, count, tie_f,
                             tie_r, tie_l)
                elif _equal(num, den, s, best_num, best_den):
                    _join(s, f, i, i - 1, count, tie_f, tie_r, tie_l)
        j = order[f, i]
        for k in range(n_scan):
            m = scan_models[k]
            left_q[m] += below[m, j]


@njit(cache=True, nogil=True)
def _scan_deeper(f, order, sorted_x, distinct, below, scan_slot, total_n, total_q, left_n,
                 left_q, last, best_num, best_den, count, tie_f, tie_r, tie_l):
    """Score every split of feature ``f`` for every slot of a level below the root that
    needs a scan (``scan_slot``: the sample's slot, or -1). A split lies between a sample
    and the previous one of its slot when they are more than 1e-7 apart, which holds
    whenever the sample is distinct from its neighbour below."""
    n_models, n = below.shape
    left_n[:] = 0
    left_q[:] = 0
    for i in range(n):
        j = order[f, i]
        for m in range(n_models):
            s = scan_slot[m, j]
            if s < 0:
                continue
            nl = left_n[s]
            if nl > 0 and (distinct[f, i] or np.float64(sorted_x[f, i])
                           > np.float64(sorted_x[f, last[s]]) + _FEATURE_THRESHOLD):
                total = total_n[s]
                num = nl * total_q[s] - total * left_q[s]
                num = num * num
                den = nl * (total - nl)
                if _better(num, den, s, best_num, best_den, count):
                    _restart(s, num, den, f, i, last[s], best_num, best_den, count, tie_f,
                             tie_r, tie_l)
                elif _equal(num, den, s, best_num, best_den):
                    _join(s, f, i, last[s], count, tie_f, tie_r, tie_l)
            left_n[s] = nl + 1
            left_q[s] += below[m, j]
            last[s] = i


@njit(cache=True, nogil=True)
def _scan_chunk(c, level, order, sorted_x, distinct, below, scan_slot, width, scan_models,
                total_n, total_q, chunk_num, chunk_den, chunk_count, tie_f, tie_r, tie_l):
    """Chunk ``c`` of the features (a contiguous range): every best split per slot, in row
    ``c`` of the chunk arrays."""
    d = order.shape[0]
    n_chunks, n_slots = chunk_count.shape
    best_num = np.zeros(n_slots, dtype=np.int64)
    best_den = np.ones(n_slots, dtype=np.int64)
    count = np.zeros(n_slots, dtype=np.int64)
    left_n = np.zeros(n_slots, dtype=np.int64)
    left_q = np.zeros(max(n_slots, below.shape[0]), dtype=np.int64)
    last = np.zeros(n_slots, dtype=np.int64)
    ties_f, ties_r, ties_l = tie_f[c], tie_r[c], tie_l[c]
    three = level == 0 and below.shape[0] == 3 and scan_models.shape[0] == 3
    one = level == 0 and scan_models.shape[0] == 1
    for f in range(c * d // n_chunks, (c + 1) * d // n_chunks):
        if one:
            _scan_root_one(f, order, distinct, below, scan_models[0], width, total_q, best_num,
                           best_den, count, ties_f, ties_r, ties_l)
        elif three:
            _scan_root_three(f, order, distinct, below, width, total_q, best_num, best_den,
                             count, ties_f, ties_r, ties_l)
        elif level == 0:
            _scan_root(f, order, distinct, below, width, scan_models, total_q, left_q,
                       best_num, best_den, count, ties_f, ties_r, ties_l)
        else:
            _scan_deeper(f, order, sorted_x, distinct, below, scan_slot, total_n, total_q,
                         left_n, left_q, last, best_num, best_den, count, ties_f, ties_r,
                         ties_l)
    for s in range(n_slots):
        chunk_num[c, s] = best_num[s]
        chunk_den[c, s] = best_den[s]
        chunk_count[c, s] = count[s]


@njit(cache=True, parallel=True)
def _scan_level(level, order, sorted_x, distinct, below, scan_slot, width, scan_models,
                total_n, total_q, chunk_num, chunk_den, chunk_count, tie_f, tie_r, tie_l):
    """One pass over each feature scores every split of every slot that needs a scan; the
    features are scanned in parallel chunks (:func:`_scan_chunk`)."""
    for c in prange(chunk_count.shape[0]):
        _scan_chunk(c, level, order, sorted_x, distinct, below, scan_slot, width, scan_models,
                    total_n, total_q, chunk_num, chunk_den, chunk_count, tie_f, tie_r, tie_l)


@njit(cache=True, nogil=True)
def _grown(array, size):
    """``array``, or a copy twice as long when it holds fewer than ``size`` entries."""
    if array.shape[0] >= size:
        return array
    bigger = np.empty(max(size, 2 * array.shape[0]), dtype=array.dtype)
    bigger[:array.shape[0]] = array
    return bigger


@njit(cache=True, nogil=True)
def _node_key(m, s, n, slot_of, below):
    """A node's samples and which of them lie below the prediction, as two 128-bit masks:
    everything its best splits depend on within one fit (n <= 128)."""
    s0 = s1 = b0 = b1 = 0
    for j in range(n):
        if slot_of[m, j] == s:
            if j < 64:
                s0 |= 1 << j
                b0 |= below[m, j] << j
            else:
                s1 |= 1 << (j - 64)
                b1 |= below[m, j] << (j - 64)
    return (s0, s1, b0, b1)


@njit(cache=True, nogil=True)
def _split_node(m, t, node, entry, entry_start, entry_count, pool_f, pool_r, pool_l, keys,
                sorted_x, feature, threshold, is_open):
    """Split ``node`` of model ``m``'s tree ``t`` by its best split: among the features
    that tie for the best gain (``entry``'s list), the first in the level's visiting order
    (the lowest of the level's ``keys``),
    with the threshold halfway between the two samples around it; a node with no split
    becomes a leaf. Returns the feature (-1 for a leaf)."""
    start, k = entry_start[entry], entry_count[entry]
    if k == 0:                       # every feature constant in the node
        feature[m, t, node] = _LEAF
        return -1
    chosen = start
    for e in range(start + 1, start + k):
        if keys[pool_f[e]] < keys[pool_f[chosen]]:
            chosen = e
    f = pool_f[chosen]
    below_x = np.float64(sorted_x[f, pool_l[chosen]])
    x = np.float64(sorted_x[f, pool_r[chosen]])
    middle = below_x / 2.0 + x / 2.0
    if middle == x or middle == np.inf or middle == -np.inf:
        middle = below_x
    feature[m, t, node] = f
    threshold[m, t, node] = middle
    is_open[m, 2 * node + 1] = True
    is_open[m, 2 * node + 2] = True
    return f


@njit(cache=True, nogil=True)
def _route(t, X, slot_of, slot_node, best_feature, node_of, threshold):
    """Send each sample of a split node to its child."""
    for m in range(slot_of.shape[0]):
        for j in range(slot_of.shape[1]):
            s = slot_of[m, j]
            if s >= 0 and best_feature[s] >= 0:
                node = slot_node[s]
                go_right = np.float64(X[j, best_feature[s]]) > threshold[m, t, node]
                node_of[m, j] = 2 * node + 1 + (1 if go_right else 0)


@njit(cache=True, nogil=True)
def _fit_leaves(m, t, y, alphas, learning_rate, raw, node_of, feature, value, is_open,
                residual):
    """Leaf values, the lower alpha-percentile of the residuals in each leaf, then model
    ``m``'s predictions move by ``learning_rate`` times their leaf's value."""
    n = y.shape[0]
    n_internal = feature.shape[2]
    for node in range(value.shape[2]):
        if node < n_internal and feature[m, t, node] != _LEAF:
            continue
        if node >= n_internal and not is_open[m, node]:
            continue
        size = 0
        for j in range(n):
            if node_of[m, j] == node:
                residual[size] = y[j] - raw[m, j]
                size += 1
        if size > 0:
            value[m, t, node] = _lower_percentile(residual[:size], alphas[m])
    for j in range(n):
        raw[m, j] += learning_rate * value[m, t, node_of[m, j]]


_KEY = types.UniTuple(types.int64, 4)


@njit(cache=True, nogil=True)
def _slots_to_scan(n, width, remember, known, active, slot_of, below, node_keys, scan, same_as,
                   slot_entry):
    """Mark the slots of a level that need a scan: active ones that are neither a node seen
    before in the fit (their entry then comes from ``known``) nor one of this level's already
    (``same_as``); return how many."""
    n_scan = 0
    for s in range(active.shape[0]):
        scan[s] = False
        same_as[s] = -1
        if not active[s]:
            continue
        if remember:
            key = _node_key(s // width, s, n, slot_of, below)
            for w in range(4):
                node_keys[s, w] = key[w]
            if key in known:
                slot_entry[s] = known[key]
                continue
            for other in range(s):
                if scan[other] and (node_keys[other, 0] == node_keys[s, 0]
                                    and node_keys[other, 1] == node_keys[s, 1]
                                    and node_keys[other, 2] == node_keys[s, 2]
                                    and node_keys[other, 3] == node_keys[s, 3]):
                    same_as[s] = other
                    break
            if same_as[s] >= 0:
                continue
        scan[s] = True
        n_scan += 1
    return n_scan


@njit(cache=True, nogil=True)
def _scan_inputs(scan, width, slot_of, scan_slot):
    """The models whose root needs a scan, and (in ``scan_slot``) each sample's slot to scan,
    -1 for none."""
    n_models, n = slot_of.shape
    n_root = 0
    for m in range(n_models):
        n_root += 1 if scan[m * width] else 0
    scan_models = np.empty(n_root, dtype=np.int64)
    n_root = 0
    for m in range(n_models):
        if scan[m * width]:
            scan_models[n_root] = m
            n_root += 1
    for m in range(n_models):
        for j in range(n):
            s = slot_of[m, j]
            scan_slot[m, j] = s if s >= 0 and scan[s] else -1
    return scan_models


@njit(cache=True, nogil=True, inline="always")
def _ties_best(c, s, best, chunk_num, chunk_den, chunk_count):
    """Whether chunk ``c``'s best gain for slot ``s`` equals chunk ``best``'s."""
    return chunk_count[c, s] > 0 and (chunk_num[c, s] * chunk_den[best, s]
                                      == chunk_num[best, s] * chunk_den[c, s])


@njit(cache=True, nogil=True)
def _best_chunk(s, chunk_num, chunk_den, chunk_count):
    """The chunk with the best gain for slot ``s`` (-1: no chunk found a split)."""
    best = -1
    for c in range(chunk_count.shape[0]):
        if chunk_count[c, s] > 0 and (best < 0 or chunk_num[c, s] * chunk_den[best, s]
                                      > chunk_num[best, s] * chunk_den[c, s]):
            best = c
    return best


@njit(cache=True, nogil=True)
def _merge_chunks(scan, remember, known, node_keys, chunk_num, chunk_den, chunk_count, tie_f,
                  tie_r, tie_l, slot_entry, entry_start, entry_count, pool_f, pool_r, pool_l,
                  n_entries, n_pool):
    """Merge the chunks' lists of best splits into one entry per scanned slot (every
    chunk's list that ties for the best gain, in chunk order), remembered by node key; the
    arrays grow as needed and are returned with the new counts."""
    for s in range(scan.shape[0]):
        if not scan[s]:
            continue
        best = _best_chunk(s, chunk_num, chunk_den, chunk_count)
        size = 0
        if best >= 0:
            for c in range(chunk_count.shape[0]):
                if _ties_best(c, s, best, chunk_num, chunk_den, chunk_count):
                    size += chunk_count[c, s]
        entry_start = _grown(entry_start, n_entries + 1)
        entry_count = _grown(entry_count, n_entries + 1)
        pool_f = _grown(pool_f, n_pool + size)
        pool_r = _grown(pool_r, n_pool + size)
        pool_l = _grown(pool_l, n_pool + size)
        entry_start[n_entries] = n_pool
        entry_count[n_entries] = size
        if best >= 0:
            for c in range(chunk_count.shape[0]):
                if _ties_best(c, s, best, chunk_num, chunk_den, chunk_count):
                    for e in range(chunk_count[c, s]):
                        pool_f[n_pool] = tie_f[c, s, e]
                        pool_r[n_pool] = tie_r[c, s, e]
                        pool_l[n_pool] = tie_l[c, s, e]
                        n_pool += 1
        slot_entry[s] = n_entries
        if remember:
            known[(node_keys[s, 0], node_keys[s, 1], node_keys[s, 2], node_keys[s, 3])] = \
                n_entries
        n_entries += 1
    return entry_start, entry_count, pool_f, pool_r, pool_l, n_entries, n_pool


@njit(cache=True, nogil=True)
def _split_level(t, level, width, active, same_as, slot_entry, slot_node, entry_start,
                 entry_count, pool_f, pool_r, pool_l, keys, sorted_x, feature, threshold,
                 is_open, best_feature):
    """Split every active slot's node of the level by its entry's best split
    (:func:`_split_node`); ``best_feature`` gets each slot's feature (-1: a leaf)."""
    for s in range(active.shape[0]):
        best_feature[s] = -1
        if not active[s]:
            continue
        if same_as[s] >= 0:
            slot_entry[s] = slot_entry[same_as[s]]
        best_feature[s] = _split_node(s // width, t, slot_node[s], slot_entry[s], entry_start,
                                      entry_count, pool_f, pool_r, pool_l, keys[t, level],
                                      sorted_x, feature, threshold, is_open)


@njit(cache=True)
def _fit_all(order, sorted_x, distinct, X, y, alphas, inits, keys, n_estimators, max_depth,
             learning_rate, n_chunks, feature, threshold, value, remember=True):
    """Fit the quantile models together; fills ``feature``, ``threshold`` ([M, T, 2**depth
    - 1]) and ``value`` ([M, T, 2**(depth+1) - 1]) in heap order (children of node i: 2i+1
    and 2i+2).

    A node's best splits depend only on its samples and on which of them lie below the
    model's prediction; the same node recurs often, across trees and across the quantile
    models, so every node's list of best splits (every feature tied for the best gain, at
    its first best position) is kept for the fit (``remember``, with up to 128 samples), and
    only new nodes are scanned. Among the tied features the one of lowest ``keys[t, level]``
    wins: the first in the level's visiting order (the features sorted by their keys), as if
    they had been scanned in that order. The features of a level are scanned in
    ``n_chunks`` parallel chunks, and the result does not depend on their number."""
    d, n = order.shape
    n_models = alphas.shape[0]
    n_nodes = 2 ** (max_depth + 1) - 1
    width = 2 ** (max_depth - 1)
    n_slots = n_models * width
    raw = np.empty((n_models, n))
    for m in range(n_models):
        raw[m, :] = inits[m]
    below, node_of = np.zeros((n_models, n), np.int64), np.zeros((n_models, n), np.int64)
    slot_of, scan_slot = np.empty((n_models, n), np.int64), np.empty((n_models, n), np.int64)
    slot_node, slot_entry = np.empty(n_slots, np.int64), np.empty(n_slots, np.int64)
    same_as, best_feature = np.empty(n_slots, np.int64), np.empty(n_slots, np.int64)
    total_n, total_q = np.zeros(n_slots, np.int64), np.zeros(n_slots, np.int64)
    active, scan = np.zeros(n_slots, np.bool_), np.zeros(n_slots, np.bool_)
    chunk_num, chunk_count = (np.zeros((n_chunks, n_slots), np.int64),
                              np.zeros((n_chunks, n_slots), np.int64))
    chunk_den = np.ones((n_chunks, n_slots), dtype=np.int64)
    tie_f = np.empty((n_chunks, n_slots, d), dtype=np.int64)
    tie_r, tie_l = np.empty_like(tie_f), np.empty_like(tie_f)
    is_open = np.zeros((n_models, n_nodes), dtype=np.bool_)
    count, count_below = np.zeros(n_nodes, np.int64), np.zeros(n_nodes, np.int64)
    residual = np.empty(n)
    # Every node's best splits: entry e lists pool[entry_start[e]:+entry_count[e]].
    remember = remember and n <= 128
    known = Dict.empty(key_type=_KEY, value_type=types.int64)
    node_keys = np.zeros((n_slots, 4), dtype=np.int64)
    entry_start, entry_count = np.empty(64, dtype=np.int64), np.empty(64, dtype=np.int64)
    pool_f = np.empty(1024, dtype=np.int64)
    pool_r, pool_l = np.empty_like(pool_f), np.empty_like(pool_f)
    n_entries = n_pool = 0
    for t in range(n_estimators):
        for m in range(n_models):
            _start_tree(m, t, y, raw, below, node_of, feature, value, is_open)
        for level in range(max_depth):
            first, last = 2 ** level - 1, 2 ** (level + 1) - 1
            n_split = 0
            for m in range(n_models):
                n_split += _open_slots(m, t, first, last, width, below, node_of, slot_of,
                                       slot_node, total_n, total_q, active, is_open, count,
                                       count_below, feature)
            if n_split == 0:
                break
            if _slots_to_scan(n, width, remember, known, active, slot_of, below, node_keys,
                              scan, same_as, slot_entry) > 0:
                scan_models = _scan_inputs(scan, width, slot_of, scan_slot)
                _scan_level(level, order, sorted_x, distinct, below, scan_slot, width,
                            scan_models, total_n, total_q, chunk_num, chunk_den, chunk_count,
                            tie_f, tie_r, tie_l)
                entry_start, entry_count, pool_f, pool_r, pool_l, n_entries, n_pool = \
                    _merge_chunks(scan, remember, known, node_keys, chunk_num, chunk_den,
                                  chunk_count, tie_f, tie_r, tie_l, slot_entry, entry_start,
                                  entry_count, pool_f, pool_r, pool_l, n_entries, n_pool)
            _split_level(t, level, width, active, same_as, slot_entry, slot_node, entry_start,
                         entry_count, pool_f, pool_r, pool_l, keys, sorted_x, feature,
                         threshold, is_open, best_feature)
            _route(t, X, slot_of, slot_node, best_feature, node_of, threshold)
        for m in range(n_models):
            _fit_leaves(m, t, y, alphas, learning_rate, raw, node_of, feature, value, is_open,
                        residual)


def distinct_neighbours(sorted_x: np.ndarray) -> np.ndarray:
    """Whether each sorted value lies more than 1e-7 above its neighbour below (False for
    the first), feature by feature: decided once per fit, it settles most split candidates
    of every level without reading a value."""
    wide = sorted_x.astype(np.float64)
    distinct = np.zeros(sorted_x.shape, dtype=np.bool_)
    distinct[:, 1:] = wide[:, 1:] > wide[:, :-1] + _FEATURE_THRESHOLD
    return distinct


@njit(cache=True, nogil=True)
def _predict(X, inits, feature, threshold, value, learning_rate):
    n_models, n_trees, n_internal = feature.shape
    out = np.empty((n_models, X.shape[0]))
    for m in range(n_models):
        for i in range(X.shape[0]):
            total = inits[m]
            for t in range(n_trees):
                node = 0
                while node < n_internal and feature[m, t, node] >= 0:
                    f = feature[m, t, node]
                    go_right = np.float64(X[i, f]) > threshold[m, t, node]
                    node = 2 * node + 1 + (1 if go_right else 0)
                total += learning_rate * value[m, t, node]
            out[m, i] = total
    return out


class QuantileGBRT:
    """Gradient-boosted quantile regressors at ``quantiles`` fitted together: the model
    scikit-optimize's ``"GBRT"`` surrogate builds, ``predict(X, return_std=True)`` giving
    the 0.5 quantile and half the 0.16-to-0.84 spread. ``remember=False`` scans every node
    of every tree instead of keeping each node's best splits for the fit (the same model,
    slower; for benchmarks and tests).

    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (40, 5)); y = X[:, 0] ** 2
    >>> mean, std = QuantileGBRT(seed=0).fit(X, y).predict(X[:3], return_std=True)
    >>> mean.shape, bool((std >= 0).all())
    ((3,), True)
    """

    def __init__(self, *, quantiles=QUANTILES, n_estimators: int = 30, max_depth: int = 3,
                 learning_rate: float = 0.1, seed: int = 0, remember: bool = True,
                 threads: int | None = None):
        if n_estimators < 1:
            raise ValueError(f"n_estimators={n_estimators!r} is not allowed; expected an "
                             "integer >= 1.")
        if max_depth < 1:
            raise ValueError(f"max_depth={max_depth!r} is not allowed; expected an "
                             "integer >= 1.")
        self.quantiles = tuple(float(q) for q in quantiles)
        if not all(0.0 < q < 1.0 for q in self.quantiles):
            raise ValueError(f"quantiles={quantiles!r} is not allowed; expected values in "
                             "(0, 1).")
        self.n_estimators = int(n_estimators)
        self.max_depth = int(max_depth)
        self.learning_rate = float(learning_rate)
        self._rng = np.random.default_rng(seed)
        self.remember = bool(remember)
        self.threads = None if threads is None else check_positive_int("threads", threads)

    def fit(self, X, y) -> "QuantileGBRT":
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
            raise ValueError(f"X must be [n, d] and y [n] with n >= 1; got X {X.shape} and "
                             f"y {y.shape}.")
        n, d = X.shape
        columns = np.ascontiguousarray(X.T)
        order = np.argsort(columns, axis=1, kind="stable")
        sorted_x = np.take_along_axis(columns, order, axis=1)
        # Features visited in a random order per tree level, shared by the quantile models
        # (scikit-optimize gives them the same random state): the order of these keys.
        keys = self._rng.random((self.n_estimators, self.max_depth, d))
        alphas = np.asarray(self.quantiles)
        inits = np.array([np.percentile(y, q * 100.0) for q in self.quantiles])
        n_models = len(self.quantiles)
        self.feature_ = np.empty((n_models, self.n_estimators, 2 ** self.max_depth - 1),
                                 dtype=np.int64)
        self.threshold_ = np.zeros(self.feature_.shape)
        self.value_ = np.zeros((n_models, self.n_estimators, 2 ** (self.max_depth + 1) - 1))
        in_force = numba.get_num_threads() if self.threads is None else self.threads
        with numba_threads(in_force) as threads:
            _fit_all(order.astype(np.int64), sorted_x, distinct_neighbours(sorted_x), X, y,
                     alphas, inits, keys, self.n_estimators, self.max_depth,
                     self.learning_rate, threads, self.feature_, self.threshold_,
                     self.value_, self.remember)
        self.keys_ = keys
        self.init_ = inits
        self.n_features_ = d
        return self

    @property
    def visit_(self) -> np.ndarray:
        """Each tree level's visiting order of the features: [trees, depth, features]."""
        return np.argsort(self.keys_, axis=2)

    def predict_quantiles(self, X) -> np.ndarray:
        """[len(quantiles), n] predictions."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features_:
            raise ValueError(f"X must be [n, {self.n_features_}]; got {X.shape}.")
        return _predict(X, self.init_, self.feature_, self.threshold_, self.value_,
                        self.learning_rate)

    def predict(self, X, return_std: bool = False):
        q = self.predict_quantiles(X)
        try:
            low, mid, high = (self.quantiles.index(v) for v in QUANTILES)
        except ValueError:
            raise ValueError(f"predict needs the quantiles {QUANTILES}; this model has "
                             f"{self.quantiles}.") from None
        if return_std:
            return q[mid], (q[high] - q[low]) / 2.0
        return q[mid]


class FastGBRT:
    """Ask/tell optimiser equal in method to scikit-optimize's ``Optimizer(base_estimator=
    "GBRT", acq_func="LCB", acq_optimizer="sampling")``: ``n_initial_points`` uniform random
    points, then at each ask the surrogate refitted on every told point and the candidate of
    lowest ``mean - kappa * std`` among ``n_points`` uniform draws. ``remember`` is the
    surrogate's (:class:`QuantileGBRT`), and so is ``threads``.

    >>> opt = FastGBRT(2, seed=0)
    >>> for _ in range(15):
    ...     x = opt.ask()[0]
    ...     opt.tell([x], [(x[0] - 0.5) ** 2 + x[1] ** 2])
    >>> len(opt.yi)
    15
    """

    def __init__(self, dims: int, *, seed: int, n_initial_points: int = 10,
                 n_points: int = 100, bound: float = 1.0, kappa: float = 1.96,
                 n_estimators: int = 30, remember: bool = True,
                 threads: int | None = None):
        if dims < 1:
            raise ValueError(f"dims={dims!r} is not allowed; expected an integer >= 1.")
        self.dims = int(dims)
        self.n_initial_points = int(n_initial_points)
        self.n_points = int(n_points)
        self.bound = float(bound)
        self.kappa = float(kappa)
        self._rng = np.random.default_rng(seed)
        self._surrogate = QuantileGBRT(n_estimators=n_estimators,
                                       seed=int(self._rng.integers(2 ** 31)),
                                       remember=remember, threads=threads)
        self.Xi: list[np.ndarray] = []
        self.yi: list[float] = []

    def _uniform(self, n: int) -> np.ndarray:
        return self._rng.uniform(-self.bound, self.bound, size=(n, self.dims))

    def ask(self, n_points: int | None = None) -> list[list[float]]:
        if n_points is not None:
            if len(self.Xi) + n_points > self.n_initial_points:
                raise ValueError(f"n_points={n_points!r} is not allowed here; only the "
                                 f"{self.n_initial_points} initial points can be asked "
                                 "together.")
            return self._uniform(n_points).tolist()
        if len(self.Xi) < self.n_initial_points:
            return self._uniform(1).tolist()
        model = self._surrogate.fit(np.asarray(self.Xi), np.asarray(self.yi))
        candidates = self._uniform(self.n_points)
        mean, std = model.predict(candidates, return_std=True)
        return [candidates[int(np.argmin(mean - self.kappa * std))].tolist()]

    def tell(self, points, values) -> None:
        for point, y in zip(points, values):
            self.Xi.append(np.asarray(point, dtype=np.float64))
            self.yi.append(float(y))


__all__ = ["FastGBRT", "QuantileGBRT", "QUANTILES"]
