"""Emulating one post population: its cores' binaries driven by the protocol's spikes.

Presynaptic spikes are processed at the ticks sPyNNaker gives ``SpikeSourceArray`` times
(ceil(floor(t·1000)/dt_µs), ``spike_source_array_vertex.py``); postsynaptic spikes at the
ticks the caller supplies (the intended firing ticks of driven post cells: neurons are not
emulated). Within a tick, post events come first (see :mod:`.synapse_core`). The stored
16-bit weights are read back from the emulated rows, and sPyNNaker's own counters from the
emulated cores.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .aplx import parse_aplx
from .locate import LOCATOR_VERSION, Located, LocateError, locate_cached
from ..provenance import invalid_reasons


@lru_cache(maxsize=None)
def pinned_addresses():
    """The committed table of located addresses, keyed by binary SHA-256 (sPyNNaker 1!7.4.1)."""
    data = json.loads(resources.files(__package__).joinpath("pinned_addresses.json").read_text(encoding="utf-8"))
    if data.get("locator_version") != LOCATOR_VERSION:
        return {}
    return data["binaries"]


def cache_directory():
    """Where addresses of binaries not in the pinned table are cached (``$XDG_CACHE_HOME``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "stdp-validation" / "located"


def located_for(path):
    """``(Located, pinned)`` for the binary at ``path``: from the committed table when its
    SHA-256 is listed there, else located afresh from the binary itself (and cached)."""
    image = parse_aplx(path)
    entry = pinned_addresses().get(image.sha256)
    if entry is not None:
        addresses = {name: int(value, 16) for name, value in entry["addresses"].items()}
        return Located(binary=image.name, sha256=image.sha256, **addresses), True
    return locate_cached(path, cache_directory()), False


@dataclass
class PopulationEmulation:
    """What the emulation of one post population gave, per case and per core."""

    stored: list  # stored uint16 weight per case
    cores: list = field(default_factory=list)  # per core: binary, sha256, pinned, placement, counters, addresses
    invalid: dict = field(default_factory=dict)  # case index → reason (an invalidating counter)
    events: int = 0  # synapse events processed (rows and post events)

    @property
    def counters(self):
        """The counters summed over the cores."""
        total = {}
        for core in self.cores:
            for name, value in core["counters"].items():
                total[name] = total.get(name, 0) + value
        return total


def emulate_population(population, pre_ticks, post_ticks, synapses, *, binary_overrides=None):
    """Run every core of ``population`` (an :func:`.images.extract_population` record).

    ``pre_ticks[j]``, ``post_ticks[i]``: spike ticks of PyNN pre cell j and post cell i;
    ``synapses``: one (pre cell, post cell) pair per case. ``binary_overrides``
    (``{binary file name: path}``) replaces the toolchain's binaries (e.g. by a patched copy). Raises
    :class:`~.core.EmulationFault`, :class:`~.synapse_core.LayoutError` or
    :class:`~.locate.LocateError` naming the binary, the function and the tick.
    """
    from .synapse_core import SynapseEmulator

    stored = [None] * len(synapses)
    result = PopulationEmulation(stored)
    for core_index, record in enumerate(population["cores"]):
        path = (binary_overrides or {}).get(record["binary"], record["binary_path"])
        try:
            located, pinned = located_for(path)
        except LocateError as error:
            raise LocateError(f"{record['binary']}: {error}") from None
        emulator = SynapseEmulator(population, core_index, binary_path=path, located=located)
        low, count = record["post_slice"]
        local_post = [ticks if low <= i < low + count else [] for i, ticks in enumerate(post_ticks)]
        result.events += emulator.run(emulator.schedule(pre_ticks, local_post))
        counters = emulator.counters()
        reasons = invalid_reasons(counters)
        for index, (pre, post) in enumerate(synapses):
            if low <= post < low + count:
                stored[index] = emulator.stored_weight(pre, post)
                if reasons:
                    result.invalid[index] = "; ".join(reasons)
        result.cores.append({"binary": record["binary"], "sha256": located.sha256, "pinned": pinned,
                             "placement": record["placement"], "post_slice": record["post_slice"],
                             "counters": counters,
                             "addresses": {k: hex(v) for k, v in located.to_json().items() if isinstance(v, int)}})
    missing = [index for index, value in enumerate(stored) if value is None]
    if missing:
        raise RuntimeError(f"{population['label']}: no emulated core holds the synapses of case(s) {missing[:5]}")
    return result
