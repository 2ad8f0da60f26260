"""Self-contained HTML report of a validation run.

``write_report(run_directory)`` reads ``run_directory/results.json`` and the observation
files it references, and writes ``run_directory/index.html`` (every figure inlined as a
base64 PNG, inline CSS, no scripts and nothing fetched from a network) plus each figure as
its own PNG file in ``run_directory/figures/``. Needs matplotlib (a dependency of the package).
"""

from .html import write_report

__all__ = ["write_report"]
