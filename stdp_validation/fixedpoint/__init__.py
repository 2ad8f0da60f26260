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


from .bound import FloatModelBound, float_model_bound
from .encoding import (
    CONDUCTANCE_WEIGHT_SCALE,
    POST_HISTORY_CAPACITY,
    S1615_ONE,
    TRACE_ONE,
    EncodedRule,
    delay_ticks,
    encode_rule,
    encode_s1615,
    encode_weight,
    exp_lut,
    global_weight_scale,
    post_spike_ticks,
    pre_spike_ticks,
    stored_weight_to_pynn,
    timestep_us,
    weight_lsb,
    weight_scale,
)
from .synapse import (
    SynapseStatistics,
    predict_fixed_point_weights,
    predict_stored_weights,
    synapse_statistics,
)

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

