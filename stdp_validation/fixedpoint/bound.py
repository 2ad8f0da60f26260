"""The one-sided bound between the fixed-point result and the float model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..trains import per_synapse
from .encoding import (
    TRACE_ONE,
    encode_weight,
    global_weight_scale,
    weight_lsb,
    weight_scale,
)
from .synapse import _per_synapse_shift, synapse_statistics

# ---------------------------------------------------------------------------------------------
# Tolerance against the float model


@dataclass(frozen=True)
class FloatModelBound:
    """One-sided tolerance between the integer model (or a board) and the float model with
    sPyNNaker semantics, per synapse (``docs/architecture.md``, "Tolerances"):

        w_float − lower ≤ w_fixed ≤ w_float + upper

    lower = N_pre·LSB_w + E (+ LSB_w/2 if w0 is off the grid),
    upper = E (+ LSB_w/2 if w0 is off the grid),
    E = N_ev·(2·LSB_a + 3·A_w/2048) + k·LSB_a·X + Q.

    All margins in PyNN weight units. ``A_w`` is the largest amplitude in weight units
    (additive: max(|A+|, |A−|); multiplicative: max(|A+|, |A−|)·(w_max − w_min), the largest
    possible scale; the same number as a dimensionless A_max when w_max − w_min = 1). ``k`` = ½ (additive, A quantisation) or 1 (multiplicative,
    scale-multiply floor). ``Q`` is 0 for additive; for multiplicative it is the A
    quantisation of the multiplicative amplitudes: A is encoded without g, so its error
    2^(−16) is multiplied by (w_max − w_min): Q = 2^(−16)·(w_max − w_min)·X.

    Unpacks as ``lower, upper = float_model_bound(...)``.
    """

    lower: np.ndarray
    upper: np.ndarray
    n_pre: np.ndarray
    n_events: np.ndarray
    trace_sum: np.ndarray
    lsb_w: np.ndarray
    lsb_a: float
    a_max: float
    k: float
    event_term: np.ndarray
    quantisation_term: np.ndarray
    writeback_term: np.ndarray
    off_grid_term: np.ndarray

    def __iter__(self):
        return iter((self.lower, self.upper))

    def to_dict(self):
        """JSON-ready: every term per synapse."""
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out


def float_model_bound(
    pre_spike_times,
    post_spike_times,
    rule,
    *,
    delay,
    timestep,
    ring_buffer_shift,
    conductance_based=False,
    initial_weight=None,
    backprop_delay=True,
):
    """Margins (lower, upper) in PyNN units such that, for every synapse,
    w_float − lower ≤ w_fixed ≤ w_float + upper, where w_float is
    ``predict_weights(..., conventions=CONVENTIONS["spinnaker"].with_timestep(timestep))``
    and w_fixed = ``predict_fixed_point_weights(...)`` (or the board).

    Same spike, rule and network arguments as :func:`predict_stored_weights`;
    ``initial_weight`` (optional) adds ±LSB_w/2 where w0 is not a multiple of LSB_w.
    N_pre, N_ev and X are counted by the integer model (:func:`synapse_statistics`).
    Valid while no trace wraps above 16.0 (the float trace does not wrap). See
    :class:`FloatModelBound` for the formula and its terms.
    """
    stats = synapse_statistics(pre_spike_times, post_spike_times, rule, delay=delay, timestep=timestep,
                               conductance_based=conductance_based, backprop_delay=backprop_delay)
    n_synapses = len(stats)
    shifts = _per_synapse_shift(ring_buffer_shift, n_synapses)
    g = global_weight_scale(conductance_based)
    lsb_w = np.array([weight_lsb(s, conductance_based) for s in shifts])
    lsb_a = 2.0**-15 / g
    timing, bounds = rule.timing, rule.weight
    a_max = max(abs(timing.A_plus), abs(timing.A_minus))
    if rule.is_multiplicative:
        span = bounds.w_max - bounds.w_min
        a_weight, k = a_max * span, 1.0
    else:
        span, a_weight, k = 0.0, a_max, 0.5
    n_pre = np.array([s.n_pre for s in stats], dtype=np.int64)
    n_events = np.array([s.n_events for s in stats], dtype=np.int64)
    trace_sum = np.array([s.trace_sum for s in stats], dtype=float)
    event_term = n_events * (2.0 * lsb_a + 3.0 * a_weight / TRACE_ONE)
    quantisation_term = k * lsb_a * trace_sum + (2.0**-16 * span * trace_sum if rule.is_multiplicative else 0.0)
    writeback_term = n_pre * lsb_w
    if initial_weight is None:
        off_grid_term = np.zeros(n_synapses)
    else:
        weights = per_synapse(initial_weight, "initial_weight", n_synapses, low=0.0, unit="(nA or µS)")
        on_grid = np.array(
            [
                float(encode_weight(w, s, conductance_based)) / weight_scale(s, conductance_based) == w
                for w, s in zip(weights, shifts)
            ]
        )
        off_grid_term = np.where(on_grid, 0.0, lsb_w / 2)
    error = event_term + quantisation_term
    return FloatModelBound(
        lower=writeback_term + error + off_grid_term,
        upper=error + off_grid_term,
        n_pre=n_pre,
        n_events=n_events,
        trace_sum=trace_sum,
        lsb_w=lsb_w,
        lsb_a=lsb_a,
        a_max=a_weight,
        k=k,
        event_term=event_term,
        quantisation_term=np.asarray(quantisation_term, dtype=float),
        writeback_term=writeback_term.astype(float),
        off_grid_term=off_grid_term,
    )
