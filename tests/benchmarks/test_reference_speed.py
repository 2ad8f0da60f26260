"""Speed of the vectorised reference against the per-event loop (pytest-benchmark).

Skipped in the default run (the project's addopts has ``--benchmark-disable``). Run with::

    python -m pytest tests/benchmarks --benchmark-enable

Input: 10^4 synapses, each with 100 presynaptic and 100 postsynaptic Poisson-like spikes
(about 10 Hz over ~10 s, 1 ms refractory gap, fixed seed), all-to-all additive STDP under the
"nest" conventions.

* Benchmark A: ``predict_weights`` on all 10^4 synapses (5 rounds).
* Benchmark B: the event loop of tests/support/event_loop.py. It is pure Python and takes
  seconds, so it runs once (``benchmark.pedantic(rounds=1, iterations=1)``) on the first 10^3
  synapses; its time ×10 estimates the 10^4-synapse time (synapses are independent, so the
  loop's cost is linear in their number).
* The speed ratio (estimated loop time / median predict_weights time) goes into the
  ``extra_info`` of B with the target (>= 100×). The last test checks that both models give
  the same weights on this input and reports the ratio; a ratio below the target is an
  xfail with the figures (as in test_batching_speed.py, a missed target is reported, not an
  error of the run).
"""

import numpy as np
import pytest

from stdp_validation import AdditiveWeightDependence, SpikePairRule, STDPRule, predict_weights
from support.event_loop import event_loop_batch

pytestmark = pytest.mark.benchmark

N_SYNAPSES = 10_000
N_LOOP = 1_000  # subset for the event loop; its time is scaled by N_SYNAPSES / N_LOOP
SPIKES_PER_TRAIN = 100
TARGET_RATIO = 100.0
SEED = 20240607
RULE = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), AdditiveWeightDependence(0.0, 1.0))
CONVENTIONS = "nest"

SKIP_REASON = (
    "benchmarks run with: python -m pytest tests/benchmarks --benchmark-enable "
    "(the default addopts pass --benchmark-disable)"
)

_results = {}


def _benchmarks_enabled(config):
    if config.getoption("benchmark_enable", False):
        return True
    if config.getoption("benchmark_disable", False):
        return False
    session = getattr(config, "_benchmarksession", None)  # also disabled under xdist
    return not getattr(session, "disabled", False)


@pytest.fixture(scope="module")
def spike_input(request):
    if not _benchmarks_enabled(request.config):
        pytest.skip(SKIP_REASON)
    rng = np.random.default_rng(SEED)

    def trains():
        # Poisson-like: 1 ms refractory gap + exponential intervals, mean 100 ms (~10 Hz).
        intervals = 1.0 + rng.exponential(99.0, size=(N_SYNAPSES, SPIKES_PER_TRAIN))
        return np.round(np.cumsum(intervals, axis=1), 3)  # µs resolution, still strictly increasing

    pre, post = trains(), trains()
    delay = rng.choice([0.5, 1.0, 1.5, 2.0], size=N_SYNAPSES)
    initial_weight = rng.uniform(0.0, 1.0, size=N_SYNAPSES)
    return pre, post, delay, initial_weight


def _stats(benchmark):
    stats = benchmark.stats.stats
    return {"min_s": stats.min, "median_s": stats.median, "mean_s": stats.mean, "max_s": stats.max, "rounds": stats.rounds}


def test_a_predict_weights_10k_synapses(benchmark, spike_input):
    pre, post, delay, initial_weight = spike_input
    weights = benchmark.pedantic(
        predict_weights,
        args=(pre, post, RULE),
        kwargs=dict(delay=delay, initial_weight=initial_weight, conventions=CONVENTIONS),
        rounds=5,
        iterations=1,
        warmup_rounds=1,
    )
    assert weights.shape == (N_SYNAPSES,)
    stats = _stats(benchmark)
    benchmark.extra_info.update(
        synapses=N_SYNAPSES, spikes_per_train=SPIKES_PER_TRAIN, conventions=CONVENTIONS, **stats
    )
    _results["predict"] = stats
    _results["predict_weights"] = weights


def test_b_event_loop_1k_synapses_scaled_to_10k(benchmark, spike_input):
    pre, post, delay, initial_weight = spike_input
    subset = slice(0, N_LOOP)
    weights = benchmark.pedantic(
        event_loop_batch,
        args=(list(pre[subset]), list(post[subset]), RULE),
        kwargs=dict(delay=delay[subset], initial_weight=initial_weight[subset], conventions=CONVENTIONS),
        rounds=1,
        iterations=1,
    )
    assert weights.shape == (N_LOOP,)
    stats = _stats(benchmark)
    scale = N_SYNAPSES / N_LOOP
    estimated = stats["median_s"] * scale
    benchmark.extra_info.update(
        synapses_run=N_LOOP,
        scaled_to_synapses=N_SYNAPSES,
        scale_factor=scale,
        estimated_10k_s=estimated,
        **stats,
    )
    _results["loop_estimated_10k_s"] = estimated
    _results["loop_weights"] = weights
    if "predict" in _results:
        ratio = estimated / _results["predict"]["median_s"]
        benchmark.extra_info.update(
            predict_weights_median_s=_results["predict"]["median_s"], speed_ratio=ratio, target_ratio=TARGET_RATIO
        )
        _results["ratio"] = ratio


def test_c_speed_ratio_and_agreement(spike_input):
    if "ratio" not in _results:
        pytest.skip("needs test_a and test_b of this module to have run first")
    # The two models agree on the benchmark input too.
    np.testing.assert_allclose(_results["loop_weights"], _results["predict_weights"][:N_LOOP], rtol=0, atol=1e-12)
    ratio = _results["ratio"]
    print(
        f"\npredict_weights, {N_SYNAPSES} synapses: median {_results['predict']['median_s']:.3f} s; "
        f"event loop, {N_LOOP} synapses x{N_SYNAPSES // N_LOOP}: {_results['loop_estimated_10k_s']:.1f} s; "
        f"ratio {ratio:.0f}x (target >= {TARGET_RATIO:.0f}x)"
    )
    if ratio < TARGET_RATIO:
        pytest.xfail(
            f"speed target missed: predict_weights is only {ratio:.1f}x faster than the event loop "
            f"(target {TARGET_RATIO:.0f}x)"
        )
