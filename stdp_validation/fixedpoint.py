"""Bit-accurate integer model of sPyNNaker 1!7.4.1 pair-based STDP.

This module predicts the 16-bit weight integers a SpiNNaker-1 board stores after a run, for
``SpikePairRule`` (all-to-all) and ``SpikeNearestPairRule`` combined with additive or
multiplicative weight dependence, from the spike times, the rule and the network's
ring-buffer shift. It is the exact (tolerance 0) reference for board runs and for the
shipped ARM code run in an emulator; :func:`float_model_bound` gives the one-sided tolerance
between these integers and the float64 model with sPyNNaker's event semantics
(``CONVENTIONS["spinnaker"]`` in :mod:`stdp_validation.reference`).

Sources: the C code of sPyNNaker's ``neural_modelling/src/neuron/plasticity/stdp``
(``synapse_dynamics_stdp_mad_impl.c``, ``post_events.h``, ``timing_dependence/timing_pair_impl.h``
and ``timing_nearest_pair_impl.h``, ``weight_dependence/weight_additive_one_term_impl.h`` and
``weight_multiplicative_impl.h``, ``maths.h``, ``stdp_typedefs.h``), checked instruction by
instruction against the 1!7.4.1 binaries, and for the host-side encodings (lookup tables,
S16.15, weight scale, spike-time and delay rounding) the installed ``spynnaker`` and
``spinn_front_end_common`` 1!7.4.1 packages.

Units
-----
* Spike times, delays and the timestep are in ms (PyNN). Internally everything is in
  integer ticks.
* Weights in PyNN units are nA (current-based) or µS (conductance-based). The board stores
  ``uint16`` integers; one step is :func:`weight_lsb` = 2^(s−15)/g.
* ``*_bits`` values are raw S16.15 integers (1.0 = 32768); traces and lookup-table entries
  are 4.11 integers (1.0 = 2048).

Integer semantics (one synapse; ``d`` = delay in ticks, all dendritic, back-propagated)
--------------------------------------------------------------------------------------
* Time grid (spike_source_array_vertex.py): presynaptic ``SpikeSourceArray`` ticks are
  ceil(floor(t_ms·1000)/dt_µs); recorded postsynaptic times are tick·dt, so post ticks are
  rint(t/dt); delays are rint(d/dt) ticks; dt_µs = ceil(timestep·1000) as ``setup`` does.
* Row header (timing_pair_impl.h, synapse_dynamics_stdp_mad_impl.c): last-pre time 0 and pre trace 0 before the first spike.
* Post history (post_events.h): 16 slots per post neuron; slot 0 is a placeholder (time 0,
  trace 0), 15 real events, the oldest real event is shifted out. **Choice made here:** when
  the row of a presynaptic spike at tick t is processed, every postsynaptic spike with
  t_post ≤ t has been recorded (the neuron update of tick t comes first). With d ≥ 1 this
  affects only which events fall out of a full history, never the window itself; the same
  choice is made by the float model (``post_history_limit``).
* Pair traces (timing_pair_impl.h, synapse_dynamics_stdp_mad_impl.c): int16 4.11, +2048 per spike, decayed as
  floor(trace·LUT[Δ]/2048) (``smulbb`` + ``asr #11``), stored in 16 bits **without
  saturation** (a trace above 16.0 wraps negative).
* Lookup tables (plasticity/stdp/common.py, maths.h): entry k = floor(2048·e^(−k·dt/τ)); an index at or beyond the
  table size (or a negative time difference, which is a huge ``uint32``) reads 0.
* Row update for a presynaptic spike at tick t (synapse_dynamics_stdp_mad_impl.c, timing_*_impl.h):

  1. w = stored << s (S16.15 ``accum``);
  2. window = recorded posts with max(t_last_pre − d, 0) < t_post ≤ max(t − d, 0); "prev" =
     the latest recorded post at or before the window start, or the placeholder;
  3. for each window post in time order, potentiation (pair: skip if Δ = 0;
     x = floor(last_pre_trace·LUT+[Δ]/2048); nearest: x = LUT+[Δ] unless the previous
     post, *undelayed*, is later than the last pre spike);
     additive w += floor(A+·x/2048) then w = min(w, w_max);
     multiplicative w += floor(floor((w_max − w)·A+/2^15)·x/2048), no clip;
  4. if any post was ever seen (window non-empty or prev is real), one depression against
     the last window post or prev: Δ = t − (t_p + d), Δ = 0 reads LUT[0];
     pair y = floor(post_trace(p)·LUT−[Δ]/2048), nearest y = LUT−[Δ];
     additive w −= floor(A−·y/2048) then w = max(w, w_min);
     multiplicative w −= floor(floor((w − w_min)·A−/2^15)·y/2048), no clip;
  5. write-back stored = (w >> s) & 0xFFFF (arithmetic shift: floor, then 16 bits);
  6. last_pre ← t and the pre trace is updated.

  All ``accum`` arithmetic is emulated in 32-bit two's complement; ``mul_accum_fixed`` is
  the truncating (floor) 64-bit ``smull`` pattern of the binaries (``mul_accum_fixed`` in stdp_typedefs.h).
* The nearest rule keeps no traces and starts from a phantom presynaptic spike at tick 0
  (timing_nearest_pair_impl.h: the row header starts at time 0).
* A presynaptic spike time listed twice within one tick is sent twice by the
  ``SpikeSourceArray`` and its row is processed twice in that tick; the model does the same.

``backprop_delay=False`` (sPyNNaker's ``STDPMechanism`` option) makes the delay play no part
in STDP: the window is (t_last_pre, t] and lags are t_post − t_pre.

Not modelled: delay-extension stages (delays longer than the post core's ring buffer act as
axonal delay, ``synapse_io.py``), late (dropped) spikes, and the on-chip synapse expander's
round-half-up of initial weights (``rescale_weight`` in the synapse expander against the
host's round-half-even; they differ only at exact .5 ties — choose initial weights on the
LSB grid).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from numbers import Integral

import numpy as np

from .conventions import SPINNAKER_TRACE_ONE, ceil_microsecond_ticks, exponential_table_length, spinnaker_timestep_us
from .errors import ParameterError, check_finite
from .reference import checked_inputs, is_scalar, per_synapse
from .rules import STDPRule

__all__ = [
    "CONDUCTANCE_WEIGHT_SCALE",
    "POST_HISTORY_CAPACITY",
    "S1615_ONE",
    "TRACE_ONE",
    "EncodedRule",
    "FloatModelBound",
    "SynapseStatistics",
    "delay_ticks",
    "encode_rule",
    "encode_s1615",
    "encode_weight",
    "exp_lut",
    "float_model_bound",
    "global_weight_scale",
    "post_spike_ticks",
    "pre_spike_ticks",
    "predict_fixed_point_weights",
    "predict_stored_weights",
    "stored_weight_to_pynn",
    "synapse_statistics",
    "timestep_us",
    "weight_lsb",
    "weight_scale",
]

#: 1.0 in the 4.11 format of traces and lookup-table entries (``STDP_FIXED_POINT_ONE``).
TRACE_ONE = SPINNAKER_TRACE_ONE
#: 1.0 in S16.15 (``accum``).
S1615_ONE = 32768
#: Global weight scale g of conductance-based inputs (``input_type_conductance.py:64``);
#: current- and delta-based inputs use 1.0 (population_vertex.py, synapse_io.py, input_type_*.py).
CONDUCTANCE_WEIGHT_SCALE = 1024.0
#: Real postsynaptic events remembered per neuron: ``MAX_POST_SYNAPTIC_EVENTS`` = 16 slots,
#: slot 0 is a fixed placeholder (post_events.h).
POST_HISTORY_CAPACITY = 15

# S16.15 range accepted by the host encoder (DataType.S1615 in spinn_front_end_common).
_S1615_MIN = Decimal(-65536)
_S1615_MAX = Decimal("65535.999969482421875")
_S1615_SCALE = Decimal(32768)


# ---------------------------------------------------------------------------------------------
# Integer helpers (32-bit accum, 16-bit traces)


def _wrap32(value):
    """Two's-complement int32 of a Python int (``accum`` arithmetic)."""
    return ((value + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def _wrap16(value):
    """Two's-complement int16 of a Python int (trace storage, no saturation, timing_pair_impl.h, synapse_dynamics_stdp_mad_impl.c)."""
    return ((value + 0x8000) & 0xFFFF) - 0x8000


def _mul_accum_fixed(a_bits, x):
    """``mul_accum_fixed(a, x)`` = a·kbits(x << 4): floor(a_bits·x/2048) in int32 (timing_pair_impl.h, synapse_dynamics_stdp_mad_impl.c)."""
    return _wrap32((a_bits * _wrap32(x << 4)) >> 15)


def _mul_accum(a_bits, b_bits):
    """``accum · accum`` by the truncating ``smull`` pattern: floor(a·b/2^15) in int32."""
    return _wrap32((a_bits * b_bits) >> 15)


# ---------------------------------------------------------------------------------------------
# Host-side encodings


def timestep_us(timestep):
    """Simulation timestep in whole µs as ``sim.setup(timestep=…)`` stores it: ceil(timestep·1000).

    ``timestep`` in ms. sPyNNaker derives every other time quantity (``dt`` in ms for the
    lookup tables, ticks per ms for delays) from this integer (``spynnaker/pyNN/spinnaker.py``
    ``_set_up_timings``).
    """
    step = check_finite("timestep", timestep, low=0.0, low_inclusive=False, unit="ms")
    micro = spinnaker_timestep_us(step)
    if micro < 1:
        raise ParameterError(f"timestep must be at least 0.001 ms; got {timestep!r} ms")
    return micro


def exp_lut(tau, timestep):
    """sPyNNaker's exponential lookup table for time constant ``tau`` (ms) at ``timestep`` (ms).

    Entry k (k = 0 … size−1) is floor(2048·e^(−k·λ)) with λ = timestep/τ, computed in
    float64 as the host does; size = ln(2048)/λ rounded up to an even number (plasticity/stdp/common.py, maths.h,
    ``spynnaker/pyNN/models/neuron/plasticity/stdp/common.py`` ``get_exp_lut_array``). The
    board reads an index at or beyond ``size`` as 0. Returns the entries (without the
    ``[size, shift]`` header) as an ``int64`` array.

    ``timestep`` is used as given; sPyNNaker passes ``timestep_us(timestep)/1000``, which is
    what :func:`encode_rule` does.
    """
    tau = check_finite("tau", tau, low=0.0, low_inclusive=False, unit="ms")
    step = check_finite("timestep", timestep, low=0.0, low_inclusive=False, unit="ms")
    decay_rate = step / tau
    size = exponential_table_length(tau, step)
    if size > 0xFFFF:
        raise ParameterError(
            f"tau/timestep = {tau / step!r} gives a lookup table of {size} entries; sPyNNaker stores "
            "the size in 16 bits (and the core runs out of DTCM long before)"
        )
    values = np.floor(np.exp(np.arange(size) * -decay_rate) * TRACE_ONE)
    return values.astype(np.int64)


def encode_s1615(value):
    """Raw S16.15 integer of ``value`` as the host writes it: int(round(Decimal(str(x))·32768)).

    Round-half-even on the exact decimal value of ``str(float(x))`` (population_vertex.py, synapse_io.py, input_type_*.py,
    ``spinn_front_end_common/interface/ds/data_type.py`` ``encode_as_int``). Raises
    :class:`ParameterError` outside the S16.15 range [−65536, 65536).
    """
    number = check_finite("value", value)
    exact = Decimal(str(number))
    if not _S1615_MIN <= exact <= _S1615_MAX:
        raise ParameterError(f"value must be within the S16.15 range [-65536, 65536); got {number!r}")
    return int(round(exact * _S1615_SCALE))


def global_weight_scale(conductance_based=False):
    """g: 1024.0 for conductance-based inputs, 1.0 for current- or delta-based (population_vertex.py, synapse_io.py, input_type_*.py)."""
    if not isinstance(conductance_based, (bool, np.bool_)):
        raise ParameterError(f"conductance_based must be True or False; got {conductance_based!r}")
    return CONDUCTANCE_WEIGHT_SCALE if conductance_based else 1.0


def _check_shift(ring_buffer_shift, name="ring_buffer_shift"):
    if isinstance(ring_buffer_shift, bool) or not isinstance(ring_buffer_shift, Integral):
        raise ParameterError(f"{name} must be an integer in [0, 31]; got {ring_buffer_shift!r}")
    shift = int(ring_buffer_shift)
    if not 0 <= shift <= 31:
        raise ParameterError(f"{name} must be an integer in [0, 31]; got {shift!r}")
    return shift


def weight_scale(ring_buffer_shift, conductance_based=False):
    """Stored integers per PyNN weight unit: 2^(15−s)·g (``PopulationVertex.get_weight_scales``, population_vertex.py, synapse_io.py, input_type_*.py)."""
    shift = _check_shift(ring_buffer_shift)
    return float(math.pow(2, 15 - shift)) * global_weight_scale(conductance_based)


def weight_lsb(ring_buffer_shift, conductance_based=False):
    """Weight step of the stored ``uint16`` in PyNN units (nA or µS): 2^(s−15)/g (population_vertex.py, synapse_io.py, input_type_*.py)."""
    shift = _check_shift(ring_buffer_shift)
    return math.pow(2, shift - 15) / global_weight_scale(conductance_based)


def encode_weight(weight, ring_buffer_shift, conductance_based=False):
    """Stored ``uint16`` of PyNN weight(s) as the host writes them: rint(|w|·2^(15−s)·g).

    Round-half-even (``numpy.rint``; ``synapse_io.py`` then ``synapse_dynamics_stdp.py``,
    population_vertex.py, synapse_io.py, input_type_*.py). Returns an ``int64`` array (a 0-d array for a scalar). Raises
    :class:`ParameterError` if a value does not fit in 16 bits.
    """
    scale = weight_scale(ring_buffer_shift, conductance_based)
    values = np.asarray(weight, dtype=float)
    if not np.isfinite(values).all():
        raise ParameterError(f"weight must be finite; got {weight!r}")
    stored = np.rint(np.abs(values) * scale)
    if (stored > 0xFFFF).any():
        worst = float(np.abs(values).max())
        raise ParameterError(
            f"weight {worst!r} does not fit the 16-bit synaptic word at ring_buffer_shift="
            f"{ring_buffer_shift} (largest representable: {0xFFFF / scale!r}); use a larger shift"
        )
    return stored.astype(np.int64)


def stored_weight_to_pynn(stored, ring_buffer_shift, conductance_based=False):
    """PyNN weight (nA or µS) of stored ``uint16`` integer(s): stored·2^(s−15)/g.

    This is what ``Projection.get("weight")`` returns (``synapse_io.py``
    ``_rescale_connections``, population_vertex.py, synapse_io.py, input_type_*.py). Returns a float64 array.
    """
    values = np.asarray(stored, dtype=np.int64)
    if ((values < 0) | (values > 0xFFFF)).any():
        raise ParameterError(f"stored weights must be integers in [0, 65535]; got {stored!r}")
    return values / weight_scale(ring_buffer_shift, conductance_based)


# ---------------------------------------------------------------------------------------------
# Encoded rule


@dataclass(frozen=True)
class EncodedRule:
    """The STDP parameters as the host writes them to the synapse-dynamics region (plasticity/stdp/common.py, maths.h).

    tau_plus_lut, tau_minus_lut
        4.11 lookup-table entries (``int64`` arrays; sizes are their lengths).
    w_min_bits, w_max_bits
        S16.15 of w_min·g and w_max·g.
    a_plus_bits, a_minus_bits
        S16.15 of A·g (additive: absolute weight units, **no** w_max factor) or of A
        (multiplicative: dimensionless), weight_dependence_additive.py, weight_dependence_multiplicative.py.
    timestep
        The timestep in ms the tables were computed for (timestep_us/1000).
    global_weight_scale
        g (1 or 1024).
    """

    label: str
    timestep: float
    global_weight_scale: float
    tau_plus_lut: np.ndarray = field(repr=False)
    tau_minus_lut: np.ndarray = field(repr=False)
    w_min_bits: int
    w_max_bits: int
    a_plus_bits: int
    a_minus_bits: int
    nearest: bool
    multiplicative: bool

    def lut_words(self, lut):
        """One lookup table as the region holds it: ``uint16`` [size, shift=0] then the entries,
        packed little-endian into 32-bit words."""
        half_words = np.concatenate([[len(lut), 0], lut]).astype(np.uint16)
        return half_words.view(np.uint32)

    def region_words(self, n_synapse_types=1, backprop_delay=True):
        """The synapse-dynamics region ("synapseDynamicsParams", region 7) as 32-bit words.

        Layout from plasticity/stdp/common.py, maths.h (decoded from a virtual-board data spec): a ``backprop_delay``
        word, the τ+ table, the τ− table, then per synapse type the four S16.15 words
        w_min, w_max, A+, A− (identical for every type). Compare with the bytes of the
        ``region`` table of ``ds.sqlite3`` for the post core (data-spec database).
        """
        if isinstance(n_synapse_types, bool) or not isinstance(n_synapse_types, Integral) or n_synapse_types < 1:
            raise ParameterError(f"n_synapse_types must be an integer >= 1; got {n_synapse_types!r}")
        per_type = np.array(
            [self.w_min_bits, self.w_max_bits, self.a_plus_bits, self.a_minus_bits], dtype=np.int64
        ).astype(np.int32).view(np.uint32)
        return np.concatenate(
            [
                np.array([1 if backprop_delay else 0], dtype=np.uint32),
                self.lut_words(self.tau_plus_lut),
                self.lut_words(self.tau_minus_lut),
                np.tile(per_type, int(n_synapse_types)),
            ]
        )

    def to_dict(self):
        """JSON-ready description (tables as lists)."""
        return {
            "label": self.label,
            "timestep": self.timestep,
            "global_weight_scale": self.global_weight_scale,
            "tau_plus_lut": [int(v) for v in self.tau_plus_lut],
            "tau_minus_lut": [int(v) for v in self.tau_minus_lut],
            "w_min_bits": self.w_min_bits,
            "w_max_bits": self.w_max_bits,
            "a_plus_bits": self.a_plus_bits,
            "a_minus_bits": self.a_minus_bits,
        }


def encode_rule(rule, timestep, conductance_based=False):
    """Encode ``rule`` as sPyNNaker 1!7.4.1 writes it for a run at ``timestep`` (ms).

    Tables: :func:`exp_lut` at timestep_us/1000 (the value ``SpynnakerDataView`` hands to
    the timing dependence). Bounds: S16.15 of w·g. Amplitudes: additive S16.15 of A·g,
    multiplicative S16.15 of A (``weight_dependence_additive.py`` /
    ``weight_dependence_multiplicative.py`` ``write_parameters``; weight_dependence_multiplicative.py).
    """
    if not isinstance(rule, STDPRule):
        raise ParameterError(f"rule must be an STDPRule; got {rule!r}")
    step = timestep_us(timestep) / 1000.0
    g = global_weight_scale(conductance_based)
    timing, bounds = rule.timing, rule.weight
    amplitude_scale = 1.0 if rule.is_multiplicative else g
    return EncodedRule(
        label=rule.label,
        timestep=step,
        global_weight_scale=g,
        tau_plus_lut=exp_lut(timing.tau_plus, step),
        tau_minus_lut=exp_lut(timing.tau_minus, step),
        w_min_bits=encode_s1615(bounds.w_min * g),
        w_max_bits=encode_s1615(bounds.w_max * g),
        a_plus_bits=encode_s1615(timing.A_plus * amplitude_scale),
        a_minus_bits=encode_s1615(timing.A_minus * amplitude_scale),
        nearest=rule.is_nearest,
        multiplicative=rule.is_multiplicative,
    )


# ---------------------------------------------------------------------------------------------
# Time grid


def pre_spike_ticks(times, timestep):
    """Presynaptic ``SpikeSourceArray`` ticks: ceil(floor(t·1000)/dt_µs) (spike_source_array_vertex.py; off-grid times round **up**)."""
    timestep_us(timestep)  # validates the timestep
    return ceil_microsecond_ticks(times, timestep)


def post_spike_ticks(times, timestep):
    """Postsynaptic ticks of *recorded* times (tick·dt): rint(t/dt) (recorded times are tick·dt)."""
    step = timestep_us(timestep) / 1000.0
    return np.rint(np.asarray(times, dtype=float) / step).astype(np.int64)


def delay_ticks(delay, timestep):
    """Delay in ticks: rint(d·ticks_per_ms) (``synapse_io.py``, spike_source_array_vertex.py)."""
    per_ms = 1000.0 / timestep_us(timestep)
    return np.rint(np.asarray(delay, dtype=float) * per_ms).astype(np.int64)


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
