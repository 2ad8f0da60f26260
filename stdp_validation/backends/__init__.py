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

DEFAULT_BACKENDS = ("brian2", "nest", "spinnaker")


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
