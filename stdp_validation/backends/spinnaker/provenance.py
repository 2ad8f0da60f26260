"""sPyNNaker's own counters per core: their names, which invalidate a comparison, and reading
them from the provenance database after a board run.

The emulated mode reads the same counters from the emulated core's globals
(:mod:`.emulator.locate`); on a board sPyNNaker extracts them itself after every ``run()``
(spinn_front_end_common 1!7.4.1 ``abstract_spinnaker_base.py`` ``_do_extract_from_machine``)
into the run's data database, table ``core_provenance`` (view ``core_provenance_view``:
``x, y, p, description, the_value``; ``utilities/db.sql``). Both end up in the observation's
``provenance`` in one form: ``cores`` (placement, slice of post neurons, counters),
``counters`` (summed) and ``invalid_cases`` (case index → reason).
"""

from __future__ import annotations

import sqlite3

from ...results.observation import add_counters

#: sPyNNaker 1!7.4.1 provenance descriptions → the counter names used in observations
#: (``population_machine_synapses_provenance.py``, ``population_machine_common.py``,
#: ``population_synapses_machine_vertex_common.py``,
#: ``population_machine_local_only_combined_vertex.py``).
BOARD_COUNTERS = {
    "Total_pre_synaptic_events": "pre_synaptic_events",
    "Times_plastic_synaptic_weights_have_saturated": "plastic_saturation_count",
    "Times_synaptic_weights_have_saturated": "ring_buffer_saturation_count",
    "Skipped synapses": "skipped_synapses",
    "Late spikes": "late_spikes",
    "Number_of_late_spikes": "late_spikes",
    "Max late spike": "max_late_spike",
    "Times_the_input_buffer_lost_packets": "dropped_packets",
    "Max_spikes_received_in_time_step": "max_spikes_per_tick",
    "Max_spikes_per_time_step": "max_spikes_per_tick",
    "Times_the_timer_tic_over_ran": "timer_overruns",
    "Timer tick overruns": "timer_overruns",
    "Times_a_time_step_was_skipped": "skipped_time_steps",
}

#: Counter → why a non-zero value invalidates the comparison of every case on that core.
INVALIDATING_COUNTERS = {
    "late_spikes": "spikes arrived after their tick and were dropped: STDP events were lost",
    "dropped_packets": "the core's input buffer overflowed and spikes were lost: STDP events are missing",
    "timer_overruns": "a time step overran, so the core may have skipped spikes or post events",
    "skipped_time_steps": "the synapse core skipped whole time steps: their events were not processed",
}


def invalid_reasons(counters):
    """The reasons (text) a core's ``counters`` invalidate its cases; empty when none does."""
    return [f"{name} = {counters[name]}: {why}" for name, why in INVALIDATING_COUNTERS.items() if counters.get(name)]


def read_core_counters(database, placements):
    """The counters of each placement ``(x, y, p)`` in the provenance ``database`` (path),
    under the names of :data:`BOARD_COUNTERS` (several descriptions of one counter: the largest)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        result = []
        for x, y, p in placements:
            counters = {}
            for description, value in connection.execute(
                    "SELECT description, the_value FROM core_provenance_view WHERE x = ? AND y = ? AND p = ?",
                    (int(x), int(y), int(p))):
                name = BOARD_COUNTERS.get(description)
                if name is not None:
                    counters[name] = max(int(value), counters.get(name, 0))
            result.append(counters)
        return result
    finally:
        connection.close()


def provenance_record(cores, n_cases):
    """The observation's ``provenance`` from per-core records (``placement``, ``post_slice``
    [lo, n], ``counters``), for cases 0 … n_cases − 1 on post neurons 0 … n_cases − 1."""
    totals, invalid = {}, {}
    for core in cores:
        add_counters(totals, core["counters"])
        reasons = invalid_reasons(core["counters"])
        if reasons:
            low, count = core["post_slice"]
            for case in range(max(0, low), min(n_cases, low + count)):
                invalid[str(case)] = "; ".join(reasons)
    return {"cores": list(cores), "counters": totals, "invalid_cases": invalid}


def read_board_provenance(population, n_cases, database=None):
    """After a board ``run()`` (before ``end()``): the counters of every core of ``population``.

    ``database``: the provenance database; default the run's data database
    (``ProvenanceReader.default_database_file()``).
    """
    from spinn_front_end_common.interface.provenance import ProvenanceReader
    from spynnaker.pyNN.data import SpynnakerDataView as view

    database = database or ProvenanceReader.default_database_file()
    vertices = list(population._vertex.machine_vertices)  # sPyNNaker 1!7.4.1: no public accessor
    placements = [view.get_placement_of_vertex(v) for v in vertices]
    counters = read_core_counters(database, [(p.x, p.y, p.p) for p in placements])
    cores = [{"placement": [int(p.x), int(p.y), int(p.p)], "vertex": type(v).__name__,
              "post_slice": [int(v.vertex_slice.lo_atom), int(v.vertex_slice.n_atoms)], "counters": c}
             for v, p, c in zip(vertices, placements, counters)]
    return provenance_record(cores, n_cases)
