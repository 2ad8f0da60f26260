"""Spike-train input of the models: validation, per-synapse broadcasting, compressed trains.

One synapse is given as two 1-D trains (ms), many synapses as a sequence of trains, one per
synapse; :func:`checked_inputs` turns either into lists of sorted float arrays and names the
parameter, the value and the allowed range of anything it rejects. :class:`Trains` holds many
trains in one flat, row-sorted array, with integer time keys on the coincidence grid.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from . import kernels
from .errors import ParameterError, UnsupportedByBackend, check_finite, warn_unit
from .rules import STDPRule


# ---------------------------------------------------------------------------------------------
# Input handling and validation


def is_scalar(value):
    """A single number (Python, numpy scalar or 0-d array)."""
    return isinstance(value, Real) or (isinstance(value, np.ndarray) and value.ndim == 0)


def as_trains(spike_times, name):
    """Normalise one train (1-D numbers) or many (a sequence of trains) to a list of arrays.

    Returns ``(trains, single)``; checks every time is finite, >= 0 and sorted. A time may
    repeat: several spikes of one cell at one time (spike multiplicity, e.g. NEST's
    ``poisson_generator`` in one time step) are several events, processed one after another.
    """
    if isinstance(spike_times, (str, bytes)):
        raise ParameterError(
            f"{name} must be one train (1-D sequence of times in ms) or a sequence of trains; got {spike_times!r}"
        )
    if isinstance(spike_times, np.ndarray):
        if spike_times.ndim == 1:
            single, raw = True, [spike_times]
        elif spike_times.ndim == 2:
            if spike_times.dtype.kind in "iuf":  # equal-length trains: checked in one pass
                times = spike_times.astype(float, copy=False)
                if (np.isfinite(times).all() and (times >= 0).all()
                        and (times.shape[1] < 2 or (np.diff(times, axis=1) >= 0).all())):
                    return list(times), False
            single, raw = False, list(spike_times)
        else:
            raise ParameterError(
                f"{name} must be one train (1-D) or a sequence of trains; got an array of shape {spike_times.shape}"
            )
    else:
        try:
            items = list(spike_times)
        except TypeError:
            raise ParameterError(
                f"{name} must be one train (1-D sequence of times in ms) or a sequence of trains; got {spike_times!r}"
            ) from None
        single = all(is_scalar(item) for item in items)
        raw = [items] if single else items
    trains = []
    for index, train in enumerate(raw):
        try:
            times = np.asarray(train, dtype=float)
        except (TypeError, ValueError):
            label = name if single else f"{name}[{index}]"
            raise ParameterError(f"{label} must be a sequence of spike times in ms; got {train!r}") from None
        if times.ndim != 1:
            label = name if single else f"{name}[{index}]"
            raise ParameterError(f"{label} must be a 1-D sequence of spike times in ms; got shape {times.shape}")
        trains.append(times)
    # Check all trains at once; only a failure looks for the train to name.
    if trains:
        flat = np.concatenate(trains)
        steps = np.diff(flat)
        starts = np.cumsum([len(t) for t in trains])[:-1]
        starts = starts[(starts > 0) & (starts < len(flat))]
        steps[starts - 1] = 1.0  # no ordering across train boundaries
        if not (np.isfinite(flat).all() and (flat >= 0).all() and (steps >= 0).all()):
            for index, times in enumerate(trains):
                check_spike_train(times, name if single else f"{name}[{index}]", repeats=True)
    return trains, single


def check_spike_train(times, label, repeats=False):
    """Raise :class:`ParameterError` unless ``times`` are finite, >= 0 and strictly increasing
    (``repeats``: non-decreasing, a repeated time being several spikes at that time)."""
    bad = ~np.isfinite(times)
    if bad.any():
        index = int(np.argmax(bad))
        raise ParameterError(f"{label} must hold finite times in ms; got {times[index]!r} at index {index}")
    if (times < 0).any():
        index = int(np.argmax(times < 0))
        raise ParameterError(f"{label} must hold times >= 0 ms; got {times[index]!r} at index {index}")
    steps = np.diff(times)
    if repeats:
        if (steps < 0).any():
            index = int(np.argmax(steps < 0)) + 1
            raise ParameterError(f"{label} must be sorted (a time may repeat: several spikes at once); unsorted time "
                                 f"{times[index]!r} at index {index} after {times[index - 1]!r}")
        return
    if (steps <= 0).any():
        index = int(np.argmax(steps <= 0)) + 1
        problem = "duplicate" if steps[index - 1] == 0 else "unsorted"
        raise ParameterError(
            f"{label} must be strictly increasing (sorted, no duplicates); {problem} time "
            f"{times[index]!r} at index {index} after {times[index - 1]!r}"
        )


def per_synapse(value, name, n_synapses, **bounds):
    """A scalar or one value per synapse, checked with :func:`check_finite`, as a float array."""
    if is_scalar(value) or isinstance(value, (str, bytes)):
        return np.full(n_synapses, check_finite(name, value, **bounds))
    try:
        values = list(value)
    except TypeError:
        raise ParameterError(f"{name} must be a number or one number per synapse; got {value!r}") from None
    if len(values) != n_synapses:
        raise ParameterError(
            f"{name} must be a number or one number per synapse ({n_synapses}); got {len(values)} values"
        )
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iuf":  # checked at once
        numbers = value.astype(float)
        low, high = bounds.get("low"), bounds.get("high")
        good = np.isfinite(numbers)
        if low is not None:
            good &= numbers > low if bounds.get("low_inclusive") is False else numbers >= low
        if high is not None:
            good &= numbers <= high
        if good.all():
            return numbers
        index = int(np.argmin(good))
        check_finite(f"{name}[{index}]", values[index], **bounds)  # raises, naming the value
    return np.array([check_finite(f"{name}[{i}]", v, **bounds) for i, v in enumerate(values)])


def check_supported(rule, conventions, owner=None):
    """Raise :class:`UnsupportedByBackend` for a rule the conventions' backend cannot represent.

    ``owner`` names who cannot (default: "the <name> conventions")."""
    owner = owner or f"the {conventions.name!r} conventions"
    if rule.is_nearest and conventions.nearest_scheme is None:
        raise UnsupportedByBackend(
            f"timing=SpikeNearestPairRule is not supported by {owner} "
            "(this backend has no nearest-neighbour STDP); allowed: SpikePairRule"
        )
    allowed = conventions.weight_dependences
    if allowed is not None and type(rule.weight).__name__ not in allowed:
        raise UnsupportedByBackend(
            f"weight={type(rule.weight).__name__} is not supported by {owner}; allowed: {', '.join(allowed)}"
        )
    if rule.weight.w_min != 0 and not conventions.supports_nonzero_w_min:
        raise UnsupportedByBackend(
            f"w_min={rule.weight.w_min!r} is not supported by {owner}; allowed: w_min = 0"
        )


def checked_inputs(pre_spike_times, post_spike_times, rule):
    """The rule and both spike-train arguments checked together; returns (pre, post) lists of arrays.

    Warns (:class:`~stdp_validation.errors.UnitWarning`) when a train fires implausibly fast
    for ms, as spike times given in seconds do."""
    if not isinstance(rule, STDPRule):
        raise ParameterError(f"rule must be an STDPRule; got {rule!r}")
    pre, pre_single = as_trains(pre_spike_times, "pre_spike_times")
    post, post_single = as_trains(post_spike_times, "post_spike_times")
    _warn_if_seconds(pre + post)
    if len(pre) != len(post) or (pre_single != post_single and len(pre) != 1):
        raise ParameterError(
            "pre_spike_times and post_spike_times must hold the same number of trains; got "
            f"{'one train' if pre_single else f'{len(pre)} trains'} and "
            f"{'one train' if post_single else f'{len(post)} trains'}"
        )
    return pre, post


#: A train of at least :data:`SECONDS_MIN_SPIKES` spikes firing faster than this on average
#: (spikes per ms, i.e. 1 kHz) looks like times in seconds: a 20 Hz train given in s reads as
#: 20 spikes per "ms". No refractory neuron sustains 1 kHz.
SECONDS_MEAN_RATE = 1.0
SECONDS_MIN_SPIKES = 10


def _warn_if_seconds(trains):
    lengths = np.array([len(train) for train in trains], dtype=np.int64)
    long_enough = np.flatnonzero(lengths >= SECONDS_MIN_SPIKES)
    if len(long_enough) == 0:
        return
    first = np.array([trains[i][0] for i in long_enough], dtype=float)
    last = np.array([trains[i][-1] for i in long_enough], dtype=float)
    with np.errstate(divide="ignore"):
        rates = np.where(last > first, lengths[long_enough] / np.maximum(last - first, 1e-300), np.inf)
    fast = np.flatnonzero(rates > SECONDS_MEAN_RATE)
    if len(fast):
        i = fast[0]
        warn_unit(f"a train of {lengths[long_enough[i]]} spikes from {first[i]:g} to {last[i]:g} ms fires at "
                  f"{rates[i] * 1000:.3g} Hz on average: spike times are in ms (were they given in seconds?)",
                  stacklevel=6)  # the caller of predict_weights / predict_trajectory


# ---------------------------------------------------------------------------------------------
# Compressed per-synapse trains


class Trains:
    """Spike trains of many synapses in one flat, row-sorted array (CSR layout)."""

    def __init__(self, trains, offsets, resolution):
        counts = np.array([len(t) for t in trains], dtype=np.int64)
        self.ptr = np.concatenate([[0], np.cumsum(counts)])
        self.counts = counts
        self.rows = np.repeat(np.arange(len(trains)), counts)
        self.times = np.concatenate(trains) if len(trains) else np.zeros(0)
        self.times = self.times + np.repeat(offsets, counts)
        self.keys = time_keys(self.times, resolution)
        self.local = np.arange(len(self.times)) - self.ptr[self.rows]

    def padded(self, values, fill=0.0):
        """``values`` (one per spike) as an (n_synapses, max_count) array."""
        width = int(self.counts.max()) if len(self.counts) else 0
        out = np.full((len(self.counts), width), fill, dtype=float)
        out[self.rows, self.local] = values
        return out


#: Times are compared as integers on a grid of coincidence_tolerance / TIE_STEPS; two times
#: are simultaneous when their keys differ by at most TIE_STEPS (|Δt| <= the tolerance).
TIE_STEPS = 64


def time_keys(times, tolerance):
    """Integer time keys: times within ``tolerance`` (ms) have keys within :data:`TIE_STEPS`."""
    return np.rint(np.asarray(times) * (TIE_STEPS / tolerance)).astype(np.int64)


def count_before(trains, rows, keys, inclusive):
    """For each query (row, key): how many spikes of ``trains`` in that row are earlier than
    the query beyond the coincidence tolerance or, when ``inclusive``, earlier or simultaneous."""
    rows = np.asarray(rows, dtype=np.int64)
    keys = np.asarray(keys, dtype=np.int64) + (TIE_STEPS if inclusive else -TIE_STEPS)
    if len(trains.keys) == 0 or len(keys) == 0:
        return np.zeros(len(keys), dtype=np.int64)

    def flat_index():
        # One sorted array for all rows: row·span + key, with span larger than any key range.
        low = min(int(trains.keys.min()), int(keys.min()), -4 * TIE_STEPS)
        high = max(int(trains.keys.max()), int(keys.max()))
        cached = getattr(trains, "_search", None)
        if cached is None or low < cached[0] or high - cached[0] + 2 > cached[1]:
            span = high - low + 2 + 4 * TIE_STEPS
            flat = trains.rows * span + (trains.keys - low) if len(trains.counts) * span < 2**62 else None
            cached = trains._search = (low, span, flat)
        low, span, flat = cached
        return None if flat is None else (flat, span, low)

    return kernels.search_rows(trains.keys, trains.ptr, rows, keys, inclusive, flat_index)
