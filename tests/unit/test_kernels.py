"""The compiled (numba) and pure-numpy kernels of the reference model.

Both implementations must give the same weights (to 1e-12) on the same inputs for every
backend convention and every standard rule, with and without recorded trajectories; each
kernel is also checked on small inputs whose answer is worked out by hand here.
"""

import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

from stdp_validation import CONVENTIONS, kernels, predict_trajectory, predict_weights
from stdp_validation.errors import UnsupportedByBackend
from stdp_validation.protocols import DEFAULT_RULE, RULE_LABELS, rule_variant

needs_numba = pytest.mark.skipif("numba" not in kernels.AVAILABLE, reason="numba is not installed")
IMPLEMENTATIONS = [pytest.param(name, marks=needs_numba if name == "numba" else ()) for name in ("numba", "numpy")]


@pytest.fixture(params=IMPLEMENTATIONS)
def implementation(request):
    previous = kernels.use(request.param)
    yield request.param
    kernels.use(previous)


def _csr(lengths):
    counts = np.asarray(lengths, dtype=np.int64)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    rows = np.repeat(np.arange(len(counts)), counts)
    return ptr, rows, np.arange(int(ptr[-1])) - ptr[rows]


# ---------------------------------------------------------------------------------------------
# Each kernel on a hand-worked example


def test_recursive_trace_by_hand(implementation):
    # Row 0: x1 = 1; x2 = 1·0.5 + 1 = 1.5; x3 = 1.5·0.5 + 1 = 1.75. Row 1 (empty). Row 2: x = 1;
    # then decay 0 (a reset): 0·… + 1 = 1. The first decay of a row is never used.
    ptr, rows, local = _csr([3, 0, 2])
    decays = np.array([9.0, 0.5, 0.5, 9.0, 0.0])
    np.testing.assert_array_equal(kernels.recursive_trace(decays, ptr, rows, local), [1.0, 1.5, 1.75, 1.0, 1.0])


def test_affine_weights_clip_after_every_event(implementation):
    # Row 0, additive: 0.5 + 0.4 = 0.9; + 0.4 = 1.3 → clipped to 1.0; − 0.3 = 0.7.
    # Row 1, multiplicative (α·w + β): 0.5·0.5 + 0.25 = 0.5; 0.5·0.8 + 0 = 0.4.
    ptr, rows, local = _csr([3, 2])
    beta = np.array([0.4, 0.4, -0.3, 0.25, 0.0])
    weight, history = kernels.affine_weights([0.5, 0.5], np.ones(5), beta, ptr, rows, local, 0.0, 1.0, False, True)
    np.testing.assert_allclose(weight[0], 0.7, rtol=0, atol=1e-15)
    np.testing.assert_allclose(history[:3], [0.9, 1.0, 0.7], rtol=0, atol=1e-15)
    alpha = np.array([1.0, 1.0, 1.0, 0.5, 0.8])
    weight, history = kernels.affine_weights([0.5, 0.5], alpha, beta, ptr, rows, local, 0.0, 1.0, True, True)
    np.testing.assert_allclose(history[3:], [0.5, 0.4], rtol=0, atol=1e-15)
    np.testing.assert_allclose(weight[1], 0.4, rtol=0, atol=1e-15)


def test_gutig_weights_by_hand(implementation):
    # S = 2, μ+ = μ− = 0.5, w0 = 0.5: up 0.1 → 0.5 + 2·0.1·((2 − 0.5)/2)^0.5 = 0.5 + 0.2·√0.75;
    # then down 0.1 → w − 2·0.1·(w/2)^0.5.
    ptr, rows, local = _csr([2])
    weight, history = kernels.gutig_weights([0.5], np.array([0.1, 0.0]), np.array([0.0, 0.1]), ptr, rows, local,
                                            0.0, 2.0, 0.5, 0.5, True)
    first = 0.5 + 0.2 * 0.75 ** 0.5
    second = first - 0.2 * (first / 2) ** 0.5
    np.testing.assert_allclose(history, [first, second], rtol=0, atol=1e-14)
    np.testing.assert_allclose(weight, [second], rtol=0, atol=1e-14)


def test_search_rows_by_hand(implementation):
    # Row 0 keys [10, 20, 20, 30], row 1 [5]; queries in and out of order, on and between keys.
    keys = np.array([10, 20, 20, 30, 5], dtype=np.int64)
    ptr, _, _ = _csr([4, 1])
    rows = np.array([0, 0, 0, 0, 1, 0, 0], dtype=np.int64)
    queries = np.array([9, 20, 25, 40, 5, 15, 20], dtype=np.int64)
    flat = lambda: (np.array([0 * 100 + 10, 20, 20, 30, 100 + 5]), 100, 0)  # noqa: E731 - row·span + key
    left = kernels.search_rows(keys, ptr, rows, queries, False, flat)
    right = kernels.search_rows(keys, ptr, rows, queries, True, flat)
    np.testing.assert_array_equal(left, [0, 1, 3, 4, 0, 1, 1])
    np.testing.assert_array_equal(right, [0, 3, 3, 4, 1, 1, 3])


# ---------------------------------------------------------------------------------------------
# The whole model: both implementations agree


def _random_batch(seed, n=60):
    rng = np.random.default_rng(seed)
    pre, post = [], []
    for _ in range(n):
        # 1 ms grid (coincidences) mixed with 0.1 µs resolution, some repeated times, some empty.
        for trains in (pre, post):
            k = int(rng.integers(0, 25))
            times = np.where(rng.random(k) < 0.5, rng.integers(0, 300, k).astype(float),
                             np.round(rng.uniform(0, 300, k), 4))
            trains.append(np.sort(times))
    delay = rng.choice([0.0, 0.1, 1.0, 1.5, 3.0], size=n)
    return pre, post, delay, rng


@pytest.mark.parametrize("label", RULE_LABELS)
@pytest.mark.parametrize("conventions", sorted(CONVENTIONS))
@needs_numba
def test_numba_and_numpy_agree(label, conventions):
    rule = rule_variant(DEFAULT_RULE, label)
    pre, post, delay, rng = _random_batch(zlib.crc32(f'{label}/{conventions}'.encode()))
    w0 = rng.uniform(rule.weight.w_min, rule.weight.w_max, size=len(pre))
    kwargs = dict(delay=delay, initial_weight=w0, conventions=conventions, t_stop=250.0)
    results = {}
    for name in ("numpy", "numba"):
        previous = kernels.use(name)
        try:
            results[name] = (predict_weights(pre, post, rule, **kwargs), predict_trajectory(pre, post, rule, **kwargs))
        except UnsupportedByBackend:
            pytest.skip(f"{label} is not supported under the {conventions!r} conventions")
        finally:
            kernels.use(previous)
    (weights_numpy, trajectories_numpy), (weights_numba, trajectories_numba) = results["numpy"], results["numba"]
    np.testing.assert_allclose(weights_numba, weights_numpy, rtol=0, atol=1e-12)
    assert any(len(t) for t in trajectories_numpy)  # the batch exercises updates
    for a, b in zip(trajectories_numba, trajectories_numpy):
        np.testing.assert_array_equal(a.times, b.times)
        np.testing.assert_array_equal(a.kinds, b.kinds)
        np.testing.assert_allclose(a.weights, b.weights, rtol=0, atol=1e-12)


def test_environment_variable_selects_the_fallback():
    code = "from stdp_validation import kernels; print(kernels.active())"
    environment = {**os.environ, "STDP_VALIDATION_KERNEL": "numpy"}
    output = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "numpy"
    environment["STDP_VALIDATION_KERNEL"] = "fortran"
    failed = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)
    assert failed.returncode != 0
    assert "STDP_VALIDATION_KERNEL='fortran'" in failed.stderr and "allowed: " in failed.stderr


def test_use_rejects_an_unknown_kernel():
    with pytest.raises(ValueError, match="allowed: "):
        kernels.use("fortran")
