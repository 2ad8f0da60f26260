"""The main job: run protocols on backends, compare, and keep every finished result on disk.

Each (backend, protocol) is one simulation. Its observation is written as soon as it
finishes and ``results.json`` is rewritten (atomically) after every step, so a crash or
Ctrl-C mid-run loses nothing that finished. A failure of one backend or protocol is recorded
with its cause and the run goes on with the others.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .backends import DEFAULT_BACKENDS, backend_class, get_backend, unavailable_reason
from .compare import FAIL, KNOWN_DEFECT, NOT_RUN, PASS, ProtocolResult, compare
from .defects import KNOWN_DEFECTS, NETWORK_DEFECTS
from .errors import ParameterError, UnsupportedByBackend
from .observation import FORMAT_VERSION, Observation, write_json_atomic
from .protocols import PROTOCOLS, get_protocol, get_rule

DEFAULT_PROTOCOLS = tuple(PROTOCOLS)


def utc_timestamp():
    """ISO-8601 basic-format UTC timestamp with microseconds, safe in file names."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def utc_now():
    """ISO-8601 UTC time, extended format, for JSON."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def new_folder(parent, name, option="--out"):
    """A new folder ``parent/name`` (``name-2``, ``name-3`` … when taken), never shared by two
    concurrent runs; a bad ``parent`` raises :class:`ParameterError` naming ``option``."""
    parent = Path(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ParameterError(f"{option} {str(parent)!r} cannot be created: {error.strerror}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ParameterError(f"{option} {str(parent)!r} is not writable")
    for attempt in range(1, 1000):
        candidate = parent / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise ParameterError(f"{option} {str(parent)!r}: could not create a new folder {name!r}")


def make_run_directory(out_dir):
    """A new folder ``out_dir/<ISO-8601 timestamp>`` for one run."""
    return new_folder(out_dir, utc_timestamp())


@dataclass
class ValidationRun:
    """Everything one ``stdp-validate`` run produced; written to ``results.json``."""

    directory: Path
    command: str
    backends: list
    protocols: list
    started: str = field(default_factory=utc_now)
    finished: str | None = None
    results: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    unsupported: list = field(default_factory=list)
    interrupted: bool = False

    @property
    def results_file(self):
        return self.directory / "results.json"

    @property
    def failed(self):
        return any(r.failed for r in self.results) or bool(self.errors)

    def to_dict(self):
        return {
            "format_version": FORMAT_VERSION,
            "command": self.command,
            "started": self.started,
            "finished": self.finished,
            "interrupted": self.interrupted,
            "backends": self.backends,
            "protocols": self.protocols,
            "skipped_backends": self.skipped,
            "unsupported": self.unsupported,
            "results": [r.to_dict() for r in self.results],
            "errors": self.errors,
            "known_defects": [d.to_dict() for d in KNOWN_DEFECTS + NETWORK_DEFECTS],
        }

    def save(self):
        write_json_atomic(self.results_file, self.to_dict())


def plan_validation(backends=None, protocols=None, *, rule=None, seed=None, backend_options=None):
    """Check every input and prepare the run before anything is simulated.

    Returns ``(protocols, runners, skipped, unsupported)``: protocol objects by name, backend
    instances by name, backends that cannot run here (name → reason), and the
    (backend, protocol, reason) combinations a backend cannot represent.
    Raises :class:`ParameterError` for unknown names or bad options.
    """
    backends = list(dict.fromkeys(backends or DEFAULT_BACKENDS))
    names = list(dict.fromkeys(protocols or DEFAULT_PROTOCOLS))
    for name in backends:
        backend_class(name)
    built = {name: get_protocol(name, seed=seed) for name in names}
    if rule is not None:
        rule = get_rule(rule) if isinstance(rule, str) else rule
        # The seed network keeps its own rule: it reproduces the notebook exactly.
        built = {name: (p if p.network == "seed" else p.with_rule(rule)) for name, p in built.items()}
    options = backend_options or {}
    runners, skipped, unsupported = {}, {}, []
    for name in backends:
        reason = unavailable_reason(name)
        if reason:
            skipped[name] = reason
            continue
        runners[name] = get_backend(name, **options.get(name, {}))
        for protocol_name, protocol in built.items():
            try:
                runners[name].check_rule(protocol.rule)
            except UnsupportedByBackend as error:
                unsupported.append({"backend": name, "protocol": protocol_name, "reason": str(error)})
    return built, runners, skipped, unsupported


def run_validation(backends=None, protocols=None, out_dir="reports", command=None, progress=None, rule=None,
                   seed=None, backend_options=None, folder_name=None, out_option="--out"):
    """Run every protocol on every available backend; return the :class:`ValidationRun`.

    The run writes ``out_dir/<folder_name>`` (default: an ISO-8601 timestamp). ``progress`` is
    called with one line of text per step (default: print to stderr). Everything is checked
    (names, rule, seed, options, output folder) before anything runs.
    """
    built, runners, skipped, unsupported = plan_validation(
        backends, protocols, rule=rule, seed=seed, backend_options=backend_options
    )
    progress = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    directory = new_folder(out_dir, folder_name or utc_timestamp(), out_option)
    run = ValidationRun(directory, command or "stdp-validate", list(runners) + list(skipped), list(built))
    run.skipped = skipped
    run.unsupported = unsupported
    for name, reason in skipped.items():
        progress(f"[{name}] skipped: {reason}")
    run.save()
    observations_dir = run.directory / "observations"
    not_supported = {(u["backend"], u["protocol"]): u["reason"] for u in unsupported}
    try:
        for backend_name, backend in runners.items():
            selected = {name: protocol for name, protocol in built.items() if (backend_name, name) not in not_supported}
            for name in built:
                if name not in selected:
                    progress(f"[{backend_name}] {name}: not supported by this backend: "
                             f"{not_supported[backend_name, name]}")
            for protocol_name, outcome, seconds in _observations(backend, selected, progress, backend_name):
                if isinstance(outcome, BaseException):
                    run.errors.append(_error(backend_name, protocol_name, outcome, "".join(
                        traceback.format_exception(type(outcome), outcome, outcome.__traceback__))))
                    progress(f"[{backend_name}] {protocol_name}: FAILED with {type(outcome).__name__}: {outcome}")
                    run.save()
                    continue
                path = observations_dir / f"{backend_name}-{protocol_name}.json"
                outcome.save(path)
                result = result_from_observation(outcome, str(path.relative_to(run.directory)))
                run.results.append(result)
                run.save()
                progress(f"[{backend_name}] {protocol_name}: {_result_line(result)} ({seconds:.1f} s)")
    except KeyboardInterrupt:
        run.interrupted = True
        progress("interrupted: results so far are kept")
    finally:
        run.finished = utc_now()
        run.save()
    return run


def _observations(backend, protocols, progress, backend_name):
    """Yield ``(protocol name, Observation or exception, seconds)`` as each run finishes.

    Backends with ``run_many`` (SpiNNaker) get every protocol at once: one network, one
    allocation, one toolchain pass; the others run one simulation per protocol.
    """
    if hasattr(backend, "run_many"):
        progress(f"[{backend_name}] {', '.join(protocols)}: one network, "
                 f"{sum(len(p.cases) for p in protocols.values())} cases ...")
        started = time.perf_counter()
        try:
            outcomes = backend.run_many(list(protocols.values()))
        except Exception as error:  # noqa: BLE001 - recorded per protocol with its cause
            errors = getattr(error, "errors", None)
            if errors is None:
                outcomes = [error] * len(protocols)
            else:
                outcomes = [errors.get(name) or observation
                            for name, observation in zip(protocols, error.observations)]
        seconds = time.perf_counter() - started
        yield from ((name, outcome, seconds) for name, outcome in zip(protocols, outcomes))
        return
    for name, protocol in protocols.items():
        progress(f"[{backend_name}] {name}: {len(protocol.cases)} cases ...")
        started = time.perf_counter()
        try:
            outcome = backend.run(protocol)
        except Exception as error:  # noqa: BLE001 - recorded with its cause, the run goes on
            outcome = error
        yield name, outcome, time.perf_counter() - started


def _result_line(result):
    line = (f"{result.count(PASS)} passed, {result.count(FAIL)} failed, "
            f"{result.count(KNOWN_DEFECT)} known defects")
    if result.count(NOT_RUN):
        checks = [c for c in result.checks if c.get("kind") == "check"]
        line = (f"virtual board, no weights to compare ({result.count(NOT_RUN)} cases); toolchain checks: "
                f"{sum(c.get('passed') is True for c in checks)} passed, {len(result.failed_checks)} failed")
    return line


def result_from_observation(observation: Observation, observation_file=None):
    """Compare an observation and wrap the verdicts as a :class:`ProtocolResult`."""
    return ProtocolResult(
        backend=observation.backend,
        protocol=observation.protocol.name,
        rule=observation.rule.label,
        verdicts=compare(observation),
        timings=observation.timings,
        environment=observation.environment,
        observation_file=observation_file,
        notes=list(observation.notes),
        checks=list(observation.checks),
        protocol_parameters={
            "timestep": observation.protocol.timestep,
            "delay": observation.delay,
            "t_stop": observation.t_stop,
            "rule": observation.rule.to_dict(),
        },
        conventions=observation.conventions.to_dict(),
    )


def _error(backend, protocol, error, traceback_text):
    return {
        "backend": backend,
        "protocol": protocol,
        "error": f"{type(error).__name__}: {error}",
        "traceback": traceback_text,
    }


VIRTUAL_BOARD_SUMMARY = (
    "spinnaker ran on its virtual board (no board configured: --spinnaker-cfg PATH). Checked: every protocol "
    "maps, weight scale and LSB, the encoded STDP parameters (lookup tables, A+, A-, w_min, w_max) against the "
    "fixed-point model, initial-weight quantisation. Not checked without a board: spikes and learned weights "
    "(cases 'not run')."
)


def _ratio_cell(ratio):
    return "n/a" if ratio is None else f"{ratio:.3g}"


def _checks_cell(result):
    checks = [c for c in result.checks if c.get("kind") == "check"]
    if not checks:
        return "-"
    return f"{sum(c.get('passed') is True for c in checks)}/{len(checks)}"


def summary_table(run):
    """Plain-text table: protocol × backend with counts and worst error / tolerance."""
    header = (f"{'protocol':<10} {'backend':<10} {'rule':<20} {'cases':>5} {'passed':>6} {'failed':>6} "
              f"{'defects':>7} {'not run':>7} {'checks':>9} {'worst err/tol':>13}")
    lines = [header, "-" * len(header)]
    for result in run.results:
        lines.append(
            f"{result.protocol:<10} {result.backend:<10} {result.rule:<20} {len(result.verdicts):>5} "
            f"{result.count(PASS):>6} {result.count(FAIL):>6} {result.count(KNOWN_DEFECT):>7} "
            f"{result.count(NOT_RUN):>7} {_checks_cell(result):>9} {_ratio_cell(result.worst_error_ratio):>13}"
        )
    for error in run.errors:
        lines.append(f"{error['protocol']:<10} {error['backend']:<10} ERROR {error['error']}")
    for backend, reason in run.skipped.items():
        lines.append(f"{'(all)':<10} {backend:<10} SKIPPED {reason}")
    for entry in run.unsupported:
        lines.append(f"{entry['protocol']:<10} {entry['backend']:<10} NOT SUPPORTED {entry['reason']}")
    if any(result.count(NOT_RUN) for result in run.results):
        lines.append(VIRTUAL_BOARD_SUMMARY)
    return "\n".join(lines)
