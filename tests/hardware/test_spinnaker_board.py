"""Every protocol on a real SpiNNaker board, against the bit-accurate fixed-point model.

Run with ``python -m pytest tests/hardware --spinnaker-cfg PATH`` where PATH is a sPyNNaker
cfg with ``[Machine] machine_name`` + ``version`` (3 or 5), or ``spalloc_server`` (or
``remote_spinnaker_url``). Without it every test here is skipped with that instruction.

All five protocols go to the board in ONE network per timestep (two runs in all,
``SpinnakerBackend.run_many``). For every synapse, the stored 16-bit weight the board
learned must equal ``fixedpoint.predict_stored_weights`` computed from the *recorded*
spikes (tolerance 0 LSB; ±1 LSB only where the initial weight lies exactly on a .5 tie,
which the host and the on-chip synapse expander round differently — facts §1).
"""

import numpy as np
import pytest

from stdp_validation.backends.spinnaker import (
    FIXEDPOINT_MISSING,
    NO_BOARD_REASON,
    SpinnakerBackend,
    encoding_from_checks,
    is_board_observation,
)
from stdp_validation.protocols import PROTOCOLS
from stdp_validation.reference import predict_weights

pytestmark = [pytest.mark.hardware, pytest.mark.spinnaker]

PROTOCOL_NAMES = list(PROTOCOLS)


@pytest.fixture(scope="module")
def board_cfg(request):
    from stdp_validation.pytest_plugin import spinnaker_cfg

    path = spinnaker_cfg(request.config)
    if not path:
        pytest.skip(NO_BOARD_REASON)
    return path


@pytest.fixture(scope="module")
def fixedpoint():
    try:
        from stdp_validation import fixedpoint
    except ImportError:
        pytest.skip(FIXEDPOINT_MISSING)
    return fixedpoint


@pytest.fixture(scope="module")
def board_run(board_cfg):
    """All protocols on the board: one network and one run per timestep."""
    reason = SpinnakerBackend.unavailable_reason()
    if reason:
        pytest.skip(f"backend 'spinnaker' unavailable: {reason}")
    backend = SpinnakerBackend(cfg_path=board_cfg)  # a bad cfg fails here, naming the option and the file
    observations = backend.run_many([factory() for factory in PROTOCOLS.values()])
    return {o.protocol.name: o for o in observations}


def _network(observation):
    """Ring-buffer shift, weight scale and conductance flag of the plastic synapse type."""
    encoding = encoding_from_checks(observation.checks)
    assert encoding is not None, "the observation carries no sPyNNaker encoding record"
    syn = encoding["synapse_type"]
    return (encoding["ring_buffer_shifts"][syn], encoding["weight_scales"][syn],
            encoding["global_weight_scale"] == 1024.0)


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_board_observation_is_board_output(board_run, protocol):
    observation = board_run[protocol]
    assert is_board_observation(observation)
    assert observation.environment["machine"] != "virtual board"
    driven = [i for i, case in enumerate(observation.protocol.cases) if case.post_drive_times]
    assert any(observation.post_spike_times[i] for i in driven), "no postsynaptic spike recorded on the board"


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_toolchain_checks_pass_on_the_board(board_run, protocol):
    observation = board_run[protocol]
    failed = [c for c in observation.checks if c["kind"] == "check" and c["passed"] is False]
    assert not failed, "\n".join(f"{c['name']}: expected {c['expected']!r}, observed {c['observed']!r} "
                                 f"({c['reason']})" for c in failed)


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_board_weights_equal_the_fixed_point_model(board_run, fixedpoint, protocol):
    observation = board_run[protocol]
    shift, scale, conductance = _network(observation)
    expected = fixedpoint.predict_stored_weights(
        observation.pre_spike_times,
        observation.post_spike_times,
        observation.rule,
        delay=observation.delay,
        initial_weight=observation.initial_weights,
        timestep=observation.protocol.timestep,
        ring_buffer_shift=shift,
        conductance_based=conductance,
    )
    observed = np.rint(np.asarray(observation.final_weights) * scale).astype(np.int64)
    # The on-chip synapse expander rounds .5 ties up, the host (and the model) to even.
    tie = np.abs(np.asarray(observation.initial_weights) * scale % 1.0 - 0.5) < 1e-12
    allowed = np.where(tie, 1, 0)
    difference = observed - expected
    bad = np.flatnonzero(np.abs(difference) > allowed)
    lines = [
        f"{observation.protocol.cases[i].label}: board {observed[i]} ({observation.final_weights[i]!r}), "
        f"model {expected[i]}, difference {difference[i]:+d} LSB (LSB = {1 / scale:g}, s = {shift}); "
        f"{len(observation.pre_spike_times[i])} pre, {len(observation.post_spike_times[i])} post spikes"
        for i in bad[:10]
    ]
    assert not len(bad), (f"{len(bad)} of {len(expected)} synapses differ from the fixed-point model "
                          f"(tolerance 0 LSB):\n" + "\n".join(lines))


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_board_weights_within_the_float_model_bound(board_run, fixedpoint, protocol):
    # The float reference with sPyNNaker's event semantics, within the one-sided bound of
    # facts "Tolerance formulas" (write-back floors, truncating multiplies, A quantisation).
    observation = board_run[protocol]
    shift, _, conductance = _network(observation)
    common = dict(delay=observation.delay, timestep=observation.protocol.timestep, ring_buffer_shift=shift,
                  conductance_based=conductance)
    lower, upper = fixedpoint.float_model_bound(observation.pre_spike_times, observation.post_spike_times,
                                                observation.rule, initial_weight=observation.initial_weights,
                                                **common)
    float_model = predict_weights(observation.pre_spike_times, observation.post_spike_times, observation.rule,
                                  delay=observation.delay, initial_weight=observation.initial_weights,
                                  conventions=observation.conventions, t_stop=observation.t_stop)
    board = np.asarray(observation.final_weights)
    bad = np.flatnonzero((board < float_model - lower - 1e-12) | (board > float_model + upper + 1e-12))
    lines = [f"{observation.protocol.cases[i].label}: board {board[i]!r}, float model {float_model[i]!r}, "
             f"allowed [{float_model[i] - lower[i]!r}, {float_model[i] + upper[i]!r}]" for i in bad[:10]]
    assert not len(bad), "\n".join(lines)


@pytest.mark.parametrize("protocol", [name for name in PROTOCOL_NAMES if name != "seed"])
def test_recorded_post_spikes_match_the_intended_times(board_run, protocol):
    # The drive is shifted by one step of firing latency, as measured on NEST and Brian2;
    # whether SpiNNaker's neuron update has the same latency is only known from a board.
    observation = board_run[protocol]
    wrong = []
    for case, recorded in zip(observation.protocol.cases, observation.post_spike_times):
        intended = list(case.post_drive_times)
        if len(recorded) != len(intended) or not np.allclose(recorded, intended, atol=1e-9):
            wrong.append(f"{case.label}: intended {intended[:5]}, recorded {list(recorded)[:5]}")
    assert not wrong, f"{len(wrong)} cases:\n" + "\n".join(wrong[:10])
