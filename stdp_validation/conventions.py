"""Backend conventions: the switches that make one PyNN script give different weights.

Each backend implements pair-based STDP with its own, mostly undocumented, choices. The
reference model (:mod:`stdp_validation.reference`) takes them as explicit switches; every
backend declares its set in :data:`CONVENTIONS`. Each entry was read from the backend's
source (NEST 3.10 ``models/stdp_synapse.h`` and ``nestkernel/archiving_node.cpp``; PyNN 0.13.0
``pyNN/brian2/standardmodels/synapses.py``; sPyNNaker 1!7.4.1 ``neural_modelling`` STDP code)
and measured; ``docs/architecture.md`` explains them.

Times are "synapse-side": a presynaptic spike emitted at ``t_pre`` is seen by the synapse
at ``t_pre + (1 − f)·delay`` and a postsynaptic spike at ``t_post + f·delay``, where
``f = dendritic_delay_fraction``. The *lag* of a pair is the difference of the two.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, replace
from types import MappingProxyType
from typing import Optional

import numpy as np

from .errors import ParameterError, check_finite

AMPLITUDE_SCALINGS = ("w_max", "absolute")
UPDATE_TIMINGS = ("immediate", "deferred")
ZERO_LAG_RULES = ("ignore", "potentiation", "depression")
SIMULTANEOUS_ORDERS = ("post_first", "pre_first")
NEAREST_SCHEMES = (None, "symmetric", "presynaptic_centred", "restricted", "spinnaker")
TIME_ROUNDINGS = ("none", "ceil", "ceil_microseconds", "nearest")

#: 1.0 in sPyNNaker's 4.11 fixed-point format of STDP traces and lookup-table entries
#: (``STDP_FIXED_POINT_ONE``); its exponential tables hold floor(2048·e^(−k·dt/τ)).
SPINNAKER_TRACE_ONE = 2048


def spinnaker_timestep_us(timestep):
    """The timestep in whole µs as sPyNNaker's ``setup(timestep=…)`` stores it: ceil(timestep·1000)."""
    return math.ceil(timestep * 1000.0)


def exponential_table_length(tau, timestep):
    """Number of entries of sPyNNaker's exponential lookup table for ``tau`` and ``timestep`` (ms).

    ln(2048)/(timestep/τ) rounded up to an even number, computed as sPyNNaker's host does
    (``spynnaker/pyNN/models/neuron/plasticity/stdp/common.py`` ``get_exp_lut_array``); beyond
    this many ticks the hardware's decay factor is exactly 0.
    """
    half, remainder = divmod(math.log(SPINNAKER_TRACE_ONE) / (timestep / tau), 2)
    return (int(half) + (1 if remainder > 0 else 0)) * 2


#: Slack that keeps a time on the timestep grid on it when rounding up (a fraction of a step).
GRID_SLACK = 1e-9


def ceil_ticks(times, timestep):
    """NEST's grid stamp of spike times (ms): ceil(t/h), a time already on the grid staying on it."""
    return np.ceil(np.asarray(times, dtype=float) / timestep - GRID_SLACK).astype(np.int64)


def ceil_microsecond_ticks(times, timestep):
    """sPyNNaker ``SpikeSourceArray`` ticks: ceil(floor(t·1000) / dt_µs), dt_µs = :func:`spinnaker_timestep_us`.

    Times (ms) are truncated to whole µs, then rounded **up** to the tick grid, in float64
    exactly as sPyNNaker 1!7.4.1 computes them (``spike_source_array_vertex.py``).
    """
    micro = spinnaker_timestep_us(timestep)
    return np.ceil(np.floor(np.asarray(times, dtype=float) * 1000.0) / micro).astype(np.int64)


@dataclass(frozen=True)
class Conventions:
    """How one backend turns spike pairs into weight changes.

    amplitude_scaling
        ``"w_max"``: additive Δw = A·w_max·kernel (NEST, pyNN.brian2);
        ``"absolute"``: Δw = A·kernel in weight units (sPyNNaker). Multiplicative rules
        scale by (w_max − w) and (w − w_min) on every backend, so this switch does not apply.
    dendritic_delay_fraction
        Part of the connection delay applied to postsynaptic spikes (1: all dendritic, lag
        s = t_post + d − t_pre; 0: all axonal, s = t_post − t_pre − d).
    update_timing
        ``"immediate"``: each spike changes the weight when the synapse sees it;
        ``"deferred"``: the weight changes only when a presynaptic spike is processed, so
        potentiation by a postsynaptic spike shows up at the next presynaptic spike.
    zero_lag
        What a pair with lag exactly 0 does: ``"ignore"`` (no change), ``"potentiation"``
        (full A_plus), ``"depression"`` (full A_minus).
    simultaneous_order
        Which update runs first when a presynaptic and a postsynaptic event fall on the same
        synapse-side time (matters for clipping and multiplicative rules).
    nearest_scheme
        Pairing used for :class:`~stdp_validation.rules.SpikeNearestPairRule`; ``None`` means
        the backend offers no nearest-neighbour rule.
    phantom_presynaptic_spike
        Nearest schemes only: postsynaptic spikes before the first presynaptic spike pair with
        a presynaptic spike at synapse time 0 (the last-spike time starts at 0).
    restricted_gate_includes_coincident_post
        ``restricted`` scheme only (NEST ``stdp_nn_restr_synapse``): depression is gated on a
        postsynaptic spike in (t_last_pre, t_pre] *including* one at lag 0, while the partner
        is the nearest strictly earlier postsynaptic spike.
    clip_multiplicative
        Whether the multiplicative rule clips to [w_min, w_max] after each update (the
        additive rule always does).
    supports_nonzero_w_min
        ``False`` where the backend rejects ``w_min != 0``.
    post_history_limit
        Postsynaptic spikes remembered per neuron for deferred potentiation (``None``:
        unlimited). Older spikes lose their potentiation silently.
    exponential_table
        Decays use sPyNNaker's lookup-table length: a decay over as many ticks as the table
        has entries, or more, is exactly 0. Needs ``timestep``.
    timestep
        Simulation time step in ms, or ``None`` to use spike times and delay as given.
    presynaptic_rounding
        How presynaptic times are put on the ``timestep`` grid: ``"none"``, ``"ceil"`` (NEST's
        grid stamp), ``"ceil_microseconds"`` (sPyNNaker's ``SpikeSourceArray``: truncate to
        whole µs, then round up, see :func:`ceil_microsecond_ticks`) or ``"nearest"``. The delay
        is rounded to the nearest step whenever ``timestep`` is set.
    post_at_zero_potentiates
        ``False`` where a postsynaptic spike at exactly t = 0 never potentiates (sPyNNaker: the
        potentiation window (t_last_pre − d, t_pre − d] is clamped at 0).
    events_at_t_stop_processed
        Whether a presynaptic spike at exactly ``t_stop`` is processed by a run that ends at
        ``t_stop`` (NEST: yes; Brian2 and sPyNNaker simulate steps t < t_stop).
    coincidence_tolerance
        Times closer than this (ms) count as simultaneous; times are compared on this grid.
        NEST's ``stdp_eps`` is 1e-6 ms.
    weight_dependences
        Names of the weight-dependence classes the backend implements (``None``: all of
        :mod:`~stdp_validation.rules`).
    backprop_delay
        ``False``: the connection delay plays no part in STDP: postsynaptic spikes are not
        shifted by the dendritic delay and presynaptic spikes not by an axonal one, so the
        synapse pairs emission times (sPyNNaker's ``STDPMechanism(backprop_delay=False)``,
        ``synapse_dynamics_stdp_mad_impl.c``: the post-event window is (t_last_pre, t]).
    """

    name: str
    amplitude_scaling: str = "w_max"
    dendritic_delay_fraction: float = 1.0
    update_timing: str = "immediate"
    zero_lag: str = "ignore"
    simultaneous_order: str = "post_first"
    nearest_scheme: Optional[str] = None
    phantom_presynaptic_spike: bool = False
    restricted_gate_includes_coincident_post: bool = False
    clip_multiplicative: bool = True
    supports_nonzero_w_min: bool = True
    post_history_limit: Optional[int] = None
    exponential_table: bool = False
    timestep: Optional[float] = None
    presynaptic_rounding: str = "none"
    post_at_zero_potentiates: bool = True
    events_at_t_stop_processed: bool = True
    coincidence_tolerance: float = 1e-6
    description: str = ""
    backprop_delay: bool = True
    weight_dependences: Optional[tuple] = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(f"name must be a non-empty string; got {self.name!r}")
        choices = {
            "amplitude_scaling": AMPLITUDE_SCALINGS,
            "update_timing": UPDATE_TIMINGS,
            "zero_lag": ZERO_LAG_RULES,
            "simultaneous_order": SIMULTANEOUS_ORDERS,
            "nearest_scheme": NEAREST_SCHEMES,
            "presynaptic_rounding": TIME_ROUNDINGS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ParameterError(f"{name} must be one of {allowed}; got {getattr(self, name)!r}")
        fraction = check_finite("dendritic_delay_fraction", self.dendritic_delay_fraction, low=0.0, high=1.0)
        object.__setattr__(self, "dendritic_delay_fraction", fraction)
        tolerance = check_finite(
            "coincidence_tolerance", self.coincidence_tolerance, low=0.0, low_inclusive=False, unit="ms"
        )
        object.__setattr__(self, "coincidence_tolerance", tolerance)
        if self.weight_dependences is not None:
            object.__setattr__(self, "weight_dependences", tuple(self.weight_dependences))
        if not isinstance(self.backprop_delay, bool):
            raise ParameterError(f"backprop_delay must be True or False; got {self.backprop_delay!r}")
        if self.timestep is not None:
            step = check_finite("timestep", self.timestep, low=0.0, low_inclusive=False, unit="ms")
            object.__setattr__(self, "timestep", step)
        if self.post_history_limit is not None and (
            isinstance(self.post_history_limit, bool)
            or not isinstance(self.post_history_limit, numbers.Integral)
            or self.post_history_limit < 1
        ):
            raise ParameterError(
                f"post_history_limit must be None or an integer >= 1; got {self.post_history_limit!r}"
            )

    def amplitude_gain(self, rule):
        """The factor an additive half's A± is multiplied by: w_max (``amplitude_scaling="w_max"``)
        or 1 (``"absolute"``); ``None`` for the multiplicative rule, which scales by the weight
        (the mixed rule's additive potentiation takes the gain, its depression the weight)."""
        if rule.is_multiplicative or rule.is_gutig:
            return None
        return rule.weight.w_max if self.amplitude_scaling == "w_max" else 1.0

    def with_timestep(self, timestep):
        """The same conventions on a ``timestep`` (ms) grid."""
        return replace(self, timestep=timestep)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Conventions":
        try:
            return cls(**data)
        except TypeError as error:
            raise ParameterError(f"conventions description is not valid: {error}") from None


_NEST = Conventions(
    name="nest",
    amplitude_scaling="w_max",
    dendritic_delay_fraction=1.0,
    update_timing="deferred",
    zero_lag="ignore",
    simultaneous_order="post_first",
    nearest_scheme="symmetric",
    phantom_presynaptic_spike=True,
    clip_multiplicative=True,
    supports_nonzero_w_min=False,
    presynaptic_rounding="ceil",
    events_at_t_stop_processed=True,
    description="NEST stdp_synapse through pyNN.nest (nearest rule: stdp_nn_symm_synapse)",
)

_BRIAN2 = Conventions(
    name="brian2",
    amplitude_scaling="w_max",
    dendritic_delay_fraction=0.0,
    update_timing="immediate",
    zero_lag="potentiation",
    simultaneous_order="pre_first",
    nearest_scheme=None,
    clip_multiplicative=True,
    supports_nonzero_w_min=True,
    presynaptic_rounding="nearest",
    events_at_t_stop_processed=False,
    description="pyNN.brian2 STDPMechanism",
    # pyNN.brian2 raises AttributeError for GutigWeightDependence (no mu_plus in its equations).
    weight_dependences=("AdditiveWeightDependence", "MultiplicativeWeightDependence",
                        "AdditivePotentiationMultiplicativeDepression"),
)

_SPINNAKER = Conventions(
    name="spinnaker",
    amplitude_scaling="absolute",
    dendritic_delay_fraction=1.0,
    update_timing="deferred",
    zero_lag="depression",
    simultaneous_order="post_first",
    nearest_scheme="spinnaker",
    phantom_presynaptic_spike=True,
    clip_multiplicative=False,
    supports_nonzero_w_min=True,
    post_history_limit=15,
    exponential_table=True,
    presynaptic_rounding="ceil_microseconds",
    post_at_zero_potentiates=False,
    events_at_t_stop_processed=False,
    description="sPyNNaker 1!7.4.1 event semantics in float64 (no fixed-point arithmetic)",
    weight_dependences=("AdditiveWeightDependence", "MultiplicativeWeightDependence"),
)

#: Each backend's declared conventions, by name. The ``nest_nn_*`` entries are NEST's other
#: nearest-neighbour synapse models (reachable through ``pyNN.nest.native_synapse_type``).
CONVENTIONS = MappingProxyType(
    {
        "nest": _NEST,
        "nest_nn_symm": replace(
            _NEST, name="nest_nn_symm", description="NEST stdp_nn_symm_synapse (native)"
        ),
        "nest_nn_pre_centered": replace(
            _NEST,
            name="nest_nn_pre_centered",
            nearest_scheme="presynaptic_centred",
            phantom_presynaptic_spike=False,
            description="NEST stdp_nn_pre_centered_synapse (native)",
        ),
        "nest_nn_restr": replace(
            _NEST,
            name="nest_nn_restr",
            nearest_scheme="restricted",
            restricted_gate_includes_coincident_post=True,
            description="NEST stdp_nn_restr_synapse (native)",
        ),
        "brian2": _BRIAN2,
        "spinnaker": _SPINNAKER,
    }
)


def resolve_conventions(conventions) -> Conventions:
    """Accept a :class:`Conventions` or a name from :data:`CONVENTIONS`."""
    if isinstance(conventions, Conventions):
        return conventions
    if isinstance(conventions, str) and conventions in CONVENTIONS:
        return CONVENTIONS[conventions]
    raise ParameterError(
        f"conventions must be a Conventions instance or one of {sorted(CONVENTIONS)}; got {conventions!r}"
    )
