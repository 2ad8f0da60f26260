"""Benchmarks are left out of the default run: they need --benchmark-enable (``make benchmark``)."""

import pytest


def pytest_collection_modifyitems(config, items):
    enabled = config.getoption("benchmark_enable") or config.getoption("benchmark_only")
    if enabled:
        return
    skip = pytest.mark.skip(reason="benchmark: run with `make benchmark` "
                            "(python -m pytest tests/benchmarks --benchmark-enable --benchmark-autosave)")
    for item in items:
        if "benchmarks" in item.nodeid.split("/"):
            item.add_marker(skip)
