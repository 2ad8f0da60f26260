"""Numbers the report derives from results and observations (shared by plots and tables).

Coordinates: the *emission* Δt of a pair is t_post − t_pre as the neurons fired; the
*synapse lag* is what the synapse sees, s = Δt + (2f − 1)·d with f the conventions'
``dendritic_delay_fraction`` and d the delay. The window's zero crossing (s = 0) therefore
sits at emission Δt = (1 − 2f)·d: −d for NEST (f = 1), +d for Brian2 (f = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compare import FAIL, KNOWN_DEFECT, PASS
from ..reference import predict_trajectory, stdp_window

STATUS_COLOURS = {PASS: "#1a7f37", FAIL: "#cf222e", KNOWN_DEFECT: "#bf8700"}
BACKEND_COLOURS = {"nest": "#ff7f0e", "brian2": "#1f77b4", "spinnaker": "#2ca02c"}
_FALLBACK_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def backend_colour(name, order=()):
    if name in BACKEND_COLOURS:
        return BACKEND_COLOURS[name]
    others = [n for n in order if n not in BACKEND_COLOURS]
    index = others.index(name) if name in others else abs(hash(name))
    return _FALLBACK_COLOURS[index % len(_FALLBACK_COLOURS)]


def status_colour(status):
    return STATUS_COLOURS.get(status, "#57606a")


def zero_crossing_dt(conventions, delay):
    """Emission Δt (ms) at which the synapse lag is 0."""
    return (1.0 - 2.0 * conventions.dendritic_delay_fraction) * delay


def lag_offset(conventions, delay):
    """s − Δt: what the delay partition adds to the emission Δt (ms)."""
    return (2.0 * conventions.dendritic_delay_fraction - 1.0) * delay


@dataclass
class Points:
    """Per-case arrays of one result (NaN where a value is unknown)."""

    labels: list
    status: list
    lag: np.ndarray
    dt: np.ndarray  # emission Δt of single-pair cases (recorded times, else intended)
    expected: np.ndarray
    observed: np.ndarray
    initial: np.ndarray
    tolerance: np.ndarray

    @property
    def residual(self):
        return self.observed - self.expected

    @property
    def dw_observed(self):
        return self.observed - self.initial

    @property
    def dw_expected(self):
        return self.expected - self.initial

    @property
    def has_lag(self):
        return np.isfinite(self.lag)


def points(entry):
    """:class:`Points` of an :class:`~.data.Entry`, from its verdicts and observation (cached)."""
    cached = getattr(entry, "_points", None)
    if cached is None:
        cached = _points(entry)
        entry._points = cached
    return cached


def _points(entry):
    verdicts = entry.verdicts
    n = len(verdicts)

    def column(key):
        return np.array([_number(v.get(key)) for v in verdicts], dtype=float).reshape(n)

    lag, expected, observed, tolerance = column("lag"), column("expected"), column("observed"), column("tolerance")
    initial = np.full(n, np.nan)
    dt = np.full(n, np.nan)
    obs = entry.observation
    if obs is not None:
        offset = lag_offset(obs.conventions, obs.delay)
        for i, v in enumerate(verdicts):
            index = entry.case_index(v.get("case"))
            if index is None:
                continue
            initial[i] = obs.initial_weights[index]
            case = obs.protocol.cases[index]
            pre, post = obs.pre_spike_times[index], obs.post_spike_times[index]
            if np.isfinite(lag[i]):
                dt[i] = lag[i] - offset
            elif len(case.pre_spike_times) == 1 and len(case.post_drive_times) == 1:
                if len(pre) >= 1 and len(post) == 1:
                    dt[i] = post[0] - pre[0]
                else:
                    dt[i] = case.post_drive_times[0] - case.pre_spike_times[0]
    return Points(
        labels=[str(v.get("case", "?")) for v in verdicts],
        status=[str(v.get("status", "?")) for v in verdicts],
        lag=lag,
        dt=dt,
        expected=expected,
        observed=observed,
        initial=initial,
        tolerance=tolerance,
    )


def _number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return np.nan
    return number


def reference_curve(entry, lag_min, lag_max, n=600):
    """The isolated-pair kernel Δw(s) of the entry's rule and conventions over [lag_min, lag_max].

    Returns ``(s_negative, dw_negative, s_positive, dw_positive, dw_at_zero)``; the kernel is
    discontinuous at s = 0, whose value follows the conventions' ``zero_lag`` rule.
    """
    obs = entry.observation
    span = max(lag_max - lag_min, 1.0)
    low, high = lag_min - 0.05 * span, lag_max + 0.05 * span
    eps = 1e-3
    s_neg = np.linspace(min(low, -eps), -eps, n) if low < 0 else np.array([])
    s_pos = np.linspace(eps, max(high, eps), n) if high > 0 else np.array([])
    initial = None
    if obs.rule.is_multiplicative and len(obs.initial_weights):
        initial = float(np.clip(obs.initial_weights[0], obs.rule.weight.w_min, obs.rule.weight.w_max))
    conv = obs.conventions

    def window(s):
        if len(s) == 0:
            return np.array([])
        return stdp_window(s, obs.rule, conv, initial_weight=initial)

    zero = float(window(np.array([0.0]))[0])
    return s_neg, window(s_neg), s_pos, window(s_pos), zero


def trajectory(entry, index):
    """The predicted weight trajectory of case ``index`` from its recorded spikes, or ``None``."""
    obs = entry.observation
    try:
        (result,) = predict_trajectory(
            obs.pre_spike_times[index],
            obs.post_spike_times[index],
            obs.rule,
            delay=obs.delay,
            initial_weight=obs.initial_weights[index],
            conventions=obs.conventions,
            t_stop=obs.t_stop,
        )
    except Exception:  # noqa: BLE001 - shown as "not available" instead of failing the report
        return None
    return result


def amplitude_gain(rule, conventions):
    """The factor multiplying A± for an additive rule: w_max or 1."""
    if rule.is_multiplicative:
        return None
    return rule.weight.w_max if conventions.amplitude_scaling == "w_max" else 1.0
