"""The network-scale reference job, run in its own process so that its peak memory is its own.

``python -m support.network_job N_PRE N_POST SPIKES SEED`` builds N_PRE presynaptic and N_POST
postsynaptic trains of SPIKES Poisson-like spikes (≈ 10 Hz, 1 ms refractory gap), connects
them all-to-all (N_PRE·N_POST synapses; each train object is shared by all its synapses, as
in a recorded network), predicts every final weight (additive pair rule, "nest" conventions,
delay 1 ms, w0 0.5) and prints JSON: seconds of ``predict_weights``, the process's peak
resident memory (bytes), the synapse count and a sample of (pre, post, weight).
"""

import json
import resource
import sys
import time

import numpy as np

from stdp_validation import AdditiveWeightDependence, SpikePairRule, STDPRule, predict_weights

RULE = STDPRule(SpikePairRule(20.0, 20.0, 0.01, 0.012), AdditiveWeightDependence(0.0, 1.0))
DELAY_MS = 1.0
INITIAL_WEIGHT = 0.5
SAMPLE = 100


def trains(rng, n, spikes):
    return [np.round(np.cumsum(1.0 + rng.exponential(99.0, spikes)), 3) for _ in range(n)]


def main(n_pre, n_post, spikes, seed):
    rng = np.random.default_rng(seed)
    pre, post = trains(rng, n_pre, spikes), trains(rng, n_post, spikes)
    pre_index = np.repeat(np.arange(n_pre), n_post)
    post_index = np.tile(np.arange(n_post), n_pre)
    started = time.perf_counter()
    weights = predict_weights([pre[i] for i in pre_index], [post[j] for j in post_index], RULE, delay=DELAY_MS,
                              initial_weight=INITIAL_WEIGHT, conventions="nest")
    seconds = time.perf_counter() - started
    sample = rng.choice(len(weights), size=min(SAMPLE, len(weights)), replace=False)
    print(json.dumps({
        "seconds": seconds,
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "synapses": int(len(weights)),
        "sample": [[int(pre_index[k]), int(post_index[k]), float(weights[k])] for k in sample],
    }))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:5]))
