"""Exceptions raised for bad input, before any computation or simulation starts, and the
warning for values that look like the wrong unit."""

import warnings


class ParameterError(ValueError):
    """A parameter is outside its allowed range.

    The message always names the parameter, the value given and what is allowed.
    """


class UnsupportedByBackend(ParameterError):
    """A valid parameter that a backend cannot represent (e.g. ``w_min != 0`` on NEST)."""


class UnitWarning(UserWarning):
    """A value that is allowed but looks like the wrong unit (e.g. a τ in seconds where PyNN
    takes ms). Turn it into an error with ``warnings.simplefilter("error", UnitWarning)``."""


#: Time constants below this many ms look like seconds: pair-based STDP windows measured in
#: cortex and hippocampus have τ of ≈ 10–100 ms (Bi & Poo 1998; Song, Miller & Abbott 2000).
SMALLEST_PLAUSIBLE_TAU = 1.0  # ms


def warn_unit(message, stacklevel=3):
    """Warn with :class:`UnitWarning`; ``stacklevel`` as for :func:`warnings.warn`, counted from the caller."""
    warnings.warn(message, UnitWarning, stacklevel=stacklevel)


def check_finite(name, value, *, low=None, low_inclusive=True, high=None, unit=""):
    """Return ``float(value)`` after checking it is a finite number within the bounds.

    Raises :class:`ParameterError` naming ``name``, the value and the allowed range.
    """
    suffix = f" {unit}" if unit else ""
    if isinstance(value, (str, bytes, bool)) or type(value).__name__ == "bool_":
        raise ParameterError(
            f"{name} must be a number{_range_text(low, low_inclusive, high, suffix)}; got {value!r}"
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name} must be a number{_range_text(low, low_inclusive, high, suffix)}; got {value!r}"
        ) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ParameterError(
            f"{name} must be a finite number{_range_text(low, low_inclusive, high, suffix)}; got {value!r}"
        )
    if low is not None and (number < low or (number == low and not low_inclusive)):
        raise ParameterError(
            f"{name} must be{_range_text(low, low_inclusive, high, suffix)}; got {number!r}{suffix}"
        )
    if high is not None and number > high:
        raise ParameterError(
            f"{name} must be{_range_text(low, low_inclusive, high, suffix)}; got {number!r}{suffix}"
        )
    return number


def _range_text(low, low_inclusive, high, suffix):
    if low is None and high is None:
        return ""
    if high is None:
        return f" {'>=' if low_inclusive else '>'} {low}{suffix}"
    if low is None:
        return f" <= {high}{suffix}"
    bracket = "[" if low_inclusive else "("
    return f" in {bracket}{low}, {high}]{suffix}"
