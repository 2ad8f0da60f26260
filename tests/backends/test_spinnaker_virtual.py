"""sPyNNaker's toolchain on a virtual board: what can be checked without a SpiNNaker machine.

Every protocol is mapped by sPyNNaker's real toolchain (``virtual_board = True``, ``emulate=False``) in ONE
network per timestep (``SpinnakerBackend.run``: two setup/run/end cycles for the five
protocols, ≈1 s after the ≈2 s import). The toolchain checks of each protocol (weight scale and LSB, the
encoded STDP region against sPyNNaker's host encoders and the fixed-point model, initial
weight quantisation) must pass. Nothing dynamic exists on a virtual board: no spikes and no
learned weights; the observation must say so. The run must leave the caller's working
directory, HOME and XDG variables, root logger and home folder exactly as they were.
Board cfgs are validated before anything is imported or set up.
"""

import glob
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from stdp_validation.backends.spinnaker import KEEP_ENV, SpinnakerBackend, toolchain_checks, validate_board_cfg
from stdp_validation.errors import ParameterError
from stdp_validation.protocols import PROTOCOLS, get_protocol, window_protocol
from stdp_validation.results import Execution, Observation
from support.running import observe

UNAVAILABLE = SpinnakerBackend.unavailable_reason()
needs_spinnaker = pytest.mark.skipif(UNAVAILABLE is not None, reason=f"backend 'spinnaker' unavailable: {UNAVAILABLE}")
pytestmark = pytest.mark.spinnaker

#: The network protocol is reported as unsupported on sPyNNaker (tests/backends/test_network.py).
PROTOCOL_NAMES = [name for name in PROTOCOLS if name != "network"]
SANDBOX_ENV = ("HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS")


def _user_cfg_files():
    home = Path(os.path.expanduser("~"))
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [home / ".spynnaker.cfg", xdg / ".spynnaker.cfg"]


def _file_state(paths):
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) if p.exists() else None for p in paths}


def _caller_state():
    root = logging.getLogger()
    return {
        "cwd": os.getcwd(),
        "env": {name: os.environ.get(name) for name in SANDBOX_ENV},
        "root_handlers": list(root.handlers),
        "root_level": root.level,
        "user_cfgs": _file_state(_user_cfg_files()),
    }


def _workspaces():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "stdp-spinnaker-*")))


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """All protocols in one run call, from an empty working directory."""
    if UNAVAILABLE is not None:
        pytest.skip(f"backend 'spinnaker' unavailable: {UNAVAILABLE}")
    cwd = tmp_path_factory.mktemp("caller-cwd")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        patch.delenv(KEEP_ENV, raising=False)
        before, workspaces = _caller_state(), _workspaces()
        observations = list(SpinnakerBackend(emulate=False).run([PROTOCOLS[name]() for name in PROTOCOL_NAMES]))
        after = _caller_state()
        left = sorted(os.listdir(cwd))
        new_workspaces = _workspaces() - workspaces
    return {
        "observations": {o.protocol.name: o for o in observations},
        "order": [o.protocol.name for o in observations],
        "before": before,
        "after": after,
        "cwd_listing": left,
        "new_workspaces": new_workspaces,
    }


def _checks(observation, kind="check"):
    return [c for c in observation.checks if c.kind == kind]


def _check(observation, name_start):
    matches = [c for c in observation.checks if c.name.startswith(name_start)]
    assert matches, f"no check named {name_start!r}; have {[c['name'] for c in observation.checks]}"
    return matches


# -- mapping and checks ---------------------------------------------------------------------


@needs_spinnaker
@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_every_protocol_maps_on_the_virtual_board(session, protocol):
    observation = session["observations"][protocol]
    assert observation.backend == "spinnaker"
    assert observation.execution is Execution.TOOLCHAIN_ONLY
    assert observation.environment["versions"]["sPyNNaker"] == "1!7.4.1"
    [maps] = _check(observation, "network maps")
    assert maps.passed is True
    [binaries] = _check(observation, "binaries exist")
    assert binaries.passed is True, binaries.observed


def test_run_keeps_input_order(session):
    assert session["order"] == PROTOCOL_NAMES


@needs_spinnaker
@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_toolchain_checks_pass(session, protocol):
    observation = session["observations"][protocol]
    checks = _checks(observation)
    failed = [c for c in checks if c.passed is False]
    lines = [f"{c['name']}: expected {c['expected']!r}, observed {c['observed']!r} ({c['reason']})" for c in failed]
    assert not failed, f"{len(failed)} of {len(checks)} checks failed:\n" + "\n".join(lines)
    # Checks that cannot be made say why: the rule cannot tell the amplitude conventions apart (w_max·g = g).
    not_made = [c for c in checks if c.passed is None]
    assert all("cannot tell the two apart" in c.reason for c in not_made), not_made
    assert len(checks) >= 20


@needs_spinnaker
@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_encoded_rule_equals_the_fixed_point_model(session, protocol):
    from stdp_validation import fixedpoint

    observation = session["observations"][protocol]
    names = [c.name for c in observation.checks if "fixedpoint" in c.name or "fixed-point" in c.name]
    assert any(n.startswith("STDP region equals fixedpoint.encode_rule") for n in names), names
    for check in observation.checks:
        if check.name in names:
            assert check.passed is True, check
    # And directly, from the stored encoding: the whole region, word for word.
    encoding = observation.encoding
    conductance = encoding["global_weight_scale"] == 1024.0
    expected = fixedpoint.encode_rule(observation.rule, observation.protocol.timestep, conductance_based=conductance)
    words = np.asarray(expected.region_words(encoding["n_synapse_types"]), dtype=np.uint32).tolist()
    for core in encoding["cores"]:
        assert core["words"] == words, f"region 7 of core {core['core']}"
    shift = encoding["ring_buffer_shifts"][encoding["synapse_type"]]
    assert fixedpoint.weight_lsb(shift, conductance) == 1.0 / encoding["weight_scales"][encoding["synapse_type"]]


@needs_spinnaker
@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_weight_scale_and_lsb(session, protocol):
    observation = session["observations"][protocol]
    encoding = observation.encoding
    seed = observation.protocol.network == "seed"
    assert encoding["global_weight_scale"] == (1024.0 if seed else 1.0)  # IF_cond_exp vs IF_curr_exp
    assert encoding["receptor"] == ("excitatory" if seed else "inhibitory")
    syn = encoding["synapse_type"]
    shift, scale = encoding["ring_buffer_shifts"][syn], encoding["weight_scales"][syn]
    assert scale == 2.0 ** (15 - shift) * encoding["global_weight_scale"]
    lsb = 1.0 / scale
    # The plastic synapse type carries only the plastic weights (w_max ≤ 5): a fine LSB.
    timing = observation.rule.timing
    assert max(timing.A_plus, timing.A_minus) / lsb >= 16
    [resolution] = _check(observation, "amplitude resolution")
    assert resolution.passed is True


@needs_spinnaker
def test_sharing_the_drive_synapse_type_makes_the_lsb_too_coarse():
    # The shared runner's network: plastic and 300 nA drive on one synapse type → s = 9,
    # LSB 1/64 nA > A = 0.01 nA. The resolution check says so.
    protocol = window_protocol(lags=[-5.0, 5.0])
    observation = observe(SpinnakerBackend(plastic_receptor="excitatory", emulate=False), protocol)
    [resolution] = _check(observation, "amplitude resolution")
    assert resolution.passed is False
    encoding = observation.encoding
    assert encoding["ring_buffer_shifts"][encoding["synapse_type"]] == 9
    assert "weight LSBs" in resolution.reason
    assert any(line.startswith("check FAILED: amplitude resolution") for line in observation.notes)


@needs_spinnaker
@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_stdp_region_is_region_7_and_decodes(session, protocol):
    observation = session["observations"][protocol]
    [region] = _check(observation, "synapse dynamics region number")
    assert region.observed == [7] and region.passed is True
    for name in ("STDP region size", "backprop_delay word", "tau_plus table size", "tau_minus table size",
                 "tau_plus table equals sPyNNaker's get_exp_lut_array",
                 "tau_minus table equals sPyNNaker's get_exp_lut_array", "weight-dependence words"):
        for check in _check(observation, name):
            assert check.passed is True, check


# -- what the virtual board does not give ---------------------------------------------------------


@needs_spinnaker
@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_virtual_observation_is_not_presented_as_board_output(session, protocol):
    observation = session["observations"][protocol]
    assert observation.execution is Execution.TOOLCHAIN_ONLY and not observation.execution.learned
    assert all(t == [] for t in observation.pre_spike_times)
    assert all(t == [] for t in observation.post_spike_times)
    assert observation.traces == {}
    assert any("NOT board output" in note for note in observation.notes)
    assert any(note.startswith("not checked without a board") for note in observation.notes)
    # final_weights are the initial weights, quantised by the host: rint(w·scale)/scale.
    encoding = observation.encoding
    scale = encoding["weight_scales"][encoding["synapse_type"]]
    initial = np.asarray(observation.initial_weights)
    assert observation.final_weights == (np.rint(initial * scale) / scale).tolist()
    [quantised] = _check(observation, "initial weights equal the fixed-point model's")
    assert quantised.passed is True


@needs_spinnaker
def test_amplitude_convention_is_reported_as_a_divergence(session):
    observation = session["observations"]["seed"]  # w_max = 5 µS separates A from A·w_max
    [absolute] = _check(observation, "A+ term is absolute")
    assert absolute.passed is True
    assert absolute.observed == round(0.5 * 1024 * 2**15)  # A+·g·2^15, no w_max factor
    [divergence] = _check(observation, "amplitude convention")
    assert divergence.kind == "divergence" and divergence.passed is True
    assert "not a failure" in divergence.reason


@needs_spinnaker
def test_checks_can_be_repeated_offline_from_the_stored_encoding(session):
    observation = session["observations"]["bounds"]
    encoding = observation.encoding
    again = toolchain_checks(observation.protocol, encoding)

    def strip(checks):
        return [(c.name, c.passed, c.observed) for c in checks if c.kind != "info"]

    assert strip(again) == strip(observation.checks)


@needs_spinnaker
def test_observation_round_trips_through_json(session, tmp_path):
    observation = session["observations"]["window"]
    path = tmp_path / "window.json"
    observation.save(path)
    loaded = Observation.load(path)
    assert loaded.final_weights == observation.final_weights
    assert loaded.execution is Execution.TOOLCHAIN_ONLY and loaded.encoding == observation.encoding
    assert loaded.notes == observation.notes and loaded.checks == observation.checks


@needs_spinnaker
def test_protocols_are_grouped_by_timestep(session):
    observations = session["observations"]
    groups = {}
    for observation in observations.values():
        groups.setdefault(observation.protocol.timestep, []).append(observation)
    assert sorted(groups) == [0.1, 1.0]
    for members in groups.values():
        longest = max(o.protocol.t_stop for o in members)
        for observation in members:
            assert observation.t_stop == longest
            [note] = [n for n in observation.notes if n.startswith("one spinnaker network and run")]
            assert f"at timestep {observation.protocol.timestep:g} ms" in note
            assert all(o.protocol.name in note for o in members)


# -- the caller's process is left alone -------------------------------------------------------------


@needs_spinnaker
def test_caller_state_is_untouched(session):
    before, after = session["before"], session["after"]
    assert after["cwd"] == before["cwd"]
    assert after["env"] == before["env"]
    assert after["root_handlers"] == before["root_handlers"]
    assert after["root_level"] == before["root_level"]
    # No reports/ folder, spynnaker.cfg or anything else in the caller's working directory.
    assert session["cwd_listing"] == []
    # ~/.spynnaker.cfg (and the XDG one) neither created nor changed; temporary folders removed.
    assert after["user_cfgs"] == before["user_cfgs"]
    assert session["new_workspaces"] == set()


@needs_spinnaker
def test_consecutive_runs_in_one_process(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    before = _caller_state()
    backend = SpinnakerBackend(emulate=False)
    small = window_protocol(lags=[-5.0, 0.0, 5.0])
    first = observe(backend, small)
    second = observe(backend, get_protocol("seed"))
    third = observe(backend, small)
    for observation in (first, second, third):
        assert not [c for c in _checks(observation) if c.passed is False]
    assert first.final_weights == third.final_weights
    assert list(tmp_path.iterdir()) == []
    assert _caller_state() == before


@needs_spinnaker
def test_keep_option_keeps_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(KEEP_ENV, "1")
    observation = observe(SpinnakerBackend(emulate=False), window_protocol(lags=[1.0, 2.0]))
    [line] = [n for n in observation.notes if n.startswith("sPyNNaker working folder kept: ")]
    kept = Path(line.split(": ", 1)[1])
    try:
        assert (kept / "spynnaker.cfg").read_text().count("virtual_board = True") == 1
        assert (kept / "xdg" / ".spynnaker.cfg").read_text() == ""
        assert list(kept.glob("reports/reports/*/run_1/ds.sqlite3"))
        assert list(tmp_path.iterdir()) == []
    finally:
        import shutil

        shutil.rmtree(kept, ignore_errors=True)


# -- board cfg validation (before anything is imported or set up) ------------------------------------


@pytest.fixture
def no_simulator(monkeypatch):
    """Make any import of pyNN.spiNNaker fail: validation must happen before it."""
    monkeypatch.setitem(sys.modules, "pyNN.spiNNaker", None)


def _cfg(tmp_path, text, name="board.cfg"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, words",
    [
        ("[Machine]\nvirtual_board = True\nmachine_name = 192.168.240.253\nversion = 5\n",
         ["virtual_board", "machine_name"]),
        ("[Machine]\nvirtual_board = True\nspalloc_server = https://spalloc.example.org\n",
         ["virtual_board", "spalloc_server"]),
        ("[Machine]\nversion = 5\n", ["names no machine", "machine_name", "spalloc_server"]),
        ("[Reports]\nwrite_energy_report = False\n", ["no [Machine] section"]),
        ("[Machine]\nvirtual_board = True\nversion = 5\n", ["virtual_board = True", "names no board"]),
        ("[Machine]\nmachine_name = 192.168.240.253\n", ["machine_name", "version"]),
        ("[Machine]\nmachine_name = 192.168.240.253\nversion = 201\n", ["version", "3 or 5"]),
        ("[Machine]\nmachine_name = a\nspalloc_server = https://b\n", ["machine_name", "spalloc_server"]),
        ("[Machine]\nmachine_name = 10.0.0.1\nversion = 5\nmachine_nmae = typo\n", ["unknown option", "machinenmae"]),
        ("[Machine]\nmachine_name = 10.0.0.1\nversion = 5\n[Reprots]\n", ["unknown section", "Reprots"]),
        ("[Machine]\nmachine_name = 10.0.0.1\nversion = 5\n[Reports]\ndefault_report_file_path = rel/dir\n",
         ["default_report_file_path", "absolute"]),
        ("no section header\n", ["not a valid cfg file"]),
        ("[Machine]\nspalloc_server = https://user:secret@spalloc.example.org/\n", ["credentials", "SPALLOC_USER",
                                                                                    "SPALLOC_PASSWORD"]),
        ("[Machine]\nspalloc_server = https://spalloc.example.org/\nspalloc_password = x\n",
         ["spallocpassword", "credentials", "SPALLOC_PASSWORD"]),
    ],
)
def test_bad_cfg_is_rejected_before_any_setup(tmp_path, no_simulator, text, words):
    path = _cfg(tmp_path, text)
    with pytest.raises(ParameterError) as error:
        SpinnakerBackend(cfg_path=path)
    message = str(error.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_missing_cfg_is_rejected(tmp_path, no_simulator):
    path = tmp_path / "absent.cfg"
    with pytest.raises(ParameterError, match="does not exist") as error:
        SpinnakerBackend(cfg_path=path)
    assert str(path) in str(error.value)


def test_directory_as_cfg_is_rejected(tmp_path, no_simulator):
    with pytest.raises(ParameterError, match="is not a file"):
        SpinnakerBackend(cfg_path=tmp_path)


def test_unreadable_cfg_is_rejected(tmp_path, no_simulator):
    path = _cfg(tmp_path, "[Machine]\nmachine_name = 10.0.0.1\nversion = 5\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read any file (root)")
        with pytest.raises(ParameterError, match="cannot be read"):
            SpinnakerBackend(cfg_path=path)
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize(
    "text, machine",
    [
        ("[Machine]\nmachine_name = 192.168.240.253\nversion = 5\n", "board 192.168.240.253 (version 5)"),
        ("[Machine]\nmachineName = spinn-4\nversion = 3\n", "board spinn-4 (version 3)"),
        ("[Machine]\nspalloc_server = https://spalloc.example.org/spalloc/\n",
         "spalloc https://spalloc.example.org/spalloc/"),
        ("[Machine]\nremote_spinnaker_url = https://hbp.example.org/api\nversion = 5\n",
         "remote https://hbp.example.org/api"),
        ("[Machine]\nmachine_name = 10.0.0.1\nversion = 5\nvirtual_board = False\nspalloc_server = None\n",
         "board 10.0.0.1 (version 5)"),
    ],
)
def test_good_cfg_is_accepted_without_credentials_in_the_machine_name(tmp_path, no_simulator, text, machine):
    backend = SpinnakerBackend(cfg_path=_cfg(tmp_path, text))
    assert backend.execution is Execution.BOARD
    assert backend.board.machine == machine
    assert validate_board_cfg(_cfg(tmp_path, text, "again.cfg")).machine == machine


def test_virtual_mode_never_reads_the_user_cfg(monkeypatch, tmp_path, no_simulator):
    # Constructing the backend reads no cfg at all; the run uses an empty user cfg of its own.
    home = tmp_path / "home"
    home.mkdir()
    (home / ".spynnaker.cfg").write_text("[Machine]\nmachine_name = should.not.be.used\nversion = 5\n")
    monkeypatch.setenv("HOME", str(home))
    backend = SpinnakerBackend(emulate=False)
    assert backend.board is None and backend.execution is Execution.TOOLCHAIN_ONLY


@needs_spinnaker
def test_a_developer_home_cfg_does_not_break_the_virtual_run(monkeypatch, tmp_path):
    # sPyNNaker raises TwoUserConfigsException for two user cfgs; the run hides the caller's.
    home = tmp_path / "home"
    home.mkdir()
    cfg = home / ".spynnaker.cfg"
    cfg.write_text("[Machine]\nmachine_name = should.not.be.used\nversion = 5\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    observation = observe(SpinnakerBackend(emulate=False), window_protocol(lags=[3.0]))
    assert observation.execution is Execution.TOOLCHAIN_ONLY
    assert not [c for c in _checks(observation) if c.passed is False]
    assert cfg.read_text() == "[Machine]\nmachine_name = should.not.be.used\nversion = 5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
    assert os.environ["HOME"] == str(home)


def test_bad_option_is_rejected():
    with pytest.raises(ParameterError, match="plastic_receptor"):
        SpinnakerBackend(plastic_receptor="excitatory2")


def test_a_board_named_in_the_users_own_cfg_is_used(tmp_path, monkeypatch):
    from stdp_validation.backends.spinnaker import board_cfg_path

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    assert board_cfg_path() is None  # no user cfg: the virtual board
    user = tmp_path / ".spynnaker.cfg"
    user.write_text("[Machine]\nvirtual_board = True\nversion = 5\n")
    assert board_cfg_path() is None  # a virtual board in the user's cfg: still virtual
    user.write_text("[Machine]\nmachine_name = spinn-4.example\nversion = 5\n")
    assert board_cfg_path() == str(user)
    assert board_cfg_path("explicit.cfg") == "explicit.cfg"


def test_without_the_emulator_packages_spinnaker_runs_toolchain_only_and_says_why(monkeypatch):
    from stdp_validation.backends.spinnaker import emulator
    from stdp_validation.errors import ParameterError
    from stdp_validation.results import Execution

    reason = "unicorn not installed: the ARM emulator needs them (pip install 'stdp-validation[spinnaker]')"
    monkeypatch.setattr(emulator, "unavailable_reason", lambda: reason)
    backend = SpinnakerBackend()
    assert backend.execution is Execution.TOOLCHAIN_ONLY and not backend.emulate
    assert f"toolchain only ({reason})" in backend.execution_note()
    assert "cases 'not run'" in backend.execution_note()
    with pytest.raises(ParameterError, match="emulate=True: unicorn not installed"):
        SpinnakerBackend(emulate=True)


def test_on_a_board_the_emulation_runs_beside_it_unless_disabled(tmp_path):
    from stdp_validation.backends.spinnaker.emulator import unavailable_reason
    from stdp_validation.results import Execution

    cfg = tmp_path / "board.cfg"
    cfg.write_text("[Machine]\nmachine_name = 192.168.240.253\nversion = 5\n")
    backend = SpinnakerBackend(cfg)
    assert backend.execution is Execution.BOARD and not backend.emulate
    assert backend.beside is (unavailable_reason() is None)
    off = SpinnakerBackend(cfg, emulate=False)
    assert not off.beside and off.options == {"emulate": False} and off.label == "spinnaker[emulate=False]"


def test_recorded_spike_times_go_back_to_the_ticks_the_board_processed():
    from stdp_validation.backends.spinnaker.emulation import recorded_ticks

    # sPyNNaker reports a spike of tick t at t·dt (dt in whole µs: 0.1 ms → 100 µs).
    assert recorded_ticks([[1.0, 2.5], []], 0.5) == [[2, 5], []]
    assert recorded_ticks([[10.0, 10.1, 10.2]], 0.1) == [[100, 101, 102]]


def test_a_board_label_does_not_depend_on_whether_the_emulator_is_installed(tmp_path, monkeypatch):
    from stdp_validation.backends.spinnaker import emulator

    cfg = tmp_path / "board.cfg"
    cfg.write_text("[Machine]\nmachine_name = 192.168.240.253\nversion = 5\n")
    monkeypatch.setattr(emulator, "unavailable_reason", lambda: "unicorn not installed")
    missing = SpinnakerBackend(cfg)
    assert not missing.beside and missing.label == "spinnaker"
