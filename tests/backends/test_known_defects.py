"""Minimal reproducers of known backend defects (stdp_validation.results.defects).

Each test asserts the documented behaviour and is marked xfail(strict=True): it fails today,
and an upstream fix turns it into an unexpected pass that fails the run until the defect
entry is retired. The expected values come from the reference model or are written out.
"""

from math import exp

import numpy as np
import pytest

from stdp_validation import AdditiveWeightDependence, MultiplicativeWeightDependence, SpikePairRule, STDPRule
from stdp_validation.protocols import window_protocol
from stdp_validation.results import Status
from stdp_validation.reference import predict_weights
from support.running import observe


def run_pairs(backend, rule, lags, initial_weight):
    """One pre/post pair per lag (emission Δt, ms) under ``rule`` as one simulation."""
    return observe(backend, window_protocol(lags, initial_weight=initial_weight, rule=rule))


def predicted_weights(observation):
    """The reference prediction for every case of an observation, from its recorded spikes."""
    return predict_weights(observation.pre_spike_times, observation.post_spike_times, observation.rule,
                           delay=observation.delay, initial_weight=observation.initial_weights,
                           conventions=observation.conventions, t_stop=observation.t_stop)


@pytest.mark.brian2
@pytest.mark.xfail(strict=True, reason="brian2-multiplicative-ignored: pyNN.brian2 applies the additive rule")
def test_brian2_multiplicative_weight_dependence():
    rule = STDPRule(SpikePairRule(20.0, 20.0, 0.1, 0.1), MultiplicativeWeightDependence(0.0, 1.0))
    observation = run_pairs("brian2", rule, [10.0, -10.0], 0.8)
    expected = predicted_weights(observation)
    # Written out: Brian2 lag is 10 − 1 = 9 ms: 0.8 + (1 − 0.8)·0.1·e^(−9/20) multiplicatively,
    # where the additive rule gives 0.8 + 0.1·e^(−9/20).
    assert expected[0] == pytest.approx(0.8 + 0.2 * 0.1 * exp(-9 / 20), abs=1e-12)
    assert observation.final_weights == pytest.approx(list(expected), abs=1e-9)


@pytest.mark.brian2
@pytest.mark.xfail(strict=True, reason="brian2-negative-amplitude-bounds: post events never clip at w_min")
def test_brian2_bounds_with_negative_amplitude():
    rule = STDPRule(SpikePairRule(20.0, 20.0, -0.5, 0.0), AdditiveWeightDependence(0.2, 1.0))
    observation = run_pairs("brian2", rule, [5.0], 0.25)
    # A causal pair with A_plus = −0.5 lowers w by 0.5·e^(−4/20) ≈ 0.41 below 0.25: must clip at w_min.
    assert observation.final_weights[0] >= 0.2


@pytest.mark.nest
@pytest.mark.xfail(strict=True, reason="nest-negative-amplitude-bounds: depression never clips at Wmax")
def test_nest_bounds_with_negative_amplitude():
    rule = STDPRule(SpikePairRule(20.0, 20.0, 0.01, -0.5), AdditiveWeightDependence(0.0, 1.0))
    observation = run_pairs("nest", rule, [-5.0], 0.9)
    # An anti-causal pair with A_minus = −0.5 raises w by 0.5·e^(−4/20) ≈ 0.41 above 0.9: must clip at w_max.
    assert observation.final_weights[0] <= 1.0


@pytest.mark.nest
@pytest.mark.xfail(strict=True, reason="nest-a-plus-zero-disables-depression: alpha·lambda = 0")
def test_nest_depression_with_zero_a_plus():
    rule = STDPRule(SpikePairRule(20.0, 20.0, 0.0, 0.012), AdditiveWeightDependence(0.0, 1.0))
    observation = run_pairs("nest", rule, [-5.0], 0.5)
    # Post 95 (seen at 96) before pre 100: lag −4, depression 0.012·1·e^(−4/20); A_plus plays no part.
    assert observation.final_weights[0] == pytest.approx(0.5 - 0.012 * exp(-4 / 20), abs=1e-9)


@pytest.mark.brian2
@pytest.mark.xfail(strict=True, raises=ValueError,
                   reason="pynn-dendritic-delay-fraction: pyNN.brian2 rejects the PyNN default (PyNN #803)")
def test_default_stdp_script_runs_on_brian2():
    # The same script runs on NEST; on Brian2 STDPMechanism raises for the default fraction 1.
    import brian2

    brian2.prefs.codegen.target = "numpy"
    import pyNN.brian2 as sim

    sim.setup(timestep=0.1)
    try:
        sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0),
            weight=0.5,
            delay=1.0,
        )
    finally:
        sim.end()


@pytest.mark.nest
def test_default_stdp_script_runs_on_nest():
    import pyNN.nest as sim

    sim.setup(timestep=0.1)
    try:
        synapse = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0),
            weight=0.5,
            delay=1.0,
        )
        assert synapse.dendritic_delay_fraction == 1.0
    finally:
        sim.end()


@pytest.mark.brian2
@pytest.mark.xfail(strict=True, reason="brian2-spike-source-ignores-timestep: sources run on the 0.1 ms default clock")
def test_brian2_spike_sources_follow_the_timestep():
    import brian2

    brian2.prefs.codegen.target = "numpy"
    import pyNN.brian2 as sim

    sim.setup(timestep=0.01, min_delay=0.01)
    try:
        source = sim.Population(2, sim.SpikeSourceArray(spike_times=[[10.03, 20.07], [15.05]]))
        source.record("spikes")
        sim.run(30.0)
        trains = [list(st.magnitude) for st in source.get_data().segments[0].spiketrains]
    finally:
        sim.end()
    # On a 0.01 ms grid every requested time is representable and must be kept.
    assert trains == [pytest.approx([10.03, 20.07], abs=1e-9), pytest.approx([15.05], abs=1e-9)]


@pytest.mark.nest
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="pynn-nest-off-grid-late-stamp: the pre spike is used one step late")
def test_nest_off_grid_uses_the_recorded_presynaptic_time():
    # Plain pyNN.nest, PyNN's default off_grid precision: one synapse, pre spikes requested at
    # 614.4000000000001 (6144·0.1, on the 0.1 ms grid) and 634.4 ms, post driven to fire near
    # 609.5 and 617.5 ms. The weight must be what the pair rule gives for the times PyNN records.
    import nest
    import pyNN.nest as sim
    from pyNN.parameters import Sequence

    from stdp_validation import CONVENTIONS, predict_weights

    sim.setup(timestep=0.1, min_delay=1.0, spike_precision="off_grid")
    try:
        t = 6144 * 0.1
        pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[Sequence([t, t + 20.0]), Sequence([])]))
        drive = sim.Population(2, sim.SpikeSourceArray(spike_times=[Sequence([t - 6.0, t + 2.0]), Sequence([])]))
        post = sim.Population(2, sim.IF_curr_exp(tau_syn_E=0.2, tau_syn_I=0.2, tau_refrac=2.0))
        sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=300.0, delay=1.0))
        stdp = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0), weight=0.5, delay=1.0)
        projection = sim.Projection(pre, post, sim.OneToOneConnector(), stdp)
        pre.record("spikes")
        post.record("spikes")
        sim.run(t + 40.0)
        weight = float(np.diag(projection.get("weight", format="array"))[0])
        recorded_pre = pre.get_data().segments[0].spiketrains[0].magnitude.tolist()
        recorded_post = post.get_data().segments[0].spiketrains[0].magnitude.tolist()
    finally:
        sim.end()
        nest.ResetKernel()
    assert recorded_pre == pytest.approx([t, t + 20.0], abs=1e-9)  # PyNN records the requested time
    rule = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), AdditiveWeightDependence(0.0, 1.0))
    expected = predict_weights(recorded_pre, recorded_post, rule, delay=1.0, initial_weight=0.5,
                               conventions=CONVENTIONS["nest"].with_timestep(0.1))[0]
    assert weight == pytest.approx(expected, abs=1e-9)  # today: 9e-5 off, as if the pre were at 614.5 ms


@pytest.mark.nest
def test_nest_off_grid_marks_exactly_the_cases_with_a_late_stamp():
    from stdp_validation.backends.nest import NestBackend
    from stdp_validation.protocols import Case, Protocol
    from stdp_validation.results import evaluate

    t = 6144 * 0.1  # stamped one step late by pyNN.nest + NEST (see the reproducer above)
    cases = (Case("late", (t, t + 20.0), (t - 6.0, t + 2.0), 0.5),
             Case("integer times", (600.0, 620.0), (594.0, 602.0), 0.5))
    protocol = Protocol("off-grid", "one late stamp", cases, rule=RULE_FOR_OFF_GRID, delay=1.0, timestep=0.1,
                        t_stop=800.0)
    (observation,) = NestBackend(spike_precision="off_grid").run([protocol])
    assert observation.provenance["late_pre_stamps"] == {"0": 1}
    late, on_grid = evaluate(observation).verdicts
    assert late.status is Status.KNOWN_DEFECT and late.defects == ["pynn-nest-off-grid-late-stamp"]
    assert late.error > 1e-5  # a real disagreement, not a rounding
    assert on_grid.status is Status.PASS and on_grid.error <= 1e-12


RULE_FOR_OFF_GRID = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), AdditiveWeightDependence(0.0, 1.0))


@pytest.mark.nest
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="pynn-nest-gutig-mu-dropped: pyNN.nest gives NEST mu_plus = mu_minus = 0.5")
def test_nest_gutig_weight_dependence_keeps_its_exponents():
    import nest
    import pyNN.nest as sim

    sim.setup(timestep=0.1, min_delay=1.0)
    try:
        pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[[10.0], [20.0]]))
        post = sim.Population(2, sim.IF_curr_exp())
        stdp = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
            weight_dependence=sim.GutigWeightDependence(w_min=0.0, w_max=1.0, mu_plus=0.3, mu_minus=0.7),
            weight=0.5, delay=1.0)
        sim.Projection(pre, post, sim.OneToOneConnector(), stdp)
        connections = nest.GetConnections(pre.node_collection, post.node_collection)
        mu_plus, mu_minus = connections.get("mu_plus"), connections.get("mu_minus")
    finally:
        sim.end()
        nest.ResetKernel()
    assert list(mu_plus) == [0.3, 0.3] and list(mu_minus) == [0.7, 0.7]
