"""The stdp-validate command: main job, revalidation, bad input."""

import json

import pytest

from stdp_validation.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main
from stdp_validation.protocols import RULE_LABELS
from stdp_validation.results import Observation


@pytest.mark.nest
def test_main_job_writes_results_and_observations(tmp_path, capsys):
    status = main(["--backend", "nest", "--protocol", "window", "--protocol", "bounds", "--out", str(tmp_path / "r")])
    assert status == EXIT_OK
    out = capsys.readouterr().out
    assert "window" in out and "bounds" in out and "results:" in out
    (run_dir,) = (tmp_path / "r").iterdir()
    results = json.loads((run_dir / "results.json").read_text())
    # The rule matrix: each protocol under every standard rule (NEST has them all).
    assert [(r["backend"], r["protocol"], r["rule"]) for r in results["results"]] == [
        ("nest", protocol, rule) for protocol in ("window", "bounds") for rule in RULE_LABELS]
    assert results["results"][0]["summary"]["cases"] == 101
    assert results["finished"] is not None and not results["errors"]
    observation = Observation.load(run_dir / "observations" / "nest-window-pair-additive.json")
    assert len(observation.final_weights) == 101

    # Revalidating the saved run reproduces the verdicts without a simulator.
    assert main(["revalidate", str(run_dir)]) == EXIT_OK
    assert "nest window" in capsys.readouterr().out


@pytest.mark.nest
def test_revalidate_flags_a_tampered_observation(tmp_path, capsys):
    assert main(["--backend", "nest", "--protocol", "bounds", "--out", str(tmp_path), "--quiet"]) == EXIT_OK
    (path,) = tmp_path.glob("*/observations/nest-bounds-pair-additive.json")
    data = json.loads(path.read_text())
    data["final_weights"][0] += 1e-6  # above the tolerance, 1e-9 of w_max = 2
    path.write_text(json.dumps(data))
    assert main(["revalidate", str(path)]) == EXIT_FAILED
    assert "1 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--backend", "neuron"], ["backend", "'neuron'", "brian2", "nest"]),
        (["--protocol", "stdp"], ["protocol", "'stdp'", "window"]),
        (["revalidate", "does/not/exist.json"], ["does/not/exist.json", "does not exist"]),
    ],
)
def test_bad_input_is_rejected_before_anything_runs(tmp_path, capsys, argv, words):
    assert main(argv + ["--out", str(tmp_path / "out")] if argv[0] != "revalidate" else argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    for word in words:
        assert word in err
    assert not (tmp_path / "out").exists()


@pytest.mark.nest
def test_stdp_report_option_collects_the_observations_of_xdist_workers(tmp_path):
    # Two workers each run simulations; the controller writes one report with all of them.
    import subprocess
    import sys
    from pathlib import Path

    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", "--stdp-report", str(tmp_path),
         "tests/backends/test_protocols.py", "-k", "nest and pair-additive and (window or bounds)"],
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[1],
    )
    assert process.returncode == 0, process.stdout + process.stderr
    (run_dir,) = tmp_path.iterdir()
    assert "stdp-validation report:" in process.stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert sorted(r["protocol"] for r in results["results"]) == ["bounds", "window"]
    assert len(list((run_dir / "observations").iterdir())) == 2 and (run_dir / "index.html").exists()


@pytest.mark.nest
@pytest.mark.parametrize("suffix", ["toml", "json"])
def test_your_own_rule_file_timestep_delay_and_initial_weight_reach_every_case(tmp_path, suffix):
    rule = {"timing": {"type": "SpikePairRule", "tau_plus": 16.8, "tau_minus": 33.7, "A_plus": 0.005,
                       "A_minus": 0.0025},
            "weight": {"type": "AdditiveWeightDependence", "w_min": 0.0, "w_max": 0.04}}
    path = tmp_path / f"rule.{suffix}"
    if suffix == "json":
        path.write_text(json.dumps(rule))
    else:
        path.write_text("\n".join(f"[{table}]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items())
                                  for table, values in rule.items()) + "\n")
    argv = ["--backend", "nest", "--protocol", "window", "--protocol", "bounds", "--rule-file", str(path),
            "--timestep", "0.5", "--delay", "2", "--initial-weight", "0.01", "--out", str(tmp_path / "r"), "--quiet"]
    assert main(argv) == EXIT_OK
    (run_dir,) = (tmp_path / "r").iterdir()
    window, bounds = json.loads((run_dir / "results.json").read_text())["results"]
    for result in (window, bounds):
        assert result["protocol_parameters"]["rule"] == rule
        assert result["protocol_parameters"]["timestep"] == 0.5 and result["protocol_parameters"]["delay"] == 2.0
        assert result["summary"]["status"] == "pass"
    assert {v["initial_weight"] for v in window["verdicts"]} == {0.01}
    # bounds keeps its design: cases start in the middle and at both bounds of the rule
    assert {v["initial_weight"] for v in bounds["verdicts"]} == {0.0, 0.02, 0.04}
