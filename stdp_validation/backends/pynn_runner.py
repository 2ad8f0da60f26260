"""One PyNN network per (protocol, rule), shared by every backend.

Each case of a protocol becomes one plastic synapse between its own presynaptic and
postsynaptic cell (``OneToOneConnector``), so the whole protocol is ONE simulation. Batching
is exact: the synapses share nothing. Backend differences live in the subclasses only.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import platform
import time
import warnings

import numpy as np

from ..errors import UnsupportedByBackend
from ..observation import Observation

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


class PyNNBackend:
    """Base class: build, run and read one protocol through a ``pyNN.<simulator>`` module."""

    name = "pynn"
    module = ""  # e.g. "pyNN.nest"
    distribution = ""  # the package whose version identifies the backend
    dendritic_delay_fraction = 1.0
    firing_latency_steps = 1  # steps between the drive's arrival and the post spike

    def __init__(self):
        from ..conventions import CONVENTIONS

        self.base_conventions = CONVENTIONS[self.name]

    # -- availability --------------------------------------------------------------------
    @classmethod
    def unavailable_reason(cls):
        """``None`` if the backend can run here, else why not (for skips and the summary)."""
        for module in cls.required_modules():
            if importlib.util.find_spec(module.split(".")[0]) is None:
                return f"{module} is not installed (pip install 'stdp-validation[{cls.name}]')"
        return None

    @classmethod
    def required_modules(cls):
        return ("pyNN", cls.module)

    # -- hooks for subclasses -------------------------------------------------------------------
    def import_simulator(self):
        simulator = importlib.import_module(self.module)
        # PyNN logs informational warnings (model choice, unsupported initial values) for
        # every network; the observation records what was run, so keep the console quiet.
        logging.getLogger("PyNN").setLevel(logging.ERROR)
        return simulator

    def setup(self, sim, protocol):
        sim.setup(timestep=protocol.timestep, min_delay=min(protocol.delay, DRIVE_DELAY))

    def conventions_for(self, rule, protocol):
        return self.base_conventions.with_timestep(protocol.timestep)

    def check_rule(self, rule):
        """Raise :class:`UnsupportedByBackend` for a rule this backend cannot represent."""
        if rule.is_nearest and self.base_conventions.nearest_scheme is None:
            raise UnsupportedByBackend(
                f"timing=SpikeNearestPairRule is not supported by the {self.name!r} backend; allowed: SpikePairRule"
            )
        if rule.weight.w_min != 0 and not self.base_conventions.supports_nonzero_w_min:
            raise UnsupportedByBackend(
                f"w_min={rule.weight.w_min!r} is not supported by the {self.name!r} backend; allowed: w_min = 0"
            )

    def plastic_synapse(self, sim, rule, delay, weight):
        timing_class = {"SpikePairRule": sim.SpikePairRule}.get(type(rule.timing).__name__)
        if timing_class is None:
            raise UnsupportedByBackend(f"{type(rule.timing).__name__} is not available on the {self.name!r} backend")
        weight_class = getattr(sim, type(rule.weight).__name__)
        t = rule.timing
        return sim.STDPMechanism(
            timing_dependence=timing_class(tau_plus=t.tau_plus, tau_minus=t.tau_minus, A_plus=t.A_plus, A_minus=t.A_minus),
            weight_dependence=weight_class(w_min=rule.weight.w_min, w_max=rule.weight.w_max),
            weight=weight,
            delay=delay,
            dendritic_delay_fraction=self.dendritic_delay_fraction,
        )

    def read_weights(self, projection, n):
        return np.diag(np.asarray(projection.get("weight", format="array"), dtype=float))[:n].copy()

    def set_weights(self, projection, weights):
        projection.set(weight=np.diag(np.asarray(weights, dtype=float)))

    def versions(self):
        """Version of the backend's distribution (its PyPI name), as installed."""
        import importlib.metadata

        try:
            return {self.distribution: importlib.metadata.version(self.distribution)}
        except importlib.metadata.PackageNotFoundError:
            return {}

    # -- the run ----------------------------------------------------------------------------
    def input_trains(self, protocol, conventions):
        """Presynaptic emission times and post drive emission times per case (ms)."""
        shift = DRIVE_DELAY + self.firing_latency_steps * protocol.timestep
        deferred = conventions.update_timing == "deferred"
        pre_trains, drive_trains = [], []
        for case in protocol.cases:
            pre = list(case.pre_spike_times)
            if deferred and protocol.trailing_pre_gap is not None and protocol.network == "source":
                # Deferred updates show a post spike's potentiation only at the next pre spike.
                last = max(pre[-1:] + list(case.post_drive_times[-1:]) + [0.0])
                pre.append(_on_grid(last + protocol.trailing_pre_gap, protocol.timestep))
            pre_trains.append(pre)
            if protocol.network == "source":
                drive_trains.append([_on_grid(t - shift, protocol.timestep) for t in case.post_drive_times])
            else:
                drive_trains.append(list(case.post_drive_times))
        return pre_trains, drive_trains

    def run(self, protocol, rule=None):
        """Run ``protocol`` (under ``rule`` if given) as one simulation; return an Observation."""
        if rule is not None and rule != protocol.rule:
            protocol = protocol.with_rule(rule)
        rule = protocol.rule
        self.check_rule(rule)
        conventions = self.conventions_for(rule, protocol)
        pre_trains, drive_trains = self.input_trains(protocol, conventions)
        t_stop = protocol.t_stop
        for pre in pre_trains:
            if pre and pre[-1] >= t_stop:
                raise UnsupportedByBackend(
                    f"protocol {protocol.name!r}: the trailing presynaptic spike at {pre[-1]} ms needs "
                    f"t_stop > {pre[-1]} ms; got t_stop = {t_stop} ms"
                )
        n = len(protocol.cases)
        # PyNN 0.13 fails on one-cell populations with numpy >= 2 and pyNN.brian2 on single
        # connections: pad with a silent synapse, dropped from every result.
        padded = n < 2
        if padded:
            pre_trains, drive_trains = pre_trains + [[]], drive_trains + [[]]
        initial = [case.initial_weight for case in protocol.cases] + ([rule.weight.w_min] if padded else [])

        with warnings.catch_warnings():
            # Deprecation and build notices from inside NEST and PyNN, once per network.
            for module in (r"nest(\..*)?", r"pyNN(\..*)?", r"brian2(\..*)?", r"neo(\..*)?"):
                warnings.filterwarnings("ignore", category=UserWarning, module=module)
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
            return self._run(protocol, conventions, pre_trains, drive_trains, initial)

    def _run(self, protocol, conventions, pre_trains, drive_trains, initial):
        n = len(protocol.cases)
        t_stop = protocol.t_stop
        timings = {}
        sim = self.import_simulator()
        started = time.perf_counter()
        self.setup(sim, protocol)
        try:
            network = self.build(sim, protocol, protocol.rule, pre_trains, drive_trains, initial)
            timings["build"] = time.perf_counter() - started
            started = time.perf_counter()
            sim.run(t_stop)
            reached = sim.get_current_time()
            if reached < t_stop - protocol.timestep / 2:
                # Brian2 answers Ctrl-C by ending run() early without an exception: a
                # truncated simulation must not be reported as a finished result.
                raise KeyboardInterrupt(f"the simulation stopped at {reached} ms of {t_stop} ms")
            timings["run"] = time.perf_counter() - started
            started = time.perf_counter()
            weights = self.read_weights(network["plastic"], n)
            pre_spikes = _spike_trains(network["pre_recorded"])[:n]
            post_spikes = _spike_trains(network["post"])[:n]
            traces = _traces(network, protocol.record_traces, n) if protocol.record_traces else {}
            timings["readout"] = time.perf_counter() - started
        finally:
            with contextlib.suppress(Exception):
                sim.end()
        return Observation(
            backend=self.name,
            protocol=protocol,
            conventions=conventions,
            pre_spike_times=pre_spikes,
            post_spike_times=post_spikes,
            final_weights=[float(w) for w in weights],
            initial_weights=[float(w) for w in initial[:n]],
            intended_post_times=[list(case.post_drive_times) for case in protocol.cases],
            delay=protocol.delay,
            t_stop=t_stop,
            traces=traces,
            timings=timings,
            environment=self.environment(),
        )

    def build(self, sim, protocol, rule, pre_trains, drive_trains, initial_weights):
        from pyNN.parameters import Sequence

        n = len(pre_trains)
        static = sim.StaticSynapse
        if protocol.network == "source":
            pre = sim.Population(n, sim.SpikeSourceArray(spike_times=[Sequence(t) for t in pre_trains]), label="pre")
            drive = sim.Population(n, sim.SpikeSourceArray(spike_times=[Sequence(t) for t in drive_trains]), label="drive")
            post = sim.Population(n, sim.IF_curr_exp(**POST_CELL_PARAMETERS), label="post")
            sim.Projection(drive, post, sim.OneToOneConnector(), static(weight=DRIVE_WEIGHT, delay=DRIVE_DELAY),
                           receptor_type="excitatory")
            pre_recorded = pre
        else:  # the seed notebook's network
            thalamic_pre = sim.Population(n, sim.SpikeSourceArray(spike_times=[Sequence(t) for t in pre_trains]),
                                          label="thalamic pre")
            thalamic_post = sim.Population(n, sim.SpikeSourceArray(spike_times=[Sequence(t) for t in drive_trains]),
                                           label="thalamic post")
            pre = sim.Population(n, sim.IF_cond_exp(), label="pre cell")
            post = sim.Population(n, sim.IF_cond_exp(), label="post cell")
            for source, target in ((thalamic_pre, pre), (thalamic_post, post)):
                sim.Projection(source, target, sim.OneToOneConnector(),
                               static(weight=SEED_DRIVE_WEIGHT, delay=protocol.timestep), receptor_type="excitatory")
            pre_recorded = pre
            for population in (pre, post):
                population.record(list(protocol.record_traces))
        # Setting weights one by one costs more than the whole NEST run: do it only if they differ.
        uniform = len(set(initial_weights)) == 1
        synapse = self.plastic_synapse(sim, rule, protocol.delay, initial_weights[0] if uniform else rule.weight.w_min)
        plastic = sim.Projection(pre, post, sim.OneToOneConnector(), synapse, receptor_type="excitatory")
        if not uniform:
            self.set_weights(plastic, initial_weights)
        pre_recorded.record("spikes")
        post.record("spikes")
        return {"pre": pre, "post": post, "pre_recorded": pre_recorded, "plastic": plastic}

    def environment(self):
        import numpy

        versions = {"python": platform.python_version(), "numpy": numpy.__version__}
        with contextlib.suppress(Exception):
            import pyNN

            versions["PyNN"] = pyNN.__version__
        versions.update(self.versions())
        return {"versions": versions, "platform": platform.platform(), "machine": "software simulator"}


def _on_grid(t, timestep):
    return round(round(t / timestep) * timestep, 10)


def _spike_trains(population):
    block = population.get_data("spikes", clear=False)
    trains = sorted(block.segments[0].spiketrains, key=lambda st: st.annotations.get("source_index", 0))
    return [np.asarray(st.rescale("ms").magnitude, dtype=float).tolist() for st in trains]


def _traces(network, variables, n):
    traces = {}
    for side in ("pre", "post"):
        block = network[side].get_data(list(variables), clear=False)
        for signal in block.segments[0].analogsignals:
            entry = traces.setdefault(signal.name, {"units": str(signal.units.dimensionality)})
            entry["times"] = np.asarray(signal.times.rescale("ms").magnitude, dtype=float).tolist()
            entry[side] = np.asarray(signal.magnitude, dtype=float).T[:n].tolist()
    return traces

