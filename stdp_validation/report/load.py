"""Reading a run folder once, into typed objects: results, their observations, benchmarks.

:func:`load_run` reads ``results.json`` (format version 2, as written by
:meth:`~stdp_validation.run.orchestration.ValidationRun.save`) into
:class:`~stdp_validation.results.result.ProtocolResult` and
:class:`~stdp_validation.results.observation.RunError` objects, and each result's observation
file when it can be read. A missing, unreadable, invalid or mismatched observation leaves the
result with its verdicts only and the reason on :attr:`Entry.problem`: the page shows it,
nothing is raised. A pytest-benchmark JSON file is read when given or present in the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ParameterError
from ..results.io import read_json, slugify, validate
from ..results.observation import Observation, RunError
from ..results.result import ProtocolResult
from ..results.status import Execution, Status

#: The results.json version this report reads.
RESULTS_FORMAT_VERSION = 2


@dataclass(eq=False)
class Entry:
    """One result row (backend label, protocol, rule) with its observation when readable
    (compared by identity: two entries are never the same row)."""

    index: int
    result: ProtocolResult
    observation: Observation | None = None
    #: Why :attr:`observation` is ``None`` ("" when it was read).
    problem: str = ""

    @property
    def label(self):
        return self.result.backend_label

    @property
    def protocol(self):
        return self.result.protocol

    @property
    def rule(self):
        return self.result.rule

    @property
    def execution(self) -> Execution:
        return self.result.execution

    @property
    def verdicts(self):
        return self.result.verdicts


@dataclass(frozen=True)
class BackendNote:
    """What results.json says once per backend label: how it obtains weights, and where it ran."""

    label: str
    execution: Execution
    note: str
    environment: dict


@dataclass
class Benchmark:
    """A pytest-benchmark JSON file: ``data`` when readable, else ``problem`` says why."""

    source: str
    data: dict | None = None
    problem: str = ""


@dataclass
class RunData:
    """Everything the report shows, as read from a run folder (times as ISO-8601 strings)."""

    directory: Path
    command: str
    started: str | None
    finished: str | None
    interrupted: bool
    status: Status
    headline: str
    backends: list
    protocols: list
    backend_notes: dict  # label → BackendNote
    skipped: dict  # backend name → reason
    unsupported: list  # {"backend", "protocol", "reason"}
    entries: list  # Entry
    errors: list  # RunError
    known_defects: list  # {"id", "backend", "title", "evidence", "reproducer"}
    benchmark: Benchmark | None = None
    slugs: dict = field(default_factory=dict)  # protocol name → unique id fragment
    trends: list | None = None  # the nightly job's trends.json: one record per night kept
    trends_problem: str = ""
    rehearsal: str = ""  # the nightly job's regressions.json: why this night is not a board night
    timings: dict = field(default_factory=dict)  # results.json "timings": per-backend wall and compare s, report s

    @property
    def results(self):
        """The :class:`ProtocolResult` objects (what :func:`~stdp_validation.run.summary.run_status` reads)."""
        return [e.result for e in self.entries]

    def entries_for(self, protocol):
        return [e for e in self.entries if e.protocol == protocol]


def load_run(run_directory, benchmark_json=None) -> RunData:
    """Read ``run_directory/results.json``, the observations it names and a benchmark file.

    Raises :class:`ParameterError` when results.json is missing, not JSON, not version 2, or
    does not match ``results.schema.json`` (the message names the field).
    """
    directory = Path(run_directory)
    source = directory / "results.json"
    raw = read_json(source, "results")
    if not isinstance(raw, dict):
        raise ParameterError(f"results file {str(source)!r} must hold a JSON object; got {type(raw).__name__}")
    version = raw.get("format_version")
    if version != RESULTS_FORMAT_VERSION:
        raise ParameterError(
            f"results file {str(source)!r}: format_version must be {RESULTS_FORMAT_VERSION}; got {version!r} "
            "(re-run the validation, or re-validate its observations, to write a version-2 results.json)"
        )
    validate(raw, "results", f"results file {str(source)!r}")  # names a missing, unknown or mistyped field
    entries = [Entry(index, _result(data, index, source)) for index, data in enumerate(_list(raw, "results", source))]
    cache = {}
    for entry in entries:
        entry.observation, entry.problem = _observation(directory, entry.result, cache)
    errors = [_run_error(data, index, source) for index, data in enumerate(_list(raw, "errors", source))]
    protocols = _names(raw.get("protocols"), [e.protocol for e in entries], [e.protocol for e in errors])
    backends = _names(raw.get("backends"), [e.label for e in entries])
    run = RunData(
        directory=directory,
        command=str(raw.get("command") or ""),
        started=raw.get("started"),
        finished=raw.get("finished"),
        interrupted=bool(raw.get("interrupted")),
        status=Status.NOT_RUN,
        headline="",
        backends=backends,
        protocols=protocols,
        backend_notes=_backend_notes(raw.get("backend_notes") or {}),
        skipped={str(k): str(v) for k, v in (raw.get("skipped_backends") or {}).items()},
        unsupported=[u for u in raw.get("unsupported") or [] if isinstance(u, dict)],
        entries=entries,
        errors=errors,
        known_defects=[d for d in raw.get("known_defects") or [] if isinstance(d, dict)],
        slugs=unique_slugs(protocols),
        timings=raw.get("timings") or {},
    )
    run.status, run.headline = _status(raw, run)
    run.benchmark = load_benchmark(directory, benchmark_json)
    run.trends, run.trends_problem = load_trends(directory)
    run.rehearsal = load_rehearsal(directory)
    return run


def load_rehearsal(directory):
    """The ``rehearsal`` sentence of a night's ``regressions.json`` ("" when none or unreadable)."""
    path = Path(directory) / "regressions.json"
    if not path.exists():
        return ""
    try:
        data = read_json(path, "regressions")
    except ParameterError:
        return ""
    return str(data.get("rehearsal") or "") if isinstance(data, dict) else ""


def load_trends(directory):
    """(nights, problem): the nightly job's ``trends.json`` of a night folder, if there is one."""
    path = Path(directory) / "trends.json"
    if not path.exists():
        return None, ""
    try:
        data = read_json(path, "trends")
        if not isinstance(data, list) or not all(isinstance(n, dict) and "night" in n for n in data):
            raise ValueError("not a list of nights")
    except (ParameterError, ValueError) as error:
        return None, f"{path.name}: {error}"
    return data, ""


def _list(raw, key, source):
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ParameterError(f"results file {str(source)!r}: field {key} must be a list of objects")
    return value


def _result(data, index, source):
    try:
        return ProtocolResult.from_dict(data)
    except (TypeError, ValueError, KeyError) as error:
        raise ParameterError(f"results file {str(source)!r}: results.{index} is not a valid result: {error}") from None


def _run_error(data, index, source):
    try:
        return RunError(**data)
    except TypeError as error:
        raise ParameterError(f"results file {str(source)!r}: errors.{index} is not a valid run error: "
                             f"{error}") from None


def _names(listed, *more):
    names = [str(n) for n in listed or [] if isinstance(n, (str, int, float))]
    for group in more:
        for name in group:
            if name not in names:
                names.append(name)
    return names


def unique_slugs(names):
    """Name → id fragment (:func:`~stdp_validation.results.io.slugify`), made unique with -2, -3 …"""
    slugs, used = {}, set()
    for name in names:
        base = slug = slugify(name)
        number = 1
        while slug in used:
            number += 1
            slug = f"{base}-{number}"
        used.add(slug)
        slugs[name] = slug
    return slugs


def _backend_notes(raw):
    notes = {}
    for label, data in raw.items():
        if not isinstance(data, dict):
            continue
        try:
            execution = Execution(data.get("execution"))
        except ValueError:
            continue
        notes[str(label)] = BackendNote(str(label), execution, str(data.get("note") or ""),
                                        dict(data.get("environment") or {}))
    return notes


def _status(raw, run):
    """The stored run status and headline; :func:`run_status` of the loaded results if absent."""
    try:
        status = Status(raw.get("status"))
    except ValueError:
        status = None
    headline = raw.get("headline")
    if status is not None and isinstance(headline, str) and headline:
        return status, headline
    from ..run.summary import run_status

    return run_status(run)


def _observation(directory, result, cache):
    """(Observation, "") or (None, why not) for ``result``; never raises."""
    name = result.observation_file
    if not name:
        return None, "no observation file recorded for this result"
    path = Path(name)
    if not path.is_absolute():
        path = directory / path
    key = str(path)
    if key not in cache:
        try:
            cache[key] = (Observation.load(path), "")
        except ParameterError as error:
            cache[key] = (None, str(error))
        except Exception as error:  # noqa: BLE001 - a broken file must not stop the report
            cache[key] = (None, f"observation file {key!r} could not be read: {type(error).__name__}: {error}")
    observation, problem = cache[key]
    if observation is None:
        return None, problem
    labels = [c.label for c in observation.protocol.cases]
    if observation.protocol.name != result.protocol or labels != [v.case for v in result.verdicts]:
        return None, (f"observation file {key!r} does not match its result (protocol "
                      f"{observation.protocol.name!r}, {len(labels)} cases; the result has {result.protocol!r}, "
                      f"{len(result.verdicts)} cases)")
    return observation, ""


def load_benchmark(directory, benchmark_json=None):
    """The pytest-benchmark file ``benchmark_json`` (default: ``benchmark.json`` in the folder
    when present), or ``None``; an unreadable file gives a :class:`Benchmark` with ``problem``."""
    if benchmark_json is not None:
        path = Path(benchmark_json)
    elif (Path(directory) / "benchmark.json").exists():
        path = Path(directory) / "benchmark.json"
    else:
        return None
    benchmark = Benchmark(str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
            raise ValueError("no 'benchmarks' list (not a pytest-benchmark JSON file?)")
        benchmark.data = data
    except (OSError, ValueError) as error:
        benchmark.problem = f"{type(error).__name__}: {error}"
    return benchmark
