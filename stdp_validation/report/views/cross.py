"""The cross-backend section: where backends differ on the same script, and which convention explains it.

Only learned results (:attr:`Execution.learned`) are compared with each other. Weight
differences are between the observed final weights of cases with the same label (weight
units); a difference counts when it exceeds the larger of the two cases' tolerances. Times in
ms. Δw at lag 0 comes from each result's reference kernel (``result.reference["kernel"]``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields

import numpy as np

from ...conventions import Conventions
from ...rules import STDPRule
from .common import FigureNames, lag_offset, points, window_panel, zero_crossing

#: Rows of the sign-disagreement table shown per window comparison.
SIGN_ROWS_SHOWN = 40
#: Conventions fields given their own explained row (the others are listed plainly).
EXPLAINED = ("amplitude_scaling", "dendritic_delay_fraction", "update_timing", "zero_lag")
#: Fields without a row of their own: the timestep is the protocol's (in the summary), the name heads its
#: column and the description is the last row.
NOT_SHOWN = ("timestep", "name", "description")


@dataclass(frozen=True)
class SignRow:
    """A case whose Δw has a different sign on two backends: (emission Δt, Δw) per label."""

    case: str
    values: tuple


@dataclass(frozen=True)
class WindowComparison:
    protocol: str
    rule: str
    labels: tuple
    figure: object  # FigureSpec
    shared: int
    signs: tuple  # SignRow, at most SIGN_ROWS_SHOWN
    sign_count: int


@dataclass(frozen=True)
class AgreementRow:
    """Two labels on one (protocol, rule): cases shared, how many differ beyond tolerance, the largest |w_a − w_b|."""

    protocol: str
    rule: str
    first: str
    second: str
    shared: int
    differing: int
    largest: float | None
    at_case: str


@dataclass(frozen=True)
class ConventionRow:
    field: str
    values: tuple
    differ: bool
    consequence: str


@dataclass(frozen=True)
class ConventionsTable:
    """Each column is (label, conventions name); consequences are for ``rule`` and ``delay`` (ms)
    of ``protocol``; ``spread`` is the largest difference of zero crossings (ms)."""

    columns: tuple
    rows: tuple
    rule: str
    delay: float
    protocol: str
    spread: float
    spread_is_two_delays: bool


@dataclass(frozen=True)
class CrossView:
    left_out: tuple  # (label, Execution)
    windows: tuple
    agreement: tuple
    conventions: object  # ConventionsTable | None
    portability: tuple  # known-defect dicts about running one script on several backends


def _groups(run):
    """(protocol, rule) → learned entries, one per label, for groups with two labels or more."""
    groups = {}
    for entry in run.entries:
        if entry.execution.learned:
            group = groups.setdefault((entry.protocol, entry.rule), {})
            group.setdefault(entry.label, entry)
    return {key: list(group.values()) for key, group in groups.items() if len(group) >= 2}


def sign_rows(group):
    """(rows, shared case count): cases whose observed Δw differs in sign between labels."""
    data = []
    for entry in group:
        p = points(entry)
        data.append(dict(zip(p.labels, zip(p.dt.tolist(), p.dw_observed.tolist()))))
    shared = [label for label in data[0] if all(label in d for d in data[1:])]
    rows = []
    for label in shared:
        signs = {float(np.sign(round(d[label][1], 15))) for d in data}
        if len(signs) > 1:
            rows.append(SignRow(label, tuple(d[label] for d in data)))
    return rows, len(shared)


def agreement_rows(groups):
    rows = []
    for (protocol, rule), group in groups.items():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                others = {v.case: v for v in b.verdicts}
                diffs = []
                for va in a.verdicts:
                    vb = others.get(va.case)
                    if vb is not None and math.isfinite(va.observed) and math.isfinite(vb.observed):
                        diffs.append((abs(va.observed - vb.observed), va.case,
                                      max(va.tolerance or 0.0, vb.tolerance or 0.0)))
                worst = max(diffs, default=(None, "", 0.0))
                rows.append(AgreementRow(protocol, rule, a.label, b.label, len(diffs),
                                         sum(d > tol for d, _, tol in diffs), worst[0], worst[1]))
    return rows


def _signed(value):
    return f"{'−' if value < 0 else '+'} {abs(value):g}"


def conventions_table(run):
    """The conventions of every label with an observation, and what each difference does."""
    columns = {}
    for entry in run.entries:
        if entry.observation is not None:
            columns.setdefault((entry.label, entry.observation.conventions.name), entry.observation.conventions)
    if not columns:
        return None
    with_kernel = [e for e in run.entries if e.observation is not None and e.result.reference.get("kernel")]
    context = (with_kernel or [e for e in run.entries if e.observation is not None])[0]
    rule, delay = context.observation.rule, context.observation.delay
    gap = context.observation.protocol.trailing_pre_gap
    labels, convs = [label for label, _ in columns], list(columns.values())

    def row(name, values, consequence):
        values = tuple(values)
        return ConventionRow(name, values, len({str(v) for v in values}) > 1, consequence)

    rules = {}
    for entry in run.entries:
        parameters = entry.result.protocol_parameters.get("rule")
        if parameters:
            rules.setdefault(json.dumps(parameters, sort_keys=True), (parameters, []))[1].append(entry.protocol)
    parts, multiplicative = [], False
    for parameters, protocols in rules.values():
        other = STDPRule.from_dict(parameters)
        if other.weight_dependent:
            multiplicative = True
            continue
        peaks = ", ".join(f"{label} {other.timing.A_plus * c.amplitude_gain(other):.4g} / "
                          f"{-other.timing.A_minus * c.amplitude_gain(other):.4g}" for label, c in zip(labels, convs))
        parts.append(f"rule {other.label} ({', '.join(dict.fromkeys(protocols))}; A⁺ = {other.timing.A_plus:g}, "
                     f"A⁻ = {other.timing.A_minus:g}, w_max = {other.weight.w_max:g}): peak Δw⁺ / Δw⁻ {peaks}")
    if multiplicative:
        parts.append("weight-dependent rules (multiplicative, mixed, Gütig) scale by the distance to the bounds on "
                     "every backend; the amplitude convention concerns only additive halves")
    rows = [row("amplitude_scaling", (c.amplitude_scaling for c in convs),
                "additive Δw = A·gain·e^(−|s|/τ), gain w_max or 1: " + "; ".join(parts))]
    crossings = [zero_crossing(c, delay) for c in convs]
    rows.append(row("dendritic_delay_fraction", (format(c.dendritic_delay_fraction, "g") for c in convs), "; ".join(
        f"{label}: s = Δt {_signed(lag_offset(c, delay))} ms, zero crossing at Δt = {x:+g} ms"
        for label, c, x in zip(labels, convs, crossings))))
    timing = []
    for label, c in zip(labels, convs):
        if c.update_timing != "deferred":
            timing.append(f"{label}: every spike changes the weight when the synapse sees it")
            continue
        text = f"{label}: potentiation shows only at the next pre spike"
        gain = None if rule.weight_dependent else c.amplitude_gain(rule)
        if gap is not None and gain is not None:
            depression = rule.timing.A_minus * gain * math.exp(-gap / rule.timing.tau_minus)
            text += (f"; the suite adds a trailing pre spike {gap:g} ms after each case's last spike, whose own "
                     f"depression is ≈ {depression:.3g} and part of the prediction")
        timing.append(text)
    rows.append(row("update_timing", (c.update_timing for c in convs), "; ".join(timing)))
    zero = []
    for (label, name), c in columns.items():
        kernel = next((e.result.reference["kernel"] for e in with_kernel if e.label == label
                       and e.observation.conventions.name == name and e.protocol == context.protocol
                       and e.rule == context.rule), None)
        at_zero = (kernel or {}).get("dw_at_zero")
        value = "not computed (no reference for this result)" if at_zero is None else f"{at_zero:.4g}"
        zero.append(f"{label}: Δw(s = 0) = {value} (at emission Δt = {zero_crossing(c, delay):+g} ms)")
    rows.append(row("zero_lag", (c.zero_lag for c in convs), "; ".join(zero)))
    for item in fields(Conventions):
        if item.name not in EXPLAINED + NOT_SHOWN:
            rows.append(row(item.name, (getattr(c, item.name) for c in convs), ""))
    rows.append(row("description", (c.description for c in convs), ""))
    spread = max(crossings) - min(crossings)
    return ConventionsTable(tuple(columns), tuple(rows), rule.label, delay, context.protocol, spread,
                            bool(delay) and math.isclose(spread, 2 * delay))


def cross_view(run, names: FigureNames):
    groups = _groups(run)
    windows = []
    for (protocol, rule), group in groups.items():
        panels = [window_panel(e) for e in group]
        if all(panel is not None for panel in panels):
            figure = names.add(f"cross-backend-{protocol}-{rule}", "cross-backend", panels,
                               f"delta w against emission delta t per backend, protocol {protocol}")
            signs, shared = sign_rows(group)
            windows.append(WindowComparison(protocol, rule, tuple(e.label for e in group), figure, shared,
                                            tuple(signs[:SIGN_ROWS_SHOWN]), len(signs)))
    left_out = tuple(dict.fromkeys((e.label, e.execution) for e in run.entries if not e.execution.learned))
    portability = tuple(d for d in run.known_defects if d.get("id") == "pynn-dendritic-delay-fraction")
    return CrossView(left_out, tuple(windows), tuple(agreement_rows(groups)), conventions_table(run), portability)
