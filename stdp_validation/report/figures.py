"""The report's figures, drawn with matplotlib's object API (no pyplot, no global state).

:func:`draw` turns a :class:`~.views.FigureSpec` into a :class:`matplotlib.figure.Figure` on an
Agg canvas; :func:`png_bytes` renders it. Everything drawn comes from the views' panels
(points, reference curves, traces): nothing is computed from a model here. Text from data
goes through :func:`plain` so that a ``$`` is never parsed as mathtext. Axes: times and lags
in ms, weights in weight units, residuals in weight units or LSB, timings in s.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..results.status import Status

DPI = 96
SMALL = 8
STATUS_COLOURS = {Status.PASS: "#1a7f37", Status.FAIL: "#cf222e", Status.KNOWN_DEFECT: "#bf8700"}
STATUS_LABELS = {Status.PASS: "observed (pass)", Status.FAIL: "observed (FAIL)",
                 Status.KNOWN_DEFECT: "observed (known defect)"}
#: Colours of successive backend labels in figures that compare them.
PALETTE = ("#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf")
PHASE_COLOURS = ("#0969da", "#8250df", "#bf3989", "#1a7f37", "#bf8700", "#57606a", "#e16f24", "#3192aa")


def plain(text):
    """``text`` safe for a matplotlib label: no mathtext."""
    return str(text).replace("$", r"\$")


def short(text, n):
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def new_figure(width, height, layout="constrained"):
    figure = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure):
    """The figure as PNG bytes (no timestamp or software metadata: same figure, same bytes)."""
    if figure.get_layout_engine() is not None:
        # Lay out once, then freeze: savefig would otherwise run the constrained layout twice.
        figure.draw_without_rendering()
        figure.set_layout_engine("none")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def draw(spec):
    """The :class:`Figure` of a :class:`~.views.FigureSpec`."""
    panels = spec.panels
    if spec.kind == "window":
        return window_figure(panels)
    if spec.kind == "scatter":
        return scatter_figure(panels)
    if spec.kind == "residuals":
        return residual_figure(panels)
    if spec.kind == "seed":
        return seed_figure(panels[0])
    if spec.kind == "cross-backend":
        return cross_backend_figure(panels)
    if spec.kind == "timings":
        return timings_figure(panels[0])
    if spec.kind == "frequency":
        return frequency_figure(panels[0])
    if spec.kind == "trends":
        return trends_figure(panels[0])
    if spec.kind == "distribution":
        return distribution_figure(panels)
    raise ValueError(f"unknown figure kind {spec.kind!r}")


def _axes_grid(n, width_each=5.8, height=3.6, columns=2):
    """``n`` panels, at most ``columns`` per row; unused axes hidden."""
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    figure = new_figure(max(6.0, width_each * columns), height * rows)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return figure, axes[:n]


def _scatter_by_status(ax, x, y, statuses, size=18):
    statuses = np.asarray([Status(s) for s in statuses], dtype=object)
    x, y = np.asarray(x), np.asarray(y)
    for status in (Status.PASS, Status.KNOWN_DEFECT, Status.FAIL):
        mask = statuses == status
        if mask.any():
            ax.scatter(x[mask], y[mask], s=size, color=STATUS_COLOURS[status], label=STATUS_LABELS[status], zorder=3,
                       edgecolors="none")
    other = ~np.isin(statuses, list(STATUS_COLOURS))
    if other.any():
        ax.scatter(x[other], y[other], s=size, color="#57606a", label="observed (other)", zorder=3)


def _legend(ax, **options):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6.5, framealpha=0.85, **options)


def _kernel(kernel, offset=0.0):
    """(lags, Δw) of each half of the reference kernel, shifted by ``-offset`` (ms)."""
    return [(np.asarray(kernel[f"{side}_lags"], dtype=float) - offset, np.asarray(kernel[f"{side}_dw"], dtype=float))
            for side in ("negative", "positive")]


def window_figure(panels):
    """Δw against synapse lag per result: reference kernel, expected ± tolerance, observed points."""
    figure, axes = _axes_grid(len(panels))
    for ax, panel in zip(axes, panels):
        p = panel.points
        mask = p.has_lag & np.isfinite(p.initial) & np.isfinite(p.observed)
        order = np.argsort(p.lag[mask])
        lag = p.lag[mask][order]
        dw_obs, dw_exp = p.dw_observed[mask][order], p.dw_expected[mask][order]
        tol = np.nan_to_num(p.tolerance[mask][order])
        statuses = np.asarray(p.statuses, dtype=object)[mask][order]
        halves = _kernel(panel.kernel)
        for k, (s, dw) in enumerate(halves):
            ax.plot(s, dw, color="#8c959f", lw=1.4, label="reference window (isolated pair)" if k == 0 else None)
        zero = panel.kernel["dw_at_zero"]
        ax.plot([0.0], [zero], "o", mfc="white", mec="#57606a", ms=6, zorder=4,
                label=plain(f"s = 0: {panel.zero_lag} (Δw = {zero:.3g})"))
        finite = np.isfinite(dw_exp)
        ax.fill_between(lag[finite], (dw_exp - tol)[finite], (dw_exp + tol)[finite], color="#54aeff", alpha=0.35,
                        lw=0, label="expected ± tolerance")
        ax.plot(lag[finite], dw_exp[finite], "_", color="#0550ae", ms=7, label="expected (recorded spikes)", zorder=3)
        _scatter_by_status(ax, lag, dw_obs, statuses)
        values = np.concatenate([halves[0][1], halves[1][1], [zero], dw_obs])
        span = float(np.nanmax(np.abs(values))) if len(values) else 1.0
        if len(tol) and 0 < np.max(tol) < 2e-3 * (span or 1.0):
            ax.text(0.99, 0.01, f"tolerance ±{np.max(tol):.3g}: band too narrow to see here; see residuals",
                    transform=ax.transAxes, fontsize=7, color="#57606a", va="bottom", ha="right")
        ax.axhline(0.0, color="#d0d7de", lw=0.8, zorder=0)
        ax.set_xlabel("synapse lag s = t_post + f·d − t_pre − (1−f)·d (ms)", fontsize=SMALL)
        ax.set_ylabel("Δw = w − w₀ (weight units)", fontsize=SMALL)
        ax.set_title(plain(panel.title), fontsize=9)
        offset = panel.offset
        top = ax.secondary_xaxis("top", functions=(lambda s, o=offset: s - o, lambda t, o=offset: t + o))
        top.set_xlabel("emission Δt = t_post − t_pre (ms)", fontsize=SMALL)
        top.tick_params(labelsize=7)
        ax.axvline(0.0, color="#6e7781", ls="--", lw=1)
        ax.annotate(f"zero crossing\nat emission Δt = {panel.zero_crossing:+g} ms", xy=(0.0, 0.0), xytext=(6, -34),
                    textcoords="offset points", fontsize=7, color="#24292f")
        ax.tick_params(labelsize=7)
        _legend(ax, loc="upper left")
    return figure


def scatter_figure(panels):
    """Observed against expected final weight per result."""
    figure, axes = _axes_grid(len(panels), width_each=4.2, columns=3)
    for ax, panel in zip(axes, panels):
        p = panel.points
        mask = np.isfinite(p.expected) & np.isfinite(p.observed)
        x, y = p.expected[mask], p.observed[mask]
        if len(x):
            low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
            pad = 0.05 * (high - low or 1.0)
            ends = [low - pad, high + pad]
            ax.plot(ends, ends, color="#8c959f", lw=1, label="observed = expected")
        _scatter_by_status(ax, x, y, np.asarray(p.statuses, dtype=object)[mask])
        ax.set_xlabel("expected final weight (recorded spikes)", fontsize=SMALL)
        ax.set_ylabel("observed final weight", fontsize=SMALL)
        ax.set_title(plain(panel.title), fontsize=9)
        ax.tick_params(labelsize=7)
        _legend(ax, loc="upper left")
    return figure


def residual_figure(panels):
    """Residual per case (observed − expected, or stored integers in LSB) with ±tolerance lines."""
    figure, axes = _axes_grid(len(panels), height=3.2)
    for ax, panel in zip(axes, panels):
        p = panel.points
        residual, tol = p.residual, p.residual_tolerance
        n = len(residual)
        use_lag = n > 0 and bool(p.has_lag.all())
        x = p.lag if use_lag else np.arange(n, dtype=float)
        _scatter_by_status(ax, x, residual, p.statuses, size=14)
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
        limit = 1.3 * limit if limit > 0 else (1.0 if p.unit == "LSB" else 1e-12)
        ax.set_ylim(-limit, limit)
        unit = " (LSB)" if p.unit == "LSB" else ""
        threshold = float(finite_tol.min()) if len(finite_tol) else 0.0
        if threshold > 0 and limit > 50 * threshold:
            # Failures far beyond the tolerance would flatten the ±tolerance lines onto 0.
            ax.set_yscale("symlog", linthresh=threshold, linscale=0.5)
            low, high = math.floor(math.log10(threshold)), math.ceil(math.log10(limit))
            step = max(1, math.ceil((high - low) / 4))
            decades = [10.0 ** k for k in range(high, low - 1, -step)]
            ax.set_yticks([-d for d in decades] + [0.0] + decades[::-1])
            ax.set_ylim(-(10.0 ** high) * 1.5, (10.0 ** high) * 1.5)
            ax.set_ylabel(f"observed − expected{unit} (symlog)", fontsize=SMALL)
        else:
            if p.unit == "LSB":
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            else:
                ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
            ax.set_ylabel(f"observed − expected{unit}", fontsize=SMALL)
        if use_lag:
            ax.set_xlabel("synapse lag s (ms)", fontsize=SMALL)
        else:
            ax.set_xlabel("case", fontsize=SMALL)
            if n <= 30:
                ax.set_xticks(np.arange(n))
                ax.set_xticklabels([plain(short(label, 22)) for label in p.labels], rotation=60, ha="right",
                                   fontsize=6)
        ax.set_title(plain(panel.title), fontsize=9)
        ax.tick_params(labelsize=7)
        ax.yaxis.get_offset_text().set_fontsize(7)
        _legend(ax, loc="best")
    return figure


def seed_figure(panel):
    """Rasters, recorded traces of pre and post cells and the weight, one column per case."""
    cases = panel.cases
    variables = list(dict.fromkeys(t.variable for case in cases for t in case.traces))
    rows, columns = 2 + len(variables), max(1, len(cases))
    width, height = min(12.0, 4.0 * columns + 0.6), 1.0 + 1.75 * rows
    # A regular grid with fixed margins (in inches): the constrained layout costs more than
    # the drawing itself for this many axes.
    figure = new_figure(width, height, layout=None)
    figure.subplots_adjust(left=1.0 / width, right=1 - 0.1 / width, bottom=0.45 / height, top=1 - 0.3 / height,
                           wspace=0.9 / (width / columns), hspace=0.35 / 1.75)
    axes = figure.subplots(rows, columns, squeeze=False, sharex="col")
    for column, case in enumerate(cases):
        ax = axes[0, column]
        trains = (case.intended_pre, case.intended_post, case.recorded_pre, case.recorded_post)
        for offset, (train, colour) in enumerate(zip(trains, ("#8250df", "#bf3989", "#0969da", "#cf222e"))):
            if train:
                ax.eventplot([list(train)], lineoffsets=3 - offset, linelengths=0.75, colors=[colour], linewidths=1.2)
        ax.set_yticks([3, 2, 1, 0])
        ax.set_yticklabels(["drive → pre", "drive → post", "pre cell", "post cell"], fontsize=7)
        ax.set_ylim(-0.7, 3.7)
        ax.set_title(plain(f"{panel.label}: {short(case.label, 40)}"), fontsize=9)
        traces = {t.variable: t for t in case.traces}
        for row, variable in enumerate(variables, start=1):
            ax = axes[row, column]
            trace = traces.get(variable)
            if trace is not None:
                times = np.asarray(trace.times, dtype=float)
                for values, side, colour in ((trace.pre, "pre", "#0969da"), (trace.post, "post", "#cf222e")):
                    if values is not None:
                        m = min(len(times), len(values))
                        ax.plot(times[:m], np.asarray(values[:m], dtype=float), color=colour, lw=1,
                                label=f"{side} cell")
                ax.set_ylabel(plain(f"{variable} ({trace.units})" if trace.units else variable), fontsize=SMALL)
            if column == 0 and row == 1:
                _legend(ax, loc="upper right")
        ax = axes[-1, column]
        if case.trajectory_times is not None and case.trajectory_weights is not None:
            weights = list(case.trajectory_weights)
            times = [0.0, *case.trajectory_times, panel.t_stop]
            ax.plot(times, [case.initial, *weights, weights[-1] if weights else case.initial], drawstyle="steps-post",
                    color="#24292f", lw=1.2, label="predicted from recorded spikes")
        ax.plot([panel.t_stop], [case.observed], "o", ms=7, color=STATUS_COLOURS.get(case.status, "#57606a"),
                label="observed final weight", zorder=4)
        ax.set_ylabel("weight", fontsize=SMALL)
        ax.set_xlabel("time (ms)", fontsize=SMALL)
        ax.set_xlim(0.0, panel.t_stop * 1.03)
        span = panel.w_max - panel.w_min
        ax.set_ylim(panel.w_min - 0.08 * span, panel.w_max + 0.08 * span)
        if column == 0:
            _legend(ax, loc="best")
        for a in axes[:, column]:
            a.tick_params(labelsize=7)
    return figure


def cross_backend_figure(panels):
    """Observed Δw against the emission Δt of the same pairs on each backend, with zero crossings."""
    figure = new_figure(11.0, 4.4)
    ax = figure.subplots()
    for k, panel in enumerate(panels):
        colour = PALETTE[k % len(PALETTE)]
        p = panel.points
        mask = np.isfinite(p.dt) & np.isfinite(p.initial) & np.isfinite(p.observed)
        style = ("-", "--", ":", "-.")[k % 4]
        for s, dw in _kernel(panel.kernel, panel.offset):
            ax.plot(s, dw, color=colour, lw=1.2, alpha=0.7, ls=style)
        # Backends that agree draw on top of each other: alternate filled and open markers.
        filled = k % 2 == 0
        ax.scatter(p.dt[mask], p.dw_observed[mask], s=18 if filled else 34, zorder=3 + k, marker="os^Dv"[k % 5],
                   facecolors=colour if filled else "none", edgecolors=colour, linewidths=1.1,
                   label=plain(f"{panel.label} observed"))
        ax.axvline(panel.zero_crossing, color=colour, ls="--", lw=1)
        ax.annotate(plain(f"{panel.label}: s = 0 at Δt = {panel.zero_crossing:+g} ms"), xy=(panel.zero_crossing, 0.5),
                    xycoords=("data", "axes fraction"), xytext=(8, 30 - 16 * k), textcoords="offset points",
                    fontsize=7.5, color=colour, arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6},
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour, "lw": 0.6})
    ax.axhline(0.0, color="#d0d7de", lw=0.8, zorder=0)
    ax.set_xlabel("emission Δt = t_post − t_pre, recorded (ms)", fontsize=SMALL)
    ax.set_ylabel("Δw = w − w₀ (weight units)", fontsize=SMALL)
    ax.set_title("The same PyNN script on each backend: Δw against emission Δt (lines: reference per backend)",
                 fontsize=9)
    ax.tick_params(labelsize=7)
    _legend(ax, loc="lower right")
    return figure


def timings_figure(panel):
    """Stacked horizontal bars: seconds per phase of every result."""
    values = np.asarray(panel.values, dtype=float).reshape(len(panel.labels), len(panel.phases))
    figure = new_figure(10.0, 1.0 + 0.28 * len(panel.labels))
    ax = figure.subplots()
    y = np.arange(len(panel.labels))[::-1]
    left = np.zeros(len(panel.labels))
    for k, phase in enumerate(panel.phases):
        ax.barh(y, values[:, k], left=left, color=PHASE_COLOURS[k % len(PHASE_COLOURS)], label=plain(phase), height=0.7)
        left += values[:, k]
    for yy, total in zip(y, left):
        ax.text(total, yy, f" {total:.2f} s", va="center", fontsize=7, color="#24292f")
    ax.set_xlim(0, max(float(left.max()) if len(left) else 1.0, 1e-3) * 1.1)
    ax.set_yticks(y)
    ax.set_yticklabels([plain(short(label, 40)) for label in panel.labels], fontsize=7)
    ax.set_xlabel("seconds", fontsize=SMALL)
    ax.tick_params(labelsize=7)
    if panel.phases:
        ax.legend(fontsize=7, loc="lower right", ncols=min(len(panel.phases), 5))
    return figure


def trends_figure(panel):
    """Three panels against the night: worst error/tolerance and seconds per backend label, counters."""
    figure = new_figure(12.0, 3.4)
    axes = figure.subplots(1, 3)
    x = np.arange(len(panel.nights))
    for ax, series, title, log in ((axes[0], panel.worst, "worst error / tolerance", True),
                                   (axes[1], panel.seconds, "seconds (all phases)", False),
                                   (axes[2], panel.counters, "sPyNNaker counters (summed)", False)):
        for k, (name, values) in enumerate(series):
            y = np.array([np.nan if v is None else float(v) for v in values])
            if log:
                y = np.where(y > 0, y, np.nan)
            ax.plot(x, y, marker="o", ms=3, color=PALETTE[k % len(PALETTE)], label=plain(short(name, 30)))
        if log and any(v for _, values in series for v in values if v):
            ax.set_yscale("log")
        ax.set_title(title, fontsize=SMALL)
        ax.set_xticks(x)
        ax.set_xticklabels([plain(n) for n in panel.nights], rotation=45, ha="right", fontsize=6)
        ax.tick_params(labelsize=7)
        if series:
            ax.legend(fontsize=6)
        else:
            ax.text(0.5, 0.5, "none recorded", transform=ax.transAxes, ha="center", fontsize=SMALL)
    return figure


def frequency_figure(panel):
    """Δw against pairing frequency: one colour per backend label, solid for Δt > 0, dashed for
    Δt < 0; lines the expected Δw, markers the observed."""
    figure = new_figure(7.5, 4.0)
    ax = figure.subplots()
    labels = list(dict.fromkeys(s.label for s in panel.series))
    for series in panel.series:
        colour = PALETTE[labels.index(series.label) % len(PALETTE)]
        style = "-" if series.lag > 0 else "--"
        expected = [np.nan if v is None else v for v in series.expected]
        ax.plot(series.frequencies, expected, style, color=colour, lw=1.2, alpha=0.7,
                label=plain(f"{short(series.label, 24)}, Δt {series.lag:+g} ms: expected"))
        ax.plot(series.frequencies, series.observed, "o", color=colour, ms=5, mfc="none" if series.lag < 0 else colour,
                label=plain(f"{short(series.label, 24)}, Δt {series.lag:+g} ms: observed"))
    ax.axhline(0.0, color="#8c959f", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(plain(panel.parameter_name), fontsize=SMALL)
    ax.set_ylabel("Δw (final − initial weight)", fontsize=SMALL)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, ncols=2)
    return figure


def distribution_figure(panels):
    """Histograms of the initial (grey) and observed final (colour) weights, one panel per
    backend label, over [w_min, w_max]."""
    from .views.network import BINS

    figure, axes = _axes_grid(len(panels), width_each=4.6, height=3.2, columns=3)
    for index, (ax, panel) in enumerate(zip(axes, panels)):
        edges = np.linspace(panel.w_min, panel.w_max, BINS + 1)
        ax.hist(panel.initial, bins=edges, histtype="step", color="#8c959f", lw=1.2, label="initial")
        ax.hist(panel.final, bins=edges, color=PALETTE[index % len(PALETTE)], alpha=0.75, label="final (observed)")
        verdict = "bimodal" if panel.bimodal else "not bimodal"
        ax.set_title(plain(f"{short(panel.label, 36)}: {verdict}, "
                           f"{100 * (panel.near_low + panel.near_high):.0f} % near a bound"), fontsize=SMALL)
        ax.set_xlabel("weight", fontsize=SMALL)
        ax.set_ylabel("synapses", fontsize=SMALL)
        ax.tick_params(labelsize=7)
        _legend(ax)
    return figure
