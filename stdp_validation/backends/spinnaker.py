"""sPyNNaker 1!7.4.1 through pyNN.spiNNaker: a real board, or the virtual board without one.

Conventions: ``CONVENTIONS["spinnaker"]`` (amplitudes absolute, i.e. no w_max factor; all
of the delay dendritic; updates deferred to the next presynaptic spike; a lag-0 pair
depresses fully; integer ticks; at most 15 remembered postsynaptic spikes; exponentials cut
to 0 after the lookup table). The arithmetic is fixed point; the bit-accurate reference is
:mod:`stdp_validation.fixedpoint`.

Two modes
---------
**Virtual board** (``SpinnakerBackend()``, no ``cfg_path``). sPyNNaker runs its real
toolchain with ``virtual_board = True``. Nothing is loaded or simulated, so:

* it checks, per protocol (:func:`virtual_board_checks`, stored with the observation):

  - the network maps: partitioning, placement, routing, the binary each core would run
    (combined ``IF_*_stdp_mad_*`` or split ``synapses_stdp_mad_*``) and data generation all
    succeed;
  - the ring-buffer shift s and weight scale 2^(15−s)·g of the plastic synapse type, with
    g = 1024 for conductance-based cells (``IF_cond_exp``) and 1 otherwise, hence the weight
    LSB 2^(s−15)/g; that A spans enough LSBs for a meaningful board test (design rule);
    that w_max fits the 16-bit weight; that the plastic projection needs no
    delay-extension stage (not modelled by the fixed-point model);
  - the encoded STDP region (``synapseDynamicsParams``, region 7) of every post core, read
    from the data-spec database: the ``backprop_delay`` word, the τ+ and τ− lookup tables
    (``uint16`` [size, shift] header, then 4.11 entries) and, per synapse type, the four
    S16.15 words w_min·g, w_max·g, A+ term, A− term — against sPyNNaker's own host
    encoders (``get_exp_lut_array``, ``DataType.S1615``), against the table length the
    float reference model assumes (``conventions.exponential_table_length``) and against
    the fixed-point model (``fixedpoint.encode_rule`` / ``exp_lut`` / ``weight_lsb``);
  - the initial weights as ``Projection.get`` returns them: quantised to rint(w·scale)/scale;
  - the amplitude convention: the A+ word is round(A·g·2^15) with no w_max factor, whereas
    NEST and pyNN.brian2 apply A·w_max. Reported as a cross-backend divergence, not a failure.

* it cannot give anything dynamic: **no spikes and no learned weights**. The observation's
  spike trains are the empty trains the virtual board returns, and ``final_weights`` are the
  *initial* weights as the host quantised them. The observation says so in ``notes`` and in
  ``environment["machine"] = "virtual board"`` / ``environment["board_output"] = False``;
  it must never be compared as if it were board output (see :func:`is_board_observation`).
  Neither can it check the on-chip synapse expander (round-half-up of initial weights),
  timing on the machine (late or dropped spikes), DTCM limits of the lookup tables, or
  whether the binaries do what the fixed-point model says.

**Board** (``SpinnakerBackend(cfg_path=PATH)``). ``PATH`` is a sPyNNaker cfg with
``[Machine]`` ``machine_name`` + ``version`` (3 or 5), ``spalloc_server`` or
``remote_spinnaker_url``; it is validated before anything runs. The same checks run, and
the recorded spikes and learned weights are real: compare them with
``fixedpoint.predict_fixed_point_weights`` at tolerance 0 LSB.

Isolation (both modes)
----------------------
sPyNNaker reads its configuration at every ``setup()`` (not at import): the package
defaults, exactly one *user* cfg (``$XDG_CONFIG_DIRS``/``$XDG_CONFIG_HOME``/``~``
``.spynnaker.cfg``; two raise ``TwoUserConfigsException``, none makes ``setup()`` WRITE
``~/.spynnaker.cfg``) and ``./spynnaker.cfg`` in the working directory (read strictly). Each
run therefore gets a fresh temporary folder holding an empty user cfg and a generated
``spynnaker.cfg`` (the board cfg merged with the report settings in board mode). For the
duration of ``setup()`` … ``end()`` only, ``HOME``, ``XDG_CONFIG_HOME`` and
``XDG_CONFIG_DIRS`` point into that folder and the process works in it; afterwards the
caller's working directory, environment, root-logger handlers and sPyNNaker's log store are
restored exactly, and the folder is removed (kept when ``keep_files=True`` or the
environment variable ``STDP_SPINNAKER_KEEP=1`` asks for it, and whenever the run fails; its
path is then in the notes or the exception). Importing ``pyNN.spiNNaker`` imports matplotlib,
which may create its font cache under ``~/.cache/matplotlib`` as any matplotlib import does;
the import happens before the sandbox so that later matplotlib use is unaffected.
``SPALLOC_USER`` / ``SPALLOC_PASSWORD`` are left alone; credentials in a spalloc URL never
enter the observation.

One network for many protocols
------------------------------
:meth:`SpinnakerBackend.run_many` builds every protocol of a session in ONE
``setup()``/``run()``/``end()`` per timestep (sPyNNaker has one timestep per simulation):
each protocol keeps its own populations, so its post population has its own STDP
parameters and ring-buffer shift. The run lasts the longest ``t_stop`` of the group; no
protocol has a spike after its own ``t_stop``, so the longer run changes nothing.

Network differences from the shared runner (``pynn_runner.PyNNBackend.build``)
------------------------------------------------------------------------------
* ``SpikeSourceArray`` times are plain lists (sPyNNaker rejects ``pyNN.parameters.Sequence``).
* Non-uniform initial weights use ``FromListConnector`` (sPyNNaker's ``OneToOneConnector``
  refuses weight arrays and ``Projection.set`` is not implemented).
* "source" protocols connect the plastic synapse to the ``inhibitory`` synapse type
  (``plastic_receptor``). The ring-buffer shift is per synapse type: sharing the excitatory
  type with the 300 nA drive gives s = 9, LSB = 1/64 nA — larger than A = 0.01 nA, so every
  change would be floored away on a board. On its own type s = 1 (LSB = 2^−14 nA). The STDP
  arithmetic does not depend on the synapse type (only s does); the plastic input moves the
  membrane by < 1 mV either way. ``SpinnakerBackend(plastic_receptor="excitatory")``
  reproduces the shared network (the resolution check then fails, saying why). The seed
  network keeps the notebook's excitatory synapse (IF_cond_exp, s = 13, LSB 2^−12/1024 µS).
"""

from __future__ import annotations

import configparser
import contextlib
import importlib.metadata
import importlib.util
import io
import logging
import math
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from ..conventions import exponential_table_length
from ..errors import ParameterError, UnsupportedByBackend
from ..observation import Observation
from .pynn_runner import DRIVE_DELAY, DRIVE_WEIGHT, POST_CELL_PARAMETERS, SEED_DRIVE_WEIGHT, PyNNBackend

#: Environment variable that keeps each run's temporary folder (cfg, reports, ds.sqlite3).
KEEP_ENV = "STDP_SPINNAKER_KEEP"

#: Why board tests skip when no board cfg is given.
NO_BOARD_REASON = (
    "no SpiNNaker board configured: pass --spinnaker-cfg PATH with [Machine] machine_name + version, "
    "or spalloc_server (or name the machine in your own ~/.spynnaker.cfg)"
)

#: Reason of the fixed-point comparisons while ``stdp_validation.fixedpoint`` is missing.
FIXEDPOINT_MISSING = "fixedpoint model not available"

#: SpiNNaker-1 board versions (the fixed-point model describes SpiNNaker-1 binaries).
SUPPORTED_VERSIONS = (3, 5)

#: Design rule (DESIGN.md §4): the largest single weight change must span at least this many
#: weight LSBs, otherwise flooring at write-back (up to 1 LSB per presynaptic spike) dominates.
MIN_AMPLITUDE_IN_LSB = 16

#: sPyNNaker warns when one SpikeSourceArray sends more spikes than this in one time step
#: (``spike_source_array_vertex.py`` TOO_MANY_SPIKES).
TOO_MANY_SIMULTANEOUS_SPIKES = 100

#: Region of the STDP parameters in sPyNNaker 1!7.4.1 ("synapseDynamicsParams", facts §2).
EXPECTED_SYNAPSE_DYNAMICS_REGION = 7

S1615_ONE = 32768
TRACE_ONE = 2048

_SANDBOX_ENV = ("HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS")
_MACHINE_OPTIONS = ("machine_name", "spalloc_server", "remote_spinnaker_url")


class SpinnakerRunError(RuntimeError):
    """Some protocols of :meth:`SpinnakerBackend.run_many` failed.

    ``errors`` maps protocol name → exception; ``observations`` holds the observations of the
    protocols that succeeded, in input order, with ``None`` for the failed ones.
    """

    def __init__(self, message, errors, observations):
        super().__init__(message)
        self.errors = errors
        self.observations = observations


# ---------------------------------------------------------------------------------------------
# Check records


@dataclass
class Check:
    """One toolchain check: what was expected, what sPyNNaker produced, and whether they agree.

    ``passed`` is ``None`` when the check could not be made (``reason`` says why).
    ``kind``: ``"check"`` (a failure is a problem), ``"divergence"`` (a documented difference
    between backends, reported, never a failure) or ``"info"`` (a measured quantity).
    Values are JSON-ready (numbers, strings, short lists).
    """

    protocol: str
    name: str
    expected: object
    observed: object
    passed: bool | None
    reason: str
    kind: str = "check"

    def to_dict(self):
        return asdict(self)

    @property
    def failed(self):
        return self.kind == "check" and self.passed is False


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _check(protocol, name, expected, observed, passed, reason, kind="check"):
    return Check(protocol, name, _jsonable(expected), _jsonable(observed),
                 None if passed is None else bool(passed), reason, kind)


# ---------------------------------------------------------------------------------------------
# Board cfg


def _optionxform(option):
    # sPyNNaker's CamelCaseConfigParser: case and underscores do not matter in option names.
    return option.lower().replace("_", "")


def _cfg_value(parser, section, option):
    """The option's value, or ``None`` when absent, empty or "None" (sPyNNaker's convention)."""
    if not parser.has_section(section):
        return None
    value = parser.get(section, _optionxform(option), fallback=None)
    if value is None:
        return None
    value = value.strip()
    return None if value == "" or value.lower() == "none" else value


def _cfg_bool(parser, section, option):
    value = _cfg_value(parser, section, option)
    return value is not None and value.lower() in ("true", "1", "yes", "on")


def _redact_url(url):
    """``url`` without user name and password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _default_cfg_files():
    """sPyNNaker's default cfg files (read to check a board cfg the way ``setup()`` will)."""
    files = []
    for module, name in (
        ("spinn_utilities", "spinn_utilities.cfg"),
        ("spinn_machine", "spinn_machine.cfg"),
        ("pacman", "pacman.cfg"),
        ("spinnman", "spinnman.cfg"),
        ("spinn_front_end_common", "interface/spinnaker.cfg"),
        ("spynnaker", "pyNN/spynnaker.cfg"),
    ):
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return []
        path = Path(list(spec.submodule_search_locations)[0]) / name
        if not path.is_file():
            return []
        files.append(str(path))
    return files


def user_cfg_files():
    """The user cfg files sPyNNaker's ``setup()`` would read, in its order (existing ones only)."""
    home = Path.home()
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    config_dirs = [Path(p) for p in (os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep) if p]
    candidates = [d / ".spynnaker.cfg" for d in config_dirs] + [config_home / ".spynnaker.cfg",
                                                                home / ".spynnaker.cfg"]
    return [path for path in candidates if path.is_file()]


def board_cfg_path(explicit=None):
    """The cfg naming the board to use: ``explicit`` (``--spinnaker-cfg``) if given, else the
    user's own sPyNNaker cfg when it names a machine (``machine_name``, ``spalloc_server`` or
    ``remote_spinnaker_url``) and is not a virtual board; ``None`` means the virtual board.

    The user's cfg is only read to decide this; in virtual mode it is never used.
    """
    if explicit:
        return explicit
    for path in user_cfg_files():
        parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
        try:
            parser.read_string(path.read_text())
        except (OSError, UnicodeDecodeError, configparser.Error):
            continue
        if not parser.has_section("Machine"):
            continue
        machine = parser["Machine"]
        virtual = machine.get("virtual_board", "False").strip().lower() in ("true", "1", "yes", "on")
        named = any(machine.get(option, "None").strip() not in ("", "None") for option in _MACHINE_OPTIONS)
        if named and not virtual:
            return str(path)
    return None


@dataclass(frozen=True)
class BoardConfig:
    """A validated board cfg: its text, and the machine it names (credentials removed)."""

    path: str
    text: str
    machine: str  # "board <name>", "spalloc <url>" or "remote <url>"
    report_path: str | None  # an absolute [Reports] default_report_file_path the user asked for


def validate_board_cfg(cfg_path):
    """Check a sPyNNaker cfg for a real board before anything runs; return a :class:`BoardConfig`.

    Requires ``[Machine]`` with ``machine_name`` + ``version`` (3 or 5), or
    ``spalloc_server``, or ``remote_spinnaker_url`` (exactly one), and not
    ``virtual_board = True``. Unknown sections or options are rejected as ``setup()`` would
    (the file becomes the strictly read ``./spynnaker.cfg``). Raises :class:`ParameterError`
    naming the option and the file.
    """
    path = Path(os.fspath(cfg_path)).expanduser()
    where = f"SpiNNaker cfg {str(path)!r}"
    if not path.exists():
        raise ParameterError(f"{where} does not exist (cfg_path / --spinnaker-cfg)")
    if not path.is_file():
        raise ParameterError(f"{where} is not a file (cfg_path / --spinnaker-cfg)")
    try:
        text = path.read_text()
    except OSError as error:
        raise ParameterError(f"{where} cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{where} is not a text file") from None
    parser = configparser.RawConfigParser()
    parser.optionxform = _optionxform
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as error:
        raise ParameterError(f"{where} is not a valid cfg file: {error}") from None
    if not parser.has_section("Machine"):
        raise ParameterError(
            f"{where} has no [Machine] section; a board needs [Machine] machine_name + version, "
            "or spalloc_server, or remote_spinnaker_url"
        )
    given = [option for option in _MACHINE_OPTIONS if _cfg_value(parser, "Machine", option) is not None]
    virtual = _cfg_bool(parser, "Machine", "virtual_board")
    if virtual and given:
        raise ParameterError(
            f"{where}: [Machine] virtual_board = True cannot be combined with {given[0]}; remove "
            "virtual_board to use the board (or omit cfg_path / --spinnaker-cfg to use the virtual board)"
        )
    if virtual:
        raise ParameterError(
            f"{where}: [Machine] virtual_board = True names no board; set machine_name + version or "
            "spalloc_server (the virtual board needs no cfg: omit cfg_path / --spinnaker-cfg)"
        )
    if not given:
        raise ParameterError(
            f"{where}: [Machine] names no machine; set machine_name + version (3 or 5), or "
            "spalloc_server, or remote_spinnaker_url"
        )
    if len(given) > 1:
        raise ParameterError(f"{where}: [Machine] {given[0]} and {given[1]} cannot both be set; keep one")
    version_text = _cfg_value(parser, "Machine", "version")
    version = None
    if version_text is not None:
        try:
            version = int(version_text)
        except ValueError:
            raise ParameterError(f"{where}: [Machine] version must be 3 or 5; got {version_text!r}") from None
        if version not in SUPPORTED_VERSIONS:
            raise ParameterError(
                f"{where}: [Machine] version must be 3 or 5 (SpiNNaker-1 boards; the fixed-point model "
                f"describes SpiNNaker-1); got {version}"
            )
    option = given[0]
    value = _cfg_value(parser, "Machine", option)
    if option == "machine_name":
        if version is None:
            raise ParameterError(f"{where}: [Machine] machine_name needs version (3 or 5); version is not set")
        machine = f"board {value} (version {version})"
    elif option == "spalloc_server":
        if version not in (None, 5):
            raise ParameterError(f"{where}: [Machine] spalloc_server machines are version 5; got version {version}")
        machine = f"spalloc {_redact_url(value)}"
    else:
        if version not in (None, 5):
            raise ParameterError(
                f"{where}: [Machine] remote_spinnaker_url machines are version 5; got version {version}"
            )
        machine = f"remote {_redact_url(value)}"
    _check_known_options(parser, where)
    report_path = _cfg_value(parser, "Reports", "default_report_file_path")
    if report_path is not None and report_path.upper() != "DEFAULT" and not os.path.isabs(report_path):
        raise ParameterError(
            f"{where}: [Reports] default_report_file_path must be an absolute path (runs happen in a "
            f"temporary folder); got {report_path!r}"
        )
    if report_path is not None and report_path.upper() == "DEFAULT":
        report_path = None
    return BoardConfig(str(path), text, machine, report_path)


def _check_known_options(parser, where):
    defaults = _default_cfg_files()
    if not defaults:
        return  # sPyNNaker not installed: the backend is unavailable anyway
    known = configparser.RawConfigParser()
    known.optionxform = _optionxform
    known.read(defaults)
    for section in parser.sections():
        if not known.has_section(section):
            raise ParameterError(f"{where}: unknown section [{section}] (sPyNNaker reads this file strictly)")
        for option in parser.options(section):
            if not known.has_option(section, option):
                raise ParameterError(
                    f"{where}: unknown option [{section}] {option} (sPyNNaker reads this file strictly)"
                )


def _local_cfg_text(board, report_dir):
    """``./spynnaker.cfg`` of a run: the board cfg (if any) plus what the checks need.

    The board cfg's own options keep their spelling; options set here replace any spelling
    of the same option (sPyNNaker ignores case and underscores in option names).
    """
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # keep the spelling when writing

    def put(section, option, value, replace=True):
        if not parser.has_section(section):
            parser.add_section(section)
        same = [o for o in parser.options(section) if _optionxform(o) == _optionxform(option)]
        if same and not replace:
            return
        for existing in same:
            parser.remove_option(section, existing)
        parser.set(section, option, value)

    if board is not None:
        parser.read_string(board.text, source=board.path)
    else:
        put("Machine", "virtual_board", "True")
        put("Machine", "version", "5")
    if board is None or board.report_path is None:
        put("Reports", "default_report_file_path", str(report_dir))
    # The checks read the encoded STDP region from the data-spec database after run().
    put("Reports", "keep_dataspec_database", "True")
    put("Logging", "default", "warning", replace=False)
    stream = io.StringIO()
    parser.write(stream)
    return stream.getvalue()


# ---------------------------------------------------------------------------------------------
# The temporary working folder


class _Workspace:
    """A temporary folder the run happens in; restores the caller's state on exit."""

    def __init__(self, board, keep, quiet):
        self.board = board
        self.keep = keep
        self.quiet = quiet
        self.path = None
        self.failed = False

    def __enter__(self):
        self.path = Path(tempfile.mkdtemp(prefix="stdp-spinnaker-"))
        (self.path / "xdg").mkdir()
        (self.path / "xdg-site").mkdir()
        (self.path / "home").mkdir()
        (self.path / "reports").mkdir()
        # An empty user cfg: sPyNNaker needs exactly one, and writes ~/.spynnaker.cfg if none exists.
        (self.path / "xdg" / ".spynnaker.cfg").write_text("")
        (self.path / "spynnaker.cfg").write_text(_local_cfg_text(self.board, self.path / "reports"))
        self._cwd = os.getcwd()
        self._env = {name: os.environ.get(name) for name in _SANDBOX_ENV}
        root = logging.getLogger()
        self._root_level = root.level
        self._root_handlers = list(root.handlers)
        self._handler_state = [(h, list(h.filters), h.formatter) for h in root.handlers]
        self._streams = (sys.stdout, sys.stderr)
        self._console = None
        try:
            os.environ["HOME"] = str(self.path / "home")
            os.environ["XDG_CONFIG_HOME"] = str(self.path / "xdg")
            os.environ["XDG_CONFIG_DIRS"] = str(self.path / "xdg-site")
            os.chdir(self.path)
            if self.quiet:
                # Progress bars and sPyNNaker's console output go to a file in the folder.
                self._console = open(self.path / "console.log", "w")  # noqa: SIM115
                sys.stdout = sys.stderr = self._console
        except BaseException:
            self._restore()
            raise
        return self

    def __exit__(self, kind, error, traceback_):
        self._restore()
        if error is not None:
            self.failed = True
            if isinstance(error, Exception):
                with contextlib.suppress(Exception):
                    error.add_note(f"sPyNNaker working folder kept for inspection: {self.path}")
        if not (self.keep or self.failed):
            shutil.rmtree(self.path, ignore_errors=True)
            _forget_report_folder_exit_hook()
        return False

    def _restore(self):
        sys.stdout, sys.stderr = self._streams
        if self._console is not None:
            with contextlib.suppress(Exception):
                self._console.close()
            self._console = None
        with contextlib.suppress(OSError):
            os.chdir(self._cwd)
        for name, value in self._env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        root = logging.getLogger()
        for handler in list(root.handlers):
            if handler not in self._root_handlers:
                root.removeHandler(handler)
                with contextlib.suppress(Exception):
                    handler.close()
        for handler in self._root_handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        for handler, filters, formatter in self._handler_state:
            handler.filters[:] = filters
            handler.setFormatter(formatter)
        root.setLevel(self._root_level)


def _forget_report_folder_exit_hook():
    """Unregister sPyNNaker's exit hook that writes an ``errored`` marker into the (removed) report folder.

    ``setup()`` registers ``UtilsDataWriter.write_errored_file`` with :mod:`atexit` every time;
    it writes into the latest report folder unless that holds a ``finished`` file.
    """
    with contextlib.suppress(Exception):
        import atexit

        from spinn_utilities.data.utils_data_writer import UtilsDataWriter

        atexit.unregister(UtilsDataWriter.write_errored_file)


def _take_spinnaker_warnings():
    """WARNING-and-above messages sPyNNaker stored during the run; detaches its log store.

    The store is a database in the temporary folder: without detaching it, sPyNNaker's exit
    handler would point the user at a deleted file.
    """
    messages = []
    with contextlib.suppress(Exception):
        from spinn_utilities.log import FormatAdapter

        store = getattr(FormatAdapter, "_FormatAdapter__log_store", None)
        if store is not None:
            with contextlib.suppress(Exception):
                messages = list(store.retreive_log_messages(logging.WARNING))
        FormatAdapter.set_log_store(None)
    return [str(m) for m in messages]


# ---------------------------------------------------------------------------------------------
# The backend


class SpinnakerBackend(PyNNBackend):
    """sPyNNaker 1!7.4.1: the virtual board (default) or a real board (``cfg_path``).

    Parameters
    ----------
    cfg_path
        ``None``: virtual board (the user's own sPyNNaker cfg files are never read). A path:
        a board cfg, validated now (:func:`validate_board_cfg`).
    keep_files
        Keep each run's temporary folder (cfg, reports, ``ds.sqlite3``, console log); default
        from the environment variable ``STDP_SPINNAKER_KEEP``.
    quiet
        Send sPyNNaker's console output (progress bars, logging) to a file in that folder.
    plastic_receptor
        Synapse type of the plastic synapse in "source" protocols (see the module docstring).
    """

    name = "spinnaker"
    module = "pyNN.spiNNaker"
    distribution = "sPyNNaker"
    dendritic_delay_fraction = 1.0  # synapse_dynamics_stdp.py rejects anything else
    firing_latency_steps = 1  # assumed as for NEST/Brian2; only a board run can confirm it

    def __init__(self, cfg_path=None, *, keep_files=None, quiet=True, plastic_receptor="inhibitory"):
        super().__init__()
        if plastic_receptor not in ("inhibitory", "excitatory"):
            raise ParameterError(f"plastic_receptor must be 'inhibitory' or 'excitatory'; got {plastic_receptor!r}")
        self.board = None if cfg_path is None else validate_board_cfg(cfg_path)
        if keep_files is None:
            keep_files = os.environ.get(KEEP_ENV, "").strip().lower() not in ("", "0", "false", "no")
        self.keep_files = bool(keep_files)
        self.quiet = bool(quiet)
        self.plastic_receptor = plastic_receptor

    @property
    def virtual(self):
        return self.board is None

    @property
    def machine(self):
        return "virtual board" if self.board is None else self.board.machine

    # -- availability ----------------------------------------------------------------------
    @classmethod
    def required_modules(cls):
        return ("pyNN", "spynnaker")

    # -- hooks ----------------------------------------------------------------------------------
    def setup(self, sim, protocol):
        sim.setup(timestep=protocol.timestep)

    def conventions_for(self, rule, protocol):
        from ..conventions import CONVENTIONS

        return CONVENTIONS["spinnaker"].with_timestep(protocol.timestep)

    def plastic_synapse(self, sim, rule, delay, weight):
        t = rule.timing
        if rule.is_nearest:
            timing_class = sim.extra_models.SpikeNearestPairRule
        elif type(t).__name__ == "SpikePairRule":
            timing_class = sim.SpikePairRule
        else:
            raise UnsupportedByBackend(f"{type(t).__name__} is not available on the {self.name!r} backend")
        weight_class = getattr(sim, type(rule.weight).__name__)
        return sim.STDPMechanism(
            timing_dependence=timing_class(tau_plus=t.tau_plus, tau_minus=t.tau_minus,
                                           A_plus=t.A_plus, A_minus=t.A_minus),
            weight_dependence=weight_class(w_min=rule.weight.w_min, w_max=rule.weight.w_max),
            weight=weight,
            delay=delay,
            dendritic_delay_fraction=self.dendritic_delay_fraction,
        )

    def versions(self):
        versions = {}
        for distribution in ("sPyNNaker", "SpiNNFrontEndCommon", "SpiNNMan", "SpiNNaker_PACMAN", "SpiNNMachine",
                             "SpiNNUtilities", "spalloc"):
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                versions[distribution] = importlib.metadata.version(distribution)
        return versions

    def environment(self):
        environment = super().environment()
        environment["machine"] = self.machine
        environment["board_output"] = not self.virtual
        return environment

    # -- building ---------------------------------------------------------------------------
    def receptor_for(self, protocol):
        return "excitatory" if protocol.network == "seed" else self.plastic_receptor

    def build(self, sim, protocol, rule, pre_trains, drive_trains, initial_weights):
        """One protocol's populations and projections, labelled with the protocol name."""
        n = len(pre_trains)
        tag = protocol.name
        static = sim.StaticSynapse
        lists = lambda trains: [[float(t) for t in train] for train in trains]  # noqa: E731
        if protocol.network == "source":
            pre = sim.Population(n, sim.SpikeSourceArray(spike_times=lists(pre_trains)), label=f"{tag}: pre")
            drive = sim.Population(n, sim.SpikeSourceArray(spike_times=lists(drive_trains)), label=f"{tag}: drive")
            post = sim.Population(n, sim.IF_curr_exp(**POST_CELL_PARAMETERS), label=f"{tag}: post")
            sim.Projection(drive, post, sim.OneToOneConnector(), static(weight=DRIVE_WEIGHT, delay=DRIVE_DELAY),
                           receptor_type="excitatory")
            pre_recorded = pre
        else:  # the seed notebook's network
            thalamic_pre = sim.Population(n, sim.SpikeSourceArray(spike_times=lists(pre_trains)),
                                          label=f"{tag}: thalamic pre")
            thalamic_post = sim.Population(n, sim.SpikeSourceArray(spike_times=lists(drive_trains)),
                                           label=f"{tag}: thalamic post")
            pre = sim.Population(n, sim.IF_cond_exp(), label=f"{tag}: pre cell")
            post = sim.Population(n, sim.IF_cond_exp(), label=f"{tag}: post cell")
            for source, target in ((thalamic_pre, pre), (thalamic_post, post)):
                sim.Projection(source, target, sim.OneToOneConnector(),
                               static(weight=SEED_DRIVE_WEIGHT, delay=protocol.timestep), receptor_type="excitatory")
            pre_recorded = pre
            if protocol.record_traces:
                for population in (pre, post):
                    population.record(list(protocol.record_traces))
        receptor = self.receptor_for(protocol)
        uniform = len(set(initial_weights)) == 1
        synapse = self.plastic_synapse(sim, rule, protocol.delay, initial_weights[0] if uniform else rule.weight.w_min)
        if uniform:
            connector = sim.OneToOneConnector()
        else:
            connector = sim.FromListConnector(
                [(i, i, float(w), float(protocol.delay)) for i, w in enumerate(initial_weights)],
                column_names=["weight", "delay"],
            )
        plastic = sim.Projection(pre, post, connector, synapse, receptor_type=receptor)
        pre_recorded.record("spikes")
        post.record("spikes")
        return {"pre": pre, "post": post, "pre_recorded": pre_recorded, "plastic": plastic, "receptor": receptor}

    def read_weights(self, projection, n):
        weights = np.full(n, np.nan)
        for i, j, w in projection.get("weight", format="list", with_address=True):
            if i == j and i < n:
                weights[int(i)] = float(w)
        return weights

    # -- running ---------------------------------------------------------------------------------
    def run(self, protocol, rule=None):
        """Run one protocol (under ``rule`` if given); see :meth:`run_many`."""
        return self.run_many([(protocol, rule)])[0]

    def prepare(self, protocol, rule=None):
        """Check and prepare one protocol; raises before anything is built."""
        if rule is not None and rule != protocol.rule:
            protocol = protocol.with_rule(rule)
        self.check_rule(protocol.rule)
        conventions = self.conventions_for(protocol.rule, protocol)
        pre_trains, drive_trains = self.input_trains(protocol, conventions)
        for pre in pre_trains:
            if pre and pre[-1] >= protocol.t_stop:
                raise UnsupportedByBackend(
                    f"protocol {protocol.name!r}: the trailing presynaptic spike at {pre[-1]} ms needs "
                    f"t_stop > {pre[-1]} ms; got t_stop = {protocol.t_stop} ms"
                )
        initial = [case.initial_weight for case in protocol.cases]
        return _Prepared(protocol, conventions, pre_trains, drive_trains, initial)

    def run_many(self, protocols_with_rules):
        """Run many protocols as ONE sPyNNaker network and ONE ``run()`` per timestep.

        ``protocols_with_rules``: protocols, or ``(protocol, rule)`` pairs (``rule`` may be
        ``None``). Protocols are grouped by timestep (one simulation has one timestep); each
        group is one ``setup()``/``run()``/``end()`` lasting its longest ``t_stop``. Returns
        one :class:`~stdp_validation.observation.Observation` per input, in input order.

        Everything is checked before anything runs. If a group fails, its protocols are
        retried one by one to find the culprit; :class:`SpinnakerRunError` then names every
        failing protocol and carries the observations of the others.
        """
        items = []
        for entry in protocols_with_rules:
            protocol, rule = (entry, None) if not isinstance(entry, (tuple, list)) else tuple(entry)
            items.append(self.prepare(protocol, rule))
        if not items:
            return []
        names = [item.protocol.name for item in items]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ParameterError(
                f"run_many: protocol names must be unique within one network (population labels); "
                f"got {', '.join(duplicates)} more than once"
            )
        groups = {}
        for index, item in enumerate(items):
            groups.setdefault(item.protocol.timestep, []).append(index)
        observations = [None] * len(items)
        errors = {}
        sim = self.import_simulator()
        for timestep, indices in groups.items():
            group = [items[i] for i in indices]
            note = _group_note(group, timestep, len(groups))
            try:
                results = self._run_group(sim, group, note)
            except Exception as error:  # noqa: BLE001 - narrowed down below
                if len(group) == 1:
                    errors[group[0].protocol.name] = error
                    continue
                results = []
                for item in group:
                    try:
                        results.append(self._run_group(sim, [item], _group_note([item], timestep, 1) +
                                                       f" (the shared run of {len(group)} protocols failed: {error})"))
                    except Exception as single_error:  # noqa: BLE001
                        errors[item.protocol.name] = single_error
                        results.append(None)
            for index, observation in zip(indices, results):
                observations[index] = observation
        if errors:
            detail = "; ".join(f"{name}: {type(error).__name__}: {error}" for name, error in errors.items())
            raise SpinnakerRunError(f"sPyNNaker failed for protocol(s) {', '.join(errors)}: {detail}", errors,
                                    observations)
        return observations

    def _run_group(self, sim, group, note):
        timings = {}
        t_run = max(item.protocol.t_stop for item in group)
        timestep = group[0].protocol.timestep
        per_protocol = [dict() for _ in group]
        readouts = []
        with warnings.catch_warnings():
            for module in (r"pyNN(\..*)?", r"neo(\..*)?", r"spynnaker(\..*)?", r"spinn_.*", r"pacman(\..*)?"):
                warnings.filterwarnings("ignore", category=UserWarning, module=module)
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
            workspace = _Workspace(self.board, self.keep_files, self.quiet)
            with workspace:
                ended = False
                try:
                    started = time.perf_counter()
                    sim.setup(timestep=timestep)
                    timings["setup"] = time.perf_counter() - started
                    networks = []
                    for item, own in zip(group, per_protocol):
                        started = time.perf_counter()
                        networks.append(self.build(sim, item.protocol, item.protocol.rule, item.pre_trains,
                                                   item.drive_trains, item.initial))
                        own["build"] = time.perf_counter() - started
                    started = time.perf_counter()
                    sim.run(t_run)
                    timings["run"] = time.perf_counter() - started
                    from spynnaker.pyNN.data import SpynnakerDataView

                    database = SpynnakerDataView.get_ds_database_path()
                    for item, network, own in zip(group, networks, per_protocol):
                        started = time.perf_counter()
                        readout = self._read(item, network)
                        own["readout"] = time.perf_counter() - started
                        started = time.perf_counter()
                        # After a board run Projection.get returns learned weights, not initial ones.
                        encoding = read_encoding(item.protocol, network, database,
                                                 readout["weights"] if self.virtual else None)
                        encoding["simultaneous_source_spikes"] = [
                            _most_simultaneous(trains, item.protocol.timestep, label)
                            for label, trains in (("pre", item.pre_trains), ("drive", item.drive_trains))
                        ]
                        readout["checks"] = virtual_board_checks(item.protocol, encoding)
                        own["checks"] = time.perf_counter() - started
                        readouts.append(readout)
                    started = time.perf_counter()
                    sim.end()
                    ended = True
                    timings["end"] = time.perf_counter() - started
                finally:
                    if not ended:
                        with contextlib.suppress(Exception):
                            sim.end()
                    spinnaker_warnings = _take_spinnaker_warnings()
        observations = []
        for item, readout, own in zip(group, readouts, per_protocol):
            observation = self._observation(item, readout, {**timings, **own}, t_run, note, spinnaker_warnings,
                                            workspace.path if self.keep_files else None)
            observations.append(observation)
        return observations

    def _read(self, item, network):
        n = len(item.protocol.cases)
        weights = self.read_weights(network["plastic"], n)
        missing = [i for i in range(n) if not np.isfinite(weights[i])]
        if missing:
            raise RuntimeError(
                f"protocol {item.protocol.name!r}: Projection.get returned no weight for case(s) "
                f"{[item.protocol.cases[i].label for i in missing[:5]]}"
            )
        from .pynn_runner import _spike_trains, _traces

        readout = {"weights": weights, "spike_note": ""}
        try:
            readout["pre"] = _spike_trains(network["pre_recorded"])[:n]
            readout["post"] = _spike_trains(network["post"])[:n]
        except Exception as error:  # noqa: BLE001
            if not self.virtual:
                raise
            readout["pre"], readout["post"] = [[] for _ in range(n)], [[] for _ in range(n)]
            readout["spike_note"] = f"spike read-out failed on the virtual board: {type(error).__name__}: {error}"
        for side in ("pre", "post"):
            if len(readout[side]) != n:
                if not self.virtual:
                    raise RuntimeError(f"protocol {item.protocol.name!r}: {len(readout[side])} {side} spike trains "
                                       f"recorded for {n} cells")
                readout[side] = [[] for _ in range(n)]
        readout["traces"] = {}
        if item.protocol.record_traces and not self.virtual:
            readout["traces"] = _traces(network, item.protocol.record_traces, n)
        return readout

    def _observation(self, item, readout, timings, t_run, note, spinnaker_warnings, kept):
        protocol = item.protocol
        checks = readout["checks"]
        notes = [note]
        environment = self.environment()
        if self.virtual:
            spikes = sum(len(t) for t in readout["pre"]) + sum(len(t) for t in readout["post"])
            notes += [
                "virtual board: sPyNNaker mapped this network and generated its data (ring-buffer shifts, "
                "weight scales, the encoded STDP region, the initial synaptic matrix); nothing was loaded or run.",
                f"NOT board output: the spike trains are what the virtual board returns ({spikes} spikes: no "
                "simulation) and final_weights are the INITIAL weights as the host quantised them "
                "(rint(w·scale)/scale, Projection.get before any run): they say nothing about learning.",
                "not checked without a board: spikes, learned weights, post firing latency, the on-chip synapse "
                "expander (round-half-up of initial weights), late or dropped spikes, lookup-table DTCM limits.",
            ]
        if readout["spike_note"]:
            notes.append(readout["spike_note"])
        notes.extend(check_summary(checks))
        if kept is not None:
            notes.append(f"sPyNNaker working folder kept: {kept}")
        environment["spinnaker_warnings"] = spinnaker_warnings
        expected_virtual = "Data from a virtual run will be empty"
        counts = {}
        for message in spinnaker_warnings:
            if not (self.virtual and message == expected_virtual):
                counts[message] = counts.get(message, 0) + 1
        notes += [f"sPyNNaker warned during the shared run: {m}" + (f" (×{c})" if c > 1 else "")
                  for m, c in counts.items()]
        observation = Observation(
            backend=self.name,
            protocol=protocol,
            conventions=item.conventions,
            pre_spike_times=[list(map(float, t)) for t in readout["pre"]],
            post_spike_times=[list(map(float, t)) for t in readout["post"]],
            final_weights=[float(w) for w in readout["weights"]],
            initial_weights=[float(w) for w in item.initial],
            intended_post_times=[list(case.post_drive_times) for case in protocol.cases],
            delay=protocol.delay,
            t_stop=t_run,
            traces=readout["traces"],
            timings=timings,
            environment=environment,
            notes=notes,
        )
        attach_checks(observation, checks)
        return observation


@dataclass
class _Prepared:
    protocol: object
    conventions: object
    pre_trains: list
    drive_trains: list
    initial: list


def _most_simultaneous(trains, timestep, label):
    """The time step in which one ``SpikeSourceArray`` population sends the most spikes.

    Ticks as sPyNNaker computes them: ceil(floor(t·1000)/dt_µs) (facts §7).
    """
    dt_us = math.ceil(timestep * 1000.0)
    counts = {}
    for train in trains:
        for t in train:
            tick = math.ceil(math.floor(t * 1000.0) / dt_us)
            counts[tick] = counts.get(tick, 0) + 1
    if not counts:
        return {"population": label, "time_ms": None, "count": 0}
    tick, count = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
    return {"population": label, "time_ms": round(tick * dt_us / 1000.0, 6), "count": count}


def _group_note(group, timestep, n_groups):
    names = [item.protocol.name for item in group]
    t_run = max(item.protocol.t_stop for item in group)
    text = (f"one sPyNNaker network and run for protocol(s) {', '.join(names)} at timestep {timestep:g} ms, "
            f"run length {t_run:g} ms (the longest t_stop)")
    if n_groups > 1:
        text += f"; {n_groups} runs in all, one per timestep"
    return text


def attach_checks(observation, checks):
    """Store the check records with the observation (saved with its JSON)."""
    observation.checks = [c.to_dict() if isinstance(c, Check) else dict(c) for c in checks]
    return observation


def check_summary(checks):
    """Lines for ``Observation.notes``: counts and every failed or skipped check."""
    real = [c for c in checks if c.kind == "check"]
    passed = sum(c.passed is True for c in real)
    failed = [c for c in real if c.passed is False]
    skipped = [c for c in real if c.passed is None]
    lines = [f"toolchain checks: {passed} passed, {len(failed)} failed, {len(skipped)} not checked "
             f"(of {len(real)}); {sum(c.kind == 'divergence' for c in checks)} cross-backend divergence(s) reported"]
    lines += [f"check FAILED: {c.name}: expected {c.expected!r}, observed {c.observed!r} ({c.reason})" for c in failed]
    lines += [f"check not made: {c.name}: {c.reason}" for c in skipped[:3]]
    lines += [f"divergence: {c.name}: {c.reason}" for c in checks if c.kind == "divergence"]
    lines += [f"warning: {c.name}: observed {c.observed!r}, expected {c.expected!r} ({c.reason})"
              for c in checks if c.kind == "info" and c.passed is False]
    return lines


def is_board_observation(observation):
    """Whether an observation holds data from a board (``False`` for the virtual board).

    Observations of other backends are simulator output and count as "board" here (their
    weights are learned weights).
    """
    environment = getattr(observation, "environment", {}) or {}
    if "board_output" in environment:
        return bool(environment["board_output"])
    return environment.get("machine") != "virtual board"


# ---------------------------------------------------------------------------------------------
# Reading what sPyNNaker generated (live objects, before end())


def read_encoding(protocol, network, ds_database, initial_weights_read=None):
    """Everything the checks need from a mapped network, as plain JSON-ready data.

    Read after ``sim.run`` and before ``sim.end``: the post population's ring-buffer shifts,
    weight scales and global weight scale; the binaries of its cores; the raw words of the
    synapse-dynamics region of every post core from the data-spec database ``ds_database``;
    the initial weights as ``Projection.get`` returns them; the plastic projection's
    delay-extension stages; and sPyNNaker's own host encodings of the rule (lookup tables,
    S16.15) for comparison. ``initial_weights_read``: the weights ``Projection.get`` returned
    on the virtual board (the initial ones); ``None`` after a board run.
    """
    from spinn_front_end_common.interface.ds import DataType
    from spynnaker.pyNN.data import SpynnakerDataView as view
    from spynnaker.pyNN.models.neuron.plasticity.stdp.common import get_exp_lut_array
    from spynnaker.pyNN.models.neuron.population_machine_vertex import PopulationMachineVertex

    post, projection, receptor = network["post"], network["plastic"], network["receptor"]
    vertex = post._vertex
    shifts = [int(s) for s in vertex.get_ring_buffer_shifts()]
    scales = [float(s) for s in vertex.get_weight_scales(np.asarray(shifts))]
    g = float(vertex.neuron_impl.get_global_weight_scale())
    synapse_type = int(vertex.get_synapse_id_by_target(receptor))
    dt_us = int(view.get_simulation_time_step_us())
    dt_ms = float(view.get_simulation_time_step_ms())
    dynamics = vertex.synapse_dynamics
    cores, binaries = [], []
    connection = sqlite3.connect(f"file:{ds_database}?mode=ro", uri=True)
    try:
        for machine_vertex in vertex.machine_vertices:
            placement = view.get_placement_of_vertex(machine_vertex)
            binary = machine_vertex.get_binary_file_name()
            binaries.append(binary)
            regions = getattr(machine_vertex, "_synapse_regions", None)
            if regions is None:
                continue
            region = int(regions.synapse_dynamics)
            row = connection.execute(
                "SELECT content, reference_num, size FROM region WHERE x = ? AND y = ? AND p = ? AND region_num = ?",
                (placement.x, placement.y, placement.p, region),
            ).fetchone()
            words = None
            if row is not None and row[0] is not None:
                words = np.frombuffer(bytes(row[0]), dtype="<u4").tolist()
            cores.append({
                "core": [int(placement.x), int(placement.y), int(placement.p)],
                "vertex": type(machine_vertex).__name__,
                "binary": binary,
                "region": region,
                "found": row is not None,
                "size": None if row is None else int(row[2]),
                "words": words,
            })
    finally:
        connection.close()
    found = {}
    for binary in sorted(set(binaries)):
        try:
            view.get_executable_path(binary)
            found[binary] = True
        except KeyError:
            found[binary] = False
    edge = getattr(projection, "_Projection__projection_edge", None)
    delay_stages = None if edge is None else int(edge.n_delay_stages)
    rule = protocol.rule
    timing, bounds = rule.timing, rule.weight
    amplitude_scale = 1.0 if rule.is_multiplicative else g
    readback = None if initial_weights_read is None else [float(w) for w in initial_weights_read]
    return {
        "population": post.label,
        "cell_type": type(post.celltype).__name__,
        "receptor": receptor,
        "synapse_type": synapse_type,
        "n_synapse_types": len(shifts),
        "global_weight_scale": g,
        "ring_buffer_shifts": shifts,
        "weight_scales": scales,
        "timestep_us": dt_us,
        "timestep_ms": dt_ms,
        "backprop_delay": bool(dynamics.backprop_delay),
        "synapse_dynamics_region_enum": int(PopulationMachineVertex.REGIONS.SYNAPSE_DYNAMICS.value),
        "binaries": sorted(set(binaries)),
        "binaries_found": found,
        "cores": cores,
        "delay_stages": delay_stages,
        "initial_weights_read": readback,
        "host_reference": {
            "tau_plus_lut_words": get_exp_lut_array(dt_ms, timing.tau_plus).astype(np.uint32).tolist(),
            "tau_minus_lut_words": get_exp_lut_array(dt_ms, timing.tau_minus).astype(np.uint32).tolist(),
            "s1615": {
                "w_min": DataType.S1615.encode_as_int(bounds.w_min * g),
                "w_max": DataType.S1615.encode_as_int(bounds.w_max * g),
                "a_plus": DataType.S1615.encode_as_int(timing.A_plus * amplitude_scale),
                "a_minus": DataType.S1615.encode_as_int(timing.A_minus * amplitude_scale),
            },
        },
    }


# ---------------------------------------------------------------------------------------------
# Decoding and checks (pure functions of the protocol and the encoding)


def decode_synapse_dynamics_region(words, n_synapse_types):
    """Split the raw 32-bit words of region 7 into its parts (facts §2).

    Returns ``{"backprop_delay", "tau_plus": {"size", "shift", "entries"}, "tau_minus": …,
    "per_type": [[w_min, w_max, A+, A−] raw S16.15 per synapse type], "extra_words"}``.
    Raises ``ValueError`` if the words do not have that shape.
    """
    words = np.asarray(words, dtype=np.uint32)
    position = 0

    def take(count, what):
        nonlocal position
        if position + count > len(words):
            raise ValueError(f"region ends after {len(words)} words while reading {what}")
        chunk = words[position:position + count]
        position += count
        return chunk

    backprop = int(take(1, "the backprop_delay word")[0])
    tables = {}
    for name in ("tau_plus", "tau_minus"):
        header = int(take(1, f"the {name} table header")[0])
        size, shift = header & 0xFFFF, header >> 16
        if size % 2:
            raise ValueError(f"{name} table size {size} is odd (sPyNNaker pads tables to an even size)")
        entries = take(size // 2, f"the {name} table").view(np.uint16).astype(np.int64)
        tables[name] = {"size": size, "shift": shift, "entries": entries.tolist()}
    per_type = take(4 * n_synapse_types, "the weight-dependence words").astype(np.uint32).view(np.int32)
    return {
        "backprop_delay": backprop,
        "tau_plus": tables["tau_plus"],
        "tau_minus": tables["tau_minus"],
        "per_type": per_type.reshape(n_synapse_types, 4).astype(np.int64).tolist(),
        "extra_words": int(len(words) - position),
    }


def _lut_from_words(words):
    half = np.asarray(words, dtype=np.uint32).view(np.uint16).astype(np.int64)
    return {"size": int(half[0]), "shift": int(half[1]), "entries": half[2:].tolist()}


def _compare_lists(expected, observed):
    expected, observed = list(expected), list(observed)
    if len(expected) != len(observed):
        return False, f"lengths differ: expected {len(expected)}, observed {len(observed)}"
    for k, (e, o) in enumerate(zip(expected, observed)):
        if e != o:
            return False, f"first difference at index {k}: expected {e}, observed {o}"
    return True, f"all {len(expected)} equal"


def _lut_summary(entries):
    entries = list(entries)
    if len(entries) <= 6:
        return {"size": len(entries), "entries": entries}
    return {"size": len(entries), "first": entries[:3], "last": entries[-3:]}


def virtual_board_checks(protocol, encoding):
    """Check records (:class:`Check`) for one protocol from what sPyNNaker generated.

    ``encoding`` is :func:`read_encoding`'s result. Compares the encoded STDP region with the
    rule (facts §1, §2), sPyNNaker's own host encoders and the fixed-point model
    (:func:`fixedpoint_checks`); the weight scale and LSB; the initial weight quantisation;
    the design rule on A versus the LSB; and reports the amplitude convention against
    NEST/Brian2. Valid on the virtual board and on a board alike.
    """
    name = protocol.name
    rule = protocol.rule
    timing, bounds = rule.timing, rule.weight
    checks = []
    add = lambda *args, **kwargs: checks.append(_check(name, *args, **kwargs))  # noqa: E731

    binaries = encoding["binaries"]
    add("network maps", "placed, routed and data generated",
        f"{len(encoding['cores'])} post core(s) with synapse processing; binaries {', '.join(binaries)}", True,
        "sPyNNaker's mapping (partitioning, placement, routing, binary search, data specification) finished "
        f"for population {encoding['population']!r}")
    found = encoding.get("binaries_found", {})
    missing = sorted(b for b, ok in found.items() if not ok)
    add("binaries exist in the installed sPyNNaker", "every binary of the post cores",
        "all found" if not missing else f"missing: {', '.join(missing)}", None if not found else not missing,
        "the virtual board chooses binaries but never loads them; a board run fails to load a missing one "
        "(7.4.1 ships no combined IF_cond_exp binary for multiplicative STDP, for example)")
    add("synapse dynamics region number", EXPECTED_SYNAPSE_DYNAMICS_REGION,
        sorted({c["region"] for c in encoding["cores"]}) or None,
        bool(encoding["cores"]) and all(c["region"] == EXPECTED_SYNAPSE_DYNAMICS_REGION for c in encoding["cores"]),
        "REGIONS.SYNAPSE_DYNAMICS of the post cores (facts §2: region 7 in 1!7.4.1)")

    # -- weight scale, LSB ------------------------------------------------------------------
    conductance = "cond" in encoding["cell_type"].lower()  # IF_cond_exp is IFCondExpBase
    g_expected = 1024.0 if conductance else 1.0
    g = encoding["global_weight_scale"]
    add("global weight scale g", g_expected, g, g == g_expected,
        f"{encoding['cell_type']}: 1024 for conductance-based input, 1 for current-based (facts §1)")
    syn = encoding["synapse_type"]
    shift = encoding["ring_buffer_shifts"][syn]
    scale = encoding["weight_scales"][syn]
    add(f"weight scale of the {encoding['receptor']} synapse type", 2.0 ** (15 - shift) * g, scale,
        scale == 2.0 ** (15 - shift) * g, f"2^(15−s)·g with ring-buffer shift s = {shift} (facts §1)")
    lsb = 1.0 / scale if scale else float("nan")
    add("weight LSB", {"ring_buffer_shift": shift, "lsb": 2.0 ** (shift - 15) / g},
        {"ring_buffer_shift": shift, "lsb": lsb}, None if not scale else lsb == 2.0 ** (shift - 15) / g,
        f"LSB_w = 2^(s−15)/g; every ring-buffer shift of {encoding['population']!r}: "
        f"{encoding['ring_buffer_shifts']}",
        kind="info")
    if rule.is_multiplicative:
        a_weight = max(abs(timing.A_plus), abs(timing.A_minus)) * (bounds.w_max - bounds.w_min)
        what = "max(A+, A−)·(w_max − w_min)"
    else:
        a_weight = max(abs(timing.A_plus), abs(timing.A_minus))
        what = "max(A+, A−) (absolute, weight units)"
    in_lsb = a_weight / lsb if scale else float("nan")
    add("amplitude resolution (design rule)", f">= {MIN_AMPLITUDE_IN_LSB} LSB", round(in_lsb, 3),
        in_lsb >= MIN_AMPLITUDE_IN_LSB,
        f"{what} = {a_weight:g} spans {in_lsb:.3g} weight LSBs of {lsb:.3g}; below {MIN_AMPLITUDE_IN_LSB} the "
        "floor at every write-back (up to 1 LSB per pre spike) dominates the learned change (DESIGN.md §4)")
    largest = bounds.w_max * scale
    add("w_max fits the 16-bit weight", "<= 65535", largest, largest <= 0xFFFF,
        "stored weights are uint16 (facts §1)")
    stages = encoding["delay_stages"]
    add("no delay-extension stage", 0, stages, None if stages is None else stages == 0,
        "delays beyond the post core's ring buffer go through a delay extension, which acts as an axonal delay "
        "for STDP; neither the float nor the fixed-point model handles it (facts §6)")

    bursts = encoding.get("simultaneous_source_spikes")
    if bursts:
        worst = max(bursts, key=lambda b: b["count"])
        add("simultaneous spikes per SpikeSourceArray", f"<= {TOO_MANY_SIMULTANEOUS_SPIKES}", worst,
            worst["count"] <= TOO_MANY_SIMULTANEOUS_SPIKES,
            "sPyNNaker warns above this many spikes of one source population in one time step (\"Danger of "
            "SpikeSourceArray sending too many spikes at the same time\"): on a board they can arrive late and be "
            "dropped, losing STDP events; harmless on the virtual board", kind="info")

    # -- initial weights --------------------------------------------------------------------
    initial = np.asarray([case.initial_weight for case in protocol.cases], dtype=float)
    if encoding["initial_weights_read"] is None:
        add("initial weights quantised", "rint(w·scale)/scale for every synapse", None, None,
            "not checkable after a board run (Projection.get returns the learned weights); checked on the "
            "virtual board")
    else:
        readback = np.asarray(encoding["initial_weights_read"], dtype=float)
        if scale and len(readback) == len(initial):
            expected = np.rint(np.abs(initial) * scale) / scale
            bad = np.flatnonzero(expected != readback)
            add("initial weights quantised", "rint(w·scale)/scale for every synapse",
                "all equal" if not len(bad) else f"{len(bad)} differ, first case {protocol.cases[bad[0]].label!r}: "
                f"{readback[bad[0]]!r} for {expected[bad[0]]!r}",
                not len(bad), "host encoding of the initial weight, round-half-even (facts §1); largest "
                f"quantisation error {float(np.max(np.abs(readback - initial))):.3g} ≤ LSB/2 = {lsb / 2:.3g}")
        else:
            add("initial weights quantised", len(initial), len(readback), False, "one read-back weight per case")

    # -- the encoded STDP region ------------------------------------------------------------------
    dt_ms = encoding["timestep_ms"]
    host = encoding["host_reference"]
    host_luts = {"tau_plus": _lut_from_words(host["tau_plus_lut_words"]),
                 "tau_minus": _lut_from_words(host["tau_minus_lut_words"])}
    n_types = encoding["n_synapse_types"]
    taus = {"tau_plus": timing.tau_plus, "tau_minus": timing.tau_minus}
    s1615 = host["s1615"]
    expected_per_type = [s1615["w_min"], s1615["w_max"], s1615["a_plus"], s1615["a_minus"]]
    decoded_cores = []
    for core in encoding["cores"]:
        where = f"core {tuple(core['core'])}"
        if core["words"] is None:
            add(f"STDP region present ({where})", "region content", "no content" if core["found"] else "no row",
                False if not core["found"] else None,
                "data-spec database row of the synapse-dynamics region (a shared synapse core references the lead's)")
            continue
        try:
            decoded = decode_synapse_dynamics_region(core["words"], n_types)
        except ValueError as error:
            add(f"STDP region decodes ({where})", "backprop word, 2 tables, 4 words per synapse type",
                f"{len(core['words'])} words", False, str(error))
            continue
        decoded_cores.append((core, decoded))
        size_expected = 4 * (1 + 1 + decoded["tau_plus"]["size"] // 2 + 1 + decoded["tau_minus"]["size"] // 2
                             + 4 * n_types)
        add(f"STDP region size ({where})", size_expected, 4 * len(core["words"]),
            size_expected == 4 * len(core["words"]) and decoded["extra_words"] == 0,
            "1 backprop word + 2 tables (header word + size/2 words) + 4 S16.15 words per synapse type (facts §2)")
        add(f"backprop_delay word ({where})", int(encoding["backprop_delay"]), decoded["backprop_delay"],
            decoded["backprop_delay"] == int(encoding["backprop_delay"]) == 1,
            "post spikes are shifted by the dendritic delay (backprop_delay=True, the default; facts §6)")
        for table in ("tau_plus", "tau_minus"):
            got = decoded[table]
            length = exponential_table_length(taus[table], dt_ms)
            add(f"{table} table size ({where})", {"size": length, "shift": 0},
                {"size": got["size"], "shift": got["shift"]}, got["size"] == length and got["shift"] == 0,
                f"ln(2048)·τ/dt rounded up to even, τ = {taus[table]:g} ms, dt = {dt_ms:g} ms; the float reference "
                "model cuts exponentials at this length (conventions.exponential_table_length)")
            ok, detail = _compare_lists(host_luts[table]["entries"], got["entries"])
            add(f"{table} table equals sPyNNaker's get_exp_lut_array ({where})",
                _lut_summary(host_luts[table]["entries"]), _lut_summary(got["entries"]),
                ok and host_luts[table]["size"] == got["size"], detail)
        for t, words in enumerate(decoded["per_type"]):
            add(f"weight-dependence words, synapse type {t} ({where})",
                dict(zip(("w_min", "w_max", "A_plus", "A_minus"), expected_per_type)),
                dict(zip(("w_min", "w_max", "A_plus", "A_minus"), words)), words == expected_per_type,
                "S16.15 of w_min·g, w_max·g and "
                + ("A+, A− (multiplicative: dimensionless)" if rule.is_multiplicative
                   else "A+·g, A−·g (additive: absolute)")
                + ", encoded as sPyNNaker's DataType.S1615 does (round-half-even on the decimal value; facts §1)")

    # -- the amplitude convention against NEST/Brian2 ---------------------------------------------------
    if decoded_cores and not rule.is_multiplicative:
        observed = decoded_cores[0][1]["per_type"][syn][2]
        absolute = round(timing.A_plus * g * S1615_ONE)
        scaled = round(timing.A_plus * bounds.w_max * g * S1615_ONE)
        distinguishable = absolute != scaled
        add("A+ term is absolute (no w_max factor)", absolute, observed,
            (observed == absolute) if distinguishable else None,
            f"round(A+·g·2^15) = {absolute}; with a w_max factor it would be {scaled}"
            + ("" if distinguishable else " (w_max·g = g here, so this rule cannot tell the two apart)"))
        add("amplitude convention", "NEST/pyNN.brian2: Δw = A·w_max·kernel", "sPyNNaker: Δw = A·kernel",
            True,
            f"cross-backend divergence (CONVENTIONS amplitude_scaling 'w_max' vs 'absolute'): the same PyNN "
            f"A_plus = {timing.A_plus:g} gives {timing.A_plus * bounds.w_max:g} per unit kernel on NEST/Brian2 "
            f"and {timing.A_plus:g} on SpiNNaker (w_max = {bounds.w_max:g}); modelled by the reference, not a failure",
            kind="divergence")
    checks.extend(fixedpoint_checks(protocol, encoding))
    add("sPyNNaker encoding", "what the checks were computed from", encoding, True,
        "raw data read from the mapped network (read_encoding); virtual_board_checks(protocol, this) repeats every "
        "check offline", kind="info")
    return checks


def encoding_from_checks(checks):
    """The :func:`read_encoding` data stored in a list of check records (``None`` if absent)."""
    for check in checks:
        record = check.to_dict() if isinstance(check, Check) else check
        if record.get("name") == "sPyNNaker encoding" and record.get("kind") == "info":
            return record.get("observed")
    return None


def fixedpoint_checks(protocol, encoding):
    """The encoding sPyNNaker generated against :mod:`stdp_validation.fixedpoint` (imported lazily).

    Returns one record with ``passed=None`` and reason :data:`FIXEDPOINT_MISSING` while the
    module (or one of its functions) is not available.
    """
    name = protocol.name
    try:
        from .. import fixedpoint

        encode_rule, exp_lut = fixedpoint.encode_rule, fixedpoint.exp_lut
        weight_lsb, encode_weight = fixedpoint.weight_lsb, fixedpoint.encode_weight
        stored_weight_to_pynn = fixedpoint.stored_weight_to_pynn
    except (ImportError, AttributeError) as error:
        return [_check(name, "fixed-point model encoding", "stdp_validation.fixedpoint", None, None,
                       f"{FIXEDPOINT_MISSING} ({type(error).__name__}: {error})")]
    checks = []
    add = lambda *args, **kwargs: checks.append(_check(name, *args, **kwargs))  # noqa: E731
    rule = protocol.rule
    conductance = encoding["global_weight_scale"] == fixedpoint.CONDUCTANCE_WEIGHT_SCALE
    dt = encoding["timestep_us"] / 1000.0
    try:
        encoded = encode_rule(rule, protocol.timestep, conductance_based=conductance)
    except Exception as error:  # noqa: BLE001 - reported as a failed check
        return [_check(name, "fixedpoint.encode_rule", "an encoding", f"{type(error).__name__}: {error}", False,
                       "the fixed-point model could not encode the rule")]
    syn = encoding["synapse_type"]
    shift = encoding["ring_buffer_shifts"][syn]
    n_types = encoding["n_synapse_types"]
    expected_words = np.asarray(encoded.region_words(n_types, backprop_delay=encoding["backprop_delay"]),
                                dtype=np.uint32).tolist()
    for core in encoding["cores"]:
        if core["words"] is None:
            continue
        where = f"core {tuple(core['core'])}"
        ok, detail = _compare_lists(expected_words, core["words"])
        add(f"STDP region equals fixedpoint.encode_rule(...).region_words ({where})", f"{len(expected_words)} words",
            f"{len(core['words'])} words", ok, detail + " (32-bit words, whole region)")
        try:
            decoded = decode_synapse_dynamics_region(core["words"], n_types)
        except ValueError:
            continue
        for table, tau in (("tau_plus", rule.timing.tau_plus), ("tau_minus", rule.timing.tau_minus)):
            model = exp_lut(tau, dt).tolist()
            ok, detail = _compare_lists(model, decoded[table]["entries"])
            add(f"{table} table equals fixedpoint.exp_lut ({where})", _lut_summary(model),
                _lut_summary(decoded[table]["entries"]), ok, detail)
        words = decoded["per_type"][syn]
        model = [encoded.w_min_bits, encoded.w_max_bits, encoded.a_plus_bits, encoded.a_minus_bits]
        add(f"S16.15 words equal fixedpoint.encode_rule ({where})",
            dict(zip(("w_min", "w_max", "A_plus", "A_minus"), model)),
            dict(zip(("w_min", "w_max", "A_plus", "A_minus"), words)), words == model,
            "w_min·g, w_max·g, A+ and A− terms of the plastic synapse type")
    scale = encoding["weight_scales"][syn]
    model_lsb = weight_lsb(shift, conductance)
    add("weight LSB equals fixedpoint.weight_lsb", model_lsb, 1.0 / scale, model_lsb == 1.0 / scale,
        f"ring-buffer shift s = {shift}, conductance_based = {conductance}")
    readback = encoding["initial_weights_read"]
    if readback is not None:
        initial = [case.initial_weight for case in protocol.cases]
        model = [float(stored_weight_to_pynn(encode_weight(w, shift, conductance), shift, conductance))
                 for w in initial]
        ok, detail = _compare_lists(model, readback)
        add("initial weights equal the fixed-point model's", "stored_weight_to_pynn(encode_weight(w0))",
            "Projection.get before any run", ok, detail)
    return checks
