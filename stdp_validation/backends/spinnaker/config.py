"""SpiNNaker cfg files: finding the user's board, validating a board cfg, writing a run's cfg.

sPyNNaker reads its configuration at every ``setup()`` (``spinn_utilities/config_setup.py``,
sPyNNaker 1!7.4.1): the package defaults, exactly one *user* cfg
(``$XDG_CONFIG_DIRS``, ``$XDG_CONFIG_HOME`` or ``~``, ``.spynnaker.cfg``) and
``./spynnaker.cfg`` in the working directory, read strictly (an unknown option is an error).
Option names ignore case and underscores (``CamelCaseConfigParser``).

A board is named in ``[Machine]`` by exactly one of ``machine_name`` (+ ``version`` 3 or 5),
``spalloc_server`` (version 5) or ``remote_spinnaker_url``
(``spinn_machine/version/version_factory.py``). Spalloc credentials belong in the environment
(``SPALLOC_USER``, ``SPALLOC_PASSWORD``), never in a cfg, which the suite archives with its runs.
"""

from __future__ import annotations

import configparser
import importlib.util
import io
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ...errors import ParameterError

#: SpiNNaker-1 board versions (the fixed-point model describes SpiNNaker-1 binaries).
SUPPORTED_VERSIONS = (3, 5)
MACHINE_OPTIONS = ("machine_name", "spalloc_server", "remote_spinnaker_url")
#: Why board tests skip when no board is configured.
NO_BOARD_REASON = (
    "no SpiNNaker board configured: pass --spinnaker-cfg PATH with [Machine] machine_name + version, "
    "or spalloc_server (or name the machine in your own ~/.spynnaker.cfg)"
)
CREDENTIALS_HINT = ("spalloc credentials belong in the environment variables SPALLOC_USER and SPALLOC_PASSWORD, "
                    "not in a cfg (the cfg is archived with every run)")


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


def redact_url(url):
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
    user's own sPyNNaker cfg when it names a machine and is not a virtual board; ``None``
    means no board. The user's cfg is only read to decide this.
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
        named = any(machine.get(option, "None").strip() not in ("", "None") for option in MACHINE_OPTIONS)
        if named and not virtual:
            return str(path)
    return None


@dataclass(frozen=True)
class BoardConfig:
    """A validated board cfg: its text and the board it names (credentials never included).

    kind: ``"board"`` (machine_name), ``"spalloc"`` or ``"remote"``; address: the host name or
    the URL without credentials; version: the board version (3 or 5), ``None`` if not set.
    """

    path: str
    text: str
    kind: str
    address: str
    version: int | None
    report_path: str | None  # an absolute [Reports] default_report_file_path the user asked for

    @property
    def machine(self):
        """One line naming the board, e.g. ``board 192.168.240.253 (version 5)``."""
        suffix = f" (version {self.version})" if self.kind == "board" else ""
        return f"{self.kind} {self.address}{suffix}"

    def identity(self):
        """The board's identity for results and reports (JSON-ready)."""
        return {"cfg_path": self.path, "kind": self.kind, "address": self.address, "version": self.version}


def validate_board_cfg(cfg_path):
    """Check a sPyNNaker cfg for a real board before anything runs; return a :class:`BoardConfig`.

    Requires ``[Machine]`` with ``machine_name`` + ``version`` (3 or 5), or ``spalloc_server``,
    or ``remote_spinnaker_url`` (exactly one), not ``virtual_board = True``, and no credentials.
    Unknown sections or options are rejected as ``setup()`` would (the file becomes the strictly
    read ``./spynnaker.cfg``). Raises :class:`ParameterError` naming the option and the file.
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
    for section in parser.sections():
        for option in parser.options(section):
            if "password" in option or option in ("spallocuser", "user", "username"):
                raise ParameterError(f"{where}: [{section}] {option} holds credentials; {CREDENTIALS_HINT}")
    if not parser.has_section("Machine"):
        raise ParameterError(
            f"{where} has no [Machine] section; a board needs [Machine] machine_name + version, "
            "or spalloc_server, or remote_spinnaker_url"
        )
    given = [option for option in MACHINE_OPTIONS if _cfg_value(parser, "Machine", option) is not None]
    virtual = _cfg_bool(parser, "Machine", "virtual_board")
    if virtual and given:
        raise ParameterError(
            f"{where}: [Machine] virtual_board = True cannot be combined with {given[0]}; remove "
            "virtual_board to use the board (or omit cfg_path / --spinnaker-cfg to run without a board)"
        )
    if virtual:
        raise ParameterError(
            f"{where}: [Machine] virtual_board = True names no board; set machine_name + version or "
            "spalloc_server (no cfg is needed without a board: omit cfg_path / --spinnaker-cfg)"
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
        kind, address = "board", value
    else:
        if version not in (None, 5):
            raise ParameterError(f"{where}: [Machine] {option} machines are version 5; got version {version}")
        parts = urlsplit(value)
        if parts.username or parts.password:
            raise ParameterError(f"{where}: [Machine] {option} holds credentials in its URL; {CREDENTIALS_HINT}")
        kind, address = ("spalloc" if option == "spalloc_server" else "remote"), redact_url(value)
    _check_known_options(parser, where)
    report_path = _cfg_value(parser, "Reports", "default_report_file_path")
    if report_path is not None and report_path.upper() != "DEFAULT" and not os.path.isabs(report_path):
        raise ParameterError(
            f"{where}: [Reports] default_report_file_path must be an absolute path (runs happen in a "
            f"temporary folder); got {report_path!r}"
        )
    if report_path is not None and report_path.upper() == "DEFAULT":
        report_path = None
    return BoardConfig(str(path), text, kind, address, version, report_path)


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


def local_cfg_text(board, report_dir):
    """``./spynnaker.cfg`` of a run: the board cfg (if any) plus what the checks need.

    Without a board: ``virtual_board = True`` (version 5). The board cfg's own options keep
    their spelling; options set here replace any spelling of the same option.
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
    # The checks and the emulator read every region the host wrote from the data-spec database.
    put("Reports", "keep_dataspec_database", "True")
    put("Logging", "default", "warning", replace=False)
    stream = io.StringIO()
    parser.write(stream)
    return stream.getvalue()
