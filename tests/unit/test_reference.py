"""Reference model against values written out by hand.

Every expected value below is derived in the test from the STDP equations and the
backend conventions (docs/architecture.md; lag s = t_post − t_pre as the synapse sees them):
  potentiation  +A_plus·scale·e^(−s/τ+)  for s > 0
  depression    −A_minus·scale·e^(s/τ−)  for s < 0
with scale = w_max (NEST, Brian2) or 1 (sPyNNaker).
"""

from dataclasses import replace
from math import exp

import numpy as np
import pytest

from stdp_validation import (
    AdditivePotentiationMultiplicativeDepression,
    CONVENTIONS,
    AdditiveWeightDependence,
    GutigWeightDependence,
    MultiplicativeWeightDependence,
    SpikeNearestPairRule,
    SpikePairRule,
    STDPRule,
    UnsupportedByBackend,
    predict_trajectory,
    predict_weights,
    stdp_window,
)

A_PLUS, A_MINUS, TAU = 0.01, 0.012, 20.0
W0 = 0.5
EXACT = 1e-15  # float64 round-off of a handful of additions


def additive(w_max=2.0, w_min=0.0, a_plus=A_PLUS, a_minus=A_MINUS, nearest=False):
    timing_class = SpikeNearestPairRule if nearest else SpikePairRule
    return STDPRule(
        timing=timing_class(tau_plus=TAU, tau_minus=TAU, A_plus=a_plus, A_minus=a_minus),
        weight=AdditiveWeightDependence(w_min=w_min, w_max=w_max),
    )


def predict(pre, post, rule, conventions, delay=1.0, w0=W0, t_stop=None):
    weights = predict_weights(pre, post, rule, delay=delay, initial_weight=w0, conventions=conventions, t_stop=t_stop)
    assert weights.shape == (1,)
    return weights[0]


# --- one pair on each side of zero, per convention --------------------------------------


def test_nest_causal_pair_is_scaled_by_w_max_and_uses_dendritic_delay():
    # pre 100, post 105, delay 1 (dendritic): s = 105 + 1 − 100 = 6. Trailing pre at 400 makes
    # the deferred potentiation visible and adds its own depression at s = 106 − 400 = −294.
    expected = W0 + 0.01 * 2 * exp(-6 / 20) - 0.012 * 2 * exp(-294 / 20)
    assert predict([100, 400], [105], additive(), "nest") == pytest.approx(expected, abs=EXACT)


def test_nest_anticausal_pair():
    # post 90, pre 100: s = 90 + 1 − 100 = −9, depression applied at the pre spike itself.
    expected = W0 - 0.012 * 2 * exp(-9 / 20)
    assert predict([100], [90], additive(), "nest") == pytest.approx(expected, abs=EXACT)


def test_brian2_causal_pair_uses_axonal_delay():
    # pre arrives at 100 + 1; s = 105 − 101 = 4; immediate, no trailing spike needed.
    expected = W0 + 0.01 * 2 * exp(-4 / 20)
    assert predict([100], [105], additive(), "brian2") == pytest.approx(expected, abs=EXACT)


def test_brian2_anticausal_pair():
    expected = W0 - 0.012 * 2 * exp(-11 / 20)  # s = 90 − 101
    assert predict([100], [90], additive(), "brian2") == pytest.approx(expected, abs=EXACT)


def test_spinnaker_amplitudes_are_absolute():
    # Same spikes as the NEST causal case, but Δw = A·kernel with no w_max factor.
    expected = W0 + 0.01 * exp(-6 / 20) - 0.012 * exp(-294 / 20)
    assert predict([100, 400], [105], additive(), "spinnaker") == pytest.approx(expected, abs=EXACT)


def test_spinnaker_anticausal_pair():
    expected = W0 - 0.012 * exp(-9 / 20)
    assert predict([100], [90], additive(), "spinnaker") == pytest.approx(expected, abs=EXACT)


# --- lag exactly 0 --------------------------------------------------------------------------


def test_nest_ignores_a_pair_at_lag_zero():
    # post 99 + delay 1 = pre 100: s = 0, the pair is dropped. Only the trailing pre's depression
    # (s = 100 − 400) remains.
    expected = W0 - 0.012 * 2 * exp(-300 / 20)
    assert predict([100, 400], [99], additive(), "nest") == pytest.approx(expected, abs=EXACT)


def test_brian2_counts_lag_zero_as_full_potentiation():
    # pre 100 arrives at 101 together with the post spike: s = 0 → +A_plus·w_max.
    assert predict([100], [101], additive(), "brian2") == pytest.approx(W0 + 0.01 * 2, abs=EXACT)


def test_spinnaker_counts_lag_zero_as_full_depression_only():
    # s = 0 at pre 100: full depression (e^0), no potentiation; trailing pre at 400 depresses
    # again at s = −300 and finds no earlier pre spike to potentiate with.
    expected = W0 - 0.012 - 0.012 * exp(-300 / 20)
    assert predict([100, 400], [99], additive(), "spinnaker") == pytest.approx(expected, abs=EXACT)


@pytest.mark.parametrize(
    "name, expected",
    [("nest", 0.0), ("brian2", 0.01 * 2), ("spinnaker", -0.012)],
)
def test_window_at_lag_zero(name, expected):
    assert stdp_window([0.0], additive(), name)[0] == pytest.approx(expected, abs=EXACT)


def test_window_curve_matches_the_kernel():
    lags = np.array([-30.0, -1.0, 1.0, 30.0])
    expected = [-0.024 * exp(-30 / 20), -0.024 * exp(-1 / 20), 0.02 * exp(-1 / 20), 0.02 * exp(-30 / 20)]
    np.testing.assert_allclose(stdp_window(lags, additive(), "nest"), expected, rtol=0, atol=EXACT)
    np.testing.assert_allclose(stdp_window(lags, additive(), "spinnaker"), np.array(expected) / 2, atol=EXACT)


# --- deferred vs immediate read-out, trailing presynaptic spike -------------------------------


@pytest.mark.parametrize("name", ["nest", "spinnaker"])
def test_deferred_backends_hide_potentiation_without_a_trailing_pre_spike(name):
    assert predict([100], [105], additive(), name) == W0


def test_immediate_backend_shows_potentiation_without_a_trailing_pre_spike():
    assert predict([100], [105], additive(), "brian2") == pytest.approx(W0 + 0.02 * exp(-4 / 20), abs=EXACT)


def test_t_stop_before_the_trailing_pre_spike_hides_its_update():
    rule = additive()
    assert predict([100, 400], [105], rule, "nest", t_stop=399.0) == W0
    # NEST processes a pre spike emitted exactly at t_stop.
    expected = W0 + 0.02 * exp(-6 / 20) - 0.024 * exp(-294 / 20)
    assert predict([100, 400], [105], rule, "nest", t_stop=400.0) == pytest.approx(expected, abs=EXACT)


def test_brian2_does_not_process_an_arrival_at_t_stop():
    # pre 100 arrives at 101 = t_stop: Brian2 simulates steps t < t_stop only.
    assert predict([100], [90], additive(), "brian2", t_stop=101.0) == W0
    assert predict([100], [90], additive(), "brian2", t_stop=101.1) == pytest.approx(
        W0 - 0.024 * exp(-11 / 20), abs=EXACT
    )


def test_trajectory_shows_when_deferred_potentiation_becomes_visible():
    (nest,) = predict_trajectory([100, 400], [105], additive(), delay=1.0, initial_weight=W0, conventions="nest")
    np.testing.assert_array_equal(nest.times, [400.0, 400.0])
    np.testing.assert_array_equal(nest.kinds, [1, -1])
    assert nest.weights[0] == pytest.approx(W0 + 0.02 * exp(-6 / 20), abs=EXACT)
    (brian,) = predict_trajectory([100, 400], [105], additive(), delay=1.0, initial_weight=W0, conventions="brian2")
    np.testing.assert_array_equal(brian.times, [105.0, 401.0])
    assert brian.weights[0] == pytest.approx(W0 + 0.02 * exp(-4 / 20), abs=EXACT)


# --- pairing schemes -------------------------------------------------------------------------

TWO_PRE_ONE_POST = dict(pre=[10.0, 20.0, 40.0], post=[25.0])  # post seen at 26 (delay 1)
ONE_PRE_TWO_POST = dict(pre=[10.0, 60.0], post=[14.0, 19.0])  # posts seen at 15 and 20


@pytest.mark.parametrize(
    "name, potentiation",
    [
        ("nest", 0.01 * (exp(-16 / 20) + exp(-6 / 20))),  # all-to-all: both pre spikes
    ],
)
def test_two_pre_then_one_post_all_to_all(name, potentiation):
    rule = additive(w_max=1.0)
    expected = W0 + potentiation - 0.012 * exp(-14 / 20)  # pre 40 depresses with post at 26
    assert predict(**TWO_PRE_ONE_POST, rule=rule, conventions=name) == pytest.approx(expected, abs=EXACT)


@pytest.mark.parametrize(
    "name, potentiation",
    [
        ("nest_nn_symm", 0.01 * exp(-6 / 20)),  # nearest preceding pre only
        ("nest_nn_pre_centered", 0.01 * (exp(-16 / 20) + exp(-6 / 20))),  # all pre since last post
        ("nest_nn_restr", 0.01 * exp(-6 / 20)),
        ("spinnaker", 0.01 * exp(-6 / 20)),
    ],
)
def test_two_pre_then_one_post_nearest_schemes(name, potentiation):
    rule = additive(w_max=1.0, nearest=True)
    expected = W0 + potentiation - 0.012 * exp(-14 / 20)
    assert predict(**TWO_PRE_ONE_POST, rule=rule, conventions=name) == pytest.approx(expected, abs=EXACT)


@pytest.mark.parametrize(
    "name, nearest, potentiation, depression",
    [
        ("nest", False, exp(-5 / 20) + exp(-10 / 20), exp(-45 / 20) + exp(-40 / 20)),
        ("nest_nn_symm", True, exp(-5 / 20) + exp(-10 / 20), exp(-40 / 20)),
        ("nest_nn_pre_centered", True, exp(-5 / 20), exp(-40 / 20)),
        ("nest_nn_restr", True, exp(-5 / 20), exp(-40 / 20)),
        ("spinnaker", True, exp(-5 / 20), exp(-40 / 20)),
    ],
)
def test_one_pre_then_two_posts(name, nearest, potentiation, depression):
    rule = additive(w_max=1.0, nearest=nearest)
    expected = W0 + 0.01 * potentiation - 0.012 * depression
    assert predict(**ONE_PRE_TWO_POST, rule=rule, conventions=name) == pytest.approx(expected, abs=EXACT)


def test_spinnaker_nearest_first_post_check_uses_the_undelayed_post_time():
    # delay 2: pre 10; posts at 9 and 15 are seen at 11 and 17. The previous post (9, undelayed)
    # is not later than the pre spike (10), so the second post potentiates too on sPyNNaker;
    # the restricted scheme (delayed times) potentiates only the first.
    rule = additive(w_max=1.0, nearest=True)
    spinnaker = W0 + 0.01 * (exp(-1 / 20) + exp(-7 / 20)) - 0.012 * exp(-43 / 20)
    restricted = W0 + 0.01 * exp(-1 / 20) - 0.012 * exp(-43 / 20)
    assert predict([10, 60], [9, 15], rule, "spinnaker", delay=2.0) == pytest.approx(spinnaker, abs=EXACT)
    assert predict([10, 60], [9, 15], rule, "nest_nn_restr", delay=2.0) == pytest.approx(restricted, abs=EXACT)


@pytest.mark.parametrize(
    "name, phantom",
    [("nest", False), ("nest_nn_symm", True), ("nest_nn_pre_centered", False), ("nest_nn_restr", True), ("spinnaker", True)],
)
def test_phantom_presynaptic_spike_at_zero(name, phantom):
    # A post spike at 5 (seen at 6) before the first pre spike at 30: nearest schemes whose
    # last-pre time starts at 0 potentiate it as if a pre spike occurred at 0.
    rule = additive(w_max=1.0, nearest=name != "nest")
    expected = W0 - 0.012 * exp(-24 / 20) + (0.01 * exp(-6 / 20) if phantom else 0.0)
    assert predict([30], [5], rule, name) == pytest.approx(expected, abs=EXACT)


def test_nest_restricted_gate_counts_a_coincident_post():
    # NEST stdp_nn_restr_synapse example: pre {30, 50, 200}, post {10, 49}, delay 1 (posts seen at 11, 50).
    # pre 30: phantom-0 potentiation of post 11, depression with post 11.
    # pre 50: post at 50 is coincident (ignored as a partner) but opens NEST's gate, so pre 50
    #         depresses with the nearest strictly earlier post (11); post 50 potentiates with pre 30.
    # pre 200: no post in (50, 200] → nothing.
    rule = additive(w_max=1.0, nearest=True)
    strict = W0 + 0.01 * exp(-11 / 20) - 0.012 * exp(-19 / 20) + 0.01 * exp(-20 / 20)
    nest = strict - 0.012 * exp(-39 / 20)
    assert predict([30, 50, 200], [10, 49], rule, "nest_nn_restr") == pytest.approx(nest, abs=EXACT)
    strict_conventions = replace(CONVENTIONS["nest_nn_restr"], restricted_gate_includes_coincident_post=False)
    assert predict([30, 50, 200], [10, 49], rule, strict_conventions) == pytest.approx(strict, abs=EXACT)


# --- clipping ---------------------------------------------------------------------------------


def test_deferred_update_clips_potentiation_before_depression():
    # NEST, w_max 1: pre 100, post 101 (seen at 102), pre 103. At pre 103 the potentiation
    # 0.95 + 0.1·e^(−2/20) = 1.040 is clipped to 1 first, then depression 0.05·e^(−1/20).
    rule = additive(w_max=1.0, a_plus=0.1, a_minus=0.05)
    expected = 1.0 - 0.05 * exp(-1 / 20)
    assert predict([100, 103], [101], rule, "nest", w0=0.95) == pytest.approx(expected, abs=EXACT)
    unclipped = 0.95 + 0.1 * exp(-2 / 20) - 0.05 * exp(-1 / 20)
    assert abs(expected - unclipped) > 0.04


def test_immediate_update_clips_at_w_min_before_later_potentiation():
    # Brian2 (w_min 0.2 allowed): post 50, pre 52 arriving at 53 → s = −3, the weight
    # 0.22 − 0.05·e^(−3/20) = 0.177 is clipped to 0.2; post 60 then adds 0.1·e^(−7/20).
    rule = additive(w_max=1.0, w_min=0.2, a_plus=0.1, a_minus=0.05)
    expected = 0.2 + 0.1 * exp(-7 / 20)
    assert predict([52], [50, 60], rule, "brian2", w0=0.22) == pytest.approx(expected, abs=EXACT)


def test_clipping_at_w_max_and_w_min_on_every_backend():
    rule = additive(w_max=1.0, a_plus=5.0, a_minus=5.0)
    for name in ("nest", "brian2", "spinnaker"):
        assert predict([100, 130], [104], rule, name) in (0.0, 1.0)
        assert predict([100], [95], rule, name) == 0.0


def test_multiplicative_rule_scales_with_distance_to_the_bounds():
    # NEST μ = 1: potentiation (w_max − w)·A_plus·K, depression (w − w_min)·A_minus·K.
    rule = STDPRule(SpikePairRule(TAU, TAU, 0.1, 0.2), MultiplicativeWeightDependence(0.0, 2.0))
    w1 = 0.5 + (2.0 - 0.5) * 0.1 * exp(-6 / 20)  # post 105 seen at 106 vs pre 100
    w2 = w1 - w1 * 0.2 * exp(-94 / 20)  # trailing pre 200
    assert predict([100, 200], [105], rule, "nest") == pytest.approx(w2, abs=EXACT)


def test_additive_potentiation_multiplicative_depression():
    # NEST μ+ = 0, μ− = 1 (stdp_synapse.h facilitate/depress): potentiation A_plus·w_max·K,
    # depression (w − w_min)·A_minus·K; pyNN.brian2 would run the additive rule instead.
    rule = STDPRule(SpikePairRule(TAU, TAU, 0.1, 0.2), AdditivePotentiationMultiplicativeDepression(0.0, 2.0))
    w1 = 0.5 + 0.1 * 2.0 * exp(-6 / 20)  # post 105 seen at 106 vs pre 100: additive, × w_max
    w2 = w1 - w1 * 0.2 * exp(-94 / 20)  # trailing pre 200: multiplicative depression
    assert predict([100, 200], [105], rule, "nest") == pytest.approx(w2, abs=EXACT)
    # the window: Δw+ as the additive rule, Δw− as the multiplicative rule at w0
    (plus, minus) = stdp_window([10.0, -10.0], rule, "nest", initial_weight=0.5)
    assert plus == pytest.approx(0.1 * 2.0 * exp(-10 / 20), abs=EXACT)
    assert minus == pytest.approx(-0.2 * 0.5 * exp(-10 / 20), abs=EXACT)
    assert rule.label == "pair-addpot-muldep" and not rule.is_multiplicative and rule.depression_multiplicative


def test_gutig_rule_scales_with_a_power_of_the_distance_to_the_bounds():
    # NEST stdp_synapse with mu_plus 0.3, mu_minus 0.7, Wmax = S = w_max − w_min = 2 (w_min 0):
    # w + A+·S·((w_max − w)/S)^μ+·K, then w − A−·S·(w/S)^μ−·K.
    rule = STDPRule(SpikePairRule(TAU, TAU, 0.1, 0.2), GutigWeightDependence(0.0, 2.0, mu_plus=0.3, mu_minus=0.7))
    w1 = 0.5 + 0.1 * 2.0 * ((2.0 - 0.5) / 2.0) ** 0.3 * exp(-6 / 20)
    w2 = w1 - 0.2 * 2.0 * (w1 / 2.0) ** 0.7 * exp(-94 / 20)
    assert predict([100, 200], [105], rule, "nest") == pytest.approx(w2, abs=EXACT)
    # μ = 0 is the additive rule and μ = 1 the multiplicative one, on any trains
    pre, post = [100, 130, 200, 260], [105, 128, 150, 255]
    for mu, same in ((0.0, AdditiveWeightDependence), (1.0, MultiplicativeWeightDependence)):
        gutig = STDPRule(SpikePairRule(TAU, TAU, 0.1, 0.2), GutigWeightDependence(0.0, 2.0, mu, mu))
        other = STDPRule(SpikePairRule(TAU, TAU, 0.1, 0.2), same(0.0, 2.0))
        assert predict(pre, post, gutig, "nest") == pytest.approx(predict(pre, post, other, "nest"), abs=1e-14)
    (plus,) = stdp_window([10.0], rule, "nest", initial_weight=0.5)
    assert plus == pytest.approx(0.1 * 2.0 * (1.5 / 2.0) ** 0.3 * exp(-10 / 20), abs=EXACT)


def test_spinnaker_has_no_mixed_weight_dependence():
    rule = STDPRule(SpikePairRule(), AdditivePotentiationMultiplicativeDepression(0.0, 1.0))
    with pytest.raises(UnsupportedByBackend, match="AdditivePotentiationMultiplicativeDepression is not supported"):
        predict([100], [105], rule, "spinnaker")


def test_spinnaker_multiplicative_does_not_clip():
    # A_plus·K > 1 overshoots w_max on sPyNNaker (no clip), NEST clips at w_max.
    rule = STDPRule(SpikePairRule(TAU, TAU, 1.5, 0.0), MultiplicativeWeightDependence(0.0, 1.0))
    overshoot = 0.5 + (1.0 - 0.5) * 1.5 * exp(-1 / 20)
    assert predict([100, 200], [100], rule, "spinnaker") == pytest.approx(overshoot, abs=EXACT)
    assert predict([100, 200], [100], rule, "nest") == 1.0


# --- closed form and NEST-style edge trains ---------------------------------------------------


def closed_form(pre, post, rule, delay, w0, fraction, scale, zero_lag, deferred):
    """w0 + the sum of the kernel over all pairs (additive, no clipping), written out."""
    t = rule.timing
    pre_seen = [p + (1 - fraction) * delay for p in pre]
    post_seen = [q + fraction * delay for q in post]
    last_pre = max(pre_seen)
    total = 0.0
    for tp in pre_seen:
        for tq in post_seen:
            s = tq - tp
            if abs(s) < 1e-9:
                if zero_lag == "potentiation" and not (deferred and tq > last_pre):
                    total += scale * t.A_plus
                elif zero_lag == "depression":
                    total -= scale * t.A_minus
            elif s > 0:
                if not (deferred and tq > last_pre):
                    total += scale * t.A_plus * exp(-s / t.tau_plus)
            else:
                total -= scale * t.A_minus * exp(s / t.tau_minus)
    return w0 + total


@pytest.mark.parametrize("name", ["nest", "brian2", "spinnaker"])
def test_random_trains_equal_the_sum_over_all_pairs(name):
    rng = np.random.default_rng(12)
    conventions = CONVENTIONS[name]
    rule = STDPRule(SpikePairRule(16.8, 33.7, 0.001, 0.00085), AdditiveWeightDependence(0.0, 10.0))
    pre = [np.sort(rng.uniform(0, 1000, 40)) for _ in range(5)]
    post = [np.sort(rng.uniform(0, 1000, 40)) for _ in range(5)]
    got = predict_weights(pre, post, rule, delay=1.5, initial_weight=5.0, conventions=name)
    scale = 10.0 if conventions.amplitude_scaling == "w_max" else 1.0
    expected = [
        closed_form(p, q, rule, 1.5, 5.0, conventions.dendritic_delay_fraction, scale, conventions.zero_lag,
                    conventions.update_timing == "deferred")
        for p, q in zip(pre, post)
    ]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["nest", "brian2", "spinnaker"])
@pytest.mark.parametrize("delay", [1.0, 0.5])
def test_nest_style_edge_trains_with_coincident_spikes(name, delay):
    # As NEST's test_stdp_synapse: posts exactly one delay before pre spikes (lag 0 on
    # dendritic-delay backends), posts exactly one delay after (lag 0 on Brian2), bursts.
    pre = [10.0, 20.0, 30.0, 31.0, 32.0, 60.0]
    post = [10.0 - delay, 20.0 + delay, 25.0, 30.0 - delay, 31.0 + delay, 40.0, 41.0, 42.0]
    post = sorted(set(post))
    conventions = CONVENTIONS[name]
    rule = STDPRule(SpikePairRule(16.8, 33.7, 0.001, 0.00085), AdditiveWeightDependence(0.0, 10.0))
    scale = 10.0 if conventions.amplitude_scaling == "w_max" else 1.0
    expected = closed_form(pre, post, rule, delay, 5.0, conventions.dendritic_delay_fraction, scale,
                           conventions.zero_lag, conventions.update_timing == "deferred")
    assert predict(pre, post, rule, name, delay=delay, w0=5.0) == pytest.approx(expected, abs=1e-13)


# --- batching -----------------------------------------------------------------------------


def test_single_synapse_and_batch_shapes():
    rule = additive()
    single = predict_weights([100, 400], [105], rule, delay=1, initial_weight=W0, conventions="nest")
    batch = predict_weights([[100, 400], [100]], [[105], []], rule, delay=[1, 1], initial_weight=[W0, 0.7],
                            conventions="nest")
    assert single.shape == (1,) and batch.shape == (2,)
    assert batch[0] == single[0] and batch[1] == 0.7


def test_empty_trains_leave_the_weight_unchanged():
    assert predict([], [], additive(), "brian2") == W0
    assert predict([10.0], [], additive(), "nest") == W0
    assert predict([], [10.0], additive(), "brian2") == W0


# --- spike multiplicity: a repeated time is several spikes, each its own event ---------------


def test_two_pre_spikes_at_one_time_potentiate_twice_on_nest():
    # pre 10, 10 (two spikes in one step), post 25 seen at 26 (dendritic delay 1), trailing
    # pre 40: the post pairs with both pre spikes (trace 2 at t = 10), applied at pre 40, which
    # then depresses with the post at lag 26 − 40 = −14. The two pre spikes at 10 have no post
    # before them. w_max = 1.
    expected = W0 + 0.01 * 2 * exp(-16 / 20) - 0.012 * exp(-14 / 20)
    assert predict([10.0, 10.0, 40.0], [25.0], additive(w_max=1.0), "nest") == pytest.approx(expected, abs=EXACT)


def test_two_pre_spikes_at_one_time_depress_twice_on_brian2():
    # post 10, pre 30, 30 arriving at 31 (axonal delay 1): each arrival depresses at lag −21.
    expected = W0 - 2 * 0.012 * exp(-21 / 20)
    assert predict([30.0, 30.0], [10.0], additive(w_max=1.0), "brian2") == pytest.approx(expected, abs=EXACT)


def test_repeated_spikes_are_clipped_one_by_one():
    # Brian2, w0 = 0.015, w_max 1: post 10; pre 11, 11 arrive at 12 (axonal delay 1) and each
    # depresses by 0.012·e^(−2/20) = 0.01086: 0.00414, then below 0, clipped to 0. Post 15 then
    # pairs with both arrivals: + 2·0.01·e^(−3/20). Clipping only after both depressions would
    # give the same 0 here, so the later potentiation starts from 0 either way; what matters is
    # that the second depression is not lost: one depression only would leave 0.00414 + ....
    depression = 0.012 * exp(-2 / 20)
    assert 0.015 - depression > 0 > 0.015 - 2 * depression
    expected = 0.0 + 2 * 0.01 * exp(-3 / 20)
    observed = predict([11.0, 11.0], [10.0, 15.0], additive(w_max=1.0), "brian2", w0=0.015)
    assert observed == pytest.approx(expected, abs=EXACT)


def test_timestep_grid_rounds_presynaptic_times_up_on_nest():
    # NEST uses the grid stamp of an off-grid pre spike (rounded up): 100.04 → 100.1 at dt 0.1.
    conventions = CONVENTIONS["nest"].with_timestep(0.1)
    rule = additive()
    on_grid = predict([100.1, 400.0], [105.0], rule, "nest")
    assert predict([100.04, 400.0], [105.0], rule, conventions) == pytest.approx(on_grid, abs=EXACT)


def test_spinnaker_lookup_table_cuts_decay_to_zero():
    # τ = 20 ms at dt = 1 ms: the table has 2·ceil(ln(2048)·20/2) = 154 entries, so a pair
    # 153 ms apart still depresses and one 154 ms apart does not.
    conventions = CONVENTIONS["spinnaker"].with_timestep(1.0)
    rule = additive()
    near = predict([100 + 153 + 1], [100], rule, conventions)
    far = predict([100 + 154 + 1], [100], rule, conventions)
    assert near == pytest.approx(W0 - 0.012 * exp(-153 / 20), abs=EXACT)
    assert far == W0


def test_spinnaker_history_keeps_only_the_15_newest_post_spikes():
    # 20 post spikes between pre 0.5 and pre 100: only the 15 newest are still remembered
    # when pre 100 applies their potentiation. The pre trace at pre 0.5 is 1 (one spike);
    # delay 1: post k·4 ms is seen at 4k + 1.
    rule = additive(w_max=1.0, a_minus=0.0)
    post = [4.0 * k for k in range(1, 21)]
    kept = sum(0.01 * exp(-(q + 1 - 0.5) / 20) for q in post[-15:])
    assert predict([0.5, 100.0], post, rule, "spinnaker") == pytest.approx(W0 + kept, abs=EXACT)
    everything = sum(0.01 * exp(-(q + 1 - 0.5) / 20) for q in post)
    unlimited = replace(CONVENTIONS["spinnaker"], post_history_limit=None)
    assert predict([0.5, 100.0], post, rule, unlimited) == pytest.approx(W0 + everything, abs=EXACT)


def test_spinnaker_nearest_oldest_remembered_post_pairs_as_if_first_after_overflow():
    # Nearest rule, 20 posts at 4k ms (seen at 4k + 1) between pre 0.5 and pre 100. Without a
    # history limit only the first post (4 ms) pairs with pre 0.5. With sPyNNaker's 15 slots the
    # posts 4…20 ms are shifted out; the oldest remembered one (24 ms) lost its predecessor, so
    # the placeholder at time 0 stands in and it pairs with pre 0.5 as if it were first.
    rule = additive(w_max=1.0, a_minus=0.0, nearest=True)
    post = [4.0 * k for k in range(1, 21)]
    assert predict([0.5, 100.0], post, rule, "spinnaker") == pytest.approx(W0 + 0.01 * exp(-24.5 / 20), abs=EXACT)
    unlimited = replace(CONVENTIONS["spinnaker"], post_history_limit=None)
    assert predict([0.5, 100.0], post, rule, unlimited) == pytest.approx(W0 + 0.01 * exp(-4.5 / 20), abs=EXACT)


@pytest.mark.parametrize("tau", [1.0, 16.8, 20.0, 33.7, 100.0])
@pytest.mark.parametrize("timestep", [0.1, 1.0])
def test_cut_off_equals_the_fixed_point_lookup_table_length(tau, timestep):
    from stdp_validation.conventions import exponential_table_length
    from stdp_validation.fixedpoint import exp_lut

    assert exponential_table_length(tau, timestep) == len(exp_lut(tau, timestep))


def test_one_train_on_one_side_and_a_list_of_one_train_on_the_other_is_one_synapse():
    rule = additive()
    expected = predict([100, 400], [105], rule, "nest")
    assert predict_weights([100, 400], [[105]], rule, delay=1.0, initial_weight=W0, conventions="nest")[0] == expected
    assert predict_weights([[100, 400]], [105], rule, delay=1.0, initial_weight=W0, conventions="nest")[0] == expected


def test_ragged_batches_are_split_so_memory_follows_the_spike_count():
    # One synapse with 20,000 + 20,000 spikes among 2,000 one-spike synapses: padding them all
    # to the longest train would need GBs; each synapse's result is the same as alone.
    rng = np.random.default_rng(3)
    long_pre, long_post = np.sort(rng.uniform(0, 1e5, 20000)), np.sort(rng.uniform(0, 1e5, 20000))
    pre = [long_pre] + [np.array([10.0])] * 1999
    post = [long_post] + [np.array([15.0])] * 1999
    rule = additive(w_max=1.0)
    weights = predict_weights(pre, post, rule, delay=1.0, initial_weight=W0, conventions="brian2")
    assert weights[0] == predict(long_pre, long_post, rule, "brian2")
    assert np.all(weights[1:] == predict([10.0], [15.0], rule, "brian2"))


def test_nest_windows_start_after_time_zero():
    # Restricted scheme, delay 0: the post at 0 lies in no window (t_last, t_pre] = (0, 41], so the
    # post at 22 is the first of the window and pairs with the phantom pre at 0; pre 41 depresses
    # with the nearest post (28). 0.5 + 0.3·e^(−22/10) − 0.2·e^(−13/20).
    rule = STDPRule(SpikeNearestPairRule(10.0, 20.0, 0.3, 0.2), AdditiveWeightDependence(0.0, 1.0))
    got = predict_weights([41.0], [0.0, 22.0, 28.0, 58.0], rule, delay=0.0, initial_weight=0.5,
                          conventions="nest_nn_restr")[0]
    assert got == pytest.approx(0.5 + 0.3 * exp(-2.2) - 0.2 * exp(-0.65), abs=EXACT)
