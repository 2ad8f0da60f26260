"""The summary section: banner, result rows, environment per backend label, timesteps.

Counts, statuses and worst error/tolerance come from each
:class:`~stdp_validation.results.result.ProtocolResult`; the run's status and headline from
results.json (:func:`~stdp_validation.run.summary.run_status` when absent). Times in ms,
durations in s.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from ...results.status import Execution, Status

#: Banner colour of a run status.
BANNER_CLASS = {Status.PASS: "pass", Status.FAIL: "fail", Status.ERROR: "fail", Status.KNOWN_DEFECT: "known",
                Status.NOT_RUN: "known", Status.UNSUPPORTED: "known"}
#: Version keys shown in the environment table: column title → keys tried, in order.
VERSION_COLUMNS = {
    "Python": ("python",),
    "numpy": ("numpy",),
    "PyNN": ("PyNN", "pyNN", "pynn"),
    "Brian2": ("brian2", "Brian2"),
    "NEST": ("nest-simulator", "nest", "NEST"),
    "sPyNNaker": ("sPyNNaker", "spynnaker"),
}


@dataclass(frozen=True)
class ExecutionLine:
    """Backend labels sharing one way of obtaining weights, with their backend notes."""

    execution: Execution
    labels: tuple
    notes: tuple


@dataclass(frozen=True)
class Banner:
    css: str
    headline: str
    executions: tuple


def executions(run):
    """Label → Execution: from the backend notes, else from the label's results."""
    found = {label: note.execution for label, note in run.backend_notes.items()}
    for entry in run.entries:
        found.setdefault(entry.label, entry.execution)
    return found


def banner(run):
    """The run's status and headline (as results.json gives them) and how weights were obtained."""
    by_execution = {}
    for label, execution in executions(run).items():
        by_execution.setdefault(execution, []).append(label)
    lines = []
    for execution in Execution:
        labels = by_execution.get(execution)
        if labels:
            notes = () if execution is Execution.SIMULATED else tuple(
                run.backend_notes[label].note for label in labels
                if label in run.backend_notes and run.backend_notes[label].note)
            lines.append(ExecutionLine(execution, tuple(labels), notes))
    return Banner(BANNER_CLASS.get(run.status, "known"), run.headline, tuple(lines))


@dataclass(frozen=True)
class SummaryRow:
    """One result row: counts, status and worst error/tolerance from the :class:`ProtocolResult`."""

    label: str
    protocol: str
    slug: str
    rule: str
    execution: Execution
    status: Status
    cases: int
    counts: dict
    worst_ratio: float | None
    checks: str
    timestep: float | None
    delay: float | None
    t_stop: float | None
    comparison: str


def summary_rows(run):
    rows = []
    for entry in run.entries:
        result = entry.result
        checks = result.checks
        total = sum(int(checks.get(k, 0)) for k in ("passed", "failed", "not_checked"))
        parameters = result.protocol_parameters
        rows.append(SummaryRow(
            entry.label, entry.protocol, run.slugs[entry.protocol], entry.rule, entry.execution, result.status,
            len(result.verdicts), result.counts, result.worst_error_ratio,
            f"{checks.get('passed', 0)}/{total}" if total else "", parameters.get("timestep"),
            parameters.get("delay"), parameters.get("t_stop"), result.comparison,
        ))
    return rows


def duration(run):
    """Seconds from start to finish, or ``None`` (not finished, or times unreadable)."""
    try:
        started, finished = _dt.datetime.fromisoformat(run.started), _dt.datetime.fromisoformat(run.finished)
    except (TypeError, ValueError):
        return None
    return (finished - started).total_seconds()


@dataclass(frozen=True)
class EnvironmentRow:
    label: str
    execution: Execution
    machine: str
    versions: tuple  # one text per VERSION_COLUMNS column ("" when unknown)
    platform: str
    other_versions: str
    extra: tuple  # (key, text)


def environment_text(value):
    """An environment value as one line of text."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value)) or "none"
    return str(value)


def environment_rows(run):
    """One row per backend label: versions, platform, machine and the rest of its environment,
    from ``backend_notes`` (else from the label's first readable observation)."""
    known = {key for keys in VERSION_COLUMNS.values() for key in keys}
    rows = []
    for label, execution in executions(run).items():
        note = run.backend_notes.get(label)
        if note is not None:
            environment = note.environment
        else:
            observed = [e.observation for e in run.entries if e.label == label and e.observation is not None]
            environment = observed[0].environment if observed else {}
        versions = environment.get("versions") or {}
        columns = tuple(next((str(versions[k]) for k in keys if k in versions), "") for keys in VERSION_COLUMNS.values())
        other = ", ".join(f"{k} {v}" for k, v in versions.items() if k not in known)
        extra = tuple((str(k), environment_text(v)) for k, v in environment.items() if k not in ("versions", "platform", "machine"))
        rows.append(EnvironmentRow(label, execution, str(environment.get("machine") or execution.label), columns,
                                   str(environment.get("platform") or ""), other, extra))
    return rows


def timesteps(run):
    """(protocol, sorted distinct timesteps in ms) for every protocol with results."""
    out = []
    for name in run.protocols:
        steps = sorted({e.result.protocol_parameters["timestep"] for e in run.entries_for(name)
                        if e.result.protocol_parameters.get("timestep") is not None})
        out.append((name, steps))
    return out
