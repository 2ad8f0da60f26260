"""Reading what sPyNNaker generated for a mapped network (live objects, after ``run()``, before ``end()``).

Everything returned is plain JSON-ready data, so that it can be kept with the observation
(``Observation.encoding``) and every check repeated offline (:mod:`.checks`). Private
sPyNNaker 1!7.4.1 APIs are used where no public one exists; each is named where it is used.
"""

from __future__ import annotations

import sqlite3

import numpy as np

def read_encoding(protocol, network, ds_database, initial_weights_read=None):
    """Everything the checks need from a mapped network, as plain JSON-ready data.

    Read after ``sim.run`` and before ``sim.end``: the post population's ring-buffer shifts,
    weight scales and global weight scale; the binaries of its cores; the raw words of the
    synapse-dynamics region of every post core from the data-spec database ``ds_database``;
    the initial weights as ``Projection.get`` returns them; the plastic projection's
    delay-extension stages; and sPyNNaker's own host encodings of the rule (lookup tables,
    S16.15) for comparison. ``initial_weights_read``: the weights ``Projection.get`` returned
    on the virtual board (the initial ones); ``None`` after a board run.
    """
    from pacman.utilities.utility_calls import get_n_bits
    from spinn_front_end_common.interface.ds import DataType
    from spynnaker.pyNN.data import SpynnakerDataView as view
    from spynnaker.pyNN.models.neuron.plasticity.stdp.common import get_exp_lut_array
    from spynnaker.pyNN.models.neuron.population_machine_vertex import PopulationMachineVertex

    post, projection, receptor = network["post"], network["plastic"], network["receptor"]
    vertex = post._vertex
    shifts = [int(s) for s in vertex.get_ring_buffer_shifts()]
    scales = [float(s) for s in vertex.get_weight_scales(np.asarray(shifts))]
    g = float(vertex.neuron_impl.get_global_weight_scale())
    synapse_type = int(vertex.get_synapse_id_by_target(receptor))
    dt_us = int(view.get_simulation_time_step_us())
    dt_ms = float(view.get_simulation_time_step_ms())
    dynamics = vertex.synapse_dynamics
    cores, binaries = [], []
    connection = sqlite3.connect(f"file:{ds_database}?mode=ro", uri=True)
    try:
        for machine_vertex in vertex.machine_vertices:
            placement = view.get_placement_of_vertex(machine_vertex)
            binary = machine_vertex.get_binary_file_name()
            binaries.append(binary)
            regions = getattr(machine_vertex, "_synapse_regions", None)
            if regions is None:
                continue
            region = int(regions.synapse_dynamics)
            row = connection.execute(
                "SELECT content, reference_num, size FROM region WHERE x = ? AND y = ? AND p = ? AND region_num = ?",
                (placement.x, placement.y, placement.p, region),
            ).fetchone()
            words = None
            if row is not None and row[0] is not None:
                words = np.frombuffer(bytes(row[0]), dtype="<u4").tolist()
            cores.append({
                "core": [int(placement.x), int(placement.y), int(placement.p)],
                "vertex": type(machine_vertex).__name__,
                "binary": binary,
                "region": region,
                "found": row is not None,
                "size": None if row is None else int(row[2]),
                "words": words,
            })
    finally:
        connection.close()
    found = {}
    for binary in sorted(set(binaries)):
        try:
            view.get_executable_path(binary)
            found[binary] = True
        except KeyError:
            found[binary] = False
    edge = getattr(projection, "_Projection__projection_edge", None)
    delay_stages = None if edge is None else int(edge.n_delay_stages)
    rule = protocol.rule
    timing, bounds = rule.timing, rule.weight
    amplitude_scale = 1.0 if rule.is_multiplicative else g
    readback = None if initial_weights_read is None else [float(w) for w in initial_weights_read]
    return {
        "population": post.label,
        "cell_type": type(post.celltype).__name__,
        "receptor": receptor,
        "synapse_type": synapse_type,
        "n_synapse_types": len(shifts),
        "global_weight_scale": g,
        "ring_buffer_shifts": shifts,
        "weight_scales": scales,
        "timestep_us": dt_us,
        "timestep_ms": dt_ms,
        "backprop_delay": bool(dynamics.backprop_delay),
        "synapse_dynamics_region_enum": int(PopulationMachineVertex.REGIONS.SYNAPSE_DYNAMICS.value),
        "binaries": sorted(set(binaries)),
        "binaries_found": found,
        "cores": cores,
        "delay_stages": delay_stages,
        # The delay field width the host writes to the synapse_params region
        # (population_machine_synapses.py _write_synapse_parameters).
        "max_delay_ticks": int(vertex.splitter.max_support_delay()),
        "delay_bits": int(get_n_bits(vertex.splitter.max_support_delay())),
        "initial_weights_read": readback,
        "host_reference": {
            "tau_plus_lut_words": get_exp_lut_array(dt_ms, timing.tau_plus).astype(np.uint32).tolist(),
            "tau_minus_lut_words": get_exp_lut_array(dt_ms, timing.tau_minus).astype(np.uint32).tolist(),
            "s1615": {
                "w_min": DataType.S1615.encode_as_int(bounds.w_min * g),
                "w_max": DataType.S1615.encode_as_int(bounds.w_max * g),
                "a_plus": DataType.S1615.encode_as_int(timing.A_plus * amplitude_scale),
                "a_minus": DataType.S1615.encode_as_int(timing.A_minus * amplitude_scale),
            },
        },
    }

