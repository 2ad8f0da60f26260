"""The main job: run protocols on backends, compare, and keep every finished result on disk.

Each backend gets every protocol it supports at once (:meth:`Backend.run` decides how they
are batched into simulations). Every observation is written as soon as the backend yields it
and ``results.json`` is rewritten atomically after every step, so a crash or Ctrl-C mid-run
loses nothing that finished. A protocol that raises is recorded with its cause and the run
goes on with the others.
"""

from __future__ import annotations

import datetime as _dt
import os
import queue as _queue
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..backends import DEFAULT_BACKENDS, get_backend, parse_backend, unavailable_reason
from ..errors import ParameterError
from ..protocols import (
    MATRIX_PROTOCOLS,
    PROTOCOL_FAMILIES,
    PROTOCOL_PARAMETERS,
    PROTOCOLS,
    RULE_LABELS,
    get_protocols,
    get_rule,
    rule_variant,
)
from ..results.compare import evaluate
from ..results.defects import KNOWN_DEFECTS, NETWORK_DEFECTS
from ..results.io import json_text, slugify, write_atomic
from ..results.observation import RunError
from ..results.result import ProtocolResult
from .summary import run_status

#: Version of results.json (version 1 had no execution field and copied each observation's
#: environment, notes and checks; results now refer to the observation files).
RESULTS_FORMAT_VERSION = 2
DEFAULT_PROTOCOLS = tuple(PROTOCOLS) + tuple(PROTOCOL_FAMILIES)


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


@dataclass
class ValidationRun:
    """Everything one run produced; written to ``results.json`` after every step."""

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
    #: Backend label → {execution, note, environment}: said once per backend, not per result.
    backend_notes: dict = field(default_factory=dict)
    #: Wall-clock seconds per phase of the whole run: ``backends`` (label → ``{"wall": s,
    #: "compare": s}``: everything the backend did, and the comparisons within it) and
    #: ``report`` (the HTML report, set by the command line after drawing it).
    timings: dict = field(default_factory=lambda: {"backends": {}, "report": None})
    #: id(result) → (result, its JSON text): see :meth:`save`.
    _texts: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def results_file(self):
        return self.directory / "results.json"

    @property
    def status(self):
        return run_status(self)[0]

    @property
    def failed(self):
        """Whether the run must exit 1: a failure, an error, or nothing validated."""
        return self.status.value in ("fail", "error", "not_run")

    def to_dict(self, results=True):
        """The content of ``results.json`` (``results=False``: without the results list)."""
        status, headline = run_status(self)
        return {
            "format_version": RESULTS_FORMAT_VERSION,
            "command": self.command,
            "started": self.started,
            "finished": self.finished,
            "interrupted": self.interrupted,
            "status": status.value,
            "headline": headline,
            "backends": self.backends,
            "protocols": self.protocols,
            "backend_notes": self.backend_notes,
            "skipped_backends": self.skipped,
            "unsupported": self.unsupported,
            "timings": self.timings,
            **({"results": [r.to_dict() for r in self.results]} if results else {}),
            "errors": [e.to_dict() for e in self.errors],
            "known_defects": [d.to_dict() for d in KNOWN_DEFECTS + NETWORK_DEFECTS],
        }

    def save(self):
        """Rewrite ``results.json`` (atomically). Each result's JSON text is made once and
        reused, so saving after every step costs the file's size, not a re-serialisation of
        every earlier result (which made a 155-observation run spend minutes here)."""
        marker = f"results-{uuid.uuid4().hex}"
        data = {}
        for key, value in self.to_dict(results=False).items():
            if key == "errors":
                data["results"] = marker  # where to_dict() puts the results
            data[key] = value
        text = json_text(data, indent=1)
        results = "[" + ",".join(self._result_text(result) for result in self.results) + "]"
        write_atomic(self.results_file, text.replace(f'"{marker}"', results, 1))

    def _result_text(self, result):
        cached = self._texts.get(id(result))
        if cached is None or cached[0] is not result:
            cached = self._texts[id(result)] = (result, json_text(result.to_dict(), indent=1))
        return cached[1]

    def record(self, outcome, observation_file=None):
        """Add one observation (compared here) or :class:`RunError`; returns the result or error."""
        if isinstance(outcome, RunError):
            self.errors.append(outcome)
            return outcome
        result = outcome if isinstance(outcome, ProtocolResult) else evaluate(outcome, observation_file)
        self.results.append(result)
        return result


@dataclass
class Plan:
    """What a run will do, decided and checked before anything is simulated."""

    protocols: dict  # (protocol name, rule label) → Protocol
    runners: dict  # backend label → Backend instance
    skipped: dict  # backend name → why it cannot run here
    unsupported: list  # {"backend", "protocol", "reason"}


def plan_validation(backends=None, protocols=None, *, rule=None, seed=None, backend_options=None,
                    timestep=None, delay=None, initial_weight=None, network_size=None, network_duration=None,
                    rule_matrix=True):
    """Check every input and prepare the run before anything is simulated (:class:`Plan`).

    Without ``rule``, the protocols of :data:`~stdp_validation.protocols.MATRIX_PROTOCOLS` run
    under every standard rule (:data:`~stdp_validation.protocols.RULE_LABELS`, each keeping the
    protocol's own τ±, A± and bounds), the others under their own rule; ``rule_matrix=False``
    runs every protocol under its own rule only. ``rule``: an
    :class:`~stdp_validation.rules.STDPRule` or a label of
    :data:`~stdp_validation.protocols.RULES` that replaces the synthetic protocols' own rule
    (the seed network keeps its rule: it reproduces the notebook exactly). ``timestep`` (ms),
    ``delay`` (ms) and ``initial_weight`` (the rule's weight units) go to the protocols that
    take them (:data:`~stdp_validation.protocols.PROTOCOL_PARAMETERS`). ``network_size``
    ``(n_inputs, n_neurons)`` and ``network_duration`` (ms) size the ``network`` protocol.
    Raises :class:`ParameterError` for unknown names or bad options.
    """
    specs = [parse_backend(spec) for spec in dict.fromkeys(backends or DEFAULT_BACKENDS)]
    names = list(dict.fromkeys(protocols or DEFAULT_PROTOCOLS))
    if rule is not None:
        rule = get_rule(rule) if isinstance(rule, str) else rule
    built = {}  # (protocol name, rule label) → Protocol
    n_inputs, n_neurons = network_size if network_size is not None else (None, None)
    for name in names:
        for p in get_protocols(name, seed=seed, timestep=timestep, delay=delay, n_inputs=n_inputs,
                               n_neurons=n_neurons, duration=network_duration):
            if rule is not None:
                variants = [p if p.network == "seed" else p.with_rule(rule)]
            elif rule_matrix and name in MATRIX_PROTOCOLS:
                variants = [p.with_rule(rule_variant(p.rule, label)) for label in RULE_LABELS]
            else:
                variants = [p]
            for variant in variants:
                if initial_weight is not None and "initial_weight" in PROTOCOL_PARAMETERS.get(name, ()):
                    variant = variant.with_initial_weight(initial_weight)  # in the rule's units and bounds
                built[variant.name, variant.rule.label] = variant
    options = backend_options or {}
    runners, skipped, unsupported = {}, {}, []
    for name, spec_options in specs:
        reason = unavailable_reason(name)
        if reason:
            skipped[name] = reason
            continue
        try:
            backend = get_backend(name, **{**options.get(name, {}), **spec_options})
        except TypeError as error:  # an option the backend does not have
            raise ParameterError(f"backend {name!r}: {error}") from None
        if backend.label in runners:
            continue  # the same backend and options given twice
        runners[backend.label] = backend
        for protocol in built.values():
            reason = backend.supports(protocol.rule, protocol)
            if reason is not None:
                unsupported.append({"backend": backend.label, "protocol": protocol.name,
                                    "rule": protocol.rule.label, "reason": reason})
    return Plan(built, runners, skipped, unsupported)


def observation_name(label, protocol, rule):
    """File name of an observation in a run folder's ``observations/``."""
    return f"{slugify(label)}-{slugify(protocol)}-{slugify(rule)}.json"


def run_validation(backends=None, protocols=None, out_dir="reports", command=None, progress=None, rule=None,
                   seed=None, backend_options=None, folder_name=None, out_option="--out", timestep=None, delay=None,
                   initial_weight=None, network_size=None, network_duration=None, rule_matrix=True, jobs=1):
    """Run every protocol on every available backend; return the :class:`ValidationRun`.

    ``jobs`` > 1 runs up to that many backends at once, each in its own process (the results
    are the same; only their order of arrival differs, and results.json keeps the backends'
    order).

    The run writes ``out_dir/<folder_name>`` (default: an ISO-8601 timestamp). ``progress`` is
    called with one line of text per step (default: print to stderr). Everything is checked
    (names, rule, seed, options, output folder) before anything runs.
    """
    plan = plan_validation(backends, protocols, rule=rule, seed=seed, backend_options=backend_options,
                           timestep=timestep, delay=delay, initial_weight=initial_weight,
                           network_size=network_size, network_duration=network_duration, rule_matrix=rule_matrix)
    progress = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    directory = new_folder(out_dir, folder_name or utc_timestamp(), out_option)
    run = ValidationRun(directory, command or "stdp-validate", list(plan.runners) + list(plan.skipped),
                        list(dict.fromkeys(name for name, _ in plan.protocols)), skipped=plan.skipped,
                        unsupported=plan.unsupported)
    for label, backend in plan.runners.items():
        run.backend_notes[label] = {"execution": backend.execution.value, "note": backend.execution_note(),
                                    "environment": backend.environment()}
    for name, reason in plan.skipped.items():
        progress(f"[{name}] skipped: {reason}")
    run.save()
    not_supported = {(u["backend"], u["protocol"], u["rule"]): u["reason"] for u in plan.unsupported}
    tasks = []
    for label, backend in plan.runners.items():
        selected = [p for key, p in plan.protocols.items() if (label, *key) not in not_supported]
        for reason in dict.fromkeys(reason for (b, _, _), reason in not_supported.items() if b == label):
            which = [f"{name} ({rule})" for (b, name, rule), r in not_supported.items() if b == label and r == reason]
            progress(f"[{label}] not supported: {', '.join(which)}: {reason}")
        if selected:
            tasks.append((label, backend, selected))

    def announce(label, selected):
        progress(f"[{label}] {len(selected)} protocol runs ({', '.join(dict.fromkeys(p.name for p in selected))}): "
                 f"{sum(len(p.cases) for p in selected)} cases ...")
        return run.timings["backends"].setdefault(label, {"wall": 0.0, "compare": 0.0})

    def receive(label, entry, seconds, phase, started):
        """Keep one finished result (or error) of ``label``: results.json is rewritten at once."""
        run.record(entry)
        if not isinstance(entry, RunError):
            phase["compare"] += entry.timings.get("compare", 0.0)
        phase["wall"] = time.perf_counter() - started
        run.save()
        if isinstance(entry, RunError):
            progress(f"[{label}] {entry.protocol} ({entry.rule}): FAILED with {entry.error}")
        else:
            progress(f"[{label}] {entry.protocol} ({entry.rule}): {result_line(entry)} ({seconds:.1f} s)")

    try:
        if jobs > 1 and len(tasks) > 1:
            _run_in_processes(tasks, min(jobs, len(tasks)), directory, announce, receive)
        else:
            for label, backend, selected in tasks:
                phase = announce(label, selected)
                started = time.perf_counter()
                for entry, seconds in _results(label, backend, selected, directory):
                    receive(label, entry, seconds, phase, started)
    except KeyboardInterrupt:
        run.interrupted = True
        progress("interrupted: results so far are kept")
    finally:
        # Arrival order depends on which process finished first: keep the plan's backend order.
        order = {label: index for index, label in enumerate(plan.runners)}
        run.results.sort(key=lambda r: order.get(r.backend_label, len(order)))
        run.errors.sort(key=lambda e: order.get(e.backend, len(order)))
        run.finished = utc_now()
        run.save()
    return run


def _results(label, backend, selected, directory):
    """(result or RunError, seconds the backend took for it) for each protocol, as the backend
    yields them: each observation is written to ``observations/`` and compared here."""
    started = time.perf_counter()
    for outcome in backend.run(selected):
        seconds = time.perf_counter() - started
        if isinstance(outcome, RunError):
            yield outcome, seconds
        else:
            path = directory / "observations" / observation_name(label, outcome.protocol.name, outcome.rule.label)
            outcome.save(path)
            compared = time.perf_counter()
            result = evaluate(outcome, str(path.relative_to(directory)))
            result.timings["compare"] = time.perf_counter() - compared
            yield result, seconds
        started = time.perf_counter()


def _backend_process(label, backend, selected, directory, queue):
    """One backend's part of the run in its own process: results go back through ``queue``."""
    done = set()
    try:
        for entry, seconds in _results(label, backend, selected, directory):
            done.add((entry.protocol, entry.rule))
            queue.put(("entry", label, entry, seconds))
        queue.put(("done", label, None, 0.0))
    except KeyboardInterrupt:
        queue.put(("interrupted", label, None, 0.0))
    except BaseException as error:  # noqa: BLE001 - reported as the protocols' error, never lost
        for protocol in selected:
            if (protocol.name, protocol.rule.label) not in done:
                queue.put(("entry", label, RunError.from_exception(label, protocol.name, error, protocol.rule.label), 0.0))
        queue.put(("done", label, None, 0.0))


#: Seconds between checks that every backend process is still alive.
POLL_SECONDS = 1.0


def _run_in_processes(tasks, jobs, directory, announce, receive):
    """Run ``tasks`` (label, backend, protocols) in up to ``jobs`` processes at once.

    Each backend runs in a fresh process (``spawn``: nothing of this process's simulator
    state or threads is inherited), writes and compares its observations there and sends the
    results back; this process records them as they arrive. A process that dies without
    finishing becomes a :class:`RunError` for each protocol it did not report; Ctrl-C stops
    every process and keeps what arrived."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    waiting = list(tasks)
    running = {}  # label → (process, protocols, reported (name, rule) pairs, phase, started)
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                label, backend, selected = waiting.pop(0)
                phase = announce(label, selected)
                process = context.Process(target=_backend_process, args=(label, backend, selected, directory, queue),
                                          name=f"stdp-validation {label}", daemon=True)
                process.start()
                running[label] = (process, selected, set(), phase, time.perf_counter())
            try:
                kind, label, entry, seconds = queue.get(timeout=POLL_SECONDS)
            except _queue.Empty:
                for label, (process, selected, reported, phase, started) in list(running.items()):
                    if not process.is_alive():
                        _lost(label, process, selected, reported, phase, started, receive)
                        del running[label]
                continue
            process, selected, reported, phase, started = running[label]
            if kind == "entry":
                reported.add((entry.protocol, entry.rule))
                receive(label, entry, seconds, phase, started)
            elif kind == "interrupted":
                raise KeyboardInterrupt
            else:  # done
                process.join()
                del running[label]
    finally:
        for process, *_ in running.values():
            if process.is_alive():
                process.terminate()
            process.join(5)


def _lost(label, process, selected, reported, phase, started, receive):
    """Record the protocols of a backend process that exited without reporting them."""
    error = RuntimeError(f"the {label} process exited with code {process.exitcode} before it reported this protocol")
    for protocol in selected:
        if (protocol.name, protocol.rule.label) not in reported:
            receive(label, RunError.from_exception(label, protocol.name, error, protocol.rule.label), 0.0, phase,
                    started)


def result_line(result):
    """One line for the progress log."""
    counts = result.counts
    if not result.execution.learned:
        return (f"{result.execution.label}, no weights to compare ({counts['not_run']} cases); toolchain checks: "
                f"{result.checks.get('passed', 0)} passed, {result.failed_checks} failed")
    return (f"{counts['pass']} passed, {counts['fail']} failed, {counts['known_defect']} known defects"
            + (f", {counts['not_run']} not run" if counts["not_run"] else ""))
