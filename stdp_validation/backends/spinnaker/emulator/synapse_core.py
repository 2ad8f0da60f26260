"""Stage two of the emulation: a binary's STDP code run on the region bytes the toolchain wrote.

:class:`SynapseEmulator` loads the binary of one post core (from an :mod:`.images`
record), runs the binary's own initialisation on the region bytes, in the order of
``initialise_synapse_regions`` (``c_main_synapse_common.h``): ``synapses_initialise``,
``population_table_initialise``, ``synapse_dynamics_initialise``; then feeds events:

* presynaptic spike of pre cell j at tick t: the spike key ``keys[j] | (t & colour_mask)``
  is looked up with the binary's own ``population_table_get_first_address`` (cached per
  key: the lookup reads only the table), the row is copied from emulated SDRAM into a
  DTCM buffer (as the DMA does), processed by ``synapses_process_synaptic_row(t, colour,
  colour_mask, row, &write_back)`` and, if ``write_back`` is set, its plastic region is
  copied back (``spike_processing_fast.c`` ``process_current_row``;
  ``spike_processing.c`` does the same after its DMA);
* postsynaptic spike of post neuron i at tick t:
  ``synapse_dynamics_process_post_synaptic_event(t, i)`` (combined cores:
  ``send_spike.h`` ``send_spike`` from the neuron update of tick t; split synapse cores:
  ``spike_processing_fast.c`` ``get_next_spike`` for the looped-back spike, with the
  synapse core's tick).

Order of events within one tick (:meth:`SynapseEmulator.schedule`). The C code fixes no
order between the two kinds inside a tick:

* combined cores (``c_main.c``): ``timer_callback`` (priority 0) schedules
  ``background_callback`` (priority 1, queued) which runs ``neuron_do_timestep_update`` and
  so records the tick's post events; rows are processed by the DMA/user-event callbacks of
  ``spike_processing.c`` at priority 0, which pre-empt the background task whenever a
  spike arrives — so a row of tick t is processed before or after (or during) the neuron
  update of tick t depending on packet arrival times;
* split cores (``spike_processing_fast.c`` ``spike_processing_fast_time_step_loop``):
  pre spikes and the neuron core's looped-back post spikes share one input queue and are
  handled in arrival order.

The default ``post_first=True`` processes every post event of tick t before the rows of
tick t (the neuron update at the start of the tick comes first), the choice also made by
``stdp_validation.fixedpoint``. With ``backprop_delay`` on and delays ≥ 1 tick the order
changes a result only when a post history overflows (a post event of tick t cannot lie
in the window (t_last − d, t − d] of a row of tick t); with ``backprop_delay=False`` it
decides whether a same-tick post spike pairs with the row (at lag 0: full depression).

Units: ticks (integer timesteps), stored weights as ``uint16``, traces 4.11 fixed point.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import unicorn
from unicorn import arm_const

from .aplx import parse_aplx
from .core import EmulationFault, Machine
from .driver import EVENT_BYTES, KIND_CLEAR, KIND_LOOKUP, KIND_POST, KIND_PRE, assemble
from .locate import locate, locate_cached
from .logdb import LogDatabase
from .images import region_bytes

#: Synaptic-row header words: plastic size, then (fixed region) n_fixed and n_plastic
#: (``synapse_row.h``, ``N_SYNAPSE_ROW_HEADER_WORDS``).
ROW_HEADER_WORDS = 3
#: ``post_event_history_t`` = count_minus_one + 16 times (+ 16 int16 traces, pair rule)
#: (``post_events.h``).
MAX_POST_SYNAPTIC_EVENTS = 16


class LayoutError(RuntimeError):
    """The binary's view of the regions differs from the region bytes (self-check)."""


@dataclass(frozen=True)
class Events:
    """Events of one run in processing order, as arrays: ``tick[k]``, ``kind[k]``
    (:data:`KIND_PRE`: ``index`` = PyNN pre cell j; :data:`KIND_POST`: ``index`` = PyNN post
    cell i)."""

    tick: np.ndarray
    kind: np.ndarray
    index: np.ndarray

    def __len__(self):
        return len(self.tick)

    def select(self, mask):
        return Events(self.tick[mask], self.kind[mask], self.index[mask])


@dataclass(frozen=True)
class RowAddress:
    """The binary's population-table answer for one spike key."""

    address: int
    n_bytes: int
    colour: int
    colour_mask: int


@dataclass(frozen=True)
class Synapse:
    """A plastic synapse of a row: stored ``weight`` (uint16), ``post_neuron`` (index on the
    core), ``delay`` (ticks, dendritic) and ``synapse_type``."""

    weight: int
    post_neuron: int
    delay: int
    synapse_type: int


@dataclass(frozen=True)
class RowState:
    """A row read back from emulated SDRAM: the pre header (last pre time in ticks, pre
    trace as int16 4.11 — ``None`` for the nearest rule, which keeps no trace) and its
    plastic synapses."""

    last_pre_time: int
    pre_trace: int | None
    synapses: tuple


class SynapseEmulator:
    """The binary of core ``core_index`` of a population record, initialised on its regions.

    ``population``: a record of :func:`.images.extract_population`; its one plastic
    projection is emulated (static projections, e.g. a drive, are not). ``binary_path``: use
    this file instead of the record's (e.g. a patched copy). ``cache_dir``: JSON cache for
    the located addresses. ``located``: addresses already known (skips locating).
    """

    def __init__(self, population, core_index=0, *, binary_path=None, cache_dir=None, log_db=None,
                 located=None, budget_per_event=50_000, exact_budget=False):
        self.population = population
        self.record = population["cores"][core_index]
        if not self.record["matrix_has_rows"]:
            raise LayoutError(f"{self.record['binary']}: the synaptic-matrix region holds no rows "
                              "(generated on the machine); nothing to emulate")
        path = Path(binary_path or self.record["binary_path"])
        self.log_db = log_db or LogDatabase()
        self.image = parse_aplx(path)
        if located is not None:
            self.located = located
        else:
            self.located = locate_cached(path, cache_dir, self.log_db) if cache_dir else locate(path, self.log_db)
        loc = self.located
        self.machine = Machine(self.image, sark_alloc=loc.sark_alloc, io_printf=loc.io_printf,
                               rt_error=loc.rt_error, log_db=self.log_db)
        self.budget_per_event = budget_per_event
        self.exact_budget = exact_budget
        self.lo_atom, self.n_atoms = self.record["post_slice"]
        projections = [p for p in population["projections"] if p.get("plastic", True)]
        if len(projections) != 1:
            raise ValueError(f"{self.record['binary']}: expected one plastic projection into "
                             f"{population['label']!r}, got {len(projections)}")
        self.projection = projections[0]
        self.keys = self.projection["keys"]
        self._lookups = {}
        self._array, self._array_capacity = 0, 0
        self._last_tick = -1
        self._initialise()
        self._install_driver()

    # -- initialisation ---------------------------------------------------------------------
    def _region(self, role):
        return put_region(self.machine, self.record, role)

    def _initialise(self):
        m, loc, name = self.machine, self.located, self.record["binary"]
        params, params_address = self._region("synapse_params")
        pop_table, pop_address = self._region("pop_table")
        _, matrix_address = self._region("synaptic_matrix")
        dynamics, dynamics_address = self._region("synapse_dynamics")
        out = m.sdram_alloc(32)
        ok = m.call(loc.synapses_initialise, params_address, out, out + 4, out + 8, out + 12, out + 16, out + 20,
                    name="synapses_initialise")
        if not ok:
            raise EmulationFault(name, "synapses_initialise", None, "failed", "returned false")
        self.n_neurons, self.n_synapse_types = m.read_u32(out), m.read_u32(out + 4)
        self.ring_buffers, shifts_address = m.read_u32(out + 8), m.read_u32(out + 12)
        ok = m.call(loc.population_table_initialise, pop_address, matrix_address, out + 24,
                    name="population_table_initialise")
        if not ok:
            raise EmulationFault(name, "population_table_initialise", None, "failed", "returned false")
        self.row_max_words = m.read_u32(out + 24)
        consumed = []
        # weight_initialise returns the first address after the region it read.
        hook = m.uc.hook_add(unicorn.UC_HOOK_CODE,
                             lambda uc, address, size, data: consumed.append(uc.reg_read(arm_const.UC_ARM_REG_R0)),
                             begin=loc.weight_initialise_return, end=loc.weight_initialise_return)
        try:
            ok = m.call(loc.synapse_dynamics_initialise, dynamics_address, self.n_neurons, self.n_synapse_types,
                        shifts_address, name="synapse_dynamics_initialise")
        finally:
            m.uc.hook_del(hook)
        if not ok:
            raise EmulationFault(name, "synapse_dynamics_initialise", None, "failed", "returned false")
        self._check_layout(params, dynamics, dynamics_address, shifts_address, consumed)
        self.row_buffer = m.dtcm_alloc(4 * self.row_max_words)
        self.status = m.dtcm_alloc(16)
        if not self.row_buffer or not self.status:
            raise LayoutError(f"{name}: no DTCM left for the row buffer")

    def _check_layout(self, params, dynamics, dynamics_address, shifts_address, consumed):
        """The binary's DTCM copies must equal the region bytes, and the region must be consumed exactly."""
        m, loc, name = self.machine, self.located, self.record["binary"]
        problems = []
        header = struct.unpack_from("<7I", params)
        if (self.n_neurons, self.n_synapse_types) != header[:2]:
            problems.append(f"n_neurons/n_synapse_types {self.n_neurons, self.n_synapse_types} != region {header[:2]}")
        shifts = params[28:28 + 4 * self.n_synapse_types]
        if m.read(shifts_address, len(shifts)) != shifts:
            problems.append("ring-buffer shifts differ from the synapse_params region")
        self.ring_buffer_shifts = list(struct.unpack(f"<{self.n_synapse_types}I", shifts))
        if m.read_u32(loc.backprop_delay) != struct.unpack_from("<I", dynamics)[0]:
            problems.append("backprop_delay differs from the region's first word")
        offset = 4
        for role, pointer in (("tau+", loc.tau_plus_lut), ("tau-", loc.tau_minus_lut)):
            size = struct.unpack_from("<H", dynamics, offset)[0]
            n_bytes = 2 * (size + 2)
            if m.read(m.read_u32(pointer), n_bytes) != dynamics[offset:offset + n_bytes]:
                problems.append(f"the DTCM {role} table differs from the region")
            offset += 4 * ((size + 1) // 2 + 1)
        weight_bytes = 16 * self.n_synapse_types
        if m.read(m.read_u32(loc.weight_region_data), weight_bytes) != dynamics[offset:offset + weight_bytes]:
            problems.append("the DTCM weight-dependence words differ from the region")
        if m.read(m.read_u32(loc.weight_shift), 4 * self.n_synapse_types) != shifts:
            problems.append("the DTCM weight shifts differ from the ring-buffer shifts")
        offset += weight_bytes
        if offset != len(dynamics):
            problems.append(f"the layout covers {offset} of the region's {len(dynamics)} bytes")
        if len(consumed) != 1 or consumed[0] - dynamics_address != len(dynamics):
            problems.append(f"weight_initialise returned {[hex(c) for c in consumed]}, region "
                            f"{dynamics_address:#x}+{len(dynamics)}")
        if problems:
            raise LayoutError(f"{name}: synapse_dynamics region self-check failed: " + "; ".join(problems))
        self.lut_sizes = self._lut_sizes(dynamics)

    @staticmethod
    def _lut_sizes(dynamics):
        plus = struct.unpack_from("<H", dynamics, 4)[0]
        minus = struct.unpack_from("<H", dynamics, 4 + 4 * ((plus + 1) // 2 + 1))[0]
        return plus, minus

    def _install_driver(self):
        loc = self.located
        code_size = len(assemble(0, 0, 0, 0))
        self.driver = self.machine.free_itcm(code_size)
        self.machine.write(self.driver, assemble(self.driver, loc.synapse_dynamics_process_post_synaptic_event,
                                                 loc.synapses_process_synaptic_row,
                                                 loc.population_table_get_first_address))
        header = struct.unpack_from("<7I", region_bytes(self.record, "synapse_params"))
        self.index_bits, self.type_bits, self.delay_bits = header[2], header[3], header[4]

    # -- lookups ------------------------------------------------------------------------------
    @property
    def colour_mask(self):
        return (1 << self.projection["n_colour_bits"]) - 1

    def key(self, pre_index, tick):
        """The spike key of PyNN pre cell ``pre_index`` sent at ``tick`` (colour = tick & mask)."""
        return self.keys[pre_index] | (tick & self.colour_mask)

    def lookup(self, pre_index, tick):
        """The row of PyNN pre cell ``pre_index`` for a spike sent at ``tick`` (cached by key);
        ``None`` when this core's population table has no row for it (the core would not
        receive the spike: no routing entry sends it here)."""
        key = self.key(pre_index, tick)
        if key not in self._lookups:
            self.lookup_keys([key])
        return self._lookups[key]

    def lookup_keys(self, keys):
        """Ask the binary's ``population_table_get_first_address`` for every uncached key
        (one driver run for all of them)."""
        keys = sorted({int(k) for k in keys if int(k) not in self._lookups})
        if not keys:
            return
        m = self.machine
        results = m.sdram_alloc(20 * len(keys))
        records = np.zeros((len(keys), 8), dtype=np.uint32)
        records[:, 0], records[:, 1] = KIND_LOOKUP, keys
        records[:, 2] = results + 20 * np.arange(len(keys), dtype=np.uint32)
        self._drive(records, None, None, "population_table_get_first_address")
        answers = np.frombuffer(m.read(results, 20 * len(keys)), dtype="<u4").reshape(-1, 5)
        for key, (address, n_bytes, colour, colour_mask, found) in zip(keys, answers.tolist()):
            self._lookups[key] = RowAddress(address, n_bytes, colour, colour_mask) if found else None

    # -- events -------------------------------------------------------------------------------
    @staticmethod
    def schedule(pre_ticks, post_ticks, post_first=True):
        """Events of one run in processing order: per tick, post events then rows
        (``post_first``) or rows then post events; within a kind, by cell index.
        ``pre_ticks[j]`` / ``post_ticks[i]``: spike ticks of pre cell j / post cell i (a
        tick listed twice is two spikes). Returns :class:`Events`."""
        parts = []
        for kind, trains in ((KIND_PRE, pre_ticks), (KIND_POST, post_ticks)):
            for index, train in enumerate(trains):
                ticks = np.asarray(train, dtype=np.int64).ravel()
                parts.append((ticks, np.full(ticks.size, kind, dtype=np.uint32), np.full(ticks.size, index)))
        if not parts:
            return Events(np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.int64))
        tick, kind, index = (np.concatenate(column) for column in zip(*parts))
        second = kind != (KIND_POST if post_first else KIND_PRE)
        order = np.lexsort((index, second, tick))  # by tick, then kind, then cell
        return Events(tick[order], kind[order], index[order])

    def _encode(self, events):
        """One driver record (8 words) per event; pre events whose key has no row here are dropped."""
        records = np.zeros((len(events), 8), dtype=np.uint32)
        records[:, 0], records[:, 1] = events.kind, events.tick
        post = events.kind == KIND_POST
        neuron = events.index[post] - self.lo_atom
        outside = (neuron < 0) | (neuron >= self.n_atoms)
        if outside.any():
            raise ValueError(f"post cell {events.index[post][outside][0]} is not on this core "
                             f"(slice {self.lo_atom}+{self.n_atoms})")
        records[post, 2] = neuron
        pre = ~post
        keys = np.asarray(self.keys, dtype=np.int64)[events.index[pre]] | (events.tick[pre] & self.colour_mask)
        unique, inverse = np.unique(keys, return_inverse=True)
        self.lookup_keys(unique.tolist())
        rows = [self._lookups[int(k)] for k in unique]
        found = np.array([row is not None for row in rows], dtype=bool)
        table = np.array([(r.address, r.n_bytes, r.colour, r.colour_mask) if r else (0, 0, 0, 0) for r in rows],
                         dtype=np.uint32).reshape(-1, 4)
        records[pre, 2:6] = table[inverse]
        keep = np.ones(len(events), dtype=bool)
        keep[np.flatnonzero(pre)[~found[inverse]]] = False  # no routing entry sends that spike here
        return events.select(keep), records[keep]

    def _with_clears(self, events, records):
        """Insert the ring-buffer slot clears before each new tick, as the core zeroes the slot
        of a tick when it starts (``synapses_flush_ring_buffers`` on split cores; the neuron
        core's transfer on combined ones). Returns (records, tick and cell per record; cell
        −1 for a clear)."""
        tick = events.tick
        previous = np.concatenate(([self._last_tick], tick[:-1]))
        if (tick < previous).any():
            k = int(np.flatnonzero(tick < previous)[0])
            raise ValueError(f"events go back in time: tick {tick[k]} after {previous[k]}")
        new = np.flatnonzero(tick > previous)
        n_clears = np.minimum(tick[new] - previous[new], 1 << self.delay_bits)
        before = np.concatenate(([0], np.cumsum(n_clears)))  # clears inserted before group g
        total = int(before[-1])
        out = np.zeros((len(events) + total, 8), dtype=np.uint32)
        ticks = np.zeros(len(out), dtype=np.int64)
        cells = np.full(len(out), -1, dtype=np.int64)
        group = np.cumsum(tick > previous)  # events before the first new tick: group 0
        positions = np.arange(len(events)) + before[group]
        out[positions], ticks[positions], cells[positions] = records, tick, events.index
        offset = np.arange(total) - np.repeat(before[:-1], n_clears)
        clear_ticks = np.repeat(tick[new] - n_clears + 1, n_clears) + offset
        clear_positions = np.repeat(new + before[:-1], n_clears) + offset
        slot_entries = 1 << (self.index_bits + self.type_bits)
        first = (clear_ticks & ((1 << self.delay_bits) - 1)) * slot_entries
        out[clear_positions, 0], out[clear_positions, 1] = KIND_CLEAR, clear_ticks
        out[clear_positions, 2] = self.ring_buffers + 2 * first
        out[clear_positions, 3] = 2 * slot_entries
        ticks[clear_positions] = clear_ticks
        if len(tick):
            self._last_tick = int(tick[-1])
        return out, ticks, cells

    def _drive(self, records, ticks, cells, what):
        """Run the driver on ``records`` (uint32 array, 8 words per record); ``ticks`` and
        ``cells`` (per record, or None) name the tick and the cell of a fault."""
        m, count = self.machine, len(records)
        if self._array_capacity < count:
            self._array, self._array_capacity = m.sdram_alloc(EVENT_BYTES * count), count
        m.write(self._array, np.ascontiguousarray(records, dtype="<u4").tobytes())

        def tick():
            return None if ticks is None else int(ticks[min(m.read_u32(self.status), count - 1)])

        m.tick_reader = tick
        try:
            done = m.call(self.driver, self._array, count, self.row_buffer, self.status,
                          name=what, budget=self.budget_per_event * count + 1000, exact_budget=self.exact_budget)
        finally:
            m.tick_reader = None
        if not done:
            failed = m.read_u32(self.status)
            tick_, cell = (None, None) if ticks is None else (int(ticks[failed]), int(cells[failed]))
            # The driver returns 0 only when synapses_process_synaptic_row does, i.e. for a row (PRE record).
            raise EmulationFault(self.record["binary"], "synapses_process_synaptic_row", tick_, "failed",
                                 f"returned false for the row of pre cell {cell} (record {failed} of the {what} batch)")

    def run(self, events, batch_size=4096):
        """Process ``events`` (:class:`Events`, in order, ticks non-decreasing across calls)
        with the driver loop, ``batch_size`` records per emu_start, clearing ring-buffer slots
        at each new tick. Returns the number of synapse events (rows and post events) processed."""
        events, records = self._encode(events)
        records, ticks, cells = self._with_clears(events, records)
        for start in range(0, len(records), batch_size):
            stop = start + batch_size
            self._drive(records[start:stop], ticks[start:stop], cells[start:stop], "driver")
        return len(events)

    # -- read-back ----------------------------------------------------------------------------
    def row(self, pre_index, tick=0):
        """The row of PyNN pre cell ``pre_index`` as stored in emulated SDRAM."""
        header = struct.unpack_from("<7I", region_bytes(self.record, "synapse_params"))
        return read_row(self.machine, self.lookup(pre_index, tick).address, header)

    def stored_weight(self, pre_index, post_index):
        """Stored uint16 weight of the synapse pre cell → post cell (PyNN indices)."""
        for synapse in self.row(pre_index).synapses:
            if synapse.post_neuron == post_index - self.lo_atom:
                return synapse.weight
        raise KeyError(f"no synapse {pre_index} -> {post_index} in the row")

    def counters(self):
        """sPyNNaker's own counters (the values its provenance would report)."""
        m, loc = self.machine, self.located
        return {
            "plastic_pre_synaptic_events": m.read_u32(loc.num_plastic_pre_synaptic_events),
            "plastic_saturation_count": m.read_u32(loc.plastic_saturation_count),
            "skipped_synapses": m.read_u32(loc.skipped_synapses),
            "late_spikes": m.read_u32(loc.late_spikes),
            "max_late_spike": m.read_u32(loc.max_late_spike),
        }

    def post_history(self, post_index):
        """(times, traces) of the post-event history of PyNN post cell ``post_index`` (slot 0 is
        the placeholder). Pair rule: 100-byte records with traces; nearest: 68 bytes, no traces."""
        m = self.machine
        base = m.read_u32(self.located.post_event_history)
        pair = self.row(0).pre_trace is not None
        size = 4 + 4 * MAX_POST_SYNAPTIC_EVENTS + (2 * MAX_POST_SYNAPTIC_EVENTS if pair else 0)
        record = m.read(base + size * (post_index - self.lo_atom), size)
        count = struct.unpack_from("<I", record)[0] + 1
        times = list(struct.unpack_from(f"<{count}I", record, 4))
        traces = list(struct.unpack_from(f"<{count}h", record, 4 + 4 * MAX_POST_SYNAPTIC_EVENTS)) if pair else None
        return times, traces


def read_row(machine, address, synapse_params_header):
    """The plastic row at ``address`` of ``machine``'s emulated SDRAM, decoded with the bit
    widths of the synapse-params region header (7 words: n_neurons, n_synapse_types, log2
    neurons, log2 synapse types, log2 max delay, …). Returns :class:`RowState`."""
    m = machine
    plastic_words = m.read_u32(address)
    fixed = address + 4 * (1 + plastic_words)
    n_fixed, n_plastic = m.read_u32(fixed), m.read_u32(fixed + 4)
    weight_bytes = 2 * n_plastic + (2 * n_plastic) % 4
    header_bytes = 4 * plastic_words - weight_bytes
    plastic = m.read(address + 4, 4 * plastic_words)
    last_pre_time = struct.unpack_from("<I", plastic)[0]
    pre_trace = struct.unpack_from("<h", plastic, 4)[0] if header_bytes >= 8 else None
    weights = struct.unpack_from(f"<{n_plastic}H", plastic, header_bytes)
    controls = struct.unpack(f"<{n_plastic}H", m.read(fixed + 8 + 4 * n_fixed, 2 * n_plastic))
    index_bits, type_bits = synapse_params_header[2], synapse_params_header[3]
    delay_mask = (1 << synapse_params_header[4]) - 1
    synapses = tuple(
        Synapse(weight, control & ((1 << index_bits) - 1), (control >> (index_bits + type_bits)) & delay_mask,
                (control >> index_bits) & ((1 << type_bits) - 1))
        for weight, control in zip(weights, controls))
    return RowState(last_pre_time, pre_trace, synapses)


def put_region(machine, record, role):
    """Region ``role`` of a core record placed in ``machine``'s emulated SDRAM, zero-padded to
    the size the toolchain reserved; returns (the bytes written by the host, the address)."""
    data = region_bytes(record, role)
    size = record["regions"][role]["size"] or len(data)
    return data, machine.sdram_put(data + bytes(max(0, size - len(data))))
