"""What a backend run returns: recorded spikes, final weights, traces, timings, environment.

An :class:`Observation` round-trips through JSON without loss (floats are written with
``repr`` precision), so a run recorded on a board can be re-validated anywhere.
Files are written atomically: a killed process never leaves a half-written JSON behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .conventions import Conventions
from .errors import ParameterError
from .protocols import Protocol

FORMAT_VERSION = 1


@dataclass
class Observation:
    """One simulation of one protocol under one rule on one backend.

    Times in ms, weights in the synapse type's unit, timings in s. ``traces`` maps a
    variable (``v`` in mV, ``gsyn_exc``/``gsyn_inh`` in µS, ...) to
    ``{"times": [...], "pre": [[...] per cell], "post": [[...] per cell]}``.
    """

    backend: str
    protocol: Protocol
    conventions: Conventions
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
    #: Toolchain check records (SpiNNaker: ``backends.spinnaker.virtual_board_checks``), each a
    #: dict with protocol, name, expected, observed, passed (True/False/None), reason, kind.
    checks: list = field(default_factory=list)

    @property
    def board_output(self):
        """False when nothing was simulated (SpiNNaker virtual board): final_weights are not learned."""
        if "board_output" in self.environment:
            return bool(self.environment["board_output"])
        return self.environment.get("machine") != "virtual board"

    @property
    def rule(self):
        return self.protocol.rule

    @property
    def case_labels(self):
        return [case.label for case in self.protocol.cases]

    def to_dict(self):
        data = asdict(self)
        data["protocol"] = self.protocol.to_dict()
        data["conventions"] = self.conventions.to_dict()
        data["format_version"] = FORMAT_VERSION
        return data

    @classmethod
    def from_dict(cls, data):
        try:
            if data.get("format_version") != FORMAT_VERSION:
                raise ParameterError(
                    f"observation format_version must be {FORMAT_VERSION}; got {data.get('format_version')!r}"
                )
            fields = dict(data)
            fields.pop("format_version")
            fields["protocol"] = Protocol.from_dict(fields["protocol"])
            fields["conventions"] = Conventions.from_dict(fields["conventions"])
            observation = cls(**fields)
        except ParameterError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ParameterError(f"observation is incomplete or malformed: {error}") from None
        n = len(observation.protocol.cases)
        for name in ("pre_spike_times", "post_spike_times", "final_weights", "initial_weights"):
            if len(getattr(observation, name)) != n:
                raise ParameterError(
                    f"observation {name} must have one entry per case ({n}); got {len(getattr(observation, name))}"
                )
        return observation

    def save(self, path):
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path):
        return cls.from_dict(read_json(path, "observation"))


def observation_json(observation):
    """An observation as JSON text (numpy scalars and arrays converted)."""
    return json.dumps(observation.to_dict(), allow_nan=False, default=_json_default)


def write_json_atomic(path, data):
    """Write JSON to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(data, stream, indent=1, allow_nan=False, default=_json_default)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); results are meant to be shared like any output.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_json(path, what):
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ParameterError(f"{what} file {str(path)!r} does not exist") from None
    except OSError as error:
        raise ParameterError(f"{what} file {str(path)!r} cannot be read: {error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ParameterError(
            f"{what} file {str(path)!r} is not valid JSON (truncated or corrupted?): {error.msg} "
            f"at line {error.lineno}"
        ) from None


def _json_default(value):
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        raise TypeError(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
