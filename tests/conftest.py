"""Shared test configuration.

Hypothesis explores new random examples locally; under CI (``CI`` set) it is derandomised so
that a run is reproducible and a red CI always means a change, not a newly drawn example.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
