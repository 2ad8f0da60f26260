"""Observed against predicted weights: comparators with stated tolerances, a verdict per case.

Which comparison applies to an observation is the backend's decision
(:meth:`~stdp_validation.backends.base.Backend.comparator`); :func:`evaluate` asks it and
wraps the verdicts in a :class:`~.result.ProtocolResult`. Three comparators exist:

* :class:`FloatComparator` — a float64 backend against the reference model with the backend's
  conventions, within a tolerance relative to the rule's weight scale;
* :class:`StoredIntegerComparator` — a fixed-point backend's stored 16-bit integers against
  :func:`stdp_validation.fixedpoint.predict_stored_weights` (tolerance 0), and its weights
  against the float model within :func:`stdp_validation.fixedpoint.float_model_bound`;
* :class:`NoComparison` — nothing learned exists to compare: every case is ``not_run``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..reference import predict_weights
from .defects import defects_per_case
from .result import ProtocolResult, Verdict, reference_curves
from .status import Status


@dataclass(frozen=True)
class Tolerance:
    """A tolerance on a weight, relative to the rule's weight scale max(|w_min|, |w_max|).

    ``relative`` × that scale is the absolute tolerance in PyNN units; ``reason`` says why
    the number is what it is. Scaling with the weights keeps the test meaningful whatever
    the unit: with w_max = 1e-7 µS an absolute 1e-9 would let a synapse that never learns pass.
    """

    relative: float
    reason: str

    def absolute(self, rule):
        return self.relative * weight_scale(rule)


def weight_scale(rule):
    """The rule's weight scale in PyNN units: max(|w_min|, |w_max|) (1 if both are 0)."""
    bounds = rule.weight
    return max(abs(bounds.w_min), abs(bounds.w_max)) or 1.0


#: Float64 backends agree with the reference to ≈1e-16 of w_max (measured over 1,117 NEST and
#: Brian2 synapses; worst 2e-14 after 60 pairings). 1e-9 of the weight scale leaves room for
#: NEST's ×1000 pA/nS conversions and Brian2's SI units while failing any modelling error,
#: the smallest of which (a trailing spike's depression at 10 τ) is ≈1e-7 of w_max.
FLOAT64_TOLERANCE = Tolerance(
    1e-9,
    "float64 round-off and unit conversions (NEST ×1000 to pA/nS and back, Brian2 SI units); "
    "measured agreement is ≈1e-16 of w_max",
)


class Comparator(ABC):
    """How the final weights of one observation are judged."""

    #: Short name shown in reports: "float", "stored integers" or "none".
    kind = ""

    @abstractmethod
    def verdicts(self, observation):
        """One :class:`~.result.Verdict` per case of ``observation``, in case order."""

    @abstractmethod
    def description(self, observation):
        """The tolerance and its reason, as one sentence for the report."""


def _defect_status(passed, defects):
    if passed:
        return Status.PASS
    return Status.KNOWN_DEFECT if defects else Status.FAIL


def _lag(observation, pre, post, case):
    if len(pre) >= 1 and len(post) == 1 and len(case.pre_spike_times) == 1:
        fraction = observation.conventions.dendritic_delay_fraction
        return post[0] + fraction * observation.delay - (pre[0] + (1 - fraction) * observation.delay)
    return None


def post_timing(intended, recorded):
    """(max |recorded − intended| post time in ms, note): ``None`` with a note when counts differ."""
    if len(intended) != len(recorded):
        return None, f"{len(recorded)} post spikes recorded for {len(intended)} intended"
    if not intended:
        return 0.0, ""
    return float(np.max(np.abs(np.asarray(recorded) - np.asarray(intended)))), ""


def _verdict(observation, trains, index, **values):
    """A verdict for case ``index``; ``trains`` is ``observation.synapse_trains()``."""
    case = observation.protocol.cases[index]
    pre, post, intended = (train[index] for train in trains)
    timing_error, timing_note = post_timing(intended, post)
    return Verdict(
        case=case.label, parameter=case.parameter, initial_weight=float(observation.initial_weights[index]),
        observed=float(observation.final_weights[index]), lag=_lag(observation, pre, post, case),
        post_timing_error=timing_error, post_timing_note=timing_note, n_pre=len(pre), n_post=len(post),
        **values,
    )


class FloatComparator(Comparator):
    """Float64 backends: the reference model from the recorded spikes, within ``tolerance``."""

    kind = "float"

    def __init__(self, tolerance=FLOAT64_TOLERANCE):
        self.tolerance = tolerance

    def description(self, observation):
        absolute = self.tolerance.absolute(observation.rule)
        return (f"|observed − reference| ≤ {self.tolerance.relative:g} × weight scale = {absolute:.3g}: "
                f"{self.tolerance.reason}")

    def verdicts(self, observation):
        trains = observation.synapse_trains()
        expected = predict_weights(
            trains[0], trains[1], observation.rule,
            delay=observation.delay, initial_weight=observation.initial_weights,
            conventions=observation.conventions, t_stop=observation.t_stop,
        )
        observed = np.asarray(observation.final_weights, dtype=float)
        errors = np.abs(observed - expected)
        tolerance = self.tolerance.absolute(observation.rule)
        per_case = defects_per_case(observation)
        reason = f"{self.tolerance.relative:g} × weight scale: {self.tolerance.reason}"
        verdicts = []
        for index in range(len(observation.protocol.cases)):
            defects = per_case[index]
            status = _defect_status(bool(errors[index] <= tolerance), defects)
            verdicts.append(_verdict(
                observation, trains, index, expected=float(expected[index]), error=float(errors[index]),
                tolerance=tolerance, tolerance_reason=reason, status=status,
                defects=defects if status is Status.KNOWN_DEFECT else [],
            ))
        return verdicts


class NoComparison(Comparator):
    """Nothing learned to compare (e.g. a toolchain-only run): every case is ``not_run``."""

    kind = "none"

    def __init__(self, reason):
        self.reason = reason

    def description(self, observation):
        return f"no weight comparison: {self.reason}"

    def verdicts(self, observation):
        trains = observation.synapse_trains()
        return [_verdict(observation, trains, index, expected=None, error=None, tolerance=None,
                         tolerance_reason=self.reason, status=Status.NOT_RUN, reason=self.reason)
                for index in range(len(observation.protocol.cases))]


class StoredIntegerComparator(Comparator):
    """Fixed-point backends (SpiNNaker): equal stored integers with the bit-accurate model.

    ring_buffer_shift, conductance_based
        The post population's ring-buffer shift s and weight scale kind, from the toolchain;
        one stored step is :func:`~stdp_validation.fixedpoint.weight_lsb` (s).
    reason
        Why the tolerance is 0 for this kind of execution (board or emulated ARM code).
    invalid
        Case index → reason: cases the backend's own counters invalidate (they fail with it).
    emulated
        Stored integers the same code computed in an emulator on the board's recorded spikes
        (one per case), or ``None``: each verdict then says whether a difference comes from
        the chip and its glue or from the code and the model (:func:`attribute`).

    Each verdict also carries the float model with the backend's event semantics and the
    one-sided bound within which a fixed-point result may differ from it
    (:func:`~stdp_validation.fixedpoint.float_model_bound`); outside it the case fails too.
    The one exception to equality is an initial weight exactly on a .5 tie of the stored
    grid: the host rounds half-even, sPyNNaker's on-chip expander half-up (±1 step).
    """

    kind = "stored integers"

    def __init__(self, ring_buffer_shift, conductance_based, reason, invalid=None, emulated=None):
        self.ring_buffer_shift = int(ring_buffer_shift)
        self.conductance_based = bool(conductance_based)
        self.reason = reason
        self.invalid = dict(invalid or {})
        self.emulated = None if emulated is None else [int(v) for v in emulated]

    def description(self, observation):
        from ..fixedpoint import weight_lsb

        lsb = weight_lsb(self.ring_buffer_shift, self.conductance_based)
        return (f"equal stored 16-bit integers (0 LSB, LSB = {lsb:g}) with the fixed-point model, and within "
                f"the one-sided float-model bound: {self.reason}")

    def verdicts(self, observation):
        from .. import fixedpoint

        shift, conductance = self.ring_buffer_shift, self.conductance_based
        lsb = fixedpoint.weight_lsb(shift, conductance)
        arguments = dict(delay=observation.delay, timestep=observation.protocol.timestep,
                         ring_buffer_shift=shift, conductance_based=conductance,
                         backprop_delay=observation.conventions.backprop_delay)
        trains = observation.synapse_trains()
        pre, post, rule = trains[0], trains[1], observation.rule
        stored_expected = fixedpoint.predict_stored_weights(pre, post, rule, initial_weight=observation.initial_weights,
                                                            **arguments)
        if observation.stored_weights is not None:
            stored_observed = np.asarray(observation.stored_weights, dtype=np.int64)
        else:
            stored_observed = np.rint(np.asarray(observation.final_weights, dtype=float) / lsb).astype(np.int64)
        initial = np.asarray(observation.initial_weights, dtype=float)
        tie = np.abs((initial / lsb) % 1.0 - 0.5) < 1e-9
        allowed = np.where(tie, 1, 0)
        float_expected = predict_weights(pre, post, rule, delay=observation.delay, initial_weight=initial,
                                         conventions=observation.conventions, t_stop=observation.t_stop)
        bound = fixedpoint.float_model_bound(pre, post, rule, initial_weight=initial, **arguments)
        per_case = defects_per_case(observation)
        reason = f"{self.reason}; LSB {lsb:g}"
        verdicts = []
        for index in range(len(observation.protocol.cases)):
            difference = int(stored_observed[index]) - int(stored_expected[index])
            observed_weight = float(stored_observed[index]) * lsb
            low = float(float_expected[index] - bound.lower[index])
            high = float(float_expected[index] + bound.upper[index])
            within = bool(low - 1e-12 * lsb <= observed_weight <= high + 1e-12 * lsb)
            exact = abs(difference) <= int(allowed[index])
            why = self.invalid.get(index, "")
            if not exact:
                why = why or f"stored integer differs from the fixed-point model by {difference:+d} LSB"
            elif not within:
                why = why or (f"outside the float-model bound [{low:.6g}, {high:.6g}] "
                              f"(float model {float(float_expected[index]):.6g})")
            emulated = None if self.emulated is None else self.emulated[index]
            if emulated is not None:
                why = "; ".join(x for x in (why, attribute(int(stored_observed[index]), emulated,
                                                          int(stored_expected[index]))) if x)
            defects = per_case[index]
            if index in self.invalid:
                status = Status.FAIL
            else:
                status = _defect_status(exact and within, defects)
            verdicts.append(_verdict(
                observation, trains, index, expected=float(stored_expected[index]) * lsb,
                error=abs(difference) * lsb, tolerance=float(allowed[index]) * lsb, tolerance_reason=reason,
                status=status, defects=defects if status is Status.KNOWN_DEFECT else [], reason=why,
                stored_expected=int(stored_expected[index]), stored_observed=int(stored_observed[index]), lsb=lsb,
                float_model={"expected": float(float_expected[index]), "lower": low, "upper": high,
                             "within": within},
                stored_emulated=emulated,
            ))
        return verdicts


def attribute(board, emulated, model):
    """Where a difference between a board's stored integer, the same code's in an emulator (on
    the board's recorded spikes) and the fixed-point model's comes from, in one sentence."""
    if board == emulated == model:
        return "board, emulated ARM code and fixed-point model agree"
    if board == emulated:
        return (f"board = emulated ARM code ({board}) ≠ model ({model}): the code and the model disagree; "
                "the chip is not the cause")
    if emulated == model:
        return (f"board ({board}) ≠ emulated ARM code = model ({model}): the difference comes from the chip and its "
                "glue (spike timing and order on the machine, packets, DMA, the expander), not from the code")
    if board == model:
        return (f"board = model ({model}) ≠ emulated ARM code ({emulated}): the emulation's assumptions (event order "
                "within a tick, supplied spike ticks) differ from what the board did")
    return (f"board ({board}), emulated ARM code ({emulated}) and model ({model}) all differ: resolve emulated vs "
            "model first, then board vs emulated")


def evaluate(observation, observation_file=None):
    """Compare ``observation`` the way its backend says (:class:`ProtocolResult`)."""
    from ..backends import comparator_for

    comparator = comparator_for(observation)
    return ProtocolResult.from_verdicts(
        observation, comparator.verdicts(observation), comparison=comparator.kind,
        tolerance=comparator.description(observation), observation_file=observation_file,
        reference=reference_curves(observation) if observation.execution.learned else {},
    )
