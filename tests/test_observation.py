"""Observations round-trip through JSON without loss."""

import json

import pytest

from stdp_validation.protocols import bounds_protocol, seed_protocol
from stdp_validation.results import Execution, Observation, evaluate
from support.running import observe


@pytest.mark.nest
@pytest.mark.parametrize("protocol", [seed_protocol(), bounds_protocol()], ids=["seed", "bounds"])
def test_an_observation_survives_json_unchanged(tmp_path, protocol):
    observation = observe("nest", protocol)
    path = tmp_path / "observation.json"
    observation.save(path)
    loaded = Observation.load(path)
    assert loaded.to_dict() == json.loads(path.read_text())
    assert loaded.protocol == observation.protocol and loaded.conventions == observation.conventions
    assert loaded.final_weights == observation.final_weights  # floats written with repr: exact
    assert loaded.pre_spike_times == observation.pre_spike_times
    assert loaded.traces == observation.traces
    assert loaded.execution is Execution.SIMULATED
    assert evaluate(loaded).to_dict() == evaluate(observation).to_dict()
