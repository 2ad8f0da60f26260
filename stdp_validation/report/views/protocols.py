"""The protocol sections and the seed-network section: setups, case rows, figure panels.

Every case row comes from a :class:`~stdp_validation.results.result.Verdict` (expected,
observed, error, tolerance, error/tolerance, status, defects) and, when the observation was
read, its intended and recorded spike times (ms). Weight figures show learned results only
(:attr:`Execution.learned`); the reference curves are ``result.reference`` as the comparison
stored them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...results.status import Execution, Status
from .common import FigureNames, Points, panel_title, points, window_panel, zero_crossing_rows
from .network import distribution

#: Case tables longer than this start collapsed (unless a case failed).
OPEN_TABLE_ROWS = 12
#: Cases drawn per seed figure (one column each).
SEED_CASES_DRAWN = 6


@dataclass(frozen=True)
class SetupRow:
    """How one result was run (times in ms); ``problem`` says why its observation is missing."""

    label: str
    rule: str
    execution: Execution
    conventions: str
    delay: float | None
    timestep: float | None
    t_stop: float | None
    trailing_pre_gap: float | None
    observation_file: str | None
    problem: str


@dataclass(frozen=True)
class Note:
    """A note to show with a result: its backend's (``source="backend"``) or its observation's."""

    label: str
    execution: Execution
    text: str
    source: str


@dataclass(frozen=True)
class CaseRow:
    """One verdict with its spike times (ms; ``None`` without an observation); ``lsb_difference``
    is stored observed − stored expected for stored-integer comparisons."""

    number: int
    case: str
    status: Status
    intended_pre: tuple | None
    intended_post: tuple | None
    recorded_pre: tuple | None
    recorded_post: tuple | None
    post_timing_error: float | None
    post_timing_note: str
    lag: float | None
    expected: float | None
    observed: float
    error: float | None
    tolerance: float | None
    ratio: float | None
    defects: tuple
    reason: str
    stored_expected: int | None
    stored_observed: int | None
    lsb_difference: int | None


@dataclass(frozen=True)
class CaseTable:
    """A result's cases; ``summarised``: rows left out (all passed, under a secondary rule of a
    rule matrix), ``worst`` the worst error/tolerance among them."""

    label: str
    rule: str
    execution: Execution
    comparison: str
    tolerance: str
    counts: dict
    stored: bool
    open: bool
    rows: tuple
    summarised: bool = False
    worst: float | None = None


@dataclass(frozen=True)
class MatrixCell:
    status: Status
    passed: int
    total: int
    worst: float | None


@dataclass(frozen=True)
class RuleMatrix:
    """Rule × backend label: each result's status and counts (``None``: not run there)."""

    labels: tuple
    rows: tuple  # (rule, (MatrixCell | None per label))


@dataclass(frozen=True)
class PointsPanel:
    """A scatter or residual panel of one result."""

    title: str
    label: str
    points: Points


@dataclass(frozen=True)
class FrequencySeries:
    """Δw against pairing frequency for one backend label and one pairing lag."""

    label: str
    lag: float  # ms, emission Δt = t_post − t_pre of the pairs
    frequencies: tuple  # Hz
    observed: tuple  # Δw = final − initial weight, weight units
    expected: tuple


@dataclass(frozen=True)
class FrequencyPanel:
    parameter_name: str
    series: tuple


def frequency_panel(entries, parameter_name):
    """The pairing protocol's classic figure: Δw against frequency, per lag and backend
    (Δw from the verdicts: observed and expected final weight minus the initial weight)."""
    series = []
    for entry in entries:
        if entry.observation is None:
            continue
        cases = entry.observation.protocol.cases
        by_lag = {}
        for case, verdict in zip(cases, entry.verdicts):
            if verdict.parameter is None or not case.pre_spike_times or not case.post_drive_times:
                continue
            lag = round(case.post_drive_times[0] - case.pre_spike_times[0], 9)
            by_lag.setdefault(lag, []).append((verdict.parameter, verdict.observed - verdict.initial_weight,
                                               None if verdict.expected is None
                                               else verdict.expected - verdict.initial_weight))
        for lag, values in sorted(by_lag.items()):
            values.sort()
            series.append(FrequencySeries(entry.label, lag, *(tuple(v) for v in zip(*values))))
    return FrequencyPanel(parameter_name, tuple(series)) if series else None


@dataclass(frozen=True)
class ProtocolView:
    name: str
    slug: str
    description: str
    parameter_name: str
    errors: tuple  # RunError
    setups: tuple
    failed: tuple  # (case, label)
    failed_checks: tuple  # (label, count)
    notes: tuple
    window: object  # FigureSpec | None
    zero_crossings: tuple
    scatter: object
    residuals: object
    tables: tuple
    frequency: object = None  # FigureSpec of Δw against pairing frequency, or None
    matrix: object = None  # RuleMatrix when the protocol ran under several rules
    primary_rule: str | None = None  # the rule whose results get figures and full case tables
    distributions: tuple = ()  # network.Distribution per learned result of a convergent network
    distribution_figure: object = None  # FigureSpec of their histograms, or None


def backend_notes(run, entries):
    """Backend notes of non-simulated labels (once each), then every observation note."""
    notes, seen = [], set()
    for entry in entries:
        note = run.backend_notes.get(entry.label)
        if entry.execution is not Execution.SIMULATED and entry.label not in seen and note is not None and note.note:
            seen.add(entry.label)
            notes.append(Note(entry.label, entry.execution, note.note, "backend"))
    for entry in entries:
        if entry.observation is not None:
            for text in dict.fromkeys(entry.observation.notes):
                notes.append(Note(entry.label, entry.execution, text, "observation"))
    return notes


def setup_row(entry):
    observation, parameters = entry.observation, entry.result.protocol_parameters
    return SetupRow(
        entry.label, entry.rule, entry.execution, entry.result.conventions,
        parameters.get("delay"), parameters.get("timestep"), parameters.get("t_stop"),
        observation.protocol.trailing_pre_gap if observation is not None else None,
        entry.result.observation_file, entry.problem,
    )


def case_rows(entry):
    """A :class:`CaseRow` per verdict, in case order."""
    observation = entry.observation
    trains = observation.synapse_trains() if observation is not None else None
    rows = []
    for index, verdict in enumerate(entry.verdicts):
        times = (None,) * 4  # intended pre, intended post, recorded pre, recorded post
        if observation is not None:
            times = (observation.protocol.cases[index].pre_spike_times, tuple(trains[2][index]),
                     tuple(trains[0][index]), tuple(trains[1][index]))
        stored = verdict.stored_expected is not None and verdict.stored_observed is not None
        rows.append(CaseRow(
            index + 1, verdict.case, verdict.status, *times,
            verdict.post_timing_error, verdict.post_timing_note, verdict.lag, verdict.expected, verdict.observed,
            verdict.error, verdict.tolerance, verdict.error_ratio, tuple(verdict.defects), verdict.reason,
            verdict.stored_expected, verdict.stored_observed,
            verdict.stored_observed - verdict.stored_expected if stored else None,
        ))
    return rows


def case_table(entry, detailed=True):
    """The case table of a result; without ``detailed``, a result whose every case passed is
    summarised by its counts (its verdicts stay in results.json)."""
    result = entry.result
    failed = result.count(Status.FAIL)
    if not detailed and result.counts["pass"] == len(result.verdicts):
        return CaseTable(entry.label, entry.rule, entry.execution, result.comparison, result.tolerance, result.counts,
                         False, False, (), summarised=True, worst=result.worst_error_ratio)
    rows = case_rows(entry)
    return CaseTable(entry.label, entry.rule, entry.execution, result.comparison, result.tolerance, result.counts,
                     any(r.lsb_difference is not None for r in rows), bool(failed) or len(rows) <= OPEN_TABLE_ROWS,
                     tuple(rows))


#: The rule a rule matrix draws figures and full case tables for (others: when a case fails).
PRIMARY_RULE = "pair-additive"


def primary_rule(entries):
    """The rule whose results a protocol section shows in full: :data:`PRIMARY_RULE` when
    present, else the first rule (a run under one ``--rule``)."""
    rules = list(dict.fromkeys(e.rule for e in entries))
    return PRIMARY_RULE if PRIMARY_RULE in rules else (rules[0] if rules else None)


def rule_matrix(entries):
    """The :class:`RuleMatrix` of a protocol's results, or ``None`` for a single rule."""
    rules = list(dict.fromkeys(e.rule for e in entries))
    if len(rules) < 2:
        return None
    labels = tuple(dict.fromkeys(e.label for e in entries))
    cells = {(e.rule, e.label): MatrixCell(e.result.status, e.result.counts["pass"], len(e.result.verdicts),
                                           e.result.worst_error_ratio) for e in entries}
    return RuleMatrix(labels, tuple((rule, tuple(cells.get((rule, label)) for label in labels)) for rule in rules))


def protocol_view(run, name, names: FigureNames):
    """Everything the section of protocol ``name`` shows; its figures are added to ``names``."""
    slug = run.slugs[name]
    entries = run.entries_for(name)
    described = next((e.observation.protocol for e in entries if e.observation is not None), None)
    primary = primary_rule(entries)
    # Figures: the primary rule's results, and any other with a failed case (the rule matrix
    # table gives every result's counts).
    learned = [e for e in entries if e.execution.learned and e.verdicts
               and (e.rule == primary or e.result.count(Status.FAIL))]
    windows = [(e, panel) for e in learned for panel in [window_panel(e)] if panel is not None]
    window = None
    if windows:
        window = names.add(f"{slug}-window", "window", [panel for _, panel in windows],
                           f"STDP window of protocol {name}")
    in_window = {e for e, _ in windows}
    scattered = [PointsPanel(panel_title(e), e.label, points(e)) for e in learned if e not in in_window]
    scatter = None
    if scattered:
        scatter = names.add(f"{slug}-observed-vs-expected", "scatter", scattered,
                            f"observed against expected weights, protocol {name}")
    residuals = None
    if learned:
        residuals = names.add(f"{slug}-residuals", "residuals",
                              [PointsPanel(panel_title(e), e.label, points(e)) for e in learned],
                              f"residuals of protocol {name}")
    frequency = None
    if described is not None and "frequency" in described.parameter_name and learned:
        panel = frequency_panel(learned, described.parameter_name)
        if panel is not None:
            frequency = names.add(f"{slug}-frequency", "frequency", [panel],
                                  f"weight change against pairing frequency, protocol {name}")
    distributions = tuple(d for d in (distribution(e) for e in learned) if d is not None)
    distribution_figure = None
    if distributions:
        distribution_figure = names.add(f"{slug}-weights", "distribution", distributions,
                                        f"initial and final weight distributions, protocol {name}")
    return ProtocolView(
        name=name, slug=slug, description=described.description if described else "",
        parameter_name=described.parameter_name if described else "",
        errors=tuple(error for error in run.errors if error.protocol == name),
        setups=tuple(setup_row(e) for e in entries),
        failed=tuple((v.case, e.label) for e in entries for v in e.verdicts if v.status is Status.FAIL),
        failed_checks=tuple((e.label, e.result.failed_checks) for e in entries if e.result.failed_checks),
        notes=tuple(backend_notes(run, entries)), window=window,
        zero_crossings=tuple(zero_crossing_rows([e for e, _ in windows])), scatter=scatter, residuals=residuals,
        tables=tuple(case_table(e, detailed=e.rule == primary) for e in entries), frequency=frequency,
        matrix=rule_matrix(entries), primary_rule=primary,
        distributions=distributions, distribution_figure=distribution_figure,
    )


# -- seed network -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Trace:
    """A recorded variable of one case's pre and post cells (``units`` as recorded, times in ms)."""

    variable: str
    units: str
    times: tuple
    pre: tuple | None
    post: tuple | None


@dataclass(frozen=True)
class SeedCase:
    """One drawn case: drives and recorded spikes (ms), traces, the reference trajectory
    (``result.reference["trajectories"]``: weight after each update, at synapse-side times)."""

    label: str
    status: Status
    intended_pre: tuple
    intended_post: tuple
    recorded_pre: tuple
    recorded_post: tuple
    traces: tuple
    trajectory_times: tuple | None
    trajectory_weights: tuple | None
    initial: float
    observed: float


@dataclass(frozen=True)
class SeedPanel:
    label: str
    cases: tuple
    t_stop: float
    w_min: float
    w_max: float


@dataclass(frozen=True)
class SeedRow:
    case: str
    status: Status
    intended_pre: tuple
    intended_post: tuple
    recorded_pre: tuple
    recorded_post: tuple
    initial: float
    predicted: float | None
    observed: float


@dataclass(frozen=True)
class SeedEntry:
    label: str
    protocol: str
    rule: str
    execution: Execution
    timestep: float
    delay: float
    figure: object  # FigureSpec
    rows: tuple


#: First spikes listed per cell in the side-by-side table.
FIRST_SPIKES_SHOWN = 3


@dataclass(frozen=True)
class CellActivity:
    """One cell's recorded activity on one backend: spike count, first spikes (ms), peak of
    each recorded trace (variable → (peak, units))."""

    n_spikes: int
    first_spikes: tuple
    peaks: tuple


@dataclass(frozen=True)
class ArithmeticRow:
    """One case of the seed network on every backend side by side: (label, execution, pre
    cell, post cell) per backend. Reported, not judged: the backends' neuron arithmetic differs."""

    case: str
    backends: tuple


@dataclass(frozen=True)
class SeedView:
    entries: tuple
    #: (label, protocol, why it is not drawn)
    not_drawn: tuple
    #: per protocol name: the cases on every drawn backend, side by side
    arithmetic: tuple = ()
    first_shown: int = FIRST_SPIKES_SHOWN


def _activity(observation, side, index):
    trains = observation.pre_spike_times if side == "pre" else observation.post_spike_times
    train = list(trains[index]) if index < len(trains) else []
    peaks = []
    for variable in [v for v in ORDER if v in observation.traces]:
        trace = observation.traces[variable] or {}
        cells = trace.get(side) or []
        if index < len(cells) and len(cells[index]):
            peaks.append((variable, float(max(cells[index])), str(trace.get("units", ""))))
    return CellActivity(len(train), tuple(train[:FIRST_SPIKES_SHOWN]), tuple(peaks))


def arithmetic_rows(entries):
    """The seed cases of ``entries`` (run entries with observations, one protocol) side by side."""
    entries = [e for e in entries if e.observation is not None]
    if len(entries) < 2:
        return ()
    rows = []
    for index, case in enumerate(entries[0].observation.protocol.cases):
        rows.append(ArithmeticRow(case.label, tuple(
            (e.label, e.execution, _activity(e.observation, "pre", index), _activity(e.observation, "post", index))
            for e in entries)))
    return tuple(rows)


ORDER = ("v", "gsyn_exc", "gsyn_inh")


def _traces(observation, pre_cell, post_cell):
    variables = [v for v in ORDER if v in observation.traces] + sorted(v for v in observation.traces if v not in ORDER)
    traces = []
    for variable in variables:
        trace = observation.traces[variable] or {}

        def cell(side, index):
            cells = trace.get(side) or []
            return tuple(cells[index]) if index < len(cells) else None

        traces.append(Trace(variable, str(trace.get("units", "")), tuple(trace.get("times") or ()),
                            cell("pre", pre_cell), cell("post", post_cell)))
    return tuple(traces)


def _is_seed(entry):
    if entry.observation is not None:
        return bool(entry.observation.protocol.record_traces or entry.observation.traces)
    return "trajectories" in entry.result.reference


def seed_entry(entry, names: FigureNames):
    observation = entry.observation
    trajectories = entry.result.reference.get("trajectories") or {}
    pre, post, _ = observation.synapse_trains()
    cells = observation.synapses or [(k, k) for k in range(len(observation.protocol.cases))]
    cases, rows = [], []
    for index, (case, verdict) in enumerate(zip(observation.protocol.cases, entry.verdicts)):
        trajectory = trajectories.get(case.label) or {}
        rows.append(SeedRow(case.label, verdict.status, case.pre_spike_times, case.post_drive_times,
                            tuple(pre[index]), tuple(post[index]), verdict.initial_weight, verdict.expected,
                            verdict.observed))
        if index < SEED_CASES_DRAWN:
            cases.append(SeedCase(
                case.label, verdict.status, case.pre_spike_times, case.post_drive_times, tuple(pre[index]),
                tuple(post[index]), _traces(observation, *cells[index]),
                tuple(trajectory["times"]) if "times" in trajectory else None,
                tuple(trajectory["weights"]) if "weights" in trajectory else None,
                verdict.initial_weight, verdict.observed,
            ))
    bounds = observation.rule.weight
    panel = SeedPanel(entry.label, tuple(cases), observation.t_stop, bounds.w_min, bounds.w_max)
    figure = names.add(f"seed-{entry.label}-{entry.protocol}-{entry.rule}", "seed", [panel],
                       f"seed network traces on {entry.label}")
    return SeedEntry(entry.label, entry.protocol, entry.rule, entry.execution, observation.protocol.timestep,
                     observation.delay, figure, tuple(rows))


def seed_view(run, names: FigureNames):
    """Learned results of protocols that record traces, drawn; the others listed with the reason."""
    drawn, not_drawn, by_protocol = [], [], {}
    for entry in run.entries:
        if not _is_seed(entry):
            continue
        if not entry.execution.learned:
            not_drawn.append((entry.label, entry.protocol,
                              f"{entry.execution.label}: no spikes, no traces, no learned weights"))
        elif entry.observation is None:
            not_drawn.append((entry.label, entry.protocol, f"observation not available: {entry.problem}"))
        else:
            drawn.append(seed_entry(entry, names))
            by_protocol.setdefault(entry.protocol, []).append(entry)
    arithmetic = tuple((protocol, arithmetic_rows(group)) for protocol, group in by_protocol.items()
                       if arithmetic_rows(group))
    return SeedView(tuple(drawn), tuple(not_drawn), arithmetic)
