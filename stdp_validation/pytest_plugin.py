"""pytest plugin: options, markers and fixtures for validating STDP backends.

Loaded automatically (entry point ``pytest11``) when stdp-validation is installed.

Options
    ``--backend NAME``     run only these backends' tests (repeatable; default: all installed)
    ``--spinnaker-cfg PATH``  a sPyNNaker cfg naming a real board or spalloc server
    ``--stdp-report DIR``  write results.json (and the HTML report) of what the tests observed
Markers
    ``brian2``, ``nest``, ``spinnaker``: needs that backend (skipped with the reason when it is
    not installed or not selected); ``hardware``: needs a SpiNNaker board; ``slow``.
Fixtures
    ``stdp_run(backend, protocol, rule=None)``: session-cached run of one protocol on one
    backend, returning its :class:`~stdp_validation.compare.ProtocolResult`; each simulation
    runs once per session however many tests look at it.
"""

from __future__ import annotations

import pytest

BACKEND_MARKERS = ("brian2", "nest", "spinnaker")


def pytest_addoption(parser):
    group = parser.getgroup("stdp-validation")
    group.addoption("--backend", action="append", default=None, metavar="NAME",
                    help="run only these backends' tests (repeatable): brian2, nest, spinnaker")
    group.addoption("--spinnaker-cfg", default=None, metavar="PATH",
                    help="sPyNNaker cfg with machine_name + version, or spalloc_server, for board tests")
    group.addoption("--stdp-report", default=None, metavar="DIR",
                    help="write the observed results of this session to DIR/<timestamp>/")


def pytest_configure(config):
    for name in BACKEND_MARKERS:
        config.addinivalue_line("markers", f"{name}: needs the {name} backend (skipped when absent or not selected)")
    config.addinivalue_line("markers", "hardware: needs a SpiNNaker board (--spinnaker-cfg PATH; skipped without it)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    _check_options(config)
    config._stdp_results = []


def _check_options(config):
    """Reject bad plugin options before any test runs (pytest exits with a usage error)."""
    import os
    from pathlib import Path

    from .backends import backend_class

    for name in config.getoption("--backend") or ():
        try:
            backend_class(name)
        except ValueError as error:
            raise pytest.UsageError(f"--backend: {error}") from None
    report = config.getoption("--stdp-report")
    if report:
        path = Path(report)
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is not None and (not existing.is_dir() or not os.access(existing, os.W_OK)):
            raise pytest.UsageError(f"--stdp-report {report!r}: {str(existing)!r} is not a writable folder")
    cfg = config.getoption("--spinnaker-cfg")
    if cfg:
        path = Path(cfg)
        if not path.is_file():
            raise pytest.UsageError(f"--spinnaker-cfg {cfg!r}: no such file")
        if not os.access(path, os.R_OK):
            raise pytest.UsageError(f"--spinnaker-cfg {cfg!r}: file is not readable")
        from .backends.spinnaker import validate_board_cfg
        from .errors import ParameterError

        try:
            validate_board_cfg(path)
        except ParameterError as error:
            raise pytest.UsageError(f"--spinnaker-cfg: {error}") from None


def spinnaker_cfg(config):
    """The board cfg for this session: --spinnaker-cfg, else a machine in the user's sPyNNaker cfg."""
    from .backends import unavailable_reason

    if unavailable_reason("spinnaker"):
        return config.getoption("--spinnaker-cfg")
    from .backends.spinnaker import board_cfg_path

    return board_cfg_path(config.getoption("--spinnaker-cfg"))


def pytest_runtest_setup(item):
    if item.get_closest_marker("hardware") is not None and not spinnaker_cfg(item.config):
        from .backends.spinnaker import NO_BOARD_REASON

        pytest.skip(NO_BOARD_REASON)
    selected = item.config.getoption("--backend")
    for name in BACKEND_MARKERS:
        if item.get_closest_marker(name) is None:
            continue
        if selected and name not in selected:
            pytest.skip(f"backend {name!r} not selected (--backend {' --backend '.join(selected)})")
        from .backends import BACKENDS, unavailable_reason

        if name in BACKENDS:
            reason = unavailable_reason(name)
            if reason:
                pytest.skip(f"backend {name!r} unavailable: {reason}")


@pytest.fixture(scope="session")
def stdp_run(request):
    """Run (once per session) a protocol on a backend; returns the ProtocolResult."""
    from .backends import get_backend
    from .observation import observation_json
    from .protocols import RULES, get_protocol
    from .validation import result_from_observation

    cache = {}

    def run(backend, protocol, rule=None, **backend_options):
        if backend == "spinnaker":  # --spinnaker-cfg, the user's board cfg, else the virtual board
            backend_options.setdefault("cfg_path", spinnaker_cfg(request.config))
        key = (backend, protocol, rule, tuple(sorted(backend_options.items())))
        if key not in cache:
            protocol_object = get_protocol(protocol)
            rule_object = RULES[rule] if rule is not None else None
            observation = get_backend(backend, **backend_options).run(protocol_object, rule_object)
            result = result_from_observation(observation)
            result.observation = observation
            cache[key] = result
            request.config._stdp_results.append(result)
            workeroutput = getattr(request.config, "workeroutput", None)
            if workeroutput is not None and request.config.getoption("--stdp-report"):
                # an xdist worker: the controller collects these in pytest_testnodedown
                # (as JSON text: execnet cannot send numpy scalars)
                workeroutput.setdefault("stdp_observations", []).append(observation_json(observation))
        return cache[key]

    return run


def pytest_testnodedown(node, error):
    """pytest-xdist controller: collect the observations a worker made (see sessionfinish)."""
    import json

    from .observation import Observation
    from .validation import result_from_observation

    for text in getattr(node, "workeroutput", {}).get("stdp_observations", []):
        observation = Observation.from_dict(json.loads(text))
        result = result_from_observation(observation)
        result.observation = observation
        node.config._stdp_results.append(result)


@pytest.hookimpl(trylast=True)  # after pytest-benchmark has written its JSON
def pytest_sessionfinish(session, exitstatus):
    directory = session.config.getoption("--stdp-report", default=None)
    results = getattr(session.config, "_stdp_results", [])
    if not directory or not results:
        return
    if hasattr(session.config, "workeroutput"):  # an xdist worker: the controller writes the report
        return
    from .validation import ValidationRun, make_run_directory, utc_now

    run = ValidationRun(
        make_run_directory(directory),
        command="pytest " + " ".join(session.config.invocation_params.args),
        backends=sorted({r.backend for r in results}),
        protocols=sorted({r.protocol for r in results}),
        results=list(results),
    )
    observations = run.directory / "observations"
    for index, result in enumerate(results, 1):
        observation = getattr(result, "observation", None)
        if observation is not None:
            path = observations / f"{index:03d}-{result.backend}-{result.protocol}-{result.rule}.json"
            observation.save(path)
            result.observation_file = str(path.relative_to(run.directory))
    run.finished = utc_now()
    run.save()
    from .report import write_report

    benchmark_json = getattr(session.config.option, "benchmark_json", None)
    benchmark_json = getattr(benchmark_json, "name", benchmark_json)
    session.config._stdp_report_directory = write_report(run.directory, benchmark_json=benchmark_json)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    directory = getattr(config, "_stdp_report_directory", None)
    if directory is not None:
        terminalreporter.write_line(f"stdp-validation report: {directory}")
