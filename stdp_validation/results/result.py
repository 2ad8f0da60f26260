"""Typed results: a verdict per case and a result per (backend, protocol, rule).

Every derived number of a result (counts, worst error over tolerance, the row's status) is
computed here, once; the summary, results.json and the report all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .io import to_jsonable
from .status import Execution, Status


@dataclass
class Verdict:
    """The comparison for one case (one synapse).

    Weights in PyNN units; ``tolerance`` is absolute (``None`` when nothing was compared).
    ``lag`` (ms) is the synapse lag of a single-pair case; ``post_timing_error`` (ms) the
    largest |recorded − intended| postsynaptic spike time. Fixed-point comparisons add the
    stored integers (``stored_expected``, ``stored_observed``, ``lsb``) and the float model
    with its one-sided bound (``float_model``: expected, lower, upper, within); a board
    result with the emulation run beside it adds ``stored_emulated``.
    """

    case: str
    parameter: float | None
    initial_weight: float
    expected: float | None
    observed: float
    error: float | None
    tolerance: float | None
    tolerance_reason: str
    status: Status
    defects: list = field(default_factory=list)
    reason: str = ""
    lag: float | None = None
    post_timing_error: float | None = None
    post_timing_note: str = ""
    n_pre: int = 0
    n_post: int = 0
    stored_expected: int | None = None
    stored_observed: int | None = None
    lsb: float | None = None
    float_model: dict | None = None
    stored_emulated: int | None = None

    def __post_init__(self):
        self.status = Status(self.status)
        # A non-finite number comes back from JSON as "nan", "inf" or "-inf" (to_jsonable).
        for name in ("expected", "observed", "error", "tolerance", "lag", "post_timing_error", "lsb"):
            value = getattr(self, name)
            if isinstance(value, str) and value in ("nan", "inf", "-inf"):
                setattr(self, name, float(value))

    @property
    def compared(self):
        """Compared with the reference and judged on it (pass or fail, not a known defect)."""
        return self.status in (Status.PASS, Status.FAIL)

    @property
    def error_ratio(self):
        """error / tolerance (0 for an exact match at tolerance 0, inf for a miss at 0)."""
        if self.error is None or self.tolerance is None:
            return None
        if self.tolerance > 0:
            return self.error / self.tolerance
        return 0.0 if self.error == 0 else float("inf")

    def to_dict(self):
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


@dataclass
class ProtocolResult:
    """The verdicts of one observation, with what was compared and how."""

    backend: str
    protocol: str
    rule: str
    execution: Execution
    verdicts: list
    backend_label: str = ""
    comparison: str = ""
    tolerance: str = ""
    timings: dict = field(default_factory=dict)
    observation_file: str | None = None
    protocol_parameters: dict = field(default_factory=dict)
    conventions: str = ""
    checks: dict = field(default_factory=dict)
    reference: dict = field(default_factory=dict)

    def __post_init__(self):
        self.execution = Execution(self.execution)
        self.backend_label = self.backend_label or self.backend
        self.verdicts = [v if isinstance(v, Verdict) else Verdict.from_dict(v) for v in self.verdicts]

    @classmethod
    def from_verdicts(cls, observation, verdicts, *, comparison, tolerance, observation_file=None, reference=None):
        checks = observation.checks
        real = [c for c in checks if c.kind == "check"]
        return cls(
            backend=observation.backend,
            protocol=observation.protocol.name,
            rule=observation.rule.label,
            execution=observation.execution,
            verdicts=verdicts,
            backend_label=observation.label,
            comparison=comparison,
            tolerance=tolerance,
            timings=dict(observation.timings),
            observation_file=observation_file,
            protocol_parameters={"timestep": observation.protocol.timestep, "delay": observation.delay,
                                 "t_stop": observation.t_stop, "rule": observation.rule.to_dict()},
            conventions=observation.conventions.name,
            checks={"passed": sum(c.passed is True for c in real), "failed": sum(c.passed is False for c in real),
                    "not_checked": sum(c.passed is None for c in real),
                    "divergences": sum(c.kind == "divergence" for c in checks)},
            reference=reference or {},
        )

    def count(self, status):
        return sum(v.status == status for v in self.verdicts)

    @property
    def counts(self):
        return {status.value: self.count(status) for status in
                (Status.PASS, Status.FAIL, Status.KNOWN_DEFECT, Status.NOT_RUN)}

    @property
    def failed_checks(self):
        return int(self.checks.get("failed", 0))

    @property
    def worst_error_ratio(self):
        """Largest error / tolerance over the compared cases; ``None`` when none was compared."""
        ratios = [v.error_ratio for v in self.verdicts if v.compared and v.error_ratio is not None]
        return max(ratios) if ratios else None

    @property
    def validated(self):
        """Cases compared with the reference that agreed."""
        return self.count(Status.PASS)

    @property
    def status(self):
        """The row's status: fail if a case or a toolchain check failed; not run if nothing
        was compared; known defect if every compared case hit one; else pass."""
        if self.count(Status.FAIL) or self.failed_checks:
            return Status.FAIL
        if self.count(Status.PASS):
            return Status.PASS
        if self.count(Status.KNOWN_DEFECT):
            return Status.KNOWN_DEFECT
        return Status.NOT_RUN

    @property
    def failed(self):
        return self.status is Status.FAIL

    def to_dict(self):
        data = {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}
        data["verdicts"] = [v.to_dict() for v in self.verdicts]
        data["summary"] = {"cases": len(self.verdicts), **self.counts, "status": self.status.value,
                           "worst_error_over_tolerance": self.worst_error_ratio}
        return to_jsonable(data)

    @classmethod
    def from_dict(cls, data):
        values = {k: v for k, v in data.items() if k != "summary"}
        return cls(**values)


#: Points of the reference kernel curve stored per single-pair result.
KERNEL_POINTS = 401


def reference_curves(observation):
    """What the report plots from the model, computed once with the comparison.

    ``kernel``: the isolated-pair window Δw(s) of the rule under the observation's conventions
    over the lag range of a single-pair protocol (s < 0 and s > 0 halves and the value at 0);
    ``trajectories``: for protocols that record traces (the seed network), the predicted
    weight after every update of each case, from its recorded spikes.
    """
    from ..reference import predict_trajectory, stdp_window

    curves = {}
    protocol = observation.protocol
    if protocol.cases and all(len(c.pre_spike_times) == 1 and len(c.post_drive_times) == 1 for c in protocol.cases):
        fraction = observation.conventions.dendritic_delay_fraction
        offset = (2 * fraction - 1) * observation.delay
        lags = [c.post_drive_times[0] - c.pre_spike_times[0] + offset for c in protocol.cases]
        span = max(max(lags) - min(lags), 1.0)
        low, high = min(lags) - 0.05 * span, max(lags) + 0.05 * span
        initial = None
        if observation.rule.weight_dependent:
            bounds = observation.rule.weight
            initial = float(np.clip(observation.initial_weights[0], bounds.w_min, bounds.w_max))
        negative = np.linspace(min(low, -1e-3), -1e-3, KERNEL_POINTS) if low < 0 else np.zeros(0)
        positive = np.linspace(1e-3, max(high, 1e-3), KERNEL_POINTS) if high > 0 else np.zeros(0)

        def window(lag_values):
            if len(lag_values) == 0:
                return []
            return stdp_window(lag_values, observation.rule, observation.conventions, initial_weight=initial).tolist()

        curves["kernel"] = {"negative_lags": negative.tolist(), "negative_dw": window(negative),
                            "positive_lags": positive.tolist(), "positive_dw": window(positive),
                            "dw_at_zero": window(np.zeros(1))[0]}
    if protocol.record_traces:
        pre, post, _ = observation.synapse_trains()
        trajectories = predict_trajectory(
            pre, post, observation.rule, delay=observation.delay,
            initial_weight=observation.initial_weights, conventions=observation.conventions, t_stop=observation.t_stop,
        )
        curves["trajectories"] = {
            case.label: {"times": t.times.tolist(), "weights": t.weights.tolist(), "kinds": t.kinds.tolist()}
            for case, t in zip(protocol.cases, trajectories)
        }
    return curves
