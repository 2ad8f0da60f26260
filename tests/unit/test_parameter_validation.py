"""Bad input to the Python API is rejected before any computation, naming the parameter."""

import math

import pytest

from stdp_validation import (
    AdditiveWeightDependence,
    Conventions,
    MultiplicativeWeightDependence,
    ParameterError,
    SpikeNearestPairRule,
    SpikePairRule,
    STDPRule,
    UnsupportedByBackend,
    predict_trajectory,
    predict_weights,
    stdp_window,
)

RULE = STDPRule()


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: SpikePairRule(tau_plus=0.0), ["tau_plus", "0.0", "> 0"]),
        (lambda: SpikePairRule(tau_minus=-5.0), ["tau_minus", "-5.0", "> 0"]),
        (lambda: SpikePairRule(tau_plus=math.nan), ["tau_plus", "nan", "finite"]),
        (lambda: SpikeNearestPairRule(tau_minus=math.inf), ["tau_minus", "inf", "finite"]),
        (lambda: SpikePairRule(A_plus=math.nan), ["A_plus", "nan", "finite"]),
        (lambda: SpikePairRule(A_minus=-math.inf), ["A_minus", "inf", "finite"]),
        (lambda: SpikePairRule(A_plus="big"), ["A_plus", "'big'", "number"]),
        (lambda: AdditiveWeightDependence(w_min=2.0, w_max=1.0), ["w_min", "w_max", "2.0", "1.0"]),
        (lambda: MultiplicativeWeightDependence(w_max=math.nan), ["w_max", "nan"]),
        (lambda: STDPRule(timing="pair"), ["timing", "SpikePairRule"]),
        (lambda: STDPRule(weight=SpikePairRule()), ["weight", "AdditiveWeightDependence"]),
        (lambda: Conventions(name="x", update_timing="later"), ["update_timing", "later", "deferred"]),
        (lambda: Conventions(name="x", dendritic_delay_fraction=1.5), ["dendritic_delay_fraction", "1.5", "[0.0, 1.0]"]),
        (lambda: Conventions(name="x", post_history_limit=0), ["post_history_limit", "0"]),
    ],
)
def test_bad_rule_and_convention_values(build, words):
    with pytest.raises(ParameterError) as error:
        build()
    for word in words:
        assert word in str(error.value)


def call(pre=(10.0,), post=(15.0,), rule=RULE, **overrides):
    kwargs = dict(delay=1.0, initial_weight=0.5, conventions="nest")
    kwargs.update(overrides)
    return predict_weights(pre, post, rule, **kwargs)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(pre=[10.0, 5.0]), ["pre_spike_times", "unsorted", "5.0", "index 1"]),
        (dict(post=[10.0, 10.0]), ["post_spike_times", "duplicate", "10.0"]),
        (dict(pre=[-1.0]), ["pre_spike_times", "-1.0", ">= 0"]),
        (dict(post=[math.nan]), ["post_spike_times", "nan", "finite"]),
        (dict(pre=[[1.0], [2.0, 1.0]], post=[[5.0], [6.0]]), ["pre_spike_times[1]", "unsorted"]),
        (dict(pre=[[1.0], [2.0]], post=[[5.0]]), ["same number of trains", "2 trains", "1 trains"]),
        (dict(pre=[[1.0], [2.0]], post=[5.0]), ["same number of trains", "one train"]),
        (dict(pre=5.0), ["pre_spike_times", "5.0"]),
        (dict(delay=-1.0), ["delay", "-1.0", ">= 0"]),
        (dict(delay=math.inf), ["delay", "inf", "finite"]),
        (dict(initial_weight=1.5), ["initial_weight", "1.5", "[0.0, 1.0]"]),
        (dict(initial_weight=[0.5, 0.5]), ["initial_weight", "one number per synapse (1)", "2 values"]),
        (dict(t_stop=-3.0), ["t_stop", "-3.0"]),
        (dict(conventions="neuron"), ["conventions", "'neuron'", "brian2", "nest", "spinnaker"]),
        (dict(rule="stdp"), ["rule", "STDPRule"]),
    ],
)
def test_bad_prediction_inputs(kwargs, words):
    with pytest.raises(ParameterError) as error:
        call(**kwargs)
    for word in words:
        assert word in str(error.value)


def test_trajectory_validates_the_same_way():
    with pytest.raises(ParameterError, match="initial_weight"):
        predict_trajectory([1.0], [2.0], RULE, delay=1.0, initial_weight=-0.1, conventions="brian2")


def test_parameters_a_backend_cannot_represent():
    with pytest.raises(UnsupportedByBackend, match=r"w_min=0\.1 is not supported by the 'nest'"):
        call(rule=STDPRule(weight=AdditiveWeightDependence(0.1, 1.0)))
    nearest = STDPRule(timing=SpikeNearestPairRule())
    with pytest.raises(UnsupportedByBackend, match="SpikeNearestPairRule is not supported by the 'brian2'"):
        call(rule=nearest, conventions="brian2")


def test_window_rejects_non_finite_lags():
    with pytest.raises(ParameterError, match="lags"):
        stdp_window([0.0, math.nan], RULE, "nest")
