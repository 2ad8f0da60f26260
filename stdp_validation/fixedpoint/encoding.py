"""sPyNNaker's host-side encodings, reproduced: lookup tables, S16.15 words, weight scales,
the encoded rule and the tick grid (see the package docstring for the sources)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from numbers import Integral

import numpy as np

from ..conventions import (
    SPINNAKER_TRACE_ONE,
    ceil_microsecond_ticks,
    exponential_table_length,
    spinnaker_timestep_us,
)
from ..errors import ParameterError, check_finite
from ..rules import STDPRule

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


