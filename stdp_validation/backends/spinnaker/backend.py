"""The ``spinnaker`` backend: sPyNNaker 1!7.4.1 through pyNN.spiNNaker, with or without a board.

Conventions: ``CONVENTIONS["spinnaker"]`` (amplitudes absolute, i.e. no w_max factor; all of
the delay dendritic; updates deferred to the next presynaptic spike; a lag-0 pair depresses
fully; integer ticks; at most 15 remembered postsynaptic spikes; exponentials cut to 0 after
the lookup table). The arithmetic is fixed point; the bit-accurate reference is
:mod:`stdp_validation.fixedpoint`.

Execution
---------
* **Board** (``SpinnakerBackend(cfg_path=PATH)``, a cfg naming ``machine_name`` + ``version``,
  ``spalloc_server`` or ``remote_spinnaker_url``): the network runs on SpiNNaker hardware;
  learned weights are compared as stored integers with the fixed-point model (tolerance 0).
* **Emulated** (no cfg; the default when the emulator's packages are installed): sPyNNaker's
  real toolchain maps the network on a virtual board and generates every region of every
  core; then each post core's shipped binary runs in an ARM emulator on those bytes, driven
  by the protocol's spikes (:mod:`.emulation`); the seed network, whose cells fire from their
  own dynamics, runs tick by tick with every core's neuron update emulated too
  (:mod:`.emulator.network`). Learned stored integers are compared with the fixed-point model
  (tolerance 0). Not a board: packet timing, DMA, the synapse expander, the neuron builder
  and the chip are not exercised (nor, outside the seed network, neuron dynamics).
* **Toolchain only** (``emulate=False``, or the emulator's packages missing): mapping and data
  generation only; nothing is executed, so there is no learned weight (every case
  ``not_run``) and only the encoding is checked (:mod:`.checks`).

Every protocol of a run with the same timestep goes into ONE network and ONE
``setup()``/``run()``/``end()`` (one allocation, one toolchain pass); each protocol keeps its
own populations, hence its own STDP parameters and ring-buffer shift.

Network differences from the shared PyNN network (:mod:`stdp_validation.backends.pynn`)
-------------------------------------------------------------------------------------
* ``SpikeSourceArray`` times are plain lists (sPyNNaker rejects ``pyNN.parameters.Sequence``).
* Non-uniform initial weights use ``FromListConnector`` (sPyNNaker's ``OneToOneConnector``
  refuses weight arrays and ``Projection.set`` is not implemented).
* "source" protocols connect the plastic synapse to the ``inhibitory`` synapse type
  (``plastic_receptor``). The ring-buffer shift is per synapse type: sharing the excitatory
  type with the 300 nA drive gives s = 9, LSB = 1/64 nA — larger than A = 0.01 nA, so every
  change would be floored away. On its own type s = 1 (LSB = 2^−14 nA). The STDP arithmetic
  does not depend on the synapse type (only s does); the plastic input moves the membrane by
  < 1 mV either way. The seed network keeps the notebook's excitatory synapse.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ...errors import ParameterError
from ...results.compare import NoComparison, StoredIntegerComparator
from ...results.status import Execution
from ..pynn import PyNNBackend
from .checks import check_summary, most_simultaneous_spikes, toolchain_checks
from .config import validate_board_cfg
from .emulation import (DYNAMICS_NOT_EMULATED, EMULATED_REASON, NOT_EXERCISED, emulable, emulate_beside, emulate_item,
                        emulate_network_item)
from .workspace import isolated_workspace, keep_requested

RECEPTORS = ("inhibitory", "excitatory")

#: Why a toolchain-only case has no weight verdict.
TOOLCHAIN_ONLY_REASON = (
    "toolchain only: sPyNNaker mapped the network on a virtual board and nothing was executed; final_weights are "
    "the initial weights as the host quantised them, so there is no weight verdict (see the toolchain checks)"
)
#: Why a board's stored integers must equal the fixed-point model's.
BOARD_REASON = (
    "SpiNNaker board vs the bit-accurate fixed-point model: equal stored 16-bit integers (the same integer "
    "algorithm); 1 LSB only where the initial weight sits on a .5 tie (host rounds half-even, the on-chip "
    "expander half-up)"
)


class SpinnakerBackend(PyNNBackend):
    """sPyNNaker 1!7.4.1 on a board (``cfg_path``) or its toolchain alone (no ``cfg_path``).

    Parameters
    ----------
    cfg_path
        ``None``: no board (the user's own sPyNNaker cfg files are never read). A path: a board
        cfg, validated now (:func:`~.config.validate_board_cfg`).
    keep_files
        Keep each run's temporary folder (cfg, reports, ``ds.sqlite3``, console log); default
        from the environment variable ``STDP_SPINNAKER_KEEP``.
    quiet
        Send sPyNNaker's console output (progress bars, logging) to a file in that folder.
    plastic_receptor
        Synapse type of the plastic synapse in "source" protocols (see the module docstring).
    emulate
        Without a board: run the binaries in the ARM emulator (``True``), map only (``False``),
        or emulate when the emulator's packages are installed (``None``, the default). On a
        board: also run the same binaries in the emulator on the board's recorded spikes
        (``True``; ``None``: when installed), so that each case says whether a difference
        comes from the chip or from the code (the plastic projection then uses
        ``FromListConnector``, whose rows the host writes, so the emulator starts from the
        bytes the board received).
    binary_overrides
        ``{binary file name: path}``: emulate these files instead of the toolchain's binaries
        of that name (e.g. a patched copy, to check that the comparison can fail).
    """

    name = "spinnaker"
    module = "pyNN.spiNNaker"
    distributions = ("PyNN", "sPyNNaker", "SpiNNFrontEndCommon", "SpiNNMan", "SpiNNaker_PACMAN", "SpiNNMachine",
                     "SpiNNUtilities", "spalloc")
    required_modules = ("pyNN", "spynnaker")
    dendritic_delay_fraction = 1.0  # synapse_dynamics_stdp.py rejects anything else
    firing_latency_steps = 1  # assumed as for NEST/Brian2; only a board run can confirm it
    pad_single_case = False  # sPyNNaker handles one-cell populations; a pad would change the shift
    share_cells_across_rules = False  # each protocol's post population is read and emulated on its own

    def __init__(self, cfg_path=None, *, keep_files=None, quiet=True, plastic_receptor="inhibitory", emulate=None,
                 binary_overrides=None):
        from .emulator import unavailable_reason

        if plastic_receptor not in RECEPTORS:
            raise ParameterError(f"plastic_receptor must be one of {RECEPTORS}; got {plastic_receptor!r}")
        if emulate not in (None, True, False):
            raise ParameterError(f"emulate must be True, False or None; got {emulate!r}")
        self.board = None if cfg_path is None else validate_board_cfg(cfg_path)
        missing = unavailable_reason()
        if emulate and missing:
            raise ParameterError(f"emulate=True: {missing}")
        self.emulate_requested = emulate
        wanted = not missing if emulate is None else emulate
        self.emulate = self.board is None and wanted
        #: On a board: run the emulation beside it, on the board's recorded spikes.
        self.beside = self.board is not None and wanted
        self.emulator_missing = missing
        self.binary_overrides = {str(k): str(v) for k, v in (binary_overrides or {}).items()}
        self.keep_files = keep_requested() if keep_files is None else bool(keep_files)
        self.quiet = bool(quiet)
        self.plastic_receptor = plastic_receptor

    @property
    def execution(self):
        if self.board is not None:
            return Execution.BOARD
        return Execution.EMULATED if self.emulate else Execution.TOOLCHAIN_ONLY

    @property
    def options(self):
        # A board's label must not depend on whether the emulator happens to be installed.
        off = (self.board is None and not self.emulate) or (self.board is not None and self.emulate_requested is False)
        options = {"emulate": False} if off else {}
        if self.binary_overrides:
            options["binary_overrides"] = dict(self.binary_overrides)
        return options

    def environment(self):
        environment = super().environment()
        if self.board is not None:
            environment["board"] = self.board.identity()
            environment["machine"] = self.board.machine
        return environment

    def execution_note(self):
        if self.board is not None:
            return f"{self.name}: SpiNNaker board {self.board.machine} ({self.board.path})"
        if self.emulate:
            return (f"{self.name}: emulated: sPyNNaker's shipped ARM code run in an ARM emulator on the bytes its real "
                    f"toolchain wrote on a virtual board (no board configured: --spinnaker-cfg PATH); {NOT_EXERCISED}. "
                    "The seed network runs tick by tick on every core it occupies, neurons included.")
        why = f" ({self.emulator_missing})" if self.emulator_missing else ""
        return (f"{self.name}: toolchain only{why}. Checked: every protocol maps, weight scale and LSB, the encoded STDP "
                "parameters against the fixed-point model, initial-weight quantisation. Not checked: spikes and "
                "learned weights (cases 'not run').")

    def supports(self, rule, protocol):
        if protocol.network == "convergent":
            return ("network='convergent' (Poisson inputs onto cells that fire from their own dynamics) is not run "
                    "on the 'spinnaker' backend: the synapse-level emulation needs the post spikes given, and "
                    "reading all-to-all rows back from a board is not implemented")
        return super().supports(rule, protocol)

    # -- judging -----------------------------------------------------------------------------------
    @classmethod
    def comparator(cls, observation):
        if not observation.execution.learned:
            return NoComparison(TOOLCHAIN_ONLY_REASON)
        shift, conductance = network_scale(observation)
        invalid = {int(i): why for i, why in (observation.provenance.get("invalid_cases") or {}).items()}
        reason = EMULATED_REASON if observation.execution is Execution.EMULATED else BOARD_REASON
        beside = observation.provenance.get("emulated_beside") or {}
        return StoredIntegerComparator(shift, conductance, reason, invalid, emulated=beside.get("stored"))

    @classmethod
    def upgrade_version_1(cls, data):
        data = dict(data)
        environment = data.get("environment") or {}
        toolchain_only = environment.get("board_output") is False or environment.get("machine") == "virtual board"
        execution = Execution.TOOLCHAIN_ONLY if toolchain_only else Execution.BOARD
        checks = [dict(c) for c in data.get("checks") or []]
        records = [c for c in checks if c.get("name") == "sPyNNaker encoding" and c.get("kind") == "info"]
        data["checks"] = [c for c in checks if c not in records]
        data["encoding"] = records[0].get("observed") if records else None
        data.update(execution=execution.value, stored_weights=None, provenance={}, synapses=None, backend_options={})
        filled = [f"execution = {execution.value} (from environment board_output/machine)"]
        if records:
            filled.append("encoding taken from the 'sPyNNaker encoding' check record")
        return data, filled

    # -- building ----------------------------------------------------------------------------------
    supports_backprop_off = True

    def conventions(self, rule, protocol):
        return replace(super().conventions(rule, protocol), backprop_delay=protocol.backprop_delay)

    def import_simulator(self):
        import importlib

        return importlib.import_module(self.module)

    def setup(self, sim, timestep, min_delay):
        sim.setup(timestep=timestep)

    def session(self, group):
        return isolated_workspace(self.board, keep=self.keep_files, quiet=self.quiet)

    def groups(self, prepared):
        by_timestep = {}
        for index, item in enumerate(prepared):
            by_timestep.setdefault(item.protocol.timestep, []).append(index)
        return list(by_timestep.values())

    def spike_times(self, train):
        return [float(t) for t in train]

    def receptor(self, protocol):
        return "excitatory" if protocol.network == "seed" else self.plastic_receptor

    def plastic_synapse(self, sim, rule, delay, weight, backprop_delay=True):
        t = rule.timing
        timing_class = sim.extra_models.SpikeNearestPairRule if rule.is_nearest else sim.SpikePairRule
        weight_class = getattr(sim, type(rule.weight).__name__)
        return sim.STDPMechanism(
            timing_dependence=timing_class(tau_plus=t.tau_plus, tau_minus=t.tau_minus,
                                           A_plus=t.A_plus, A_minus=t.A_minus),
            weight_dependence=weight_class(w_min=rule.weight.w_min, w_max=rule.weight.w_max),
            weight=weight, delay=delay, dendritic_delay_fraction=self.dendritic_delay_fraction,
            backprop_delay=backprop_delay,
        )

    def connect_plastic(self, sim, pre, post, protocol, initial_weights, receptor):
        rule, delay = protocol.rule, protocol.delay
        backprop = protocol.backprop_delay
        if len(set(initial_weights)) == 1 and not self.beside:
            synapse = self.plastic_synapse(sim, rule, delay, initial_weights[0], backprop)
            connector = sim.OneToOneConnector()
        else:
            synapse = self.plastic_synapse(sim, rule, delay, rule.weight.w_min, backprop)
            connector = sim.FromListConnector([(i, i, float(w), float(delay)) for i, w in enumerate(initial_weights)],
                                              column_names=["weight", "delay"])
        return sim.Projection(pre, post, connector, synapse, receptor_type=receptor)

    # -- reading -----------------------------------------------------------------------------------
    def read_weights(self, projection, protocol):
        n = len(protocol.cases)
        weights = np.full(n, np.nan)
        for i, j, w in projection.get("weight", format="list", with_address=True):
            if i == j and i < n:
                weights[int(i)] = float(w)
        missing = np.flatnonzero(~np.isfinite(weights))
        if len(missing):
            raise RuntimeError(f"Projection.get returned no weight for case(s) {missing[:5].tolist()}")
        return weights

    def read_spikes(self, population, n):
        if self.board is not None:
            return super().read_spikes(population, n)
        # A mapping-only run records nothing: the spike lists are empty by construction.
        return [[] for _ in range(n)]

    def read_traces(self, network, variables, n):
        return super().read_traces(network, variables, n) if self.board is not None else {}

    def after_run(self, sim, group, networks, readouts, session):
        from spynnaker.pyNN.data import SpynnakerDataView

        from .readout import read_encoding

        database = SpynnakerDataView.get_ds_database_path()
        for item, network, readout in zip(group, networks, readouts):
            started = time.perf_counter()
            # After a board run Projection.get returns learned weights, not initial ones.
            encoding = read_encoding(item.protocol, network, database,
                                     readout.weights if self.board is None else None)
            encoding["simultaneous_source_spikes"] = [
                most_simultaneous_spikes(trains, item.protocol.timestep, role)
                for role, trains in (("pre", item.pre_trains), ("drive", item.drive_trains))
            ]
            checks = toolchain_checks(item.protocol, encoding)
            notes = []
            if self.emulate and emulable(item.protocol):
                from .emulator.images import extract_network, extract_population

                readout.pending["images"] = extract_population(network["post"], network["receptor"])
                if item.protocol.network == "seed":
                    try:
                        readout.pending["network"] = extract_network(
                            {"pre cell": network["pre"], "post cell": network["post"]}, network["sources"])
                    except (ValueError, KeyError, AttributeError) as error:
                        readout.error = error  # e.g. split cores: this protocol fails, the others keep their results
                        readout.pending.pop("images", None)
                readout.extras.update(checks=checks, encoding=encoding, notes=check_summary(checks))
                item.timings["checks"] = time.perf_counter() - started
                continue
            if self.board is not None:
                notes += self._board_provenance(network, item, readout)
                if self.beside and item.protocol.network == "source":
                    from .emulator.images import extract_population

                    try:
                        readout.pending["images"] = extract_population(network["post"], network["receptor"])
                    except Exception as error:  # noqa: BLE001 - the board's own results must stand
                        notes.append(f"the emulation beside the board could not start ({type(error).__name__}: "
                                     f"{error}): differences are not attributed to chip or code")
            if self.emulate:
                notes.append(f"not emulated: {DYNAMICS_NOT_EMULATED}")
                readout.extras["execution"] = Execution.TOOLCHAIN_ONLY
            if self.board is None:
                notes = ["toolchain only: sPyNNaker mapped this network on a virtual board and generated its data "
                         "(ring-buffer shifts, weight scales, the encoded STDP region, the initial synaptic matrix); "
                         "nothing was loaded or executed.",
                         "NOT board output: no spikes, and final_weights are the INITIAL weights as the host "
                         "quantised them (Projection.get before any run): they say nothing about learning.",
                         "not checked without a board: spikes, learned weights, post firing latency, the on-chip "
                         "synapse expander (round-half-up of initial weights), late or dropped spikes."]
            readout.extras.update(checks=checks, encoding=encoding, notes=notes + check_summary(checks))
            item.timings["checks"] = time.perf_counter() - started

    @staticmethod
    def _board_provenance(network, item, readout):
        """sPyNNaker's counters of the post cores after a board run, into the observation."""
        from .provenance import read_board_provenance

        try:
            provenance = read_board_provenance(network["post"], len(item.protocol.cases))
        except Exception as error:  # noqa: BLE001 - a missing counter table must not lose the weights
            readout.extras["provenance"] = {"problem": f"{type(error).__name__}: {error}"}
            return [f"sPyNNaker's provenance could not be read ({type(error).__name__}: {error}): late or dropped "
                    "spikes on the board are not known for this protocol"]
        readout.extras["provenance"] = provenance
        return [f"sPyNNaker's counters on the board: {provenance['counters']}"]

    def finish(self, group, readouts, session):
        for item, readout in zip(group, readouts):
            if "images" in readout.pending:
                from .emulator.core import EmulationFault
                from .emulator.locate import LocateError
                from .emulator.synapse_core import LayoutError

                try:
                    if self.board is None and "network" in readout.pending:
                        emulate_network_item(item, readout, self.binary_overrides)
                    elif self.board is None:
                        emulate_item(item, readout, self.binary_overrides)
                    else:
                        emulate_beside(item, readout, self.binary_overrides)
                except (EmulationFault, LayoutError, LocateError, RuntimeError, ValueError) as error:
                    if self.board is None:
                        readout.error = error  # this protocol fails; the others keep their results
                    else:  # the board's own result stands; only the attribution is missing
                        readout.extras.setdefault("notes", []).append(
                            f"the emulation beside the board failed ({type(error).__name__}: {error}): differences "
                            "are not attributed to chip or code")
        expected = "Data from a virtual run will be empty"
        counts = {}
        for message in session.warnings:
            if not (self.board is None and message == expected):
                counts[message] = counts.get(message, 0) + 1
        lines = [f"sPyNNaker warned during the run: {m}" + (f" (×{c})" if c > 1 else "") for m, c in counts.items()]
        if self.keep_files:
            lines.append(f"sPyNNaker working folder kept: {session.path}")
        for readout in readouts:
            readout.extras.setdefault("notes", []).extend(lines)
            readout.extras["environment"] = {"spinnaker_warnings": list(session.warnings)}


def network_scale(observation):
    """(ring-buffer shift, conductance_based) of a SpiNNaker observation's plastic synapse type,
    from its encoding; raises :class:`ParameterError` when the encoding is missing."""
    encoding = observation.encoding or {}
    try:
        shift = int(encoding["ring_buffer_shifts"][encoding["synapse_type"]])
        return shift, float(encoding["global_weight_scale"]) != 1.0
    except (KeyError, IndexError, TypeError, ValueError):
        raise ParameterError(
            "a SpiNNaker observation with learned weights needs its encoding (ring_buffer_shifts, synapse_type, "
            "global_weight_scale) to predict the stored weights; this one has none"
        ) from None
