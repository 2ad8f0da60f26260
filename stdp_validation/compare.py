"""Observed against predicted weights: tolerances with reasons, and a verdict per case."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .defects import defects_for
from .errors import ParameterError
from .reference import predict_weights


@dataclass(frozen=True)
class Tolerance:
    """An absolute tolerance on a weight (PyNN units) and why it is that number."""

    absolute: float
    reason: str


#: Float64 backends agree with the reference to ≈1e-16 (measured over 1,117 synapses); the
#: gate leaves room for the ×1000 pA/nS conversion in NEST and Brian2's unit division.
FLOAT64_TOLERANCE = Tolerance(
    1e-9,
    "float64 round-off and unit conversions (NEST ×1000 to pA/nS and back, Brian2 SI units); "
    "measured agreement is ≈1e-16",
)

TOLERANCES = {"nest": FLOAT64_TOLERANCE, "brian2": FLOAT64_TOLERANCE}

#: A board's learned weights against the bit-accurate integer model (facts "Tolerance formulas").
SPINNAKER_BOARD_REASON = (
    "SpiNNaker board vs the bit-accurate fixed-point model: equal stored 16-bit integers (the same "
    "integer algorithm); 1 LSB only where the initial weight sits on a .5 tie (host rounds half-even, "
    "the on-chip expander half-up)"
)

PASS, FAIL, KNOWN_DEFECT = "pass", "fail", "known_defect"
#: Nothing was simulated (SpiNNaker virtual board): no weight verdict, only toolchain checks.
NOT_RUN = "not_run"
NOT_RUN_REASON = (
    "virtual board: nothing was simulated; final_weights are the initial weights as the host "
    "quantised them, so there is no weight verdict (see the toolchain checks)"
)


@dataclass
class Verdict:
    """The comparison for one case (one synapse)."""

    case: str
    parameter: float | None
    initial_weight: float
    expected: float | None  # None: no prediction made (nothing was simulated)
    observed: float
    error: float | None
    tolerance: float
    tolerance_reason: str
    status: str
    defects: list = field(default_factory=list)
    lag: float | None = None  # synapse lag (ms) of a single-pair case
    post_timing_error: float | None = None  # ms, max |recorded − intended| post time
    post_timing_note: str = ""
    n_pre: int = 0
    n_post: int = 0

    @property
    def passed(self):
        return self.status == PASS

    def to_dict(self):
        return asdict(self)


@dataclass
class ProtocolResult:
    backend: str
    protocol: str
    rule: str
    verdicts: list
    timings: dict
    environment: dict
    observation_file: str | None = None
    notes: list = field(default_factory=list)
    protocol_parameters: dict = field(default_factory=dict)  # timestep, delay, t_stop (ms)
    conventions: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)

    def count(self, status):
        return sum(v.status == status for v in self.verdicts)

    @property
    def worst_error_ratio(self):
        compared = [v for v in self.verdicts if v.status not in (KNOWN_DEFECT, NOT_RUN)]
        if not compared:
            return None  # nothing compared: no error to speak of
        return max((v.error / v.tolerance if v.tolerance > 0 else (0.0 if v.error == 0 else float("inf"))
                    for v in compared), default=0.0)

    @property
    def failed(self):
        return self.count(FAIL) > 0 or bool(self.failed_checks)

    @property
    def failed_checks(self):
        return [c for c in self.checks if c.get("kind") == "check" and c.get("passed") is False]

    def to_dict(self):
        return {
            "backend": self.backend,
            "protocol": self.protocol,
            "rule": self.rule,
            "summary": {
                "cases": len(self.verdicts),
                "passed": self.count(PASS),
                "failed": self.count(FAIL),
                "known_defects": self.count(KNOWN_DEFECT),
                "not_run": self.count(NOT_RUN),
                "toolchain_checks": {
                    "passed": sum(c.get("kind") == "check" and c.get("passed") is True for c in self.checks),
                    "failed": len(self.failed_checks),
                    "not_checked": sum(c.get("kind") == "check" and c.get("passed") is None for c in self.checks),
                },
                "worst_error_over_tolerance": self.worst_error_ratio,
            },
            "verdicts": [v.to_dict() for v in self.verdicts],
            "timings": self.timings,
            "environment": self.environment,
            "observation_file": self.observation_file,
            "notes": self.notes,
            "protocol_parameters": self.protocol_parameters,
            "conventions": self.conventions,
            "checks": self.checks,
        }


def tolerance_for(backend):
    return TOLERANCES.get(backend, FLOAT64_TOLERANCE)


def predicted_weights(observation):
    """The reference prediction for every case of an observation, from its recorded spikes."""
    return predict_weights(
        observation.pre_spike_times,
        observation.post_spike_times,
        observation.rule,
        delay=observation.delay,
        initial_weight=observation.initial_weights,
        conventions=observation.conventions,
        t_stop=observation.t_stop,
    )


def compare(observation, tolerance=None):
    """Verdicts for every case of ``observation`` (a :class:`~stdp_validation.observation.Observation`)."""
    if not observation.board_output:
        return [
            Verdict(case=case.label, parameter=case.parameter, initial_weight=float(initial),
                    expected=None, observed=float(observed), error=None, tolerance=0.0,
                    tolerance_reason=NOT_RUN_REASON, status=NOT_RUN)
            for case, initial, observed in zip(observation.protocol.cases, observation.initial_weights,
                                               observation.final_weights)
        ]
    if observation.backend == "spinnaker" and tolerance is None:
        return _spinnaker_board_verdicts(observation)
    tolerance = tolerance or tolerance_for(observation.backend)
    expected = predicted_weights(observation)
    observed = np.asarray(observation.final_weights, dtype=float)
    errors = np.abs(observed - expected)
    applicable = defects_for(observation.backend, observation.rule)
    fraction = observation.conventions.dendritic_delay_fraction
    verdicts = []
    for index, case in enumerate(observation.protocol.cases):
        pre = observation.pre_spike_times[index]
        post = observation.post_spike_times[index]
        ok = bool(errors[index] <= tolerance.absolute)
        status = PASS if ok else (KNOWN_DEFECT if applicable else FAIL)
        lag = None
        if len(pre) >= 1 and len(post) == 1 and len(case.pre_spike_times) == 1:
            lag = post[0] + fraction * observation.delay - (pre[0] + (1 - fraction) * observation.delay)
        timing_error, timing_note = _post_timing(observation.intended_post_times[index], post)
        verdicts.append(
            Verdict(
                case=case.label,
                parameter=case.parameter,
                initial_weight=float(observation.initial_weights[index]),
                expected=float(expected[index]),
                observed=float(observed[index]),
                error=float(errors[index]),
                tolerance=tolerance.absolute,
                tolerance_reason=tolerance.reason,
                status=status,
                defects=[d.id for d in applicable] if status == KNOWN_DEFECT else [],
                lag=lag,
                post_timing_error=timing_error,
                post_timing_note=timing_note,
                n_pre=len(pre),
                n_post=len(post),
            )
        )
    return verdicts


def _post_timing(intended, recorded):
    if len(intended) != len(recorded):
        return None, f"{len(recorded)} post spikes recorded for {len(intended)} intended"
    if not intended:
        return 0.0, ""
    return float(np.max(np.abs(np.asarray(recorded) - np.asarray(intended)))), ""


def board_network(observation):
    """(ring-buffer shift, conductance_based) of a SpiNNaker observation's plastic synapse type.

    Read from the "sPyNNaker encoding" record the backend stores in ``observation.checks``;
    raises :class:`~stdp_validation.errors.ParameterError` when the record is missing.
    """
    for check in observation.checks:
        if check.get("name") == "sPyNNaker encoding" and check.get("kind") == "info":
            encoding = check.get("observed") or {}
            try:
                shift = int(encoding["ring_buffer_shifts"][encoding["synapse_type"]])
                return shift, float(encoding["global_weight_scale"]) == 1024.0
            except (KeyError, IndexError, TypeError, ValueError):
                break
    raise ParameterError(
        "a SpiNNaker board observation needs the 'sPyNNaker encoding' record in checks "
        "(ring_buffer_shifts, synapse_type, global_weight_scale) to predict the stored weights"
    )


def _spinnaker_board_verdicts(observation):
    from .fixedpoint import predict_fixed_point_weights, weight_lsb

    shift, conductance = board_network(observation)
    lsb = weight_lsb(shift, conductance_based=conductance)
    expected = predict_fixed_point_weights(
        observation.pre_spike_times, observation.post_spike_times, observation.rule,
        delay=observation.delay, initial_weight=observation.initial_weights,
        timestep=observation.protocol.timestep, ring_buffer_shift=shift, conductance_based=conductance,
    )
    initial = np.asarray(observation.initial_weights, dtype=float)
    tie = np.abs((initial / lsb) % 1.0 - 0.5) < 1e-9
    allowed = np.where(tie, lsb, 0.0)
    observed = np.asarray(observation.final_weights, dtype=float)
    errors = np.abs(observed - expected)
    applicable = defects_for(observation.backend, observation.rule)
    verdicts = []
    for index, case in enumerate(observation.protocol.cases):
        # Weights are multiples of the LSB (a power of two): the comparison is exact.
        ok = bool(errors[index] <= allowed[index] + 1e-12 * lsb)
        status = PASS if ok else (KNOWN_DEFECT if applicable else FAIL)
        timing_error, timing_note = _post_timing(observation.intended_post_times[index],
                                                 observation.post_spike_times[index])
        verdicts.append(Verdict(
            case=case.label, parameter=case.parameter, initial_weight=float(initial[index]),
            expected=float(expected[index]), observed=float(observed[index]), error=float(errors[index]),
            tolerance=float(allowed[index]), tolerance_reason=f"{SPINNAKER_BOARD_REASON}; LSB {lsb:g}",
            status=status, defects=[d.id for d in applicable] if status == KNOWN_DEFECT else [],
            post_timing_error=timing_error, post_timing_note=timing_note,
            n_pre=len(observation.pre_spike_times[index]), n_post=len(observation.post_spike_times[index]),
        ))
    return verdicts
