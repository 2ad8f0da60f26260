"""A hand-encoded ARM driver loop that feeds many STDP events to a binary in one call.

One ``emu_start`` per event costs tens of µs of unicorn start/stop overhead; the driver
walks an event array in emulated SDRAM instead and calls the binary's two entry points
itself, so a whole batch is one ``emu_start``.

C equivalent (``driver(events, count, row_buffer, status)``; AAPCS, returns 1 when every
event was processed, 0 when ``synapses_process_synaptic_row`` returned false, with
``status[0]`` = index of the event being processed)::

    for (i = 0; i < count; i++, e += 8) {          // e: uint32_t[8] per event
        status[0] = i;
        if (e[0] == POST) {
            synapse_dynamics_process_post_synaptic_event(e[1] /*time*/, e[2] /*neuron*/);
        } else if (e[0] == LOOKUP) {                // e[1] key, e[2] result (5 words)
            ((uint32_t *) e[2])[4] = population_table_get_first_address(e[1], (void *) e[2]);
        } else if (e[0] == CLEAR) {                 // zero e[3] bytes at e[2] (a ring-buffer slot)
            for (n = e[3], d = (uint32_t *) e[2]; n > 0; n -= 4) *d++ = 0;
        } else {                                    // PRE: copy the row as the DMA would
            uint32_t *src = (uint32_t *) e[2], *dst = row_buffer;
            for (n = e[3] /*bytes*/; n > 0; n -= 4) *dst++ = *src++;
            if (!synapses_process_synaptic_row(e[1], e[4] /*colour*/, e[5] /*colour mask*/,
                                               row_buffer, (bool *) &status[1])) return 0;
            if (((uint8_t *) status)[4]) {          // write back the plastic region
                for (n = row_buffer[0], s = row_buffer + 1, d = src_row + 1; n != 0; n--) *d++ = *s++;
            }
        }
    }
    return 1;

The event record is 8 words: kind (0 post, 1 pre, 2 clear, 3 lookup), time (tick; the
key for a lookup), neuron index (post), SDRAM row address (pre), address (clear, lookup
result), byte count (pre: row bytes; clear), spike colour, colour mask, 2 unused.

Every instruction is encoded by the small functions below from the ARM Architecture
Reference Manual (ARMv5TE, ARM state, condition AL = 0xE unless given):

* data processing, immediate: ``cond 001 opcode S Rn Rd rot imm8`` (rot = 0 here);
  register: ``cond 000 opcode S Rn Rd 00000 000 Rm``;
* single data transfer: ``cond 01 0 P U B W L Rn Rd imm12`` (P=1 offset, P=0
  post-indexed; U=1 add; B byte; L load);
* block transfer: ``cond 100 P U S W L Rn reglist`` (push = STMDB sp!, pop = LDMIA sp!);
* branch: ``cond 101 0 offset24`` with offset = (target − (pc + 8)) / 4;
* ``blx Rm``: ``cond 0001 0010 1111 1111 1111 0011 Rm`` (interworking: Thumb if bit 0).

:func:`assemble` checks its output with capstone (the disassembly must read back as the
intended mnemonics) before it is used.
"""

from __future__ import annotations

import struct

import capstone

EVENT_WORDS = 8
EVENT_BYTES = 4 * EVENT_WORDS
KIND_POST = 0
KIND_PRE = 1
KIND_CLEAR = 2
KIND_LOOKUP = 3

AL, EQ, NE, GE, GT = 0xE, 0x0, 0x1, 0xA, 0xC
_OPCODE = {"and": 0, "sub": 2, "add": 4, "cmp": 10, "mov": 13}
SP, LR, PC, IP = 13, 14, 15, 12


def dp_imm(op, rd, rn, imm, s=False, cond=AL):
    """Data processing with an 8-bit immediate (no rotation)."""
    if not 0 <= imm <= 0xFF:
        raise ValueError(f"immediate {imm} does not fit 8 bits")
    s = s or op == "cmp"
    return cond << 28 | 1 << 25 | _OPCODE[op] << 21 | int(s) << 20 | rn << 16 | rd << 12 | imm


def dp_reg(op, rd, rn, rm, s=False, cond=AL):
    """Data processing with a register operand (no shift)."""
    s = s or op == "cmp"
    return cond << 28 | _OPCODE[op] << 21 | int(s) << 20 | rn << 16 | rd << 12 | rm


def transfer(load, rd, rn, offset=0, byte=False, post_indexed=False, cond=AL):
    """``ldr``/``str``(``b``) rd, [rn, #offset] (or post-indexed [rn], #offset); offset ≥ 0."""
    if not 0 <= offset <= 0xFFF:
        raise ValueError(f"offset {offset} does not fit 12 bits")
    p = 0 if post_indexed else 1
    return cond << 28 | 1 << 26 | p << 24 | 1 << 23 | int(byte) << 22 | int(load) << 20 | rn << 16 | rd << 12 | offset


def push(registers):
    return AL << 28 | 0b100 << 25 | 1 << 24 | 0 << 23 | 1 << 21 | 0 << 20 | SP << 16 | _mask(registers)


def pop(registers):
    return AL << 28 | 0b100 << 25 | 0 << 24 | 1 << 23 | 1 << 21 | 1 << 20 | SP << 16 | _mask(registers)


def _mask(registers):
    mask = 0
    for register in registers:
        mask |= 1 << register
    return mask


def branch(pc, target, cond=AL):
    offset = (target - (pc + 8)) >> 2
    return cond << 28 | 0b101 << 25 | (offset & 0xFFFFFF)


def blx(rm):
    return AL << 28 | 0x012FFF30 | rm


def _program(labels, literal):
    """(label-or-None, encoder(pc) -> word, expected mnemonic) for the driver; see module docstring.

    ``literal(pc, k)``: the pc-relative offset of literal-pool word k (0 post-event
    function, 1 row function, 2 population-table lookup)."""
    r0, r1, r2, r3, r4, r5, r6, r7, r8, r9 = range(10)
    L = labels.get
    return [
        # r3 is saved only to keep sp 8-byte aligned at the calls (10 registers + 8 bytes).
        ("start", lambda pc: push([3, 4, 5, 6, 7, 8, 9, 10, 11, LR]), "push"),
        (None, lambda pc: dp_imm("sub", SP, SP, 8), "sub"),          # room for argument 5, 8-aligned
        (None, lambda pc: dp_reg("mov", r4, 0, r0), "mov"),          # r4 = events
        (None, lambda pc: dp_reg("mov", r5, 0, r1), "mov"),          # r5 = count
        (None, lambda pc: dp_reg("mov", r6, 0, r2), "mov"),          # r6 = row buffer (DTCM)
        (None, lambda pc: dp_reg("mov", r7, 0, r3), "mov"),          # r7 = status
        (None, lambda pc: dp_imm("mov", r8, 0, 0), "mov"),           # r8 = i = 0
        ("loop", lambda pc: dp_reg("cmp", 0, r8, r5), "cmp"),
        (None, lambda pc: branch(pc, L("done"), GE), "bge"),
        (None, lambda pc: transfer(False, r8, r7, 0), "str"),        # status[0] = i
        (None, lambda pc: transfer(True, r0, r4, 4), "ldr"),         # r0 = time (or key)
        (None, lambda pc: transfer(True, r1, r4, 8), "ldr"),         # r1 = neuron / address
        (None, lambda pc: transfer(True, r3, r4, 0), "ldr"),         # r3 = kind
        (None, lambda pc: dp_imm("cmp", 0, r3, KIND_POST), "cmp"),
        (None, lambda pc: branch(pc, L("other"), NE), "bne"),
        (None, lambda pc: transfer(True, IP, PC, literal(pc, 0)), "ldr"),
        (None, lambda pc: blx(IP), "blx"),                           # post_synaptic_event(time, neuron)
        (None, lambda pc: branch(pc, L("next")), "b"),
        ("other", lambda pc: dp_imm("cmp", 0, r3, KIND_PRE), "cmp"),
        (None, lambda pc: branch(pc, L("pre"), EQ), "beq"),
        (None, lambda pc: dp_imm("cmp", 0, r3, KIND_CLEAR), "cmp"),
        (None, lambda pc: branch(pc, L("clear"), EQ), "beq"),
        (None, lambda pc: transfer(True, IP, PC, literal(pc, 2)), "ldr"),
        (None, lambda pc: blx(IP), "blx"),                           # get_first_address(key, result)
        (None, lambda pc: transfer(True, r1, r4, 8), "ldr"),
        (None, lambda pc: transfer(False, r0, r1, 16), "str"),       # result[4] = found
        (None, lambda pc: branch(pc, L("next")), "b"),
        ("clear", lambda pc: transfer(True, r2, r4, 12), "ldr"),     # r2 = bytes to zero at r1
        (None, lambda pc: dp_imm("mov", r3, 0, 0), "mov"),
        ("zero", lambda pc: transfer(False, r3, r1, 4, post_indexed=True), "str"),
        (None, lambda pc: dp_imm("sub", r2, r2, 4, s=True), "subs"),
        (None, lambda pc: branch(pc, L("zero"), GT), "bgt"),
        (None, lambda pc: branch(pc, L("next")), "b"),
        ("pre", lambda pc: dp_reg("mov", r9, 0, r1), "mov"),         # r9 = SDRAM row
        (None, lambda pc: transfer(True, r2, r4, 12), "ldr"),        # r2 = bytes
        (None, lambda pc: dp_reg("mov", r0, 0, r6), "mov"),          # r0 = dst
        ("copy", lambda pc: transfer(True, r3, r1, 4, post_indexed=True), "ldr"),
        (None, lambda pc: transfer(False, r3, r0, 4, post_indexed=True), "str"),
        (None, lambda pc: dp_imm("sub", r2, r2, 4, s=True), "subs"),
        (None, lambda pc: branch(pc, L("copy"), GT), "bgt"),
        (None, lambda pc: dp_imm("add", r3, r7, 4), "add"),          # &write_back = status + 4
        (None, lambda pc: transfer(False, r3, SP, 0), "str"),        # argument 5 on the stack
        (None, lambda pc: transfer(True, r0, r4, 4), "ldr"),         # time
        (None, lambda pc: transfer(True, r1, r4, 16), "ldr"),        # spike colour
        (None, lambda pc: transfer(True, r2, r4, 20), "ldr"),        # colour mask
        (None, lambda pc: dp_reg("mov", r3, 0, r6), "mov"),          # row (DTCM copy)
        (None, lambda pc: transfer(True, IP, PC, literal(pc, 1)), "ldr"),
        (None, lambda pc: blx(IP), "blx"),                           # synapses_process_synaptic_row
        (None, lambda pc: dp_imm("cmp", 0, r0, 0), "cmp"),
        (None, lambda pc: branch(pc, L("failed"), EQ), "beq"),
        (None, lambda pc: transfer(True, r3, r7, 4, byte=True), "ldrb"),  # write_back flag
        (None, lambda pc: dp_imm("cmp", 0, r3, 0), "cmp"),
        (None, lambda pc: branch(pc, L("next"), EQ), "beq"),
        (None, lambda pc: transfer(True, r2, r6, 0), "ldr"),         # plastic size in words
        (None, lambda pc: dp_imm("add", r0, r9, 4), "add"),          # SDRAM plastic region
        (None, lambda pc: dp_imm("add", r1, r6, 4), "add"),          # DTCM plastic region
        ("wb", lambda pc: dp_imm("cmp", 0, r2, 0), "cmp"),
        (None, lambda pc: branch(pc, L("next"), EQ), "beq"),
        (None, lambda pc: transfer(True, r3, r1, 4, post_indexed=True), "ldr"),
        (None, lambda pc: transfer(False, r3, r0, 4, post_indexed=True), "str"),
        (None, lambda pc: dp_imm("sub", r2, r2, 1), "sub"),
        (None, lambda pc: branch(pc, L("wb")), "b"),
        ("next", lambda pc: dp_imm("add", r4, r4, EVENT_BYTES), "add"),
        (None, lambda pc: dp_imm("add", r8, r8, 1), "add"),
        (None, lambda pc: branch(pc, L("loop")), "b"),
        ("done", lambda pc: dp_imm("mov", r0, 0, 1), "mov"),
        (None, lambda pc: branch(pc, L("out")), "b"),
        ("failed", lambda pc: dp_imm("mov", r0, 0, 0), "mov"),
        ("out", lambda pc: dp_imm("add", SP, SP, 8), "add"),
        (None, lambda pc: pop([3, 4, 5, 6, 7, 8, 9, 10, 11, PC]), "pop"),
    ]


def assemble(base, post_synaptic_event, process_synaptic_row, get_first_address):
    """Machine code of the driver placed at ``base``, with a 3-word literal pool (the
    three entry points, ARM state) at its end. Returns bytes; raises ``AssertionError`` if
    the capstone read-back differs from the intended instructions."""
    labels = {}
    placeholder = _program(labels, lambda pc, k: 0)
    for index, (label, _, _) in enumerate(placeholder):
        if label:
            labels[label] = base + 4 * index
    pool = base + 4 * len(placeholder)
    program = _program(labels, lambda pc, k: pool + 4 * k - (pc + 8))
    words = [encode(base + 4 * i) for i, (_, encode, _) in enumerate(program)]
    code = struct.pack(f"<{len(words)}I", *words) + struct.pack(
        "<3I", post_synaptic_event, process_synaptic_row, get_first_address)
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_ARM)
    decoded = [i.mnemonic for i in md.disasm(code[:4 * len(words)], base)]
    expected = [mnemonic for _, _, mnemonic in program]
    assert decoded == expected, f"driver encoding check failed: {list(zip(expected, decoded))}"
    return code
