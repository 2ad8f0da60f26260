"""Re-validating observations recorded on a SpiNNaker board, without a board.

The board-like observation below is written by hand: its learned weight is worked out in
integers from sPyNNaker's algorithm (synapse_dynamics_stdp_mad_impl.c and timing_pair_impl.h
of sPyNNaker's neural_modelling), not taken from the model under test.
"""

import json

import pytest

from stdp_validation import AdditiveWeightDependence, CONVENTIONS, SpikePairRule, STDPRule
from stdp_validation.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main
from stdp_validation.protocols import Case, Protocol
from stdp_validation.results import Execution, Observation, Status, evaluate

RULE = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), AdditiveWeightDependence(0.0, 5.0))

# Pre 10 and 200 ms, post 15 ms, delay 1, dt 1 ms, shift s = 4 (scale 2^11 = 2048 per nA).
#   w0 = 2.5 nA → stored rint(2.5·2048) = 5120 → S16.15 5120 << 4 = 81920
#   pre 200 applies the post at 15 (seen at 16): Δ = 16 − 10 = 6 ticks, pre trace 2048,
#   LUT+[6] = floor(2048·e^(−6/20)) = 1517, x = 2048·1517 >> 11 = 1517,
#   A+ = round(0.01·2^15) = 328, w += 328·1517 >> 11 = 242 → 82162
#   its depression: Δ = 200 − 16 = 184 ticks, past the 154-entry table → 0
#   write-back 82162 >> 4 = 5135 (floor) → 5135 / 2048 nA
STORED = 5135
LSB = 1 / 2048


def board_observation(final_stored=STORED):
    protocol = Protocol("board-pair", "one pair on a board", (Case("pair", (10.0,), (15.0,), 2.5),),
                        rule=RULE, delay=1.0, timestep=1.0, t_stop=300.0)
    encoding = {"synapse_type": 1, "ring_buffer_shifts": [9, 4], "weight_scales": [64.0, 2048.0],
                "global_weight_scale": 1.0}
    return Observation(
        backend="spinnaker", protocol=protocol, conventions=CONVENTIONS["spinnaker"].with_timestep(1.0),
        execution=Execution.BOARD,
        pre_spike_times=[[10.0, 200.0]], post_spike_times=[[15.0]], final_weights=[final_stored * LSB],
        initial_weights=[2.5], intended_post_times=[[15.0]], delay=1.0, t_stop=300.0,
        environment={"machine": "board spinn-4.example (version 5)"}, encoding=encoding,
    )


def test_board_weights_are_compared_as_stored_integers():
    (verdict,) = evaluate(board_observation()).verdicts
    assert verdict.status == Status.PASS
    assert verdict.stored_expected == verdict.stored_observed == STORED
    assert verdict.expected == STORED * LSB and verdict.tolerance == 0.0
    assert "equal stored 16-bit integers" in verdict.tolerance_reason
    assert verdict.float_model["within"]


def test_one_lsb_off_fails():
    (verdict,) = evaluate(board_observation(STORED + 1)).verdicts
    assert verdict.status == Status.FAIL and verdict.error == pytest.approx(LSB)
    assert "+1 LSB" in verdict.reason


def test_revalidate_a_saved_board_run(tmp_path, capsys):
    path = tmp_path / "spinnaker-board-pair.json"
    board_observation().save(path)
    assert main(["revalidate", str(path)]) == EXIT_OK
    assert "spinnaker board-pair (pair-additive): pass: 1 passed, 0 failed" in capsys.readouterr().out
    data = json.loads(path.read_text())
    data["final_weights"] = [(STORED - 1) * LSB]
    path.write_text(json.dumps(data))
    assert main(["revalidate", str(path)]) == EXIT_FAILED


def test_a_board_file_without_its_network_encoding_is_rejected(tmp_path, capsys):
    path = tmp_path / "board.json"
    observation = board_observation()
    observation.encoding = None
    observation.save(path)
    assert main(["revalidate", str(path)]) == EXIT_BAD_INPUT
    assert "needs its encoding" in capsys.readouterr().err
