"""stdp-validation: validate pair-based STDP in spiking-network simulators against a reference.

The public API is re-exported here; see the README for a tour.
"""

from .conventions import CONVENTIONS, Conventions, exponential_table_length, resolve_conventions
from .errors import ParameterError, UnitWarning, UnsupportedByBackend
from .reference import WeightTrajectory, predict_trajectory, predict_weights, stdp_window
from .rules import (
    AdditivePotentiationMultiplicativeDepression,
    AdditiveWeightDependence,
    GutigWeightDependence,
    MultiplicativeWeightDependence,
    SpikeNearestPairRule,
    SpikePairRule,
    STDPRule,
)

__version__ = "0.1.0"

__all__ = [
    "CONVENTIONS",
    "AdditivePotentiationMultiplicativeDepression",
    "AdditiveWeightDependence",
    "Conventions",
    "GutigWeightDependence",
    "MultiplicativeWeightDependence",
    "ParameterError",
    "STDPRule",
    "SpikeNearestPairRule",
    "SpikePairRule",
    "UnitWarning",
    "UnsupportedByBackend",
    "WeightTrajectory",
    "exponential_table_length",
    "predict_trajectory",
    "predict_weights",
    "resolve_conventions",
    "stdp_window",
]
