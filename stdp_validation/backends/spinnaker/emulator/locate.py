"""Locate the functions and globals of a stripped sPyNNaker STDP binary.

The shipped ``.aplx`` files have no symbols. Each address is derived from the binary
itself, in the steps below; each step checks that its answer is unique and otherwise
raises :class:`LocateError` naming the binary and the step. Function names and call
structure refer to sPyNNaker 1!7.4.1's C sources (``neural_modelling/src/neuron``) and
spinnaker_tools (``sark``, ``spin1_api``):

1. ``io_printf``: the one call target whose call sites load r0 = 2 (``IO_BUF``) and r1 = a
   format string starting with ``"%u"`` — the shape of every short log (``logdb``).
2. Log sites: the log id is the constant in r2 at such a call; ids are looked up in the
   wheel's log database by source file and message text.
3. ``synapses_initialise``: the function holding the ``synapses.c`` log "Not enough memory
   to allocate ring buffer".
4. ``population_table_initialise`` and ``synapse_dynamics_initialise``: the two calls that
   follow the single call of ``synapses_initialise`` (``c_main_synapse_common.h``,
   ``initialise_synapse_regions``); checked by their logs ("Could not allocate master
   population table", ``post_events.h`` "Unable to allocate global STDP structures").
5. ``synapse_dynamics_initialise`` calls, in order, ``spin1_memcpy`` (Thumb),
   ``timing_initialise``, ``weight_initialise``, ``sark_alloc`` (Thumb)
   (``synapse_dynamics_stdp_common.h`` ``synapse_dynamics_stdp_init``, then
   ``post_events.h`` ``post_events_init_buffers``). The ``memcpy`` destination is
   ``params.backprop_delay``; its only global store is the post-event-history pointer;
   ``timing_initialise`` stores the τ+ then the τ− lookup-table pointer;
   ``weight_initialise`` stores the weight-region data pointer then the weight-shift
   pointer.
6. ``rt_error``: the target of ``mov r0, #13`` (``RTE_SWERR``) ``bl`` after the ``maths.h``
   log "Not enough space to allocate LUT".
7. ``synapse_dynamics_process_plastic_synapses``: the one function reading both the
   post-event-history pointer and the τ+ table pointer;
   ``synapse_dynamics_process_post_synaptic_event``: the other function reading the
   history pointer, calling nothing and comparing the event count with 14
   (``MAX_POST_SYNAPTIC_EVENTS - 2``).
8. ``synapses_process_synaptic_row``: the one caller of the plastic function; the ring-buffer
   pointer is the global loaded into r2 for that call; ``skipped_synapses`` is the one
   counter both functions increment; the plastic function's other two counters are, in
   code order, ``num_plastic_pre_synaptic_events`` and ``plastic_saturation_count``
   (``synapse_dynamics_stdp_common.h``); before its call, ``synapses_process_synaptic_row``
   stores ``late_spikes`` unconditionally and ``max_late_spike`` conditionally
   (``synapses.c``).
9. ``population_table_get_first_address``: the one function other than
   ``population_table_initialise`` that reads the master-population-table pointer (the
   first allocation ``population_table_initialise`` stores) and logs nothing
   (``population_table_binary_search_impl.c``).

Results are cached as JSON keyed by the binary's SHA-256 (:func:`locate_cached`).
"""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass, fields
from pathlib import Path

from capstone import arm_const as A

from .aplx import parse_aplx
from .disasm import Code
from .logdb import LogDatabase

#: Bump when a rule changes, so stale cache entries are ignored.
LOCATOR_VERSION = 1

IO_BUF = 2
RTE_SWERR = 13
MAX_POST_SYNAPTIC_EVENTS = 16


class LocateError(RuntimeError):
    """A locating step failed; the message names the binary and the step."""


@dataclass(frozen=True)
class Located:
    """Addresses in one binary (ITCM for functions, DTCM for globals).

    Thumb functions (``io_printf``, ``sark_alloc``, ``spin1_memcpy``) are given without
    the Thumb bit; call them with ``address | 1``.
    """

    binary: str
    sha256: str
    io_printf: int
    sark_alloc: int
    spin1_memcpy: int
    rt_error: int
    synapses_initialise: int
    population_table_initialise: int
    population_table_get_first_address: int
    synapse_dynamics_initialise: int
    timing_initialise: int
    weight_initialise: int
    synapses_process_synaptic_row: int
    synapse_dynamics_process_plastic_synapses: int
    synapse_dynamics_process_post_synaptic_event: int
    weight_initialise_return: int
    ring_buffers: int
    skipped_synapses: int
    late_spikes: int
    max_late_spike: int
    num_plastic_pre_synaptic_events: int
    plastic_saturation_count: int
    backprop_delay: int
    post_event_history: int
    tau_plus_lut: int
    tau_minus_lut: int
    weight_region_data: int
    weight_shift: int
    master_population_table: int

    def to_json(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data):
        return cls(**{f.name: data[f.name] for f in fields(cls)})


class _Locator:
    def __init__(self, path, log_db):
        self.image = parse_aplx(path)
        self.name = self.image.name
        self.code = Code(self.image.code())
        self.db = log_db
        self._traces = {}

    def fail(self, step, message):
        raise LocateError(f"{self.name}: step '{step}': {message}")

    def trace(self, start):
        if start not in self._traces:
            self._traces[start] = self.code.trace(start)
        return self._traces[start]

    def unique(self, step, candidates, what):
        candidates = sorted(set(candidates))
        if len(candidates) != 1:
            shown = ", ".join(f"{c:#x}" for c in candidates[:8]) or "none"
            self.fail(step, f"expected exactly one {what}, found {len(candidates)} ({shown})")
        return candidates[0]

    # -- step 1, 2 --------------------------------------------------------------------------
    def find_io_printf(self):
        counts = collections.Counter()
        for start in self.code.function_starts():
            for site in self.trace(start).calls:
                r0, r1 = site.args[0], site.args[1]
                if r0 is not None and r0.kind == "const" and r0.value == IO_BUF and r1 is not None \
                        and r1.kind == "const":
                    text = self.code.cstring(r1.value)
                    if text is not None and text.startswith(b"%u"):
                        counts[site.target] += 1
        ranked = counts.most_common(2)
        if not ranked or ranked[0][1] < 10 or (len(ranked) > 1 and ranked[0][1] < 5 * ranked[1][1]):
            self.fail("io_printf", f"no dominant call target of short-log calls (counts {ranked})")
        self.io_printf = ranked[0][0]
        self.log_sites = collections.defaultdict(list)
        for start in self.code.function_starts():
            for site in self.trace(start).calls:
                r2 = site.args[2]
                if site.target == self.io_printf and r2 is not None and r2.kind == "const":
                    self.log_sites[r2.value].append(site.pc)

    def functions_logging(self, step, file_name, text):
        ids = self.db.ids(file_name, text)
        if not ids:
            self.fail(step, f"no log '{text}' of {file_name} in the log database")
        pcs = [pc for log_id in ids for pc in self.log_sites.get(log_id, [])]
        if not pcs:
            self.fail(step, f"no call site of the {file_name} log '{text}' (ids {ids})")
        return {self.code.function_containing(pc) for pc in pcs}, pcs

    def function_logging(self, step, file_name, text):
        functions, _ = self.functions_logging(step, file_name, text)
        return self.unique(step, functions, f"function holding the {file_name} log '{text}'")

    def non_log_calls(self, start):
        return [c for c in self.trace(start).calls if c.target != self.io_printf]

    # -- steps 3-9 --------------------------------------------------------------------------
    def run(self):
        self.find_io_printf()
        code = self.code
        s_init, p_init, d_init = self.synapse_initialisers()
        step = "initialise_synapse_regions"
        if d_init != self.function_logging(step, "post_events.h", "Unable to allocate global STDP structures"):
            self.fail(step, f"the second call after synapses_initialise ({d_init:#x}) is not the one "
                            "holding the post_events.h log")

        step = "synapse_dynamics_initialise callees"
        callees = self.non_log_calls(d_init)
        shape = [c.thumb for c in callees]
        if shape != [True, False, False, True]:
            self.fail(step, f"expected calls Thumb, ARM, ARM, Thumb (memcpy, timing, weight, sark_alloc); got "
                            f"{[(hex(c.target), c.thumb) for c in callees]}")
        memcpy, timing_init, weight_init, sark_alloc = (c.target for c in callees)
        destination = callees[0].args[0]
        if destination is None or destination.kind != "const":
            self.fail(step, "the spin1_memcpy destination (params.backprop_delay) is not a constant")
        backprop_delay = destination.value
        weight_return = callees[2].pc + 4
        history = self.unique(step, self.trace(d_init).globals("w"), "global stored by synapse_dynamics_initialise")
        for name, function in (("synapses_initialise", s_init), ("timing_initialise", timing_init)):
            used = {c.target for c in self.non_log_calls(function)}
            if sark_alloc not in used or memcpy not in used:
                self.fail(step, f"{name} does not call both sark_alloc {sark_alloc:#x} and spin1_memcpy {memcpy:#x}")

        step = "timing_initialise globals"
        luts = self.trace(timing_init).globals("w")
        if len(luts) != 2:
            self.fail(step, f"expected 2 stored globals (tau+ and tau- table pointers), got {[hex(a) for a in luts]}")
        tau_plus, tau_minus = luts

        step = "weight_initialise globals"
        weight_logs, _ = self.functions_logging(step, self.weight_file(), "Could not initialise weight region data")
        if weight_init not in weight_logs:
            self.fail(step, f"{weight_init:#x} does not hold the weight-dependence log")
        weights = self.trace(weight_init).globals("w")
        if len(weights) != 2:
            self.fail(step, f"expected 2 stored globals (weight data and shift pointers), got {[hex(a) for a in weights]}")
        weight_data, weight_shift = weights

        step = "rt_error"
        lut_functions, lut_pcs = self.functions_logging(step, "maths.h", "Not enough space to allocate LUT")
        targets = []
        for function in lut_functions:
            for site in self.non_log_calls(function):
                r0 = site.args[0]
                if not site.thumb and site.pc > min(lut_pcs) and r0 is not None and r0.kind == "const" \
                        and r0.value == RTE_SWERR:
                    targets.append(site.target)
        rt_error = self.unique(step, targets, "rt_error(RTE_SWERR) call after the LUT log")

        step = "process_plastic_synapses / process_post_synaptic_event"
        readers = [f for f in code.function_starts() if f != d_init and history in self.trace(f).globals("r")]
        plastic = self.unique(step, [f for f in readers if tau_plus in self.trace(f).globals("r")],
                              "function reading the history and tau+ table pointers")
        post = self.unique(step, [f for f in readers if f != plastic and not self.trace(f).calls],
                           "other leaf function reading the history pointer")
        compares = [i for i in code.instructions(post) if i.mnemonic == "cmp" and len(i.operands) == 2
                    and i.operands[1].type == A.ARM_OP_IMM and i.operands[1].imm == MAX_POST_SYNAPTIC_EVENTS - 2]
        if not compares:
            self.fail(step, f"{post:#x} has no comparison with {MAX_POST_SYNAPTIC_EVENTS - 2}")

        step = "synapses_process_synaptic_row"
        row = self.unique(step, [code.function_containing(pc) for pc in code.callers(plastic)],
                          "function calling process_plastic_synapses")
        row_calls = self.non_log_calls(row)
        if [c.target for c in row_calls] != [plastic]:
            self.fail(step, f"{row:#x} makes calls other than the one to {plastic:#x}")
        ring = row_calls[0].args[2]
        if ring is None or ring.kind != "load":
            self.fail(step, "the ring-buffer argument (r2) is not loaded from a global")
        ring_buffers = ring.value

        step = "counters"
        plastic_rmw = self.trace(plastic).read_modify_written()
        row_trace = self.trace(row)
        skipped = self.unique(step, set(plastic_rmw) & set(row_trace.read_modify_written()),
                              "counter incremented by both row functions")
        others = [a for a in plastic_rmw if a != skipped]
        if len(others) != 2:
            self.fail(step, f"expected 2 more counters in the plastic function, got {[hex(a) for a in others]}")
        pre_events, saturation = others
        first_call = row_calls[0].pc
        early = [a for a in row_trace.accesses if a.kind == "w" and a.pc < first_call and a.size == 4]
        late = self.unique(step, [a.address for a in early if not a.conditional], "unconditional early store (late_spikes)")
        max_late = self.unique(step, [a.address for a in early if a.conditional], "conditional early store (max_late_spike)")

        master, lookup = self.population_lookup(p_init, sark_alloc)

        return Located(
            binary=self.name, sha256=self.image.sha256, io_printf=self.io_printf, sark_alloc=sark_alloc,
            spin1_memcpy=memcpy, rt_error=rt_error, synapses_initialise=s_init,
            population_table_initialise=p_init, population_table_get_first_address=lookup,
            synapse_dynamics_initialise=d_init, timing_initialise=timing_init, weight_initialise=weight_init,
            synapses_process_synaptic_row=row, synapse_dynamics_process_plastic_synapses=plastic,
            synapse_dynamics_process_post_synaptic_event=post, weight_initialise_return=weight_return,
            ring_buffers=ring_buffers, skipped_synapses=skipped, late_spikes=late, max_late_spike=max_late,
            num_plastic_pre_synaptic_events=pre_events, plastic_saturation_count=saturation,
            backprop_delay=backprop_delay, post_event_history=history, tau_plus_lut=tau_plus,
            tau_minus_lut=tau_minus, weight_region_data=weight_data, weight_shift=weight_shift,
            master_population_table=master,
        )

    def synapse_initialisers(self):
        """Steps 3–4: ``synapses_initialise`` and the two ARM calls that follow its one call
        (``population_table_initialise``, checked by its log, and ``synapse_dynamics_initialise``)."""
        code = self.code
        s_init = self.function_logging("synapses_initialise", "synapses.c", "Not enough memory to allocate ring buffer")
        step = "initialise_synapse_regions"
        caller_pc = self.unique(step, code.callers(s_init), "call of synapses_initialise")
        caller = code.function_containing(caller_pc)
        following = [c for c in self.non_log_calls(caller) if c.pc > caller_pc and not c.thumb][:2]
        if len(following) != 2:
            self.fail(step, "fewer than two calls follow synapses_initialise")
        p_init, d_init = following[0].target, following[1].target
        pop_functions, _ = self.functions_logging(step, "population_table_binary_search_impl.c",
                                                  "Could not allocate master population table")
        if p_init not in pop_functions:
            self.fail(step, f"the call after synapses_initialise ({p_init:#x}) holds no population-table log")
        return s_init, p_init, d_init

    def population_lookup(self, p_init, sark_alloc):
        """Step 9: (master population table pointer, ``population_table_get_first_address``)."""
        code, step = self.code, "population_table_get_first_address"
        allocated = [a.address for a in self.trace(p_init).accesses
                     if a.kind == "w" and a.source is not None and a.source.kind == "ret" and a.source.value == sark_alloc]
        if not allocated:
            self.fail(step, "population_table_initialise stores no sark_alloc result")
        master = allocated[0]
        lookup = self.unique(step, [f for f in code.function_starts() if f != p_init
                                    and master in self.trace(f).globals("r")
                                    and all(c.target != self.io_printf for c in self.trace(f).calls)],
                             "non-logging reader of the master population table")
        return master, lookup

    def weight_file(self):
        """The weight-dependence source file, from the binary's name."""
        return ("weight_multiplicative_impl.c" if "multiplicative" in self.name
                else "weight_additive_one_term_impl.c")


def locate(path, log_db=None):
    """Locate everything in the binary at ``path``; returns :class:`Located` or raises
    :class:`LocateError`. ``log_db``: a :class:`~.logdb.LogDatabase` (default: the wheel's)."""
    return _Locator(path, log_db or LogDatabase()).run()


def locate_cached(path, cache_dir, log_db=None):
    """:func:`locate` with a JSON cache in ``cache_dir``, one file per binary SHA-256."""
    return cached_location(path, cache_dir, locate, Located, LOCATOR_VERSION, "", log_db)


def cached_location(path, cache_dir, locate_function, located_class, version, suffix, log_db=None):
    """``locate_function(path, log_db)`` with a JSON cache in ``cache_dir``: file
    ``<sha256><suffix>.json``, ignored when its ``locator_version`` is not ``version``."""
    image = parse_aplx(path)
    cache = Path(cache_dir) / f"{image.sha256}{suffix}.json"
    if cache.is_file():
        data = json.loads(cache.read_text())
        if data.get("locator_version") == version:
            located = located_class.from_json(data["addresses"])
            if located.sha256 == image.sha256:
                return located
    located = locate_function(path, log_db)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"locator_version": version, "addresses": located.to_json()}, indent=1))
    return located


__all__ = ["Located", "LocateError", "locate", "locate_cached", "LOCATOR_VERSION"]
