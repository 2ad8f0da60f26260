"""The emulated execution of the ``spinnaker`` backend: stage two for every protocol of a run.

Two modes: the synapse-level one below (:func:`emulate_item`) for driven post cells, and the
tick-level one for the seed network (:func:`emulate_network_item`, :mod:`.emulator.network`),
in which every core also runs its neuron update.

Stage one is the real toolchain on a virtual board (mapping, data generation); the
backend keeps each post population's core images (:mod:`.emulator.images`). Here, after
``end()``, each protocol's post cores run their own binary in the ARM emulator, driven by
the protocol's spikes: presynaptic spikes at the ticks sPyNNaker gives the
``SpikeSourceArray`` times, postsynaptic spikes at the intended firing ticks of the driven
post cells (neurons are not emulated). The observation gets the stored integers read back
from the emulated rows, the weights they mean, the spike times at those ticks, and
sPyNNaker's own counters as provenance.
"""

from __future__ import annotations

import importlib.metadata
import time

import numpy as np

from ... import fixedpoint
from ...conventions import ceil_microsecond_ticks
from ...results.status import Execution

#: What an emulated result does not exercise (said wherever such a result is shown).
NOT_EXERCISED = ("not a board: neuron dynamics, packet timing, DMA, the synapse expander and the chip itself are "
                 "not exercised")
#: Why an emulated case's stored integers must equal the fixed-point model's.
EMULATED_REASON = (
    "sPyNNaker's ARM code in an emulator vs the bit-accurate fixed-point model: equal stored 16-bit integers "
    "(the same integer algorithm; the emulator runs the shipped binary on the toolchain's own bytes)"
)
#: Why a protocol the emulation cannot run gets toolchain checks only.
DYNAMICS_NOT_EMULATED = ("its network is neither driven post cells ('source', the synapse-level emulation) nor the seed "
                         "network (the tick-level emulation): no learned weight (toolchain checks only)")


def spynnaker_version():
    try:
        return importlib.metadata.version("sPyNNaker")
    except importlib.metadata.PackageNotFoundError:
        return "?"


def emulable(protocol):
    """Whether the emulation can run ``protocol``: driven post cells (``"source"``: the
    synapse-level emulation, post ticks known) or the seed network (``"seed"``: the
    tick-level emulation of every core, neurons included)."""
    return protocol.network in ("source", "seed")


def execution_label(cores):
    """The one-line description of an emulated result, e.g. for the report banner."""
    binaries = ", ".join(f"{c['binary']}, sha256 {c['sha256'][:12]}…" for c in cores)
    return f"sPyNNaker {spynnaker_version()} ARM code ({binaries}) run in an ARM emulator; {NOT_EXERCISED}"


def source_ticks(item, trains=None):
    """The ticks at which sPyNNaker sends each ``SpikeSourceArray`` spike of ``trains``
    (default: the plastic projection's pre trains)."""
    trains = item.pre_trains if trains is None else trains
    return [ceil_microsecond_ticks(train, item.protocol.timestep).tolist() for train in trains]


def recorded_ticks(spike_times, timestep):
    """Recorded spike trains (ms, as sPyNNaker reports them: tick × dt) back to integer ticks."""
    return [fixedpoint.post_spike_ticks(times, timestep).tolist() for times in spike_times]


def _emulate(item, pre_ticks, post_ticks, images, binary_overrides):
    from .emulator.emulate import emulate_population

    n = len(item.protocol.cases)
    result = emulate_population(images, pre_ticks, post_ticks, [(i, i) for i in range(n)],
                                binary_overrides=binary_overrides)
    return result, np.asarray(result.stored, dtype=np.int64)


def emulate_item(item, readout, binary_overrides=None):
    """Emulate one protocol; fills ``readout`` (weights, spikes, extras) from the emulated cores."""
    started = time.perf_counter()
    protocol = item.protocol
    timestep = protocol.timestep
    images = readout.pending["images"]
    pre_ticks = source_ticks(item)
    post_ticks = [fixedpoint.post_spike_ticks(case.post_drive_times, timestep).tolist() for case in protocol.cases]
    result, stored = _emulate(item, pre_ticks, post_ticks, images, binary_overrides)
    conductance = images["global_weight_scale"] != 1.0
    lsb = fixedpoint.weight_lsb(images["ring_buffer_shift"], conductance)
    readout.weights = stored * lsb
    step = fixedpoint.timestep_us(timestep) / 1000.0
    readout.pre = [[round(t * step, 9) for t in ticks] for ticks in pre_ticks]
    readout.post = [[round(t * step, 9) for t in ticks] for ticks in post_ticks]
    label = execution_label(result.cores)
    readout.extras.update(
        execution=Execution.EMULATED,
        stored_weights=stored.tolist(),
        provenance={"cores": [{k: v for k, v in core.items() if k != "addresses"} for core in result.cores],
                    "counters": result.counters,
                    "invalid_cases": {str(i): why for i, why in result.invalid.items()},
                    "emulator": {"execution": label, "events": result.events,
                                 "addresses": {c["binary"]: c["addresses"] for c in result.cores}}},
    )
    readout.extras.setdefault("notes", []).extend([
        label + ".",
        "spike times are the ticks the emulated core processed: presynaptic spikes at sPyNNaker's SpikeSourceArray "
        "ticks, postsynaptic spikes at the intended firing ticks of the driven post cells (neurons are not "
        "emulated); within a tick, post events before rows.",
        f"sPyNNaker's counters on the emulated core(s): {result.counters}",
    ] + [f"binary {c['binary']} not in the committed address table: its functions were located afresh"
         for c in result.cores if not c["pinned"]])
    item.timings["emulation"] = time.perf_counter() - started


def emulate_beside(item, readout, binary_overrides=None):
    """After a board run: the same binaries in the emulator, on the bytes the host sent to the
    board and the spikes the board recorded (post spikes at their recorded ticks). The board's
    result is unchanged; ``provenance["emulated_beside"]`` gets the emulated stored integers,
    which the comparison uses to attribute each difference to the chip or to the code."""
    started = time.perf_counter()
    images = readout.pending["images"]
    post_ticks = recorded_ticks(readout.post, item.protocol.timestep)
    result, stored = _emulate(item, source_ticks(item), post_ticks, images, binary_overrides)
    provenance = readout.extras.setdefault("provenance", {})
    provenance["emulated_beside"] = {
        "stored": stored.tolist(), "execution": execution_label(result.cores), "events": result.events,
        "counters": result.counters,
        "cores": [{k: v for k, v in core.items() if k != "addresses"} for core in result.cores],
        "post_ticks": "recorded on the board",
    }
    readout.extras.setdefault("notes", []).append(
        f"emulated beside the board: {execution_label(result.cores)}; on the board's recorded post spikes")
    item.timings["emulation"] = time.perf_counter() - started


#: What the tick-level emulation of a network does not exercise (said with each such result).
NETWORK_NOT_EXERCISED = ("not a board: interrupts, packet timing within a tick, DMA timing, the router hardware, the "
                         "synapse expander and neuron builder, SARK start-up and the chip itself are not exercised; "
                         "the spike sources are fed from their data, not emulated")
#: Units of the recorded variables as sPyNNaker reports them.
TRACE_UNITS = {"v": "mV", "gsyn_exc": "uS", "gsyn_inh": "uS"}


def network_label(cores):
    binaries = ", ".join(sorted({f"{c.name}, sha256 {c.image.sha256[:12]}…" for c in cores}))
    return (f"sPyNNaker {spynnaker_version()} ARM code ({binaries}) run tick by tick in an ARM emulator, neurons "
            f"included; {NETWORK_NOT_EXERCISED}")


def emulate_network_item(item, readout, binary_overrides=None):
    """Emulate the seed network of one protocol tick by tick (:mod:`.emulator.network`):
    every combined core the toolchain placed runs its own neuron update and synapse code;
    fills ``readout`` with the spikes, traces and learned weights of the emulated cores."""
    from .emulator.network import emulate_network, stored_weights
    from .emulator.neuron_core import PARTS_NOT_RUN, PARTS_RUN

    started = time.perf_counter()
    protocol = item.protocol
    network = readout.pending["network"]
    step_ms = network["timestep_us"] / 1000.0
    n = len(protocol.cases)
    ticks = {"thalamic pre": source_ticks(item), "thalamic post": source_ticks(item, item.drive_trains)}
    n_ticks = int(round(protocol.t_stop / protocol.timestep))
    result = emulate_network(network, ticks, n_ticks, binary_overrides=binary_overrides)

    def trains(role):
        spikes = result.spikes.get(role, {})
        return [[round(t * step_ms, 9) for t in sorted(spikes.get(i, []))] for i in range(n)]

    readout.pre, readout.post = trains("pre cell"), trains("post cell")
    images = readout.pending["images"]
    [plastic] = [p for p in images["projections"] if p["plastic"]]
    stored = np.asarray(stored_weights(result, "post cell", plastic["keys"], [(i, i) for i in range(n)]),
                        dtype=np.int64)
    conductance = images["global_weight_scale"] != 1.0
    readout.weights = stored * fixedpoint.weight_lsb(images["ring_buffer_shift"], conductance)
    traces = {}
    for name in protocol.record_traces:
        entry = {"units": TRACE_UNITS.get(name, "")}
        for side, role in (("pre", "pre cell"), ("post", "post cell")):
            recorded = result.traces.get(role, {}).get(name, {})
            if not recorded:
                continue
            ticks_recorded = next(iter(recorded.values()))[0]
            entry["times"] = [round(float(t) * step_ms, 9) for t in ticks_recorded]
            entry[side] = [recorded[i][1].tolist() if i in recorded else [] for i in range(n)]
        traces[name] = entry
    readout.traces = traces
    label = network_label(result.cores)
    readout.extras.update(
        execution=Execution.EMULATED,
        stored_weights=stored.tolist(),
        provenance={"network": {
            "execution": label, "ticks": result.ticks, "packets": result.packets, "rows": result.rows,
            "cores": [{"role": r["role"], "binary": r["binary"], "sha256": c.image.sha256,
                       "placement": r["placement"],
                       "regions": {k: v["source"] for k, v in r["regions"].items()},
                       "addresses": {k: (f"{v:#x}" if isinstance(v, int) else v)
                                     for k, v in c.located.to_json().items()}}
                      for r, c in zip(network["cores"], result.cores)],
            "parts_run": PARTS_RUN, "parts_not_run": PARTS_NOT_RUN}},
    )
    readout.extras.setdefault("notes", []).extend([
        label + ".",
        f"tick-level emulation: {PARTS_RUN}; {PARTS_NOT_RUN}.",
        "spike times are the ticks at which the emulated neuron updates fired (recorded bit fields, tick × dt); "
        "traces are the emulated cores' recordings (S16.15 → float, as sPyNNaker's read-out): their difference from "
        "NEST's or Brian2's is a difference in neuron arithmetic, reported, not judged.",
        "the neuron-parameter and neuron-recording regions are sPyNNaker's host encoding of the same parameters "
        "(on a virtual board the neuron builder would write them on the chip)",
    ])
    item.timings["emulation"] = time.perf_counter() - started
