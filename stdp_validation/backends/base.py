"""The backend contract: what every backend implements, and nothing else is allowed to know.

A backend turns protocols into observations. The rest of the suite (the run orchestration,
the comparison, the report) talks to backends only through this class, so no backend name
and no backend-specific branch appears outside ``stdp_validation/backends/``. Modelled on
Brian2's ``Device`` (a base class whose methods state the contract) and SciUnit's
capabilities (a backend that cannot run a rule says so, it does not raise mid-run).

A backend instance is configured once (e.g. NEST's spike precision, a SpiNNaker board cfg)
and can run any number of protocols.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from ..conventions import CONVENTIONS, Conventions
from ..errors import UnsupportedByBackend
from ..protocols import Protocol
from ..trains import check_supported
from ..results.compare import Comparator, FloatComparator
from ..results.observation import Observation, RunError
from ..results.status import Execution


class Backend(ABC):
    """Base class of every backend.

    Class attributes
    ----------------
    name
        The registry name (``stdp-validate --backend NAME``).
    distributions
        PyPI distributions whose installed versions identify the backend in every observation.
    required_modules
        Top-level modules that must be importable for the backend to run.
    """

    name: str = ""
    distributions: tuple = ()
    required_modules: tuple = ()

    # -- what this backend can do ------------------------------------------------------------
    @classmethod
    def unavailable_reason(cls) -> str | None:
        """``None`` if the backend can run here, else why not (shown in skips and summaries)."""
        for module in cls.required_modules:
            if importlib.util.find_spec(module.split(".")[0]) is None:
                return f"{module} is not installed (pip install 'stdp-validation[{cls.name}]')"
        return None

    #: Whether the backend offers sPyNNaker's ``backprop_delay=False`` (STDP ignoring the delay).
    supports_backprop_off = False

    def conventions(self, rule, protocol) -> Conventions:
        """The conventions the reference model must use for ``rule`` in ``protocol``."""
        return CONVENTIONS[self.name].with_timestep(protocol.timestep)

    def supports(self, rule, protocol: Protocol) -> str | None:
        """``None`` if the backend can run ``protocol`` under ``rule``, else the reason it cannot.

        A protocol the backend cannot run is reported as ``unsupported``, never as a failure.
        """
        if not protocol.backprop_delay and not self.supports_backprop_off:
            return (f"backprop_delay=False (STDP that ignores the delay) is not supported by the {self.name!r} backend; "
                    "allowed: backprop_delay=True (sPyNNaker only offers the option)")
        try:
            check_supported(rule, self.conventions(rule, protocol), owner=f"the {self.name!r} backend")
        except UnsupportedByBackend as error:
            return str(error)
        return None

    @property
    @abstractmethod
    def execution(self) -> Execution:
        """How this backend instance obtains its weights (one value for all its observations)."""

    # -- running ------------------------------------------------------------------------------
    @abstractmethod
    def run(self, protocols: Sequence[Protocol]) -> Iterator[Observation | RunError]:
        """Run ``protocols`` (each under its own rule) and yield, in input order, one
        :class:`~stdp_validation.results.Observation` or one
        :class:`~stdp_validation.results.RunError` per protocol, each as soon as it exists.

        Everything is checked before anything runs: a protocol the backend does not support
        raises :class:`~stdp_validation.errors.UnsupportedByBackend`. How protocols are batched
        into simulations is the backend's choice (one network per protocol, or one for many).
        A ``KeyboardInterrupt`` propagates; whatever was yielded before it is complete.
        """

    def check(self, protocols):
        """Raise :class:`UnsupportedByBackend` for the first protocol this backend cannot run."""
        for protocol in protocols:
            reason = self.supports(protocol.rule, protocol)
            if reason is not None:
                raise UnsupportedByBackend(f"protocol {protocol.name!r}: {reason}")

    # -- judging --------------------------------------------------------------------------------
    @classmethod
    def comparator(cls, observation: Observation) -> Comparator:
        """The comparison that applies to an observation this backend produced.

        A class method: saved observations are re-validated without a simulator installed.
        The default compares float64 weights with the reference model.
        """
        return FloatComparator()

    @classmethod
    def upgrade_version_1(cls, data: dict) -> tuple[dict, list]:
        """Version-1 observation data (no ``execution``, checks without a typed encoding) as
        version 2; returns the data and a line per value that had to be decided."""
        data = dict(data)
        data["execution"] = Execution.SIMULATED.value
        data.setdefault("encoding", None)
        data.setdefault("stored_weights", None)
        data.setdefault("provenance", {})
        data.setdefault("synapses", None)
        data.setdefault("backend_options", {})
        for check in data.get("checks") or []:
            check.setdefault("kind", "check")
        return data, [f"execution = {Execution.SIMULATED.value} ({cls.name} is a software simulator)"]

    # -- describing -------------------------------------------------------------------------------
    @property
    def options(self) -> dict:
        """How this instance differs from the backend's defaults (JSON-ready); part of its label."""
        return {}

    @property
    def label(self) -> str:
        """The name with its options, e.g. ``nest[spike_precision=off_grid]``."""
        from ..results.observation import backend_label

        return backend_label(self.name, self.options)

    def versions(self) -> dict:
        """Installed versions of :attr:`distributions` (missing ones left out)."""
        versions = {}
        for distribution in self.distributions:
            try:
                versions[distribution] = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                continue
        return versions

    def environment(self) -> dict:
        """What identifies this run: versions, platform, and what ran the network."""
        import numpy

        versions = {"python": platform.python_version(), "numpy": numpy.__version__, **self.versions()}
        return {"versions": versions, "platform": platform.platform(), "machine": self.execution.label}

    def execution_note(self) -> str:
        """One sentence for summaries: how the weights were obtained and what that leaves out."""
        return f"{self.name}: {self.execution.label}"
