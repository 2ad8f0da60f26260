"""The PyNN backends' shared network: build, run and read protocols through ``pyNN.<simulator>``.

Each case of a protocol becomes one plastic synapse between its own presynaptic and
postsynaptic cell (one-to-one), so a whole protocol is ONE network; batching is exact
because the synapses share nothing. Several protocols may share one simulation
(:meth:`PyNNBackend.groups`), and the run lasts the longest ``t_stop`` of the group, which
changes nothing for the others since no protocol has a spike after its own ``t_stop``. The
same "source" protocol under several rules (the rule matrix) shares its cells: one set of
presynaptic sources, drive sources and driven post cells, with one plastic projection per
rule. The post cells fire from the drive alone (see :data:`DRIVE_WEIGHT`), so the rules'
projections cannot affect one another, and each is compared on the spikes recorded. Backend
differences are small hooks overridden by the subclasses.

Networks
--------
``"source"`` protocols: presynaptic ``SpikeSourceArray`` → plastic synapse → ``IF_curr_exp``
postsynaptic cell, made to fire at the case's drive times by its own ``SpikeSourceArray``
through a strong static synapse (:data:`DRIVE_WEIGHT`). ``"seed"``: the seed notebook's
``IF_cond_exp`` pre and post cells, each driven by a thalamic ``SpikeSourceArray``.
``"convergent"``: ``SpikeSourcePoisson`` inputs → all-to-all plastic synapses →
``IF_curr_exp`` cells (:data:`NETWORK_CELL_PARAMETERS`) that fire from their inputs alone;
the simulator's random numbers are seeded with the protocol's seed.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import UnsupportedByBackend
from ..results.observation import Observation, RunError
from ..results.status import Execution
from .base import Backend

#: Postsynaptic cell of "source" protocols: a 300 nA input through a 0.2 ms synapse makes it
#: fire in the time step after the input arrives (60 pC on 1 nF: 60 mV, far above the 15 mV to
#: threshold), exactly once: 2 ms later the input current has decayed to 300·e^(−10) ≈ 0.01 nA.
#: A plastic weight of at most a few nA through the same 0.2 ms synapse moves v by < 1 mV,
#: so the plastic synapse cannot make the cell fire.
POST_CELL_PARAMETERS = {"tau_syn_E": 0.2, "tau_syn_I": 0.2, "tau_refrac": 2.0}
DRIVE_WEIGHT = 300.0  # nA
DRIVE_DELAY = 1.0  # ms; NEST shifts some source times by one step when min_delay < 1 ms

#: The seed notebook: IF_cond_exp cells with PyNN defaults, thalamic input 5 µS.
SEED_DRIVE_WEIGHT = 5.0  # µS

#: Cells of "convergent" networks: PyNN's IF_curr_exp defaults (τ_m 20 ms, 1 nF, 15 mV from
#: rest to threshold) with a 5 ms synaptic time constant, as in Song, Miller & Abbott (2000).
NETWORK_CELL_PARAMETERS = {"tau_syn_E": 5.0, "tau_syn_I": 5.0, "tau_refrac": 2.0}

#: Warnings from inside the simulators and PyNN, raised for every network; the observation
#: records what was run, so the console stays readable.
_QUIET_MODULES = (r"nest(\..*)?", r"pyNN(\..*)?", r"brian2(\..*)?", r"neo(\..*)?", r"spynnaker(\..*)?",
                  r"spinn_.*", r"pacman(\..*)?")


@dataclass
class Prepared:
    """One protocol ready to build: its conventions and the spike trains the network gets."""

    protocol: object
    conventions: object
    pre_trains: list
    drive_trains: list
    initial_weights: list
    timings: dict = field(default_factory=dict)


@dataclass
class Readout:
    """What was read from a network after its run (one protocol)."""

    weights: np.ndarray
    pre: list
    post: list
    traces: dict
    extras: dict = field(default_factory=dict)  # Observation fields a subclass adds (checks, encoding, ...)
    pending: dict = field(default_factory=dict)  # a subclass's data between after_run and finish (not saved)
    error: Exception | None = None  # set by a subclass when this protocol failed after the shared run


class PyNNBackend(Backend):
    """A backend driven through a ``pyNN.<simulator>`` module; subclasses set the hooks."""

    module = ""  # e.g. "pyNN.nest"
    #: Fraction of the delay on the postsynaptic side; the backend's STDPMechanism accepts only this.
    dendritic_delay_fraction = 1.0
    #: Time steps between the drive spike's arrival and the post spike.
    firing_latency_steps = 1
    #: PyNN 0.13 fails on one-cell populations with numpy >= 2, pyNN.brian2 on a single
    #: connection: protocols of one case get a silent extra synapse, dropped from every result.
    pad_single_case = True
    #: Whether one "source" protocol under several rules runs as one network (shared cells,
    #: one plastic projection per rule); see :meth:`groups`.
    share_cells_across_rules = True

    @property
    def execution(self):
        return Execution.SIMULATED

    # -- hooks -------------------------------------------------------------------------------------
    def import_simulator(self):
        simulator = importlib.import_module(self.module)
        logging.getLogger("PyNN").setLevel(logging.ERROR)
        return simulator

    def setup(self, sim, timestep, min_delay):
        sim.setup(timestep=timestep, min_delay=min_delay)

    def seed(self, sim, seed):
        """Seed the simulator's random numbers (Poisson inputs), after ``setup``."""
        raise UnsupportedByBackend(f"the {self.name!r} backend cannot seed its simulator's random numbers")

    def session(self, group):
        """A context the group's ``setup()`` … ``end()`` runs in (SpiNNaker: an isolated folder)."""
        return contextlib.nullcontext()

    def spike_times(self, train):
        """A spike train in the form the backend's ``SpikeSourceArray`` accepts."""
        from pyNN.parameters import Sequence

        return Sequence(train)

    def population_label(self, protocol, role):
        return f"{protocol.name} ({protocol.rule.label}): {role}"

    def receptor(self, protocol):
        """Synapse type of the plastic projection."""
        return "excitatory"

    def plastic_synapse(self, sim, rule, delay, weight):
        timing = rule.timing
        if rule.is_nearest:
            raise UnsupportedByBackend(f"SpikeNearestPairRule is not available on the {self.name!r} backend")
        weight_class = getattr(sim, type(rule.weight).__name__)
        return sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=timing.tau_plus, tau_minus=timing.tau_minus,
                                                A_plus=timing.A_plus, A_minus=timing.A_minus),
            weight_dependence=weight_class(**asdict(rule.weight)),  # PyNN's parameter names
            weight=weight,
            delay=delay,
            dendritic_delay_fraction=self.dendritic_delay_fraction,
        )

    def connect_plastic(self, sim, pre, post, protocol, initial_weights, receptor):
        """The plastic projection, one synapse per case with its initial weight."""
        rule, delay = protocol.rule, protocol.delay
        uniform = len(set(initial_weights)) == 1
        synapse = self.plastic_synapse(sim, rule, delay, initial_weights[0] if uniform else rule.weight.w_min)
        projection = sim.Projection(pre, post, connector(sim, protocol), synapse, receptor_type=receptor)
        if not uniform:  # setting weights one by one costs more than a NEST run: only if they differ
            projection.set(weight=weight_matrix(protocol, initial_weights))
        return projection

    def read_weights(self, projection, protocol):
        """The weight of every case's synapse, in case order."""
        matrix = np.asarray(projection.get("weight", format="array"), dtype=float)
        if protocol.network == "convergent":
            return matrix[: protocol.inputs.n_inputs, : protocol.inputs.n_neurons].reshape(-1).copy()
        return np.diag(matrix)[: len(protocol.cases)].copy()

    def read_spikes(self, population, n):
        return spike_trains(population)[:n]

    def read_traces(self, network, variables, n):
        return read_traces(network, variables, n)

    def after_run(self, sim, group, networks, readouts, session):
        """Called after every protocol of a group was read and before ``end()``: a subclass adds
        to each :class:`Readout`'s ``extras`` (toolchain checks, encodings, ...). ``session`` is
        what :meth:`session` yielded."""

    def finish(self, group, readouts, session):
        """Called after ``end()`` and after :meth:`session` closed (e.g. to collect its log)."""

    def groups(self, prepared):
        """How protocols share simulations: lists of indices into ``prepared``. Default: one
        each, except that the same "source" protocol under several rules shares one (and
        its cells, :attr:`share_cells_across_rules`)."""
        if not self.share_cells_across_rules:
            return [[index] for index in range(len(prepared))]
        groups = {}
        for index, item in enumerate(prepared):
            key = cells_key(item) if self.shares_cells(item.protocol) else ("alone", index)
            groups.setdefault(key, []).append(index)
        return list(groups.values())

    # -- the run -------------------------------------------------------------------------------------
    def prepare(self, protocol):
        """Check one protocol and compute its input trains; raises before anything is built."""
        self.check([protocol])
        conventions = self.conventions(protocol.rule, protocol)
        pre_trains, drive_trains = self.input_trains(protocol, conventions)
        for pre in pre_trains:
            if pre and pre[-1] >= protocol.t_stop:
                raise UnsupportedByBackend(
                    f"protocol {protocol.name!r}: the trailing presynaptic spike at {pre[-1]} ms needs "
                    f"t_stop > {pre[-1]} ms; got t_stop = {protocol.t_stop} ms"
                )
        initial = [case.initial_weight for case in protocol.cases]
        return Prepared(protocol, conventions, pre_trains, drive_trains, initial)

    def input_trains(self, protocol, conventions):
        """Presynaptic emission times and post drive emission times per case (ms)."""
        shift = DRIVE_DELAY + self.firing_latency_steps * protocol.timestep
        deferred = conventions.update_timing == "deferred"
        pre_trains, drive_trains = [], []
        if protocol.network == "convergent":
            return [], []  # the inputs are Poisson sources; nothing to give
        for case in protocol.cases:
            pre = list(case.pre_spike_times)
            if deferred and protocol.trailing_pre_gap is not None and protocol.network == "source":
                # Deferred updates show a post spike's potentiation only at the next pre spike.
                last = max(pre[-1:] + list(case.post_drive_times[-1:]) + [0.0])
                pre.append(on_grid(last + protocol.trailing_pre_gap, protocol.timestep))
            pre_trains.append(pre)
            if protocol.network == "source":
                drive_trains.append([on_grid(t - shift, protocol.timestep) for t in case.post_drive_times])
            else:
                drive_trains.append(list(case.post_drive_times))
        return pre_trains, drive_trains

    def run(self, protocols):
        prepared = [self.prepare(protocol) for protocol in protocols]
        names = [f"{item.protocol.name} ({item.protocol.rule.label})" for item in prepared]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise UnsupportedByBackend(f"protocol names must be unique per rule within one run (population labels); "
                                       f"got {', '.join(repeated)} more than once")
        pending = {}
        next_index = 0
        for group in self.groups(prepared):
            for index, outcome in zip(group, self._run_group_or_each(prepared, group)):
                pending[index] = outcome
            while next_index in pending:
                yield pending.pop(next_index)
                next_index += 1

    def _run_group_or_each(self, prepared, group):
        """The group's outcomes; if a shared run fails, each protocol alone to find the culprit."""
        items = [prepared[index] for index in group]
        try:
            return self.simulate(items)
        except Exception as error:  # noqa: BLE001 - recorded per protocol with its cause
            if len(items) == 1:
                return [RunError.from_exception(self.name, items[0].protocol.name, error, items[0].protocol.rule.label)]
            outcomes = []
            for item in items:
                try:
                    (observation,) = self.simulate([item], note=f"the shared run of {len(items)} protocols "
                                                                f"failed ({type(error).__name__}: {error})")
                    outcomes.append(observation)
                except Exception as single_error:  # noqa: BLE001
                    outcomes.append(RunError.from_exception(self.name, item.protocol.name, single_error,
                                                            item.protocol.rule.label))
            return outcomes

    def simulate(self, items, note=""):
        """ONE ``setup()``/``run()``/``end()`` for ``items`` (same timestep); one Observation each."""
        timestep = items[0].protocol.timestep
        t_run = max(item.protocol.t_stop for item in items)
        min_delay = min([DRIVE_DELAY] + [item.protocol.delay for item in items])
        sim = self.import_simulator()
        shared = {}
        with warnings.catch_warnings(), self.session(items) as session:
            for module in _QUIET_MODULES:
                warnings.filterwarnings("ignore", category=UserWarning, module=module)
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
            started = time.perf_counter()
            self.setup(sim, timestep, min_delay)
            seeds = sorted({item.protocol.seed for item in items if item.protocol.network == "convergent"})
            if len(seeds) > 1:
                raise UnsupportedByBackend(f"one simulation has one random seed; got network protocols with "
                                           f"seeds {seeds}")
            if seeds:
                self.seed(sim, seeds[0])
            shared["setup"] = time.perf_counter() - started
            try:
                networks = []
                cells = {}  # cells_key → the network whose cells the same protocol under another rule reuses
                for item in items:
                    started = time.perf_counter()
                    key = cells_key(item) if self.shares_cells(item.protocol) else None
                    if key is not None and key in cells:
                        networks.append(self.add_rule(sim, item, cells[key]))
                    else:
                        networks.append(self.build(sim, item))
                        if key is not None:
                            cells[key] = networks[-1]
                    item.timings["build"] = time.perf_counter() - started
                started = time.perf_counter()
                sim.run(t_run)
                reached = sim.get_current_time()
                if reached < t_run - timestep / 2:
                    # Brian2 answers Ctrl-C by ending run() early without an exception: a
                    # truncated simulation must not be reported as a finished result.
                    raise KeyboardInterrupt(f"the simulation stopped at {reached} ms of {t_run} ms")
                shared["run"] = time.perf_counter() - started
                readouts = []
                for item, network in zip(items, networks):
                    started = time.perf_counter()
                    readouts.append(self.read(item, network))
                    item.timings["readout"] = time.perf_counter() - started
                self.after_run(sim, items, networks, readouts, session)
            finally:
                started = time.perf_counter()
                with contextlib.suppress(Exception):
                    sim.end()
                shared["end"] = time.perf_counter() - started
        self.finish(items, readouts, session)
        notes = [note] if note else []
        if len(items) > 1:
            runs = ", ".join(f"{item.protocol.name} ({item.protocol.rule.label})" for item in items)
            shares = "" if len({item.protocol.name for item in items}) > 1 or not self.share_cells_across_rules else (
                "; the rules' plastic projections share the same pre, drive and post cells")
            notes.append(f"one {self.name} network and run for {runs} at timestep {timestep:g} ms, "
                         f"run length {t_run:g} ms (the longest t_stop){shares}")
        return [RunError.from_exception(self.name, item.protocol.name, readout.error, item.protocol.rule.label)
                if readout.error is not None
                else self.observation(item, readout, {**shared, **item.timings}, t_run, notes)
                for item, readout in zip(items, readouts)]

    def build(self, sim, item):
        """One protocol's populations and projections; returns the objects read after the run."""
        if item.protocol.network == "convergent":
            return self.build_convergent(sim, item)
        protocol, n = item.protocol, len(item.pre_trains)
        pre_trains, drive_trains, initial = item.pre_trains, item.drive_trains, item.initial_weights
        if self.pad_single_case and n < 2:
            pre_trains, drive_trains = pre_trains + [[]], drive_trains + [[]]
            initial = initial + [protocol.rule.weight.w_min]
        count = len(pre_trains)

        def sources(trains, role):
            times = [self.spike_times(train) for train in trains]
            return sim.Population(count, sim.SpikeSourceArray(spike_times=times), label=self.population_label(protocol, role))

        static = sim.StaticSynapse
        if protocol.network == "source":
            pre = sources(pre_trains, "pre")
            post = sim.Population(count, sim.IF_curr_exp(**POST_CELL_PARAMETERS), label=self.population_label(protocol, "post"))
            sim.Projection(sources(drive_trains, "drive"), post, sim.OneToOneConnector(),
                           static(weight=DRIVE_WEIGHT, delay=DRIVE_DELAY), receptor_type="excitatory")
        else:  # the seed notebook's network
            pre = sim.Population(count, sim.IF_cond_exp(), label=self.population_label(protocol, "pre cell"))
            post = sim.Population(count, sim.IF_cond_exp(), label=self.population_label(protocol, "post cell"))
            thalamic = {}
            for trains, role, target in ((pre_trains, "thalamic pre", pre), (drive_trains, "thalamic post", post)):
                thalamic[role] = sources(trains, role)
                sim.Projection(thalamic[role], target, sim.OneToOneConnector(),
                               static(weight=SEED_DRIVE_WEIGHT, delay=protocol.timestep), receptor_type="excitatory")
            if protocol.record_traces:
                for population in (pre, post):
                    population.record(list(protocol.record_traces))
        receptor = self.receptor(protocol)
        plastic = self.connect_plastic(sim, pre, post, protocol, initial, receptor)
        pre.record("spikes")
        post.record("spikes")
        network = {"pre": pre, "post": post, "plastic": plastic, "receptor": receptor}
        if protocol.network == "seed":
            network["sources"] = thalamic
        return network

    def shares_cells(self, protocol):
        """Whether ``protocol`` may share its cells with the same protocol under another rule.

        Only when its plastic projection needs no ``Projection.set`` (one initial weight for
        every case): measured on pyNN.nest 0.13, ``Projection.set`` of per-case weights on
        one of several projections between the same two populations left other projections'
        weights unreadable (NaN) or changed."""
        weights = {case.initial_weight for case in protocol.cases}
        return self.share_cells_across_rules and protocol.network == "source" and len(weights) == 1

    def add_rule(self, sim, item, network):
        """The same cells as ``network`` (the same protocol built under another rule), with a
        plastic projection under this item's rule."""
        protocol, initial = item.protocol, item.initial_weights
        pre, post = network["pre"], network["post"]
        if self.pad_single_case and len(item.pre_trains) < 2:
            initial = initial + [protocol.rule.weight.w_min]
        receptor = self.receptor(protocol)
        plastic = self.connect_plastic(sim, pre, post, protocol, initial, receptor)
        return {**network, "plastic": plastic, "receptor": receptor}  # with any recorders a subclass added

    def build_convergent(self, sim, item):
        """Poisson inputs → all-to-all plastic synapses → cells that fire from their own dynamics."""
        protocol, inputs = item.protocol, item.protocol.inputs
        pre = sim.Population(inputs.n_inputs, sim.SpikeSourcePoisson(rate=inputs.rate, start=inputs.start,
                                                                      duration=inputs.duration),
                             label=self.population_label(protocol, "inputs"))
        post = sim.Population(inputs.n_neurons, sim.IF_curr_exp(**NETWORK_CELL_PARAMETERS),
                              label=self.population_label(protocol, "cells"))
        receptor = self.receptor(protocol)
        plastic = self.connect_plastic(sim, pre, post, protocol, item.initial_weights, receptor)
        pre.record("spikes")
        post.record("spikes")
        return {"pre": pre, "post": post, "plastic": plastic, "receptor": receptor}

    def read(self, item, network):
        protocol = item.protocol
        weights = self.read_weights(network["plastic"], protocol)
        if protocol.network == "convergent":
            return Readout(weights, self.read_spikes(network["pre"], protocol.inputs.n_inputs),
                           self.read_spikes(network["post"], protocol.inputs.n_neurons), {})
        n = len(protocol.cases)
        traces = {}
        if protocol.record_traces:
            traces = self.read_traces(network, protocol.record_traces, n)
        return Readout(weights, self.read_spikes(network["pre"], n), self.read_spikes(network["post"], n), traces)

    def observation(self, item, readout, timings, t_run, notes):
        protocol = item.protocol
        extras = dict(readout.extras)
        return Observation(
            backend=self.name,
            protocol=protocol,
            conventions=item.conventions,
            execution=extras.pop("execution", self.execution),
            backend_options=self.options,
            pre_spike_times=[list(map(float, t)) for t in readout.pre],
            post_spike_times=[list(map(float, t)) for t in readout.post],
            final_weights=[float(w) for w in readout.weights],
            initial_weights=[float(w) for w in item.initial_weights],
            intended_post_times=([[] for _ in readout.post] if protocol.network == "convergent"
                                 else [list(case.post_drive_times) for case in protocol.cases]),
            synapses=[list(pair) for pair in protocol.inputs.synapses()] if protocol.network == "convergent" else None,
            delay=protocol.delay,
            t_stop=t_run,
            traces=readout.traces,
            timings=timings,
            environment={**self.environment(), **extras.pop("environment", {})},
            notes=notes + extras.pop("notes", []),
            **extras,
        )


def cells_key(item):
    """What a "source" protocol's cells are made of (its inputs, drive, delay and timestep):
    equal keys can share the cells under different rules."""
    protocol = item.protocol
    return (protocol.name, protocol.timestep, protocol.delay, protocol.t_stop, protocol.network,
            tuple(map(tuple, item.pre_trains)), tuple(map(tuple, item.drive_trains)))


def connector(sim, protocol):
    """All-to-all for convergent networks, else one-to-one (one synapse per case)."""
    return sim.AllToAllConnector() if protocol.network == "convergent" else sim.OneToOneConnector()


def weight_matrix(protocol, weights):
    """Per-case weights as the (pre, post) matrix ``Projection.set`` takes."""
    weights = np.asarray(weights, dtype=float)
    if protocol.network == "convergent":
        return weights.reshape(protocol.inputs.n_inputs, protocol.inputs.n_neurons)
    return np.diag(weights)


def on_grid(t, timestep):
    """``t`` (ms) rounded to the nearest multiple of ``timestep`` (ms), without float noise."""
    return round(round(t / timestep) * timestep, 10)


def spike_trains(population):
    """Recorded spike times (ms) of every cell of ``population``, in cell order."""
    block = population.get_data("spikes", clear=False)
    trains = sorted(block.segments[0].spiketrains, key=lambda st: st.annotations.get("source_index", 0))
    return [np.asarray(st.rescale("ms").magnitude, dtype=float).tolist() for st in trains]


def read_traces(network, variables, n):
    """Recorded analog signals of the pre and post cells: variable → {units, times, pre, post}."""
    traces = {}
    for side in ("pre", "post"):
        block = network[side].get_data(list(variables), clear=False)
        for signal in block.segments[0].analogsignals:
            entry = traces.setdefault(signal.name, {"units": str(signal.units.dimensionality)})
            entry["times"] = np.asarray(signal.times.rescale("ms").magnitude, dtype=float).tolist()
            entry[side] = np.asarray(signal.magnitude, dtype=float).T[:n].tolist()
    return traces
