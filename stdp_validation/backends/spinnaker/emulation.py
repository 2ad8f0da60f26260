"""The emulated execution of the ``spinnaker`` backend: stage two for every protocol of a run.

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
#: Why a protocol whose post cells fire from their own dynamics is not emulated.
DYNAMICS_NOT_EMULATED = ("its post cells fire from their own neuron dynamics, which the synapse-level emulation "
                         "does not run: no learned weight (toolchain checks only)")


def spynnaker_version():
    try:
        return importlib.metadata.version("sPyNNaker")
    except importlib.metadata.PackageNotFoundError:
        return "?"


def emulable(protocol):
    """Whether the synapse-level emulation can run ``protocol``: its post cells are driven,
    so their firing ticks are known without emulating neurons."""
    return protocol.network == "source"


def execution_label(cores):
    """The one-line description of an emulated result, e.g. for the report banner."""
    binaries = ", ".join(f"{c['binary']}, sha256 {c['sha256'][:12]}…" for c in cores)
    return f"sPyNNaker {spynnaker_version()} ARM code ({binaries}) run in an ARM emulator; {NOT_EXERCISED}"


def source_ticks(item):
    """The ticks at which sPyNNaker sends each ``SpikeSourceArray`` spike of the plastic projection."""
    return [ceil_microsecond_ticks(train, item.protocol.timestep).tolist() for train in item.pre_trains]


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
