"""Brian2 2.9 through pyNN.brian2.

Conventions (``CONVENTIONS["brian2"]``): the whole delay is axonal
(``dendritic_delay_fraction`` must be 0; PyNN's default 1 raises), additive amplitudes are
scaled by w_max, every update is immediate, a lag-0 pair counts as full potentiation
(``pyNN/brian2/standardmodels/synapses.py`` ``STDPMechanism``, PyNN 0.13.0).

Code generation: the ``numpy`` target. Measured on a 2-core machine for a 101-synapse window:
numpy 3.4 s for the first run in a process and 1.8 s for each further one; Cython 57 s cold
and 43 s again for every further ``setup()`` in the same process (object names change, so
the compiled code is not reused). Weights are identical on both targets.
"""

from __future__ import annotations

import contextlib

from .pynn import PyNNBackend


class Brian2Backend(PyNNBackend):
    name = "brian2"
    module = "pyNN.brian2"
    distributions = ("PyNN", "brian2")
    required_modules = ("pyNN", "brian2")
    dendritic_delay_fraction = 0.0  # pyNN.brian2 raises ValueError for anything else
    codegen_target = "numpy"

    def import_simulator(self):
        import brian2
        from brian2.utils.logger import BrianLogger

        brian2.prefs.codegen.target = self.codegen_target
        BrianLogger.log_level_warn()  # no INFO lines (integration method choices) on the console
        return super().import_simulator()

    def setup(self, sim, timestep, min_delay):
        """``sim.setup``, then Brian2's default clock set to the timestep: pyNN.brian2 creates its
        ``SpikeGeneratorGroup`` without the network's clock (``pyNN/brian2/cells.py``), so spike
        sources would run on the default 0.1 ms clock whatever the timestep (the known defect
        ``brian2-spike-source-ignores-timestep``, reproduced on plain pyNN.brian2). At 1 ms that
        made the sources and their synaptic pathways take ten steps per time step: the 60 s
        ``pairing`` protocol ran 43 s instead of ≈ 5 s, with identical weights."""
        import brian2

        super().setup(sim, timestep, min_delay)
        brian2.defaultclock.dt = timestep * brian2.ms

    def shares_cells(self, protocol):
        """Also with per-case initial weights: on pyNN.brian2 0.13, ``Projection.set`` on one of
        several projections between the same populations leaves the others alone (measured:
        bounds under three rules gives identical final weights shared and unshared, 9 s vs 24 s)."""
        return self.share_cells_across_rules and protocol.network == "source"

    def seed(self, sim, seed):
        """Brian2's own seed (``brian2.seed``), which its ``rand()`` in PoissonGroup uses."""
        import brian2

        brian2.seed(int(seed))

    @contextlib.contextmanager
    def session(self, group):
        """Brian2's default clock is process-wide: give it back as it was after the group."""
        import brian2

        saved = brian2.defaultclock.dt
        try:
            yield None
        finally:
            brian2.defaultclock.dt = saved
