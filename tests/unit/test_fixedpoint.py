"""Bit-accurate sPyNNaker 1!7.4.1 integer model against integers worked out by hand.

Conventions used in the hand computations (sPyNNaker 1!7.4.1: synapse_dynamics_stdp_mad_impl.c, post_events.h, timing_*_impl.h, weight_*_impl.h, maths.h):
  LUT[k]  = floor(2048·e^(−k/τ)) (τ = 20 ms, dt = 1 ms unless stated; written out below)
  s = 4, g = 1: stored = w·2048, in-flight w = stored << 4 = w·32768 (S16.15), LSB_w = 2^-11 nA
  A+ = 0.01 -> 328, A− = 0.012 -> 393 (S16.15, round half even of A·32768)
  w0 = 2.5 nA -> stored 5120 -> w = 81920;  w_max = 5 -> 163840
  potentiation  x = (pre_trace·LUT+[Δ]) >> 11,  w += (A+·x) >> 11, then min(w, w_max)
  depression    y = (post_trace·LUT−[Δ]) >> 11, w −= (A−·y) >> 11, then max(w, w_min)
  write-back    stored = w >> 4 (floor)
"""

from math import exp

import numpy as np
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stdp_validation import (
    CONVENTIONS,
    AdditiveWeightDependence,
    MultiplicativeWeightDependence,
    ParameterError,
    SpikeNearestPairRule,
    SpikePairRule,
    STDPRule,
    predict_weights,
)
from stdp_validation.fixedpoint import (
    encode_rule,
    encode_s1615,
    encode_weight,
    exp_lut,
    float_model_bound,
    post_spike_ticks,
    pre_spike_ticks,
    predict_fixed_point_weights,
    predict_stored_weights,
    stored_weight_to_pynn,
    synapse_statistics,
    timestep_us,
    weight_lsb,
)

# floor(2048·e^(−k/20)) for the k used below.
LUT20 = {
    0: 2048, 3: 1762, 4: 1676, 5: 1594, 6: 1517, 7: 1443, 8: 1372, 9: 1305, 10: 1242, 11: 1181,
    12: 1123, 13: 1069, 14: 1017, 15: 967, 16: 920, 17: 875, 18: 832, 19: 792, 20: 753, 21: 716,
    24: 616, 25: 586,
}  # fmt: skip
W0_STORED = 5120  # 2.5 nA at s = 4
W0_BITS = W0_STORED << 4  # 81920
A_PLUS_BITS, A_MINUS_BITS = 328, 393


def additive(tau_plus=20.0, tau_minus=20.0, a_plus=0.01, a_minus=0.012, w_max=5.0, nearest=False):
    timing = (SpikeNearestPairRule if nearest else SpikePairRule)(tau_plus, tau_minus, a_plus, a_minus)
    return STDPRule(timing, AdditiveWeightDependence(w_min=0.0, w_max=w_max))


def stored(pre, post, rule, *, delay=1.0, w0=2.5, shift=4, timestep=1.0, conductance_based=False):
    result = predict_stored_weights(
        pre, post, rule, delay=delay, initial_weight=w0, timestep=timestep, ring_buffer_shift=shift,
        conductance_based=conductance_based,
    )
    assert result.shape == (1,) and np.issubdtype(result.dtype, np.integer)
    return int(result[0])


def test_hand_lookup_values_are_the_model_table():
    table = exp_lut(20.0, 1.0)
    assert len(table) == 154 and list(table[-3:]) == [1, 1, 0]
    assert {k: int(table[k]) for k in LUT20} == LUT20


# --- one pair each side of zero ------------------------------------------------------------


def test_causal_pair_potentiates_at_the_next_pre_spike():
    # pre 100 (no post yet: no change; pre trace -> 2048), post 105, pre 400 with d = 1:
    # window (99, 399] holds 105; Δ = 105 + 1 − 100 = 6: x = 2048·1517 >> 11 = 1517,
    # w += 328·1517 >> 11 = 242 -> 82162. Depression Δ = 400 − 106 = 294 >= 154 entries: 0.
    w = W0_BITS + ((A_PLUS_BITS * LUT20[6]) >> 11)
    assert w == 82162
    assert stored([100, 400], [105], additive()) == w >> 4 == 5135


def test_anticausal_pair_depresses_at_the_pre_spike():
    # post 90, pre 100: window (0, 99] holds 90; its potentiation uses pre trace 0 (x = 0).
    # Depression Δ = 100 − (90 + 1) = 9: y = 2048·1305 >> 11 = 1305, w −= 393·1305 >> 11 = 250.
    w = W0_BITS - ((A_MINUS_BITS * LUT20[9]) >> 11)
    assert w == 81670
    assert stored([100], [90], additive()) == w >> 4 == 5104


def test_a_pair_with_no_trailing_pre_spike_leaves_the_weight_alone():
    assert stored([100], [105], additive()) == W0_STORED


def test_tie_at_lag_zero_counts_in_both_directions():
    # pre 10, post 19, pre 20, d = 1: post seen at 20 = t_pre (lag 0).
    # Potentiation against pre 10: Δ = 20 − 10 = 10 -> 328·1242 >> 11 = 198.
    # Depression: Δ = 20 − 20 = 0 -> LUT[0] = 2048, y = 2048 -> 393·2048 >> 11 = 393 (full A−).
    w = W0_BITS + ((A_PLUS_BITS * LUT20[10]) >> 11) - ((A_MINUS_BITS * LUT20[0]) >> 11)
    assert w == 81725
    assert stored([10, 20], [19], additive()) == w >> 4 == 5107


# --- 16-bit traces wrap ----------------------------------------------------------------------


def test_pre_trace_above_16_wraps_negative_and_potentiation_turns_into_depression():
    # τ+ = 8000 ms: LUT+[1] = LUT+[2] = floor(2048·e^(−1/8000)) = 2047, so one tick of decay is
    # trace −> floor(trace·2047/2048) = trace − ceil(trace/2048). Pre spikes at ticks 1..17:
    trace, traces = 0, []
    for _ in range(17):
        trace = trace - -(-trace // 2048) + 2048
        traces.append(trace)
    assert traces == [
        2048, 4095, 6141, 8186, 10230, 12273, 14315, 16356, 18396,
        20435, 22473, 24510, 26546, 28581, 30615, 32648, 34680,
    ]  # fmt: skip
    wrapped = 34680 - 65536  # int16: -30856 ("16.93" became "-15.07")
    # Post 18, pre 30 (d = 1): Δ = 19 − 17 = 2, x = (−30856·2047) >> 11 = −30841,
    # w += (328·−30841) >> 11 = −4940. Depression: Δ = 30 − 19 = 11, y = 1181, −(393·1181 >> 11) = −226.
    x = (wrapped * 2047) >> 11
    assert x == -30841
    w = W0_BITS + ((A_PLUS_BITS * x) >> 11) - ((A_MINUS_BITS * LUT20[11]) >> 11)
    assert w == 76754
    assert stored(list(range(1, 18)) + [30], [18], additive(tau_plus=8000.0)) == w >> 4 == 4797


# --- 15-event post history -------------------------------------------------------------------


def test_more_than_15_posts_between_pre_spikes_lose_the_oldest_potentiations():
    # pre 10, posts 11..30 (20 spikes), pre 40, d = 1, τ− = 1 ms (its table has 8 entries, so the
    # depression at Δ = 40 − 31 = 9 is 0). Only posts 16..30 are still held: Δ = t_post − 9 = 7..21.
    gains = [(A_PLUS_BITS * LUT20[k]) >> 11 for k in range(7, 22)]
    assert gains == [231, 219, 209, 198, 189, 179, 171, 162, 154, 147, 140, 133, 126, 120, 114]
    w = W0_BITS + sum(gains)
    assert w == 84412
    rule = additive(tau_minus=1.0)
    assert stored([10, 40], list(range(11, 31)), rule) == w >> 4 == 5275
    # Posts 11..15 (Δ = 2..6) would have added more; the statistics count them as lost.
    assert synapse_statistics([10, 40], list(range(11, 31)), rule, delay=1.0, timestep=1.0)[0].lost_posts == 5


def test_a_post_in_the_tick_of_the_pre_spike_is_already_recorded():
    # Choice documented in the module: when the row of tick 26 is processed, the post of tick
    # 26 is in the history. Posts 11..26 (16) -> 12..26 held; the window (9, 25] keeps 12..25
    # (Δ = 3..16). A− = 0 so only potentiation counts.
    gains = [(A_PLUS_BITS * LUT20[k]) >> 11 for k in range(3, 17)]
    w = W0_BITS + sum(gains)
    assert stored([10, 26], list(range(11, 27)), additive(a_minus=0.0)) == w >> 4


def test_nearest_rule_history_overflow_potentiates_the_oldest_kept_post():
    # Same trains as the pair case. The previous post of the oldest kept event (16) is the
    # placeholder slot (time 0), so the "first post after the pre" test passes:
    # Δpre = 17 − 10 = 7 <= Δpost = 17 − 0, w += 328·1443 >> 11 = 231. Posts 17..30 fail it.
    w = W0_BITS + ((A_PLUS_BITS * LUT20[7]) >> 11)
    rule = additive(tau_minus=1.0, nearest=True)
    assert stored([10, 40], list(range(11, 31)), rule) == w >> 4 == 5134
    # The float model follows the same hardware behaviour: 2.5 + 0.01·e^(−7/20); the
    # depression at pre 40 (Δ = 40 − 31 = 9 ticks) is past the 8-entry τ− = 1 ms table: 0.
    flt = predict_weights([10, 40], list(range(11, 31)), rule, delay=1.0, initial_weight=2.5,
                          conventions=CONVENTIONS["spinnaker"].with_timestep(1.0))  # fmt: skip
    assert flt[0] == pytest.approx(2.5 + 0.01 * math.exp(-7 / 20), abs=1e-12)


# --- nearest rule ----------------------------------------------------------------------------


def test_nearest_rule_pairs_an_early_post_with_a_phantom_pre_spike_at_tick_0():
    # post 5, pre 30, d = 1. Row header last-pre time is 0: Δpre = 6 − 0 = 6, previous post is
    # the placeholder (0): Δpost = 6, not < Δpre -> x = LUT+[6] = 1517, w += 242.
    # Depression Δ = 30 − 6 = 24: y = LUT−[24] = 616, w −= 393·616 >> 11 = 118.
    w = W0_BITS + ((A_PLUS_BITS * LUT20[6]) >> 11) - ((A_MINUS_BITS * LUT20[24]) >> 11)
    assert w == 82044
    assert stored([30], [5], additive(nearest=True)) == w >> 4 == 5127
    # The pair rule has a real pre trace of 0 there: depression only.
    assert stored([30], [5], additive()) == (W0_BITS - 118) >> 4 == 5112


# --- write-back flooring and clipping --------------------------------------------------------


def test_write_back_floors_a_tiny_depression_to_a_full_lsb():
    # A− = 2/32768 (2 bits): the anticausal pair removes (2·1305) >> 11 = 1 bit of 16.
    assert stored([100], [90], additive(a_minus=2 / 32768)) == (W0_BITS - 1) >> 4 == W0_STORED - 1


def test_write_back_drops_a_gain_below_one_lsb():
    # A+ = 0.0005 -> 16 bits: (16·1517) >> 11 = 11 bits < 16 = one LSB_w.
    assert encode_s1615(0.0005) == 16
    assert stored([100, 400], [105], additive(a_plus=0.0005)) == (W0_BITS + 11) >> 4 == W0_STORED


def test_additive_clips_at_w_max_after_each_potentiation():
    w0 = 10238 / 2048  # 163808 in S16.15, 32 below w_max = 163840
    # Causal pair: 163808 + 242 -> clipped to 163840 -> stored 10240 (= w_max exactly).
    assert stored([100, 400], [105], additive(), w0=w0) == 163840 >> 4 == 10240
    # Pre 116 instead: clip first, then depression Δ = 116 − 106 = 10: −(393·1242 >> 11) = −238.
    clipped_then_depressed = 163840 - ((A_MINUS_BITS * LUT20[10]) >> 11)
    assert stored([100, 116], [105], additive(), w0=w0) == clipped_then_depressed >> 4 == 10225
    # A single clip at the end would have given (163808 + 242 − 238) >> 4 = 10238.


def test_multiplicative_scales_by_the_distance_to_the_bounds():
    rule = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), MultiplicativeWeightDependence(0.0, 5.0))
    # scale = ((163840 − 81920)·328) >> 15 = 820; w += (820·1517) >> 11 = 607 -> 82527.
    scale = ((163840 - W0_BITS) * A_PLUS_BITS) >> 15
    w = W0_BITS + ((scale * LUT20[6]) >> 11)
    assert (scale, w) == (820, 82527)
    assert stored([100, 400], [105], rule) == w >> 4 == 5157


# --- sPyNNaker's own integration test network ------------------------------------------------


def test_spynnaker_integration_network():
    # test_stdp_pair_additive.py: pre 1010, 1050; extra drive 1030; d = 3; w0 = 2.5; w_max = 5;
    # A± = 0.01; τ = 20; post spikes 1014, 1032, 1053; s = 4 (two 5 nA static inputs).
    rule = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.01), AdditiveWeightDependence(0.0, 5.0))
    pre, post = [1010.0, 1050.0], [1014.0, 1032.0, 1053.0]
    # Pre 1050: window (1007, 1047] = {1014, 1032}; pre trace 2048 (pre 1010 had trace 0).
    # +328·1443 >> 11 = 231 (Δ 7), +328·586 >> 11 = 93 (Δ 25); post trace at 1032 =
    # (2048·832 >> 11) + 2048 = 2880 (Δ 18); depression Δ = 1050 − 1035 = 15:
    # y = 2880·967 >> 11 = 1359, −(328·1359 >> 11) = −217. 81920 + 231 + 93 − 217 = 82027.
    assert stored(pre, post, rule, delay=3.0) == 82027 >> 4 == 5126
    model = predict_fixed_point_weights(pre, post, rule, delay=3.0, initial_weight=2.5, timestep=1.0,
                                        ring_buffer_shift=4)[0]  # fmt: skip
    assert model == 5126 / 2048 == 2.5029296875  # sPyNNaker's test_stdp_pair_additive network
    helper_exact = 2.5 + 0.01 * (exp(-7 / 20) + exp(-25 / 20)) - 0.01 * (exp(-33 / 20) + exp(-15 / 20))
    utils = pytest.importorskip("spynnaker.pyNN.models.neuron.synapse_dynamics.synapse_dynamics_utils")
    helper = utils.calculate_spike_pair_additive_stdp_weight(
        np.array([1010, 1050]), np.array([1014, 1032, 1053]), 2.5, 3, 0.01, 0.01, 20, 20
    )
    assert helper == pytest.approx(helper_exact, abs=1e-12)
    assert helper == pytest.approx(2.503268, abs=5e-7)  # sPyNNaker's own helper, _calculate_stdp_times
    difference = model - helper
    assert difference == pytest.approx(-3.381e-4, abs=1e-7)
    assert abs(difference) <= 1e-3 * abs(helper)  # inside the test's rtol = 0.001


def test_spynnaker_nearest_integration_network():
    rule = additive(a_minus=0.01, nearest=True)
    # Pre 1050: window {1014, 1032}: 1014 is first after 1010 (+231); 1032 is not (prev 1014 is
    # after 1010: 0). Depression against 1032: LUT[15] = 967, −(328·967 >> 11) = −154.
    assert stored([1010.0, 1050.0], [1014.0, 1032.0, 1053.0], rule, delay=3.0) == (81920 + 231 - 154) >> 4
    assert ((81920 + 231 - 154) >> 4) / 2048 == 5124 / 2048 == pytest.approx(2.501953, abs=5e-7)  # sPyNNaker's own helper, _calculate_stdp_times


# --- encodings against the installed sPyNNaker -------------------------------------------------


@pytest.mark.parametrize(
    "tau, timestep",
    [(20.0, 1.0), (20.0, 0.1), (100.0, 1.0), (16.7, 1.0), (10.0, 0.1), (3.0, 1.0), (1.0, 1.0), (33.3, 0.25),
     (7.0, 0.5)],  # fmt: skip
)
def test_lookup_table_equals_spynnaker(tau, timestep):
    # get_exp_lut_array is a pure function of (time_step, time_constant): no simulator needed.
    common = pytest.importorskip("spynnaker.pyNN.models.neuron.plasticity.stdp.common")
    raw = np.asarray(common.get_exp_lut_array(timestep, tau)).view(np.uint16)
    size, shift = int(raw[0]), int(raw[1])
    assert shift == 0
    np.testing.assert_array_equal(exp_lut(tau, timestep), raw[2 : 2 + size].astype(np.int64))


@pytest.mark.parametrize(
    "value", [0.01, 0.012, 5.0, 5.0 * 1024, 0.1 * 1024, 1.5 / 32768, 2.5 / 32768, -0.0375, 0.0375 * 1024, 1e-9, 65535.0]
)
def test_s1615_encoding_equals_spinn_front_end_common(value):
    data_type = pytest.importorskip("spinn_front_end_common.interface.ds.data_type")
    assert encode_s1615(value) == data_type.DataType.S1615.encode_as_int(value)


def test_s1615_rounds_half_even_on_the_decimal_value():
    assert encode_s1615(0.01) == 328  # 327.68
    assert encode_s1615(1.5 / 32768) == 2 and encode_s1615(2.5 / 32768) == 2
    with pytest.raises(ParameterError):
        encode_s1615(70000.0)


def test_encoded_rule_matches_the_decoded_virtual_board_region():
    # decoded from a virtual-board data spec: LUT 154/0 and min, max, A+, A− = 0, 163840, 328, 393 for A+ 0.01, A− 0.012, w_max 5.
    encoded = encode_rule(additive(), 1.0)
    assert (len(encoded.tau_plus_lut), encoded.w_min_bits, encoded.w_max_bits) == (154, 0, 163840)
    assert (encoded.a_plus_bits, encoded.a_minus_bits) == (328, 393)
    words = encoded.region_words(n_synapse_types=2)
    assert len(words) == 1 + 78 + 78 + 8 and words[0] == 1 and words[1] == 154  # [size, shift = 0]
    assert list(words[-4:]) == [0, 163840, 328, 393]
    conductance = encode_rule(additive(w_max=0.5, a_plus=0.1, a_minus=0.0375), 1.0, conductance_based=True)
    assert conductance.w_max_bits == 0.5 * 1024 * 32768 and conductance.a_plus_bits == round(0.1 * 1024 * 32768)
    multiplicative = encode_rule(STDPRule(SpikePairRule(), MultiplicativeWeightDependence(0.0, 0.5)), 1.0, True)
    assert multiplicative.a_plus_bits == 328  # A itself, no g


def test_weight_encoding_and_lsb():
    assert weight_lsb(4) == 2.0**-11 and weight_lsb(10, conductance_based=True) == 2.0**-15
    assert int(encode_weight(2.5003, 3)) == 10241 and stored_weight_to_pynn(10241, 3) == 2.500244140625  # as read back on a virtual board
    assert list(encode_weight([0.5 / 2048, 1.5 / 2048], 4)) == [0, 2]  # rint: half to even
    with pytest.raises(ParameterError):
        encode_weight(40.0, 4)  # 81920 does not fit 16 bits


def test_time_grid():
    assert timestep_us(0.1) == 100
    assert list(pre_spike_ticks([0.0, 0.1, 100.0, 100.3], 1.0)) == [0, 1, 100, 101]  # rounded up
    assert list(pre_spike_ticks([1.05, 1.1], 0.1)) == [11, 11]
    assert list(post_spike_ticks([1.1, 2.0], 0.1)) == [11, 20]


def test_two_pre_spikes_in_one_tick_process_the_row_twice():
    # 99.2 and 99.6 both become tick 100 (rounded up); the second row update at tick 100 sees the
    # same post (90) again: two depressions of 250 bits.
    assert stored([99.2, 99.6], [90], additive()) == (W0_BITS - 250 - 250) >> 4


def test_dt_below_one_ms_uses_ticks():
    # dt = 0.1 ms, d = 0.1 ms (1 tick), τ = 2 ms: the same integers as τ = 20 ticks at 1 ms.
    rule_ms = additive(tau_plus=2.0, tau_minus=2.0)
    assert stored([10.0, 40.0], [10.5], rule_ms, delay=0.1, timestep=0.1) == stored([100, 400], [105], additive())


def test_many_synapses_match_one_at_a_time():
    pre = [[100.0, 400.0], [100.0], [10.0, 20.0]]
    post = [[105.0], [90.0], [19.0]]
    batch = predict_stored_weights(pre, post, additive(), delay=1.0, initial_weight=[2.5, 2.5, 2.5], timestep=1.0,
                                   ring_buffer_shift=4)  # fmt: skip
    assert list(batch) == [5135, 5104, 5107]


def test_bad_input_is_rejected():
    with pytest.raises(ParameterError):
        predict_stored_weights([[1.0], [2.0]], [[3.0]], additive(), delay=1.0, initial_weight=0.5, timestep=1.0,
                               ring_buffer_shift=4)  # fmt: skip
    with pytest.raises(ParameterError):
        predict_stored_weights([1.0], [3.0], "pair", delay=1.0, initial_weight=0.5, timestep=1.0, ring_buffer_shift=4)
    with pytest.raises(ParameterError):
        predict_stored_weights([1.0], [3.0], additive(), delay=1.0, initial_weight=0.5, timestep=1.0,
                               ring_buffer_shift=1.5)  # fmt: skip
    with pytest.raises(ParameterError):
        predict_stored_weights([2.0, 1.0], [3.0], additive(), delay=1.0, initial_weight=0.5, timestep=1.0,
                               ring_buffer_shift=4)  # fmt: skip


# --- float model with sPyNNaker semantics stays inside the one-sided bound ----------------------


def _poisson(rng, rate_hz, duration_ms):
    ticks = np.unique(rng.integers(1, int(duration_ms), rng.poisson(rate_hz * duration_ms / 1000.0)))
    return ticks.astype(float)


def test_float_model_bound_terms():
    bound = float_model_bound([100.0, 400.0], [105.0], additive(), delay=1.0, timestep=1.0, ring_buffer_shift=4)
    lower, upper = bound
    # 2 pre spikes; 1 potentiation (x = 1517/2048) + 1 depression (y = 0).
    assert (bound.n_pre[0], bound.n_events[0]) == (2, 2)
    assert bound.trace_sum[0] == pytest.approx(1517 / 2048)
    lsb_a = 2.0**-15
    error = 2 * (2 * lsb_a + 3 * 0.012 / 2048) + 0.5 * lsb_a * 1517 / 2048
    assert upper[0] == pytest.approx(error) and lower[0] == pytest.approx(2 * 2.0**-11 + error)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(["pair-additive", "pair-additive", "pair-multiplicative", "nearest-additive"]),
    a_plus=st.floats(0.002, 0.05),
    a_minus=st.floats(0.002, 0.05),
    tau_plus=st.floats(5.0, 40.0),
    tau_minus=st.floats(5.0, 40.0),
    delay_ticks=st.integers(1, 2),
    shift=st.integers(0, 6),
)
def test_float_model_stays_within_the_one_sided_bound(
    seed, kind, a_plus, a_minus, tau_plus, tau_minus, delay_ticks, shift
):
    rng = np.random.default_rng(seed)
    n, duration = 4, float(rng.uniform(2000.0, 3000.0))
    pre = [_poisson(rng, rng.uniform(2.0, 80.0), duration) for _ in range(n)]
    post = [_poisson(rng, rng.uniform(2.0, 80.0), duration) for _ in range(n)]
    timing_class = SpikeNearestPairRule if kind.startswith("nearest") else SpikePairRule
    timing = timing_class(tau_plus, tau_minus, a_plus, a_minus)
    w_max = min(2.0, 65535 * weight_lsb(shift))
    weight = MultiplicativeWeightDependence if kind.endswith("multiplicative") else AdditiveWeightDependence
    rule = STDPRule(timing, weight(0.0, w_max))
    lsb = weight_lsb(shift)
    w0 = np.floor(rng.uniform(0.0, w_max, n) / lsb) * lsb  # on the LSB grid
    args = dict(delay=float(delay_ticks), timestep=1.0, ring_buffer_shift=shift)
    fixed = predict_fixed_point_weights(pre, post, rule, initial_weight=w0, **args)
    flt = predict_weights(pre, post, rule, delay=float(delay_ticks), initial_weight=w0,
                          conventions=CONVENTIONS["spinnaker"].with_timestep(1.0))  # fmt: skip
    lower, upper = float_model_bound(pre, post, rule, initial_weight=w0, **args)
    assert np.all(fixed >= flt - lower), (fixed - flt, lower)
    assert np.all(fixed <= flt + upper), (fixed - flt, upper)
