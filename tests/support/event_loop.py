"""Independent per-event reference for pair-based STDP (test support, not part of the package).

This is the *second opinion* on :mod:`stdp_validation.reference`. It is written from the
backend fact sheets (NEST/Brian2 §1.2-1.5 and §2, sPyNNaker §3, §4 and §6) and from the
:class:`~stdp_validation.conventions.Conventions` docstring, in the style of NEST's C++
``send()``: one synapse at a time, one event at a time, with the per-synapse state a
simulator keeps (pre trace, post trace, last spike times, pending potentiations, ...).
It deliberately shares no index arithmetic with the vectorised model; the only things it
imports from the package are the data classes and the sPyNNaker table length
(:func:`~stdp_validation.conventions.exponential_table_length`, a formula from the fact sheet).

Semantics, as implemented here
------------------------------
* Synapse-side times: a pre spike at ``t_pre`` is seen at ``t_pre + (1 - f)·d``, a post spike
  at ``t_post + f·d`` (``f = dendritic_delay_fraction``).
* Coincidence: two times are *simultaneous* when they are closer than
  ``coincidence_tolerance`` (``abs(a - b) <= tol``). Merged events are clustered by that rule
  (a new cluster starts when the gap to the previous event is >= tol). Within a cluster, posts
  come first for ``simultaneous_order="post_first"``, pres first otherwise.
* Pairing is a property of the spike times, not of the processing order: a post pairs with
  the pre spikes strictly before it (and the simultaneous ones when ``zero_lag ==
  "potentiation"``), a pre with the post spikes strictly before it (and the simultaneous ones
  when ``zero_lag == "depression"``).
* All-to-all traces: ``x <- x·decay(Δt) + 1`` at every pre (tau_plus), ``y`` likewise at every
  post (tau_minus); LTP kernel ``x·decay(t_post - t_last_pre)``, LTD kernel
  ``y·decay(t_pre - t_last_post)``.
* Nearest schemes: ``symmetric``, ``presynaptic_centred``, ``restricted`` and ``spinnaker``
  as described in :func:`_Synapse.pair_post` / :func:`_Synapse.pair_pre`.
* ``update_timing="deferred"``: a post's potentiation is queued and applied, before that
  pre's own depression, by the next pre event the loop processes; the queue is lost at the
  end of the run. ``post_history_limit`` models sPyNNaker's per-neuron post buffer (a fixed
  placeholder entry at time 0 followed by the ``limit`` newest spikes): when a pre at synapse
  time T applies the queue, only the ``limit`` newest posts with undelayed time <= T are
  remembered, and for the ``spinnaker`` nearest scheme the "previous post" of the oldest
  remembered one is the placeholder (time 0), as the buffer walk stops at slot 0.
* End of run: an event is processed if its time is <= t_stop (``events_at_t_stop_processed``)
  or < t_stop, where "=" means "simultaneous".
* Clipping to [w_min, w_max] after every single update (multiplicative: only when
  ``clip_multiplicative``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from stdp_validation import CONVENTIONS, Conventions, MultiplicativeWeightDependence, SpikeNearestPairRule
from stdp_validation.conventions import exponential_table_length

__all__ = [
    "LoopResult",
    "event_loop_batch",
    "event_loop_batch_results",
    "event_loop_run",
    "event_loop_weights",
]

#: Slack when rounding presynaptic times up to the grid, so on-grid times stay put (ms/ms).
GRID_SLACK = 1e-9

PRE, POST = "pre", "post"


@dataclass
class LoopResult:
    """Final weight and every applied update (synapse time it became visible, weight, kind)."""

    weight: float
    times: list = field(default_factory=list)
    weights: list = field(default_factory=list)
    kinds: list = field(default_factory=list)  # +1 potentiation, -1 depression

    @property
    def n_updates(self) -> int:
        return len(self.kinds)


def _conventions(conventions) -> Conventions:
    if isinstance(conventions, Conventions):
        return conventions
    return CONVENTIONS[conventions]


class _Synapse:
    """State of one plastic synapse while its events are walked in time order."""

    def __init__(self, pre, post, rule, delay, initial_weight, conv, t_stop):
        self.conv = conv
        self.timing = rule.timing
        self.bounds = rule.weight
        self.multiplicative = isinstance(rule.weight, MultiplicativeWeightDependence)
        self.scheme = conv.nearest_scheme if isinstance(rule.timing, SpikeNearestPairRule) else None
        if isinstance(rule.timing, SpikeNearestPairRule) and self.scheme is None:
            raise ValueError(f"{conv.name!r} has no nearest-neighbour scheme")
        self.phantom = conv.phantom_presynaptic_spike and self.scheme is not None
        self.tol = conv.coincidence_tolerance
        self.t_stop = t_stop

        # --- time base -------------------------------------------------------------------
        step = conv.timestep
        pre = [float(t) for t in pre]
        post = [float(t) for t in post]
        d = float(delay)
        if step is not None:
            d = round(d / step) * step  # nearest step (ties to even, like numpy.rint)
            if conv.presynaptic_rounding == "ceil":
                pre = [math.ceil(t / step - GRID_SLACK) * step for t in pre]
            elif conv.presynaptic_rounding == "ceil_microseconds":
                # sPyNNaker SpikeSourceArray: truncate to whole µs, then round up to the tick.
                micro = math.ceil(step * 1000.0)
                pre = [math.ceil(math.floor(t * 1000.0) / micro) * step for t in pre]
            elif conv.presynaptic_rounding == "nearest":
                pre = [round(t / step) * step for t in pre]
        f = conv.dendritic_delay_fraction
        self.post_undelayed = post
        self.pre_t = [t + (1.0 - f) * d for t in pre]
        self.post_t = [t + f * d for t in post]

        # --- weight ----------------------------------------------------------------------
        self.w = float(initial_weight)
        self.scale = self.bounds.w_max if conv.amplitude_scaling == "w_max" else 1.0
        self.result = LoopResult(weight=self.w)

        # --- pairing state (what the synapse knows about spikes, by time) -----------------
        self.n_pre = 0  # pre spikes in the pre-side state
        self.last_pre = None  # their latest synapse time
        self.x = 0.0  # all-to-all pre trace just after last_pre
        self.kplus = 0.0  # presynaptic-centred Kplus (reset by facilitation)
        self.n_pre_at_last_post = None  # n_pre when the previous post was paired
        self.prev_post_undelayed = 0.0  # sPyNNaker: placeholder entry at time 0
        self.n_post = 0
        self.last_post = None
        self.y = 0.0  # all-to-all post trace just after last_post
        # restricted gate: posts strictly after the gate's last pre, before the current cluster
        self.gate_last_pre = 0.0 if self.phantom else None
        self.gate_posts = 0

        # --- processing state --------------------------------------------------------------
        self.pending = []  # deferred potentiation: (post index, paired, kernel, partner pre time)
        self.recorded = 0  # posts whose undelayed time is <= the current pre time

    # -- time comparisons on the coincidence tolerance -------------------------------------

    def same(self, a, b):
        return abs(a - b) <= self.tol

    def before(self, a, b):
        """a strictly earlier than b."""
        return a < b and not self.same(a, b)

    def at_or_before(self, a, b):
        return a < b or self.same(a, b)

    def processed(self, t):
        if self.t_stop is None:
            return True
        if self.conv.events_at_t_stop_processed:
            return self.at_or_before(t, self.t_stop)
        return self.before(t, self.t_stop)

    def decay(self, lag, tau):
        lag = abs(lag)
        step = self.conv.timestep
        if self.conv.exponential_table and step is not None:
            if round(lag / step) >= exponential_table_length(tau, step):
                return 0.0
        return math.exp(-lag / tau)

    # -- state updates (spikes entering the synapse's memory) ------------------------------

    def add_pre(self, i):
        t = self.pre_t[i]
        if self.last_pre is None:
            self.x = 1.0
            self.kplus = self.kplus + 1.0
        else:
            factor = self.decay(t - self.last_pre, self.timing.tau_plus)
            self.x = self.x * factor + 1.0
            self.kplus = self.kplus * factor + 1.0
        self.last_pre = t
        self.n_pre += 1

    def add_post(self, j):
        t = self.post_t[j]
        if self.last_post is None:
            self.y = 1.0
        else:
            self.y = self.y * self.decay(t - self.last_post, self.timing.tau_minus) + 1.0
        self.last_post = t
        self.n_post += 1

    # -- pairing ----------------------------------------------------------------------------

    def pair_post(self, j):
        """(paired, kernel, partner) of the potentiation caused by post j, given the pre-side state.

        ``partner`` is the synapse time of the pre spike it would pair with (None: none).
        """
        paired, kernel, partner = self._pair_post(j)
        at_zero = self.post_undelayed[j] <= 0.0 or self.same(self.post_undelayed[j], 0.0)
        if at_zero and not self.conv.post_at_zero_potentiates:
            return False, 0.0, None  # sPyNNaker: the window (t_last_pre − d, t_pre − d] starts after 0
        return paired, kernel, partner

    def _pair_post(self, j):
        t = self.post_t[j]
        tau = self.timing.tau_plus
        first_after_pre = self.n_pre_at_last_post is None or self.n_pre != self.n_pre_at_last_post
        # NEST reads posts in windows (t_last, t_pre] with t_last starting at 0: a post at synapse
        # time <= 0 is in no window: it pairs with nothing, resets nothing and does not stop the
        # next post being the first of its window.
        in_window = t > 0.0 and not self.same(t, 0.0)
        if self.scheme not in (None, "spinnaker") and not in_window:
            return False, 0.0, None
        self.n_pre_at_last_post = self.n_pre
        if self.scheme is None:  # all-to-all
            if self.n_pre == 0:
                return False, 0.0, None
            return True, self.x * self.decay(t - self.last_pre, tau), self.last_pre

        # nearest preceding pre, or the phantom pre at synapse time 0
        if self.n_pre > 0:
            partner = self.last_pre
        elif self.phantom and not self.same(t, 0.0) and t > 0.0:
            partner = 0.0
        else:
            partner = None

        if self.scheme == "symmetric":
            # NEST stdp_nn_symm: every post with its nearest preceding pre.
            if partner is None:
                return False, 0.0, None
            return True, self.decay(t - partner, tau), partner
        if self.scheme == "presynaptic_centred":
            # NEST stdp_nn_pre_centered: only the first post after a pre is facilitated, with
            # Kplus (all pres since the last facilitation), and Kplus is reset to 0.
            paired = first_after_pre and self.n_pre > 0
            kernel = self.kplus * self.decay(t - self.last_pre, tau) if paired else 0.0
            if first_after_pre:
                self.kplus = 0.0
            return paired, kernel, self.last_pre
        if self.scheme == "restricted":
            # NEST stdp_nn_restr: only the first post after a pre, with that pre.
            if partner is None or not first_after_pre:
                return False, 0.0, partner
            return True, self.decay(t - partner, tau), partner
        if self.scheme == "spinnaker":
            # sPyNNaker nearest pair: potentiate with the last pre only if the previous post's
            # *undelayed* time (placeholder 0 before the first post) is not after that pre.
            previous = self.prev_post_undelayed
            self.prev_post_undelayed = self.post_undelayed[j]
            return self.spinnaker_potentiation(t, previous, partner) + (partner,)
        raise AssertionError(self.scheme)

    def spinnaker_potentiation(self, t, previous, partner):
        """(paired, kernel): only if the previous post (undelayed) is not after the partner."""
        if partner is None or not self.at_or_before(previous, partner):
            return False, 0.0
        return True, self.decay(t - partner, self.timing.tau_plus)

    def pair_pre(self, i, cluster_posts):
        """(paired, kernel) of the depression caused by pre i, given the post-side state."""
        t = self.pre_t[i]
        tau = self.timing.tau_minus
        # Restricted-scheme gate: is there a post in (t_last_pre, t_pre] (or (…, t_pre))?
        if self.gate_last_pre is not None and self.same(self.gate_last_pre, t):
            window_posts = 0
        else:
            window_posts = self.gate_posts
            if self.conv.restricted_gate_includes_coincident_post:
                window_posts += sum(
                    1
                    for j in cluster_posts
                    if self.gate_last_pre is None or not self.same(self.post_t[j], self.gate_last_pre)
                )
        self.gate_last_pre = t
        self.gate_posts = 0

        if self.n_post == 0:
            return False, 0.0
        if self.scheme is None:
            return True, self.y * self.decay(t - self.last_post, tau)
        if self.scheme == "restricted" and window_posts == 0:
            return False, 0.0
        return True, self.decay(t - self.last_post, tau)

    # -- weight updates -----------------------------------------------------------------------

    def _clip(self):
        if not self.multiplicative or self.conv.clip_multiplicative:
            self.w = min(max(self.w, self.bounds.w_min), self.bounds.w_max)

    def potentiate(self, kernel, time):
        a = self.timing.A_plus
        if self.multiplicative:
            self.w = self.w + (self.bounds.w_max - self.w) * a * kernel
        else:
            self.w = self.w + a * self.scale * kernel
        self._clip()
        self._record(time, +1)

    def depress(self, kernel, time):
        a = self.timing.A_minus
        if self.multiplicative:
            self.w = self.w - (self.w - self.bounds.w_min) * a * kernel
        else:
            self.w = self.w - a * self.scale * kernel
        self._clip()
        self._record(time, -1)

    def _record(self, time, kind):
        self.result.times.append(time)
        self.result.weights.append(self.w)
        self.result.kinds.append(kind)

    # -- the loop ---------------------------------------------------------------------------

    def clusters(self):
        """Merged events in time order, grouped into clusters of simultaneous events."""
        events = sorted(
            [(t, PRE, i) for i, t in enumerate(self.pre_t)] + [(t, POST, j) for j, t in enumerate(self.post_t)]
        )
        cluster, last_time = [], None
        for time, kind, index in events:
            if cluster and not self.same(time, last_time):
                yield cluster
                cluster = []
            cluster.append((kind, index))
            last_time = time
        if cluster:
            yield cluster

    def run(self) -> LoopResult:
        conv = self.conv
        deferred = conv.update_timing == "deferred"
        limit = conv.post_history_limit if deferred else None
        first_kind = POST if conv.simultaneous_order == "post_first" else PRE
        for cluster in self.clusters():
            pres = sorted(i for kind, i in cluster if kind == PRE)
            posts = sorted(j for kind, j in cluster if kind == POST)

            # 1. Pairing: which spikes each event pairs with follows from the times and the
            #    zero-lag rule, whatever the processing order inside the cluster.
            ltp, ltd = {}, {}
            if conv.zero_lag == "potentiation":
                for i in pres:
                    self.add_pre(i)
                for j in posts:
                    ltp[j] = self.pair_post(j)
            else:
                for j in posts:
                    ltp[j] = self.pair_post(j)
                for i in pres:
                    self.add_pre(i)
            if conv.zero_lag == "depression":
                for j in posts:
                    self.add_post(j)
                for i in pres:
                    ltd[i] = self.pair_pre(i, posts)
            else:
                for i in pres:
                    ltd[i] = self.pair_pre(i, posts)
                for j in posts:
                    self.add_post(j)
            if not pres:
                self.gate_posts += sum(
                    1
                    for j in posts
                    if self.gate_last_pre is None or not self.same(self.post_t[j], self.gate_last_pre)
                )

            # 2. Processing, in the backend's order for simultaneous events.
            ordered = [(first_kind, k) for k in (posts if first_kind == POST else pres)]
            ordered += [(PRE if first_kind == POST else POST, k) for k in (pres if first_kind == POST else posts)]
            for kind, k in ordered:
                if kind == POST:
                    paired, kernel, partner = ltp[k]
                    if deferred:
                        self.pending.append((k, paired, kernel, partner))
                    elif paired and self.processed(self.post_t[k]):
                        self.potentiate(kernel, self.post_t[k])
                    continue
                t = self.pre_t[k]
                if not self.processed(t):
                    continue
                if deferred:
                    oldest_remembered = 0
                    if limit is not None:
                        while self.recorded < len(self.post_undelayed) and self.at_or_before(
                            self.post_undelayed[self.recorded], t
                        ):
                            self.recorded += 1
                        oldest_remembered = self.recorded - limit
                    for j, paired, kernel, partner in self.pending:
                        if j < oldest_remembered:
                            continue  # shifted out of the post history with its potentiation
                        if self.scheme == "spinnaker" and limit is not None:
                            # The buffer walk takes the previous entry in the buffer, or the
                            # placeholder at time 0 for the oldest remembered post.
                            in_buffer = j - 1 >= max(0, oldest_remembered)
                            previous = self.post_undelayed[j - 1] if in_buffer else 0.0
                            paired, kernel = self.spinnaker_potentiation(self.post_t[j], previous, partner)
                        if paired:
                            self.potentiate(kernel, t)
                    self.pending = []
                paired, kernel = ltd[k]
                if paired:
                    self.depress(kernel, t)
        self.result.weight = self.w
        return self.result


def event_loop_run(pre_spike_times, post_spike_times, rule, *, delay, initial_weight, conventions, t_stop=None):
    """One synapse: :class:`LoopResult` with the final weight and every applied update."""
    conv = _conventions(conventions)
    synapse = _Synapse(pre_spike_times, post_spike_times, rule, delay, initial_weight, conv, t_stop)
    return synapse.run()


def event_loop_weights(pre_spike_times, post_spike_times, rule, *, delay, initial_weight, conventions, t_stop=None):
    """Final weight of one synapse (1-D spike-time lists in ms) as a float."""
    return event_loop_run(
        pre_spike_times,
        post_spike_times,
        rule,
        delay=delay,
        initial_weight=initial_weight,
        conventions=conventions,
        t_stop=t_stop,
    ).weight


def _per_synapse(value, n):
    if np.ndim(value) == 0:
        return [float(value)] * n
    values = [float(v) for v in value]
    if len(values) != n:
        raise ValueError(f"expected {n} values, got {len(values)}")
    return values


def event_loop_batch_results(pre_trains, post_trains, rule, *, delay, initial_weight, conventions, t_stop=None):
    """:class:`LoopResult` per synapse; ``delay`` and ``initial_weight`` scalar or one per synapse."""
    if len(pre_trains) != len(post_trains):
        raise ValueError("pre_trains and post_trains must have the same length")
    n = len(pre_trains)
    delays = _per_synapse(delay, n)
    weights = _per_synapse(initial_weight, n)
    conv = _conventions(conventions)
    return [
        _Synapse(pre, post, rule, d, w, conv, t_stop).run()
        for pre, post, d, w in zip(pre_trains, post_trains, delays, weights)
    ]


def event_loop_batch(pre_trains, post_trains, rule, *, delay, initial_weight, conventions, t_stop=None):
    """Final weights of many synapses (one Python loop over synapses) as an array."""
    results = event_loop_batch_results(
        pre_trains, post_trains, rule, delay=delay, initial_weight=initial_weight, conventions=conventions, t_stop=t_stop
    )
    return np.array([r.weight for r in results], dtype=float)
