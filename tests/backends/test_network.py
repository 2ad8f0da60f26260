"""The ``network`` protocol: Poisson inputs converging onto cells that fire from their own dynamics.

Every synapse is compared with the reference model on its input's and its cell's recorded
spikes (tolerance 1e-9 of the weight scale). The network is small here (24 inputs × 3 cells,
3 s at 1 ms) so that Brian2 takes a few seconds; the main job runs 100 × 4 for 10 s.

Spike multiplicity: NEST's ``poisson_generator`` (on_grid) can give one input several spikes
in one time step; at 20 Hz and 1 ms, P(≥ 2 in a step) ≈ 0.02²/2 = 2e-4, so 24 inputs × 3000
steps expect ≈ 14 repeated times. Each spike is its own ``stdp_synapse::send`` (the reference
treats a repeated time as several events); merging them into one event must fail.
"""

import numpy as np
import pytest

from stdp_validation import predict_weights
from stdp_validation.protocols import network_protocol
from stdp_validation.results import Status

from support.running import check

BACKENDS = [pytest.param("brian2", marks=pytest.mark.brian2), pytest.param("nest", marks=pytest.mark.nest)]

SMALL = network_protocol(n_inputs=24, n_neurons=3, duration=3000.0)


def repeated_times(trains):
    return sum(len(train) - len(set(train)) for train in trains)


@pytest.mark.parametrize("backend, options", [
    pytest.param("nest", {}, marks=pytest.mark.nest, id="nest"),
    pytest.param("nest", {"spike_precision": "off_grid"}, marks=pytest.mark.nest, id="nest-off_grid"),
    pytest.param("brian2", {}, marks=pytest.mark.brian2, id="brian2"),
])
def test_every_synapse_of_the_network_matches_the_reference(stdp_run, backend, options):
    result = stdp_run(backend, SMALL, **options)
    observation = result.observation
    # All-to-all: 24 input trains, 3 cell trains, 72 synapses, each cell's train shared by 24.
    assert len(observation.pre_spike_times) == 24 and len(observation.post_spike_times) == 3
    assert observation.synapses[:4] == [[0, 0], [0, 1], [0, 2], [1, 0]] and len(observation.synapses) == 72
    # The cells fire from their inputs alone, at a rate where STDP has pairs to work on.
    rates = [len(train) / 3.0 for train in observation.post_spike_times]
    assert all(5.0 < rate < 200.0 for rate in rates), rates
    assert len(result.verdicts) == 72
    check(result)


@pytest.mark.nest
def test_nest_gives_repeated_spike_times_and_each_spike_is_its_own_event(stdp_run):
    result = stdp_run("nest", SMALL)
    observation = result.observation
    assert repeated_times(observation.pre_spike_times) > 0  # multiplicity really occurs
    check(result)
    # Negative control: one event per repeated time (merged spikes) misses the extra pairings.
    pre, post, _ = observation.synapse_trains()
    merged = predict_weights([sorted(set(train)) for train in pre], post, observation.rule, delay=observation.delay,
                             initial_weight=observation.initial_weights, conventions=observation.conventions,
                             t_stop=observation.t_stop)
    with_repeats = [k for k, train in enumerate(pre) if len(train) != len(set(train))]
    errors = np.abs(merged - np.asarray(observation.final_weights))[with_repeats]
    tolerance = result.verdicts[0].tolerance
    # (a synapse held at a bound by clipping can end the same either way)
    assert np.mean(errors > 100 * tolerance) >= 0.8, errors


@pytest.mark.brian2
def test_brian2_poisson_inputs_fire_at_most_once_per_step(stdp_run):
    # pyNN.brian2's SpikeSourcePoisson is a PoissonGroup: rand() < rate·dt each step.
    observation = stdp_run("brian2", SMALL).observation
    assert repeated_times(observation.pre_spike_times) == 0
    steps = np.concatenate([np.asarray(t) for t in observation.pre_spike_times]) / SMALL.timestep
    assert np.allclose(steps, np.round(steps))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_network_synapse_that_never_learns_fails(stdp_run, backend):
    from dataclasses import replace

    from stdp_validation.results.compare import evaluate

    observation = stdp_run(backend, SMALL).observation
    frozen = replace(observation, final_weights=list(observation.initial_weights))
    verdicts = evaluate(frozen).verdicts
    assert sum(v.status is Status.FAIL for v in verdicts) >= 0.9 * len(verdicts)


@pytest.mark.spinnaker
def test_spinnaker_reports_the_network_as_unsupported():
    from stdp_validation.backends import get_backend, unavailable_reason

    if unavailable_reason("spinnaker"):
        pytest.skip(unavailable_reason("spinnaker"))
    reason = get_backend("spinnaker").supports(SMALL.rule, SMALL)
    assert reason and "own dynamics" in reason
