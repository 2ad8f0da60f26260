"""The vectorised reference against an independent per-event loop (tests/support/event_loop.py).

``predict_weights`` / ``predict_trajectory`` (all synapses at once, index arithmetic) must give
the same final weight — and the same sequence of applied updates — as a straightforward
NEST-``send()``-style walk over each synapse's events, for every backend convention, both
timing rules and both weight dependences.

Spike times mix a 1 ms grid (so lag 0, lag = ±delay and pre/post coincidences are frequent)
with "continuous" times on a 0.1 µs grid. The 0.1 µs grid is far coarser than the 1 ns
coincidence tolerance, so two times are simultaneous only when they are meant to be (times
closer than the tolerance are tested on their own in the last section).

The last section holds the cases where the first vectorised model disagreed with the backend
fact sheets (the project's shared research notes), now regression tests, and the one deliberate
difference: where a backend leaves the bounds with negative amplitudes (stdp_validation/defects.py)
the reference predicts the intended PyNN semantics and the backend's behaviour is a known defect.
"""

from dataclasses import replace
from math import exp

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stdp_validation import (
    CONVENTIONS,
    AdditiveWeightDependence,
    MultiplicativeWeightDependence,
    SpikeNearestPairRule,
    SpikePairRule,
    STDPRule,
    exponential_table_length,
    predict_trajectory,
    predict_weights,
)
from stdp_validation.conventions import (
    AMPLITUDE_SCALINGS,
    NEAREST_SCHEMES,
    SIMULTANEOUS_ORDERS,
    TIME_ROUNDINGS,
    UPDATE_TIMINGS,
    ZERO_LAG_RULES,
    Conventions,
)
from stdp_validation.results import Execution
from support.event_loop import event_loop_batch, event_loop_batch_results, event_loop_weights

TOLERANCE = 1e-12
FINE = 10_000  # "continuous" times: multiples of 1e-4 ms

COMBINATIONS = [
    pytest.param(name, timing, weight, id=f"{name}-{timing.__name__}-{weight.__name__}")
    for name in CONVENTIONS
    for timing in (SpikePairRule, SpikeNearestPairRule)
    for weight in (AdditiveWeightDependence, MultiplicativeWeightDependence)
    if not (timing is SpikeNearestPairRule and CONVENTIONS[name].nearest_scheme is None)
]


# ---------------------------------------------------------------------------------------------
# Strategies


def fine_times(max_ms):
    return st.integers(0, int(max_ms * FINE)).map(lambda k: k / FINE)


def _time(mode, k):
    # Two chances in three for the 1 ms grid, so that coincidences are common.
    return float(k // FINE) if mode < 2 else k / FINE


def spike_times(max_ms=30, max_size=14, min_size=0):
    atom = st.builds(_time, st.integers(0, 2), st.integers(0, max_ms * FINE))
    return st.lists(atom, min_size=min_size, max_size=max_size).map(lambda times: sorted(set(times)))


delays = st.one_of(st.sampled_from([0.0, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0]), fine_times(5))
stop_times = st.one_of(st.none(), st.integers(0, 35).map(float), fine_times(35))
# Small amplitudes (bounds rarely reached, every update visible) and large ones (clipping after
# single updates); negative amplitudes are reverse STDP.
amplitudes = st.one_of(st.floats(0.0, 0.05), st.floats(-0.1, 0.5))


@st.composite
def rules(draw, conventions, timing_class, weight_class, taus=st.floats(2.0, 40.0)):
    w_max = draw(st.sampled_from([0.5, 1.0, 2.0]))
    w_min = draw(st.sampled_from([0.0, 0.1, -0.5])) if conventions.supports_nonzero_w_min else 0.0
    timing = timing_class(draw(taus), draw(taus), draw(amplitudes), draw(amplitudes))
    return STDPRule(timing=timing, weight=weight_class(w_min=w_min, w_max=w_max))


def initial_weights(rule):
    low, high = rule.weight.w_min, rule.weight.w_max
    fraction = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))
    return fraction.map(lambda u: min(high, max(low, low + u * (high - low))))


@st.composite
def problems(draw, conventions, timing_class, weight_class, trains=None, n_max=5, taus=st.floats(2.0, 40.0)):
    """(pre trains, post trains, rule, delays, initial weights, t_stop) for a small batch."""
    rule = draw(rules(conventions, timing_class, weight_class, taus))
    n = draw(st.integers(1, n_max))
    if trains is None:
        trains = st.tuples(spike_times(), spike_times())
    pairs = [draw(trains) for _ in range(n)]
    synapse_delays = [draw(delays) for _ in range(n)]
    # End the run exactly on an event now and then (emission or emission + delay).
    event_times = sorted({t + shift for (p, q), d in zip(pairs, synapse_delays) for t in p + q for shift in (0.0, d)})
    on_event = st.sampled_from(event_times) if event_times else st.none()
    return (
        [p for p, _ in pairs],
        [q for _, q in pairs],
        rule,
        synapse_delays,
        [draw(initial_weights(rule)) for _ in range(n)],
        draw(st.one_of(stop_times, on_event)),
    )


# ---------------------------------------------------------------------------------------------
# The comparison


def assert_reference_matches_event_loop(problem, conventions):
    pre, post, rule, delay, w0, t_stop = problem
    kwargs = dict(delay=delay, initial_weight=w0, conventions=conventions, t_stop=t_stop)
    weights = predict_weights(pre, post, rule, **kwargs)
    trajectories = predict_trajectory(pre, post, rule, **kwargs)
    loop_weights = event_loop_batch(pre, post, rule, **kwargs)
    loop = event_loop_batch_results(pre, post, rule, **kwargs)
    assert weights.shape == loop_weights.shape == (len(pre),)
    for k, (weight, trajectory, result) in enumerate(zip(weights, trajectories, loop)):
        context = (
            f"synapse {k}: pre={pre[k]} post={post[k]} delay={delay[k]} w0={w0[k]} t_stop={t_stop} "
            f"rule={rule} conventions={getattr(conventions, 'name', conventions)}"
        )
        # Without clipping (sPyNNaker multiplicative) a weight can overshoot far beyond the
        # bounds; compare relative to the largest magnitude it reached.
        scale = max([1.0, abs(w0[k])] + [abs(w) for w in result.weights])
        assert abs(weight - loop_weights[k]) <= TOLERANCE * scale, f"{context}: {weight!r} != {loop_weights[k]!r}"
        assert len(trajectory) == result.n_updates, f"{context}: {trajectory} vs {result}"
        assert trajectory.kinds.tolist() == result.kinds, context
        np.testing.assert_allclose(trajectory.times, result.times, rtol=0, atol=1e-9, err_msg=context)
        np.testing.assert_allclose(trajectory.weights, result.weights, rtol=0, atol=TOLERANCE * scale, err_msg=context)
        if len(trajectory):
            assert trajectory.weights[-1] == weight, context


# ---------------------------------------------------------------------------------------------
# Property tests


@pytest.mark.parametrize("name, timing_class, weight_class", COMBINATIONS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_predict_weights_equals_event_loop(name, timing_class, weight_class, data):
    conventions = CONVENTIONS[name]
    problem = data.draw(problems(conventions, timing_class, weight_class))
    assert_reference_matches_event_loop(problem, name)


@pytest.mark.parametrize("name", list(CONVENTIONS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_timestep_grid_and_exponential_table_cut_off(name, data):
    # Long intervals and short time constants: lags beyond the sPyNNaker table (ln(2048)·τ/dt
    # ticks, rounded up to even) decay to exactly 0; off-grid presynaptic times are rounded.
    step = data.draw(st.sampled_from([0.1, 0.5, 1.0]))
    conventions = CONVENTIONS[name].with_timestep(step)
    if name == "brian2":
        timing_class = SpikePairRule
    else:
        timing_class = data.draw(st.sampled_from([SpikePairRule, SpikeNearestPairRule]))
    weight_class = data.draw(st.sampled_from([AdditiveWeightDependence, MultiplicativeWeightDependence]))
    long_trains = st.tuples(spike_times(300, max_size=10), spike_times(300, max_size=10))
    problem = data.draw(
        problems(conventions, timing_class, weight_class, trains=long_trains, taus=st.floats(0.5, 10.0))
    )
    pre, post, rule, delay, w0, _ = problem
    problem = (pre, post, rule, delay, w0, data.draw(st.one_of(st.none(), st.integers(0, 310).map(float))))
    assert_reference_matches_event_loop(problem, conventions)


@st.composite
def dense_post_trains(draw):
    """Few pre spikes, and a block of more than 15 post spikes between two of them."""
    start = draw(st.integers(0, 100))
    count = draw(st.integers(16, 40))
    spacing = draw(st.sampled_from([0.5, 1.0, 2.0]))
    block = [start + i * spacing for i in range(count)]
    extra = draw(spike_times(200, max_size=10))
    post = sorted(set(block + extra))
    pre = draw(spike_times(200, max_size=4))
    trailing = block[-1] + draw(st.sampled_from([0.0, 0.5, 1.0, 3.0, 10.0]))
    return sorted(set(pre + [float(trailing)])), post


HISTORY_CONVENTIONS = [
    CONVENTIONS["spinnaker"],
    replace(CONVENTIONS["spinnaker"], name="spinnaker_limit_3", post_history_limit=3),
    replace(CONVENTIONS["spinnaker"], name="spinnaker_limit_1", post_history_limit=1),
    replace(CONVENTIONS["nest"], name="nest_limit_15", post_history_limit=15),
    replace(CONVENTIONS["nest_nn_restr"], name="nest_nn_restr_limit_2", post_history_limit=2),
    replace(CONVENTIONS["nest_nn_pre_centered"], name="nest_nn_pre_centered_limit_4", post_history_limit=4),
]


@pytest.mark.parametrize("conventions", HISTORY_CONVENTIONS, ids=lambda c: c.name)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_post_history_limit_with_more_than_15_posts_between_pres(conventions, data):
    timing_class = data.draw(st.sampled_from([SpikePairRule, SpikeNearestPairRule]))
    weight_class = data.draw(st.sampled_from([AdditiveWeightDependence, MultiplicativeWeightDependence]))
    problem = data.draw(problems(conventions, timing_class, weight_class, trains=dense_post_trains(), n_max=3))
    assert_reference_matches_event_loop(problem, conventions)


@st.composite
def random_conventions(draw):
    """Any combination of switches, including ones no backend declares."""
    return Conventions(
        name="random",
        amplitude_scaling=draw(st.sampled_from(AMPLITUDE_SCALINGS)),
        dendritic_delay_fraction=draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])),
        update_timing=draw(st.sampled_from(UPDATE_TIMINGS)),
        zero_lag=draw(st.sampled_from(ZERO_LAG_RULES)),
        simultaneous_order=draw(st.sampled_from(SIMULTANEOUS_ORDERS)),
        nearest_scheme=draw(st.sampled_from([s for s in NEAREST_SCHEMES if s is not None])),
        phantom_presynaptic_spike=draw(st.booleans()),
        restricted_gate_includes_coincident_post=draw(st.booleans()),
        clip_multiplicative=draw(st.booleans()),
        post_history_limit=draw(st.one_of(st.none(), st.integers(1, 5))),
        exponential_table=draw(st.booleans()),
        timestep=draw(st.sampled_from([None, 0.1, 0.5, 1.0])),
        presynaptic_rounding=draw(st.sampled_from(TIME_ROUNDINGS)),
        post_at_zero_potentiates=draw(st.booleans()),
        events_at_t_stop_processed=draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_combination_of_switches_matches_event_loop(data):
    conventions = data.draw(random_conventions())
    timing_class = data.draw(st.sampled_from([SpikePairRule, SpikeNearestPairRule]))
    weight_class = data.draw(st.sampled_from([AdditiveWeightDependence, MultiplicativeWeightDependence]))
    trains = st.tuples(spike_times(), spike_times(max_size=20))
    problem = data.draw(problems(conventions, timing_class, weight_class, trains=trains))
    assert_reference_matches_event_loop(problem, conventions)


# ---------------------------------------------------------------------------------------------
# Worked examples from the fact sheets, through both models

A_PLUS, A_MINUS, TAU, W0 = 0.01, 0.012, 20.0, 0.5


def additive_rule(nearest=False, w_max=1.0, a_plus=A_PLUS, a_minus=A_MINUS):
    timing = (SpikeNearestPairRule if nearest else SpikePairRule)(TAU, TAU, a_plus, a_minus)
    return STDPRule(timing, AdditiveWeightDependence(0.0, w_max))


def both_models(pre, post, rule, conventions, delay=1.0, w0=W0, t_stop=None):
    kwargs = dict(delay=delay, initial_weight=w0, conventions=conventions, t_stop=t_stop)
    return predict_weights(pre, post, rule, **kwargs)[0], event_loop_weights(pre, post, rule, **kwargs)


NEST_RESTR_STRICT = replace(
    CONVENTIONS["nest_nn_restr"], name="restricted_strict", restricted_gate_includes_coincident_post=False
)

FACT_SHEET_EXAMPLES = [
    # NEST/Brian2 §2 (1): phantom pre at 0 in nn_symm — post 5 (d = 1) before the first pre at
    # 30 is potentiated by +0.01·e^(−6/20) = +0.0074; pre 30 then depresses at lag −24.
    pytest.param(
        [30.0], [5.0], additive_rule(nearest=True), "nest_nn_symm",
        W0 + A_PLUS * exp(-6 / 20) - A_MINUS * exp(-24 / 20), id="nest-nn_symm-phantom-pre",
    ),
    # NEST/Brian2 §2 (2): nn_restr, pre {30, 50, 200}, post {10, 49}, d = 1: the gate includes
    # the lag-0 post at 50, the partner is post 10 (−0.0017). The strict scheme drops that term.
    pytest.param(
        [30.0, 50.0, 200.0], [10.0, 49.0], additive_rule(nearest=True), "nest_nn_restr",
        W0 + A_PLUS * exp(-11 / 20) - A_MINUS * exp(-19 / 20) + A_PLUS * exp(-20 / 20) - A_MINUS * exp(-39 / 20),
        id="nest-nn_restr-coincident-gate",
    ),
    pytest.param(
        [30.0, 50.0, 200.0], [10.0, 49.0], additive_rule(nearest=True), NEST_RESTR_STRICT,
        W0 + A_PLUS * exp(-11 / 20) - A_MINUS * exp(-19 / 20) + A_PLUS * exp(-20 / 20),
        id="restricted-strict-gate",
    ),
    # NEST §1.5: lag 0 is dropped; the post still pairs with the earlier pre (deferred to pre 30).
    pytest.param(
        [10.0, 30.0], [29.0], additive_rule(w_max=2.0), "nest",
        W0 + A_PLUS * 2 * exp(-20 / 20), id="nest-lag0-dropped",
    ),
    # Brian2 §3: s = 0 gives the full A_plus·w_max (+0.02 with w_max = 2), no trailing pre needed.
    pytest.param([100.0], [101.0], additive_rule(w_max=2.0), "brian2", W0 + 0.02, id="brian2-lag0-potentiation"),
    # sPyNNaker §6: a post at t_pre − d counts both ways: LTP against pre 10 and full e^0 LTD.
    pytest.param(
        [10.0, 30.0], [29.0], additive_rule(), "spinnaker",
        W0 + A_PLUS * exp(-20 / 20) - A_MINUS, id="spinnaker-lag0-both-ways",
    ),
    # sPyNNaker §6: 20 posts before one pre — only the 15 newest keep their potentiation.
    pytest.param(
        [0.0, 100.0], [float(t) for t in range(1, 21)], additive_rule(), "spinnaker",
        W0 + A_PLUS * sum(exp(-(t + 1) / 20) for t in range(6, 21))
        - A_MINUS * exp(-79 / 20) * sum(exp(-(20 - t) / 20) for t in range(1, 21)),
        id="spinnaker-15-post-history",
    ),
    # sPyNNaker §4 / §6 (post_events.h): pre 10, 100; 17 posts at 20..36 (d = 1). At pre 100 the
    # buffer holds 22..36; post 22's predecessor is the placeholder at 0 (<= 10), so it
    # potentiates at lag 22 + 1 − 10 = 13 although it is not the first post after pre 10.
    pytest.param(
        [10.0, 100.0], [float(t) for t in range(20, 37)], additive_rule(nearest=True), "spinnaker",
        W0 + A_PLUS * exp(-13 / 20) - A_MINUS * exp(-(100 - 37) / 20), id="spinnaker-nearest-history-overflow",
    ),
    # sPyNNaker §2 / §4: τ = 20, dt = 1 → 154-entry table; lag 153 ticks still decays, 154 is 0.
    pytest.param(
        [0.0, 400.0], [152.0], additive_rule(nearest=True), CONVENTIONS["spinnaker"].with_timestep(1.0),
        W0 + A_PLUS * exp(-153 / 20), id="spinnaker-table-last-entry",
    ),
    pytest.param(
        [0.0, 400.0], [153.0], additive_rule(nearest=True), CONVENTIONS["spinnaker"].with_timestep(1.0),
        W0, id="spinnaker-table-cut-off",
    ),
    # NEST §1.6: an off-grid pre at 100.04 ms is seen at its grid stamp 100.1 (dt = 0.1).
    pytest.param(
        [100.04], [90.0], additive_rule(), CONVENTIONS["nest"].with_timestep(0.1),
        W0 - A_MINUS * exp(-9.1 / 20), id="nest-pre-stamp-rounds-up",
    ),
]


@pytest.mark.parametrize("pre, post, rule, conventions, expected", FACT_SHEET_EXAMPLES)
def test_fact_sheet_examples(pre, post, rule, conventions, expected):
    reference, loop = both_models(pre, post, rule, conventions)
    assert loop == pytest.approx(expected, abs=1e-15)
    assert reference == pytest.approx(expected, abs=1e-15)


def test_exponential_table_length_matches_the_fact_sheet():
    # sPyNNaker §2: τ = 20, dt = 1 → 154 entries; dt = 0.1 → 1526; τ = 100 → 764.
    assert exponential_table_length(20.0, 1.0) == 154
    assert exponential_table_length(20.0, 0.1) == 1526
    assert exponential_table_length(100.0, 1.0) == 764


def test_event_loop_batch_equals_single_synapse_runs():
    rule = additive_rule()
    pre = [[10.0, 30.0], [], [5.0, 6.0, 40.0]]
    post = [[12.0], [3.0], [5.5, 39.0]]
    batch = event_loop_batch(pre, post, rule, delay=[1.0, 0.5, 2.0], initial_weight=0.3, conventions="nest")
    single = [
        event_loop_weights(p, q, rule, delay=d, initial_weight=0.3, conventions="nest")
        for p, q, d in zip(pre, post, [1.0, 0.5, 2.0])
    ]
    assert batch.tolist() == single


# ---------------------------------------------------------------------------------------------
# Cases where the first vectorised model disagreed with the fact sheets (now fixed), and one
# deliberate difference: the reference predicts PyNN's documented bounds, sPyNNaker does not.


def test_event_loop_treats_times_closer_than_the_tolerance_as_simultaneous():
    # NEST §1.5: |s| <= stdp_eps (1e-6 ms) drops the pair. Post 98.9999994 + d 1 is 6e-7 ms
    # before pre 100: dropped. Only the trailing pre at 400 depresses.
    loop = event_loop_weights([100.0, 400.0], [98.9999994], additive_rule(), delay=1.0, initial_weight=W0, conventions="nest")
    assert loop == pytest.approx(W0 - A_MINUS * exp(-(400 - 99.9999994) / 20), abs=1e-15)


def test_reference_treats_times_closer_than_the_tolerance_as_simultaneous():
    # Regression: the first model rounded times to cells of the tolerance, so 6e-7 ms apart
    # across a cell boundary counted as a real lag.
    reference = predict_weights(
        [100.0, 400.0], [98.9999994], additive_rule(), delay=1.0, initial_weight=W0, conventions="nest"
    )[0]
    assert reference == pytest.approx(W0 - A_MINUS * exp(-(400 - 99.9999994) / 20), abs=1e-12)


def test_spinnaker_negative_amplitude_is_a_known_defect_of_the_board():
    # sPyNNaker clips one-sided (min(w, w_max) after potentiation, max(w, w_min) after
    # depression; weight_additive_one_term_impl.h), so reverse STDP leaves [w_min, w_max] on the board: the fixed-point
    # model follows the board, the reference keeps PyNN's bounds, and the difference is reported
    # as the known defect, not hidden in a tolerance.
    from types import SimpleNamespace

    from stdp_validation.results.defects import defects_for
    from stdp_validation.fixedpoint import predict_fixed_point_weights

    rule = additive_rule(a_minus=-0.5)  # reverse STDP: "depression" raises the weight
    reference = predict_weights([10.0], [5.0], rule, delay=1.0, initial_weight=0.875, conventions="spinnaker")[0]
    board = predict_fixed_point_weights([10.0], [5.0], rule, delay=1.0, initial_weight=0.875, timestep=1.0,
                                        ring_buffer_shift=1)[0]
    assert reference == 1.0
    # lag 5 + 1 − 10 = −4: 0.875 + 0.5·e^(−4/20) > w_max, within the lookup table's 1/2048
    # resolution (× A) and two weight LSBs (2^(1−15)) of the float value.
    assert board == pytest.approx(0.875 + 0.5 * exp(-4 / 20), abs=0.5 / 2048 + 2 * 2.0**-14)
    observation = SimpleNamespace(backend="spinnaker", rule=rule, encoding=None, execution=Execution.BOARD)
    assert [d.id for d in defects_for(observation)] == ["spinnaker-negative-amplitude-bounds"]


@pytest.mark.parametrize("nearest, pre", [(True, [10.0]), (False, [0.0, 10.0])])
def test_spinnaker_post_spike_at_time_zero_never_potentiates(nearest, pre):
    # The window (t_last_pre − d, t_pre − d] is clamped at 0: a post at exactly 0 is never in it.
    reference = predict_weights(
        pre, [0.0], additive_rule(nearest=nearest), delay=1.0, initial_weight=W0, conventions="spinnaker"
    )[0]
    assert reference == pytest.approx(W0 - A_MINUS * exp(-9 / 20), abs=1e-12)  # only pre 10's LTD


def test_spinnaker_source_times_are_truncated_to_microseconds_before_rounding_up():
    # ceil(floor(t_ms·1000)/dt_µs) (spike_source_array_vertex.py): 10.0004 ms → 10000 µs → tick 10, not 11.
    conventions = CONVENTIONS["spinnaker"].with_timestep(1.0)
    reference = predict_weights(
        [10.0004, 50.0], [20.0], additive_rule(), delay=1.0, initial_weight=W0, conventions=conventions
    )[0]
    # pre seen at tick 10: lag 20 + 1 − 10 = 11; trailing pre 50 depresses at lag −29.
    assert reference == pytest.approx(W0 + A_PLUS * exp(-11 / 20) - A_MINUS * exp(-29 / 20), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Spike multiplicity: several spikes of one cell at one time (NEST's poisson_generator on the
# grid), each its own event


def spike_times_with_repeats(max_ms=30, max_size=14):
    """Sorted times on a 1 ms grid or finer where a time may repeat up to three times."""
    atom = st.tuples(st.builds(_time, st.integers(0, 2), st.integers(0, max_ms * FINE)), st.integers(1, 3))
    return st.lists(atom, max_size=max_size).map(lambda items: sorted(t for t, k in items for _ in range(k)))


@pytest.mark.parametrize("name, timing_class, weight_class", COMBINATIONS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_repeated_spike_times_are_separate_events_as_in_the_event_loop(name, timing_class, weight_class, data):
    trains = st.tuples(spike_times_with_repeats(), spike_times_with_repeats())
    problem = data.draw(problems(CONVENTIONS[name], timing_class, weight_class, trains=trains))
    assert_reference_matches_event_loop(problem, name)
