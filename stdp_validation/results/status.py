"""The two vocabularies every result speaks: how a case ended, and how its weights were obtained.

Both are string enums, so they serialise to the same plain strings in JSON and compare equal
to them (``Status.PASS == "pass"``).
"""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Outcome of one case (one synapse), of one result row, or of a whole run."""

    PASS = "pass"
    FAIL = "fail"
    #: Outside the tolerance where a documented backend defect applies (tracked, not a pass).
    KNOWN_DEFECT = "known_defect"
    #: No learned weight exists to compare (e.g. a mapping-only toolchain run).
    NOT_RUN = "not_run"
    #: The backend cannot represent the rule or protocol (SciUnit's "cannot": an explicit outcome).
    UNSUPPORTED = "unsupported"
    #: The backend raised while running the protocol.
    ERROR = "error"

    def __str__(self):
        return self.value

    @property
    def validated(self):
        """Whether a case with this status was compared with the reference and agreed."""
        return self is Status.PASS


class Execution(str, Enum):
    """How a backend obtained the weights in an observation; decided by the backend, once."""

    #: A software simulator (NEST, Brian2) ran the network in float64.
    SIMULATED = "simulated"
    #: A SpiNNaker board ran the network; weights and spikes are hardware output.
    BOARD = "board"
    #: sPyNNaker's shipped ARM code ran in an ARM emulator on the bytes the real toolchain wrote.
    EMULATED = "emulated"
    #: Only the toolchain ran (mapping and data generation): no spike, no learned weight.
    TOOLCHAIN_ONLY = "toolchain_only"

    def __str__(self):
        return self.value

    @property
    def learned(self):
        """Whether ``final_weights`` are weights after learning (not the initial ones)."""
        return self is not Execution.TOOLCHAIN_ONLY

    @property
    def hardware(self):
        """Whether the weights are SpiNNaker hardware output."""
        return self is Execution.BOARD

    @property
    def label(self):
        return _LABELS[self]


_LABELS = {
    Execution.SIMULATED: "software simulator",
    Execution.BOARD: "SpiNNaker board",
    Execution.EMULATED: "emulated ARM code (not a board)",
    Execution.TOOLCHAIN_ONLY: "toolchain only (nothing executed)",
}
