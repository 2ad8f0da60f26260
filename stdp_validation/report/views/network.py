"""The ``network`` protocol's weight distributions and whether Song et al.'s result appears.

Song, Miller & Abbott (2000), Nat. Neurosci. 3:919, Fig. 1: additive STDP with slightly
dominant depression drives the weights of many Poisson inputs onto one cell towards a bimodal
distribution, most weights near 0 or near w_max. The view states, per backend label, how
many observed final weights lie near each bound (within :data:`NEAR_BOUND` of the range), and
calls the distribution bimodal by :data:`BIMODAL_NEAR_BOUNDS` and :data:`BIMODAL_EACH_END`.
This is a description of the learned weights, not a verdict: every synapse's verdict is its
comparison with the reference model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: "Near a bound": within this fraction of w_max − w_min of it.
NEAR_BOUND = 0.1
#: Bimodal: at least this fraction of all weights near a bound (a uniform distribution has
#: 2·NEAR_BOUND = 0.2 there) ...
BIMODAL_NEAR_BOUNDS = 0.5
#: ... and at least this fraction near each of the two bounds (two modes, not one).
BIMODAL_EACH_END = 0.1
#: Histogram bins over [w_min, w_max].
BINS = 20


@dataclass(frozen=True)
class Distribution:
    """Initial and observed final weights of one backend label (weight units), and post rates (Hz)."""

    label: str
    w_min: float
    w_max: float
    initial: tuple
    final: tuple
    rates: tuple
    near_low: float  # fraction of final weights near w_min
    near_high: float
    initial_near: float  # fraction of initial weights near either bound
    bimodal: bool

    @property
    def statement(self):
        ends = (f"{100 * (self.near_low + self.near_high):.0f} % of the final weights lie near a bound "
                f"({100 * self.near_low:.0f} % near w_min, {100 * self.near_high:.0f} % near w_max; initially "
                f"{100 * self.initial_near:.0f} %)")
        if self.bimodal:
            return f"Song et al.'s bimodal distribution appears: {ends}."
        return (f"Song et al.'s bimodal distribution does not appear at this size and duration: {ends}; bimodal "
                f"needs ≥ {100 * BIMODAL_NEAR_BOUNDS:.0f} % near a bound and ≥ {100 * BIMODAL_EACH_END:.0f} % near "
                "each.")


def near_bounds(weights, w_min, w_max):
    """(fraction within NEAR_BOUND·(w_max − w_min) of w_min, the same for w_max)."""
    weights = np.asarray(weights, dtype=float)
    if len(weights) == 0:
        return 0.0, 0.0
    margin = NEAR_BOUND * (w_max - w_min)
    return float(np.mean(weights <= w_min + margin)), float(np.mean(weights >= w_max - margin))


def distribution(entry):
    """The :class:`Distribution` of one result of a convergent protocol (``None`` without one)."""
    observation = entry.observation
    if observation is None or observation.protocol.inputs is None or not entry.execution.learned:
        return None
    bounds = observation.rule.weight
    low, high = near_bounds(observation.final_weights, bounds.w_min, bounds.w_max)
    initial_low, initial_high = near_bounds(observation.initial_weights, bounds.w_min, bounds.w_max)
    seconds = observation.protocol.inputs.duration / 1000.0
    return Distribution(
        label=entry.label, w_min=bounds.w_min, w_max=bounds.w_max,
        initial=tuple(observation.initial_weights), final=tuple(observation.final_weights),
        rates=tuple(len(train) / seconds for train in observation.post_spike_times),
        near_low=low, near_high=high, initial_near=initial_low + initial_high,
        bimodal=low + high >= BIMODAL_NEAR_BOUNDS and min(low, high) >= BIMODAL_EACH_END,
    )
