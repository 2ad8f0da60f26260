"""What a backend run returns: recorded spikes, final weights, how they were obtained, and more.

An :class:`Observation` round-trips through JSON without loss (floats keep ``repr``
precision), so a run recorded on a board can be re-validated anywhere. Files are written
atomically and read back through the shipped JSON Schema (``observation``, format version
:data:`FORMAT_VERSION`); version-1 files of earlier releases still load, and what had to be
filled in is listed in :attr:`Observation.notes`.
"""

from __future__ import annotations

import traceback as _traceback
from dataclasses import dataclass, field, fields
from enum import Enum

from ..conventions import Conventions
from ..errors import ParameterError
from ..protocols import Protocol
from .io import json_text, read_json, to_jsonable, validate, write_json_atomic
from .status import Execution

FORMAT_VERSION = 2


class CheckKind(str, Enum):
    """What a failed :class:`Check` means."""

    #: A failure is a problem with the backend or the suite.
    CHECK = "check"
    #: A documented difference between backends: reported, never a failure.
    DIVERGENCE = "divergence"
    #: A measured quantity, shown with its expectation (a "warning" when ``passed`` is False).
    INFO = "info"

    def __str__(self):
        return self.value


@dataclass
class Check:
    """One toolchain check: what was expected, what the backend produced, whether they agree.

    ``passed`` is ``None`` when the check could not be made (``reason`` says why). Values
    are JSON-ready (numbers, strings, short lists and mappings).
    """

    protocol: str
    name: str
    expected: object
    observed: object
    passed: bool | None
    reason: str
    kind: CheckKind = CheckKind.CHECK

    def __post_init__(self):
        self.kind = CheckKind(self.kind)
        self.expected = to_jsonable(self.expected)
        self.observed = to_jsonable(self.observed)
        if self.passed is not None:
            self.passed = bool(self.passed)

    @property
    def failed(self):
        """A real check (not a divergence or a measured quantity) that did not pass."""
        return self.kind is CheckKind.CHECK and self.passed is False

    def to_dict(self):
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


@dataclass
class Observation:
    """One simulation (or emulation, or toolchain run) of one protocol on one backend.

    Times in ms, weights in the synapse type's unit (nA or µS), timings in s.

    execution
        How ``final_weights`` were obtained (:class:`~.status.Execution`), set by the backend.
    backend_options
        How the backend was configured (e.g. NEST's ``spike_precision``), JSON-ready.
    traces
        Variable (``v`` in mV, ``gsyn_exc``/``gsyn_inh`` in µS, ...) →
        ``{"units", "times": [...], "pre": [[...] per cell], "post": [[...] per cell]}``.
    checks
        Toolchain checks (:class:`Check`), e.g. SpiNNaker's encoding of the rule.
    encoding
        The toolchain's encoding of the network that the checks and a fixed-point comparison
        are computed from (backend-specific, JSON-ready), or ``None``.
    stored_weights
        The weights as stored integers, for fixed-point backends that expose them, else ``None``.
    provenance
        Counters the backend's own code kept (board provenance or the emulated core's), as
        ``{"cores": [{...}, ...], ...}``; empty when there are none.
    synapses
        ``None``: one presynaptic and one postsynaptic cell per case, and the spike lists hold
        one train per case. Otherwise one ``[pre cell, post cell]`` pair per case, and
        ``pre_spike_times`` / ``post_spike_times`` / ``intended_post_times`` hold one train
        per cell (networks where cells share synapses); use :meth:`synapse_trains`.
    """

    backend: str
    protocol: Protocol
    conventions: Conventions
    execution: Execution
    pre_spike_times: list
    post_spike_times: list
    final_weights: list
    initial_weights: list
    intended_post_times: list
    delay: float
    t_stop: float
    traces: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    encoding: dict | None = None
    stored_weights: list | None = None
    provenance: dict = field(default_factory=dict)
    synapses: list | None = None
    backend_options: dict = field(default_factory=dict)

    def __post_init__(self):
        self.execution = Execution(self.execution)
        self.checks = [c if isinstance(c, Check) else Check.from_dict(c) for c in self.checks]

    @property
    def rule(self):
        return self.protocol.rule

    @property
    def label(self):
        """The backend and its options, e.g. ``nest[spike_precision=off_grid]``."""
        return backend_label(self.backend, self.backend_options)

    @property
    def failed_checks(self):
        return [c for c in self.checks if c.failed]

    def synapse_trains(self):
        """(pre trains, post trains, intended post trains), one of each per case (synapse)."""
        if self.synapses is None:
            return self.pre_spike_times, self.post_spike_times, self.intended_post_times
        pre = [self.pre_spike_times[i] for i, _ in self.synapses]
        post = [self.post_spike_times[j] for _, j in self.synapses]
        intended = [self.intended_post_times[j] for _, j in self.synapses]
        return pre, post, intended

    def to_dict(self):
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["protocol"] = self.protocol.to_dict()
        data["conventions"] = self.conventions.to_dict()
        data["checks"] = [c.to_dict() for c in self.checks]
        data["format_version"] = FORMAT_VERSION
        return to_jsonable(data)

    @classmethod
    def from_dict(cls, data, source="observation"):
        """An observation from its JSON data, validated against the schema (version 1 upgraded)."""
        if not isinstance(data, dict):
            raise ParameterError(f"{source} must be a JSON object; got {type(data).__name__}")
        version = data.get("format_version")
        if version == 1:
            data = upgrade_version_1(data)
        elif version != FORMAT_VERSION:
            raise ParameterError(
                f"{source}: format_version must be 1 or {FORMAT_VERSION}; got {version!r}"
            )
        validate(data, "observation", source)
        values = {k: v for k, v in data.items() if k != "format_version"}
        try:
            values["protocol"] = Protocol.from_dict(values["protocol"])
            values["conventions"] = Conventions.from_dict(values["conventions"])
            observation = cls(**values)
        except ParameterError as error:
            raise ParameterError(f"{source}: {error}") from None
        observation.check_shape(source)
        return observation

    def check_shape(self, source="observation"):
        """Raise :class:`ParameterError` unless every list has one entry per case (or cell)."""
        n = len(self.protocol.cases)
        per_case = ["final_weights", "initial_weights"] + (["stored_weights"] if self.stored_weights is not None else [])
        if self.synapses is None:
            per_case += ["pre_spike_times", "post_spike_times", "intended_post_times"]
        else:
            per_case.append("synapses")
            n_pre = 1 + max(i for i, _ in self.synapses)
            n_post = 1 + max(j for _, j in self.synapses)
            for name, needed in (("pre_spike_times", n_pre), ("post_spike_times", n_post),
                                 ("intended_post_times", n_post)):
                if len(getattr(self, name)) < needed:
                    raise ParameterError(f"{source}: {name} must hold a train for every cell the synapses name "
                                         f"({needed}); got {len(getattr(self, name))}")
        for name in per_case:
            if len(getattr(self, name)) != n:
                raise ParameterError(
                    f"{source}: {name} must have one entry per case ({n}); got {len(getattr(self, name))}"
                )

    def to_json(self):
        return json_text(self.to_dict())

    def save(self, path):
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path):
        return cls.from_dict(read_json(path, "observation"), source=f"observation file {str(path)!r}")


def backend_label(name, options):
    """``name`` with its non-default options, e.g. ``nest[spike_precision=off_grid]``."""
    if not options:
        return name
    return f"{name}[{','.join(f'{k}={v}' for k, v in sorted(options.items()))}]"


def upgrade_version_1(data):
    """A version-1 observation as version-2 data; what had to be decided is added to ``notes``.

    Version 1 had no ``execution`` field (how the weights were obtained is decided by the
    backend that wrote the file, see :meth:`~stdp_validation.backends.base.Backend.upgrade_version_1`)
    and kept each check with ``kind`` as free text.
    """
    from ..backends import backend_class

    data = dict(data)
    notes = list(data.get("notes") or [])
    try:
        backend = backend_class(data.get("backend"))
    except ParameterError as error:
        raise ParameterError(f"version-1 observation: {error}") from None
    data, filled = backend.upgrade_version_1(data)
    data["notes"] = notes + [f"read from a version-1 file: {line}" for line in filled]
    data["format_version"] = FORMAT_VERSION
    return data


@dataclass
class RunError:
    """A protocol that did not produce an observation: the exception, recorded."""

    backend: str
    protocol: str
    error: str
    traceback: str = ""
    rule: str = ""  # label of the rule the protocol ran under

    @classmethod
    def from_exception(cls, backend, protocol, exception, rule=""):
        text = "".join(_traceback.format_exception(type(exception), exception, exception.__traceback__))
        return cls(backend, protocol, f"{type(exception).__name__}: {exception}", text, rule)

    def to_dict(self):
        return {"backend": self.backend, "protocol": self.protocol, "rule": self.rule, "error": self.error,
                "traceback": self.traceback}


def add_counters(totals, counters):
    """Sum a backend's counters (``provenance`` of an observation: events, saturations, …) into
    ``totals``, except ``max_*`` counters, whose maximum is kept."""
    for name, value in counters.items():
        totals[name] = max(totals.get(name, 0), value) if name.startswith("max_") else totals.get(name, 0) + value
    return totals
