"""Tick-level emulation of one combined neuron + synapse core: its whole time step.

:class:`NeuronCore` loads the shipped binary of one ``PopulationMachineVertex`` (neurons
and their synapses on one core, e.g. ``IF_cond_exp.aplx`` or
``IF_cond_exp_stdp_mad_pair_additive.aplx``), initialises it with its own functions on the
region bytes the toolchain produced, in the order of ``c_main.c`` ``initialise``
(``neuron_initialise``, then ``synapses_initialise``, ``population_table_initialise``,
``synapse_dynamics_initialise``), and then runs each tick as its timer callback does
(sPyNNaker 1!7.4.1 ``c_main.c`` ``timer_callback`` and ``background_callback``):

1. ``process_ring_buffers`` (inlined in the timer callback): the binary's
   ``neuron_transfer`` on the ring-buffer slot of the tick,
   ``ring_buffers + ((time & delay_mask) << synapse_type_index_bits)`` (``synapse_row.h``);
2. ``neuron_do_timestep_update(time, timer_count)``: the neuron model's fixed-point update
   (sPyNNaker's own code), which records (``neuron_recording.h``), calls
   ``synapse_dynamics_process_post_synaptic_event`` for each spike (``send_spike.h``) and
   sends the spike's multicast packet by writing the communications controller;
3. the packets that reach this core during the tick: each row read with the binary's
   ``population_table_get_first_address`` and ``synapses_process_synaptic_row(time, …)``
   (the DMA of ``spike_processing.c`` is a copy here, as in :mod:`.synapse_core`), after the
   neuron update of the same tick.

What is provided instead of the chip (and what is therefore not exercised):

* the **communications controller** (``CC_BASE``, buffered 0x20000000 and unbuffered
  0x10000000, spinnaker_tools ``include/spinnaker.h``) is a device model: ``CC_TCR`` always
  reads "transmit not full" (bit 28, ``send_mc.h`` ``TX_NOT_FULL_MASK``), a write of
  ``CC_TXKEY`` emits a packet (with the payload last written to ``CC_TXDATA`` when
  ``CC_TCR`` asked for one); the router is :mod:`.network`'s walk of the toolchain's tables;
* **timer 1** (``TIMER_BASE``): ``T1_COUNT`` reads a fixed count (only sPyNNaker's
  send-time provenance reads it);
* ``recording_record(channel, data, size)`` (SpiNNFrontEndCommon ``recording.c``) is a hook
  that keeps the bytes the core records, each tick, exactly as it would copy them to SDRAM;
* ``sark_alloc``, ``io_printf`` and ``rt_error`` as in :mod:`.core`.

Any other peripheral or system memory the code touches (SARK's system variables, the VIC,
the DMA controller, the router) stops the run with an :class:`~.core.EmulationFault` naming
it. The timer and packet interrupts, the spin1 event queue, DMA timing and the spike input
buffer of ``spike_processing.c`` are not run: within a tick, rows come after the neuron
update and no packet is late or dropped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import unicorn

from .aplx import parse_aplx
from .core import EmulationFault, Machine
from .driver import KIND_LOOKUP, KIND_PRE, assemble
from .locate_neuron import locate_neuron, locate_neuron_cached
from .logdb import LogDatabase
from .synapse_core import put_region

CC_BASES = (0x10000000, 0x20000000)
TIMER_BASES = (0x11000000, 0x21000000)
CC_TCR, CC_TXDATA, CC_TXKEY = 0x00, 0x04, 0x08
TX_NOT_FULL = 0x10000000
#: ``CC_TCR`` bit 17: the packet carries a payload (spinnaker_tools ``spinnaker.h`` ``PKT_PL``).
PKT_PL = 0x00020000
T1_COUNT = 0x04
#: What ``T1_COUNT`` reads: a count-down value, as if the tick had just started.
TIMER_COUNT = 200_000
PAGE = 0x1000
#: Region roles the core's initialisation reads (keys of a core record's ``regions``).
NEURON_ROLES = ("core_params", "neuron_params", "current_source_params", "neuron_recording", "initial_values")
SYNAPSE_ROLES = ("synapse_params", "pop_table", "synaptic_matrix", "synapse_dynamics")
#: What of a core the tick-level emulation runs (said in every result it gives).
PARTS_RUN = ("neuron_initialise, synapses_initialise, population_table_initialise and synapse_dynamics_initialise "
             "on the toolchain's region bytes; per tick: neuron_transfer of the tick's ring-buffer slot, "
             "neuron_do_timestep_update (the neuron model, post events, recording, packet sends through a modelled "
             "communications controller), then population_table_get_first_address and "
             "synapses_process_synaptic_row for each packet routed to the core")
PARTS_NOT_RUN = ("not run: SARK start-up, the data-specification header and simulation_initialise, "
                 "spike_processing_initialise and its input buffer, interrupts and the spin1 event queue, DMA "
                 "timing, bit-field filters, the router hardware, recording buffers in SDRAM")


@dataclass
class Packet:
    """A multicast packet a core sent: ``key``, ``payload`` (or ``None``) and the tick."""

    key: int
    payload: int | None
    tick: int


@dataclass
class Recording:
    """What a core recorded, per channel: ``(tick written by the core, bytes)`` per call."""

    channels: dict = field(default_factory=dict)

    def add(self, channel, data):
        self.channels.setdefault(channel, []).append(data)


class ChipDevices:
    """The peripherals a combined core's tick needs, as unicorn MMIO devices on ``machine``
    (:class:`~.core.Machine`): the communications controller's transmit registers and timer
    1's count. ``packets`` collects what the core sent; ``tick`` stamps them. Any other
    register of these devices stops the call with a fault naming the register."""

    def __init__(self, machine):
        self.machine = machine
        self.packets = []
        self.tick = None
        self._tcr = 0
        self._payload = None
        for base in CC_BASES:
            machine.uc.mmio_map(base, PAGE, self._cc_read, base, self._cc_write, base)
        for base in TIMER_BASES:
            machine.uc.mmio_map(base, PAGE, self._timer_read, base, self._timer_write, base)

    def _fault(self, what):
        self.machine._stop("device", what)

    def _cc_read(self, uc, offset, size, base):
        if offset == CC_TCR:
            return TX_NOT_FULL
        self._fault(f"read of communications-controller register {base + offset:#010x} (not modelled)")
        return 0

    def _cc_write(self, uc, offset, size, value, base):
        if offset == CC_TCR:
            self._tcr = value
        elif offset == CC_TXDATA:
            self._payload = value
        elif offset == CC_TXKEY:
            payload = self._payload if self._tcr & PKT_PL else None
            self.packets.append(Packet(value, payload, self.tick))
            self._payload = None
        else:
            self._fault(f"write of communications-controller register {base + offset:#010x} (not modelled)")

    def _timer_read(self, uc, offset, size, base):
        if offset == T1_COUNT:
            return TIMER_COUNT
        self._fault(f"read of timer register {base + offset:#010x} (not modelled)")
        return 0

    def _timer_write(self, uc, offset, size, value, base):
        self._fault(f"write of timer register {base + offset:#010x} (not modelled)")


class NeuronCore:
    """The binary of one combined neuron + synapse core, initialised on its regions.

    ``record``: a core record of :func:`.images.extract_network` (binary, regions by role,
    placement). ``binary_path``: run this file instead (e.g. a patched copy). ``located``:
    addresses already known.
    """

    def __init__(self, record, *, binary_path=None, cache_dir=None, log_db=None, located=None):
        self.record = record
        self.name = record["binary"]
        path = Path(binary_path or record["binary_path"])
        self.log_db = log_db or LogDatabase()
        self.image = parse_aplx(path)
        if located is None:
            located = locate_neuron_cached(path, cache_dir, self.log_db) if cache_dir else locate_neuron(path, self.log_db)
        self.located = loc = located
        self.machine = Machine(self.image, sark_alloc=loc.sark_alloc, io_printf=loc.io_printf,
                               rt_error=loc.rt_error, log_db=self.log_db)
        self.devices = ChipDevices(self.machine)
        self.recording = Recording()
        self.tick = -1
        self._lookups = {}
        self._hook_recording()
        self._initialise()

    def _hook_recording(self):
        m = self.machine
        address = self.located.recording_record
        m.write_u32(address, 0xE3A00001)  # mov r0, #1   (recording_record returns true)
        m.write_u32(address + 4, 0xE12FFF1E)  # bx lr
        m.uc.hook_add(unicorn.UC_HOOK_CODE, self._recording_record, begin=address, end=address)

    def _recording_record(self, uc, address, size, data):
        from unicorn import arm_const as R

        channel = uc.reg_read(R.UC_ARM_REG_R0) & 0xFF
        pointer, n_bytes = uc.reg_read(R.UC_ARM_REG_R1), uc.reg_read(R.UC_ARM_REG_R2)
        self.recording.add(channel, self.machine.read(pointer, n_bytes))

    # -- initialisation -----------------------------------------------------------------------
    def _region(self, role):
        if role not in self.record["regions"]:  # e.g. no synapse_dynamics region on a static core
            return b"", self.machine.sdram_alloc(16)
        return put_region(self.machine, self.record, role)

    def _check(self, ok, function):
        if not ok:
            raise EmulationFault(self.name, function, None, "failed", "returned false")

    def _initialise(self):
        m, loc = self.machine, self.located
        addresses = {role: self._region(role)[1] for role in NEURON_ROLES}
        out = m.sdram_alloc(32)
        self._check(m.call(loc.neuron_initialise, *(addresses[r] for r in NEURON_ROLES), out + 28,
                           name="neuron_initialise", budget=2_000_000), "neuron_initialise")
        params, params_address = self._region("synapse_params")
        _, pop_address = self._region("pop_table")
        _, matrix_address = self._region("synaptic_matrix")
        _, dynamics_address = self._region("synapse_dynamics")
        self._check(m.call(loc.synapses_initialise, params_address, out, out + 4, out + 8, out + 12, out + 16,
                           out + 20, name="synapses_initialise"), "synapses_initialise")
        self.n_neurons, self.n_synapse_types = m.read_u32(out), m.read_u32(out + 4)
        self.ring_buffers, shifts = m.read_u32(out + 8), m.read_u32(out + 12)
        self._check(m.call(loc.population_table_initialise, pop_address, matrix_address, out + 24,
                           name="population_table_initialise"), "population_table_initialise")
        self.row_max_words = m.read_u32(out + 24)
        self._check(m.call(loc.synapse_dynamics_initialise, dynamics_address, self.n_neurons,
                           self.n_synapse_types, shifts, name="synapse_dynamics_initialise"),
                    "synapse_dynamics_initialise")
        header = struct.unpack_from("<7I", params)
        index_bits, type_bits, delay_bits = header[2], header[3], header[4]
        self.slot_shift, self.delay_mask = index_bits + type_bits, (1 << delay_bits) - 1
        self.row_buffer = m.dtcm_alloc(4 * max(self.row_max_words, 1))
        self.status = m.dtcm_alloc(16)
        if not self.row_buffer or not self.status:
            raise EmulationFault(self.name, "initialise", None, "failed", "no DTCM left for the row buffer")
        code = assemble(0, 0, 0, 0)
        self.driver = m.free_itcm(len(code))
        # Post events come from the neuron update itself: the driver's post slot is never used.
        m.write(self.driver, assemble(self.driver, loc.synapses_process_synaptic_row, loc.synapses_process_synaptic_row,
                                      loc.population_table_get_first_address))
        self.records = m.sdram_alloc(32 * 4096)
        self.lookup_results = m.sdram_alloc(20)

    # -- a tick -------------------------------------------------------------------------------
    def update(self, tick):
        """The timer callback's work for ``tick``: ring-buffer transfer, then the neuron update.
        Returns the packets the core sent."""
        if tick != self.tick + 1:
            raise ValueError(f"{self.name}: ticks must follow each other; got {tick} after {self.tick}")
        m, loc = self.machine, self.located
        self.tick = self.devices.tick = tick
        start = len(self.devices.packets)
        slot = self.ring_buffers + 2 * ((tick & self.delay_mask) << self.slot_shift)
        m.call(loc.neuron_transfer, slot, name="neuron_transfer", tick=tick, budget=200_000 + 2_000 * self.n_neurons)
        m.call(loc.neuron_do_timestep_update, tick, tick, name="neuron_do_timestep_update", tick=tick,
               budget=200_000 + 20_000 * self.n_neurons)
        return self.devices.packets[start:]

    def lookup(self, key):
        """The binary's population-table answer for ``key``: (row address, bytes, colour,
        colour mask), or ``None`` when the core has no row for it."""
        if key not in self._lookups:
            m = self.machine
            record = np.zeros(8, dtype="<u4")
            record[0], record[1], record[2] = KIND_LOOKUP, key, self.lookup_results
            self._run([record], "population_table_get_first_address")
            address, n_bytes, colour, colour_mask, found = struct.unpack("<5I", m.read(self.lookup_results, 20))
            self._lookups[key] = (address, n_bytes, colour, colour_mask) if found else None
        return self._lookups[key]

    def receive(self, tick, keys):
        """Process the rows of the packets with ``keys`` that reached the core in ``tick``
        (``synapses_process_synaptic_row(tick, …)``, write-back as after the DMA). Returns the
        number of rows processed; a key with no row is ignored, as the core would."""
        records = []
        for key in keys:
            row = self.lookup(int(key))
            if row is None:
                continue
            record = np.zeros(8, dtype="<u4")
            record[0], record[1], record[2], record[3], record[4], record[5] = (KIND_PRE, tick, row[0], row[1],
                                                                              row[2], row[3])
            records.append(record)
        if records:
            self._run(records, "synapses_process_synaptic_row", tick)
        return len(records)

    def _run(self, records, what, tick=None):
        m = self.machine
        m.write(self.records, np.ascontiguousarray(records, dtype="<u4").tobytes())
        done = m.call(self.driver, self.records, len(records), self.row_buffer, self.status, name=what, tick=tick,
                      budget=50_000 * len(records) + 1000)
        if not done:
            raise EmulationFault(self.name, "synapses_process_synaptic_row", tick, "failed",
                                 f"returned false for record {m.read_u32(self.status)}")

    # -- read-back ----------------------------------------------------------------------------
    def row_words(self, key):
        """The words of the row for ``key`` as now stored in emulated SDRAM (for weights)."""
        address, n_bytes, _, _ = self.lookup(key)
        return np.frombuffer(self.machine.read(address, n_bytes), dtype="<u4")
