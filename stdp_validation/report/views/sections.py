"""The remaining sections: known defects, timings and benchmarks, toolchain checks, and one
section per way of obtaining weights that is not a software simulation.

Timings in s (per case in ms). Toolchain checks are the observations'
:class:`~stdp_validation.results.observation.Check` objects, with the result's counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...results.observation import CheckKind
from ...results.status import Execution, Status
from .summary import environment_text, executions

#: Phases in the order a backend goes through them; others follow alphabetically.
PHASE_ORDER = ("setup", "build", "map", "load", "run", "readout", "end", "checks", "compare")


@dataclass(frozen=True)
class DefectRow:
    """A known defect of results.json (``listed``) or one only named by a verdict, with the
    cases that hit it as "label / protocol / rule: case"."""

    id: str
    backend: str
    title: str
    evidence: str
    reproducer: str
    hits: tuple
    listed: bool


def defect_rows(run):
    """(rows, cases hitting a defect): every listed defect, then unlisted ids that were hit."""
    hits = {}
    for entry in run.entries:
        for verdict in entry.verdicts:
            for defect in verdict.defects:
                where = f"{entry.label} / {entry.protocol} / {entry.rule}: {verdict.case}"
                hits.setdefault(str(defect), []).append(where)
    rows, listed = [], set()
    for d in run.known_defects:
        listed.add(str(d.get("id")))
        rows.append(DefectRow(str(d.get("id", "?")), str(d.get("backend", "")), str(d.get("title", "")),
                              str(d.get("evidence", "")), str(d.get("reproducer", "")),
                              tuple(hits.get(str(d.get("id")), ())), True))
    for defect in sorted(set(hits) - listed):
        rows.append(DefectRow(defect, "", "", "", "", tuple(hits[defect]), False))
    return rows, sum(len(h) for h in hits.values())


# -- timings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimingRow:
    label: str
    protocol: str
    rule: str
    values: tuple  # s per phase (None when the phase was not timed)
    total: float
    cases: int
    ms_per_case: float | None


@dataclass(frozen=True)
class TimingsPanel:
    """Stacked bars: one row per result (``labels``), one segment per phase (s)."""

    labels: tuple
    phases: tuple
    values: tuple  # per row, per phase, s (0 when not timed)


@dataclass(frozen=True)
class RunPhase:
    """One backend's share of the run: its whole wall-clock time (s), the part spent in its
    simulator's phases (the sum over its results' timings other than ``compare``) and in
    the comparisons with the reference."""

    label: str
    wall: float
    simulator: float
    compare: float


@dataclass(frozen=True)
class TimingsView:
    phases: tuple
    rows: tuple
    figure: object  # FigureSpec | None
    run_phases: tuple = ()  # RunPhase per backend label
    report_seconds: float | None = None  # drawing the report, when the command line recorded it


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def phases(entries):
    keys = []
    for entry in entries:
        for key, value in entry.result.timings.items():
            if key not in keys and _number(value):
                keys.append(key)
    return sorted(keys, key=lambda k: (PHASE_ORDER.index(k) if k in PHASE_ORDER else len(PHASE_ORDER), k))


def timings_view(run, names):
    entries = [e for e in run.entries if e.result.timings]
    keys = phases(entries)
    rows = []
    for entry in entries:
        values = tuple(float(v) if _number(v) else None for v in (entry.result.timings.get(k) for k in keys))
        total = sum(v for v in values if v is not None)
        cases = len(entry.verdicts)
        rows.append(TimingRow(entry.label, entry.protocol, entry.rule, values, total, cases,
                              1000.0 * total / cases if cases else None))
    figure = None
    if rows:
        several_rules = len({(r.label, r.protocol) for r in rows}) < len(rows)
        labels = tuple(f"{r.label} · {r.protocol}" + (f" · {r.rule}" if several_rules else "") for r in rows)
        panel = TimingsPanel(labels, tuple(keys), tuple(tuple(v or 0.0 for v in r.values) for r in rows))
        figure = names.add("timings", "timings", [panel], "timings per backend and protocol")
    run_phases = []
    for label, phase in (run.timings.get("backends") or {}).items():
        simulator = sum(float(v) for e in entries if e.label == label
                        for k, v in e.result.timings.items() if k != "compare" and _number(v))
        run_phases.append(RunPhase(label, float(phase.get("wall", 0.0)), simulator, float(phase.get("compare", 0.0))))
    report = run.timings.get("report")
    return TimingsView(tuple(keys), tuple(rows), figure, tuple(run_phases), float(report) if _number(report) else None)


@dataclass(frozen=True)
class TrendsPanel:
    """Per night (x): the worst error/tolerance and total seconds per backend label, and each
    sPyNNaker counter summed over the night's results."""

    nights: tuple
    worst: tuple  # (label, values per night; None where the label has no compared case)
    seconds: tuple  # (label, values per night)
    counters: tuple  # (counter, values per night)


@dataclass(frozen=True)
class TrendsView:
    problem: str
    panel: TrendsPanel | None
    figure: object


def _label(result_name):
    return result_name.split("/")[0]


def trends_view(run, names):
    """The nightly trends over the kept nights, or ``None`` outside the nightly archive."""
    if run.trends is None:
        return TrendsView(run.trends_problem, None, None) if run.trends_problem else None
    nights = tuple(n["night"] for n in run.trends)
    labels = sorted({_label(k) for n in run.trends for k in (n.get("worst_error_over_tolerance") or {})})
    counters = sorted({c for n in run.trends for values in (n.get("counters") or {}).values() for c in values})
    worst, seconds, counts = [], [], []
    for label in labels:
        w, t = [], []
        for night in run.trends:
            ratios = [v for k, v in (night.get("worst_error_over_tolerance") or {}).items()
                      if _label(k) == label and _number(v)]
            w.append(max(ratios) if ratios else None)
            t.append(sum(float(x) for k, phases in (night.get("timings") or {}).items() if _label(k) == label
                         for x in phases.values() if _number(x)))
        worst.append((label, tuple(w)))
        seconds.append((label, tuple(t)))
    for counter in counters:
        combine = max if counter.startswith("max_") else sum
        counts.append((counter, tuple(combine([c.get(counter, 0) for c in (n.get("counters") or {}).values()] or [0])
                                      for n in run.trends)))
    panel = TrendsPanel(nights, tuple(worst), tuple(seconds), tuple(counts))
    figure = names.add("trends", "trends", [panel], "worst error over tolerance, seconds and counters per night")
    return TrendsView("", panel, figure)


@dataclass(frozen=True)
class BenchmarkRow:
    name: str
    mean: float | None
    stddev: float | None
    min: float | None
    rounds: object
    extra: str  # extra_info as JSON text


@dataclass(frozen=True)
class BenchmarkView:
    source: str
    problem: str
    meta: str
    rows: tuple


def benchmark_view(run):
    """The pytest-benchmark table (s), or ``None`` when no benchmark file was given or found."""
    benchmark = run.benchmark
    if benchmark is None:
        return None
    if benchmark.data is None:
        return BenchmarkView(benchmark.source, benchmark.problem, "", ())
    rows = []
    for item in benchmark.data.get("benchmarks") or []:
        if not isinstance(item, dict):
            continue
        stats, extra = item.get("stats") or {}, item.get("extra_info") or {}
        rows.append(BenchmarkRow(str(item.get("fullname") or item.get("name", "?")), stats.get("mean"),
                                 stats.get("stddev"), stats.get("min"), stats.get("rounds"),
                                 json.dumps(extra, sort_keys=True, default=str) if extra else ""))
    info = benchmark.data.get("machine_info") or {}
    cpu = info.get("cpu").get("brand_raw") if isinstance(info.get("cpu"), dict) else None
    meta = ", ".join(str(x) for x in (benchmark.data.get("datetime"), info.get("node"), cpu,
                                      info.get("python_version")) if x)
    return BenchmarkView(benchmark.source, "", meta, tuple(rows))


# -- toolchain checks and non-simulated executions --------------------------------------------


@dataclass(frozen=True)
class CheckRow:
    name: str
    kind: CheckKind
    expected: str
    observed: str
    passed: bool | None
    reason: str
    css: str


@dataclass(frozen=True)
class CheckTable:
    """The checks of one result; ``counts`` are the result's (passed, failed, not_checked, divergences)."""

    label: str
    protocol: str
    slug: str
    rule: str
    execution: Execution
    counts: dict
    rows: tuple
    problem: str


def _value(value):
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _check_css(check):
    if check.failed:
        return "fail"
    if check.kind is CheckKind.DIVERGENCE:
        return "diff"
    if check.passed is None:
        return "notrun"
    return "known" if check.passed is False else "pass"


def check_tables(run):
    """A table per result whose observation has checks (or whose result counted some)."""
    tables = []
    for entry in run.entries:
        checks = entry.observation.checks if entry.observation is not None else []
        counted = any(int(entry.result.checks.get(k, 0)) for k in ("passed", "failed", "not_checked", "divergences"))
        if not checks and not counted:
            continue
        rows = tuple(CheckRow(c.name, c.kind, _value(c.expected), _value(c.observed), c.passed, c.reason,
                              _check_css(c)) for c in checks)
        tables.append(CheckTable(entry.label, entry.protocol, run.slugs[entry.protocol], entry.rule, entry.execution,
                                 dict(entry.result.checks), rows, entry.problem))
    return tables


@dataclass(frozen=True)
class ExecutionBackend:
    label: str
    note: str
    machine: str
    details: tuple  # (key, text) of the environment


@dataclass(frozen=True)
class ExecutionResult:
    label: str
    protocol: str
    slug: str
    rule: str
    status: Status
    counts: dict
    notes: tuple
    problem: str


@dataclass(frozen=True)
class ExecutionSection:
    """Everything obtained one way that is not a software simulation (board, emulator, toolchain)."""

    execution: Execution
    id: str
    backends: tuple
    results: tuple


def execution_sections(run):
    """A section per way of obtaining weights other than a software simulation that the run
    has: the labels with such results (backend note, environment) and those results."""
    labels = executions(run)
    sections = []
    for execution in Execution:
        if execution is Execution.SIMULATED:
            continue
        mine = [label for label, kinds in labels.items() if execution in kinds]
        if not mine:
            continue
        backends = []
        for label in mine:
            note = run.backend_notes.get(label)
            environment = note.environment if note else {}
            details = tuple((str(k), environment_text(v)) for k, v in environment.items() if k != "machine")
            backends.append(ExecutionBackend(label, note.note if note else "",
                                             str(environment.get("machine") or execution.label), details))
        results = tuple(ExecutionResult(e.label, e.protocol, run.slugs[e.protocol], e.rule, e.result.status,
                                        e.result.counts,
                                        tuple(dict.fromkeys(e.observation.notes)) if e.observation else (), e.problem)
                        for e in run.entries if e.execution is execution)
        sections.append(ExecutionSection(execution, f"execution-{execution.value}", tuple(backends), results))
    return sections
