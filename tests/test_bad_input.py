"""Every kind of bad input, in one place: Python API, protocols, CLI, files, pytest options.

Each is rejected before any computation or simulation starts, with one message that names
the parameter, the value given and what is allowed. Zero and negative amplitudes are *not*
bad input: A_plus = 0 and reverse STDP (A < 0) are valid PyNN rules (the known-defect
reproducers need them).
"""

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from stdp_validation.cli import EXIT_BAD_INPUT, main
from stdp_validation.results import Execution, Observation
from stdp_validation.protocols import Case, Protocol, bounds_protocol, get_protocol, network_protocol, window_protocol

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
        (dict(post=[10.0, 10.0, 9.0]), ["post_spike_times", "unsorted", "9.0", "a time may repeat"]),
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


# --- protocols ------------------------------------------------------------------------------

ONE_CASE = (Case("a", (10.0,), (15.0,), 0.5),)


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: Protocol("p", "", cases=()), ["cases", "at least one case", "empty protocol"]),
        (lambda: Protocol("p", "", ONE_CASE, delay=0.05, timestep=0.1), ["delay", "0.05", ">= 0.1"]),
        (lambda: Protocol("p", "", ONE_CASE, delay=1.05, timestep=0.1), ["delay", "multiple of the timestep", "1.05"]),
        (lambda: Protocol("p", "", ONE_CASE, timestep=0.0), ["timestep", "0.0", "> 0"]),
        (lambda: Protocol("p", "", ONE_CASE, t_stop=12.0), ["post_drive_times", "before t_stop", "15.0"]),
        (lambda: Protocol("p", "", (Case("a", (20.0, 10.0), (), 0.5),)), ["pre_spike_times", "unsorted", "10.0"]),
        (lambda: Protocol("p", "", (Case("a", (math.nan,), (), 0.5),)), ["pre_spike_times", "nan"]),
        (lambda: Protocol("p", "", (Case("a", (), (5.0, 5.0), 0.5),)), ["post_drive_times", "duplicate", "5.0"]),
        (lambda: Protocol("p", "", (Case("a", (-2.0,), (), 0.5),)), ["pre_spike_times", "-2.0", ">= 0"]),
        (lambda: Protocol("p", "", (Case("a", (), (), 2.5),)), ["initial_weight", "2.5", "[0.0, 2.0]"]),
        (lambda: Protocol("p", "", ONE_CASE * 2), ["case labels must be unique"]),
        (lambda: Protocol("p", "", ONE_CASE, network="ring"), ["network", "'ring'", "'source'"]),
        (lambda: window_protocol([-200.0], pre_time=100.0), ["lags", "-200.0", "-100.0"]),
        (lambda: get_protocol("stdp"), ["protocol", "'stdp'", "window"]),
        (lambda: get_protocol("poisson", seed=-4), ["seed", "-4", ">= 0"]),
    ],
)
def test_bad_protocols(build, words):
    with pytest.raises(ParameterError) as error:
        build()
    for word in words:
        assert word in str(error.value)


def test_a_protocol_too_large_for_the_machine_is_refused_with_an_estimate():
    many = tuple(Case(str(i), (), (), 0.5) for i in range(10**6))
    with pytest.raises(ParameterError) as error:
        Protocol("huge", "", many)
    message = str(error.value)
    assert "1000000 cases" in message and "GiB" in message and "min" in message


# --- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--backend", "neuron"], ["backend", "'neuron'", "brian2", "nest"]),
        (["--protocol", "stdp"], ["protocol", "'stdp'", "window"]),
        (["--rule", "triplet"], ["rule", "'triplet'", "pair-additive"]),
        (["--backend", "nest[spike_precision]"], ["backend 'nest[spike_precision]'", "must be key=value"]),
        (["--backend", "nest[spike_precision=off_grid"], ["expected name[key=value,...]"]),
        (["--backend", "nest[spike_precision=ongrid]"], ["spike_precision must be one of", "'ongrid'"]),
        (["--backend", "nest[colour=red]"], ["backend 'nest'", "colour"]),
        (["revalidate", "does/not/exist.json"], ["does/not/exist.json", "does not exist"]),
    ],
)
def test_bad_command_line_values(tmp_path, capsys, argv, words):
    if argv[0] != "revalidate":
        argv = argv + ["--out", str(tmp_path / "out")]
    assert main(argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    for word in words:
        assert word in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, words", [(["--seed", "-3"], ["--seed", "'-3'", ">= 0"]),
                                          (["--seed", "many"], ["--seed", "'many'"])])
def test_bad_command_line_syntax(capsys, argv, words):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    for word in words:
        assert word in err


def test_unwritable_report_folder(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["--backend", "nest", "--out", str(blocker / "reports")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "--out" in err and "cannot be created" in err


@pytest.fixture
def saved_observation(tmp_path):
    from stdp_validation.conventions import CONVENTIONS

    protocol = bounds_protocol()
    observation = Observation(
        backend="nest", protocol=protocol, conventions=CONVENTIONS["nest"], execution=Execution.SIMULATED,
        pre_spike_times=[list(c.pre_spike_times) for c in protocol.cases],
        post_spike_times=[list(c.post_drive_times) for c in protocol.cases],
        final_weights=[c.initial_weight for c in protocol.cases],
        initial_weights=[c.initial_weight for c in protocol.cases],
        intended_post_times=[list(c.post_drive_times) for c in protocol.cases], delay=1.0, t_stop=protocol.t_stop,
    )
    path = tmp_path / "observation.json"
    observation.save(path)
    return path


@pytest.mark.parametrize(
    "corrupt, words",
    [
        (lambda text: text[: len(text) // 2], ["not valid JSON", "truncated or corrupted"]),
        (lambda text: "\x00\x01garbage", ["not valid JSON"]),
        (lambda text: json.dumps({**json.loads(text), "format_version": 99}), ["format_version", "99"]),
        (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "final_weights"}),
         ["missing required field", "final_weights"]),
        (lambda text: json.dumps({**json.loads(text), "final_weights": [0.5]}), ["final_weights", "one entry per case"]),
    ],
)
def test_corrupted_observation_given_to_revalidate(saved_observation, capsys, corrupt, words):
    saved_observation.write_text(corrupt(saved_observation.read_text()))
    assert main(["revalidate", str(saved_observation)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    for word in words:
        assert word in err


def test_unreadable_observation_folder(tmp_path, capsys):
    assert main(["revalidate", str(tmp_path)]) == EXIT_BAD_INPUT
    assert "holds no observation JSON files" in capsys.readouterr().err


# --- pytest options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option, words",
    [
        (["--backend", "neuron"], ["--backend", "'neuron'"]),
        (["--spinnaker-cfg", "no/such.cfg"], ["--spinnaker-cfg", "no/such.cfg", "no such file"]),
        (["--stdp-report", "{blocker}/sub"], ["--stdp-report", "not a writable folder"]),
    ],
)
def test_bad_pytest_options(tmp_path, option, words):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    option = [o.replace("{blocker}", str(blocker)) for o in option]
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *option,
         "tests/test_bad_input.py"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )
    assert process.returncode == 4, process.stdout + process.stderr  # pytest's usage error
    for word in words:
        assert word in process.stderr


# --- SpiNNaker cfg files --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, words",
    [
        (None, ["does not exist"]),
        ("[Machine]\nvirtual_board = True\nmachine_name = 10.0.0.1\nversion = 5\n", ["virtual_board", "machine_name"]),
        ("[Machine]\nversion = 5\n", ["machine_name", "spalloc_server"]),
        ("[Machine]\nmachine_name = 10.0.0.1\n", ["version"]),
        ("not an ini file", ["cfg"]),
    ],
)
def test_bad_spinnaker_cfg(tmp_path, capsys, text, words):
    path = tmp_path / "board.cfg"
    if text is not None:
        path.write_text(text)
    assert main(["--backend", "spinnaker", "--spinnaker-cfg", str(path), "--out", str(tmp_path / "out")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert str(path) in err
    for word in words:
        assert word in err
    assert not (tmp_path / "out").exists()


# --- parameters a backend cannot represent -------------------------------------------------


@pytest.mark.nest
def test_a_rule_the_backend_cannot_represent_is_reported_not_run(tmp_path):
    from stdp_validation import AdditiveWeightDependence, STDPRule
    from stdp_validation.run import run_validation

    rule = STDPRule(weight=AdditiveWeightDependence(0.1, 1.0))  # NEST accepts only w_min = 0
    run = run_validation(["nest"], ["window"], tmp_path, rule=rule, progress=lambda line: None)
    assert run.results == [] and run.errors == []
    (entry,) = run.unsupported
    assert entry["backend"] == "nest" and "w_min=0.1 is not supported by the 'nest' backend" in entry["reason"]


# --- found in review: values that must not be coerced ----------------------------------------


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: SpikePairRule(tau_plus="20"), ["tau_plus", "'20'", "number"]),
        (lambda: AdditiveWeightDependence(w_max=True), ["w_max", "True", "number"]),
        (lambda: predict_weights([1.0], [2.0], RULE, delay=1.0, initial_weight="0.5", conventions="nest"),
         ["initial_weight", "'0.5'", "number"]),
        (lambda: predict_weights("100", [2.0], RULE, delay=1.0, initial_weight=0.5, conventions="nest"),
         ["pre_spike_times", "'100'"]),
        (lambda: predict_weights([1.0], [2.0], RULE, delay=1.0, initial_weight=0.5, conventions="nest", t_stop="9"),
         ["t_stop", "'9'", "number"]),
        (lambda: Conventions(name=5), ["name", "5", "string"]),
        (lambda: stdp_window("abc", RULE, "nest"), ["lags", "'abc'"]),
    ],
)
def test_values_that_must_not_be_coerced(call, words):
    with pytest.raises(ParameterError) as error:
        call()
    for word in words:
        assert word in str(error.value)


def test_the_window_refuses_what_the_backend_cannot_represent():
    with pytest.raises(UnsupportedByBackend, match="SpikeNearestPairRule is not supported by the 'brian2'"):
        stdp_window([1.0], STDPRule(timing=SpikeNearestPairRule()), "brian2")
    with pytest.raises(UnsupportedByBackend, match="w_min=0.1 is not supported by the 'nest'"):
        stdp_window([1.0], STDPRule(weight=AdditiveWeightDependence(0.1, 1.0)), "nest")


def test_fixed_point_conductance_flag_must_be_a_boolean():
    from stdp_validation.fixedpoint import weight_lsb

    with pytest.raises(ParameterError, match="conductance_based must be True or False; got 'yes'"):
        weight_lsb(4, conductance_based="yes")


def test_spike_times_too_long_for_the_coincidence_grid():
    from dataclasses import replace

    from stdp_validation import CONVENTIONS

    fine = replace(CONVENTIONS["nest"], coincidence_tolerance=1e-12)
    with pytest.raises(ParameterError, match="too long for coincidence_tolerance"):
        predict_weights([2e5 + 10], [2e5 + 15], RULE, delay=1.0, initial_weight=0.5, conventions=fine)


def test_a_spinnaker_cfg_without_the_spinnaker_backend_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--backend", "nest", "--spinnaker-cfg", "/nonexistent.cfg", "--out", str(out)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "--spinnaker-cfg '/nonexistent.cfg' is given but no SpiNNaker backend is selected" in err
    assert "add --backend spinnaker or drop it" in err and not out.exists()


# --- your own rule and protocol parameters ----------------------------------------------------

GOOD_RULE_FILE = """\
[timing]
type = "SpikePairRule"
tau_plus = 16.8
tau_minus = 33.7
A_plus = 0.005
A_minus = 0.0025

[weight]
type = "AdditiveWeightDependence"
w_min = 0.0
w_max = 0.04
"""


@pytest.mark.parametrize(
    "name, text, words",
    [
        ("rule.toml", None, ["rule file", "does not exist", "--rule-file"]),
        ("rule.yaml", GOOD_RULE_FILE, ["must end in .toml or .json", "'.yaml'"]),
        ("rule.toml", "[timing\ntype = 1", ["is not valid TOML"]),
        ("rule.json", "{\"timing\": ", ["is not valid JSON"]),
        ("rule.toml", GOOD_RULE_FILE.split("[weight]")[0], ["missing table(s) weight"]),
        ("rule.toml", GOOD_RULE_FILE + "[neuron]\ntau_m = 20.0\n", ["unknown key(s) neuron", "allowed: timing, weight"]),
        ("rule.toml", GOOD_RULE_FILE.replace("tau_plus", "tau_plu"),
         ["timing (SpikePairRule)", "unknown key(s) tau_plu", "missing key(s) tau_plus"]),
        ("rule.toml", GOOD_RULE_FILE.replace("A_minus = 0.0025\n", ""), ["missing key(s) A_minus"]),
        ("rule.toml", GOOD_RULE_FILE.replace("16.8", '"16.8"'), ["timing.tau_plus must be a number", "'16.8'"]),
        ("rule.toml", GOOD_RULE_FILE.replace("SpikePairRule", "SpikeTripletRule"),
         ["timing.type must be one of SpikeNearestPairRule, SpikePairRule", "'SpikeTripletRule'"]),
        ("rule.toml", GOOD_RULE_FILE.replace("w_max = 0.04", "w_max = -1.0"), ["w_min must be <= w_max"]),
        ("rule.toml", GOOD_RULE_FILE.replace("tau_minus = 33.7", "tau_minus = -33.7"), ["tau_minus", "> 0"]),
        ("rule.json", json.dumps({"timing": {"type": "SpikePairRule", "tau_plus": 20, "tau_minus": 20, "A_plus": 0.01,
                                             "A_minus": True}, "weight": {"type": "AdditiveWeightDependence",
                                                                          "w_min": 0, "w_max": 1}}),
         ["timing.A_minus must be a number", "True"]),
        ("rule.toml", GOOD_RULE_FILE.replace("AdditiveWeightDependence", "GutigWeightDependence"),
         ["weight (GutigWeightDependence)", "missing key(s) mu_plus, mu_minus"]),
        ("rule.toml", GOOD_RULE_FILE.replace("AdditiveWeightDependence", "GutigWeightDependence")
         + "mu_plus = -0.5\nmu_minus = 0.5\n", ["mu_plus must be", ">= 0.0", "-0.5"]),
    ],
)
def test_bad_rule_files(tmp_path, capsys, name, text, words):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    assert main(["--rule-file", str(path), "--backend", "nest", "--out", str(tmp_path / "out")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    for word in words:
        assert word in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--timestep", "2"], ["--timestep (timestep)", "(0.0, 1.0] ms", "got 2.0"]),
        (["--timestep", "0"], ["--timestep (timestep)", "got 0.0"]),
        (["--delay", "0"], ["--delay (delay)", "got 0.0"]),
        (["--delay", "1.5", "--protocol", "pairing"],
         ["protocol 'pairing': delay must be a multiple of the timestep 1.0 ms; got 1.5 ms"]),
        (["--delay", "1000"], ["--delay (delay)", "100.0", "got 1000.0"]),
        (["--initial-weight", "3"], ["--initial-weight (initial_weight)", "[0.0, 2.0]", "got 3.0"]),
        (["--initial-weight", "0.5", "--rule-file", "{rule}"], ["--initial-weight (initial_weight)", "[0.0, 0.04]"]),
        (["--network-size", "0x4"], ["--network-size (n_inputs)", "from 1 to 10000", "got 0"]),
        (["--network-size", "100x0"], ["--network-size (n_neurons)", "from 1 to 1000", "got 0"]),
        (["--network-size", "1001x100"], ["--network-size", "at most 100000 synapses", "1001 × 100 = 100100"]),
        (["--network-size", "20000x1"], ["--network-size (n_inputs)", "got 20000"]),
        (["--network-duration", "0"], ["--network-duration (duration)", "got 0.0"]),
        (["--network-duration", "1e9"], ["--network-duration (duration)", "3600000.0", "got 1000000000.0"]),
    ],
)
def test_bad_protocol_parameters(tmp_path, capsys, argv, words):
    rule = tmp_path / "rule.toml"
    rule.write_text(GOOD_RULE_FILE)
    argv = [a.replace("{rule}", str(rule)) for a in argv]
    assert main([*argv, "--backend", "nest", "--out", str(tmp_path / "out")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    for word in words:
        assert word in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["100", "100x4x2", "axb", "100x", "1.5x4"])
def test_network_size_must_be_two_whole_numbers(capsys, text):
    with pytest.raises(SystemExit) as exit_info:
        main(["--network-size", text])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "--network-size: must be INPUTSxNEURONS" in capsys.readouterr().err


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: network_protocol(n_neurons=2.5), ["n_neurons", "integer from 1 to 1000", "2.5"]),
        (lambda: network_protocol(n_inputs=True), ["n_inputs", "True"]),
        (lambda: network_protocol(rate=-1.0), ["rate", "(0.0, 1000.0] Hz", "-1.0"]),
        (lambda: network_protocol(seed=-3), ["seed", ">= 0", "-3"]),
        (lambda: network_protocol(initial_weight=5.0), ["initial_weight", "[0.0, 0.2]", "5.0"]),
        (lambda: network_protocol(n_inputs=2, n_neurons=2, duration=100.0, start=-5.0), ["start", "-5.0"]),
        (lambda: replace(network_protocol(n_inputs=2, n_neurons=2), cases=network_protocol(n_inputs=2, n_neurons=1).cases),
         ["one case per synapse", "4", "got 2"]),
        (lambda: replace(network_protocol(n_inputs=2, n_neurons=2), inputs=None),
         ["'convergent' network needs inputs=PoissonInputs"]),
        (lambda: replace(window_protocol(), inputs=network_protocol(n_inputs=2, n_neurons=2).inputs),
         ["inputs are only for network='convergent'", "network='source'"]),
        (lambda: replace(network_protocol(n_inputs=2, n_neurons=2, duration=100.0), t_stop=250.0),
         ["inputs must stop before t_stop = 250.0 ms", "300.0"]),
    ],
)
def test_bad_network_protocols(make, words):
    with pytest.raises(ParameterError) as error:
        make()
    for word in words:
        assert word in str(error.value), str(error.value)


def test_rule_and_rule_file_together_are_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--rule", "pair-additive", "--rule-file", str(tmp_path / "r.toml")])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "not allowed with argument" in capsys.readouterr().err


# --- values that look like the wrong unit: a warning, not an error --------------------------


def test_a_time_constant_in_seconds_warns():
    from stdp_validation import UnitWarning

    with pytest.warns(UnitWarning, match=r"tau_plus = 0.02 ms .* 0.02 s = 20 ms"):
        SpikePairRule(tau_plus=0.02, tau_minus=20.0)


def test_spike_times_in_seconds_warn_and_times_in_ms_do_not():
    import warnings

    from stdp_validation import UnitWarning

    rule = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.01), AdditiveWeightDependence(0.0, 1.0))
    seconds = np.arange(0.05, 10.0, 0.05)  # 20 Hz for 10 s, written in s
    with pytest.warns(UnitWarning, match="fires at .* Hz on average"):
        predict_weights(seconds, seconds[::2], rule, delay=1.0, initial_weight=0.5, conventions="nest")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        predict_weights(seconds * 1000, seconds[::2] * 1000, rule, delay=1.0, initial_weight=0.5, conventions="nest")
