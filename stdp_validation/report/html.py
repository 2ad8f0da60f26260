"""The HTML page: one self-contained file, figures inlined, every data value escaped.

The page has no scripts, no external styles, fonts or links; images are base64 PNG data
URIs (each also written to ``figures/`` beside the page). Sections carry stable ids:
``summary``, ``protocol-<name>`` (name reduced to letters, digits, ``-`` and ``_``), ``seed``,
``cross-backend``, ``known-defects``, ``timings`` and, when SpiNNaker results or a SpiNNaker
skip reason exist, ``spinnaker``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import os
import tempfile
from dataclasses import fields
from pathlib import Path

import numpy as np

from ..compare import FAIL, KNOWN_DEFECT, PASS
from ..conventions import Conventions
from ..reference import stdp_window
from .analysis import amplitude_gain, lag_offset, points, zero_crossing_dt
from .data import VERSION_COLUMNS, load_run, slugify
from .plots import (
    cross_backend_figure,
    phases,
    png_bytes,
    residual_figure,
    scatter_figure,
    seed_figure,
    timings_figure,
    window_figure,
)

#: Case tables longer than this start collapsed (unless a case failed).
OPEN_TABLE_ROWS = 12
#: Spike lists longer than this are shortened in tables.
TIMES_SHOWN = 5

STATUS_CLASS = {PASS: "pass", FAIL: "fail", KNOWN_DEFECT: "known"}
STATUS_TEXT = {PASS: "pass", FAIL: "FAIL", KNOWN_DEFECT: "known defect"}


def write_report(run_directory, *, benchmark_json=None) -> Path:
    """Write ``run_directory/index.html`` and ``run_directory/figures/*.png``; return the page's path.

    Reads ``run_directory/results.json`` and the observation files it references (paths
    relative to the run folder; a missing or unreadable one is reported on the page, not
    raised). ``benchmark_json``: a pytest-benchmark JSON file to tabulate; by default a
    ``benchmark.json`` in the run folder is used when present. Raises
    :class:`~stdp_validation.errors.ParameterError` when ``results.json`` is missing or invalid.
    """
    directory = Path(run_directory)
    run = load_run(directory, benchmark_json)
    figures = _Figures(directory / "figures")
    page = _Page(run, figures).render()
    figures.remove_stale()
    path = directory / "index.html"
    _write_text_atomic(path, page)
    return path


# ---------------------------------------------------------------------------------------------
# Small helpers


def esc(value):
    return html.escape(str(value), quote=True)


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def num(value, spec=".6g"):
    """A number for a table cell (``—`` when missing)."""
    if not _finite(value):
        return "—" if value is None else esc(value)
    return esc(format(value, spec))


def times_text(times, limit=TIMES_SHOWN):
    """A spike list shortened to its first and last few values, with the count."""
    values = [t for t in (times or [])]
    if not values:
        return "none"
    text = [format(float(t), "g") for t in values]
    if len(text) <= limit:
        return esc(", ".join(text))
    head = ", ".join(text[: limit - 2])
    return esc(f"{head}, …, {text[-1]} ({len(text)} spikes)")


def badge(status):
    cls = STATUS_CLASS.get(status, "other")
    return f'<span class="badge {cls}">{esc(STATUS_TEXT.get(status, status))}</span>'


def _row_class(summary):
    if summary.get("failed"):
        return "fail"
    if summary.get("known_defects"):
        return "known"
    return "pass"


def _table(headers, rows, cls=""):
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "\n".join(rows) if rows else f'<tr><td colspan="{len(headers)}">none</td></tr>'
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _parse_time(text):
    try:
        return _dt.datetime.fromisoformat(str(text))
    except (TypeError, ValueError):
        return None


def _write_text_atomic(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _Figures:
    """Renders figures to PNG, writes each to ``figures/`` and returns the inline ``<figure>``."""

    def __init__(self, directory):
        self.directory = directory
        self.written = []

    def add(self, name, figure, alt, caption_html=""):
        name = slugify(name)
        stem, n = name, 1
        while f"{name}.png" in self.written:
            n += 1
            name = f"{stem}-{n}"
        data = png_bytes(figure)
        figure.clear()
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / f"{name}.png").write_bytes(data)
        self.written.append(f"{name}.png")
        encoded = base64.b64encode(data).decode("ascii")
        caption = f"<figcaption>{caption_html} <span class=\"file\">figures/{esc(name)}.png</span></figcaption>"
        return f'<figure><img src="data:image/png;base64,{encoded}" alt="{esc(alt)}">{caption}</figure>'

    def remove_stale(self):
        """Remove PNGs of an earlier report of this run that this one did not write."""
        if self.directory.is_dir():
            for path in self.directory.glob("*.png"):
                if path.name not in self.written:
                    path.unlink(missing_ok=True)


CSS = """
:root{--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--known:#9a6700;--known-bg:#fff8c5;
--line:#d0d7de;--muted:#57606a;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:#1f2328;background:#fff;line-height:1.45;font-size:15px}
header{background:#f6f8fa;border-bottom:1px solid var(--line);padding:14px 28px}
header h1{margin:0 0 4px;font-size:22px}
main{max-width:1260px;margin:0 auto;padding:8px 28px 40px}
nav.toc{border:1px solid var(--line);border-radius:6px;padding:8px 14px;margin:14px 0;background:#fbfcfd}
nav.toc ol{margin:4px 0;padding-left:22px;columns:2}
nav.toc a{text-decoration:none;color:#0969da}
section{border-top:2px solid var(--line);margin-top:26px;padding-top:6px}
h2{font-size:20px;margin:8px 0}h3{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}
th,td{border:1px solid var(--line);padding:3px 7px;vertical-align:top;text-align:left}
th{background:#f6f8fa;font-weight:600}
td.num,span.num{font-family:var(--mono);text-align:right;white-space:nowrap;font-size:12px}
td.times{font-family:var(--mono);font-size:12px;max-width:240px}
code,pre,kbd{font-family:var(--mono);font-size:12.5px}
code.path{overflow-wrap:anywhere}
table.conv td:first-child{white-space:nowrap}
td.val{font-family:var(--mono);font-size:12px}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;border:1px solid var(--line);padding:6px 8px;
border-radius:4px;max-height:24em;overflow:auto}
tr.fail td{background:var(--fail-bg)}tr.known td{background:var(--known-bg)}
.badge{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.pass{background:var(--pass-bg);color:var(--pass)}.badge.fail{background:var(--fail);color:#fff}
.badge.known{background:var(--known-bg);color:var(--known);border:1px solid #d4a72c}
.badge.other{background:#eaeef2;color:var(--muted)}
.banner{padding:8px 12px;border-radius:6px;font-weight:600;margin:10px 0}
.banner.pass{background:var(--pass-bg);color:var(--pass)}.banner.fail{background:var(--fail-bg);color:var(--fail)}
.banner.known{background:var(--known-bg);color:var(--known)}
.muted,.file{color:var(--muted);font-size:12px}
.diff td{background:#ddf4ff}
figure{margin:10px 0 16px}figure img{max-width:100%;height:auto;border:1px solid #eaeef2}
figcaption{font-size:13px;color:#3d444d;margin-top:2px}
details{margin:6px 0}summary{cursor:pointer;color:#0969da}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}dl.kv dt{font-weight:600}
dl.kv dd{margin:0}
.note{border-left:4px solid #54aeff;background:#f1f8ff;padding:4px 10px;margin:6px 0;font-size:14px}
"""


# ---------------------------------------------------------------------------------------------
# The page


class _Page:
    def __init__(self, run, figures):
        self.run = run
        self.figures = figures

    def render(self):
        run = self.run
        sections = [("summary", "Summary", self.summary())]
        for name in run.protocols:
            sections.append((f"protocol-{run.slug(name)}", f"Protocol {name}", self.protocol(name)))
        sections.append(("seed", "Seed network", self.seed()))
        sections.append(("cross-backend", "Cross-backend differences", self.cross_backend()))
        sections.append(("known-defects", "Known defects", self.known_defects()))
        sections.append(("timings", "Timings", self.timings()))
        spinnaker = self.spinnaker()
        if spinnaker:
            sections.append(("spinnaker", "SpiNNaker", spinnaker))
        toc = "".join(f'<li><a href="#{sid}">{esc(title)}</a></li>' for sid, title, _ in sections)
        body = "\n".join(f'<section id="{sid}">\n{content}\n</section>' for sid, _, content in sections)
        started = esc(run.raw.get("started") or "?")
        generated = esc(_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        from .. import __version__

        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>STDP validation report {started}</title>\n"
            f"<style>{CSS}</style></head>\n<body>\n"
            f"<header><h1>STDP validation report</h1><div class=\"muted\">run started {started} · "
            f"report generated {generated} by stdp-validation {esc(__version__)} · "
            f"{esc(run.directory.name)}</div></header>\n<main>\n"
            f'<nav class="toc"><strong>Contents</strong><ol>{toc}</ol></nav>\n{body}\n</main>\n</body></html>\n'
        )

    # -- summary ---------------------------------------------------------------------------
    def summary(self):
        run = self.run
        raw = run.raw
        failed_cases = sum(e.counts["failed"] for e in run.entries)
        known_cases = sum(e.counts["known_defects"] for e in run.entries)
        total = sum(e.counts["cases"] for e in run.entries)
        virtual = sum(e.counts["cases"] for e in run.entries if not e.board_output)
        compared = total - virtual
        failed_checks = sum(e.failed_checks for e in run.entries)
        virtual_text = (f"; {virtual} case(s) on the SpiNNaker virtual board: nothing simulated, toolchain "
                        f"checks only ({failed_checks} failed)") if virtual else ""
        if raw.get("interrupted"):
            banner = ("fail", "INTERRUPTED: the run was stopped; results so far are shown")
        elif compared == 0 and virtual and not (run.errors or failed_checks):
            banner = ("known", f"NO WEIGHTS COMPARED: all {virtual} case(s) ran on the SpiNNaker virtual board "
                               "(nothing simulated); only the toolchain checks were made, and they passed")
        elif failed_cases or run.errors or failed_checks:
            banner = ("fail", f"FAILED: {failed_cases} failed case(s), {len(run.errors)} run error(s) "
                              f"out of {compared} simulated cases{virtual_text}")
        elif known_cases:
            banner = ("known", f"PASSED with {known_cases} known-defect case(s) out of {compared} simulated "
                               f"cases{virtual_text}")
        else:
            banner = ("pass", f"PASSED: all {compared} simulated cases within tolerance{virtual_text}")
        started, finished = _parse_time(raw.get("started")), _parse_time(raw.get("finished"))
        duration = f"{(finished - started).total_seconds():.1f} s" if started and finished else "—"
        out = ["<h2>Summary</h2>", f'<div class="banner {banner[0]}">{esc(banner[1])}</div>',
               '<dl class="kv">',
               f"<dt>command</dt><dd><code>{esc(run.command or '(not recorded)')}</code></dd>",
               f"<dt>started</dt><dd>{esc(raw.get('started') or '—')}</dd>",
               f"<dt>finished</dt><dd>{esc(raw.get('finished') or 'not finished')}</dd>",
               f"<dt>duration</dt><dd>{esc(duration)}</dd>",
               f"<dt>backends</dt><dd>{esc(', '.join(map(str, run.backends)) or '—')}</dd>",
               f"<dt>run folder</dt><dd><code>{esc(run.directory)}</code></dd>",
               "</dl>"]
        rows = []
        for e in run.entries:
            s = e.counts
            obs = e.observation
            ratio = e.summary.get("worst_error_over_tolerance")
            compared = [v for v in e.verdicts if v.get("status") not in (KNOWN_DEFECT, "not_run")]
            ratios = [v["error"] / v["tolerance"] for v in compared
                      if _finite(v.get("error")) and _finite(v.get("tolerance")) and v["tolerance"] > 0]
            if compared:
                ratio = max(ratios, default=0.0)
            elif e.verdicts:
                ratio = None
            not_run = sum(v.get("status") == "not_run" for v in e.verdicts)
            ratio_html = "n/a" if ratio is None else num(ratio, ".3g")
            virtual = "" if e.board_output else ' <span class="badge other">not board output</span>'
            rows.append(
                f'<tr class="{_row_class(s)}"><td>{esc(e.backend)}{virtual}</td>'
                f'<td><a href="#protocol-{esc(run.slug(e.protocol))}">{esc(e.protocol)}</a></td>'
                f"<td>{esc(e.rule)}</td><td class=\"num\">{num(s['cases'])}</td>"
                f"<td class=\"num\">{num(s.get('passed'))}</td><td class=\"num\">{num(s.get('failed'))}</td>"
                f"<td class=\"num\">{num(s.get('known_defects'))}</td><td class=\"num\">{not_run}</td>"
                f"<td class=\"num\">{ratio_html}</td>"
                f"<td class=\"num\">{num(obs.protocol.timestep if obs else None, 'g')}</td>"
                f"<td class=\"num\">{num(obs.delay if obs else None, 'g')}</td>"
                f"<td class=\"num\">{num(obs.t_stop if obs else None, 'g')}</td></tr>"
            )
        for error in run.errors:
            rows.append(
                f'<tr class="fail"><td>{esc(error.get("backend", "?"))}</td><td>{esc(error.get("protocol", "?"))}</td>'
                f'<td colspan="10">run error: {esc(error.get("error", ""))}</td></tr>'
            )
        out.append("<h3>Results per backend and protocol</h3>")
        out.append(_table(["backend", "protocol", "rule", "cases", "passed", "failed", "known defects", "not run",
                           "worst error / tolerance", "timestep (ms)", "delay (ms)", "t_stop (ms)"], rows))
        out.append('<p class="muted">worst error / tolerance excludes known-defect cases; above 1 is a failure; '
                   "n/a: no case was compared. <em>not board output</em> / <em>not run</em>: the backend recorded no "
                   "simulation (a SpiNNaker virtual board); its weights are the initial ones and say nothing about "
                   "learning, so there is no weight verdict.</p>")
        out.append(self.environment())
        if run.skipped:
            out.append("<h3>Skipped backends</h3>")
            out.append(_table(["backend", "reason"], [f"<tr><td>{esc(b)}</td><td>{esc(r)}</td></tr>"
                                                      for b, r in run.skipped.items()]))
        if run.unsupported:
            out.append("<h3>Not supported by a backend</h3>")
            out.append(_table(["backend", "protocol", "reason"], [
                f"<tr><td>{esc(u.get('backend', '?'))}</td><td>{esc(u.get('protocol', '?'))}</td>"
                f"<td>{esc(u.get('reason', ''))}</td></tr>" for u in run.unsupported]))
        if run.errors:
            out.append("<h3>Run errors</h3>")
            out.append(_table(["backend", "protocol", "error", "cause"], [
                f'<tr class="fail"><td>{esc(x.get("backend", "?"))}</td><td>{esc(x.get("protocol", "?"))}</td>'
                f'<td><code>{esc(x.get("error", ""))}</code></td><td><details><summary>traceback</summary>'
                f'<pre>{esc(x.get("traceback", "") or "(none recorded)")}</pre></details></td></tr>'
                for x in run.errors]))
        return "\n".join(out)

    def environment(self):
        run = self.run
        rows = []
        for backend in run.backends:
            entries = [e for e in run.entries if e.backend == backend]
            if not entries:
                continue

            def joined(values):
                values = [v for v in dict.fromkeys(values) if v not in (None, "")]
                return " / ".join(values) if values else "—"

            cells = [joined(e.version(c) for e in entries) for c in VERSION_COLUMNS]
            machine = joined(str(e.environment.get("machine")) if e.environment.get("machine") is not None else None
                             for e in entries)
            platform = joined(e.environment.get("platform") for e in entries)
            extra = {}
            for e in entries:
                for k, v in e.environment.items():
                    if k not in ("versions", "platform", "machine"):
                        extra.setdefault(str(k), [])
                        value = _environment_value(v)
                        if value not in extra[k]:
                            extra[k].append(value)
            other_versions = joined(
                f"{k} {v}" for e in entries for k, v in ((e.environment.get("versions") or {}).items())
                if not any(k in keys for keys in VERSION_COLUMNS.values())
            )
            more = ""
            if extra:
                more = (f"<details><summary>{len(extra)} more</summary><dl class=\"kv\">"
                        + "".join(f"<dt>{esc(k)}</dt><dd>{esc(_short(' / '.join(v), 600))}</dd>" for k, v in extra.items())
                        + "</dl></details>")
            rows.append(
                f"<tr><td>{esc(backend)}</td><td>{esc(machine)}</td>"
                + "".join(f'<td class="num">{esc(c)}</td>' for c in cells)
                + f"<td>{esc(platform)}</td><td>{esc(other_versions)}{more}</td></tr>"
            )
        headers = ["backend", "board / virtual board / software simulator"] + [esc(c) for c in VERSION_COLUMNS] + [
            "platform", "other versions, environment"]
        timesteps = []
        for name in run.protocols:
            steps = sorted({e.observation.protocol.timestep for e in run.entries_for(name) if e.observation})
            timesteps.append(f"{esc(name)}: <span class=\"num\">{', '.join(format(s, 'g') for s in steps) or '—'}</span>")
        return ("<h3>Environment</h3>" + _table(headers, rows)
                + f"<p>Timestep per protocol (ms): {'; '.join(timesteps) or '—'}</p>")

    # -- protocols -------------------------------------------------------------------------
    def protocol(self, name):
        run = self.run
        slug = run.slug(name)
        entries = run.entries_for(name)
        out = [f"<h2>Protocol <code>{esc(name)}</code></h2>"]
        described = next((e.observation.protocol for e in entries if e.observation), None)
        if described is not None:
            out.append(f"<p>{esc(described.description)}"
                       + (f" Swept: {esc(described.parameter_name)}." if described.parameter_name else "") + "</p>")
        for error in run.errors:
            if str(error.get("protocol")) == name:
                out.append(f'<div class="banner fail">{esc(error.get("backend", "?"))}: run error '
                           f'{esc(error.get("error", ""))}</div>')
        if not entries:
            out.append("<p>No results for this protocol.</p>")
            return "\n".join(out)
        rows = []
        for e in entries:
            obs = e.observation
            if obs is None:
                rows.append(f"<tr><td>{esc(e.backend)}</td><td>{esc(e.rule)}</td>"
                            f'<td colspan="6">observation not available: {esc(e.observation_problem)}</td></tr>')
                continue
            p = obs.protocol
            rows.append(
                f"<tr><td>{esc(e.backend)}</td><td>{esc(e.rule)}</td><td>{esc(obs.conventions.name)}</td>"
                f'<td class="num">{num(obs.delay, "g")}</td><td class="num">{num(p.timestep, "g")}</td>'
                f'<td class="num">{num(obs.t_stop, "g")}</td><td class="num">{num(p.trailing_pre_gap, "g")}</td>'
                f"<td><code class=\"path\">{esc(e.observation_file)}</code></td></tr>"
            )
        out.append(_table(["backend", "rule", "conventions", "delay (ms)", "timestep (ms)", "t_stop (ms)",
                           "trailing pre gap (ms)", "observation"], rows))
        failed = [(e, v) for e in entries for v in e.verdicts if v.get("status") == FAIL]
        if failed:
            items = ", ".join(f"{esc(v.get('case'))} ({esc(e.backend)})" for e, v in failed[:20])
            more = f" and {len(failed) - 20} more" if len(failed) > 20 else ""
            out.append(f'<div class="banner fail">{len(failed)} failed case(s): {items}{more}</div>')
        # The window in synapse-lag coordinates.
        window_entries = [e for e in entries if e.observation is not None and _has_lag_points(e)]
        single_pair = bool(window_entries) and all(e.is_single_pair for e in window_entries)
        if window_entries:
            caption = ("STDP window in synapse-lag coordinates (top axis: emission Δt). Grey: the reference kernel "
                       "<code>stdp_window</code> of each backend's rule and conventions for an isolated pair; "
                       "blue ticks and band: the expected Δw from the recorded spikes (includes any trailing "
                       "presynaptic spike) ± tolerance; dots: observed Δw, coloured by verdict.")
            out.append(self.figures.add(f"{slug}-window", window_figure(window_entries, single_pair),
                                        f"STDP window of protocol {name}", caption))
            if single_pair:
                out.append(self.zero_crossings(window_entries))
        # Virtual-board results have no prediction: they are not plotted against one.
        compared = [e for e in entries if e.board_output]
        scatter_entries = [e for e in compared if e.verdicts and (e.observation is None or not _all_lag(e))]
        if scatter_entries:
            out.append(self.figures.add(
                f"{slug}-observed-vs-expected", scatter_figure(scatter_entries),
                f"observed against expected weights, protocol {name}",
                "Cases without a single-pair lag: observed against expected final weight (reference model on the "
                "recorded spikes), coloured by verdict."))
        residual_entries = [e for e in compared if e.verdicts]
        if residual_entries:
            out.append(self.figures.add(
                f"{slug}-residuals", residual_figure(residual_entries), f"residuals of protocol {name}",
                "Residuals observed − expected per case, with the ±tolerance lines."))
        for e in entries:
            notes = list(dict.fromkeys([*e.notes, *(e.observation.notes if e.observation else [])]))
            for note in notes:
                out.append(f'<div class="note">{esc(e.backend)}: {esc(note)}</div>')
        for e in entries:
            out.append(self.case_table(e))
        return "\n".join(out)

    def zero_crossings(self, entries):
        rows = []
        for e in entries:
            obs = e.observation
            f = obs.conventions.dendritic_delay_fraction
            rows.append(
                f"<tr><td>{esc(e.backend)}</td><td>{esc(obs.conventions.name)}</td><td class=\"num\">{num(f, 'g')}</td>"
                f"<td class=\"num\">{num(obs.delay, 'g')}</td>"
                f"<td class=\"num\">{num(lag_offset(obs.conventions, obs.delay), '+g')}</td>"
                f"<td class=\"num\">{num(zero_crossing_dt(obs.conventions, obs.delay), '+g')}</td></tr>"
            )
        return ("<h3>Zero crossing in emission time</h3>"
                "<p>s = Δt + (2f − 1)·d, so the window's zero crossing (s = 0) sits at emission "
                "Δt = (1 − 2f)·d.</p>"
                + _table(["backend", "conventions", "dendritic_delay_fraction f", "delay d (ms)", "s − Δt (ms)",
                          "zero crossing at emission Δt (ms)"], rows))

    def case_table(self, entry):
        cases = entry.cases
        obs = entry.observation
        rows = []
        failed = 0
        for number, (v, case) in enumerate(zip(entry.verdicts, cases), start=1):
            status = v.get("status")
            failed += status == FAIL
            index = entry.case_index(v.get("case"))
            rec_pre = obs.pre_spike_times[index] if index is not None else None
            rec_post = obs.post_spike_times[index] if index is not None else None
            error, tol = v.get("error"), v.get("tolerance")
            ratio = error / tol if _finite(error) and _finite(tol) and tol > 0 else None
            timing = v.get("post_timing_note") or (
                f"{v['post_timing_error']:.3g} ms" if _finite(v.get("post_timing_error")) else "")
            defects = ", ".join(str(d) for d in v.get("defects") or [])
            rows.append(
                f'<tr class="{STATUS_CLASS.get(status, "other")}"><td class="num">{number}</td>'
                f"<td>{esc(v.get('case', '?'))}</td>"
                f'<td class="times">{times_text(case.pre_spike_times) if case else "—"}</td>'
                f'<td class="times">{times_text(case.post_drive_times) if case else "—"}</td>'
                f'<td class="times">{times_text(rec_pre) if rec_pre is not None else "—"}</td>'
                f'<td class="times">{times_text(rec_post) if rec_post is not None else "—"}</td>'
                f"<td>{esc(timing)}</td>"
                f'<td class="num">{num(v.get("lag"), ".4g")}</td>'
                f'<td class="num">{num(v.get("expected"), ".12g")}</td>'
                f'<td class="num">{num(v.get("observed"), ".12g")}</td>'
                f'<td class="num">{num(error, ".3g")}</td><td class="num">{num(tol, ".3g")}</td>'
                f'<td class="num">{num(ratio, ".3g")}</td>'
                f"<td>{badge(status)}{(' ' + esc(defects)) if defects else ''}</td></tr>"
            )
        reasons = sorted({str(v.get("tolerance_reason")) for v in entry.verdicts if v.get("tolerance_reason")})
        table = _table(["#", "case", "intended pre (ms)", "intended post (ms)", "recorded pre (ms)",
                        "recorded post (ms)", "post timing", "lag s (ms)", "expected", "observed", "|error|",
                        "tolerance", "error / tolerance", "verdict"], rows, cls="cases")
        open_attr = " open" if failed or len(rows) <= OPEN_TABLE_ROWS else ""
        s = entry.counts
        summary_line = (f"{esc(entry.backend)} · {esc(entry.rule)}: {len(rows)} cases, {num(s.get('passed'))} passed, "
                        f"{num(s.get('failed'))} failed, {num(s.get('known_defects'))} known defects")
        reason_html = "".join(f'<p class="muted">Tolerance: {esc(r)}</p>' for r in reasons)
        return (f"<h3>Cases: {esc(entry.backend)} · {esc(entry.rule)}</h3>"
                f"<details{open_attr}><summary>{summary_line}</summary>{reason_html}{table}</details>")

    # -- seed ------------------------------------------------------------------------------
    def seed(self):
        entries = [e for e in self.run.entries if e.is_seed and e.board_output]
        without = [e for e in self.run.entries if e.is_seed and not e.board_output]
        out = ["<h2>Seed network</h2>"]
        for e in without:
            out.append(f'<div class="note">{esc(e.backend)} · {esc(e.protocol)}: not board output (no spikes, no '
                       "traces, initial weights only): not drawn.</div>")
        if not entries:
            out.append("<p>No seed-network results in this run (protocol <code>seed</code> not run or its "
                       "observations are missing).</p>")
            return "\n".join(out)
        out.append("<p>The seed notebook's network per backend: thalamic spike sources (the protocol's intended "
                   "times), the recorded spikes of the pre and post cells, their membrane potential and "
                   "conductances, and the plastic weight: the line is <strong>predicted from recorded "
                   "spikes</strong> by the reference model (steps at the synapse-side time each update becomes "
                   "visible), the dot is the observed final weight.</p>")
        for e in entries:
            obs = e.observation
            out.append(f"<h3>{esc(e.backend)} · {esc(e.rule)} (protocol {esc(e.protocol)})</h3>")
            out.append(self.figures.add(
                f"seed-{e.backend}-{e.protocol}-{e.rule}", seed_figure(e),
                f"seed network traces on {e.backend}",
                f"{esc(e.backend)}: rasters, v, gsyn_exc, gsyn_inh of pre (blue) and post (red) cells, weight "
                f"predicted from recorded spikes. Timestep {num(obs.protocol.timestep, 'g')} ms, delay "
                f"{num(obs.delay, 'g')} ms."))
            verdicts = {v.get("case"): v for v in e.verdicts}
            rows = []
            for index, case in enumerate(obs.protocol.cases):
                v = verdicts.get(case.label, {})
                rows.append(
                    f'<tr class="{STATUS_CLASS.get(v.get("status"), "other")}"><td>{esc(case.label)}</td>'
                    f'<td class="times">{times_text(case.pre_spike_times)}</td>'
                    f'<td class="times">{times_text(case.post_drive_times)}</td>'
                    f'<td class="times">{times_text(obs.pre_spike_times[index])}</td>'
                    f'<td class="times">{times_text(obs.post_spike_times[index])}</td>'
                    f'<td class="num">{num(obs.initial_weights[index], ".6g")}</td>'
                    f'<td class="num">{num(v.get("expected"), ".12g")}</td>'
                    f'<td class="num">{num(obs.final_weights[index], ".12g")}</td><td>{badge(v.get("status"))}</td></tr>'
                )
            out.append(_table(["case", "thalamic → pre (ms)", "thalamic → post (ms)", "pre cell spikes (ms)",
                               "post cell spikes (ms)", "initial weight", "predicted final", "observed final",
                               "verdict"], rows))
        return "\n".join(out)

    # -- cross-backend ---------------------------------------------------------------------
    def cross_backend(self):
        run = self.run
        out = ["<h2>Cross-backend differences</h2>",
               "<p>The same PyNN script gives different weights on different backends because each backend "
               "follows its own conventions. Every backend is validated against the reference under "
               "<em>its</em> conventions; this section shows where the backends differ from each other and "
               "which convention explains it.</p>"]
        groups = {}
        for e in run.entries:
            if e.board_output:
                groups.setdefault((e.protocol, e.rule), []).append(e)
        left_out = sorted({e.backend for e in run.entries if not e.board_output})
        if left_out:
            out.append(f'<div class="note">Left out of the comparison (not board output, no learning to compare): '
                       f'{esc(", ".join(left_out))}. Their conventions are in the table below.</div>')
        compared = {k: g for k, g in groups.items() if len({e.backend for e in g}) >= 2}
        if not compared:
            out.append("<p>Fewer than two backends ran the same protocol and rule: nothing to compare.</p>")
        window_groups = [(k, g) for k, g in compared.items()
                         if all(e.observation is not None and e.is_single_pair for e in g)]
        for (protocol, rule), group in window_groups:
            group = _one_per_backend(group)
            out.append(f"<h3>Window <code>{esc(protocol)}</code> · {esc(rule)}</h3>")
            out.append(self.figures.add(
                f"cross-backend-{protocol}-{rule}", cross_backend_figure(group),
                f"delta w against emission delta t per backend, protocol {protocol}",
                "Δw of the same pairs against the emission Δt recorded on each backend; dashed: each backend's zero "
                "crossing (s = 0), lines: each backend's reference kernel."))
            out.append(self.sign_disagreements(group))
        if compared:
            out.append("<h3>Agreement of final weights between backends</h3>"
                       '<p class="muted">Rows in blue: the backends give different weights for the same script '
                       "(expected where their conventions differ; each is still checked against its own reference).</p>")
            out.append(self.disagreement_table(compared))
        out.append(self.conventions_table())
        portability = [d for d in run.known_defects if d.get("id") == "pynn-dendritic-delay-fraction"]
        for d in portability:
            out.append(f'<div class="note">Known portability defect <code>{esc(d.get("id"))}</code>: '
                       f'{esc(d.get("title", ""))}. {esc(d.get("evidence", ""))}</div>')
        return "\n".join(out)

    def sign_disagreements(self, group):
        """Cases whose Δw has a different sign on two backends (the band between the zero crossings)."""
        data = {}
        for e in group:
            p = points(e)
            data[e.backend] = {label: (dt, dw) for label, dt, dw in zip(p.labels, p.dt, p.dw_observed)}
        backends = list(data)
        labels = [label for label in data[backends[0]] if all(label in data[b] for b in backends)]
        rows = []
        for label in labels:
            signs = {np.sign(round(data[b][label][1], 15)) for b in backends}
            if len(signs) > 1:
                rows.append(f"<tr><td>{esc(label)}</td>" + "".join(
                    f'<td class="num">{num(data[b][label][0], "+.4g")}</td><td class="num">{num(data[b][label][1], ".4g")}</td>'
                    for b in backends) + "</tr>")
        headers = ["case"] + [h for b in backends for h in (f"{esc(b)}: emission Δt (ms)", f"{esc(b)}: Δw")]
        text = (f"<p>{len(rows)} of {len(labels)} pairs change the weight in different directions (or one backend "
                "not at all) on different backends:</p>")
        return text + _table(headers, rows[:40]) + (f'<p class="muted">{len(rows) - 40} more not shown.</p>'
                                                   if len(rows) > 40 else "")

    def disagreement_table(self, compared):
        rows = []
        for (protocol, rule), group in compared.items():
            group = _one_per_backend(group)
            for i, a in enumerate(group):
                for b in group[i + 1:]:
                    va = {v.get("case"): v for v in a.verdicts}
                    vb = {v.get("case"): v for v in b.verdicts}
                    shared = [c for c in va if c in vb]
                    diffs = []
                    for c in shared:
                        x, y = va[c].get("observed"), vb[c].get("observed")
                        if _finite(x) and _finite(y):
                            tol = max(va[c].get("tolerance") or 0.0, vb[c].get("tolerance") or 0.0)
                            diffs.append((abs(x - y), c, tol))
                    differ = sum(d > tol for d, _, tol in diffs)
                    worst = max(diffs, default=(None, "—", 0.0))
                    rows.append(
                        f'<tr class="{"diff" if differ else "same"}"><td>{esc(protocol)}</td><td>{esc(rule)}</td>'
                        f"<td>{esc(a.backend)} vs {esc(b.backend)}</td><td class=\"num\">{len(shared)}</td>"
                        f'<td class="num">{differ}</td><td class="num">{num(worst[0], ".3g")}</td>'
                        f"<td>{esc(worst[1])}</td></tr>")
        return _table(["protocol", "rule", "backends", "shared cases", "cases differing beyond tolerance",
                       "largest |w_a − w_b|", "at case"], rows)

    def conventions_table(self):
        """The conventions of every backend in the run, with what each difference does."""
        run = self.run
        columns = {}
        context = None
        for e in run.entries:
            obs = e.observation
            if obs is None:
                continue
            columns.setdefault((e.backend, obs.conventions.name), obs.conventions)
            if context is None or (e.is_single_pair and not context[2]):
                context = (obs.rule, obs.delay, e.is_single_pair, obs.protocol.trailing_pre_gap, e.protocol)
        if not columns:
            return "<h3>Conventions</h3><p>No observations available: conventions unknown.</p>"
        rule, delay, _, gap, protocol = context
        heads = [f"{esc(b)}<br><code>{esc(n)}</code>" for b, n in columns]
        convs = list(columns.values())
        backends = [b for b, _ in columns]

        def row(label, values, consequence):
            differ = len({str(v) for v in values}) > 1
            return (f'<tr class="{"diff" if differ else ""}"><td>{label}</td>'
                    + "".join(f'<td class="val">{esc(v)}</td>' for v in values)
                    + f"<td>{consequence}</td></tr>")

        rows = []
        # amplitude, for every distinct rule of the run (w_max = 1 hides the difference)
        rules = {}
        for e in run.entries:
            if e.observation is not None:
                key = json.dumps(e.observation.rule.to_dict(), sort_keys=True, default=str)
                rules.setdefault(key, (e.observation.rule, []))[1].append(e.protocol)
        parts = []
        additive = [(r, p) for r, p in rules.values() if not r.is_multiplicative]
        for other_rule, protocols in additive[:4]:
            values = [f"{esc(b)} {num(other_rule.timing.A_plus * g, '.4g')} / {num(-other_rule.timing.A_minus * g, '.4g')}"
                      for b, g in ((b, amplitude_gain(other_rule, c)) for b, c in zip(backends, convs))]
            where = ", ".join(dict.fromkeys(protocols))
            parts.append(f"rule <code>{esc(other_rule.label)}</code> ({esc(where)}; A⁺ = {num(other_rule.timing.A_plus, 'g')}, "
                         f"A⁻ = {num(other_rule.timing.A_minus, 'g')}, w_max = {num(other_rule.weight.w_max, 'g')}): "
                         "peak Δw⁺ / Δw⁻ " + ", ".join(values))
        if len(additive) < len(rules):
            parts.append("multiplicative rules scale by (w_max − w) and (w − w_min) on every backend: not affected")
        gains = [amplitude_gain(rule, c) for c in convs]
        rows.append(row("amplitude (<code>amplitude_scaling</code>)", [c.amplitude_scaling for c in convs],
                        "additive Δw = A·gain·e^(−|s|/τ), gain w_max or 1: " + "; ".join(parts)))
        # delay partition
        crossings = [zero_crossing_dt(c, delay) for c in convs]
        shift = max(crossings) - min(crossings)
        consequence = "; ".join(f"{esc(b)}: s = Δt {_signed(lag_offset(c, delay))} ms, zero crossing at Δt = "
                                f"{num(x, '+g')} ms" for b, c, x in zip(backends, convs, crossings))
        if len(convs) > 1:
            consequence += (f". Zero crossings differ by <strong>{num(shift, 'g')} ms</strong>"
                            + (" = 2·d" if delay and math.isclose(shift, 2 * delay) else "") + ".")
        rows.append(row("delay partition (<code>dendritic_delay_fraction</code>)",
                        [format(c.dendritic_delay_fraction, "g") for c in convs], consequence))
        # deferred update
        parts = []
        for b, c, g in zip(backends, convs, gains):
            if c.update_timing == "deferred":
                extra = ""
                if gap is not None and g is not None:
                    extra = (f"; the suite adds a trailing pre spike {num(gap, 'g')} ms after each case's last spike, "
                             f"whose own depression is ≈ {num(rule.timing.A_minus * g * math.exp(-gap / rule.timing.tau_minus), '.3g')}"
                             " and part of the prediction")
                parts.append(f"{esc(b)}: potentiation shows only at the next pre spike{extra}")
            else:
                parts.append(f"{esc(b)}: every spike changes the weight when the synapse sees it")
        rows.append(row("when Δw is applied (<code>update_timing</code>)", [c.update_timing for c in convs],
                        "; ".join(parts)))
        # lag 0
        parts = []
        for b, c in zip(backends, convs):
            try:
                value = float(stdp_window([0.0], rule, c)[0])
            except Exception:  # noqa: BLE001
                value = None
            parts.append(f"{esc(b)}: Δw(s = 0) = {num(value, '.4g')} (at emission Δt = "
                         f"{num(zero_crossing_dt(c, delay), '+g')} ms)")
        rows.append(row("lag 0 (<code>zero_lag</code>)", [c.zero_lag for c in convs], "; ".join(parts)))
        shown = {"amplitude_scaling", "dendritic_delay_fraction", "update_timing", "zero_lag", "name", "description"}
        for field_ in fields(Conventions):
            if field_.name in shown:
                continue
            rows.append(row(f"<code>{esc(field_.name)}</code>", [getattr(c, field_.name) for c in convs], ""))
        rows.append(row("description", [str(c.description) for c in convs], ""))
        return (f"<h3>Conventions that explain the differences</h3>"
                f"<p>Generated from each backend's <code>Conventions</code> as recorded in its observations; "
                f"consequences computed for the rule <code>{esc(rule.label)}</code> and delay d = "
                f"{num(delay, 'g')} ms of protocol <code>{esc(protocol)}</code>. Highlighted rows differ.</p>"
                + _table(["convention"] + heads + ["consequence"], rows, cls="conv"))

    # -- known defects ---------------------------------------------------------------------
    def known_defects(self):
        run = self.run
        hits = {}
        for e in run.entries:
            for v in e.verdicts:
                for defect in v.get("defects") or []:
                    hits.setdefault(str(defect), []).append((e, v))
        listed = {str(d.get("id")) for d in run.known_defects}
        rows = []
        for d in run.known_defects:
            found = hits.get(str(d.get("id")), [])
            rows.append(
                f'<tr class="{"known" if found else ""}"><td><code>{esc(d.get("id", "?"))}</code></td>'
                f'<td>{esc(d.get("backend", ""))}</td><td>{esc(d.get("title", ""))}</td>'
                f'<td>{esc(d.get("evidence", ""))}</td><td><code class="path">{esc(d.get("reproducer", ""))}</code></td>'
                f"<td>{_hits_html(found)}</td></tr>")
        for defect_id in sorted(set(hits) - listed):
            rows.append(f'<tr class="known"><td><code>{esc(defect_id)}</code></td><td colspan="4">not in this run\'s '
                        f"known_defects list</td><td>{_hits_html(hits[defect_id])}</td></tr>")
        total = sum(len(h) for h in hits.values())
        return ("<h2>Known defects</h2>"
                f"<p>Real validation failures tracked with their evidence; a case failing where one applies is "
                f"reported as <span class=\"badge known\">known defect</span>. {total} case(s) in this run hit one.</p>"
                + _table(["id", "backend", "title", "evidence", "reproducer", "results hit"], rows))

    # -- timings ---------------------------------------------------------------------------
    def timings(self):
        run = self.run
        out = ["<h2>Timings</h2>"]
        entries = [e for e in run.entries if e.timings]
        if entries:
            rules = {(e.backend, e.protocol) for e in entries}
            several_rules = len(rules) < len(entries)
            labels = [f"{e.backend} · {e.protocol}" + (f" · {e.rule}" if several_rules else "") for e in entries]
            out.append(self.figures.add("timings", timings_figure(entries, labels), "timings per backend and protocol",
                                        "Seconds per phase of each simulation (one network per backend and "
                                        "protocol)."))
            keys = phases(entries)
            rows = []
            for e in entries:
                values = [e.timings.get(k) for k in keys]
                total = sum(v for v in values if _finite(v))
                cases = len(e.verdicts)
                rows.append(f"<tr><td>{esc(e.backend)}</td><td>{esc(e.protocol)}</td><td>{esc(e.rule)}</td>"
                            + "".join(f'<td class="num">{num(v, ".3f")}</td>' for v in values)
                            + f'<td class="num">{num(total, ".3f")}</td><td class="num">{cases}</td>'
                            f'<td class="num">{num(1000 * total / cases if cases else None, ".4g")}</td></tr>')
            out.append(_table(["backend", "protocol", "rule"] + [f"{esc(k)} (s)" for k in keys]
                              + ["total (s)", "cases", "ms per case"], rows))
        else:
            out.append("<p>No timings recorded.</p>")
        out.append(self.benchmarks())
        return "\n".join(out)

    def benchmarks(self):
        run = self.run
        if not run.benchmark_source:
            return ('<p class="muted">No pytest-benchmark results (pass <code>benchmark_json</code> or put a '
                    "<code>benchmark.json</code> in the run folder).</p>")
        if run.benchmark is None:
            return (f"<h3>Benchmarks</h3><p>Benchmark file <code>{esc(run.benchmark_source)}</code> could not be "
                    f"read: {esc(run.benchmark_problem)}</p>")
        rows = []
        for b in run.benchmark.get("benchmarks") or []:
            if not isinstance(b, dict):
                continue
            stats = b.get("stats") or {}
            extra = b.get("extra_info") or {}
            extra_text = json.dumps(extra, sort_keys=True, default=str) if extra else ""
            rows.append(f"<tr><td><code class=\"path\">{esc(b.get('fullname') or b.get('name', '?'))}</code></td>"
                        f'<td class="num">{num(stats.get("mean"), ".4g")}</td>'
                        f'<td class="num">{num(stats.get("stddev"), ".3g")}</td>'
                        f'<td class="num">{num(stats.get("min"), ".4g")}</td>'
                        f'<td class="num">{num(stats.get("rounds"), "d") if isinstance(stats.get("rounds"), int) else num(stats.get("rounds"))}</td>'
                        f'<td class="times">{esc(extra_text)}</td></tr>')
        when = run.benchmark.get("datetime")
        info = run.benchmark.get("machine_info") or {}
        cpu = (info.get("cpu") or {}).get("brand_raw") if isinstance(info.get("cpu"), dict) else None
        meta = ", ".join(esc(x) for x in (when, info.get("node"), cpu, info.get("python_version")) if x)
        return (f"<h3>Benchmarks</h3><p>From <code>{esc(run.benchmark_source)}</code>{(': ' + meta) if meta else ''}."
                "</p>" + _table(["benchmark", "mean (s)", "stddev (s)", "min (s)", "rounds", "extra_info"], rows))

    # -- SpiNNaker -------------------------------------------------------------------------
    def spinnaker(self):
        run = self.run
        entries = [e for e in run.entries if "spinnaker" in e.backend.lower()]
        skipped = {b: r for b, r in run.skipped.items() if "spinnaker" in str(b).lower()}
        if not entries and not skipped:
            return ""
        out = ["<h2>SpiNNaker</h2>"]
        for backend, reason in skipped.items():
            out.append(f"<p>{esc(backend)} skipped: {esc(reason)}</p>")
        for e in entries:
            machine = e.environment.get("machine", "unknown")
            out.append(f"<h3>{esc(e.backend)} · {esc(e.protocol)} · {esc(e.rule)}</h3>"
                       f"<p>Machine: <strong>{esc(machine)}</strong>. Summary: {num(e.counts['passed'])} passed, "
                       f"{num(e.counts['failed'])} failed, {num(e.counts['known_defects'])} known defects "
                       f"(see <a href=\"#protocol-{esc(run.slug(e.protocol))}\">protocol {esc(e.protocol)}</a>).</p>")
            details = [(k, v) for k, v in e.environment.items() if k not in ("machine",)]
            if details:
                out.append('<dl class="kv">' + "".join(
                    f"<dt>{esc(k)}</dt><dd><code>{esc(_environment_value(v))}</code></dd>" for k, v in details)
                    + "</dl>")
            notes = list(dict.fromkeys([*e.notes, *(e.observation.notes if e.observation else [])]))
            if notes:
                out.append("<p>What was and was not checked:</p><ul>"
                           + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
            else:
                out.append('<p class="muted">No notes recorded.</p>')
        return "\n".join(out)


def _short(text, n):
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _environment_value(value):
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value)) or "none"
    return str(value)


def _signed(value):
    """``+ 1`` or ``− 1``: a term added to an expression."""
    return f"{'−' if value < 0 else '+'} {abs(value):g}"


def _has_lag_points(entry):
    p = points(entry)
    return bool((p.has_lag & np.isfinite(p.initial)).any())


def _all_lag(entry):
    p = points(entry)
    return len(p.lag) > 0 and bool(p.has_lag.all())


def _one_per_backend(group):
    seen, kept = set(), []
    for e in group:
        if e.backend not in seen:
            seen.add(e.backend)
            kept.append(e)
    return kept


def _hits_html(found, limit=12):
    if not found:
        return '<span class="muted">none in this run</span>'
    items = [f"{esc(e.backend)} / {esc(e.protocol)} / {esc(e.rule)}: {esc(v.get('case', '?'))}" for e, v in found]
    text = "<br>".join(items[:limit])
    if len(items) > limit:
        text += f"<br>… and {len(items) - limit} more"
    return text
