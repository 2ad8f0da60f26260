"""The page: Jinja2 templates (autoescaped, strict), the package's CSS, figures inlined.

:func:`write_report` loads the run (:mod:`.load`), derives the page (:mod:`.views`), draws
its figures (:mod:`.figures`) and renders ``templates/page.html.j2``. Every value reaches the
HTML through Jinja2's autoescaping; the only markup marked safe is the package's own
``style.css``. The page has no scripts and refers to nothing outside itself: images are
base64 PNG data URIs, each also written to ``figures/`` beside the page.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..results.io import write_atomic
from ..results.status import Execution
from . import figures as _figures
from .load import load_run
from .views import build_page, status_class, status_text

#: Spike lists longer than this are shortened in tables.
TIMES_SHOWN = 5


def num(value, spec=".6g"):
    """A number for a table cell: ``—`` when missing, ``nan``/``inf`` as such."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return format(value, spec)


def times(values, limit=TIMES_SHOWN):
    """Spike times (ms) shortened to the first few and the last, with the count."""
    if values is None:
        return "—"
    text = [format(float(t), "g") for t in values]
    if not text:
        return "none"
    if len(text) <= limit:
        return ", ".join(text)
    return f"{', '.join(text[: limit - 2])}, …, {text[-1]} ({len(text)} spikes)"


def execution_class(execution):
    """CSS classes of an execution badge: non-simulated ones are marked."""
    return "exec" if Execution(execution) is Execution.SIMULATED else f"exec marked exec-{Execution(execution).value}"


@lru_cache(maxsize=1)
def environment():
    """The Jinja2 environment: package templates, autoescape on, undefined names are errors."""
    env = Environment(loader=PackageLoader("stdp_validation.report"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=num, times=times, status_class=status_class, status_text=status_text,
                       execution_class=execution_class)
    return env


def stylesheet():
    """``style.css`` of the package, as markup for the page's ``<style>`` element."""
    return Markup(resources.files(__package__).joinpath("style.css").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RenderedFigure:
    """A drawn figure: ``uri`` is its PNG as a data URI (``None`` when drawing failed: ``problem``)."""

    name: str
    file: str
    alt: str
    uri: str | None
    problem: str = ""


def _draw_png(spec):
    """(PNG bytes, None) or (None, problem) for one spec (runs in a worker process)."""
    try:
        figure = _figures.draw(spec)
        data = _figures.png_bytes(figure)
        figure.clear()
        return data, None
    except Exception as error:  # noqa: BLE001 - one broken figure must not lose the page
        return None, f"{type(error).__name__}: {error}"


#: Figures are drawn in this many processes at most (matplotlib's Agg renderer is single-threaded).
MAX_FIGURE_WORKERS = 4


def _pngs(specs):
    """The PNGs of ``specs`` in order, drawn in parallel over the machine's cores, or serially
    for few figures or where no worker process can be started. Workers come from a fork
    server, never from a fork of this process: a simulator may have left threads running,
    and forking a threaded process can deadlock."""
    import multiprocessing

    workers = min(MAX_FIGURE_WORKERS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                  else (os.cpu_count() or 1), len(specs))
    if workers < 2 or len(specs) < 8:
        return [_draw_png(spec) for spec in specs]
    methods = multiprocessing.get_all_start_methods()
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    try:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            return list(pool.map(_draw_png, specs, chunksize=max(1, len(specs) // (4 * workers))))
    except Exception:  # noqa: BLE001 - no worker, a broken pool, a spec that cannot be sent: draw here instead
        return [_draw_png(spec) for spec in specs]


def draw_figures(specs, directory):
    """Draw every spec, write ``directory/<name>.png``; name → :class:`RenderedFigure`.

    A figure that cannot be drawn is reported on the page (its ``problem``), not raised.
    """
    specs = list(specs)
    rendered = {}
    for spec, (data, problem) in zip(specs, _pngs(specs)):
        file = f"figures/{spec.name}.png"
        if data is None:
            rendered[spec.name] = RenderedFigure(spec.name, file, spec.alt, None, problem)
            continue
        write_atomic(directory / f"{spec.name}.png", data)
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        rendered[spec.name] = RenderedFigure(spec.name, file, spec.alt, uri)
    return rendered


def remove_stale(directory, keep):
    """Remove PNGs in ``directory`` that are not in ``keep`` (file names): an earlier report's."""
    if directory.is_dir():
        for path in directory.glob("*.png"):
            if path.name not in keep:
                path.unlink(missing_ok=True)


def render_page(page, rendered):
    """The HTML text of a :class:`~.views.Page` whose figures are ``rendered``."""
    from .. import __version__

    generated = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    template = environment().get_template("page.html.j2")
    return template.render(page=page, figures=rendered, css=stylesheet(), generated=generated, version=__version__)


def write_report(run_directory, *, benchmark_json=None) -> Path:
    """Write ``run_directory/index.html`` and ``run_directory/figures/*.png``; return the page's path.

    Reads ``run_directory/results.json`` (format version 2) and the observation files it
    references (paths relative to the run folder; a missing or unreadable one is reported on
    the page, not raised). ``benchmark_json``: a pytest-benchmark JSON file to tabulate; by
    default a ``benchmark.json`` in the run folder is used when present. PNGs of an earlier
    report that this one did not write are removed. Raises
    :class:`~stdp_validation.errors.ParameterError` when ``results.json`` is missing or invalid.
    """
    directory = Path(run_directory)
    run = load_run(directory, benchmark_json)
    page = build_page(run)
    figures_directory = directory / "figures"
    rendered = draw_figures(page.figures, figures_directory)
    html = render_page(page, rendered)
    remove_stale(figures_directory, {f"{name}.png" for name, r in rendered.items() if r.uri is not None})
    path = directory / "index.html"
    write_atomic(path, html)
    return path
