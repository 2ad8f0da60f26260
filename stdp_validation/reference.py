"""Event-driven reference model of pair-based STDP, vectorised over synapses.

Given the spike times each synapse saw, the rule and a backend's
:class:`~stdp_validation.conventions.Conventions`, predict the weight that backend reports.

Units: times and delays in ms; weights in the synapse type's unit (nA or µS).

How it works (two stages, both numpy-vectorised over synapses):

1. *Pairing.* Every presynaptic spike is a depression event and every postsynaptic spike a
   potentiation event at its synapse-side time (delay split by
   ``dendritic_delay_fraction``). For each event the kernel sum it applies is computed from
   spike times alone: the recursive traces of the all-to-all rule (the same recursion the
   backends run), or the single partner of a nearest-neighbour scheme. Which events are
   visible (deferred updates, end of run, sPyNNaker's postsynaptic history) is decided here.
2. *Weight dynamics.* Each event is an affine map of the weight (additive: w + Δ;
   multiplicative: (1 − a)·w + a·bound), applied in synapse-time order with clipping after
   every single update, one column of events at a time for all synapses at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels
from .conventions import (
    Conventions,
    ceil_microsecond_ticks,
    ceil_ticks,
    exponential_table_length,
    resolve_conventions,
)
from .errors import ParameterError, check_finite
from .rules import STDPRule
from .trains import TIE_STEPS, Trains, check_supported, checked_inputs, count_before, per_synapse, time_keys

POTENTIATION = 1
DEPRESSION = -1



@dataclass(frozen=True)
class WeightTrajectory:
    """The weight of one synapse after every update event.

    times: ms, synapse-side time at which the update becomes visible (for deferred backends,
    the time of the presynaptic spike that applies it); weights: after each update;
    kinds: +1 potentiation, -1 depression.
    """

    times: np.ndarray
    weights: np.ndarray
    kinds: np.ndarray

    def __len__(self):
        return len(self.times)


@dataclass
class _Problem:
    pre: list
    post: list
    rule: STDPRule
    conventions: Conventions
    delay: np.ndarray
    initial_weight: np.ndarray
    t_stop: float | None


def _prepare(pre_spike_times, post_spike_times, rule, delay, initial_weight, conventions, t_stop):
    conventions = resolve_conventions(conventions)
    pre, post = checked_inputs(pre_spike_times, post_spike_times, rule)
    n_synapses = len(pre)
    delay = per_synapse(delay, "delay", n_synapses, low=0.0, unit="ms")
    w_min, w_max = rule.weight.w_min, rule.weight.w_max
    initial_weight = per_synapse(initial_weight, "initial_weight", n_synapses, low=w_min, high=w_max)
    if t_stop is not None:
        t_stop = check_finite("t_stop", t_stop, low=0.0, unit="ms")
    check_supported(rule, conventions)
    if not conventions.backprop_delay:
        delay = np.zeros_like(delay)  # the delay plays no part in STDP
    if conventions.timestep is not None:
        step = conventions.timestep
        delay = np.rint(delay / step) * step
        if conventions.presynaptic_rounding == "ceil":
            pre = [ceil_ticks(times, step) * step for times in pre]
        elif conventions.presynaptic_rounding == "ceil_microseconds":
            pre = [ceil_microsecond_ticks(times, step) * step for times in pre]
        elif conventions.presynaptic_rounding == "nearest":
            pre = [np.rint(times / step) * step for times in pre]
    latest = max([float(t[-1]) for t in pre + post if len(t)] + [t_stop or 0.0]) + float(delay.max(initial=0.0))
    if latest * TIE_STEPS / conventions.coincidence_tolerance >= 2**62:
        raise ParameterError(
            f"spike times up to {latest} ms are too long for coincidence_tolerance = "
            f"{conventions.coincidence_tolerance} ms (times are compared on a grid of tolerance/{TIE_STEPS}); "
            f"allowed: latest time / coincidence_tolerance < {2**62 / TIE_STEPS:.3g}"
        )
    return _Problem(pre, post, rule, conventions, delay, initial_weight, t_stop)


# ---------------------------------------------------------------------------------------------
# Stage 1: pairing


def _decay(lag, tau, conventions):
    """Exponential decay factor for a lag (ms), with sPyNNaker's lookup-table cut-off."""
    lag = np.abs(lag)
    factor = np.exp(-lag / tau)
    if conventions.exponential_table and conventions.timestep is not None:
        ticks = np.rint(lag / conventions.timestep)
        factor = np.where(ticks >= exponential_table_length(tau, conventions.timestep), 0.0, factor)
    return factor


def _recursive_trace(trains, tau, conventions, reset=None):
    """Trace value just after each spike: x_j = x_{j-1}·decay(t_j − t_{j-1}) + 1.

    ``reset`` (one bool per spike) sets the decayed previous value to 0 first.
    Returns one value per spike (flat, in ``trains`` order).
    """
    lags = np.zeros(len(trains.times))
    lags[1:] = np.diff(trains.times)
    decays = _decay(lags, tau, conventions)
    decays[trains.ptr[:-1][trains.counts > 0]] = 0.0  # a row's first spike has no predecessor
    if reset is not None:
        decays[reset] = 0.0
    return kernels.recursive_trace(decays, trains.ptr, trains.rows, trains.local)


def _gather(values, index, mask, fill=0.0):
    """values[index] where mask, else fill (safe when values is empty)."""
    if len(values) == 0:
        return np.full(len(index), fill)
    return np.where(mask, values[np.where(mask, index, 0)], fill)


@dataclass
class _Events:
    """Per spike of one kind: kernel sum applied (0 when no pair), whether applied, when."""

    amount: np.ndarray
    paired: np.ndarray
    applied: np.ndarray
    visible_time: np.ndarray


def _pairing(problem):
    conv = problem.conventions
    timing = problem.rule.timing
    resolution = conv.coincidence_tolerance
    fraction = conv.dendritic_delay_fraction
    pre = Trains(problem.pre, (1.0 - fraction) * problem.delay, resolution)
    post = Trains(problem.post, fraction * problem.delay, resolution)
    # Undelayed post times matter only to sPyNNaker's history, window clamp and nearest rule.
    needs_undelayed = (conv.post_history_limit is not None or not conv.post_at_zero_potentiates
                       or (problem.rule.is_nearest and conv.nearest_scheme == "spinnaker"))
    post_undelayed = (Trains(problem.post, np.zeros(len(problem.post)), resolution) if needs_undelayed
                      else None)

    # Partners: how many presynaptic spikes a postsynaptic spike pairs with (by time order),
    # and vice versa, under the zero-lag rule.
    n_pre_for_post = count_before(pre, post.rows, post.keys, inclusive=conv.zero_lag == "potentiation")
    n_post_for_pre = count_before(post, pre.rows, pre.keys, inclusive=conv.zero_lag == "depression")
    has_pre = n_pre_for_post > 0
    has_post = n_post_for_pre > 0
    pre_partner = np.where(has_pre, pre.ptr[post.rows] + n_pre_for_post - 1, 0)
    post_partner = np.where(has_post, post.ptr[pre.rows] + n_post_for_pre - 1, 0)
    pre_partner_time = _gather(pre.times, pre_partner, has_pre)
    post_partner_time = _gather(post.times, post_partner, has_post)
    ltp_kernel = _decay(post.times - pre_partner_time, timing.tau_plus, conv)
    ltd_kernel = _decay(pre.times - post_partner_time, timing.tau_minus, conv)

    # "First postsynaptic spike after its latest presynaptic spike" (nearest schemes).
    first_after_pre = np.ones(len(post.times), dtype=bool)
    later = post.local > 0
    previous = np.flatnonzero(later) - 1
    first_after_pre[later] = n_pre_for_post[later] != n_pre_for_post[previous]
    # NEST's windows are (t_last, t_pre] with t_last starting at 0: a post at synapse time <= 0
    # lies in no window; it pairs with nothing and the next post is still the first of its window.
    nest_window = problem.rule.is_nearest and conv.nearest_scheme != "spinnaker"
    in_window = post.keys > TIE_STEPS if nest_window else np.ones(len(post.times), dtype=bool)
    first_after_pre[later] |= ~in_window[previous]

    # Which updates a run ending at t_stop shows, and when they become visible.
    if problem.t_stop is None:
        pre_processed = np.ones(len(pre.times), dtype=bool)
        post_processed = np.ones(len(post.times), dtype=bool)
    else:
        stop_key = time_keys(problem.t_stop, resolution)
        if conv.events_at_t_stop_processed:
            pre_processed, post_processed = pre.keys <= stop_key + TIE_STEPS, post.keys <= stop_key + TIE_STEPS
        else:
            pre_processed, post_processed = pre.keys < stop_key - TIE_STEPS, post.keys < stop_key - TIE_STEPS
    pre_first = conv.simultaneous_order == "pre_first"
    pre_before_post = (n_pre_for_post if pre_first == (conv.zero_lag == "potentiation")
                       else count_before(pre, post.rows, post.keys, inclusive=pre_first))
    if conv.update_timing == "deferred":
        # Potentiation is applied by the first presynaptic spike processed after it.
        has_next = pre_before_post < pre.counts[post.rows]
        next_pre = np.where(has_next, pre.ptr[post.rows] + pre_before_post, 0)
        ltp_applied = _gather(pre_processed, next_pre, has_next, fill=False)
        ltp_time = _gather(pre.times, next_pre, has_next, fill=np.nan)
        if conv.post_history_limit is not None:
            # The history holds the newest `limit` posts recorded when the applying pre spike
            # is processed; older ones are shifted out with their potentiation.
            next_pre_key = _gather(pre.keys, next_pre, has_next, fill=0)
            recorded = count_before(post_undelayed, post.rows, next_pre_key, inclusive=True)
            oldest_remembered = recorded - conv.post_history_limit
            ltp_applied &= post.local >= oldest_remembered
    else:
        ltp_applied = post_processed
        ltp_time = post.times
    scheme = conv.nearest_scheme if problem.rule.is_nearest else "all_to_all"
    phantom = conv.phantom_presynaptic_spike and scheme != "all_to_all"
    if phantom:
        # A presynaptic spike at synapse time 0 stands in for a missing partner.
        use_phantom = ~has_pre & (post.keys > TIE_STEPS)
        ltp_kernel = np.where(use_phantom, _decay(post.times, timing.tau_plus, conv), ltp_kernel)
        ltp_paired = has_pre | use_phantom
    else:
        ltp_paired = has_pre.copy()
    if not conv.post_at_zero_potentiates:
        ltp_paired &= post_undelayed.keys > TIE_STEPS
    ltp_paired &= in_window
    ltd_paired = has_post.copy()

    if scheme == "all_to_all":
        pre_trace = _recursive_trace(pre, timing.tau_plus, conv)
        post_trace = _recursive_trace(post, timing.tau_minus, conv)
        ltp = _gather(pre_trace, pre_partner, has_pre) * ltp_kernel
        ltd = _gather(post_trace, post_partner, has_post) * ltd_kernel
    elif scheme == "symmetric":
        ltp = np.where(ltp_paired, ltp_kernel, 0.0)
        ltd = np.where(ltd_paired, ltd_kernel, 0.0)
    elif scheme == "presynaptic_centred":
        # Kplus sums the presynaptic spikes since the last facilitation, which resets it;
        # only the first postsynaptic spike after a presynaptic one is facilitated.
        # Post q lies in the window (t_{L-1}, t_L] closed by presynaptic spike L = n_pre_for_post;
        # facilitating the first post of a window resets Kplus before spike L is added.
        closes = first_after_pre & in_window & (n_pre_for_post < pre.counts[post.rows])
        reset = np.zeros(len(pre.times), dtype=bool)
        reset[pre.ptr[post.rows[closes]] + n_pre_for_post[closes]] = True
        pre_trace = _recursive_trace(pre, timing.tau_plus, conv, reset=reset)
        ltp_paired &= first_after_pre & has_pre
        ltp = _gather(pre_trace, pre_partner, ltp_paired) * ltp_kernel
        ltd = np.where(ltd_paired, ltd_kernel, 0.0)
    elif scheme == "restricted":
        ltp_paired &= first_after_pre
        ltp = np.where(ltp_paired, ltp_kernel, 0.0)
        # Depression only if a postsynaptic spike lies in (t_last_pre, t_pre] (NEST gate, which
        # includes lag 0) or (t_last_pre, t_pre) (strict restricted scheme).
        previous_pre_key = np.where(pre.local > 0, np.roll(pre.keys, 1), 0 if phantom else -TIE_STEPS - 1)
        after_previous = count_before(post, pre.rows, previous_pre_key, inclusive=True)
        up_to_now = count_before(
            post, pre.rows, pre.keys, inclusive=conv.restricted_gate_includes_coincident_post
        )
        ltd_paired &= up_to_now > after_previous
        ltd = np.where(ltd_paired, ltd_kernel, 0.0)
    elif scheme == "spinnaker":
        # A postsynaptic spike potentiates only if the previous postsynaptic spike (undelayed
        # time; a placeholder at 0 before the first) is not later than the latest pre spike.
        # When the history overflowed, the oldest remembered post's predecessor is gone and
        # the placeholder (time 0) takes its place, so it potentiates as if first.
        partner_key = _gather(pre.keys, pre_partner, has_pre, fill=0)
        has_previous = later
        if conv.update_timing == "deferred" and conv.post_history_limit is not None:
            has_previous = later & (post.local > oldest_remembered)
        previous_post_key = np.where(has_previous, np.roll(post_undelayed.keys, 1), 0)
        ltp_paired &= previous_post_key <= partner_key + TIE_STEPS
        ltp = np.where(ltp_paired, ltp_kernel, 0.0)
        ltd = np.where(ltd_paired, ltd_kernel, 0.0)
    else:  # pragma: no cover - Conventions validates the scheme
        raise AssertionError(scheme)

    potentiation = _Events(ltp, ltp_paired, ltp_applied & ltp_paired, ltp_time)
    depression = _Events(ltd, ltd_paired, pre_processed & ltd_paired, pre.times)

    # Position of every event in its synapse's time-ordered sequence.
    post_first = conv.simultaneous_order == "post_first"
    post_before_pre = (n_post_for_pre if post_first == (conv.zero_lag == "depression")
                       else count_before(post, pre.rows, pre.keys, inclusive=post_first))
    pre_position = pre.local + post_before_pre
    post_position = post.local + pre_before_post
    return pre, post, potentiation, depression, pre_position, post_position


# ---------------------------------------------------------------------------------------------
# Stage 2: weight dynamics


#: Largest padded (synapses × events) block computed at once; larger batches are split into
#: groups of similar train lengths, so memory follows the number of spikes, not
#: n_synapses × the longest train (≈ 32 MB per float array at this size).
BLOCK_CELLS = 4_000_000


def _run(problem, record):
    counts = np.array([len(p) + len(q) for p, q in zip(problem.pre, problem.post)], dtype=np.int64)
    n = len(counts)
    if n == 0 or n * int(counts.max()) <= BLOCK_CELLS:
        return _run_block(problem, record)
    order = np.argsort(counts, kind="stable")
    weights = np.empty(n)
    trajectories = [None] * n if record else None
    start = 0
    while start < n:
        stop = start + 1
        while stop < n and (stop + 1 - start) * max(int(counts[order[stop]]), 1) <= BLOCK_CELLS:
            stop += 1
        chunk = order[start:stop]
        part = _Problem(
            [problem.pre[i] for i in chunk], [problem.post[i] for i in chunk], problem.rule, problem.conventions,
            problem.delay[chunk], problem.initial_weight[chunk], problem.t_stop,
        )
        chunk_weights, chunk_trajectories = _run_block(part, record)
        weights[chunk] = chunk_weights
        if record:
            for index, trajectory in zip(chunk, chunk_trajectories):
                trajectories[index] = trajectory
        start = stop
    return weights, trajectories


def _run_block(problem, record):
    pre, post, potentiation, depression, pre_position, post_position = _pairing(problem)
    rule = problem.rule
    timing, bounds = rule.timing, rule.weight
    # Events in synapse-time order, flat (CSR): row r holds pre.counts[r] + post.counts[r] events.
    counts = pre.counts + post.counts
    ptr = np.concatenate([[0], np.cumsum(counts)])
    rows = np.repeat(np.arange(len(counts)), counts)
    local = np.arange(int(ptr[-1])) - ptr[rows]
    post_slot = ptr[post.rows] + post_position
    pre_slot = ptr[pre.rows] + pre_position
    a_plus = timing.A_plus * potentiation.amount * potentiation.applied
    a_minus = timing.A_minus * depression.amount * depression.applied
    if rule.is_gutig:
        # Not affine in w: w + A+·S·((w_max − w)/S)^μ+ or w − A−·S·((w − w_min)/S)^μ−,
        # S = w_max − w_min, then the clip (NEST stdp_synapse ``facilitate_`` / ``depress_``).
        up = np.zeros(len(rows))
        down = np.zeros(len(rows))
        up[post_slot] = a_plus
        down[pre_slot] = a_minus
        weight, history = kernels.gutig_weights(problem.initial_weight, up, down, ptr, rows, local, bounds.w_min,
                                                bounds.w_max, bounds.mu_plus, bounds.mu_minus, record)
    else:
        # Each event is an affine map of w: w + (w_max − w)·a and w − (w − w_min)·b
        # (multiplicative halves), or w ± gain·a (additive halves; gain = w_max or 1, a
        # backend convention).
        alpha = np.ones(len(rows))
        beta = np.zeros(len(rows))
        gain = problem.conventions.amplitude_gain(rule)
        if rule.is_multiplicative:
            alpha[post_slot] = 1.0 - a_plus
            beta[post_slot] = a_plus * bounds.w_max
        else:
            beta[post_slot] = gain * a_plus
        if rule.depression_multiplicative:
            alpha[pre_slot] = 1.0 - a_minus
            beta[pre_slot] = a_minus * bounds.w_min
        else:
            beta[pre_slot] = -gain * a_minus
        clip = problem.conventions.clip_multiplicative if rule.is_multiplicative else True
        low, high = (bounds.w_min, bounds.w_max) if clip else (-np.inf, np.inf)
        weight, history = kernels.affine_weights(problem.initial_weight, alpha, beta, ptr, rows, local, low, high,
                                                 rule.depression_multiplicative, record)
    if not record:
        return weight, None
    return weight, _trajectories(potentiation, depression, pre_slot, post_slot, ptr, history)


def _trajectories(potentiation, depression, pre_slot, post_slot, ptr, history):
    """One :class:`WeightTrajectory` per synapse from the weight after every event (flat)."""
    applied = np.zeros(len(history), dtype=bool)
    times = np.full(len(history), np.nan)
    kinds = np.zeros(len(history), dtype=np.int8)
    applied[post_slot] = potentiation.applied
    applied[pre_slot] = depression.applied
    times[post_slot] = potentiation.visible_time
    times[pre_slot] = depression.visible_time
    kinds[post_slot] = POTENTIATION
    kinds[pre_slot] = DEPRESSION
    trajectories = []
    for start, stop in zip(ptr[:-1], ptr[1:]):
        keep = applied[start:stop]
        trajectories.append(WeightTrajectory(times[start:stop][keep], history[start:stop][keep],
                                             kinds[start:stop][keep]))
    return trajectories


# ---------------------------------------------------------------------------------------------
# Public API


def predict_weights(
    pre_spike_times,
    post_spike_times,
    rule,
    *,
    delay,
    initial_weight,
    conventions,
    t_stop=None,
):
    """Final weight of each synapse as the backend reports it after a run ending at ``t_stop``.

    Parameters
    ----------
    pre_spike_times, post_spike_times
        One synapse (1-D sequences of spike emission times, ms) or many (a sequence of
        such trains, one per synapse). Times must be finite, >= 0 and sorted; a repeated time
        is several spikes at that time (spike multiplicity), each its own event, as NEST's
        ``stdp_synapse`` and sPyNNaker's row processing treat them (measured on NEST 3.10).
        Use the *recorded* times of a run: the model separates plasticity from neuron dynamics.
    rule
        :class:`~stdp_validation.rules.STDPRule`.
    delay
        Connection delay in ms (scalar or one per synapse), split by the conventions'
        ``dendritic_delay_fraction``.
    initial_weight
        Weight before the run (scalar or one per synapse), within [w_min, w_max].
    conventions
        A :class:`~stdp_validation.conventions.Conventions` or a name in ``CONVENTIONS``.
    t_stop
        End of the run in ms; ``None`` processes every spike. Deferred backends show only the
        updates applied by presynaptic spikes processed by then.

    Returns
    -------
    numpy.ndarray of shape (n_synapses,) (length 1 for a single synapse).
    """
    problem = _prepare(pre_spike_times, post_spike_times, rule, delay, initial_weight, conventions, t_stop)
    weight, _ = _run(problem, record=False)
    return weight


def predict_trajectory(
    pre_spike_times,
    post_spike_times,
    rule,
    *,
    delay,
    initial_weight,
    conventions,
    t_stop=None,
):
    """Weight after every update event, with the time it becomes visible, per synapse.

    Same inputs as :func:`predict_weights`. Returns a list with one
    :class:`WeightTrajectory` per synapse (length 1 for a single synapse); the last weight of
    a non-empty trajectory equals :func:`predict_weights`' result.
    """
    problem = _prepare(pre_spike_times, post_spike_times, rule, delay, initial_weight, conventions, t_stop)
    _, trajectories = _run(problem, record=True)
    return trajectories


def stdp_window(lags, rule, conventions, *, initial_weight=None):
    """Weight change Δw of one isolated pre/post pair at each synapse lag (ms).

    The lag is s = t_post − t_pre as the synapse sees them (delay already applied by the
    backend's convention). Additive rules: ±A·(w_max or 1)·e^(−|s|/τ); multiplicative rules
    are evaluated at ``initial_weight`` (default: the middle of [w_min, w_max]). Lag 0 follows
    the conventions' ``zero_lag`` rule. No clipping: this is the kernel, not a trajectory.
    """
    if not isinstance(rule, STDPRule):
        raise ParameterError(f"rule must be an STDPRule; got {rule!r}")
    conv = resolve_conventions(conventions)
    check_supported(rule, conv)
    try:
        lags = np.asarray(lags, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"lags must be a number or a sequence of numbers (ms); got {lags!r}") from None
    if not np.isfinite(lags).all():
        raise ParameterError("lags must be finite numbers of ms; got a NaN or infinite value")
    timing, bounds = rule.timing, rule.weight
    gain_plus = gain_minus = conv.amplitude_gain(rule)
    if rule.is_gutig:
        w0 = (bounds.w_min + bounds.w_max) / 2 if initial_weight is None else check_finite(
            "initial_weight", initial_weight, low=bounds.w_min, high=bounds.w_max
        )
        span = bounds.w_max - bounds.w_min
        gain_plus = span * ((bounds.w_max - w0) / span) ** bounds.mu_plus if span > 0 else 0.0
        gain_minus = span * ((w0 - bounds.w_min) / span) ** bounds.mu_minus if span > 0 else 0.0
    elif rule.depression_multiplicative:
        w0 = (bounds.w_min + bounds.w_max) / 2 if initial_weight is None else check_finite(
            "initial_weight", initial_weight, low=bounds.w_min, high=bounds.w_max
        )
        gain_minus = w0 - bounds.w_min
        if rule.is_multiplicative:
            gain_plus = bounds.w_max - w0
    zero = np.abs(lags) <= conv.coincidence_tolerance
    ltp = gain_plus * timing.A_plus * _decay(lags, timing.tau_plus, conv)
    ltd = -gain_minus * timing.A_minus * _decay(lags, timing.tau_minus, conv)
    result = np.where(lags > 0, ltp, ltd)
    zero_value = {"ignore": 0.0, "potentiation": ltp, "depression": ltd}[conv.zero_lag]
    return np.where(zero, zero_value, result)
