"""Backends: one module (or package) per simulator, all implementing :class:`base.Backend`.

This registry is the only place that maps a backend's name to its class; simulators are
imported only when a backend runs.
"""

from __future__ import annotations

import importlib

from ..errors import ParameterError

#: Backend name → "module:class".
BACKENDS = {
    "nest": "stdp_validation.backends.nest:NestBackend",
    "brian2": "stdp_validation.backends.brian2:Brian2Backend",
    "spinnaker": "stdp_validation.backends.spinnaker:SpinnakerBackend",
}

#: What the main job runs: NEST in both spike precisions (on_grid, this suite's choice, and
#: off_grid, PyNN's default), Brian2, and SpiNNaker.
DEFAULT_BACKENDS = ("brian2", "nest", "nest[spike_precision=off_grid]", "spinnaker")


def parse_backend(spec):
    """``(name, options)`` of a backend spec: a name, or a label ``name[key=value,...]`` as
    results carry them (e.g. ``nest[spike_precision=off_grid]``); ``True``/``False`` become
    booleans, other values stay text. Raises :class:`ParameterError` for a malformed spec."""
    if not isinstance(spec, str):
        raise ParameterError(f"backend must be a name or name[key=value,...]; got {spec!r}")
    name, _, rest = spec.partition("[")
    options = {}
    if rest:
        if not rest.endswith("]") or len(rest) < 2:
            raise ParameterError(f"backend {spec!r}: expected name[key=value,...]")
        for item in rest[:-1].split(","):
            key, equals, value = item.partition("=")
            if not equals or not key.strip() or not value.strip():
                raise ParameterError(f"backend {spec!r}: option {item!r} must be key=value")
            value = value.strip()
            options[key.strip()] = {"True": True, "False": False}.get(value, value)
    backend_class(name)  # a known name, else the error lists them
    return name, options


def backend_class(name):
    """The :class:`~stdp_validation.backends.base.Backend` subclass registered as ``name``."""
    try:
        module_name, class_name = BACKENDS[name].split(":")
    except (KeyError, AttributeError, TypeError):
        raise ParameterError(f"backend must be one of {sorted(BACKENDS)}; got {name!r}") from None
    return getattr(importlib.import_module(module_name), class_name)


def get_backend(name, **options):
    """An instance of the backend registered as ``name``, configured with ``options``."""
    return backend_class(name)(**options)


def unavailable_reason(name):
    """``None`` when backend ``name`` can run here, else the reason it cannot."""
    return backend_class(name).unavailable_reason()


def comparator_for(observation):
    """The comparison the backend that produced ``observation`` says applies to it."""
    return backend_class(observation.backend).comparator(observation)


#: The backend the board options (``--spinnaker-cfg``, a machine in the user's own cfg) belong to.
BOARD_BACKEND = "spinnaker"


def board_cfg(cfg_option=None):
    """The board cfg to use: ``cfg_option`` (``--spinnaker-cfg``), else a machine named in the
    user's own sPyNNaker cfg, else ``None`` (no board). Without sPyNNaker installed the option
    is returned as given."""
    if unavailable_reason(BOARD_BACKEND):
        return cfg_option
    from .spinnaker import board_cfg_path

    return board_cfg_path(cfg_option)


def board_options(backends, cfg_option=None):
    """Backend options for a run of ``backends`` (``None``: the defaults): the board cfg, if
    any, for the board backend. A cfg given without that backend selected is an error, not
    silently ignored."""
    selected = [parse_backend(spec)[0] for spec in (backends or DEFAULT_BACKENDS)]
    if BOARD_BACKEND not in selected:
        if cfg_option:
            raise ParameterError(f"--spinnaker-cfg {cfg_option!r} is given but no SpiNNaker backend is selected "
                                 f"(--backend {' --backend '.join(selected)}); add --backend spinnaker or drop it")
        return None
    if unavailable_reason(BOARD_BACKEND):
        return None
    cfg = board_cfg(cfg_option)
    return {BOARD_BACKEND: {"cfg_path": cfg}} if cfg else None


def with_board_cfg(backend, options, cfg_option=None):
    """``options`` for one ``backend``, with the session's board cfg added for the board backend."""
    options = dict(options)
    if backend == BOARD_BACKEND:
        options.setdefault("cfg_path", board_cfg(cfg_option))
    return options
