"""Backends: one module per simulator, sharing the PyNN runner."""

from __future__ import annotations

from ..errors import ParameterError

#: Backend name → "module:class"; imported only when used (simulators are heavy imports).
BACKENDS = {
    "nest": "stdp_validation.backends.nest:NestBackend",
    "brian2": "stdp_validation.backends.brian2:Brian2Backend",
    "spinnaker": "stdp_validation.backends.spinnaker:SpinnakerBackend",
}

DEFAULT_BACKENDS = ("brian2", "nest", "spinnaker")


def backend_class(name):
    import importlib

    try:
        module_name, class_name = BACKENDS[name].split(":")
    except (KeyError, AttributeError):
        raise ParameterError(f"backend must be one of {sorted(BACKENDS)}; got {name!r}") from None
    return getattr(importlib.import_module(module_name), class_name)


def get_backend(name, **options):
    """An instance of the backend registered as ``name``."""
    return backend_class(name)(**options)


def unavailable_reason(name):
    """``None`` when backend ``name`` can run here, else the reason it cannot."""
    return backend_class(name).unavailable_reason()
