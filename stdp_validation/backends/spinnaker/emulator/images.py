"""Stage one of the emulation: the bytes sPyNNaker's toolchain wrote for the post cores.

After ``sim.run()`` on a virtual board with ``[Reports] keep_dataspec_database = True``
(and before ``sim.end()``), :func:`extract_population` returns, for every core that
processes the synapses of a post ``Population``, a JSON-ready record: the binary, the
placement, the raw bytes of the regions the binary's initialisation functions read (from
the data-spec database, table ``region``), the keys of every presynaptic neuron and the
post neuron indices on the core. Nothing here is re-encoded: the emulator runs on these
bytes exactly.

Host-side facts used (sPyNNaker 1!7.4.1, ``spynnaker/pyNN``):

* region numbers: ``machine_vertex._synapse_regions`` (``population_machine_synapses.py``),
  different for combined cores (``PopulationMachineVertex``) and split synapse cores
  (``PopulationSynapsesMachineVertexCommon``);
* keys: the pre machine vertex's routing key (partition ``SPIKE``), per neuron
  ``pacman.utilities.utility_calls.get_keys(key, slice, n_colour_bits)``, plus the colour
  ``tick & (2**n_colour_bits - 1)`` in the low bits
  (``spike_source_array_machine_vertex.py``);
* ring-buffer shifts and weight scales: ``PopulationVertex.get_ring_buffer_shifts`` /
  ``get_weight_scales``; g: ``neuron_impl.get_global_weight_scale()``.

Rows: on a virtual board sPyNNaker generates every synaptic matrix on the host
(``synapse_information.py`` ``may_generate_on_machine`` is False for a virtual board), so
``OneToOneConnector`` and ``FromListConnector`` both leave host-written rows in the
``synaptic_matrix`` region. On a real board, rows of connectors the synapse expander can
build are generated on the chip, and the host never sees them (``matrix_has_rows`` False).
"""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

#: Data-spec database region numbers this module reads, by role.
REGION_ROLES = ("synapse_params", "pop_table", "synaptic_matrix", "synapse_dynamics")


def _b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


def region_bytes(record, role):
    """The raw bytes of region ``role`` of a core record (``b""`` if the host wrote none)."""
    return base64.b64decode(record["regions"][role]["content"])


def _read_regions(database, placement, regions):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        out = {}
        for role in REGION_ROLES:
            number = int(getattr(regions, role))
            row = connection.execute(
                "SELECT content, size, reference_num FROM region WHERE x = ? AND y = ? AND p = ? AND region_num = ?",
                (placement.x, placement.y, placement.p, number)).fetchone()
            content = b"" if row is None or row[0] is None else bytes(row[0])
            out[role] = {"number": number, "size": None if row is None else int(row[1]),
                         "reference": None if row is None else row[2], "content": _b64(content)}
        return out
    finally:
        connection.close()


def _pre_sources(post_vertex):
    """(pre application vertex, projection) for every projection into ``post_vertex``."""
    from spynnaker.pyNN.data import SpynnakerDataView as view

    sources = []
    for projection in view.iterate_projections():
        edge = projection._projection_edge
        if edge.post_vertex is post_vertex:
            sources.append((edge.pre_vertex, projection, edge))
    return sources


def extract_population(post, receptor="excitatory"):
    """Records of every synapse-processing core of the PyNN ``Population`` ``post``.

    Returns a dict: ``label``, ``cell_type``, ``n_neurons``, ``synapse_type`` (index of
    ``receptor``), ``ring_buffer_shift`` and ``weight_scale`` of that type,
    ``global_weight_scale`` g, ``timestep_us``, ``projections`` (per incoming projection:
    pre label, delay stages, ``backprop_delay``, connector, and per pre neuron j its spike
    ``keys`` without colour and ``n_colour_bits``), and ``cores``: per core ``binary`` (file
    name), ``binary_path``, ``placement`` [x, y, p], ``vertex``, ``post_slice`` [lo_atom,
    n_atoms] (PyNN post cell i is neuron i − lo_atom of the core), ``regions`` (per role:
    number, size, base64 content) and ``matrix_has_rows``.
    """
    import numpy as np
    from pacman.utilities.utility_calls import get_keys
    from spynnaker.pyNN.data import SpynnakerDataView as view
    from spynnaker.pyNN.utilities.constants import SPIKE_PARTITION_ID

    vertex = post._vertex
    shifts = [int(s) for s in vertex.get_ring_buffer_shifts()]
    scales = [float(s) for s in vertex.get_weight_scales(np.asarray(shifts))]
    synapse_type = int(vertex.get_synapse_id_by_target(receptor))
    routing = view.get_routing_infos()
    database = view.get_ds_database_path()
    projections = []
    for pre_vertex, projection, edge in _pre_sources(vertex):
        dynamics = projection._synapse_information.synapse_dynamics
        n_colour_bits = int(pre_vertex.n_colour_bits)
        keys = {}
        for machine_vertex in pre_vertex.machine_vertices:
            info = routing.get_info_from(machine_vertex, SPIKE_PARTITION_ID)
            vertex_slice = machine_vertex.vertex_slice
            for atom, key in zip(vertex_slice.get_raster_ids(), get_keys(info.key, vertex_slice, n_colour_bits)):
                keys[int(atom)] = int(key)
        projections.append({
            "pre": pre_vertex.label,
            "plastic": type(dynamics).__name__ == "SynapseDynamicsSTDP",
            "connector": type(projection._synapse_information.connector).__name__,
            "delay_stages": int(edge.n_delay_stages),
            "backprop_delay": bool(getattr(dynamics, "backprop_delay", True)),
            "n_colour_bits": n_colour_bits,
            "keys": [keys[j] for j in sorted(keys)],
        })
    cores = []
    for machine_vertex in vertex.machine_vertices:
        regions = getattr(machine_vertex, "_synapse_regions", None)
        if regions is None:
            continue
        placement = view.get_placement_of_vertex(machine_vertex)
        binary = machine_vertex.get_binary_file_name()
        record = {
            "binary": binary,
            "binary_path": str(Path(view.get_executable_path(binary)).resolve()),
            "placement": [int(placement.x), int(placement.y), int(placement.p)],
            "vertex": type(machine_vertex).__name__,
            "post_slice": [int(machine_vertex.vertex_slice.lo_atom), int(machine_vertex.vertex_slice.n_atoms)],
            "regions": _read_regions(database, placement, regions),
        }
        matrix = region_bytes(record, "synaptic_matrix")
        record["matrix_has_rows"] = any(matrix)
        cores.append(record)
    return {
        "label": post.label,
        "cell_type": type(post.celltype).__name__,
        "n_neurons": int(post.size),
        "receptor": receptor,
        "synapse_type": synapse_type,
        "n_synapse_types": len(shifts),
        "ring_buffer_shift": shifts[synapse_type],
        "weight_scale": scales[synapse_type],
        "global_weight_scale": float(vertex.neuron_impl.get_global_weight_scale()),
        "timestep_us": int(view.get_simulation_time_step_us()),
        "projections": projections,
        "cores": cores,
    }


#: Neuron-side region roles of a combined core (``machine_vertex._neuron_regions``).
NEURON_REGION_ROLES = ("core_params", "neuron_params", "current_source_params", "neuron_recording", "initial_values")


def _read_all_regions(database, placement):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT region_num, content, size FROM region WHERE x = ? AND y = ? AND p = ?",
                                  (placement.x, placement.y, placement.p)).fetchall()
    finally:
        connection.close()
    return {int(number): (b"" if content is None else bytes(content), int(size)) for number, content, size in rows}


def _host_encoded(machine_vertex, population_vertex):
    """The bytes sPyNNaker's host writes into the neuron-parameter and neuron-recording
    regions when it does not leave them to the on-chip neuron builder: ``NeuronData``'s
    per-slice parameter encoding (the path of ``write_data(…, gen_on_machine=False)``, used
    e.g. when parameters are rewritten after a reset) and ``NeuronRecorder``'s region
    (``write_neuron_recording_region``: the counts of matrix and bit-field variables, then
    ``_get_data``). On a virtual board these regions are otherwise empty: the neuron builder
    would fill them on the chip."""
    import numpy as np

    vertex_slice = machine_vertex.vertex_slice
    data = machine_vertex._neuron_data
    params = np.asarray(data._NeuronData__get_neuron_param_data(vertex_slice), dtype="<u4").tobytes()
    recorder = population_vertex.neuron_recorder
    n_bitfield = len(recorder._NeuronRecorder__bitfield_variables)
    n_matrix = len(recorder._NeuronRecorder__sampling_rates) - n_bitfield
    recording = (np.array([n_matrix, n_bitfield], dtype="<u4").tobytes()
                 + np.asarray(recorder._get_data(vertex_slice), dtype="<u4").tobytes())
    return params, recording


def _channels(population_vertex):
    """Recorded variable names in channel order: matrix variables, then bit-field ones
    (``neuron_recording.h``: channel i < N_RECORDED_VARS, then N_RECORDED_VARS + j)."""
    recorder = population_vertex.neuron_recorder
    names = list(recorder._NeuronRecorder__sampling_rates)
    bitfield = list(recorder._NeuronRecorder__bitfield_variables)
    return [n for n in names if n not in bitfield] + [n for n in names if n in bitfield], bitfield


def extract_network(populations, sources):
    """The records the tick-level emulation (:mod:`.network`) runs: every core of the
    neuron ``populations`` ({role: PyNN Population}) and the keys of the spike
    ``sources`` ({role: SpikeSourceArray Population}), with the toolchain's routing tables.

    Returns a dict: ``timestep_us``; ``cores``: per combined core ``role``, ``label``,
    ``binary``, ``binary_path``, ``placement``, ``vertex``, ``post_slice`` [lo_atom, n_atoms], ``regions`` (role → number, size, base64
    content, ``source`` "data spec" or "host encoder"), ``key`` and ``n_colour_bits`` of its
    outgoing spikes (``None`` without an outgoing projection), ``channels`` (recorded
    variable names by channel) and ``bitfield`` (the bit-field ones); ``sources``: per spike-source core ``role``, ``label``,
    ``placement``, ``keys`` (per atom, without colour), ``n_colour_bits``;
    ``routing_tables``: per chip ``x``, ``y``, ``entries`` [key, mask, processors, links];
    ``links``: per chip "x,y" → {link: [x, y]} of its neighbours.
    """
    from pacman.utilities.utility_calls import get_keys
    from spynnaker.pyNN.data import SpynnakerDataView as view
    from spynnaker.pyNN.utilities.constants import SPIKE_PARTITION_ID

    database = view.get_ds_database_path()
    routing = view.get_routing_infos()

    def key_of(machine_vertex):
        try:
            return int(routing.get_info_from(machine_vertex, SPIKE_PARTITION_ID).key)
        except KeyError:
            return None

    cores, sources_out, chips = [], [], set()
    for role, population in populations.items():
        vertex = population._vertex
        channels, bitfield = _channels(vertex)
        for machine_vertex in vertex.machine_vertices:
            neuron_regions = getattr(machine_vertex, "_neuron_regions", None)
            synapse_regions = getattr(machine_vertex, "_synapse_regions", None)
            placement = view.get_placement_of_vertex(machine_vertex)
            binary = machine_vertex.get_binary_file_name()
            if neuron_regions is None or synapse_regions is None:
                raise ValueError(f"{population.label!r}: core {binary} at {placement.x, placement.y, placement.p} "
                                 f"is a {type(machine_vertex).__name__}, not a combined neuron + synapse core; the "
                                 "tick-level emulation runs combined cores only")
            stored = _read_all_regions(database, placement)
            params, recording = _host_encoded(machine_vertex, vertex)
            regions = {}
            numbers = {**neuron_regions._asdict(), **{r: getattr(synapse_regions, r) for r in REGION_ROLES}}
            for region_role, number in numbers.items():
                if int(number) not in stored:
                    continue
                content, size = stored[int(number)]
                source = "data spec"
                if region_role == "neuron_params" and not content:
                    content, source = params, "host encoder"
                elif region_role == "neuron_recording" and not content:
                    content, source = recording, "host encoder"
                regions[region_role] = {"number": int(number), "size": size, "content": _b64(content),
                                        "source": source}
            chips.add((placement.x, placement.y))
            cores.append({
                "role": role, "label": population.label, "binary": binary,
                "binary_path": str(Path(view.get_executable_path(binary)).resolve()),
                "placement": [int(placement.x), int(placement.y), int(placement.p)],
                "vertex": type(machine_vertex).__name__,
                "post_slice": [int(machine_vertex.vertex_slice.lo_atom), int(machine_vertex.vertex_slice.n_atoms)],
                "regions": regions, "key": key_of(machine_vertex), "n_colour_bits": int(vertex.n_colour_bits),
                "channels": channels, "bitfield": bitfield,
            })
    for role, population in sources.items():
        vertex = population._vertex
        n_colour_bits = int(vertex.n_colour_bits)
        for machine_vertex in vertex.machine_vertices:
            placement = view.get_placement_of_vertex(machine_vertex)
            key = key_of(machine_vertex)
            vertex_slice = machine_vertex.vertex_slice
            keys = [] if key is None else [int(k) for k in get_keys(key, vertex_slice, n_colour_bits)]
            chips.add((placement.x, placement.y))
            sources_out.append({
                "role": role, "label": population.label, "binary": machine_vertex.get_binary_file_name(),
                "placement": [int(placement.x), int(placement.y), int(placement.p)],
                "lo_atom": int(vertex_slice.lo_atom), "keys": keys, "n_colour_bits": n_colour_bits,
            })
    tables, links = [], {}
    machine = view.get_machine()
    for table in view.get_uncompressed().routing_tables:
        tables.append({"x": int(table.x), "y": int(table.y), "entries": [
            [int(e.key), int(e.mask), sorted(int(p) for p in e.processor_ids), sorted(int(k) for k in e.link_ids)]
            for e in table.multicast_routing_entries]})
        chip = machine.get_chip_at(table.x, table.y)
        links[f"{table.x},{table.y}"] = {str(link.source_link_id): [int(link.destination_x), int(link.destination_y)]
                                         for link in chip.router.links}
    return {"timestep_us": int(view.get_simulation_time_step_us()), "cores": cores, "sources": sources_out,
            "routing_tables": tables, "links": links}
