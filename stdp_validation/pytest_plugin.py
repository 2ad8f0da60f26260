"""pytest plugin: options, markers and fixtures for validating STDP backends.

Loaded automatically (entry point ``pytest11``) when stdp-validation is installed.

Options (group "stdp-validation")
    ``--backend NAME``        run only these backends' tests (repeatable; default: all installed)
    ``--spinnaker-cfg PATH``  a sPyNNaker cfg naming a real board or spalloc server
    ``--stdp-report DIR``     write results.json, the observations and the HTML report of the session
Markers
    ``brian2``, ``nest``, ``spinnaker``: needs that backend (skipped with the reason when it is
    not installed or not selected); ``hardware``: needs a SpiNNaker board; ``slow``.
Fixtures
    ``stdp_run(backend, protocol, rule=None, **backend_options)``: a session-cached run of one
    protocol on one backend, returning its :class:`~stdp_validation.results.ProtocolResult`
    (with ``.observation``); each simulation runs once per session however many tests use it.
    ``backend`` is a registry name, ``protocol`` a protocol name or a
    :class:`~stdp_validation.protocols.Protocol`, ``rule`` a label of
    :data:`~stdp_validation.protocols.RULES` or an :class:`~stdp_validation.rules.STDPRule`.
Functions
    :func:`record` adds a result a test made itself to the session's report.

State lives in one :class:`StdpSession` object per pytest session (``config.stash``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .run.options import BACKEND, SPINNAKER_CFG
from .backends import with_board_cfg

BACKEND_MARKERS = ("brian2", "nest", "spinnaker")


class StdpSession:
    """What the plugin keeps for one pytest session."""

    def __init__(self, config):
        self.config = config
        self.results = []
        self.cache = {}
        self.report_directory = None

    def add(self, result):
        """Keep ``result`` for the report; on an xdist worker, also send it to the controller."""
        self.results.append(result)
        workeroutput = getattr(self.config, "workeroutput", None)
        observation = getattr(result, "observation", None)
        if workeroutput is not None and self.config.getoption("--stdp-report") and observation is not None:
            # as JSON text: execnet cannot send numpy scalars
            workeroutput.setdefault("stdp_observations", []).append(observation.to_json())


SESSION = pytest.StashKey[StdpSession]()
_CURRENT = []  # the session of the running pytest process, for record()


def pytest_addoption(parser):
    group = parser.getgroup("stdp-validation")
    for option in (BACKEND, SPINNAKER_CFG):  # the tests choose their own protocols
        option.add_to(group, default=None)
    group.addoption("--stdp-report", default=None, metavar="DIR",
                    help="write the observed results of this session to DIR/<timestamp>/")


def pytest_configure(config):
    for name in BACKEND_MARKERS:
        config.addinivalue_line("markers", f"{name}: needs the {name} backend (skipped when absent or not selected)")
    config.addinivalue_line("markers", "hardware: needs a SpiNNaker board (--spinnaker-cfg PATH; skipped without it)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    _check_options(config)
    session = StdpSession(config)
    config.stash[SESSION] = session
    _CURRENT[:] = [session]


def pytest_unconfigure(config):
    _CURRENT.clear()


def _check_options(config):
    """Reject bad plugin options before any test runs (pytest exits with a usage error)."""
    from .backends import backend_class
    from .errors import ParameterError

    for name in config.getoption("--backend") or ():
        try:
            backend_class(name)
        except ParameterError as error:
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

        try:
            validate_board_cfg(path)
        except ParameterError as error:
            raise pytest.UsageError(f"--spinnaker-cfg: {error}") from None


def spinnaker_cfg(config):
    """The board cfg for this session: --spinnaker-cfg, else a machine in the user's sPyNNaker cfg."""
    from .backends import board_cfg

    return board_cfg(config.getoption("--spinnaker-cfg"))


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
        from .backends import unavailable_reason

        reason = unavailable_reason(name)
        if reason:
            pytest.skip(f"backend {name!r} unavailable: {reason}")


def record(result):
    """Add a :class:`~stdp_validation.results.ProtocolResult` (with its ``observation``
    attribute, as :func:`stdp_run` and :func:`~stdp_validation.results.evaluate` of an
    observation give it) to the running session's ``--stdp-report``. Returns ``result``."""
    if not _CURRENT:
        raise RuntimeError("record() needs a running pytest session with the stdp-validation plugin")
    _CURRENT[0].add(result)
    return result


def run_protocol(backend, protocol, rule=None, *, cfg_path=None, **backend_options):
    """Run one protocol on one backend now (no caching); returns its ProtocolResult with ``.observation``.

    ``protocol``: a name or a :class:`~stdp_validation.protocols.Protocol`; ``rule``: a label,
    an :class:`~stdp_validation.rules.STDPRule` or ``None`` (the protocol's own rule).
    """
    from .backends import get_backend
    from .protocols import Protocol, get_protocol, get_rule
    from .results.compare import evaluate
    from .results.observation import RunError

    protocol_object = protocol if isinstance(protocol, Protocol) else get_protocol(protocol)
    if rule is not None:
        rule_object = get_rule(rule) if isinstance(rule, str) else rule
        protocol_object = protocol_object.with_rule(rule_object)
    if cfg_path is not None:
        backend_options["cfg_path"] = cfg_path
    (outcome,) = get_backend(backend, **backend_options).run([protocol_object])
    if isinstance(outcome, RunError):
        raise RuntimeError(f"{outcome.backend} {outcome.protocol}: {outcome.error}\n{outcome.traceback}")
    result = evaluate(outcome)
    result.observation = outcome
    return result


@pytest.fixture(scope="session")
def stdp_run(request):
    """Run (once per session) a protocol on a backend; returns the ProtocolResult.

    ``stdp_run(backend, protocol, rule=None, **backend_options)``: ``protocol`` a name or a
    :class:`~stdp_validation.protocols.Protocol`, ``rule`` a label or an
    :class:`~stdp_validation.rules.STDPRule`. The test is skipped, with the reason, when the
    backend is not installed. Every result goes into ``--stdp-report``.
    """
    session = request.config.stash[SESSION]

    def run(backend, protocol, rule=None, **backend_options):
        from .backends import unavailable_reason

        reason = unavailable_reason(backend)
        if reason:
            pytest.skip(f"backend {backend!r} unavailable: {reason}")
        backend_options = with_board_cfg(backend, backend_options, request.config.getoption("--spinnaker-cfg"))
        key = (backend, _key(protocol), _key(rule), tuple(sorted(backend_options.items())))
        if key not in session.cache:
            result = run_protocol(backend, protocol, rule, **backend_options)
            session.add(result)
            session.cache[key] = result
        return session.cache[key]

    return run


def _key(value):
    """A hashable cache key for a name, a rule or a protocol object."""
    if value is None or isinstance(value, str):
        return value
    to_dict = getattr(value, "to_dict", None)
    return json.dumps(to_dict(), sort_keys=True, default=str) if to_dict else repr(value)


def pytest_testnodedown(node, error):
    """pytest-xdist controller: collect the observations a worker made (see sessionfinish)."""
    from .results.compare import evaluate
    from .results.observation import Observation

    session = node.config.stash[SESSION]
    for text in getattr(node, "workeroutput", {}).get("stdp_observations", []):
        observation = Observation.from_dict(json.loads(text))
        result = evaluate(observation)
        result.observation = observation
        session.results.append(result)


@pytest.hookimpl(trylast=True)  # after pytest-benchmark has written its JSON
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    directory = config.getoption("--stdp-report", default=None)
    state = config.stash.get(SESSION, None)
    if not directory or state is None or not state.results or hasattr(config, "workeroutput"):
        return  # nothing to write, or an xdist worker (the controller writes the report)
    from .report import write_report
    from .run.orchestration import ValidationRun, new_folder, observation_name, utc_now, utc_timestamp

    results = state.results
    run = ValidationRun(new_folder(directory, utc_timestamp(), "--stdp-report"),
                        command="pytest " + " ".join(config.invocation_params.args),
                        backends=sorted({r.backend_label for r in results}),
                        protocols=sorted({r.protocol for r in results}), results=list(results))
    for index, result in enumerate(results, 1):
        observation = getattr(result, "observation", None)
        if observation is not None:
            path = run.directory / "observations" / f"{index:03d}-{observation_name(result.backend_label, result.protocol, result.rule)}"
            observation.save(path)
            result.observation_file = str(path.relative_to(run.directory))
    run.finished = utc_now()
    run.save()
    benchmark_json = getattr(config.option, "benchmark_json", None)
    benchmark_json = getattr(benchmark_json, "name", benchmark_json)
    state.report_directory = write_report(run.directory, benchmark_json=benchmark_json)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = config.stash.get(SESSION, None)
    if state is not None and state.report_directory is not None:
        terminalreporter.write_line(f"stdp-validation report: {state.report_directory}")
