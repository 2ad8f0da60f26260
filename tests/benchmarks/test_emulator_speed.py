"""Synapse events per second through sPyNNaker's shipped ARM code in the emulator.

Target (issue "SpiNNaker's own STDP machine code without a board"): ≥ 10^5 synapse events
per second (a row of one plastic synapse or a post event each). Stage one (the toolchain on
its virtual board) runs once, outside the timing; each round emulates the same post core
from its initial state: the binary is loaded and initialised by its own code, then driven.
``extra_info`` holds the event count and the rate.
"""

import numpy as np
import pytest

from stdp_validation import AdditiveWeightDependence, SpikePairRule, STDPRule
from stdp_validation.fixedpoint import predict_stored_weights

N_SYNAPSES = 64
DURATION_MS = 10_000.0
RATE_PER_MS = 0.02  # 20 Hz pre and post: ≈ 200 spikes per train
TARGET_EVENTS_PER_SECOND = 1e5
RULE = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), AdditiveWeightDependence(0.0, 1.0))


@pytest.fixture(scope="module")
def mapped_core():
    from stdp_validation.backends.spinnaker import SpinnakerBackend
    from stdp_validation.backends.spinnaker.emulator import unavailable_reason

    reason = SpinnakerBackend.unavailable_reason() or unavailable_reason()
    if reason:
        pytest.skip(f"emulated spinnaker unavailable: {reason}")
    from stdp_validation.backends.spinnaker.emulator.api import _map

    rng = np.random.default_rng(20261202)

    def train():
        ticks = np.unique(rng.integers(5, int(DURATION_MS), rng.poisson(RATE_PER_MS * DURATION_MS)))
        return ticks.tolist()

    pre, post = [train() for _ in range(N_SYNAPSES)], [train() for _ in range(N_SYNAPSES)]
    population = _map([[float(t) for t in p] for p in pre], [0.5] * N_SYNAPSES, RULE, 1.0, 1.0, False,
                      DURATION_MS + 20.0)
    return population, pre, post


@pytest.mark.benchmark(group="emulator")
def test_emulated_synapse_events_per_second(benchmark, mapped_core):
    from stdp_validation.backends.spinnaker.emulator.emulate import emulate_population

    population, pre, post = mapped_core
    synapses = [(i, i) for i in range(N_SYNAPSES)]
    result = benchmark.pedantic(emulate_population, args=(population, pre, post, synapses), rounds=3, iterations=1,
                                warmup_rounds=1)
    # The timed work must also be right: every stored weight equals the fixed-point model's.
    expected = predict_stored_weights([[float(t) for t in p] for p in pre], [[float(t) for t in p] for p in post],
                                      RULE, delay=1.0, initial_weight=0.5, timestep=1.0,
                                      ring_buffer_shift=population["ring_buffer_shift"])
    np.testing.assert_array_equal(result.stored, expected)
    rate = result.events / benchmark.stats.stats.mean
    benchmark.extra_info.update({"events": result.events, "events_per_second": rate,
                                 "target_events_per_second": TARGET_EVENTS_PER_SECOND})
    print(f"\nemulated: {result.events} synapse events, {rate:,.0f} events/s (target ≥ {TARGET_EVENTS_PER_SECOND:,.0f})")
