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


# -- sPyNNaker's provenance after a board run ------------------------------------------------------

PROVENANCE_SCHEMA = """
CREATE TABLE core(core_id INTEGER PRIMARY KEY AUTOINCREMENT, x INTEGER, y INTEGER, processor INTEGER,
                  core_name STRING);
CREATE TABLE core_provenance(cp_id INTEGER PRIMARY KEY AUTOINCREMENT, core_id INTEGER NOT NULL,
                             description STRING NOT NULL, the_value INTEGER NOT NULL);
CREATE VIEW core_provenance_view AS
    SELECT core_name, x, y, processor as p, description, the_value FROM core_provenance NATURAL JOIN core;
"""


def provenance_database(path, rows):
    """A data database with spinn_front_end_common 1!7.4.1's core-provenance tables (utilities/db.sql)."""
    import sqlite3

    connection = sqlite3.connect(path)
    connection.executescript(PROVENANCE_SCHEMA)
    for (x, y, p), items in rows.items():
        core_id = connection.execute("INSERT INTO core(x, y, processor, core_name) VALUES (?, ?, ?, ?)",
                                     (x, y, p, f"post:{p}")).lastrowid
        connection.executemany("INSERT INTO core_provenance(core_id, description, the_value) VALUES (?, ?, ?)",
                               [(core_id, d, v) for d, v in items.items()])
    connection.commit()
    connection.close()
    return path


def test_board_counters_are_read_per_core_and_late_or_dropped_spikes_invalidate_its_cases(tmp_path):
    from stdp_validation.backends.spinnaker.provenance import provenance_record, read_core_counters

    database = provenance_database(tmp_path / "data.sqlite3", {
        (0, 0, 1): {"Total_pre_synaptic_events": 12, "Times_plastic_synaptic_weights_have_saturated": 1,
                    "Late spikes": 0, "Skipped synapses": 0, "Max late spike": 0, "Energy used": 99},
        (0, 0, 2): {"Total_pre_synaptic_events": 7, "Late spikes": 3, "Number_of_late_spikes": 2,
                    "Times_the_input_buffer_lost_packets": 5, "Max late spike": 4},
        (1, 0, 3): {"Late spikes": 8},  # another population's core: not asked for
    })
    first, second = read_core_counters(database, [(0, 0, 1), (0, 0, 2)])
    assert first == {"pre_synaptic_events": 12, "plastic_saturation_count": 1, "late_spikes": 0,
                     "skipped_synapses": 0, "max_late_spike": 0}
    assert second == {"pre_synaptic_events": 7, "late_spikes": 3, "dropped_packets": 5, "max_late_spike": 4}
    record = provenance_record([{"placement": [0, 0, 1], "post_slice": [0, 2], "counters": first},
                                {"placement": [0, 0, 2], "post_slice": [2, 2], "counters": second}], n_cases=3)
    assert record["counters"] == {"pre_synaptic_events": 19, "plastic_saturation_count": 1, "late_spikes": 3,
                                  "skipped_synapses": 0, "max_late_spike": 4, "dropped_packets": 5}
    assert list(record["invalid_cases"]) == ["2"]  # the second core holds post neurons 2 and 3; 3 cases
    assert record["invalid_cases"]["2"].startswith("late_spikes = 3: spikes arrived after their tick")
    assert "dropped_packets = 5" in record["invalid_cases"]["2"]


def test_a_board_case_invalidated_by_its_counters_fails_with_the_reason():
    from dataclasses import replace

    observation = replace(board_observation(), provenance={"invalid_cases": {"0": "late_spikes = 3: dropped"}})
    (verdict,) = evaluate(observation).verdicts
    assert verdict.stored_observed == verdict.stored_expected  # the weight itself agrees ...
    assert verdict.status == Status.FAIL and "late_spikes = 3" in verdict.reason  # ... but cannot be trusted


@pytest.mark.parametrize("board, emulated, status, attribution", [
    (STORED, STORED, Status.PASS, "board, emulated ARM code and fixed-point model agree"),
    (STORED + 1, STORED, Status.FAIL, "the difference comes from the chip and its glue"),
    (STORED + 1, STORED + 1, Status.FAIL, "the code and the model disagree; the chip is not the cause"),
    (STORED, STORED - 2, Status.PASS, "the emulation's assumptions"),
    (STORED + 1, STORED - 1, Status.FAIL, "all differ"),
])
def test_the_emulation_beside_a_board_attributes_each_difference(board, emulated, status, attribution):
    from dataclasses import replace

    observation = replace(board_observation(board), provenance={"emulated_beside": {"stored": [emulated]}})
    (verdict,) = evaluate(observation).verdicts
    assert verdict.status == status  # the verdict is still board vs model
    assert verdict.stored_emulated == emulated and attribution in verdict.reason
