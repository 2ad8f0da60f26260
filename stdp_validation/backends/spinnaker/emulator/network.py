"""Tick-level emulation of a whole network: every combined core the toolchain placed, packets
routed by the toolchain's tables, recordings read out as sPyNNaker reads them.

Per tick t (every core's timer fires together, as after the boards' start barrier):

1. every core runs its tick (:meth:`.neuron_core.NeuronCore.update`): ring-buffer transfer,
   neuron update, packet sends;
2. every ``SpikeSourceArray`` atom with a spike at t sends ``key | (t & colour mask)`` (the
   source cores are fed from their data, not emulated: ``spike_source_array_vertex.py``
   sends a spike at ceil(t_ms·1000 / dt_µs));
3. each packet of tick t is routed from its source chip through the routing tables
   (``entries``: key & mask == entry key → the processors listed on that chip, and on along
   the links listed); a key that matches no entry of the source chip goes nowhere; on a
   chip it reached through a link, an unmatched key goes on straight (default routing);
4. each core processes the rows of the packets that reached it, with time t.

Recordings: each core's ``recording_record`` calls, per channel one record per tick (time
word, then the data), converted as sPyNNaker's host converts them (:func:`read_recordings`).
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field

import numpy as np

from .logdb import LogDatabase
from .neuron_core import NeuronCore
from .synapse_core import read_row

#: SpiNNaker's six links: the link opposite to link ℓ is (ℓ + 3) mod 6 (a packet arriving
#: on link ℓ is default-routed out of the opposite one).
N_LINKS = 6
#: Most chips a packet may visit before the walk stops (a routing loop).
MAX_HOPS = 64


class RoutingError(RuntimeError):
    """A packet's route through the tables loops or leaves the machine."""


@dataclass
class NetworkEmulation:
    """What the tick-level emulation of a network gave."""

    cores: list  # NeuronCore per combined core, in the record's order
    records: list  # the core records
    spikes: dict = field(default_factory=dict)  # role → per PyNN cell, spike ticks
    traces: dict = field(default_factory=dict)  # role → variable → array (ticks × cells), host units
    packets: int = 0
    rows: int = 0
    ticks: int = 0


def route(network, placement, key):
    """The (x, y, p) of every core a packet with ``key`` sent from core ``placement`` reaches."""
    tables = {(t["x"], t["y"]): t["entries"] for t in network["routing_tables"]}
    links = network["links"]
    out, frontier, seen = [], [((placement[0], placement[1]), None)], set()
    hops = 0
    while frontier:
        (x, y), arrived = frontier.pop()
        hops += 1
        if hops > MAX_HOPS or (x, y, arrived) in seen:
            raise RoutingError(f"key {key:#x} from {tuple(placement)}: the route loops at chip {(x, y)}")
        seen.add((x, y, arrived))
        entry = next((e for e in tables.get((x, y), ()) if key & e[1] == e[0]), None)
        if entry is None:
            if arrived is None:
                continue  # a locally sent packet that matches nothing is dropped
            onward = [(arrived + 3) % N_LINKS]
            processors = []
        else:
            processors, onward = entry[2], entry[3]
        out.extend((x, y, p) for p in processors)
        for link in onward:
            target = links.get(f"{x},{y}", {}).get(str(link))
            if target is None:
                raise RoutingError(f"key {key:#x}: chip {(x, y)} routes out of link {link}, which leads nowhere")
            frontier.append(((target[0], target[1]), (link + 3) % N_LINKS))
    return out


def emulate_network(network, source_ticks, n_ticks, *, binary_overrides=None, cache_dir=None, log_db=None):
    """Run every core of ``network`` (an :func:`.images.extract_network` record) for ticks
    0 … ``n_ticks`` − 1. ``source_ticks[role][j]``: the ticks of spike-source atom j.
    ``binary_overrides``: {binary file name: path} to run instead. Returns
    :class:`NetworkEmulation`."""
    overrides = binary_overrides or {}
    log_db = log_db or LogDatabase()
    cores = [NeuronCore(record, binary_path=overrides.get(record["binary"]), cache_dir=cache_dir, log_db=log_db)
             for record in network["cores"]]
    by_placement = {tuple(record["placement"]): core for record, core in zip(network["cores"], cores)}
    schedule = {}
    for source in network["sources"]:
        mask = (1 << source["n_colour_bits"]) - 1
        for j, ticks in enumerate(source_ticks[source["role"]]):
            atom = j - source["lo_atom"]
            if not 0 <= atom < len(source["keys"]):
                continue
            placement, key = tuple(source["placement"]), source["keys"][atom]
            for tick in ticks:
                schedule.setdefault(int(tick), []).append((placement, key | (tick & mask)))
    routes = {}
    result = NetworkEmulation(cores=cores, records=network["cores"], ticks=n_ticks)
    for tick in range(n_ticks):
        sent = [(tuple(core.record["placement"]), packet.key) for core in cores for packet in core.update(tick)]
        sent += schedule.get(tick, [])
        arriving = {}
        for placement, key in sent:
            if (placement, key) not in routes:
                routes[(placement, key)] = route(network, placement, key)
            for target in routes[(placement, key)]:
                arriving.setdefault(target, []).append(key)
        result.packets += len(sent)
        for target, keys in arriving.items():
            core = by_placement.get(target)
            if core is not None:  # packets to cores outside the network (none in a closed network)
                result.rows += core.receive(tick, keys)
    read_recordings(result)
    return result


def _recording_layout(record, n_neurons):
    """Per recorded channel: (rate, n_recorded, element size or None, indices per neuron),
    from the neuron-recording region (``neuron_recording.h`` ``neuron_recording_read_in_elements``)."""
    data = base64.b64decode(record["regions"]["neuron_recording"]["content"])
    n_matrix, n_bitfield = struct.unpack_from("<2I", data)
    ceil = (n_neurons + 1) & ~1
    offset, layout = 8, []
    for channel in range(n_matrix + n_bitfield):
        if channel < n_matrix:
            rate, n_recorded, size = struct.unpack_from("<3I", data, offset)
            offset += 12
        else:
            rate, n_recorded = struct.unpack_from("<2I", data, offset)
            size = None
            offset += 8
        indices = struct.unpack_from(f"<{n_neurons}H", data, offset)
        offset += 2 * ceil
        layout.append((rate, n_recorded, size, indices))
    return layout


def read_recordings(result):
    """Spikes and traces of every core into ``result`` (PyNN cell order within each role).

    Matrix variables (v, gsyn_exc, gsyn_inh): one record per tick, ``time`` then one signed
    S16.15 word per recorded neuron (index from the recording region); value = word / 2^15
    (mV for v; for gsyn the host's scaling is applied by the caller). Spikes: one bit field
    per tick with a spike, bit ``index`` set for a recorded neuron that fired.
    """
    for record, core in zip(result.records, result.cores):
        lo, n = record["post_slice"]
        role = record["role"]
        layout = _recording_layout(record, n)
        spikes = result.spikes.setdefault(role, {})
        traces = result.traces.setdefault(role, {})
        for channel, name in enumerate(record["channels"]):
            rate, n_recorded, size, indices = layout[channel]
            records = core.recording.channels.get(channel, [])
            if name in record["bitfield"]:
                for data in records:
                    tick = struct.unpack_from("<I", data)[0]
                    words = np.frombuffer(data[4:], dtype="<u4")
                    for neuron in range(n):
                        index = indices[neuron]
                        if index < 32 * len(words) and index < n_recorded and words[index // 32] >> (index % 32) & 1:
                            spikes.setdefault(lo + neuron, []).append(int(tick))
                continue
            if size != 4:
                raise ValueError(f"{record['binary']}: recorded variable {name!r} has {size}-byte elements; only "
                                 "4-byte S16.15 values are read")
            ticks = np.array([struct.unpack_from("<I", data)[0] for data in records], dtype=np.int64)
            values = np.array([np.frombuffer(data[4:4 + 4 * n_recorded], dtype="<i4") for data in records],
                              dtype=np.int64).reshape(len(records), n_recorded)
            columns = np.array([indices[neuron] for neuron in range(n)])
            traces.setdefault(name, {})
            for neuron in range(n):
                if columns[neuron] < n_recorded:
                    traces[name][lo + neuron] = (ticks, values[:, columns[neuron]] / 32768.0)


def stored_weights(result, role_post, pre_keys, pairs):
    """Stored uint16 weights of the synapses ``pairs`` [(pre cell, post cell)] into the
    population ``role_post``, read back from its cores' rows; ``pre_keys[j]``: the spike key
    (without colour) of pre cell j."""
    out = []
    for pre, post in pairs:
        weight = None
        for record, core in zip(result.records, result.cores):
            lo, n = record["post_slice"]
            if record["role"] != role_post or not lo <= post < lo + n:
                continue
            row = core.lookup(pre_keys[pre])
            if row is None:
                continue
            header = struct.unpack_from("<7I", base64.b64decode(record["regions"]["synapse_params"]["content"]))
            for synapse in read_row(core.machine, row[0], header).synapses:
                if synapse.post_neuron == post - lo:
                    weight = synapse.weight
        if weight is None:
            raise RuntimeError(f"no synapse {pre} -> {post} in the emulated rows of {role_post!r}")
        out.append(weight)
    return out
