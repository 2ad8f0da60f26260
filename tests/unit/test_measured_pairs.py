"""The reference model against weight changes measured on NEST and Brian2 (reference_data/).

An independent check: these numbers were measured through PyNN by the project's research,
not produced by this code. Tolerance 1e-9 nA: the recorded post times are printed to 1e-6 ms,
which moves Δw by at most A·w_max·1e-6/τ = 6e-10 nA, and Δw itself is printed to 1e-10 nA.
"""

import csv
from pathlib import Path

import pytest

from stdp_validation import AdditiveWeightDependence, SpikePairRule, STDPRule, predict_weights

DATA = Path(__file__).resolve().parents[2] / "reference_data" / "pynn_single_pairs_2026.csv"
RULE = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), AdditiveWeightDependence(0.0, 1.0))
TOLERANCE = 1e-9


def rows():
    with DATA.open() as stream:
        return list(csv.DictReader(line for line in stream if not line.startswith("#")))


@pytest.mark.parametrize("row", rows(), ids=lambda row: f"dt={row['intended_dt']}")
@pytest.mark.parametrize("backend", ["nest", "brian2"])
@pytest.mark.parametrize("trail", [True, False])
def test_measured_single_pairs(row, backend, trail):
    pre = [100.0, 400.0] if trail else [100.0]
    post = [float(row[f"{backend}_t_post"])]
    measured = float(row[f"{backend}_dw_{'trail' if trail else 'no_trail'}"])
    predicted = predict_weights(pre, post, RULE, delay=1.0, initial_weight=0.5, conventions=backend)[0] - 0.5
    assert predicted == pytest.approx(measured, abs=TOLERANCE)
