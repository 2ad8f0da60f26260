"""A unicorn ARM machine that runs single functions of a SpiNNaker-1 binary.

Memory map (SpiNNaker-1 addresses, spinnaker_tools ``include/spinnaker.h``):

* ITCM 0x00000000–0x00007fff: the image's code. The words from the end of the code to
  :data:`TRAP` are free; :data:`TRAP` (the last ITCM word) holds ``b .`` and is the return
  address of every call, so ``emu_start(function, TRAP)`` returns when the function does.
  :meth:`Machine.free_itcm` hands out the free words (e.g. to a driver loop).
* DTCM 0x00400000–0x0040ffff: the image's data and bss, then a heap served by the
  ``sark_alloc`` hook, then the stack (top at :data:`STACK_TOP`, :data:`STACK_SIZE` bytes).
* SDRAM at :data:`SDRAM_BASE` (``SDRAM_SIZE`` bytes): region bytes, synaptic rows, event
  arrays. The code only uses the pointers it is given.

Calls follow the ARM EABI (AAPCS): arguments 1–4 in r0–r3, further ones on the stack
(4 bytes each, the stack 8-byte aligned at the call); the result in r0.

Library functions are replaced by Python hooks: their first instruction is overwritten by
a return (``bx lr``) and a code hook at that address does the work first:

* ``sark_alloc(count, size)`` (spinnaker_tools ``sark/sark_alloc.c``): an 8-byte aligned
  block of count·size bytes from the heap, or NULL (0) when it is full;
* ``io_printf(stream, fmt, …)`` (``sark/sark_io.c``): formatted; short logs are decoded
  with the log database; an ERROR-level log stops the call with a fault;
* ``rt_error(code, …)`` (``sark/sark_alib.s``): stops the call with a fault.

Every call has an instruction budget. Faults — unmapped access, budget exhausted, ERROR
log, ``rt_error`` — are raised as :class:`EmulationFault` (binary, function, tick, message).
"""

from __future__ import annotations

import struct

import unicorn
from unicorn import arm_const as R

from .aplx import DTCM_BASE, DTCM_SIZE, ITCM_BASE, ITCM_SIZE
from .logdb import ERROR, format_printf

SDRAM_BASE = 0x60000000
SDRAM_SIZE = 0x01000000
STACK_TOP = DTCM_BASE + DTCM_SIZE - 16
STACK_SIZE = 0x2000
TRAP = ITCM_BASE + ITCM_SIZE - 4
ARM_BRANCH_TO_SELF = 0xEAFFFFFE  # b .   (cond AL, opcode 101, L=0, offset -2 words)
THUMB_BX_LR = 0x4770  # bx lr  (Thumb format 5, Rm = lr)
ARM_BX_LR = 0xE12FFF1E  # bx lr  (cond AL, BX, Rm = lr)
#: Slowest emulation speed assumed when an instruction budget becomes a time limit.
MIN_INSTRUCTIONS_PER_SECOND = 2_000_000
RTE_NAMES = {9: "RTE_ABORT", 10: "RTE_MALLOC", 13: "RTE_SWERR", 20: "RTE_API"}
#: SpiNNaker-1 memory map (spinnaker_tools ``include/spinnaker.h``, unbuffered and buffered
#: bases): what an access outside the emulated memory would have reached on the chip.
CHIP_MEMORY = (
    (0x10000000, 0x01000000, "the communications controller (CC_BASE)"),
    (0x20000000, 0x01000000, "the communications controller (CC_BASE, buffered)"),
    (0x11000000, 0x01000000, "the timers (TIMER_BASE)"),
    (0x21000000, 0x01000000, "the timers (TIMER_BASE, buffered)"),
    (0x1F000000, 0x01000000, "the interrupt controller (VIC_BASE)"),
    (0x2F000000, 0x01000000, "the interrupt controller (VIC_BASE, buffered)"),
    (0x30000000, 0x01000000, "the DMA controller (DMA_BASE)"),
    (0x40000000, 0x01000000, "the DMA controller (DMA_BASE, buffered)"),
    (0x60000000, 0x10000000, "SDRAM"),
    (0x70000000, 0x10000000, "SDRAM (unbuffered)"),
    (0xE0000000, 0x01000000, "the SDRAM controller (PL340_BASE)"),
    (0xE1000000, 0x01000000, "the router (RTR_BASE)"),
    (0xE2000000, 0x01000000, "the system controller (SYSCTL_BASE)"),
    (0xE3000000, 0x01000000, "the watchdog (WDOG_BASE)"),
    (0xE4000000, 0x01000000, "the Ethernet controller (ETH_BASE)"),
    (0xE5000000, 0x00008000, "System RAM (SYSRAM_BASE: SARK's system variables and shared data)"),
    (0xF0000000, 0x06000000, "a system peripheral (unbuffered alias)"),
    (0xF5000000, 0x00008000, "System RAM (unbuffered)"),
    (0xF6000000, 0x00008000, "the boot ROM (ROM_BASE)"),
)


def chip_memory_name(address):
    """What the SpiNNaker-1 address ``address`` is on the chip (for fault messages)."""
    for base, size, name in CHIP_MEMORY:
        if base <= address < base + size:
            return name
    return "no memory on the chip"


class EmulationFault(RuntimeError):
    """The emulated code faulted or reported an error.

    ``binary``, ``function`` (name), ``tick`` (the simulation tick being processed, or
    ``None``), ``kind`` ("unmapped", "budget", "error_log", "rt_error", "failed") and the
    message.
    """

    def __init__(self, binary, function, tick, kind, message):
        self.binary, self.function, self.tick, self.kind, self.message = binary, function, tick, kind, message
        where = f"{binary}: {function}" + (f" at tick {tick}" if tick is not None else "")
        super().__init__(f"{where}: {kind}: {message}")


class Machine:
    """One emulated core loaded with ``image`` (:class:`~.aplx.AplxImage`).

    ``hooks``: mapping of hook name ("sark_alloc", "io_printf", "rt_error") to the
    function's address (Thumb functions as located, without the Thumb bit; ``thumb`` says
    which). ``log_db``: a :class:`~.logdb.LogDatabase` for decoding logs.
    """

    def __init__(self, image, *, sark_alloc, io_printf, rt_error, log_db, cpu_model=R.UC_CPU_ARM_946):
        self.image = image
        self.binary = image.name
        self.log_db = log_db
        self.logs = []
        uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_ARM)
        uc.ctl_set_cpu_model(cpu_model)
        uc.mem_map(ITCM_BASE, ITCM_SIZE, unicorn.UC_PROT_ALL)
        uc.mem_map(DTCM_BASE, DTCM_SIZE, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE)
        uc.mem_map(SDRAM_BASE, SDRAM_SIZE, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE)
        for segment in image.segments:
            uc.mem_write(segment.address, segment.data)
        self.uc = uc
        self._free_itcm = (image.itcm_end() + 15) & ~15
        if self._free_itcm > TRAP:
            raise ValueError(f"{self.binary}: the code fills ITCM; no room for the return trap")
        self.write_u32(TRAP, ARM_BRANCH_TO_SELF)
        self.heap_start = (image.dtcm_end() + 7) & ~7
        self.heap_end = STACK_TOP - STACK_SIZE
        if self.heap_start >= self.heap_end:
            raise ValueError(f"{self.binary}: no DTCM left for a heap")
        self.heap_next = self.heap_start
        self.allocations = []
        self._sdram_next = SDRAM_BASE
        self._fault = None
        self.function = None
        self.tick = None
        self.tick_reader = None
        self._install(sark_alloc, True, self._sark_alloc)
        self._install(io_printf, True, self._io_printf)
        self._install(rt_error, False, self._rt_error)
        uc.hook_add(unicorn.UC_HOOK_MEM_UNMAPPED | unicorn.UC_HOOK_MEM_FETCH_PROT, self._unmapped)

    # -- memory -----------------------------------------------------------------------------
    def read(self, address, size):
        return bytes(self.uc.mem_read(address, size))

    def write(self, address, data):
        self.uc.mem_write(address, bytes(data))

    def read_u32(self, address):
        return struct.unpack("<I", self.read(address, 4))[0]

    def write_u32(self, address, value):
        self.write(address, struct.pack("<I", value & 0xFFFFFFFF))

    def sdram_alloc(self, size, align=16):
        """Reserve ``size`` bytes of emulated SDRAM; returns the address."""
        address = (self._sdram_next + align - 1) & ~(align - 1)
        if address + size > SDRAM_BASE + SDRAM_SIZE:
            raise MemoryError(f"{self.binary}: emulated SDRAM full ({SDRAM_SIZE} bytes)")
        self._sdram_next = address + size
        return address

    def sdram_put(self, data, align=16):
        address = self.sdram_alloc(len(data), align)
        self.write(address, data)
        return address

    def dtcm_alloc(self, size):
        """Take ``size`` bytes (8-aligned) from the DTCM heap (what ``sark_alloc`` serves); 0 if full."""
        address = self.heap_next
        size = (size + 7) & ~7
        if size == 0 or address + size > self.heap_end:
            return 0
        self.heap_next = address + size
        self.allocations.append((address, size))
        return address

    def free_itcm(self, size):
        """Reserve ``size`` bytes of the unused ITCM after the code; returns the address."""
        address = self._free_itcm
        if address + size > TRAP:
            raise MemoryError(f"{self.binary}: only {TRAP - address} bytes of ITCM are free, {size} needed")
        self._free_itcm = (address + size + 15) & ~15
        return address

    # -- hooks ------------------------------------------------------------------------------
    def _install(self, address, thumb, callback):
        if thumb:
            self.write(address, struct.pack("<H", THUMB_BX_LR))
        else:
            self.write_u32(address, ARM_BX_LR)
        self.uc.hook_add(unicorn.UC_HOOK_CODE, callback, begin=address, end=address)

    def _stop(self, kind, message):
        if self._fault is None:
            self._fault = (kind, message)
        self.uc.emu_stop()

    def _sark_alloc(self, uc, address, size, data):
        count, unit = uc.reg_read(R.UC_ARM_REG_R0), uc.reg_read(R.UC_ARM_REG_R1)
        uc.reg_write(R.UC_ARM_REG_R0, self.dtcm_alloc(count * unit))

    def _string(self, address):
        out = bytearray()
        while len(out) < 1024:
            byte = self.read(address + len(out), 1)
            if byte == b"\0":
                break
            out += byte
        return out.decode("latin-1")

    def _io_printf(self, uc, address, size, data):
        regs = [uc.reg_read(r) for r in (R.UC_ARM_REG_R0, R.UC_ARM_REG_R1, R.UC_ARM_REG_R2, R.UC_ARM_REG_R3)]
        sp = uc.reg_read(R.UC_ARM_REG_SP)
        pending = [regs[2], regs[3]]
        stack_index = [0]

        def next_arg():
            if pending:
                return pending.pop(0)
            value = self.read_u32(sp + 4 * stack_index[0])
            stack_index[0] += 1
            return value

        text = format_printf(self._string(regs[1]), next_arg, self._string)
        entry, message = self.log_db.decode(text)
        self.logs.append(message)
        if entry is not None and entry.level >= ERROR:
            self._stop("error_log", message)

    def _rt_error(self, uc, address, size, data):
        code = uc.reg_read(R.UC_ARM_REG_R0)
        self._stop("rt_error", f"rt_error({RTE_NAMES.get(code, code)})")

    def _unmapped(self, uc, access, address, size, value, data):
        kinds = {unicorn.UC_MEM_READ_UNMAPPED: "read", unicorn.UC_MEM_WRITE_UNMAPPED: "write",
                 unicorn.UC_MEM_FETCH_UNMAPPED: "fetch", unicorn.UC_MEM_FETCH_PROT: "fetch (not executable)"}
        pc = uc.reg_read(R.UC_ARM_REG_PC)
        self._fault = ("unmapped", f"{kinds.get(access, access)} of {size} bytes at {address:#010x} (pc {pc:#x}): "
                                   f"{chip_memory_name(address)}, which the emulation does not provide")
        return False

    # -- calls ------------------------------------------------------------------------------
    def call(self, function, *args, name=None, thumb=False, budget=1_000_000, exact_budget=True, tick=None):
        """Call the function at ``function`` with 32-bit ``args``; returns r0.

        ``budget``: the most instructions the call may execute. ``exact_budget=True``
        counts instructions (unicorn's ``count``, which roughly halves the speed);
        ``False`` turns the budget into a wall-clock limit of ``budget`` /
        :data:`MIN_INSTRUCTIONS_PER_SECOND` seconds (at least 1 s), which still stops
        runaway code at no cost. Raises :class:`EmulationFault` on any fault.
        """
        uc = self.uc
        self.function = name or f"{function:#x}"
        self.tick = tick
        self._fault = None
        sp = STACK_TOP
        extra = [a & 0xFFFFFFFF for a in args[4:]]
        if extra:
            sp -= 4 * len(extra)
            sp &= ~7
            self.write(sp, struct.pack(f"<{len(extra)}I", *extra))
        for register, value in zip((R.UC_ARM_REG_R0, R.UC_ARM_REG_R1, R.UC_ARM_REG_R2, R.UC_ARM_REG_R3), args):
            uc.reg_write(register, value & 0xFFFFFFFF)
        uc.reg_write(R.UC_ARM_REG_SP, sp)
        uc.reg_write(R.UC_ARM_REG_LR, TRAP)
        start = function | 1 if thumb else function
        if exact_budget:
            limits = {"count": budget}
        else:
            limits = {"timeout": int(1e6 * max(1.0, budget / MIN_INSTRUCTIONS_PER_SECOND))}
        try:
            uc.emu_start(start, TRAP, **limits)
        except unicorn.UcError as error:
            kind, message = self._fault or ("unmapped", str(error))
            raise EmulationFault(self.binary, self.function, self._current_tick(), kind, message) from None
        if self._fault is not None:
            raise EmulationFault(self.binary, self.function, self._current_tick(), *self._fault)
        pc = uc.reg_read(R.UC_ARM_REG_PC)
        if pc != TRAP:
            limit = f"{budget} instructions" if exact_budget else f"{limits['timeout'] / 1e6:.1f} s"
            raise EmulationFault(self.binary, self.function, self._current_tick(), "budget",
                                 f"did not return within {limit} (pc {pc:#x})")
        return uc.reg_read(R.UC_ARM_REG_R0)

    def _current_tick(self):
        if self.tick_reader is not None:
            return self.tick_reader()
        return self.tick
