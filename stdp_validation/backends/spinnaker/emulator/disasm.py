"""Static views of an ARM (ARMv5TE) code image for locating functions and globals.

Conventions: addresses are ITCM byte addresses; ARM-state code is 4-byte aligned. The
image is disassembled linearly, one 32-bit word at a time (capstone, ARM mode), so words
of Thumb code and literal pools decode as junk instructions; every use below therefore
looks for specific, checked patterns only.

* :meth:`Code.calls` — every unconditional ``bl``/``blx <imm>`` (``blx`` switches to Thumb).
* :meth:`Code.function_starts` — the targets of those calls, i.e. the start of every
  function that is called directly; a function's extent is up to the next start.
* :meth:`Code.trace` — a linear, flow-insensitive constant tracker over one function:
  which register holds a literal-pool constant (or ``constant ± immediate``), the value
  loaded from such an address, or a call's return value; from that it lists every
  load/store whose address is a known constant ("global accesses") and the argument
  registers at every call. Values are forgotten when a register is overwritten by
  anything else, except by a return (``pop {…, pc}``): linear code after a return is
  reached by a branch from before it. Conditional literal and global loads also set the value (the uses that
  follow on the same path carry the same condition), so a result is only used where the
  compiler's pattern is simple
  (``ldr rB, =anchor`` then ``[rB, #off]``), and every conclusion is checked for
  uniqueness by the caller.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

import capstone
from capstone import arm_const as A

_LOADS = {"ldr": 4, "ldrh": 2, "ldrsh": 2, "ldrb": 1, "ldrsb": 1, "ldrd": 8}
_STORES = {"str": 4, "strh": 2, "strb": 1, "strd": 8}
_CALL_CLOBBERED = (A.ARM_REG_R0, A.ARM_REG_R1, A.ARM_REG_R2, A.ARM_REG_R3, A.ARM_REG_R12, A.ARM_REG_LR)


@dataclass(frozen=True)
class Value:
    """What the tracker knows of a register: ``kind`` is "const" (``value`` = the constant),
    "load" (``value`` = the global address it was loaded from) or "ret" (``value`` = the
    called function's address)."""

    kind: str
    value: int


@dataclass(frozen=True)
class Access:
    """A load ("r") or store ("w") of ``size`` bytes at the constant address ``address``,
    by the instruction at ``pc``; ``conditional`` if the instruction has a condition;
    ``source`` is the tracked value of the stored register (stores only)."""

    pc: int
    kind: str
    address: int
    size: int
    conditional: bool
    source: Value | None


@dataclass(frozen=True)
class CallSite:
    """A call at ``pc`` to ``target`` (``thumb`` for ``blx``); ``args`` are the tracked
    values of r0–r3 (``None`` where unknown)."""

    pc: int
    target: int
    thumb: bool
    args: tuple


@dataclass(frozen=True)
class Trace:
    accesses: tuple
    calls: tuple

    def globals(self, kind=None):
        """The constant addresses accessed (optionally only loads "r" or stores "w"), in code order."""
        seen = []
        for access in self.accesses:
            if (kind is None or access.kind == kind) and access.address not in seen:
                seen.append(access.address)
        return seen

    def read_modify_written(self):
        """Addresses both loaded and stored, in the order of their first store."""
        loaded = set(self.globals("r"))
        return [address for address in self.globals("w") if address in loaded]


class Code:
    """A linear ARM disassembly of ``image`` (bytes placed at address 0)."""

    def __init__(self, image):
        self.image = bytes(image)
        md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_ARM)
        md.detail = True
        self._md = md
        self.insns = {}
        for address in range(0, len(self.image) - 3, 4):
            for insn in md.disasm(self.image[address:address + 4], address):
                self.insns[address] = insn
        self._calls = None
        self._starts = None

    def word(self, address):
        return struct.unpack_from("<I", self.image, address)[0]

    def cstring(self, address, limit=512):
        """The NUL-terminated bytes at ``address`` (``None`` if outside the image)."""
        if not 0 <= address < len(self.image):
            return None
        return self.image[address:address + limit].split(b"\0", 1)[0]

    def literal(self, insn):
        """The literal-pool word an ``ldr rD, [pc, #d]`` loads, else ``None``."""
        if insn.id != A.ARM_INS_LDR or len(insn.operands) != 2:
            return None
        mem = insn.operands[1]
        if mem.type != A.ARM_OP_MEM or mem.mem.base != A.ARM_REG_PC or mem.mem.index != 0:
            return None
        address = insn.address + 8 + mem.mem.disp
        if not 0 <= address <= len(self.image) - 4:
            return None
        return self.word(address)

    def calls(self):
        """Every unconditional ``bl``/``blx`` with an immediate target: (pc, target, thumb)."""
        if self._calls is None:
            found = []
            for address in sorted(self.insns):
                insn = self.insns[address]
                if insn.mnemonic in ("bl", "blx") and insn.cc in (A.ARM_CC_AL, A.ARM_CC_INVALID):
                    operand = insn.operands[0]
                    if operand.type == A.ARM_OP_IMM and 0 <= operand.imm < len(self.image):
                        found.append((address, operand.imm, insn.mnemonic == "blx"))
            self._calls = found
        return self._calls

    def function_starts(self):
        """Sorted addresses of ARM functions called by ``bl``."""
        if self._starts is None:
            self._starts = sorted({target for _, target, thumb in self.calls() if not thumb})
        return self._starts

    def function_containing(self, address):
        starts = self.function_starts()
        index = bisect.bisect_right(starts, address) - 1
        return starts[index] if index >= 0 else None

    def function_end(self, start):
        starts = self.function_starts()
        index = bisect.bisect_right(starts, start)
        return starts[index] if index < len(starts) else len(self.image)

    def calls_in(self, start):
        """Calls made inside the function at ``start``: [(pc, target, thumb)] in code order."""
        end = self.function_end(start)
        return [c for c in self.calls() if start <= c[0] < end]

    def callers(self, target):
        """pcs of the calls to ``target``."""
        return [pc for pc, t, _ in self.calls() if t == target]

    def instructions(self, start):
        end = self.function_end(start)
        return [self.insns[a] for a in range(start, end, 4) if a in self.insns]

    def trace(self, start):
        """Constant tracking over the function at ``start`` (see the module docstring)."""
        values = {}
        accesses, calls = [], []
        for insn in self.instructions(start):
            mnemonic = insn.mnemonic
            conditional = insn.cc not in (A.ARM_CC_AL, A.ARM_CC_INVALID)
            ops = insn.operands
            base_mnemonic = mnemonic[:-2] if conditional and len(mnemonic) > 2 else mnemonic
            written = set(insn.regs_access()[1])
            new_values = {}
            if mnemonic in ("bl", "blx") and ops and ops[0].type == A.ARM_OP_IMM and not conditional:
                args = tuple(values.get(r) for r in (A.ARM_REG_R0, A.ARM_REG_R1, A.ARM_REG_R2, A.ARM_REG_R3))
                calls.append(CallSite(insn.address, ops[0].imm, mnemonic == "blx", args))
                for register in _CALL_CLOBBERED:
                    values.pop(register, None)
                values[A.ARM_REG_R0] = Value("ret", ops[0].imm)
                continue
            literal = self.literal(insn)
            if literal is not None:
                new_values[ops[0].reg] = Value("const", literal)
            elif base_mnemonic in ("mov",) and len(ops) == 2 and ops[1].type == A.ARM_OP_IMM and not conditional:
                new_values[ops[0].reg] = Value("const", ops[1].imm & 0xFFFFFFFF)
            elif (base_mnemonic in ("add", "sub") and len(ops) == 3 and ops[2].type == A.ARM_OP_IMM
                  and not conditional and ops[1].type == A.ARM_OP_REG):
                known = values.get(ops[1].reg)
                if known is not None and known.kind == "const":
                    sign = 1 if base_mnemonic == "add" else -1
                    new_values[ops[0].reg] = Value("const", (known.value + sign * ops[2].imm) & 0xFFFFFFFF)
            elif base_mnemonic in _LOADS or base_mnemonic in _STORES:
                memory = ops[-1] if ops[-1].type == A.ARM_OP_MEM else (ops[1] if len(ops) > 1 else None)
                if memory is not None and memory.type == A.ARM_OP_MEM and memory.mem.index == 0:
                    base = values.get(memory.mem.base)
                    if base is not None and base.kind == "const" and memory.mem.base != A.ARM_REG_PC:
                        post_indexed = len(ops) == 3 and ops[-1].type == A.ARM_OP_IMM
                        offset = 0 if post_indexed else memory.mem.disp
                        address = (base.value + offset) & 0xFFFFFFFF
                        if base_mnemonic in _LOADS:
                            accesses.append(Access(insn.address, "r", address, _LOADS[base_mnemonic], conditional, None))
                            if base_mnemonic != "ldrd":
                                new_values[ops[0].reg] = Value("load", address)
                        else:
                            source = values.get(ops[0].reg)
                            accesses.append(Access(insn.address, "w", address, _STORES[base_mnemonic],
                                                   conditional, source))
            if A.ARM_REG_PC in written and not conditional:
                # A return (pop/ldm into pc): the code that follows is reached by a branch
                # from before it, where the popped registers still held their values.
                continue
            for register in written:
                values.pop(register, None)
            values.update(new_values)
        return Trace(tuple(accesses), tuple(calls))
