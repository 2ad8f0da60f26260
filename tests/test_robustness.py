"""Faults, interrupts, atomic writes, determinism and parallel runs.

Failures are injected into the real NEST backend (fast, deterministic) by wrapping its
``run`` so that one chosen protocol raises; every other protocol runs for real.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stdp_validation.backends.nest import NestBackend
from stdp_validation.cli import EXIT_FAILED, EXIT_INTERRUPTED, main
from stdp_validation.results import Observation
from stdp_validation.results.io import write_json_atomic
from stdp_validation.protocols import get_protocol
from stdp_validation.run import run_validation

REPOSITORY = Path(__file__).resolve().parents[1]


def fail_on(monkeypatch, protocol_name, exception):
    real_simulate = NestBackend.simulate

    def simulate(self, items, note=""):
        if any(item.protocol.name == protocol_name for item in items):
            raise exception
        return real_simulate(self, items, note)

    monkeypatch.setattr(NestBackend, "simulate", simulate)


@pytest.mark.nest
def test_a_failing_protocol_keeps_every_finished_result_and_the_run_goes_on(tmp_path, monkeypatch):
    fail_on(monkeypatch, "bounds", RuntimeError("injected: simulator crashed"))
    run = run_validation(["nest"], ["window", "bounds", "poisson"], tmp_path, progress=lambda line: None,
                         rule_matrix=False)
    results = json.loads(run.results_file.read_text())
    assert [r["protocol"] for r in results["results"]] == ["window", "poisson"]
    (error,) = results["errors"]
    assert error["protocol"] == "bounds" and "injected: simulator crashed" in error["error"]
    assert "RuntimeError" in error["traceback"]
    for name in ("window", "poisson"):
        assert Observation.load(run.directory / "observations" / f"nest-{name}-pair-additive.json").backend == "nest"
    assert run.failed


@pytest.mark.nest
def test_the_command_reports_a_failure_with_its_cause(tmp_path, monkeypatch, capsys):
    fail_on(monkeypatch, "bounds", RuntimeError("injected"))
    assert main(["--backend", "nest", "--protocol", "bounds", "--out", str(tmp_path)]) == EXIT_FAILED
    captured = capsys.readouterr()
    assert "ERROR RuntimeError: injected" in captured.out
    assert "FAILED with RuntimeError: injected" in captured.err


@pytest.mark.nest
def test_ctrl_c_stops_cleanly_and_keeps_what_finished(tmp_path, monkeypatch, capsys):
    fail_on(monkeypatch, "poisson", KeyboardInterrupt())
    status = main(["--own-rules", "--backend", "nest", "--protocol", "window", "--protocol", "poisson", "--protocol", "bounds",
                   "--out", str(tmp_path)])
    assert status == EXIT_INTERRUPTED
    (results_file,) = tmp_path.glob("*/results.json")
    results = json.loads(results_file.read_text())
    assert results["interrupted"] is True and results["finished"] is not None
    assert [r["protocol"] for r in results["results"]] == ["window"]
    assert "interrupted: results so far are kept" in capsys.readouterr().err


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "results.json"
    write_json_atomic(path, {"version": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"version": 2, "bad": object()})
    assert json.loads(path.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_killed_writer_never_leaves_a_half_written_json(tmp_path):
    # A child rewrites a ≈2 MB JSON file in a loop; kill -9 it at an arbitrary moment. The file
    # is either absent or a complete, valid JSON document, never a prefix of one.
    path = tmp_path / "results.json"
    script = (
        "import sys\nfrom stdp_validation.results.io import write_json_atomic\n"
        "data = {'weights': [i * 0.1 for i in range(100000)]}\n"
        "while True:\n    write_json_atomic(sys.argv[1], data)\n"
    )
    for delay in (0.3, 0.55, 0.8):
        child = subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=REPOSITORY)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        if path.exists():
            assert len(json.loads(path.read_text())["weights"]) == 100000


def test_the_same_seed_gives_the_same_spike_inputs():
    assert get_protocol("poisson", seed=5) == get_protocol("poisson", seed=5)
    assert get_protocol("poisson", seed=5) != get_protocol("poisson", seed=6)


def _without_run_specifics(results):
    """results.json minus timestamps, timings and the command line."""
    for key in ("started", "finished", "command", "timings"):
        results.pop(key)
    for result in results["results"]:
        result.pop("timings")
        result.pop("observation_file")
    return results


@pytest.mark.nest
def test_two_runs_with_the_same_seed_give_identical_results(tmp_path):
    runs = [run_validation(["nest"], ["poisson", "window"], tmp_path / str(i), seed=7, progress=lambda line: None)
            for i in range(2)]
    first, second = (_without_run_specifics(json.loads(r.results_file.read_text())) for r in runs)
    assert first == second
    observations = [json.loads((r.directory / "observations" / "nest-poisson-pair-additive.json").read_text()) for r in runs]
    for observation in observations:
        observation.pop("timings")
    assert observations[0] == observations[1]


@pytest.mark.nest
def test_two_processes_started_together_write_separate_report_folders(tmp_path):
    # Both use the same --out and run in the same working directory, which must stay clean.
    work = tmp_path / "work"
    work.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    command = [sys.executable, "-m", "stdp_validation.cli", "--backend", "nest", "--protocol", "bounds",
               "--out", str(tmp_path / "reports"), "--quiet"]
    processes = [subprocess.Popen(command, cwd=work, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    folders = sorted((tmp_path / "reports").iterdir())
    assert len(folders) == 2
    for folder in folders:
        assert json.loads((folder / "results.json").read_text())["results"][0]["summary"]["pass"] == 6
    assert list(work.iterdir()) == []


@pytest.mark.nest
@pytest.mark.brian2
def test_a_real_ctrl_c_during_a_brian2_simulation_stops_the_run_and_keeps_what_finished(tmp_path):
    # SIGINT while Brian2 simulates the 60 s pairing protocol. Brian2 catches it and ends run()
    # early; the truncated simulation must not be reported as a result.
    command = [sys.executable, "-m", "stdp_validation.cli", "--own-rules", "--backend", "nest", "--backend", "brian2",
               "--protocol", "bounds", "--protocol", "pairing", "--out", str(tmp_path)]
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    deadline = time.time() + 240
    while time.time() < deadline and not list(tmp_path.glob("*/observations/brian2-bounds-*.json")):
        time.sleep(0.2)
    time.sleep(2.0)  # inside the Brian2 pairing simulation (≈ 20 s)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=240)
    assert process.returncode == EXIT_INTERRUPTED, out + err
    (results_file,) = tmp_path.glob("*/results.json")
    results = json.loads(results_file.read_text())
    assert results["interrupted"] is True
    finished = [(r["backend"], r["protocol"]) for r in results["results"]]
    assert finished == [("nest", "bounds"), ("nest", "pairing"), ("brian2", "bounds")]
    assert "interrupted: results so far are kept" in err


def test_result_files_are_readable_by_others(tmp_path):
    # The atomic write goes through a private temporary file; the result must not stay private.
    path = tmp_path / "results.json"
    write_json_atomic(path, {"a": 1})
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
