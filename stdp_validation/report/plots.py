"""The report's figures, drawn with matplotlib's object API (no pyplot, no global state).

Every function returns a :class:`matplotlib.figure.Figure` attached to an Agg canvas;
:func:`png_bytes` renders one. Text coming from data is passed through :func:`plain` so that
a ``$`` in a label is never parsed as mathtext.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..compare import FAIL, KNOWN_DEFECT, PASS
from .analysis import (
    backend_colour,
    lag_offset,
    points,
    reference_curve,
    status_colour,
    trajectory,
    zero_crossing_dt,
)

DPI = 96
STATUS_LABELS = {PASS: "observed (pass)", FAIL: "observed (FAIL)", KNOWN_DEFECT: "observed (known defect)"}
SMALL = 8


def plain(text):
    """``text`` safe for a matplotlib label: no mathtext."""
    return str(text).replace("$", r"\$")


def new_figure(width, height, layout="constrained"):
    figure = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure):
    if figure.get_layout_engine() is not None:
        # Lay out once, then freeze: savefig would otherwise run the constrained layout twice.
        figure.draw_without_rendering()
        figure.set_layout_engine("none")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _axes_row(n, width_each=5.8, height=3.6, columns=2):
    """``n`` panels, at most ``columns`` per row (more would squeeze the legends); unused ones hidden."""
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    figure = new_figure(max(6.0, width_each * columns), height * rows)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return figure, axes[:n]


def _scatter_by_status(ax, x, y, statuses, size=18, zorder=3):
    statuses = np.asarray(statuses, dtype=object)
    for status in (PASS, KNOWN_DEFECT, FAIL):
        mask = statuses == status
        if mask.any():
            ax.scatter(np.asarray(x)[mask], np.asarray(y)[mask], s=size, color=status_colour(status),
                       label=STATUS_LABELS[status], zorder=zorder, edgecolors="none")
    other = ~np.isin(statuses, [PASS, KNOWN_DEFECT, FAIL])
    if other.any():
        ax.scatter(np.asarray(x)[other], np.asarray(y)[other], s=size, color="#57606a", label="observed (other)",
                   zorder=zorder)


def _title(entry, extra=""):
    obs = entry.observation
    text = f"{entry.backend} · {entry.rule}"
    if obs is not None:
        text += f"\nconventions {obs.conventions.name}, d = {obs.delay:g} ms, f = {obs.conventions.dendritic_delay_fraction:g}"
    if not entry.board_output:
        text += "\nNOT board output: initial weights, no learning"
    return plain(text + extra)


def _tolerance_note(ax, tolerance, span):
    tol = np.nanmax(tolerance) if np.isfinite(tolerance).any() else np.nan
    if np.isfinite(tol) and span > 0 and tol < 2e-3 * span:
        ax.text(0.99, 0.01, f"tolerance ±{tol:.3g}: band too narrow to see here; see residuals",
                transform=ax.transAxes, fontsize=7, color="#57606a", va="bottom", ha="right")


def window_figure(entries, mark_zero_crossing):
    """Δw at the synapse lag per entry: reference kernel, expected ± tolerance, observed points."""
    figure, axes = _axes_row(len(entries))
    for ax, entry in zip(axes, entries):
        p = points(entry)
        mask = p.has_lag & np.isfinite(p.initial)
        lag = p.lag[mask]
        order = np.argsort(lag)
        lag = lag[order]
        dw_obs, dw_exp = p.dw_observed[mask][order], p.dw_expected[mask][order]
        tol = p.tolerance[mask][order]
        statuses = np.asarray(p.status, dtype=object)[mask][order]
        obs = entry.observation
        s_neg, w_neg, s_pos, w_pos, zero = reference_curve(entry, float(lag.min()), float(lag.max()))
        ax.plot(s_neg, w_neg, color="#8c959f", lw=1.4, label="reference window (isolated pair)")
        ax.plot(s_pos, w_pos, color="#8c959f", lw=1.4)
        ax.plot([0.0], [zero], "o", mfc="white", mec="#57606a", ms=6, zorder=4,
                label=plain(f"s = 0: {obs.conventions.zero_lag} (Δw = {zero:.3g})"))
        ax.fill_between(lag, dw_exp - np.nan_to_num(tol), dw_exp + np.nan_to_num(tol), color="#54aeff", alpha=0.35,
                        lw=0, label="expected ± tolerance")
        ax.plot(lag, dw_exp, "_", color="#0550ae", ms=7, label="expected (recorded spikes)", zorder=3)
        _scatter_by_status(ax, lag, dw_obs, statuses)
        span = float(np.nanmax(np.abs(np.concatenate([w_neg, w_pos, [zero], dw_obs]))) or 1.0)
        _tolerance_note(ax, tol, span)
        ax.axhline(0.0, color="#d0d7de", lw=0.8, zorder=0)
        ax.set_xlabel("synapse lag s = t_post + f·d − t_pre − (1−f)·d (ms)", fontsize=SMALL)
        ax.set_ylabel("Δw = w − w₀ (weight units)", fontsize=SMALL)
        ax.set_title(_title(entry), fontsize=9)
        offset = lag_offset(obs.conventions, obs.delay)
        top = ax.secondary_xaxis("top", functions=(lambda s, o=offset: s - o, lambda t, o=offset: t + o))
        top.set_xlabel("emission Δt = t_post − t_pre (ms)", fontsize=SMALL)
        top.tick_params(labelsize=7)
        if mark_zero_crossing:
            dt0 = zero_crossing_dt(obs.conventions, obs.delay)
            ax.axvline(0.0, color="#6e7781", ls="--", lw=1)
            ax.annotate(f"zero crossing\nat emission Δt = {dt0:+g} ms", xy=(0.0, 0.0), xytext=(6, -34),
                        textcoords="offset points", fontsize=7, color="#24292f")
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6.5, loc="upper left", framealpha=0.85)
    return figure


def scatter_figure(entries):
    """Observed against expected final weight per entry (cases without a single-pair lag)."""
    figure, axes = _axes_row(len(entries), width_each=4.2, height=3.6, columns=3)
    for ax, entry in zip(axes, entries):
        p = points(entry)
        mask = ~p.has_lag & np.isfinite(p.expected) & np.isfinite(p.observed)
        if entry.observation is None:
            mask = np.isfinite(p.expected) & np.isfinite(p.observed)
        x, y = p.expected[mask], p.observed[mask]
        if len(x):
            low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
            pad = 0.05 * (high - low or 1.0)
            ax.plot([low - pad, high + pad], [low - pad, high + pad], color="#8c959f", lw=1, label="observed = expected")
        _scatter_by_status(ax, x, y, np.asarray(p.status, dtype=object)[mask])
        ax.set_xlabel("expected final weight (recorded spikes)", fontsize=SMALL)
        ax.set_ylabel("observed final weight", fontsize=SMALL)
        ax.set_title(_title(entry), fontsize=9)
        ax.tick_params(labelsize=7)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6.5, loc="upper left")
    return figure


def residual_figure(entries):
    """observed − expected per case with ±tolerance lines."""
    figure, axes = _axes_row(len(entries), height=3.2)
    for ax, entry in zip(axes, entries):
        p = points(entry)
        residual = p.residual
        n = len(residual)
        use_lag = n > 0 and bool(p.has_lag.all())
        x = p.lag if use_lag else np.arange(n, dtype=float)
        _scatter_by_status(ax, x, residual, p.status, size=14)
        tol = p.tolerance
        finite_tol = tol[np.isfinite(tol)]
        if len(finite_tol) and np.allclose(finite_tol, finite_tol[0]):
            ax.axhline(finite_tol[0], color="#cf222e", ls="--", lw=1, label=f"±tolerance ({finite_tol[0]:.3g})")
            ax.axhline(-finite_tol[0], color="#cf222e", ls="--", lw=1)
        elif len(finite_tol):
            order = np.argsort(x)
            ax.step(x[order], tol[order], where="mid", color="#cf222e", ls="--", lw=1, label="±tolerance")
            ax.step(x[order], -tol[order], where="mid", color="#cf222e", ls="--", lw=1)
        ax.axhline(0.0, color="#d0d7de", lw=0.8, zorder=0)
        finite = np.abs(residual[np.isfinite(residual)])
        limit = max(float(finite.max()) if len(finite) else 0.0, float(finite_tol.max()) if len(finite_tol) else 0.0)
        limit = 1.3 * limit if limit > 0 else 1e-12
        ax.set_ylim(-limit, limit)
        threshold = float(finite_tol.min()) if len(finite_tol) else 0.0
        if threshold > 0 and limit > 50 * threshold:
            # Failures far beyond the tolerance would flatten the ±tolerance lines onto 0.
            ax.set_yscale("symlog", linthresh=threshold, linscale=0.5)
            low, high = math.floor(math.log10(threshold)), math.ceil(math.log10(limit))
            step = max(1, math.ceil((high - low) / 4))
            decades = [10.0 ** k for k in range(high, low - 1, -step)]
            ax.set_yticks([-d for d in decades] + [0.0] + decades[::-1])
            ax.set_ylim(-(10.0 ** high) * 1.5, (10.0 ** high) * 1.5)
            ax.set_ylabel("observed − expected (symlog)", fontsize=SMALL)
        else:
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
            ax.set_ylabel("observed − expected", fontsize=SMALL)
        if use_lag:
            ax.set_xlabel("synapse lag s (ms)", fontsize=SMALL)
        else:
            ax.set_xlabel("case", fontsize=SMALL)
            if n <= 30:
                ax.set_xticks(np.arange(n))
                ax.set_xticklabels([plain(_short(label, 22)) for label in p.labels], rotation=60, ha="right",
                                   fontsize=6)
        ax.set_title(_title(entry), fontsize=9)
        ax.tick_params(labelsize=7)
        ax.yaxis.get_offset_text().set_fontsize(7)
        ax.legend(fontsize=6.5, loc="best")
    return figure


def _short(text, n):
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


TRACE_ORDER = ("v", "gsyn_exc", "gsyn_inh")


def seed_figure(entry, max_cases=6):
    """Rasters, v / gsyn traces of pre and post cells and the weight trajectory, one column per case."""
    obs = entry.observation
    cases = list(obs.protocol.cases)[:max_cases]
    variables = [v for v in TRACE_ORDER if v in obs.traces] + sorted(v for v in obs.traces if v not in TRACE_ORDER)
    rows = 2 + len(variables)
    width, height = min(12.0, 4.0 * len(cases) + 0.6), 1.0 + 1.75 * rows
    # A regular grid: fixed margins (in inches) instead of the constrained layout, which costs
    # more than the drawing itself for this many axes.
    figure = new_figure(width, height, layout=None)
    figure.subplots_adjust(left=1.0 / width, right=1 - 0.1 / width, bottom=0.45 / height, top=1 - 0.3 / height,
                           wspace=0.9 / (width / len(cases)), hspace=0.35 / 1.75)
    axes = figure.subplots(rows, len(cases), squeeze=False, sharex="col")
    verdicts = {v.get("case"): v for v in entry.verdicts}
    for column, case in enumerate(cases):
        index = entry.case_index(case.label)
        pre, post = obs.pre_spike_times[index], obs.post_spike_times[index]
        ax = axes[0, column]
        trains = [list(case.pre_spike_times), list(case.post_drive_times), list(pre), list(post)]
        colours = ["#8250df", "#bf3989", "#0969da", "#cf222e"]
        for offset, (train, colour) in enumerate(zip(trains, colours)):
            if train:
                ax.eventplot([train], lineoffsets=3 - offset, linelengths=0.75, colors=[colour], linewidths=1.2)
        ax.set_yticks([3, 2, 1, 0])
        ax.set_yticklabels(["thalamic→pre", "thalamic→post", "pre cell", "post cell"], fontsize=7)
        ax.set_ylim(-0.7, 3.7)
        ax.set_title(plain(f"{entry.backend}: {_short(case.label, 40)}"), fontsize=9)
        for row, variable in enumerate(variables, start=1):
            ax = axes[row, column]
            trace = obs.traces.get(variable) or {}
            times = np.asarray(trace.get("times") or [], dtype=float)
            for side, colour in (("pre", "#0969da"), ("post", "#cf222e")):
                cells = trace.get(side) or []
                if index < len(cells):
                    values = np.asarray(cells[index], dtype=float)
                    m = min(len(times), len(values))
                    ax.plot(times[:m], values[:m], color=colour, lw=1, label=f"{side} cell")
            units = trace.get("units", "")
            ax.set_ylabel(plain(f"{variable} ({units})" if units else variable), fontsize=SMALL)
            if column == 0 and row == 1:
                ax.legend(fontsize=6.5, loc="upper right")
        ax = axes[-1, column]
        verdict = verdicts.get(case.label, {})
        result = trajectory(entry, index)
        w0 = obs.initial_weights[index]
        if result is not None:
            times = np.concatenate([[0.0], result.times, [obs.t_stop]])
            weights = np.concatenate([[w0], result.weights, [result.weights[-1] if len(result) else w0]])
            ax.plot(times, weights, drawstyle="steps-post", color="#24292f", lw=1.2,
                    label="predicted from recorded spikes")
        ax.plot([obs.t_stop], [obs.final_weights[index]], "o", ms=7,
                color=status_colour(verdict.get("status")), label="observed final weight", zorder=4)
        ax.set_ylabel("weight", fontsize=SMALL)
        ax.set_xlabel("time (ms)", fontsize=SMALL)
        ax.set_xlim(0.0, obs.t_stop * 1.03)
        w_min, w_max = obs.rule.weight.w_min, obs.rule.weight.w_max
        ax.set_ylim(w_min - 0.08 * (w_max - w_min), w_max + 0.08 * (w_max - w_min))
        if column == 0:
            ax.legend(fontsize=6.5, loc="best")
        for a in axes[:, column]:
            a.tick_params(labelsize=7)
    return figure


def cross_backend_figure(entries):
    """Δw against the emission Δt of the same pairs on every backend, with zero crossings."""
    figure = new_figure(11.0, 4.4)
    ax = figure.subplots()
    order = [e.backend for e in entries]
    low, high = np.inf, -np.inf
    for entry in entries:
        p = points(entry)
        mask = np.isfinite(p.dt) & np.isfinite(p.initial)
        if mask.any():
            low, high = min(low, float(p.dt[mask].min())), max(high, float(p.dt[mask].max()))
    if not np.isfinite(low):
        low, high = -1.0, 1.0
    for k, entry in enumerate(entries):
        obs = entry.observation
        colour = backend_colour(entry.backend, order)
        p = points(entry)
        mask = np.isfinite(p.dt) & np.isfinite(p.initial)
        offset = lag_offset(obs.conventions, obs.delay)
        s_neg, w_neg, s_pos, w_pos, zero = reference_curve(entry, low + offset, high + offset)
        style = ("-", "--", ":", "-.")[k % 4]
        ax.plot(s_neg - offset, w_neg, color=colour, lw=1.2, alpha=0.7, ls=style)
        ax.plot(s_pos - offset, w_pos, color=colour, lw=1.2, alpha=0.7, ls=style)
        # Backends that agree draw on top of each other: alternate filled and open markers.
        filled = k % 2 == 0
        ax.scatter(p.dt[mask], p.dw_observed[mask], s=18 if filled else 34, zorder=3 + k, marker="os^Dv"[k % 5],
                   facecolors=colour if filled else "none", edgecolors=colour, linewidths=1.1,
                   label=plain(f"{entry.backend} observed ({entry.rule})"))
        dt0 = zero_crossing_dt(obs.conventions, obs.delay)
        ax.axvline(dt0, color=colour, ls="--", lw=1)
        ax.annotate(plain(f"{entry.backend}: s = 0 at Δt = {dt0:+g} ms"), xy=(dt0, 0.5),
                    xycoords=("data", "axes fraction"), xytext=(8, 30 - 16 * k), textcoords="offset points",
                    fontsize=7.5, color=colour, arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6},
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour, "lw": 0.6})
    ax.axhline(0.0, color="#d0d7de", lw=0.8, zorder=0)
    ax.set_xlabel("emission Δt = t_post − t_pre, recorded (ms)", fontsize=SMALL)
    ax.set_ylabel("Δw = w − w₀ (weight units)", fontsize=SMALL)
    ax.set_title("The same PyNN script on each backend: Δw against emission Δt (lines: reference per backend)",
                 fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    return figure


PHASE_ORDER = ("build", "map", "load", "run", "readout")
PHASE_COLOURS = {"build": "#0969da", "map": "#8250df", "load": "#bf3989", "run": "#1a7f37", "readout": "#bf8700"}
OTHER_PHASE_COLOURS = ("#57606a", "#e16f24", "#6e7781", "#a475f9", "#3192aa")


def phases(entries):
    keys = []
    for entry in entries:
        for key, value in entry.timings.items():
            if key not in keys and isinstance(value, (int, float)):
                keys.append(key)
    return sorted(keys, key=lambda k: (PHASE_ORDER.index(k) if k in PHASE_ORDER else len(PHASE_ORDER), k))


def timings_figure(entries, labels):
    """Stacked horizontal bars of the phase timings of every result."""
    keys = phases(entries)
    figure = new_figure(10.0, 1.0 + 0.28 * len(entries))
    ax = figure.subplots()
    y = np.arange(len(entries))[::-1]
    left = np.zeros(len(entries))
    for k, key in enumerate(keys):
        values = np.array([float(e.timings.get(key) or 0.0) for e in entries])
        colour = PHASE_COLOURS.get(key) or OTHER_PHASE_COLOURS[k % len(OTHER_PHASE_COLOURS)]
        ax.barh(y, values, left=left, color=colour, label=plain(key), height=0.7)
        left += values
    for yy, total in zip(y, left):
        ax.text(total, yy, f" {total:.2f} s", va="center", fontsize=7, color="#24292f")
    ax.set_xlim(0, max(float(left.max()) if len(left) else 1.0, 1e-3) * 1.1)
    ax.set_yticks(y)
    ax.set_yticklabels([plain(_short(label, 40)) for label in labels], fontsize=7)
    ax.set_xlabel("seconds", fontsize=SMALL)
    ax.tick_params(labelsize=7)
    if keys:
        ax.legend(fontsize=7, loc="lower right", ncols=min(len(keys), 5))
    return figure
