"""Backends in parallel processes (``jobs`` > 1, the command line's default): the same
results as one after another, the backends' order kept, and no protocol lost when a backend
process fails or dies."""

import json
import os
from pathlib import Path

import pytest

from stdp_validation.protocols import get_protocol
from stdp_validation.run import run_validation
from stdp_validation.run.orchestration import _run_in_processes

BACKENDS = ["nest", "nest[spike_precision=off_grid]"]


def _verdicts(run):
    return [(r.backend_label, r.protocol, r.rule, [(v.case, v.status, v.expected, v.observed) for v in r.verdicts])
            for r in run.results]


@pytest.mark.nest
def test_parallel_run_gives_the_sequential_results_in_the_backends_order(tmp_path):
    kwargs = dict(protocols=["window", "bounds"], rule_matrix=False, progress=lambda line: None)
    sequential = run_validation(BACKENDS, out_dir=tmp_path / "one", jobs=1, **kwargs)
    parallel = run_validation(BACKENDS, out_dir=tmp_path / "two", jobs=2, **kwargs)
    assert not sequential.errors and not parallel.errors
    assert _verdicts(parallel) == _verdicts(sequential)
    assert [r.backend_label for r in parallel.results] == [BACKENDS[0]] * 2 + [BACKENDS[1]] * 2
    saved = json.loads(parallel.results_file.read_text())
    assert [r["backend_label"] for r in saved["results"]] == [r.backend_label for r in parallel.results]
    # Each process wrote its observations; each result was compared there and timed.
    for result in saved["results"]:
        assert (parallel.directory / result["observation_file"]).is_file()
        assert result["timings"]["compare"] > 0
    for label in BACKENDS:
        phase = saved["timings"]["backends"][label]
        assert phase["wall"] >= phase["compare"] > 0


def _collect(tasks, directory):
    announced, received = [], []

    def announce(label, selected):
        announced.append(label)
        return {"wall": 0.0, "compare": 0.0}

    def receive(label, entry, seconds, phase, started):
        received.append((label, entry))

    _run_in_processes(tasks, 2, Path(directory), announce, receive)
    return announced, received


@pytest.fixture
def spawnable(monkeypatch):
    """tests/ importable in the spawned processes (pytest puts it on sys.path only here)."""
    tests = str(Path(__file__).resolve().parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")])))
    from support.process_backends import DyingBackend, RaisingBackend

    return RaisingBackend, DyingBackend


def test_a_backend_that_raises_reports_every_unfinished_protocol(tmp_path, spawnable):
    raising, dying = spawnable
    protocols = [get_protocol("bounds"), get_protocol("window")]
    announced, received = _collect([("raising", raising(), protocols)], tmp_path)
    assert announced == ["raising"]
    # The error the backend reported, then the exception for the protocol it never reached.
    assert [(label, e.protocol, e.error) for label, e in received] == [
        ("raising", "bounds", "ValueError: reported"),
        ("raising", "window", "RuntimeError: injected: the backend broke down"),
    ]


def test_a_backend_process_that_dies_loses_no_protocol(tmp_path, spawnable):
    raising, dying = spawnable
    protocols = [get_protocol("bounds"), get_protocol("window")]
    announced, received = _collect([("dying", dying(), protocols), ("raising", raising(), protocols[:1])], tmp_path)
    assert announced == ["dying", "raising"]
    lost = [(e.protocol, e.rule) for label, e in received if label == "dying"]
    assert lost == [(p.name, p.rule.label) for p in protocols]
    assert all("exited with code 3" in e.error for label, e in received if label == "dying")
    assert [e.protocol for label, e in received if label == "raising"] == ["bounds"]
