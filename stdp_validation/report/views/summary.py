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
    """Backend labels sharing one way of obtaining weights ("label (protocol, …)" when only some
    of the label's results were obtained this way), with the backend notes that describe it."""

    execution: Execution
    labels: tuple
    notes: tuple


@dataclass(frozen=True)
class Banner:
    css: str
    headline: str
    executions: tuple


def executions(run):
    """Label → the ways its weights were obtained (Executions, in :class:`Execution` order):
    those of its results, else its backend note's. One label may have several, e.g. emulated
    results and toolchain-only ones for protocols its emulator cannot run."""
    found = {label: set() for label in run.backend_notes}
    for entry in run.entries:
        found.setdefault(entry.label, set()).add(entry.execution)
    for label, kinds in found.items():
        if not kinds:
            kinds.add(run.backend_notes[label].execution)
    return {label: tuple(k for k in Execution if k in kinds) for label, kinds in found.items()}


def banner(run):
    """The run's status and headline (as results.json gives them) and how weights were obtained."""
    lines = []
    labels = executions(run)
    for execution in Execution:
        members, notes = [], []
        for label, kinds in labels.items():
            if execution not in kinds:
                continue
            if len(kinds) == 1:
                members.append(label)
            else:
                protocols = [e.protocol for e in run.entries if e.label == label and e.execution is execution]
                members.append(f"{label} ({', '.join(protocols)})")
            note = run.backend_notes.get(label)
            if (execution is not Execution.SIMULATED and note is not None and note.note
                    and (note.execution is execution or note.execution not in kinds)):
                notes.append(note.note)
        if members:
            lines.append(ExecutionLine(execution, tuple(members), tuple(dict.fromkeys(notes))))
    return Banner(BANNER_CLASS.get(run.status, "known"), run.headline, tuple(lines))


@dataclass(frozen=True)
class SummaryRow:
    """One result row: counts, status and worst error/tolerance from the :class:`ProtocolResult`;
    ``checks`` is "passed/total" toolchain checks ("" when none); ``timestep`` in ms."""

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
    comparison: str


def summary_rows(run):
    rows = []
    for entry in run.entries:
        result = entry.result
        checks = result.checks
        total = sum(int(checks.get(k, 0)) for k in ("passed", "failed", "not_checked"))
        rows.append(SummaryRow(
            entry.label, entry.protocol, run.slugs[entry.protocol], entry.rule, entry.execution, result.status,
            len(result.verdicts), result.counts, result.worst_error_ratio,
            f"{checks.get('passed', 0)}/{total}" if total else "", result.protocol_parameters.get("timestep"),
            result.comparison,
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
    executions: tuple
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
    for label, kinds in executions(run).items():
        note = run.backend_notes.get(label)
        if note is not None:
            environment = note.environment
        else:
            observed = [e.observation for e in run.entries if e.label == label and e.observation is not None]
            environment = observed[0].environment if observed else {}
        versions = environment.get("versions") or {}
        columns = tuple(next((str(versions[k]) for k in keys if k in versions), "")
                        for keys in VERSION_COLUMNS.values())
        other = ", ".join(f"{k} {v}" for k, v in versions.items() if k not in known)
        extra = tuple((str(k), environment_text(v)) for k, v in environment.items()
                      if k not in ("versions", "platform", "machine"))
        rows.append(EnvironmentRow(label, kinds, str(environment.get("machine") or kinds[0].label), columns,
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
