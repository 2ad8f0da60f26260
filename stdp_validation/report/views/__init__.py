"""Every number and row the page shows, derived once from the loaded run: :func:`build_page`.

``common``     status names, coordinates (lag, emission Δt, zero crossing), :class:`Points`, figure specs
``summary``    banner, result rows, environment per backend label
``protocols``  protocol sections (setups, case rows, window/scatter/residual panels) and the seed network
``cross``      cross-backend differences and the conventions that explain them
``sections``   known defects, timings and benchmarks, toolchain checks, non-simulated executions

Units: times in ms, weights in the synapse type's unit, timings in s, stored-integer
residuals in LSB. Nothing here draws or writes HTML; :mod:`..render` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...results.status import Execution
from .common import (
    STATUS_CLASS,
    STATUS_TEXT,
    FigureNames,
    FigureSpec,
    Points,
    WindowPanel,
    lag_offset,
    points,
    status_class,
    status_text,
    window_panel,
    zero_crossing,
    zero_crossing_rows,
)
from .cross import CrossView, conventions_table, cross_view
from .protocols import ProtocolView, case_rows, protocol_view, seed_view
from .sections import benchmark_view, check_tables, defect_rows, execution_sections, timings_view, trends_view
from .summary import VERSION_COLUMNS, Banner, banner, duration, environment_rows, executions, summary_rows, timesteps


@dataclass(frozen=True)
class Section:
    id: str
    title: str


@dataclass(frozen=True)
class Page:
    """The whole page's content, section by section, and the figures to draw (in page order)."""

    directory: Path
    command: str
    started: str | None
    finished: str | None
    duration: float | None
    backends: tuple
    banner: Banner
    summary: tuple
    errors: tuple
    skipped: tuple  # (backend, reason)
    unsupported: tuple
    environment: tuple
    version_columns: tuple
    timesteps: tuple
    protocols: tuple
    seed: object
    cross: CrossView
    defects: tuple
    defect_hits: int
    timings: object
    benchmark: object
    trends: object
    rehearsal: str
    checks: tuple
    executions: tuple
    sections: tuple
    figures: tuple


def build_page(run) -> Page:
    """The :class:`Page` of a :class:`~stdp_validation.report.load.RunData`."""
    names = FigureNames()
    protocols = tuple(protocol_view(run, name, names) for name in run.protocols)
    seed = seed_view(run, names)
    cross = cross_view(run, names)
    defects, hits = defect_rows(run)
    timings = timings_view(run, names)
    trends = trends_view(run, names)
    checks = tuple(check_tables(run))
    kinds = tuple(execution_sections(run))
    sections = [Section("summary", "Summary")]
    sections += [Section(f"protocol-{p.slug}", f"Protocol {p.name}") for p in protocols]
    sections += [Section("seed", "Seed network"), Section("cross-backend", "Cross-backend differences"),
                 Section("known-defects", "Known defects"), Section("timings", "Timings")]
    if checks:
        sections.append(Section("toolchain", "Toolchain checks"))
    sections += [Section(k.id, f"Weights from: {k.execution.label}") for k in kinds]
    return Page(
        directory=run.directory, command=run.command, started=run.started, finished=run.finished,
        duration=duration(run), backends=tuple(run.backends), banner=banner(run), summary=tuple(summary_rows(run)),
        errors=tuple(run.errors), skipped=tuple(run.skipped.items()), unsupported=tuple(run.unsupported),
        environment=tuple(environment_rows(run)), version_columns=tuple(VERSION_COLUMNS),
        timesteps=tuple(timesteps(run)), protocols=protocols, seed=seed,
        cross=cross, defects=tuple(defects), defect_hits=hits, timings=timings, benchmark=benchmark_view(run), trends=trends,
        rehearsal=run.rehearsal,
        checks=checks, executions=kinds, sections=tuple(sections), figures=tuple(names.specs),
    )


__all__ = [
    "STATUS_CLASS", "STATUS_TEXT", "Banner", "CrossView", "Execution", "FigureNames", "FigureSpec", "Page", "Points",
    "ProtocolView", "Section", "WindowPanel", "banner", "build_page", "case_rows", "conventions_table", "cross_view",
    "executions", "lag_offset", "points", "status_class", "status_text", "summary_rows", "window_panel",
    "zero_crossing", "zero_crossing_rows",
]
