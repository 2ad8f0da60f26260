"""Known backend defects: real validation failures, tracked with their evidence.

A case that fails where a known defect applies is reported as ``known_defect`` instead of
``fail``; each defect also has a minimal reproducer test marked ``xfail(strict=True)``, so an
upstream fix shows up as an unexpected pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class KnownDefect:
    id: str
    backend: str
    title: str
    evidence: str
    reproducer: str
    #: Whether the defect applies to an observation of ``backend``: ``(observation) -> bool``,
    #: or one bool per case when it concerns only some cases.
    applies: Callable

    def to_dict(self):
        return {key: getattr(self, key) for key in ("id", "backend", "title", "evidence", "reproducer")}


def _negative_amplitude(rule):
    return rule.timing.A_plus < 0 or rule.timing.A_minus < 0


def _masked_delay(observation):
    """sPyNNaker: cases whose delay does not fit the delay field the host sized for the post
    population (its largest incoming delay D, when D is a power of two ≥ 2 time steps)."""
    encoding = observation.encoding or {}
    bits = encoding.get("delay_bits")
    if bits is None or not observation.execution.learned:
        return False
    from ..fixedpoint import delay_ticks

    ticks = delay_ticks([observation.delay] * len(observation.protocol.cases), observation.protocol.timestep)
    return (np.asarray(ticks) >> int(bits)) != 0


def _late_pre_stamps(observation):
    """NEST off_grid: cases with a presynaptic spike stdp_synapse used one step later than
    PyNN recorded it (the backend reads the stamps: ``provenance["late_pre_stamps"]``)."""
    late = (observation.provenance or {}).get("late_pre_stamps") or {}
    flags = np.zeros(len(observation.protocol.cases), dtype=bool)
    for case in late:
        if 0 <= int(case) < len(flags):
            flags[int(case)] = True
    return flags


KNOWN_DEFECTS = (
    KnownDefect(
        id="brian2-multiplicative-ignored",
        backend="brian2",
        title="pyNN.brian2 applies the additive rule when MultiplicativeWeightDependence or "
        "AdditivePotentiationMultiplicativeDepression is requested",
        evidence="pyNN/brian2/standardmodels/synapses.py STDPMechanism has fixed additive equations; the weight "
        "dependence classes only translate w_min and w_max. Weights are bit-identical to the additive rule.",
        reproducer="tests/backends/test_known_defects.py::test_brian2_multiplicative_weight_dependence",
        applies=lambda observation: observation.rule.depression_multiplicative,
    ),
    KnownDefect(
        id="brian2-negative-amplitude-bounds",
        backend="brian2",
        title="pyNN.brian2 does not keep weights inside [w_min, w_max] with negative amplitudes",
        evidence="Pre events clip only at w_min and post events only at w_max (PyNN issues #526, #676); with "
        "A_plus < 0 a post event lowers w below w_min unclipped.",
        reproducer="tests/backends/test_known_defects.py::test_brian2_bounds_with_negative_amplitude",
        applies=lambda observation: _negative_amplitude(observation.rule),
    ),
    KnownDefect(
        id="nest-negative-amplitude-bounds",
        backend="nest",
        title="NEST stdp_synapse does not keep weights inside [0, Wmax] with negative amplitudes",
        evidence="stdp_synapse::facilitate_ clips only at Wmax and depress_ only at 0; negative lambda pushes w "
        "past the other bound.",
        reproducer="tests/backends/test_known_defects.py::test_nest_bounds_with_negative_amplitude",
        applies=lambda observation: _negative_amplitude(observation.rule),
    ),
    KnownDefect(
        id="spinnaker-negative-amplitude-bounds",
        backend="spinnaker",
        title="sPyNNaker does not keep weights inside [w_min, w_max] with negative amplitudes",
        evidence="The additive weight update clips only at w_max after potentiation and only at w_min after "
        "depression (weight_additive_one_term_impl.h); reverse STDP crosses the other bound.",
        reproducer="tests/unit/test_against_event_loop.py::test_spinnaker_negative_amplitude_is_a_known_defect_of_the_board",
        applies=lambda observation: _negative_amplitude(observation.rule),
    ),
    KnownDefect(
        id="spinnaker-delay-power-of-two",
        backend="spinnaker",
        title="sPyNNaker loses the delay of synapses whose delay is their post population's largest and a power of "
        "two (2, 4, 8 … time steps): STDP runs as if the delay were 0 and the spike is never delivered",
        evidence="sPyNNaker 1!7.4.1 host code: population_vertex.py max_delay_steps_incoming = 2**get_n_bits(D) for "
        "the largest incoming delay D (ticks), and population_machine_synapses.py _write_synapse_parameters writes "
        "get_n_bits(that) delay bits. pacman get_n_bits(n) counts the bits for n values 0…n−1, so D = 2^k gets k "
        "bits, which hold 0…D−1: the core masks the row's delay D to 0 (synapse_row.h). Emulated cores show it: "
        "skipped_synapses equals the number of rows processed, and the stored weights equal the fixed-point model "
        "run with delay 0. Delays 1, 3, 5, 6, 7 are honoured.",
        reproducer="tests/backends/test_spinnaker_emulated.py::test_a_delay_of_two_time_steps_is_honoured",
        applies=_masked_delay,
    ),
    KnownDefect(
        id="nest-a-plus-zero-disables-depression",
        backend="nest",
        title="pyNN.nest silently drops depression when A_plus = 0",
        evidence="PyNN maps A_plus to lambda and A_minus to alpha = A_minus/A_plus; NEST depresses by "
        "alpha·lambda·Wmax, which is 0 when lambda = 0 (pyNN/nest/standardmodels/synapses.py).",
        reproducer="tests/backends/test_known_defects.py::test_nest_depression_with_zero_a_plus",
        applies=lambda observation: observation.rule.timing.A_plus == 0 and observation.rule.timing.A_minus != 0,
    ),
    KnownDefect(
        id="pynn-nest-off-grid-late-stamp",
        backend="nest",
        title="pyNN.nest with spike_precision='off_grid': a presynaptic spike requested on the grid can be used "
        "by stdp_synapse one time step later than PyNN records it",
        evidence="PyNN 0.13.0 pyNN/nest/cells.py passes spike_times − min_delay to NEST's spike_generator in floating "
        "point; NEST 3.10 Time::fromstamp rounds the result up with an exact comparison, so e.g. 64.4 − 0.1 can be "
        "stamped at step 645 with offset h; parrot_neuron_ps forwards step and offset, PyNN records 64.4, and "
        "stdp_synapse pairs with the stamp 64.5 (error 9e-5 in one pairing). The backend records the stamps "
        "(spike_recorder, time_in_steps) and marks each case that has such a spike.",
        reproducer="tests/backends/test_known_defects.py::test_nest_off_grid_uses_the_recorded_presynaptic_time",
        applies=_late_pre_stamps,
    ),
)

#: Defects not tied to a rule; they show in every report's defect list.
NETWORK_DEFECTS = (
    KnownDefect(
        id="pynn-dendritic-delay-fraction",
        backend="brian2",
        title="one PyNN STDP script cannot run unchanged on NEST and Brian2 (dendritic_delay_fraction)",
        evidence="pyNN.brian2 STDPMechanism raises ValueError for the PyNN default dendritic_delay_fraction=1; "
        "pyNN.nest raises for anything but 1 (PyNN issue #803).",
        reproducer="tests/backends/test_known_defects.py::test_default_stdp_script_runs_on_brian2",
        applies=lambda observation: False,
    ),
    KnownDefect(
        id="spinnaker-cond-multiplicative-binary-missing",
        backend="spinnaker",
        title="sPyNNaker 1!7.4.1 maps IF_cond_exp cells with multiplicative STDP onto combined neuron+synapse cores "
        "whose binary (IF_cond_exp_stdp_mad_*_multiplicative.aplx) the wheel does not ship",
        evidence="spynnaker/pyNN/model_binaries holds IF_curr_exp_stdp_mad_{pair,nearest_pair}_multiplicative.aplx "
        "and the split synapses_stdp_mad_*_multiplicative.aplx, but no IF_cond_exp multiplicative binary; at 1 ms "
        "time steps the toolchain chooses combined cores and get_executable_path raises KeyError 'Executable ... not "
        "found' (a board run cannot load it). Workaround: Population(..., additional_parameters="
        "{'n_synapse_cores': 1}).",
        reproducer="tests/backends/test_spinnaker_emulated.py::test_conductance_multiplicative_maps_on_combined_cores",
        applies=lambda observation: False,
    ),
    KnownDefect(
        id="pynn-nest-gutig-mu-dropped",
        backend="nest",
        title="pyNN.nest ignores mu_plus and mu_minus of GutigWeightDependence: NEST runs μ+ = μ− = 0.5",
        evidence="PyNN 0.13.0 pyNN/nest/standardmodels/synapses.py GutigWeightDependence translates only w_max and "
        "w_min and sets mu_plus, mu_minus as fixed extra parameters; the connection's mu_plus/mu_minus read 0.5 "
        "whatever was requested. The suite's NEST backend works around it with Projection.set(mu_plus=…, "
        "mu_minus=…), after which NEST agrees with the reference to 1e-15.",
        reproducer="tests/backends/test_known_defects.py::test_nest_gutig_weight_dependence_keeps_its_exponents",
        applies=lambda observation: False,
    ),
    KnownDefect(
        id="brian2-spike-source-ignores-timestep",
        backend="brian2",
        title="pyNN.brian2 SpikeSourceArray runs on Brian2's default 0.1 ms clock, not the PyNN timestep",
        evidence="pyNN/brian2/cells.py SpikeGeneratorGroup is created without the network clock; with "
        "setup(timestep=0.01) a spike at 10.03 ms is emitted at 10.0 ms. Weights still match the reference, "
        "which uses the recorded times; the protocol's intended times are not honoured. The suite's Brian2 "
        "backend works around it (Brian2's default clock set to the timestep for each run).",
        reproducer="tests/backends/test_known_defects.py::test_brian2_spike_sources_follow_the_timestep",
        applies=lambda observation: False,
    ),
)


def defects_for(observation):
    """Known defects that apply to ``observation`` (to at least one of its cases)."""
    return [d for d in KNOWN_DEFECTS if d.backend == observation.backend and np.any(d.applies(observation))]


def defects_per_case(observation):
    """For each case of ``observation``, the ids of the known defects that apply to it."""
    n = len(observation.protocol.cases)
    ids = [[] for _ in range(n)]
    for defect in KNOWN_DEFECTS:
        if defect.backend != observation.backend:
            continue
        mask = np.broadcast_to(np.asarray(defect.applies(observation), dtype=bool), (n,))
        for index in np.flatnonzero(mask):
            ids[index].append(defect.id)
    return ids
