"""Picklable stand-ins for a backend, importable in a spawned process (tests/ on PYTHONPATH),
to test how the parallel run handles a backend process that fails or dies."""

import os

from stdp_validation.results.observation import RunError


class RaisingBackend:
    """Reports its first protocol as a RunError, then raises out of ``run``."""

    label = "raising"

    def run(self, protocols):
        yield RunError(self.label, protocols[0].name, "ValueError: reported", rule=protocols[0].rule.label)
        raise RuntimeError("injected: the backend broke down")


class DyingBackend:
    """Kills its own process without a word (as a simulator's segmentation fault would)."""

    label = "dying"

    def run(self, protocols):
        os._exit(3)
        yield  # pragma: no cover - a generator that never yields
