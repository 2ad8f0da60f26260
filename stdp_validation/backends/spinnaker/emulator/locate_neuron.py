"""Locate the per-tick functions of a combined neuron + synapse sPyNNaker binary.

The tick-level emulation (:mod:`.neuron_core`) calls a core's own functions in the order
its timer callback runs them. These are found in the stripped binary in the steps below
(sPyNNaker 1!7.4.1 ``neural_modelling/src/neuron``: ``c_main.c``, ``neuron.c``,
``c_main_synapse_common.h``; SpiNNFrontEndCommon ``recording.c``); each step checks that its
answer is unique and otherwise raises :class:`~.locate.LocateError` naming the binary and
the step. It works for static and plastic binaries alike (``IF_cond_exp.aplx``,
``IF_cond_exp_stdp_mad_pair_additive.aplx``, …):

1. ``io_printf`` and the log sites, as in :mod:`.locate`.
2. ``neuron_initialise``: the function holding the ``neuron.c`` log "Not enough memory to
   allocate neuron keys"; its first two Thumb callees are ``sark_alloc`` (via
   ``spin1_malloc``) and ``spin1_memcpy`` (the ring-buffer shifts are allocated, then copied).
3. ``neuron_transfer``: the function holding the ``neuron.c`` log "Neuron index %u out of
   range"; ``rt_error`` is its one ARM callee (``rt_error(RTE_SWERR)`` after the log).
4. ``recording_record``: the function holding the ``recording.c`` log "WARNING: recording
   channel %u out of space".
5. ``timer_callback``: the one caller of ``neuron_transfer`` (``process_ring_buffers`` is
   inlined into it; the callback is never called by ``bl``, so its entry is the nearest
   ``push {…, lr}`` before the call and its end the first return); ``background_callback`` is the constant it passes in r0 to
   ``spin1_schedule_callback`` (the one Thumb call of the timer callback);
   ``neuron_do_timestep_update`` is the last call of ``background_callback`` and must call
   ``recording_record`` (``neuron_recording_record``, inlined).
6. ``synapses_initialise`` (``synapses.c`` log "Not enough memory to allocate ring
   buffer") and the two ARM calls that follow its one call: ``population_table_initialise``
   (holds the population-table log "Could not allocate master population table") and
   ``synapse_dynamics_initialise``.
7. ``population_table_get_first_address``: as :mod:`.locate` step 9.
8. ``synapses_process_synaptic_row``: among the calls of the function holding the
   ``spike_processing.c`` log "Error processing spike 0x%.8x for address 0x%.8x
   (local=0x%.8x)" (the row read), the one function that makes exactly one call, an ARM
   call whose r2 (the ring buffers) is loaded from a global — the call of
   ``synapse_dynamics_process_plastic_synapses`` (static and plastic builds alike).
Results are cached as JSON keyed by the binary's SHA-256, next to :mod:`.locate`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .locate import LocateError, _Locator, cached_location
from .logdb import LogDatabase

#: Bump when a rule changes, so stale cache entries are ignored.
NEURON_LOCATOR_VERSION = 1


@dataclass(frozen=True)
class NeuronLocated:
    """Addresses of one combined binary's per-tick functions (ITCM; Thumb ones without the Thumb bit)."""

    binary: str
    sha256: str
    io_printf: int
    sark_alloc: int
    spin1_memcpy: int
    rt_error: int
    neuron_initialise: int
    neuron_transfer: int
    neuron_do_timestep_update: int
    recording_record: int
    timer_callback: int
    background_callback: int
    synapses_initialise: int
    population_table_initialise: int
    synapse_dynamics_initialise: int
    population_table_get_first_address: int
    synapses_process_synaptic_row: int

    def to_json(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data):
        return cls(**{f.name: data[f.name] for f in fields(cls)})


class _NeuronLocator(_Locator):
    def entry_before(self, pc):
        """The nearest ``push {…, lr}`` at or before ``pc``: the entry of a function that is
        only passed by address (the timer callback), which has no ``bl`` to mark its start."""
        address = pc
        while address >= 0:
            insn = self.code.insns.get(address)
            if insn is not None and insn.mnemonic.startswith("push") and "lr" in insn.op_str:
                return address
            address -= 4
        self.fail("callback entry", f"no push of lr before {pc:#x}")

    def first_return(self, start):
        """The address of the first return (``pop {…, pc}`` or ``bx lr``) at or after ``start``:
        the end of a function that is only ever passed by address (a callback), which the
        call graph does not delimit."""
        address = start
        while address < len(self.code.image):
            insn = self.code.insns.get(address)
            if insn is not None and (insn.mnemonic == "bx" and insn.op_str == "lr"
                                     or insn.mnemonic.startswith("pop") and "pc" in insn.op_str):
                return address
            address += 4
        self.fail("callback end", f"no return after {start:#x}")

    def run(self):
        self.find_io_printf()
        code = self.code

        step = "neuron_initialise"
        n_init = self.function_logging(step, "neuron.c", "Not enough memory to allocate neuron keys")
        thumb = [c.target for c in self.non_log_calls(n_init) if c.thumb]
        if len(thumb) < 2 or thumb[0] == thumb[1]:
            self.fail(step, f"expected Thumb calls sark_alloc then spin1_memcpy, got {[hex(t) for t in thumb[:4]]}")
        sark_alloc, memcpy = thumb[0], thumb[1]

        step = "neuron_transfer"
        transfer = self.function_logging(step, "neuron.c", "Neuron index %u out of range")
        rt_error = self.unique(step, [c.target for c in self.non_log_calls(transfer) if not c.thumb],
                               "ARM call (rt_error) of neuron_transfer")

        step = "recording_record"
        record = self.function_logging(step, "recording.c", "WARNING: recording channel %u out of space")

        step = "timer_callback"
        timer = self.unique(step, [self.entry_before(pc) for pc in code.callers(transfer)],
                            "caller of neuron_transfer")
        schedules = [c for c in self.trace(timer).calls
                     if c.thumb and c.pc < self.first_return(timer) and c.args[0] is not None
                     and c.args[0].kind == "const"]
        if not schedules:
            self.fail(step, f"timer_callback {timer:#x} passes no constant callback to a Thumb call")
        background = schedules[0].args[0].value
        end = self.first_return(background)
        calls = [c for c in self.non_log_calls(background) if c.pc < end]
        if not calls:
            self.fail(step, f"background_callback {background:#x} calls nothing")
        update = calls[-1].target
        if record not in {c.target for c in self.non_log_calls(update)}:
            self.fail(step, f"the last call of background_callback ({update:#x}) does not call recording_record")

        s_init, p_init, d_init = self.synapse_initialisers()
        _, lookup = self.population_lookup(p_init, sark_alloc)

        step = "synapses_process_synaptic_row"
        reader = self.function_logging(step, "spike_processing.c",
                                       "Error processing spike 0x%.8x for address 0x%.8x (local=0x%.8x)")
        rows = []
        for site in self.non_log_calls(reader):
            if site.thumb or site.target in (reader, lookup):
                continue
            inner = [c for c in self.non_log_calls(site.target) if c.pc < code.function_end(site.target)]
            if len(inner) == 1 and not inner[0].thumb and inner[0].args[2] is not None \
                    and inner[0].args[2].kind == "load":
                rows.append(site.target)
        row = self.unique(step, rows, "row function (one ARM call with the ring buffers in r2)")

        return NeuronLocated(
            binary=self.name, sha256=self.image.sha256, io_printf=self.io_printf, sark_alloc=sark_alloc,
            spin1_memcpy=memcpy, rt_error=rt_error, neuron_initialise=n_init, neuron_transfer=transfer,
            neuron_do_timestep_update=update, recording_record=record, timer_callback=timer,
            background_callback=background, synapses_initialise=s_init, population_table_initialise=p_init,
            synapse_dynamics_initialise=d_init, population_table_get_first_address=lookup,
            synapses_process_synaptic_row=row,
        )


def locate_neuron(path, log_db=None):
    """Locate the per-tick functions of the combined binary at ``path``; returns
    :class:`NeuronLocated` or raises :class:`~.locate.LocateError`."""
    return _NeuronLocator(path, log_db or LogDatabase()).run()


def locate_neuron_cached(path, cache_dir, log_db=None):
    """:func:`locate_neuron` with a JSON cache in ``cache_dir`` (``<sha256>.neuron.json``)."""
    return cached_location(path, cache_dir, locate_neuron, NeuronLocated, NEURON_LOCATOR_VERSION, ".neuron", log_db)


__all__ = ["NeuronLocated", "LocateError", "locate_neuron", "locate_neuron_cached", "NEURON_LOCATOR_VERSION"]
