"""Parse SpiNNaker APLX images into memory segments.

An APLX file starts with a table of 16-byte little-endian entries ``(op, a, b, c)`` that
SARK's loader (``sark_aplx`` in spinnaker_tools ``sark/sark_alib.s``) walks:

* op 1 (ACOPY): copy ``c`` bytes from absolute address ``b`` to ``a``;
* op 2 (RCOPY): copy ``c`` bytes from ``b`` + (offset of this table entry) to ``a``;
* op 3 (FILL): fill ``b`` bytes at ``a`` with the word ``c``;
* op 4 (EXEC): start executing at ``a`` (the loader jumps: EXEC is the last entry read);
* op 0xff (APLX_END), or any other op: return without executing.

The loader moves 32-byte chunks, so copy and fill lengths are rounded up to 32 bytes.
Relative addresses inside the file are file offsets (the loader runs on the image in
memory starting at the table). ACOPY from an absolute address is not representable for a
file on disk and is rejected.

Addresses: ITCM starts at 0x0 (32 KiB), DTCM at 0x400000 (64 KiB) on SpiNNaker-1
(spinnaker_tools ``include/spinnaker.h``: ``ITCM_BASE``, ``DTCM_BASE``).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

ITCM_BASE = 0x00000000
ITCM_SIZE = 0x8000
DTCM_BASE = 0x00400000
DTCM_SIZE = 0x10000

OP_ACOPY = 1
OP_RCOPY = 2
OP_FILL = 3
OP_EXEC = 4
OP_END = 0xFF

_ENTRY = struct.Struct("<4I")
_CHUNK = 32
_MAX_ENTRIES = 64


class AplxError(ValueError):
    """A malformed APLX image; the message names the file."""


@dataclass(frozen=True)
class Segment:
    """``data`` to be placed at ``address``; ``kind`` is "copy" or "fill"; ``source``: the
    file offset a copy's bytes come from (``None`` for a fill)."""

    address: int
    data: bytes
    kind: str
    source: int | None = None

    @property
    def end(self):
        return self.address + len(self.data)


@dataclass(frozen=True)
class AplxImage:
    """A parsed image: the segments in table order, the entry point and the file's SHA-256.

    Segments may overlap because of the 32-byte rounding (e.g. the initialised-data copy
    runs into the following bss fill); as in the loader, a later segment overwrites an
    earlier one, which is what :meth:`read` returns.
    """

    path: str
    sha256: str
    segments: tuple
    entry: int

    @property
    def name(self):
        return Path(self.path).name

    def itcm_end(self):
        """First byte after the last segment that lies in ITCM."""
        ends = [s.end for s in self.segments if s.address < ITCM_BASE + ITCM_SIZE]
        return max(ends, default=ITCM_BASE)

    def dtcm_end(self):
        """First byte after the last segment (data and bss) that lies in DTCM."""
        ends = [s.end for s in self.segments if DTCM_BASE <= s.address < DTCM_BASE + DTCM_SIZE]
        return max(ends, default=DTCM_BASE)

    def read(self, address, size):
        """Bytes of the loaded image at ``address`` (zeros where nothing is loaded)."""
        out = bytearray(size)
        for segment in self.segments:
            lo, hi = max(address, segment.address), min(address + size, segment.end)
            if lo < hi:
                out[lo - address:hi - address] = segment.data[lo - segment.address:hi - segment.address]
        return bytes(out)

    def file_offset(self, address):
        """The file offset of the byte the loader copies to ``address`` (e.g. to patch a copy)."""
        for segment in reversed(self.segments):  # a later segment overwrites an earlier one
            if segment.address <= address < segment.end:
                if segment.source is None:
                    raise ValueError(f"{self.name}: {address:#x} is filled, not copied from the file")
                return segment.source + address - segment.address
        raise ValueError(f"{self.name}: {address:#x} is not loaded from the file")

    def code(self):
        """The ITCM image from address 0 up to :meth:`itcm_end`."""
        return self.read(ITCM_BASE, self.itcm_end() - ITCM_BASE)


def _round_up(size):
    return (size + _CHUNK - 1) // _CHUNK * _CHUNK


def _in_memory(address, size):
    for base, length in ((ITCM_BASE, ITCM_SIZE), (DTCM_BASE, DTCM_SIZE)):
        if base <= address and address + size <= base + length:
            return True
    return False


def parse_aplx(path):
    """Parse the APLX file at ``path`` into an :class:`AplxImage`.

    Raises :class:`AplxError` (naming the file) if the table is truncated, has no end
    marker or EXEC entry, uses an unknown op, copies from outside the file, or places a
    segment outside ITCM/DTCM.
    """
    path = Path(path)
    data = path.read_bytes()
    name = str(path)

    def fail(message):
        raise AplxError(f"{name}: {message}")

    segments = []
    entry = None
    offset = 0
    for _ in range(_MAX_ENTRIES):
        if offset + _ENTRY.size > len(data):
            fail(f"table entry at offset {offset:#x} runs past the end of the file ({len(data)} bytes)")
        op, a, b, c = _ENTRY.unpack_from(data, offset)
        if op == OP_END:
            break
        if op in (OP_ACOPY, OP_RCOPY):
            if op == OP_ACOPY:
                fail(f"ACOPY from absolute address {b:#x} at table offset {offset:#x} cannot be resolved in a file")
            source = b + offset
            size = _round_up(c)
            if source + size > len(data):
                # The loader copies whole chunks; the image must hold the last chunk's bytes.
                if source + c > len(data):
                    fail(f"RCOPY at table offset {offset:#x} reads {c:#x} bytes from file offset {source:#x}, "
                         f"past the end of the file ({len(data):#x} bytes)")
                chunk = data[source:] + bytes(source + size - len(data))
            else:
                chunk = data[source:source + size]
            if not _in_memory(a, size):
                fail(f"RCOPY at table offset {offset:#x} targets {a:#x}..{a + size:#x}, outside ITCM/DTCM")
            segments.append(Segment(a, bytes(chunk), "copy", source))
        elif op == OP_FILL:
            size = _round_up(b)
            if not _in_memory(a, size):
                fail(f"FILL at table offset {offset:#x} targets {a:#x}..{a + size:#x}, outside ITCM/DTCM")
            segments.append(Segment(a, struct.pack("<I", c) * (size // 4), "fill"))
        elif op == OP_EXEC:
            entry = a
            break
        else:
            fail(f"table op {op:#x} at offset {offset:#x} before any EXEC entry (the loader would not start it)")
        offset += _ENTRY.size
    else:
        fail(f"no EXEC entry in the first {_MAX_ENTRIES} table entries")
    if entry is None:
        fail("the table ends (op 0xff) before any EXEC entry")
    if not segments:
        fail("the table loads nothing")
    return AplxImage(name, hashlib.sha256(data).hexdigest(), tuple(segments), entry)
