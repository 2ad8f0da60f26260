"""The reference model's sequential loops, compiled with numba when it is installed.

Three loops of :mod:`stdp_validation.reference` run along each synapse's spikes or events:
the recursive trace x_j = x_{j-1}·d_j + 1, the search for how many spikes of a row precede
a time, and the weight update w ← clip(α·w + β) (or Gütig's power law) event by event. Each
has a pure-numpy implementation, vectorised over synapses and looping over the event index,
and a numba one looping over synapses and events in compiled code. Both do the same
floating-point operations in the same order, so they agree to rounding (the tests require
1e-12 and check both on the same inputs).

Which one runs: numba when ``import numba`` works, unless the environment variable
``STDP_VALIDATION_KERNEL=numpy`` asks for the fallback (read at import; :func:`use` switches
at run time). numba is an optional, pinned dependency (the ``fast`` extra); without it
everything works, only slower.
"""

from __future__ import annotations

import os

import numpy as np

try:  # pragma: no cover - which branch runs depends on the environment
    import numba
except ImportError:  # pragma: no cover
    numba = None

#: The kernel implementations that can run here.
AVAILABLE = ("numba", "numpy") if numba is not None else ("numpy",)
_active = os.environ.get("STDP_VALIDATION_KERNEL", AVAILABLE[0])
if _active not in AVAILABLE:  # pragma: no cover - environment misconfiguration
    raise ImportError(
        f"STDP_VALIDATION_KERNEL={_active!r} is not available here; allowed: {', '.join(AVAILABLE)}"
        + ("" if numba is not None else " (numba is not installed: pip install 'stdp-validation[fast]')")
    )


def active():
    """Name of the kernel implementation in use: ``"numba"`` or ``"numpy"``."""
    return _active


def use(name):
    """Switch the kernel implementation (``"numba"`` or ``"numpy"``); returns the previous one."""
    global _active
    if name not in AVAILABLE:
        raise ValueError(f"kernel {name!r} is not available here; allowed: {', '.join(AVAILABLE)}")
    previous, _active = _active, name
    return previous


# ---------------------------------------------------------------------------------------------
# numpy implementations (the checked fallback)


def _padded(values, rows, local, n_rows, width, fill):
    out = np.full((n_rows, width), fill, dtype=values.dtype)
    out[rows, local] = values
    return out


def _trace_numpy(decays, rows, local, n_rows, width):
    padded = _padded(decays, rows, local, n_rows, width, 0.0)
    trace = np.zeros_like(padded)
    previous = np.zeros(n_rows)
    for column in range(width):
        previous = previous * padded[:, column] + 1.0
        trace[:, column] = previous
    return trace[rows, local]


def _affine_numpy(weight, alpha, beta, rows, local, n_rows, width, low, high, scale, record):
    alpha_padded = _padded(alpha, rows, local, n_rows, width, 1.0)
    beta_padded = _padded(beta, rows, local, n_rows, width, 0.0)
    history = np.empty((n_rows, width)) if record else None
    for column in range(width):
        if scale:
            weight *= alpha_padded[:, column]
        weight += beta_padded[:, column]
        np.clip(weight, low, high, out=weight)
        if record:
            history[:, column] = weight
    return weight, (history[rows, local] if record else None)


def _gutig_numpy(weight, up, down, rows, local, n_rows, width, w_min, w_max, mu_plus, mu_minus, record):
    span = w_max - w_min
    up_padded = _padded(up, rows, local, n_rows, width, 0.0)
    down_padded = _padded(down, rows, local, n_rows, width, 0.0)
    history = np.empty((n_rows, width)) if record else None
    for column in range(width):
        if span > 0:
            room = np.clip((w_max - weight) / span, 0.0, None)
            held = np.clip((weight - w_min) / span, 0.0, None)
            weight = weight + span * (up_padded[:, column] * room ** mu_plus
                                      - down_padded[:, column] * held ** mu_minus)
        np.clip(weight, w_min, w_max, out=weight)
        if record:
            history[:, column] = weight
    return weight, (history[rows, local] if record else None)


def _search_numpy(flat, span, low, ptr, rows, keys, right):
    return np.searchsorted(flat, rows * span + (keys - low), side="right" if right else "left") - ptr[rows]


# ---------------------------------------------------------------------------------------------
# numba implementations (same operations, one synapse after another)

if numba is not None:  # pragma: no branch

    @numba.njit(cache=True, nogil=True)
    def _trace_numba(decays, ptr):  # pragma: no cover - compiled
        trace = np.empty_like(decays)
        for row in range(len(ptr) - 1):
            previous = 0.0
            for i in range(ptr[row], ptr[row + 1]):
                previous = previous * decays[i] + 1.0
                trace[i] = previous
        return trace

    @numba.njit(cache=True, nogil=True)
    def _affine_numba(weight, alpha, beta, ptr, low, high, scale, record):  # pragma: no cover - compiled
        history = np.empty(len(alpha) if record else 0)
        for row in range(len(ptr) - 1):
            w = weight[row]
            for i in range(ptr[row], ptr[row + 1]):
                if scale:
                    w = w * alpha[i]
                w = w + beta[i]
                w = min(max(w, low), high)
                if record:
                    history[i] = w
            weight[row] = w
        return weight, history

    @numba.njit(cache=True, nogil=True)
    def _gutig_numba(weight, up, down, ptr, w_min, w_max, mu_plus, mu_minus, record):  # pragma: no cover
        span = w_max - w_min
        history = np.empty(len(up) if record else 0)
        for row in range(len(ptr) - 1):
            w = weight[row]
            for i in range(ptr[row], ptr[row + 1]):
                if span > 0:
                    room = max((w_max - w) / span, 0.0)
                    held = max((w - w_min) / span, 0.0)
                    w = w + span * (up[i] * room ** mu_plus - down[i] * held ** mu_minus)
                w = min(max(w, w_min), w_max)
                if record:
                    history[i] = w
            weight[row] = w
        return weight, history

    @numba.njit(cache=True, nogil=True)
    def _search_numba(keys, ptr, rows, queries, right):  # pragma: no cover - compiled
        # Queries usually come row by row in time order: then the answer only moves forward
        # and a linear walk from the previous answer is cheapest; otherwise binary search.
        result = np.empty(len(queries), dtype=np.int64)
        previous_row, previous_key, position = -1, 0, 0
        for q in range(len(queries)):
            row, key = rows[q], queries[q]
            start, stop = ptr[row], ptr[row + 1]
            if row == previous_row and key >= previous_key:
                lo = position
                while lo < stop and (keys[lo] < key or (right and keys[lo] == key)):
                    lo += 1
            else:
                lo, hi = start, stop
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if keys[mid] < key or (right and keys[mid] == key):
                        lo = mid + 1
                    else:
                        hi = mid
            result[q] = lo - start
            previous_row, previous_key, position = row, key, lo
        return result


# ---------------------------------------------------------------------------------------------
# The interface used by the reference model. Every array argument is flat and row-sorted
# (CSR): ``ptr`` (n_rows + 1) delimits the rows; ``rows``/``local`` give each element's row
# and index within it.


def recursive_trace(decays, ptr, rows, local):
    """x_i = x_{i-1}·decays_i + 1 along each row, x = 0 before a row's first element."""
    decays = np.ascontiguousarray(decays, dtype=float)
    if _active == "numba":
        return _trace_numba(decays, ptr)
    width = int(np.diff(ptr).max()) if len(ptr) > 1 else 0
    return _trace_numpy(decays, rows, local, len(ptr) - 1, width)


def affine_weights(initial_weight, alpha, beta, ptr, rows, local, low, high, scale, record):
    """w ← clip(α·w + β, low, high) event by event along each row (α ignored unless ``scale``).

    Returns (final weight per row, weight after every event or None)."""
    weight = np.array(initial_weight, dtype=float)
    alpha = np.ascontiguousarray(alpha, dtype=float)
    beta = np.ascontiguousarray(beta, dtype=float)
    if _active == "numba":
        weight, history = _affine_numba(weight, alpha, beta, ptr, float(low), float(high), bool(scale), bool(record))
        return weight, (history if record else None)
    width = int(np.diff(ptr).max()) if len(ptr) > 1 else 0
    return _affine_numpy(weight, alpha, beta, rows, local, len(ptr) - 1, width, low, high, scale, record)


def gutig_weights(initial_weight, up, down, ptr, rows, local, w_min, w_max, mu_plus, mu_minus, record):
    """w ← clip(w + S·(up·((w_max − w)/S)^μ+ − down·((w − w_min)/S)^μ−)), S = w_max − w_min,
    event by event along each row. Returns (final weight per row, history or None)."""
    weight = np.array(initial_weight, dtype=float)
    up = np.ascontiguousarray(up, dtype=float)
    down = np.ascontiguousarray(down, dtype=float)
    args = (float(w_min), float(w_max), float(mu_plus), float(mu_minus))
    if _active == "numba":
        weight, history = _gutig_numba(weight, up, down, ptr, *args, bool(record))
        return weight, (history if record else None)
    width = int(np.diff(ptr).max()) if len(ptr) > 1 else 0
    return _gutig_numpy(weight, up, down, rows, local, len(ptr) - 1, width, *args, record)


def search_rows(keys, ptr, rows, queries, right, flat_index):
    """For each query (row, key): the number of elements of that row of ``keys`` (sorted
    within rows) that are < key, or <= key when ``right``.

    ``flat_index()`` returns ``(flat, span, low)`` for the numpy path: one globally sorted
    array ``row·span + key − low``, or ``None`` when it would overflow int64."""
    if _active == "numba":
        return _search_numba(keys, ptr, rows, queries, bool(right))
    index = flat_index()
    if index is not None:
        return _search_numpy(*index, ptr, rows, queries, right)
    result = np.empty(len(queries), dtype=np.int64)
    side = "right" if right else "left"
    for row in np.unique(rows):
        mask = rows == row
        result[mask] = np.searchsorted(keys[ptr[row]:ptr[row + 1]], queries[mask], side=side)
    return result
