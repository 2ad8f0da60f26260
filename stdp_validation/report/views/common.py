"""Shared by the views: status names, coordinates, per-case points and figure specifications.

The views (this package) derive every number and row the page shows, once, from the loaded
run (:mod:`stdp_validation.report.load`). Pure functions and frozen dataclasses: no HTML, no
matplotlib. Counts, statuses, errors and error/tolerance ratios are read from the results
(:mod:`stdp_validation.results`), and model curves from ``result.reference``; nothing here
re-runs a comparison or the reference model. Whether weights were learned is decided only by
:attr:`Execution.learned`.

Units: times in ms, weights in the synapse type's unit (nA or µS), timings in s; residuals of
stored-integer comparisons in LSB (one step of the stored weight).

Coordinates: the *emission* Δt of a pair is t_post − t_pre as the cells fired; the synapse
*lag* is s = Δt + (2f − 1)·d, f the conventions' ``dendritic_delay_fraction`` and d the
delay. The window's zero crossing (s = 0) sits at emission Δt = (1 − 2f)·d: −d for a
dendritic delay (f = 1), +d for an axonal one (f = 0).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from ...results.io import slugify
from ...results.status import Execution, Status

STATUS_CLASS = {Status.PASS: "pass", Status.FAIL: "fail", Status.KNOWN_DEFECT: "known", Status.NOT_RUN: "notrun",
                Status.UNSUPPORTED: "other", Status.ERROR: "fail"}
STATUS_TEXT = {Status.PASS: "pass", Status.FAIL: "FAIL", Status.KNOWN_DEFECT: "known defect",
               Status.NOT_RUN: "not run", Status.UNSUPPORTED: "unsupported", Status.ERROR: "error"}
def status_class(status):
    return STATUS_CLASS.get(Status(status), "other")


def status_text(status):
    return STATUS_TEXT.get(Status(status), str(status))


# -- coordinates and points --------------------------------------------------------------------


def lag_offset(conventions, delay):
    """s − Δt (ms): what the delay partition adds to the emission Δt."""
    return (2.0 * conventions.dendritic_delay_fraction - 1.0) * delay


def zero_crossing(conventions, delay):
    """Emission Δt (ms) at which the synapse lag is 0: (1 − 2f)·d."""
    return -lag_offset(conventions, delay)


def _column(values):
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


@dataclass(frozen=True)
class Points:
    """Per-case arrays of one result (NaN where unknown), in case order.

    ``lag``: synapse lag s (ms) of single-pair cases; ``dt``: emission Δt (ms), ``lag`` minus
    the delay partition's offset; weights in weight units; ``residual`` and
    ``residual_tolerance`` in ``unit``: "LSB" for stored-integer comparisons (stored observed −
    stored expected), else "weight" (observed − expected).
    """

    labels: tuple
    statuses: tuple
    lag: np.ndarray
    dt: np.ndarray
    initial: np.ndarray
    expected: np.ndarray
    observed: np.ndarray
    tolerance: np.ndarray
    residual: np.ndarray
    residual_tolerance: np.ndarray
    unit: str

    @property
    def dw_expected(self):
        return self.expected - self.initial

    @property
    def dw_observed(self):
        return self.observed - self.initial

    @property
    def has_lag(self):
        return np.isfinite(self.lag)


_POINTS = weakref.WeakKeyDictionary()


def points(entry):
    """:class:`Points` of an :class:`~stdp_validation.report.load.Entry` from its verdicts (and
    its observation's conventions and delay for the emission Δt); computed once per entry."""
    if entry not in _POINTS:
        _POINTS[entry] = _points(entry)
    return _POINTS[entry]


def _points(entry):
    verdicts = entry.verdicts
    lag = _column(v.lag for v in verdicts)
    expected, observed = _column(v.expected for v in verdicts), _column(v.observed for v in verdicts)
    tolerance = _column(v.tolerance for v in verdicts)
    offset = np.nan
    if entry.observation is not None:
        offset = lag_offset(entry.observation.conventions, entry.observation.delay)
    stored = bool(verdicts) and all(v.stored_expected is not None and v.stored_observed is not None and v.lsb
                                    for v in verdicts)
    if stored:
        residual = _column(v.stored_observed - v.stored_expected for v in verdicts)
        residual_tolerance = _column(None if v.tolerance is None else v.tolerance / v.lsb for v in verdicts)
    else:
        residual, residual_tolerance = observed - expected, tolerance
    return Points(
        labels=tuple(v.case for v in verdicts), statuses=tuple(v.status for v in verdicts), lag=lag,
        dt=lag - offset, initial=_column(v.initial_weight for v in verdicts), expected=expected, observed=observed,
        tolerance=tolerance, residual=residual, residual_tolerance=residual_tolerance,
        unit="LSB" if stored else "weight",
    )


# -- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureSpec:
    """A figure to draw: ``name`` is its unique file stem under ``figures/``; ``panels`` what
    :mod:`.figures` draws for ``kind``."""

    name: str
    kind: str
    panels: tuple
    alt: str


class FigureNames:
    """Unique figure file stems, in the order the page asks for them."""

    def __init__(self):
        self.specs = []

    def add(self, name, kind, panels, alt):
        base = stem = slugify(name)
        number = 1
        while any(s.name == stem for s in self.specs):
            number += 1
            stem = f"{base}-{number}"
        spec = FigureSpec(stem, kind, tuple(panels), alt)
        self.specs.append(spec)
        return spec


def panel_title(entry):
    """Figure panel title: label · rule, the conventions and delay, how the weights were obtained."""
    text = f"{entry.label} · {entry.rule}"
    observation = entry.observation
    if observation is not None:
        text += (f"\nconventions {observation.conventions.name}, d = {observation.delay:g} ms, "
                 f"f = {observation.conventions.dendritic_delay_fraction:g}")
    if entry.execution is not Execution.SIMULATED:
        text += f"\nweights from: {entry.execution.label}"
    return text


@dataclass(frozen=True)
class WindowPanel:
    """One panel of a window figure: the reference kernel (``result.reference["kernel"]``), the
    points, the lag → emission Δt offset (ms) and the zero crossing in emission Δt (ms)."""

    title: str
    label: str
    points: Points
    kernel: dict
    offset: float
    zero_crossing: float
    zero_lag: str


def window_panel(entry):
    """The :class:`WindowPanel` of a learned single-pair result with its observation, or ``None``."""
    kernel = entry.result.reference.get("kernel")
    observation = entry.observation
    if not entry.execution.learned or observation is None or not kernel:
        return None
    p = points(entry)
    if not p.has_lag.any():
        return None
    conventions = observation.conventions
    return WindowPanel(panel_title(entry), entry.label, p, kernel, lag_offset(conventions, observation.delay),
                       zero_crossing(conventions, observation.delay), conventions.zero_lag)


@dataclass(frozen=True)
class ZeroCrossingRow:
    label: str
    conventions: str
    fraction: float
    delay: float
    offset: float
    crossing: float


def zero_crossing_rows(entries):
    """Where s = 0 falls in emission time for each result with an observation."""
    rows = []
    for entry in entries:
        observation = entry.observation
        if observation is not None:
            c, d = observation.conventions, observation.delay
            rows.append(ZeroCrossingRow(entry.label, c.name, c.dendritic_delay_fraction, d, lag_offset(c, d),
                                        zero_crossing(c, d)))
    return rows


