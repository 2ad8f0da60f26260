"""The whole board path of the nightly job, rehearsed without a board.

The nights here run SpiNNaker in its emulated mode: sPyNNaker's shipped ARM code on the bytes
its toolchain wrote, so the archive holds SpiNNaker-shaped observations (stored integers,
LSBs, sPyNNaker's counters) and every output says it is a rehearsal, not a board run.
Regressions are injected the two ways a board night would meet them: a changed binary (one
instruction patched) and a changed host encoding of the rule (A± pre-multiplied by w_max, the
convention NEST and Brian2 use).
"""

import json

import pytest

from stdp_validation.backends.spinnaker import SpinnakerBackend
from stdp_validation.backends.spinnaker.emulator import unavailable_reason
from stdp_validation.cli import EXIT_BAD_INPUT, EXIT_OK, main
from stdp_validation.run.nightly import night_order, run_nightly
from support.binaries import model_binary, patched_copy

UNAVAILABLE = SpinnakerBackend.unavailable_reason() or unavailable_reason()
pytestmark = [pytest.mark.spinnaker,
              pytest.mark.skipif(UNAVAILABLE is not None, reason=f"emulated spinnaker unavailable: {UNAVAILABLE}")]

PROTOCOLS = ["window"]  # dt 0.1 ms: a separate synapse core, synapses_stdp_mad_pair_additive.aplx


@pytest.fixture
def no_board(monkeypatch, tmp_path):
    """No machine in the user's own sPyNNaker cfg either."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(home / "etc"))
    return home


def rehearse(archive, date, **spinnaker_options):
    # Timing limits out of reach: these tests are about weights, and timings jitter on CI machines.
    return run_nightly(archive, backends=["spinnaker"], protocols=PROTOCOLS, date=date, progress=lambda line: None,
                       rule_matrix=False,
                       backend_options={"spinnaker": {"emulate": True, **spinnaker_options}}, slower_seconds=1e6)


def test_nightly_without_a_board_refuses_to_run_unless_told_to_rehearse(tmp_path, capsys, no_board):
    archive = tmp_path / "archive"
    assert main(["nightly", "--archive", str(archive), "--protocol", "window", "--quiet"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "no SpiNNaker board configured" in err and "pass --emulate" in err
    assert not archive.exists() or list(archive.iterdir()) == []
    assert main(["nightly", "--archive", str(archive), "--protocol", "window", "--quiet", "--emulate"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("REHEARSAL, not a board run: weights obtained as emulated"), out
    (night,) = archive.iterdir()
    regressions = json.loads((night / "regressions.json").read_text())
    assert regressions["rehearsal"].startswith("REHEARSAL") and "ARM emulator" in regressions["rehearsal"]
    page = (night / "index.html").read_text()
    assert '<div class="banner rehearsal">REHEARSAL, not a board run: weights obtained as emulated' in page


def test_a_patched_binary_is_a_regression_of_the_rehearsed_night(tmp_path, monkeypatch):
    first, comparison = rehearse(tmp_path, "2026-12-01")
    assert comparison["regressions"] == [] and comparison["rehearsal"]
    results = json.loads((first / "results.json").read_text())
    (result,) = results["results"]
    assert result["execution"] == "emulated" and result["summary"]["status"] == "pass"
    assert all(v["stored_observed"] == v["stored_expected"] and v["lsb"] > 0 for v in result["verdicts"])
    observation = json.loads((first / result["observation_file"]).read_text())
    counters = observation["provenance"]["cores"][0]["counters"]
    assert counters["plastic_pre_synaptic_events"] > 0 and counters["skipped_synapses"] == 0

    same, comparison = rehearse(tmp_path, "2026-12-02")
    assert comparison["previous"] == str(first) and comparison["same_software"] and comparison["regressions"] == []

    original = model_binary("synapses_stdp_mad_pair_additive.aplx")
    (tmp_path / "patched").mkdir()
    broken = patched_copy(original, tmp_path / "patched")
    # The binary on disk changed (as after a rebuild): the toolchain's executable finder now
    # returns the patched file, so the same backend label runs it.
    from spinn_front_end_common.data import FecDataView

    real = FecDataView.get_executable_path
    monkeypatch.setattr(FecDataView, "get_executable_path",
                        classmethod(lambda cls, name: str(broken) if name == original.name else real(name)))
    _, comparison = rehearse(tmp_path, "2026-12-03")
    regressions = comparison["regressions"]
    assert any("must be bit-identical" in line for line in regressions), regressions
    assert any("passed last night, fails tonight" in line for line in regressions), regressions
    assert "tonight has failing cases (see index.html)" in regressions


def test_a_changed_host_encoding_of_the_rule_is_a_regression(tmp_path, monkeypatch):
    from spynnaker.pyNN.models.neuron.plasticity.stdp.weight_dependence import weight_dependence_additive as module

    first, _ = rehearse(tmp_path, "2026-12-01")
    real = module.WeightDependenceAdditive.write_parameters

    class PreMultiplied:
        """A spec that writes A+ and A− (the 3rd and 4th word per synapse type) times w_max."""

        def __init__(self, spec, w_max):
            self.spec, self.w_max, self.words = spec, w_max, 0

        def write_value(self, data, data_type):
            self.words += 1
            if self.words % 4 in (3, 0):
                data = data * self.w_max
            return self.spec.write_value(data=data, data_type=data_type)

    def changed(self, spec, global_weight_scale, synapse_weight_scales, n_weight_terms):
        return real(self, PreMultiplied(spec, self.w_max), global_weight_scale, synapse_weight_scales, n_weight_terms)

    monkeypatch.setattr(module.WeightDependenceAdditive, "write_parameters", changed)
    night, comparison = rehearse(tmp_path, "2026-12-02")
    regressions = comparison["regressions"]
    assert any("must be bit-identical" in line for line in regressions), regressions
    results = json.loads((night / "results.json").read_text())
    (result,) = results["results"]
    assert result["checks"]["failed"] >= 1  # the encoded A± no longer match the fixed-point model's
    assert result["summary"]["status"] == "fail"


def test_trends_and_retention_over_the_kept_nights(tmp_path, capsys, no_board):
    archive = tmp_path / "archive"
    for _ in range(3):
        assert main(["nightly", "--archive", str(archive), "--protocol", "window", "--quiet", "--emulate",
                     "--keep", "2", "--slower-seconds", "1e6"]) == EXIT_OK
    kept = sorted(archive.iterdir(), key=night_order)
    assert [night_order(p)[1] for p in kept] == [2, 3]  # three nights of one day; the oldest was pruned
    newest = kept[-1]
    trends = json.loads((newest / "trends.json").read_text())
    assert [t["night"] for t in trends] == [p.name for p in kept]
    assert all(t["counters"] and t["timings"] for t in trends)
    page = (newest / "index.html").read_text()
    assert "Trends over the kept nights" in page and "plastic_pre_synaptic_events" in page
