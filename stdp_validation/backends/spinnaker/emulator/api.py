"""``emulate_stored_weights``: sPyNNaker's STDP machine code on given spike trains, for scripts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .... import fixedpoint
from ....conventions import ceil_microsecond_ticks
from ....errors import ParameterError, check_finite
from ....trains import checked_inputs, per_synapse


@dataclass(frozen=True)
class EmulatedWeights:
    """Stored weights computed by sPyNNaker's own ARM code in the emulator.

    stored
        ``numpy.uint16`` array, one stored integer per synapse.
    lsb
        PyNN weight units (nA or µS) per stored integer: 2^(s−15)/g for the ring-buffer
        shift s the toolchain chose.
    binary, sha256
        The binary that ran (the toolchain's choice) and its SHA-256.
    counters
        sPyNNaker's own counters, summed over the emulated cores (plastic pre-synaptic
        events, plastic saturation, skipped synapses, late spikes, max late spike).
    ring_buffer_shift
        s of the plastic synapse type.
    """

    stored: np.ndarray
    lsb: float
    binary: str
    sha256: str
    counters: dict
    ring_buffer_shift: int

    @property
    def weights(self):
        """The stored weights in PyNN units, as ``Projection.get("weight")`` would report them."""
        return self.stored.astype(float) * self.lsb


def emulate_stored_weights(pre_spike_times, post_spike_times, rule, *, delay, initial_weight, timestep=1.0,
                           conductance_based=False):
    """Stored 16-bit weights computed by sPyNNaker 1!7.4.1's shipped ARM code for given spike trains.

    Same train conventions as :func:`stdp_validation.predict_weights` (times in ms; one
    synapse as two 1-D trains, or a sequence of trains, one synapse per pre/post pair of
    cells). sPyNNaker's real toolchain maps a one-to-one network of ``SpikeSourceArray``
    cells → plastic synapses (``FromListConnector``, the excitatory synapse type) → post
    cells (``IF_cond_exp`` if ``conductance_based`` else ``IF_curr_exp``) on a virtual
    board (with a separate synapse core where sPyNNaker 1!7.4.1 would pick a combined binary
    it does not ship); the binary it chose for the post core then runs in the emulator, initialised by
    its own code on the region bytes the toolchain wrote. Presynaptic spikes are processed at
    sPyNNaker's ``SpikeSourceArray`` ticks, postsynaptic spikes at rint(t/dt) (neurons are not
    emulated: the post trains are given), post events first within a tick.

    ``delay`` (ms, ≥ one timestep), ``initial_weight`` (PyNN units, scalar or per synapse),
    ``timestep`` (ms). Returns :class:`EmulatedWeights`; compare ``stored`` with
    :func:`stdp_validation.fixedpoint.predict_stored_weights` at the returned
    ``ring_buffer_shift``. Raises :class:`~stdp_validation.errors.ParameterError` for bad
    input before anything runs, and :class:`~.core.EmulationFault` (binary, function, tick)
    if the emulated code faults.
    """
    from . import unavailable_reason

    pre, post = checked_inputs(pre_spike_times, post_spike_times, rule)
    n = len(pre)
    timestep = check_finite("timestep", timestep, low=0.0, low_inclusive=False, unit="ms")
    delay = check_finite("delay", delay, low=timestep, unit="ms")
    weights = per_synapse(initial_weight, "initial_weight", n, low=rule.weight.w_min, high=rule.weight.w_max)
    if not isinstance(conductance_based, (bool, np.bool_)):
        raise ParameterError(f"conductance_based must be True or False; got {conductance_based!r}")
    reason = unavailable_reason()
    if reason:
        raise ParameterError(f"emulate_stored_weights: {reason}")
    latest = max([float(t[-1]) for t in pre + post if len(t)] + [0.0])
    run_time = timestep * (math.ceil(latest / timestep) + 2 * math.ceil(delay / timestep) + 10)
    try:
        population = _map(pre, weights, rule, delay, timestep, bool(conductance_based), run_time)
    except KeyError as error:
        if "not found" not in str(error):
            raise
        # sPyNNaker 1!7.4.1 picks a combined binary the wheel does not ship (IF_cond_exp with
        # multiplicative STDP): map with a separate synapse core, whose binary exists.
        population = _map(pre, weights, rule, delay, timestep, bool(conductance_based), run_time, synapse_cores=1)
    pre_ticks = [ceil_microsecond_ticks(train, timestep).tolist() for train in pre]
    post_ticks = [fixedpoint.post_spike_ticks(train, timestep).tolist() for train in post]
    from .emulate import emulate_population

    result = emulate_population(population, pre_ticks, post_ticks, [(i, i) for i in range(n)])
    shift = population["ring_buffer_shift"]
    core = result.cores[0]
    return EmulatedWeights(
        stored=np.asarray(result.stored, dtype=np.uint16),
        lsb=fixedpoint.weight_lsb(shift, bool(conductance_based)),
        binary=core["binary"], sha256=core["sha256"], counters=result.counters, ring_buffer_shift=shift,
    )


def _map(pre, weights, rule, delay, timestep, conductance_based, run_time, synapse_cores=None):
    """Stage one: the one-to-one network mapped by sPyNNaker's toolchain; its post population's record."""
    import importlib
    import warnings

    from ..backend import SpinnakerBackend
    from ..workspace import isolated_workspace
    from .images import extract_population

    backend = SpinnakerBackend()
    with warnings.catch_warnings(), isolated_workspace():
        warnings.simplefilter("ignore")
        sim = importlib.import_module("pyNN.spiNNaker")
        sim.setup(timestep=timestep)
        try:
            n = len(pre)
            sources = sim.Population(n, sim.SpikeSourceArray(spike_times=[[float(t) for t in train] for train in pre]),
                                     label="emulated pre")
            extra = {} if synapse_cores is None else {"additional_parameters": {"n_synapse_cores": synapse_cores}}
            cells = sim.Population(n, sim.IF_cond_exp() if conductance_based else sim.IF_curr_exp(),
                                   label="emulated post", **extra)
            synapse = backend.plastic_synapse(sim, rule, delay, rule.weight.w_min)
            connector = sim.FromListConnector([(i, i, float(w), float(delay)) for i, w in enumerate(weights)],
                                              column_names=["weight", "delay"])
            sim.Projection(sources, cells, connector, synapse, receptor_type="excitatory")
            sim.run(run_time)
            return extract_population(cells, "excitatory")
        finally:
            sim.end()
