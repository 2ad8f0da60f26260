"""The integer event loop of one plastic synapse and the public predictions built on it."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..trains import checked_inputs, is_scalar, per_synapse
from .encoding import (
    POST_HISTORY_CAPACITY,
    TRACE_ONE,
    EncodedRule,
    _check_shift,
    _mul_accum,
    _mul_accum_fixed,
    _wrap16,
    _wrap32,
    delay_ticks,
    encode_rule,
    encode_weight,
    post_spike_ticks,
    pre_spike_ticks,
    stored_weight_to_pynn,
)

# ---------------------------------------------------------------------------------------------
# The event loop


@dataclass
class SynapseStatistics:
    """What one synapse's row updates did, counted by the integer model.

    n_pre: presynaptic spikes processed (write-backs); n_potentiation / n_depression:
    applications of the weight dependence (potentiation calls include those with a 0 kernel,
    e.g. nearest-rule posts that are not the first after a pre spike); trace_sum: Σ|x|/2048
    over all applications (the trace or LUT values used, in units of 1.0);
    lost_posts: window posts that had already fallen out of the 15-event history.
    """

    n_pre: int = 0
    n_potentiation: int = 0
    n_depression: int = 0
    trace_sum: float = 0.0
    lost_posts: int = 0

    @property
    def n_events(self):
        return self.n_potentiation + self.n_depression


def _lookup(table, size, index):
    """``maths_lut_exponential_decay``: table[index] if 0 <= index < size else 0 (plasticity/stdp/common.py, maths.h)."""
    return table[index] if 0 <= index < size else 0


def _run_synapse(pre_ticks, post_ticks, delay, stored, shift, enc, stats=None):
    """Process one synapse's spikes; return the final stored ``uint16`` (synapse_dynamics_stdp_mad_impl.c, post_events.h)."""
    lut_plus = [int(v) for v in enc.tau_plus_lut]
    lut_minus = [int(v) for v in enc.tau_minus_lut]
    n_plus, n_minus = len(lut_plus), len(lut_minus)
    a_plus, a_minus = enc.a_plus_bits, enc.a_minus_bits
    w_min, w_max = enc.w_min_bits, enc.w_max_bits
    nearest, multiplicative = enc.nearest, enc.multiplicative

    hist_t = []  # times of the real events in the 16-slot history (slot 0 placeholder implicit)
    hist_x = []  # their post traces (pair rule)
    n_post = len(post_ticks)
    recorded = 0
    last_pre_t, last_pre_x = 0, 0  # row header starts at time 0, trace 0
    for t in pre_ticks:
        # Record every post spike up to and including this tick (see module docstring).
        while recorded < n_post and post_ticks[recorded] <= t:
            tp = post_ticks[recorded]
            if nearest:
                new_trace = 0
            else:
                prev_t, prev_x = (hist_t[-1], hist_x[-1]) if hist_t else (0, 0)
                new_trace = _wrap16(((prev_x * _lookup(lut_minus, n_minus, tp - prev_t)) >> 11) + TRACE_ONE)
            hist_t.append(tp)
            hist_x.append(new_trace)
            if len(hist_t) > POST_HISTORY_CAPACITY:
                del hist_t[0], hist_x[0]
            recorded += 1

        # Window (timing_pair_impl.h, synapse_dynamics_stdp_mad_impl.c, post_events_get_window_delayed).
        begin = max(last_pre_t - delay, 0)
        end = max(t - delay, 0)
        first = bisect_right(hist_t, begin)
        stop = bisect_right(hist_t, end)
        if first > 0:
            prev_t, prev_x, prev_valid = hist_t[first - 1], hist_x[first - 1], True
        else:
            prev_t, prev_x, prev_valid = 0, 0, False
        if stats is not None and recorded > len(hist_t):
            # Posts in (begin, end] that were recorded but are no longer held.
            total_in_window = bisect_right(post_ticks, end, 0, recorded) - bisect_right(post_ticks, begin, 0, recorded)
            stats.lost_posts += total_in_window - (stop - first)

        w = _wrap32(stored << shift)
        for index in range(first, stop):
            tp = hist_t[index]
            since_pre = tp + delay - last_pre_t
            if since_pre != 0:
                if nearest:
                    # Only the first post after the last pre (previous post taken undelayed).
                    since_post = tp + delay - prev_t
                    x = 0 if since_post < since_pre else _lookup(lut_plus, n_plus, since_pre)
                else:
                    x = (last_pre_x * _lookup(lut_plus, n_plus, since_pre)) >> 11
                if multiplicative:
                    scale = _mul_accum(_wrap32(w_max - w), a_plus)
                    w = _wrap32(w + _mul_accum_fixed(scale, x))
                else:
                    w = _wrap32(w + _mul_accum_fixed(a_plus, x))
                    if w > w_max:
                        w = w_max
                if stats is not None:
                    stats.n_potentiation += 1
                    stats.trace_sum += abs(x) / TRACE_ONE
            prev_t, prev_x, prev_valid = tp, hist_x[index], True

        if prev_valid:
            since_post = t - (prev_t + delay)  # negative reads as a huge uint32: 0
            decay = _lookup(lut_minus, n_minus, since_post)
            y = decay if nearest else (prev_x * decay) >> 11
            if multiplicative:
                scale = _mul_accum(_wrap32(w - w_min), a_minus)
                w = _wrap32(w - _mul_accum_fixed(scale, y))
            else:
                w = _wrap32(w - _mul_accum_fixed(a_minus, y))
                if w < w_min:
                    w = w_min
            if stats is not None:
                stats.n_depression += 1
                stats.trace_sum += abs(y) / TRACE_ONE

        stored = (w >> shift) & 0xFFFF
        if not nearest:
            last_pre_x = _wrap16(((last_pre_x * _lookup(lut_plus, n_plus, t - last_pre_t)) >> 11) + TRACE_ONE)
        last_pre_t = t
        if stats is not None:
            stats.n_pre += 1
    return stored


# ---------------------------------------------------------------------------------------------
# Public predictions


def _per_synapse_shift(ring_buffer_shift, n_synapses):
    """One checked shift per synapse from an integer or a sequence of integers."""
    if is_scalar(ring_buffer_shift):
        value = ring_buffer_shift
        if isinstance(value, (np.ndarray, np.generic)):
            value = value.item()
        return [_check_shift(value)] * n_synapses
    try:
        values = list(ring_buffer_shift)
    except TypeError:
        raise ParameterError(
            f"ring_buffer_shift must be an integer or one integer per synapse; got {ring_buffer_shift!r}"
        ) from None
    if len(values) != n_synapses:
        raise ParameterError(
            f"ring_buffer_shift must be an integer or one integer per synapse ({n_synapses}); got {len(values)} values"
        )
    return [
        _check_shift(v.item() if isinstance(v, np.generic) else v, f"ring_buffer_shift[{i}]")
        for i, v in enumerate(values)
    ]


@dataclass
class _Prepared:
    pre: list
    post: list
    delay: list
    shift: list
    enc: EncodedRule


def _prepare(pre_spike_times, post_spike_times, rule, delay, timestep, ring_buffer_shift, conductance_based,
             backprop_delay=True):
    pre, post = checked_inputs(pre_spike_times, post_spike_times, rule)
    n_synapses = len(pre)
    enc = encode_rule(rule, timestep, conductance_based)
    delays = per_synapse(delay, "delay", n_synapses, low=0.0, unit="ms")
    if not isinstance(backprop_delay, (bool, np.bool_)):
        raise ParameterError(f"backprop_delay must be True or False; got {backprop_delay!r}")
    # backprop_delay=False: the row update uses the window (t_last_pre, t] and lags t_post − t_pre,
    # i.e. the delay plays no part in STDP (synapse_dynamics_stdp_mad_impl.c).
    ticks = delay_ticks(delays, timestep) if backprop_delay else np.zeros(n_synapses, dtype=np.int64)
    shifts = _per_synapse_shift(ring_buffer_shift, n_synapses)
    pre_ticks = [[int(v) for v in pre_spike_ticks(times, timestep)] for times in pre]
    post_ticks = [[int(v) for v in post_spike_ticks(times, timestep)] for times in post]
    return _Prepared(pre_ticks, post_ticks, [int(v) for v in ticks], shifts, enc)


def predict_stored_weights(
    pre_spike_times,
    post_spike_times,
    rule,
    *,
    delay,
    initial_weight,
    timestep,
    ring_buffer_shift,
    conductance_based=False,
    backprop_delay=True,
):
    """Stored 16-bit weight integer of each synapse after sPyNNaker 1!7.4.1 processed its spikes.

    Parameters
    ----------
    pre_spike_times, post_spike_times
        One synapse (1-D sequences of times in ms) or many (a sequence of trains, one per
        synapse), as for :func:`stdp_validation.predict_weights`. Presynaptic times are the
        ``SpikeSourceArray`` times (rounded up to ticks); postsynaptic times are the recorded
        ones (tick·dt). Every presynaptic spike is processed (pass only those before the end
        of the run).
    rule
        :class:`~stdp_validation.rules.STDPRule` (pair or nearest; additive or multiplicative).
    delay
        Connection delay in ms (scalar or per synapse), all dendritic and back-propagated.
    initial_weight
        Weight before the run in PyNN units (nA or µS; scalar or per synapse), encoded as
        rint(|w|·2^(15−s)·g) (:func:`encode_weight`).
    timestep
        Simulation timestep in ms.
    ring_buffer_shift
        s of the post population's synapse type (integer, or one per synapse).
    conductance_based
        Whether the synapse type is conductance-based (g = 1024).
    backprop_delay
        sPyNNaker's ``STDPMechanism(backprop_delay=...)``: ``False`` pairs emission times
        (the delay plays no part in STDP).

    Returns
    -------
    numpy.ndarray of ``int64`` in [0, 65535], shape (n_synapses,) (length 1 for one synapse).
    Multiply by :func:`weight_lsb` (or use :func:`stored_weight_to_pynn`) for PyNN units.
    """
    prepared = _prepare(
        pre_spike_times, post_spike_times, rule, delay, timestep, ring_buffer_shift, conductance_based, backprop_delay
    )
    n_synapses = len(prepared.pre)
    weights = per_synapse(initial_weight, "initial_weight", n_synapses, low=0.0, unit="(nA or µS)")
    result = np.empty(n_synapses, dtype=np.int64)
    for i in range(n_synapses):
        stored = int(encode_weight(weights[i], prepared.shift[i], conductance_based))
        result[i] = _run_synapse(
            prepared.pre[i], prepared.post[i], prepared.delay[i], stored, prepared.shift[i], prepared.enc
        )
    return result


def predict_fixed_point_weights(
    pre_spike_times,
    post_spike_times,
    rule,
    *,
    delay,
    initial_weight,
    timestep,
    ring_buffer_shift,
    conductance_based=False,
    backprop_delay=True,
):
    """:func:`predict_stored_weights` in PyNN units (nA or µS), as ``Projection.get("weight")`` reports them."""
    stored = predict_stored_weights(
        pre_spike_times,
        post_spike_times,
        rule,
        delay=delay,
        initial_weight=initial_weight,
        timestep=timestep,
        ring_buffer_shift=ring_buffer_shift,
        conductance_based=conductance_based,
        backprop_delay=backprop_delay,
    )
    shifts = _per_synapse_shift(ring_buffer_shift, len(stored))
    return np.array(
        [float(stored_weight_to_pynn(v, s, conductance_based)) for v, s in zip(stored, shifts)], dtype=float
    )


def synapse_statistics(
    pre_spike_times,
    post_spike_times,
    rule,
    *,
    delay,
    timestep,
    conductance_based=False,
    backprop_delay=True,
):
    """Per synapse, the counts the integer model sees (:class:`SynapseStatistics`).

    They depend only on spike times, delay and the rule's time constants, not on weights.
    """
    prepared = _prepare(pre_spike_times, post_spike_times, rule, delay, timestep, 0, conductance_based, backprop_delay)
    result = []
    for i in range(len(prepared.pre)):
        stats = SynapseStatistics()
        _run_synapse(prepared.pre[i], prepared.post[i], prepared.delay[i], 0, 0, prepared.enc, stats)
        result.append(stats)
    return result


