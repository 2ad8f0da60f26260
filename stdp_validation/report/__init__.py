"""Self-contained HTML report of a validation run.

``write_report(run_directory)`` reads ``run_directory/results.json`` and the observation
files it references, and writes ``run_directory/index.html`` (every figure inlined as a
base64 PNG, inline CSS, no scripts and nothing fetched from a network) plus each figure as
its own PNG file in ``run_directory/figures/``. Needs matplotlib and Jinja2.

``load``     the run folder read once into typed results and observations
``views``    every number and row the page shows, derived once (no HTML, no drawing)
``figures``  the matplotlib figures (object API, no pyplot)
``render``   the Jinja2 templates (``templates/``), the style sheet (``style.css``), :func:`write_report`
"""

from .render import write_report

__all__ = ["write_report"]
