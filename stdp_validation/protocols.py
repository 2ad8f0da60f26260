"""Spike-pair protocols: named sets of cases, one plastic synapse per case.

A case gives the emission times of the presynaptic spikes and the times at which the
postsynaptic cell is made to fire (by a strong static input), plus the initial weight. All
times are in ms. Backends may add a trailing presynaptic spike (deferred updates) and shift
drive spikes by their firing latency; the reference is always computed from the spike
times the backend *recorded*, so these choices never enter the comparison.

Two network shapes exist:

``"source"``
    presynaptic ``SpikeSourceArray`` → plastic synapse → ``IF_curr_exp`` postsynaptic cell,
    driven by its own ``SpikeSourceArray`` through a strong static synapse.
``"seed"``
    the seed notebook: ``IF_cond_exp`` pre and post cells, each driven by a thalamic
    ``SpikeSourceArray`` through a 5 µS static synapse; plastic pre → post.
``"convergent"``
    a network (:class:`PoissonInputs`): ``n_inputs`` ``SpikeSourcePoisson`` cells connected
    all-to-all by plastic synapses onto ``n_neurons`` ``IF_curr_exp`` cells that fire from
    their own dynamics. Cases are the synapses (input-major: case ``i·n_neurons + j`` is input
    i → neuron j); they give no spike times, the backend's recorded trains are the input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .errors import ParameterError, check_finite
from .trains import check_spike_train
from .rules import (
    AdditivePotentiationMultiplicativeDepression,
    AdditiveWeightDependence,
    GutigWeightDependence,
    MultiplicativeWeightDependence,
    SpikeNearestPairRule,
    SpikePairRule,
    STDPRule,
)

#: Refuse protocols larger than this many synapses (memory and time grow linearly; see
#: :func:`estimate_cost`).
MAX_CASES = 20000
#: Convergent networks share cells between synapses (no cells per synapse): up to 10^3
#: inputs × 10^2 neurons. Limits per population, so that a typo cannot ask for a huge network.
MAX_NETWORK_SYNAPSES = 100_000
MAX_NETWORK_INPUTS = 10_000
MAX_NETWORK_NEURONS = 1_000

#: Default rule of the synthetic protocols: the PyNN example amplitudes with w_max = 2 nA, so
#: that Δw = A·w_max (NEST, Brian2) and Δw = A (sPyNNaker) differ: a backend that drops or adds
#: the w_max factor fails by a factor of 2 instead of passing unnoticed, as it would at w_max = 1.
DEFAULT_RULE = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), AdditiveWeightDependence(0.0, 2.0))

#: The seed notebook's rule: SpikePairRule(tau_plus=10, tau_minus=1, A_plus=0.5, A_minus=0.5),
#: AdditiveWeightDependence(w_min=0, w_max=5).
SEED_RULE = STDPRule(SpikePairRule(10.0, 1.0, 0.5, 0.5), AdditiveWeightDependence(0.0, 5.0))

#: Each case's first spike comes at least this many of the rule's longest τ after t = 0, and a
#: deferred backend's trailing presynaptic spike this many τ after the case's last spike, so
#: that NEST's nearest-rule phantom presynaptic spike at t = 0 and the trailing spike's own
#: depression can each add at most e^(−10) ≈ 4.5e-5 of one pairing to a case.
CLEAR_TAUS = 10.0
#: Shortest trailing gap (ms) and the run's margin after the last spike (ms).
TRAILING_GAP = 100.0
END_MARGIN = 50.0


def clear_time(rule):
    """:data:`CLEAR_TAUS` × the rule's longest time constant (ms)."""
    return CLEAR_TAUS * max(rule.timing.tau_plus, rule.timing.tau_minus)


def trailing_gap(rule):
    """The gap (ms) between a case's last spike and a deferred backend's trailing pre spike."""
    return max(TRAILING_GAP, clear_time(rule))


def _last_spike(cases):
    return max((max(c.pre_spike_times[-1:] + c.post_drive_times[-1:]) for c in cases
                if c.pre_spike_times or c.post_drive_times), default=0.0)


def _first_spike(cases):
    return min((min(c.pre_spike_times[:1] + c.post_drive_times[:1]) for c in cases
                if c.pre_spike_times or c.post_drive_times), default=0.0)


def end_time(cases, rule):
    """t_stop (ms) for cases under ``rule``: room for the trailing spike, then a margin."""
    return _last_spike(cases) + trailing_gap(rule) + END_MARGIN


def network_rule(n_inputs=100):
    """The network protocol's rule, after Song, Miller & Abbott (2000), Nat. Neurosci. 3:919.

    τ± = 20 ms, A−/A+ = 1.05 (depression slightly dominates, so uncorrelated inputs lose and
    the inputs that make the cell fire win), additive between 0 and w_max. A+ = 0.01 (Song:
    0.005) so that the weights move within seconds. w_max = 20 nA / ``n_inputs``: 100 inputs
    at 20 Hz with weights uniform in [0, 0.2 nA] make an IF_curr_exp cell (PyNN defaults,
    τ_syn 5 ms) fire at ≈ 30 Hz (measured on NEST), and the summed drive stays the same at
    other sizes.
    """
    return STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.0105), AdditiveWeightDependence(0.0, 20.0 / n_inputs))


@dataclass(frozen=True)
class PoissonInputs:
    """The inputs and cells of a ``"convergent"`` protocol.

    ``n_inputs`` ``SpikeSourcePoisson`` cells at ``rate`` (Hz) from ``start`` for ``duration``
    (ms), connected all-to-all onto ``n_neurons`` postsynaptic ``IF_curr_exp`` cells.
    """

    n_inputs: int
    n_neurons: int
    rate: float
    start: float
    duration: float

    def to_dict(self):
        return {"n_inputs": self.n_inputs, "n_neurons": self.n_neurons, "rate": self.rate, "start": self.start,
                "duration": self.duration}

    @classmethod
    def from_dict(cls, data):
        return cls(**data)

    @property
    def n_synapses(self):
        return self.n_inputs * self.n_neurons

    def synapses(self):
        """(input, neuron) of every case, input-major."""
        return [(i, j) for i in range(self.n_inputs) for j in range(self.n_neurons)]


@dataclass(frozen=True)
class Case:
    """One plastic synapse: presynaptic emission times and postsynaptic drive times (ms)."""

    label: str
    pre_spike_times: tuple
    post_drive_times: tuple
    initial_weight: float
    parameter: float | None = None  # the swept quantity (e.g. intended Δt) for plots

    def __post_init__(self):
        # Plain Python floats: exact in JSON, comparable, hashable.
        for name in ("pre_spike_times", "post_drive_times"):
            try:
                times = tuple(float(t) for t in getattr(self, name))
            except (TypeError, ValueError):
                raise ParameterError(f"case {self.label!r}: {name} must be a sequence of times in ms; "
                                     f"got {getattr(self, name)!r}") from None
            object.__setattr__(self, name, times)

    def to_dict(self):
        return {
            "label": self.label,
            "pre_spike_times": list(self.pre_spike_times),
            "post_drive_times": list(self.post_drive_times),
            "initial_weight": self.initial_weight,
            "parameter": self.parameter,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(
            label=data["label"],
            pre_spike_times=tuple(data["pre_spike_times"]),
            post_drive_times=tuple(data["post_drive_times"]),
            initial_weight=data["initial_weight"],
            parameter=data.get("parameter"),
        )


@dataclass(frozen=True)
class Protocol:
    """A named set of cases run as ONE network with one plastic synapse per case.

    delay, timestep and t_stop are in ms. ``trailing_pre_gap`` (ms): deferred backends add a
    presynaptic spike this long after the last drive of each case so that its last
    potentiation becomes visible (``None``: never, e.g. the seed network is kept exact).
    ``backprop_delay``: sPyNNaker's ``STDPMechanism(backprop_delay=...)``; ``False`` (the
    delay plays no part in STDP) exists only on sPyNNaker. ``inputs``: the cells of a
    ``"convergent"`` network (:class:`PoissonInputs`), ``None`` for the other networks.
    """

    name: str
    description: str
    cases: tuple
    rule: STDPRule = DEFAULT_RULE
    delay: float = 1.0
    timestep: float = 0.1
    t_stop: float = 1000.0
    network: str = "source"
    record_traces: tuple = ()
    trailing_pre_gap: float | None = 100.0
    parameter_name: str = ""
    seed: int | None = None
    backprop_delay: bool = True
    inputs: PoissonInputs | None = None

    def __post_init__(self):
        validate_protocol(self)

    def with_rule(self, rule):
        """The same cases under another rule (initial weights moved into its bounds).

        For a rule with longer time constants, the spikes move later so that they start
        :data:`CLEAR_TAUS` τ after t = 0, and the trailing gap and t_stop grow to match."""
        w_min, w_max = rule.weight.w_min, rule.weight.w_max
        old_min, old_max = self.rule.weight.w_min, self.rule.weight.w_max
        span = old_max - old_min

        def rescale(w):
            fraction = (w - old_min) / span if span > 0 else 0.5
            return w_min + fraction * (w_max - w_min)

        cases = tuple(replace(c, initial_weight=rescale(c.initial_weight)) for c in self.cases)
        changes = {"rule": rule, "cases": cases}
        if self.network == "source":
            offset = max(0.0, clear_time(rule) - _first_spike(cases))
            if offset > 0:
                offset = float(np.ceil(offset / self.timestep - 1e-9) * self.timestep)
                changes["cases"] = cases = tuple(
                    replace(c, pre_spike_times=tuple(round(t + offset, 10) for t in c.pre_spike_times),
                            post_drive_times=tuple(round(t + offset, 10) for t in c.post_drive_times))
                    for c in cases)
            if self.trailing_pre_gap is not None:
                changes["trailing_pre_gap"] = max(self.trailing_pre_gap, trailing_gap(rule))
                changes["t_stop"] = max(self.t_stop + offset, end_time(cases, rule))
        elif self.network == "convergent":
            start = max(self.inputs.start, clear_time(rule))
            changes["inputs"] = replace(self.inputs, start=start)
            changes["t_stop"] = self.t_stop + start - self.inputs.start
        return replace(self, **changes)

    def with_initial_weight(self, initial_weight):
        """The same cases, every one starting at ``initial_weight`` (within the rule's bounds)."""
        w_min, w_max = self.rule.weight.w_min, self.rule.weight.w_max
        weight = check_finite("--initial-weight (initial_weight)", initial_weight, low=w_min, high=w_max)
        return replace(self, cases=tuple(replace(c, initial_weight=weight) for c in self.cases))

    def to_dict(self):
        return {
            "name": self.name,
            "description": self.description,
            "cases": [c.to_dict() for c in self.cases],
            "rule": self.rule.to_dict(),
            "delay": self.delay,
            "timestep": self.timestep,
            "t_stop": self.t_stop,
            "network": self.network,
            "record_traces": list(self.record_traces),
            "trailing_pre_gap": self.trailing_pre_gap,
            "parameter_name": self.parameter_name,
            "seed": self.seed,
            "backprop_delay": self.backprop_delay,
            "inputs": None if self.inputs is None else self.inputs.to_dict(),
        }

    @classmethod
    def from_dict(cls, data):
        return cls(
            name=data["name"],
            description=data["description"],
            cases=tuple(Case.from_dict(c) for c in data["cases"]),
            rule=STDPRule.from_dict(data["rule"]),
            delay=data["delay"],
            timestep=data["timestep"],
            t_stop=data["t_stop"],
            network=data["network"],
            record_traces=tuple(data["record_traces"]),
            trailing_pre_gap=data["trailing_pre_gap"],
            parameter_name=data["parameter_name"],
            seed=data["seed"],
            backprop_delay=data.get("backprop_delay", True),
            inputs=None if data.get("inputs") is None else PoissonInputs.from_dict(data["inputs"]),
        )


def validate_protocol(protocol):
    """Check a protocol before anything is built; raise :class:`ParameterError` naming the problem."""
    name = f"protocol {protocol.name!r}"
    if not protocol.cases:
        raise ParameterError(f"{name}: cases must hold at least one case; got an empty protocol")
    if protocol.network not in ("source", "seed", "convergent"):
        raise ParameterError(f"{name}: network must be 'source', 'seed' or 'convergent'; got {protocol.network!r}")
    if protocol.network == "convergent" or protocol.inputs is not None:
        check_convergent(protocol)
    elif len(protocol.cases) > MAX_CASES:
        memory, seconds = estimate_cost(protocol)
        raise ParameterError(
            f"{name}: {len(protocol.cases)} cases is more than the allowed {MAX_CASES} "
            f"(estimated {memory / 2**30:.1f} GiB and {seconds / 60:.0f} min on the slowest backend); "
            "split it into several protocols"
        )
    timestep = check_finite(f"{name}: timestep", protocol.timestep, low=0.0, low_inclusive=False, unit="ms")
    delay = check_finite(f"{name}: delay", protocol.delay, low=timestep, unit="ms")
    steps = delay / timestep
    if abs(steps - round(steps)) > 1e-9:
        raise ParameterError(f"{name}: delay must be a multiple of the timestep {timestep} ms; got {delay} ms")
    t_stop = check_finite(f"{name}: t_stop", protocol.t_stop, low=0.0, low_inclusive=False, unit="ms")
    if not isinstance(protocol.backprop_delay, bool):
        raise ParameterError(f"{name}: backprop_delay must be True or False; got {protocol.backprop_delay!r}")
    w_min, w_max = protocol.rule.weight.w_min, protocol.rule.weight.w_max
    labels = set()
    for case in protocol.cases:
        where = f"{name}, case {case.label!r}"
        if case.label in labels:
            raise ParameterError(f"{where}: case labels must be unique")
        labels.add(case.label)
        for train_name in ("pre_spike_times", "post_drive_times"):
            if not getattr(case, train_name):
                continue
            times = np.asarray(getattr(case, train_name), dtype=float)
            check_spike_train(times, f"{where}: {train_name}")
            if len(times) and times[-1] >= t_stop:
                raise ParameterError(
                    f"{where}: {train_name} must end before t_stop = {t_stop} ms; got a spike at {times[-1]} ms"
                )
        check_finite(f"{where}: initial_weight", case.initial_weight, low=w_min, high=w_max)


def check_convergent(protocol):
    """The ``inputs`` of a ``"convergent"`` protocol: sizes, rate and times, one case per synapse."""
    name = f"protocol {protocol.name!r}"
    inputs = protocol.inputs
    if protocol.network != "convergent" or not isinstance(inputs, PoissonInputs):
        raise ParameterError(f"{name}: a 'convergent' network needs inputs=PoissonInputs(...), and inputs are only "
                             f"for network='convergent'; got network={protocol.network!r}, inputs={inputs!r}")
    for field_name, limit in (("n_inputs", MAX_NETWORK_INPUTS), ("n_neurons", MAX_NETWORK_NEURONS)):
        value = getattr(inputs, field_name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= limit:
            raise ParameterError(f"{name}: {field_name} must be an integer from 1 to {limit}; got {value!r}")
    if inputs.n_synapses > MAX_NETWORK_SYNAPSES:
        raise ParameterError(f"{name}: n_inputs × n_neurons must be at most {MAX_NETWORK_SYNAPSES} synapses; got "
                             f"{inputs.n_inputs} × {inputs.n_neurons} = {inputs.n_synapses}")
    check_finite(f"{name}: rate", inputs.rate, low=0.0, low_inclusive=False, high=1000.0, unit="Hz")
    start = check_finite(f"{name}: start", inputs.start, low=0.0, unit="ms")
    duration = check_finite(f"{name}: duration", inputs.duration, low=0.0, low_inclusive=False, unit="ms")
    if start + duration >= protocol.t_stop:
        raise ParameterError(f"{name}: the inputs must stop before t_stop = {protocol.t_stop} ms; got start + "
                             f"duration = {start + duration} ms")
    if len(protocol.cases) != inputs.n_synapses:
        raise ParameterError(f"{name}: cases must hold one case per synapse (n_inputs × n_neurons = "
                             f"{inputs.n_synapses}); got {len(protocol.cases)}")


def estimate_cost(protocol):
    """Rough (bytes, seconds) to simulate a protocol on the slowest default backend (Brian2).

    Measured on a 2-core machine: ≈ 60 kB of simulator state per synapse (three cells, two
    projections, spike recording) and ≈ 10 µs of wall time per synapse per ms of biological time.
    """
    n = len(protocol.cases)
    return 60e3 * n, 10e-6 * n * protocol.t_stop


# ---------------------------------------------------------------------------------------------
# The protocols


def window_protocol(lags=None, *, pre_time=None, initial_weight=0.5, rule=DEFAULT_RULE, timestep=0.1, delay=1.0,
                    stagger=10):
    """Single pre/post pairs over a sweep of emission Δt = t_post − t_pre (default −50…+50 ms by 1).

    Case k's pre spike is at ``pre_time + (k mod stagger)`` ms, so that at most
    ``ceil(n / stagger)`` sources fire in the same time step (sPyNNaker warns that a
    ``SpikeSourceArray`` sending more than 100 spikes at once may drop some on a board).
    ``pre_time`` default: the earliest post spike :data:`CLEAR_TAUS` τ after t = 0.
    """
    lags = np.arange(-50.0, 51.0, 1.0) if lags is None else np.asarray(lags, dtype=float)
    if pre_time is None:
        pre_time = clear_time(rule) + max(0.0, -float(lags.min(initial=0.0)))
    if len(lags) and pre_time + lags.min() < 0:
        raise ParameterError(f"lags must be >= -pre_time ({-pre_time} ms); got {lags.min()} ms")
    if isinstance(stagger, bool) or not isinstance(stagger, int) or stagger < 1:
        raise ParameterError(f"stagger must be an integer >= 1; got {stagger!r}")
    cases = []
    for index, lag in enumerate(lags):
        pre = pre_time + (index % stagger)
        cases.append(Case(f"dt={lag:+g}", (pre,), (pre + lag,), initial_weight, parameter=float(lag)))
    return Protocol(
        name="window",
        description="One pre/post pair per synapse, swept over Δt: the STDP window curve.",
        cases=tuple(cases),
        rule=rule,
        delay=delay,
        timestep=timestep,
        t_stop=end_time(cases, rule) if cases else pre_time + END_MARGIN,
        trailing_pre_gap=trailing_gap(rule),
        parameter_name="Δt = t_post − t_pre (ms)",
    )


def seed_protocol():
    """The seed notebook's network, exactly, and its two variants (one synapse each).

    IF_cond_exp pre and post cells; thalamic sources at 30, 40, 50, 60 ms (pre cell) and
    32, 42, 52, 62 ms (post cell), static 5 µS; plastic pre → post weight 0 µS, delay 5 ms,
    SpikePairRule(10, 1, 0.5, 0.5), Additive(0, 5); timestep 1 ms; 150 ms. Variants: pre
    drive at 0, 10, …, 90 ms with the post drive 15 ms later; only the pre cell driven.
    """
    pre_times = tuple(float(t) for t in range(0, 100, 10))
    cases = (
        Case("seed", (30.0, 40.0, 50.0, 60.0), (32.0, 42.0, 52.0, 62.0), 0.0),
        Case("post 15 ms later", pre_times, tuple(t + 15.0 for t in pre_times), 0.0),
        Case("pre cell only", (30.0, 40.0, 50.0, 60.0), (), 0.0),
    )
    return Protocol(
        name="seed",
        description="The seed notebook's IF_cond_exp network and two variants, recorded in full.",
        cases=cases,
        rule=SEED_RULE,
        delay=5.0,
        timestep=1.0,
        t_stop=150.0,
        network="seed",
        record_traces=("v", "gsyn_exc", "gsyn_inh"),
        trailing_pre_gap=None,
    )


def pairing_protocol(frequencies=(1.0, 10.0, 20.0, 50.0), lags=(-10.0, 10.0), n_pairings=60, *,
                     initial_weight=1.0, rule=DEFAULT_RULE, start=None, timestep=1.0, delay=1.0):
    """``n_pairings`` pre/post pairs at each frequency (Hz) with a fixed Δt (ms): frequency dependence.

    ``initial_weight`` 1.0, the middle of the default rule's [0, 2]: no case reaches a bound
    on any backend, so every case shows its frequency dependence (at 0.5, the depressing
    cases ended at w_min). ``start`` default: the first spike :data:`CLEAR_TAUS` τ after t = 0.
    """
    if start is None:
        start = clear_time(rule) + max([0.0] + [-float(lag) for lag in lags])
    cases = []
    for frequency in frequencies:
        frequency = check_finite("frequencies", frequency, low=0.0, low_inclusive=False, unit="Hz")
        period = 1000.0 / frequency
        for lag in lags:
            if abs(lag) >= period:
                raise ParameterError(f"lags must be shorter than the pairing period {period} ms; got {lag} ms")
            pre = start + period * np.arange(n_pairings)
            cases.append(Case(f"{frequency:g} Hz, dt={lag:+g}", tuple(pre), tuple(pre + lag), initial_weight,
                              parameter=frequency))
    return Protocol(
        name="pairing",
        description=f"{n_pairings} pairings at each frequency with a fixed Δt: frequency dependence.",
        cases=tuple(cases),
        rule=rule,
        timestep=timestep,
        t_stop=end_time(cases, rule),
        trailing_pre_gap=trailing_gap(rule),
        parameter_name="pairing frequency (Hz)",
        delay=delay,
    )


def poisson_protocol(n_random=20, rate=20.0, duration=1000.0, seed=20261126, *, delay=1.0, rule=DEFAULT_RULE,
                     initial_weight=0.5, timestep=0.1):
    """Random pre and post trains from a fixed seed, plus hand-picked edge cases.

    Times are put on the timestep grid. Edge cases: coincident pre and post; post exactly one
    delay before the pre (lag 0 for a dendritic delay) and one delay after (lag 0 for an
    axonal delay); a post burst; a pre burst; alternating bursts.
    """
    rng = np.random.default_rng(seed)
    start = clear_time(rule)  # ms: the phantom spike at t = 0 of NEST's nearest rules is 10 τ away
    min_gap = 3.0  # ms; keeps drive spikes apart so that the post cell fires once per drive

    def train(rate_hz):
        n = rng.poisson(rate_hz * duration / 1000.0)
        times = np.unique(np.round(rng.uniform(start, start + duration, n) / timestep) * timestep)
        kept = [times[0]] if len(times) else []
        for t in times[1:]:
            if t - kept[-1] >= min_gap:
                kept.append(t)
        return tuple(float(t) for t in kept)

    cases = [Case(f"random {i}", train(rate), train(rate), initial_weight) for i in range(n_random)]
    d = delay
    edges = [  # times after `start`, ms
        ("coincident", (100.0, 200.0, 300.0, 400.0), (100.0, 200.0, 300.0, 400.0)),
        ("post one delay before pre", (100.0, 200.0, 300.0, 400.0), tuple(t - d for t in (100.0, 200.0, 300.0, 400.0))),
        ("post one delay after pre", (100.0, 200.0, 300.0, 400.0), tuple(t + d for t in (100.0, 200.0, 300.0, 400.0))),
        ("post burst", (100.0, 300.0), (105.0, 108.0, 111.0, 114.0, 117.0, 120.0)),
        ("pre burst", (100.0, 103.0, 106.0, 109.0, 112.0, 300.0), (115.0,)),
        ("alternating bursts", (100.0, 104.0, 108.0, 200.0, 204.0), (102.0, 106.0, 110.0, 198.0, 202.0)),
    ]
    cases.extend(Case(label, tuple(start + t for t in pre), tuple(start + t for t in post), initial_weight)
                 for label, pre, post in edges)
    return Protocol(
        name="poisson",
        description=f"{n_random} random train pairs ({rate:g} Hz, seed {seed}) plus edge cases.",
        cases=tuple(cases),
        rule=rule,
        delay=delay,
        timestep=timestep,
        t_stop=end_time(cases, rule),
        trailing_pre_gap=trailing_gap(rule),
        seed=seed,
    )


def bounds_protocol(n_pairings=40, frequency=20.0, lag=5.0, *, rule=None, timestep=0.1, delay=1.0):
    """Trains that drive the weight into w_max and into w_min (clipping order)."""
    # w_max = 2 (not 1): a missing or extra factor w_max in the amplitudes changes every step.
    rule = rule or STDPRule(SpikePairRule(20.0, 20.0, 0.05, 0.06), AdditiveWeightDependence(0.0, 2.0))
    w_min, w_max = rule.weight.w_min, rule.weight.w_max
    period = 1000.0 / frequency
    pre = clear_time(rule) + lag + period * np.arange(n_pairings)
    causal, anticausal = tuple(pre + lag), tuple(pre - lag)
    middle = (w_min + w_max) / 2
    cases = (
        Case("to w_max", tuple(pre), causal, middle, parameter=lag),
        Case("to w_min", tuple(pre), anticausal, middle, parameter=-lag),
        Case("start at w_max, potentiate", tuple(pre), causal, w_max, parameter=lag),
        Case("start at w_min, depress", tuple(pre), anticausal, w_min, parameter=-lag),
        Case("start at w_max, depress", tuple(pre), anticausal, w_max, parameter=-lag),
        Case("start at w_min, potentiate", tuple(pre), causal, w_min, parameter=lag),
    )
    return Protocol(
        name="bounds",
        description="Repeated pairings that push the weight into w_max and w_min.",
        cases=cases,
        rule=rule,
        timestep=timestep,
        delay=delay,
        t_stop=end_time(cases, rule),
        trailing_pre_gap=trailing_gap(rule),
    )


def delays_protocols(steps=range(1, 9), *, lags=None, timestep=1.0, rule=DEFAULT_RULE, initial_weight=0.5,
                     backprop=(True, False)):
    """One window protocol per synaptic delay of ``steps`` time steps, each its own network.

    Each delay gets its own post population, as sPyNNaker sizes a post population's delay
    fields from its largest incoming delay (``population_vertex.py``
    ``max_delay_steps_incoming``). ``backprop``: the ``backprop_delay`` values to run
    (``False`` exists only on sPyNNaker; other backends report it as unsupported). Names:
    ``delays-<k>`` and ``delays-<k>-nobackprop``. Emission Δt sweeps ``lags`` (default
    −12 … +12 ms), across both zero crossings (Δt = −d, dendritic; +d, axonal).
    """
    lags = np.arange(-12.0, 13.0, 1.0) if lags is None else lags
    family = []
    for k in steps:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ParameterError(f"steps must be integers >= 1; got {k!r}")
        for back in backprop:
            window = window_protocol(lags, rule=rule, timestep=timestep, delay=k * timestep,
                                     initial_weight=initial_weight)
            name = f"delays-{k}" + ("" if back else "-nobackprop")
            family.append(replace(window, name=name, backprop_delay=bool(back),
                                  description=f"One pre/post pair per synapse over Δt, delay {k} time step(s) "
                                              f"({k * timestep:g} ms), backprop_delay={back}."))
    return family


def network_protocol(n_inputs=100, n_neurons=4, rate=20.0, duration=10000.0, seed=20261203, *, rule=None,
                     initial_weight=None, timestep=1.0, delay=1.0, start=200.0):
    """Poisson inputs converging all-to-all onto cells that fire from their own dynamics.

    The setting of Song, Miller & Abbott (2000), where additive STDP with slightly dominant
    depression drives the weights towards a bimodal distribution (Fig. 1). ``n_inputs``
    ``SpikeSourcePoisson`` cells fire at ``rate`` (Hz) from ``start`` for ``duration`` (ms);
    ``n_neurons`` ``IF_curr_exp`` cells receive every input; ``timestep`` 1 ms (several spikes
    of one input can share a step: spike multiplicity). Initial weights: ``initial_weight``
    for every synapse, or (``None``) uniform in [w_min, w_max] from ``seed``, which also
    seeds the simulator's random numbers. ``start`` = 10·τ keeps NEST's nearest-rule phantom
    presynaptic spike at t = 0 (weight e^(−10) ≈ 5e-5 of a pairing) out of the way. Each
    synapse is checked against the reference model on its input's and its cell's recorded
    spikes. ``rule``: default :func:`network_rule` for ``n_inputs``. Default size: 100 × 4 for
    10 s; 1000 × 100 (``n_inputs=1000, n_neurons=100``) is the largest the limits allow.
    """
    for label, value, limit in (("n_inputs", n_inputs, MAX_NETWORK_INPUTS), ("n_neurons", n_neurons, MAX_NETWORK_NEURONS)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= limit:
            raise ParameterError(f"{label} must be an integer from 1 to {limit}; got {value!r}")
    if n_inputs * n_neurons > MAX_NETWORK_SYNAPSES:
        raise ParameterError(f"n_inputs × n_neurons must be at most {MAX_NETWORK_SYNAPSES} synapses; got "
                             f"{n_inputs} × {n_neurons} = {n_inputs * n_neurons}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be an integer >= 0; got {seed!r}")
    duration = check_finite("duration", duration, low=0.0, low_inclusive=False, high=3.6e6, unit="ms")
    rule = network_rule(n_inputs) if rule is None else rule
    w_min, w_max = rule.weight.w_min, rule.weight.w_max
    if initial_weight is None:
        weights = np.random.default_rng(seed).uniform(w_min, w_max, n_inputs * n_neurons)
    else:
        weights = np.full(n_inputs * n_neurons,
                          check_finite("initial_weight", initial_weight, low=w_min, high=w_max))
    inputs = PoissonInputs(int(n_inputs), int(n_neurons), float(rate), float(start), duration)
    cases = tuple(Case(f"input {i} → neuron {j}", (), (), float(w))
                  for (i, j), w in zip(inputs.synapses(), weights))
    return Protocol(
        name="network",
        description=(f"{n_inputs} Poisson inputs ({rate:g} Hz, {duration / 1000:g} s, seed {seed}) converging "
                     f"all-to-all onto {n_neurons} IF_curr_exp cells that fire from their own dynamics "
                     "(Song, Miller & Abbott 2000); every synapse checked."),
        cases=cases,
        rule=rule,
        delay=delay,
        timestep=timestep,
        t_stop=start + duration + 100.0,
        network="convergent",
        trailing_pre_gap=None,
        seed=int(seed),
        inputs=inputs,
    )


PROTOCOLS = {
    "window": window_protocol,
    "seed": seed_protocol,
    "pairing": pairing_protocol,
    "poisson": poisson_protocol,
    "bounds": bounds_protocol,
    "network": network_protocol,
}


#: Names that stand for several protocols.
PROTOCOL_FAMILIES = {"delays": delays_protocols}


#: The parameters a user may set on each protocol (``--timestep``, ``--delay``,
#: ``--initial-weight``, the network's size and duration); the seed network keeps its own,
#: ``bounds`` starts its cases at the bounds, ``delays`` sweeps the delay, ``network`` draws
#: its initial weights uniformly between the bounds (Song et al.'s setting).
PROTOCOL_PARAMETERS = {
    "window": ("timestep", "delay", "initial_weight"),
    "seed": (),
    "pairing": ("timestep", "delay", "initial_weight"),
    "poisson": ("timestep", "delay", "initial_weight"),
    "bounds": ("timestep", "delay"),
    "delays": ("timestep", "initial_weight"),
    "network": ("timestep", "delay", "n_inputs", "n_neurons", "duration"),
}


def check_protocol_parameters(timestep=None, delay=None, initial_weight=None, n_inputs=None, n_neurons=None,
                              duration=None):
    """Check user-set protocol parameters (ms, ms, weight units; the network's size and
    duration in ms) before anything is built."""
    network = {}
    for name, value, limit in (("n_inputs", n_inputs, MAX_NETWORK_INPUTS), ("n_neurons", n_neurons, MAX_NETWORK_NEURONS)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= limit:
                raise ParameterError(f"--network-size ({name}) must be an integer from 1 to {limit}; got {value!r}")
            network[name] = int(value)
    if n_inputs is not None and n_neurons is not None and n_inputs * n_neurons > MAX_NETWORK_SYNAPSES:
        raise ParameterError(f"--network-size must give at most {MAX_NETWORK_SYNAPSES} synapses (inputs × neurons); "
                             f"got {n_inputs} × {n_neurons} = {n_inputs * n_neurons}")
    if duration is not None:
        network["duration"] = check_finite("--network-duration (duration)", duration, low=0.0, low_inclusive=False,
                                           high=3.6e6, unit="ms")
    if timestep is not None:
        timestep = check_finite("--timestep (timestep)", timestep, low=0.0, low_inclusive=False, high=1.0, unit="ms")
    if delay is not None:
        delay = check_finite("--delay (delay)", delay, low=0.0, low_inclusive=False, high=100.0, unit="ms")
    if initial_weight is not None:
        initial_weight = check_finite("--initial-weight (initial_weight)", initial_weight)
    given = {k: v for k, v in (("timestep", timestep), ("delay", delay), ("initial_weight", initial_weight))
             if v is not None}
    return {**given, **network}


def get_protocols(name, *, seed=None, **parameters):
    """The protocols a name stands for: a family of :data:`PROTOCOL_FAMILIES`, or one protocol.

    ``parameters`` (``timestep``, ``delay``, ``initial_weight``; ``n_inputs``, ``n_neurons``,
    ``duration`` of the network) go to the protocols that take them
    (:data:`PROTOCOL_PARAMETERS`); the others keep their own.
    """
    given = check_protocol_parameters(**parameters)
    taken = {k: v for k, v in given.items() if k in PROTOCOL_PARAMETERS.get(name, ())}
    # Each protocol checks its delay against its timestep (validate_protocol).
    if name in PROTOCOL_FAMILIES:
        return PROTOCOL_FAMILIES[name](**taken)
    return [get_protocol(name, seed=seed, **taken)]


def get_protocol(name, *, seed=None, **parameters):
    """The protocol registered under ``name`` with its default parameters.

    ``seed`` sets the random seed of protocols that draw random trains or weights (``poisson``,
    ``network``).
    """
    try:
        factory = PROTOCOLS[name]
    except (KeyError, TypeError):
        raise ParameterError(f"protocol must be one of {sorted(PROTOCOLS) + sorted(PROTOCOL_FAMILIES)}; "
                             f"got {name!r}") from None
    if seed is not None and name in ("poisson", "network"):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ParameterError(f"seed must be an integer >= 0; got {seed!r}")
        return factory(seed=seed, **parameters)
    return factory(**parameters)


def get_rule(label):
    """A rule from :data:`RULES` by its label (e.g. ``"pair-multiplicative"``)."""
    try:
        return RULES[label]
    except (KeyError, TypeError):
        raise ParameterError(f"rule must be one of {sorted(RULES)}; got {label!r}") from None


#: Timing dependences and weight dependences of PyNN's standard pair-based rules, by the
#: parts of a rule label ``<timing>-<weight>`` (:attr:`STDPRule.label`).
TIMING_KINDS = {"pair": SpikePairRule, "nearest": SpikeNearestPairRule}
WEIGHT_KINDS = {
    "additive": AdditiveWeightDependence,
    "multiplicative": MultiplicativeWeightDependence,
    "addpot-muldep": AdditivePotentiationMultiplicativeDepression,
    "gutig": GutigWeightDependence,
}
#: μ+ and μ− of Gütig's rule in the rule matrix: between additive (0) and multiplicative (1),
#: and different, so that swapping them shows.
GUTIG_MU = (0.3, 0.7)


def rule_variant(rule, label):
    """``rule``'s τ±, A± and bounds under the timing and weight dependence ``label`` names
    (e.g. ``"nearest-gutig"``: SpikeNearestPairRule, GutigWeightDependence with :data:`GUTIG_MU`)."""
    timing_kind, _, weight_kind = str(label).partition("-")
    if timing_kind not in TIMING_KINDS or weight_kind not in WEIGHT_KINDS:
        raise ParameterError(f"rule must be one of {RULE_LABELS}; got {label!r}")
    t, w = rule.timing, rule.weight
    timing = TIMING_KINDS[timing_kind](t.tau_plus, t.tau_minus, t.A_plus, t.A_minus)
    if weight_kind == "gutig":
        mu_plus, mu_minus = (w.mu_plus, w.mu_minus) if rule.is_gutig else GUTIG_MU
        weight = GutigWeightDependence(w.w_min, w.w_max, mu_plus, mu_minus)
    else:
        weight = WEIGHT_KINDS[weight_kind](w.w_min, w.w_max)
    return STDPRule(timing, weight)


#: Every standard rule's label: each timing dependence with each weight dependence.
RULE_LABELS = tuple(f"{timing}-{weight}" for timing in TIMING_KINDS for weight in WEIGHT_KINDS)

#: Rules by label, on the synthetic protocols' default parameters (:data:`DEFAULT_RULE`).
RULES = {label: rule_variant(DEFAULT_RULE, label) for label in RULE_LABELS}

#: Protocols the main job runs under every rule of :data:`RULE_LABELS` (each keeping its own
#: time constants, amplitudes and bounds). ``seed`` reproduces the notebook under its own rule;
#: the ``delays`` family checks delay conventions, under the additive pair rule.
MATRIX_PROTOCOLS = ("window", "pairing", "poisson", "bounds", "network")
