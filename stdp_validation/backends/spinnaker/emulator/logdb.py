"""sPyNNaker's log-message database and the ``io_printf`` formatting of its short logs.

The build of the SpiNNaker binaries replaces every ``log_info/warning/error/debug(fmt, …)``
by ``io_printf(IO_BUF, "%u<RS>…\\n", <log id>, …)`` (``spinn_utilities/make_tools/
file_converter.py``, ``FileConverter._short_log``; RS = chr(30)). The ids and original
messages of the shipped binaries are in ``spinn_utilities/make_tools/logs.sqlite3``, view
``replacer_view (log_id, log_level, file_name, line_num, original, last_build)``; levels
are 10 DEBUG, 20 INFO, 30 WARN, 40 ERROR (``replacer.py`` ``LEVELS``).
"""

from __future__ import annotations

import re
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

ERROR = 40
LEVEL_NAMES = {10: "DEBUG", 20: "INFO", 30: "WARN", 40: "ERROR"}
TOKEN = "\x1e"
#: Conversions of C printf formats as the SpiNNaker ``io_printf`` supports them.
_CONVERSION = re.compile(r"%(%|[-0 #+]*\d*(?:\.\d+)?([cdiuxXsfFkKR]))")
#: Conversions in the original messages, as ``file_converter.FORMAT_EXP`` finds them.
_ORIGINAL = re.compile(r"(%+\d*(?:\.\d+)?[cdfiksuxRFK])")


def default_log_database():
    """Path of the wheel's ``logs.sqlite3`` (from the installed ``spinn_utilities``)."""
    import spinn_utilities.make_tools as make_tools

    path = Path(make_tools.__file__).with_name("logs.sqlite3")
    if not path.is_file():
        raise FileNotFoundError(f"no log database at {path} (is spinn_utilities installed from its wheel?)")
    return path


@dataclass(frozen=True)
class LogEntry:
    log_id: int
    level: int
    file_name: str
    line_num: int
    original: str


class LogDatabase:
    """Read-only access to the log-id table."""

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else default_log_database()
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT log_id, log_level, file_name, line_num, original FROM replacer_view"
            ).fetchall()
        finally:
            connection.close()
        self.entries = {row[0]: LogEntry(*row) for row in rows}

    def ids(self, file_name, text, level=None):
        """Ids of the messages of ``file_name`` whose original text contains ``text``."""
        return sorted(
            e.log_id for e in self.entries.values()
            if e.file_name == file_name and text in e.original and (level is None or e.level == level)
        )

    def decode(self, short):
        """(entry or None, readable message) of a short log line ``"<id><RS><arg>…"``."""
        parts = short.rstrip("\n").split(TOKEN)
        if not parts[0].isdigit() or int(parts[0]) not in self.entries:
            return None, short
        entry = self.entries[int(parts[0])]
        message = entry.original
        values = parts[1:]
        position = 0
        for match in [m for m in _ORIGINAL.findall(entry.original) if m and not m.startswith("%%")]:
            if position >= len(values):
                break
            if match.endswith("f"):
                replacement = str(struct.unpack("<f", struct.pack("<I", int(values[position], 16)))[0])
            elif match.endswith("F") and position + 1 < len(values):
                raw = struct.pack(">II", int(values[position], 16), int(values[position + 1], 16))
                replacement = str(struct.unpack(">d", raw)[0])
                position += 1
            else:
                replacement = values[position]
            position += 1
            message = message.replace(match, replacement, 1)
        return entry, f"[{LEVEL_NAMES.get(entry.level, entry.level)}] ({entry.file_name}: {entry.line_num}): {message}"


def format_printf(fmt, next_arg, read_string):
    """C-style formatting of ``fmt`` (str) as spinnaker_tools ``io_printf`` does for the
    conversions the short logs use; ``next_arg()`` returns the next 32-bit argument and
    ``read_string(address)`` a NUL-terminated string."""
    out = []
    position = 0
    for match in _CONVERSION.finditer(fmt):
        out.append(fmt[position:match.start()])
        position = match.end()
        if match.group(1) == "%":
            out.append("%")
            continue
        conversion = match.group(2)
        spec = match.group(1)[:-1]
        value = next_arg()
        if conversion in "di":
            value = value - (1 << 32) if value & 0x80000000 else value
            out.append(("%" + spec + "d") % value)
        elif conversion == "u":
            out.append(("%" + spec + "d") % value)
        elif conversion in "xX":
            width = spec.replace(".", "0") if spec.startswith(".") else spec
            out.append(("%" + width + conversion) % value)
        elif conversion == "c":
            out.append(chr(value & 0xFF))
        elif conversion == "s":
            out.append(read_string(value))
        else:  # fixed-point / float conversions: raw hex is the most faithful rendering here
            out.append(f"{value:#x}")
    out.append(fmt[position:])
    return "".join(out)
