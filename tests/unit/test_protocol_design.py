"""The protocols are informative by construction, and the main job plans the rule matrix.

Expected values are worked out here: 10·τ for τ = 20 ms is 200 ms; the reference model gives
each pairing case's final weight under every backend's conventions.
"""

import numpy as np
import pytest

from stdp_validation import CONVENTIONS, AdditiveWeightDependence, SpikePairRule, STDPRule, predict_weights
from stdp_validation.protocols import (
    MATRIX_PROTOCOLS,
    PROTOCOLS,
    RULE_LABELS,
    bounds_protocol,
    pairing_protocol,
    rule_variant,
    window_protocol,
)
from stdp_validation.run.orchestration import plan_validation

SYNTHETIC = ["window", "pairing", "poisson", "bounds"]


def first_spike(protocol):
    return min(min(c.pre_spike_times[:1] + c.post_drive_times[:1]) for c in protocol.cases
               if c.pre_spike_times or c.post_drive_times)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_every_case_starts_ten_time_constants_after_zero(name):
    # τ± = 20 ms (bounds: 20 ms too): NEST's nearest-rule phantom spike at t = 0 weighs e^(−10)
    assert first_spike(PROTOCOLS[name]()) >= 200.0 - 1e-9


@pytest.mark.parametrize("name", SYNTHETIC)
def test_the_trailing_spike_comes_ten_time_constants_after_the_last_spike(name):
    protocol = PROTOCOLS[name]()
    last = max(max(c.pre_spike_times[-1:] + c.post_drive_times[-1:]) for c in protocol.cases)
    assert protocol.trailing_pre_gap == 200.0
    assert protocol.t_stop == pytest.approx(last + 200.0 + 50.0)


def test_a_rule_with_longer_time_constants_moves_the_spikes_and_the_trailing_gap():
    rule = STDPRule(SpikePairRule(16.8, 33.7, 0.005, 0.0025), AdditiveWeightDependence(0.0, 0.04))
    window = window_protocol().with_rule(rule)
    assert first_spike(window) >= 337.0 - 1e-9 and window.trailing_pre_gap == pytest.approx(337.0)
    lags = [c.post_drive_times[0] - c.pre_spike_times[0] for c in window.cases]
    assert lags == [c.parameter for c in window.cases]  # the sweep itself is unchanged
    last = max(max(c.pre_spike_times + c.post_drive_times) for c in window.cases)
    assert window.t_stop >= last + 337.0


@pytest.mark.parametrize("conventions", ["nest", "brian2", "spinnaker"])
def test_no_pairing_case_ends_at_a_bound(conventions):
    # Trailing pre spike as a deferred backend adds it; the weight must stay inside (0, 2).
    protocol = pairing_protocol()
    pre = [list(c.pre_spike_times) + [c.pre_spike_times[-1] + protocol.trailing_pre_gap] for c in protocol.cases]
    post = [list(c.post_drive_times) for c in protocol.cases]
    weights = predict_weights(pre, post, protocol.rule, delay=protocol.delay, initial_weight=1.0,
                              conventions=CONVENTIONS[conventions].with_timestep(protocol.timestep))
    assert np.all((weights > 0.02) & (weights < 1.98)), weights


def test_bounds_uses_a_w_max_other_than_one():
    # With w_max = 1 a missing or extra factor w_max in the amplitudes would change nothing.
    assert bounds_protocol().rule.weight.w_max == 2.0


def test_rule_variants_keep_the_protocols_parameters():
    rule = bounds_protocol().rule
    for label in RULE_LABELS:
        variant = rule_variant(rule, label)
        assert variant.label == label
        assert (variant.timing.tau_plus, variant.timing.A_minus) == (rule.timing.tau_plus, rule.timing.A_minus)
        assert (variant.weight.w_min, variant.weight.w_max) == (rule.weight.w_min, rule.weight.w_max)


@pytest.mark.nest
def test_the_main_job_plans_every_rule_for_the_matrix_protocols_only():
    plan = plan_validation(["nest"], ["window", "seed", "delays"])
    rules = {}
    for name, rule in plan.protocols:
        rules.setdefault(name, []).append(rule)
    assert rules["window"] == list(RULE_LABELS) and "window" in MATRIX_PROTOCOLS
    assert rules["seed"] == ["pair-additive"] and rules["delays-1"] == ["pair-additive"]
    single = plan_validation(["nest"], ["window"], rule_matrix=False)
    assert list(single.protocols) == [("window", "pair-additive")]
    one = plan_validation(["nest"], ["window"], rule="nearest-gutig")
    assert list(one.protocols) == [("window", "nearest-gutig")]
