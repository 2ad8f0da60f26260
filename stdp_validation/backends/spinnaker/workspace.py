"""An isolated working folder for one sPyNNaker ``setup()`` … ``end()``.

sPyNNaker reads a user cfg from the home folder (and WRITES ``~/.spynnaker.cfg`` when none
exists), reads ``./spynnaker.cfg`` from the working directory, writes report folders there,
adds handlers to the root logger and registers an exit hook. :func:`isolated_workspace`
gives each run a fresh temporary folder holding an empty user cfg and the run's generated
``spynnaker.cfg``; for its duration only, ``HOME``, ``XDG_CONFIG_HOME`` and
``XDG_CONFIG_DIRS`` point into that folder and the process works in it. On exit the
caller's working directory, environment, root-logger handlers, standard streams and
sPyNNaker's log store are restored exactly (an :class:`contextlib.ExitStack` unwinds each
change in reverse order, also when the run fails), and the folder is removed unless it is to
be kept (``keep``, the environment variable :data:`KEEP_ENV`, or a failure; its path is then
added to the exception's notes).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .config import local_cfg_text

#: Environment variable that keeps each run's temporary folder (cfg, reports, ds.sqlite3).
KEEP_ENV = "STDP_SPINNAKER_KEEP"
_SANDBOX_ENV = ("HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS")


def keep_requested():
    """Whether :data:`KEEP_ENV` asks to keep the working folders."""
    return os.environ.get(KEEP_ENV, "").strip().lower() not in ("", "0", "false", "no")


@dataclass
class Workspace:
    """The folder of one run and what sPyNNaker said in it."""

    path: Path
    warnings: list = field(default_factory=list)


@contextlib.contextmanager
def _environment(values):
    saved = {name: os.environ.get(name) for name in values}
    try:
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _root_logger_state():
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    state = [(h, list(h.filters), h.formatter) for h in handlers]
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                with contextlib.suppress(Exception):
                    handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        for handler, filters, formatter in state:
            handler.filters[:] = filters
            handler.setFormatter(formatter)
        root.setLevel(level)


@contextlib.contextmanager
def _console_to(path):
    """Progress bars and sPyNNaker's console output go to ``path`` instead of the terminal."""
    streams = (sys.stdout, sys.stderr)
    with open(path, "w", encoding="utf-8") as console:
        sys.stdout = sys.stderr = console
        try:
            yield
        finally:
            sys.stdout, sys.stderr = streams


def _take_log_store(workspace):
    """Keep sPyNNaker's WARNING-and-above messages and detach its log store (a database in
    the folder: left attached, sPyNNaker's exit handler would point at a deleted file)."""
    with contextlib.suppress(Exception):
        from spinn_utilities.log import FormatAdapter

        store = getattr(FormatAdapter, "_FormatAdapter__log_store", None)
        if store is not None:
            with contextlib.suppress(Exception):
                workspace.warnings.extend(str(m) for m in store.retreive_log_messages(logging.WARNING))
        FormatAdapter.set_log_store(None)


def _forget_errored_file_hook():
    """``setup()`` registers ``UtilsDataWriter.write_errored_file`` with :mod:`atexit`; it would
    write an ``errored`` marker into the (removed) report folder."""
    with contextlib.suppress(Exception):
        from spinn_utilities.data.utils_data_writer import UtilsDataWriter

        atexit.unregister(UtilsDataWriter.write_errored_file)


@contextlib.contextmanager
def isolated_workspace(board=None, *, keep=False, quiet=True):
    """Run sPyNNaker inside a fresh temporary folder; yields a :class:`Workspace`.

    ``board``: a :class:`~.config.BoardConfig`, or ``None`` for a virtual board.
    """
    path = Path(tempfile.mkdtemp(prefix="stdp-spinnaker-"))
    workspace = Workspace(path)
    for name in ("xdg", "xdg-site", "home", "reports"):
        (path / name).mkdir()
    # An empty user cfg: sPyNNaker needs exactly one, and writes ~/.spynnaker.cfg if none exists.
    (path / "xdg" / ".spynnaker.cfg").write_text("")
    (path / "spynnaker.cfg").write_text(local_cfg_text(board, path / "reports"))
    failed = False
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(_root_logger_state())
            stack.enter_context(_environment({"HOME": str(path / "home"), "XDG_CONFIG_HOME": str(path / "xdg"),
                                              "XDG_CONFIG_DIRS": str(path / "xdg-site")}))
            stack.enter_context(contextlib.chdir(path))
            stack.callback(_take_log_store, workspace)
            if quiet:
                stack.enter_context(_console_to(path / "console.log"))
            yield workspace
    except BaseException as error:
        failed = True
        if isinstance(error, Exception):
            with contextlib.suppress(Exception):
                error.add_note(f"sPyNNaker working folder kept for inspection: {path}")
        raise
    finally:
        if not (keep or failed):
            shutil.rmtree(path, ignore_errors=True)
            _forget_errored_file_hook()
