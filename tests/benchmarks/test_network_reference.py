"""The reference model at network scale: 10^6 synapses × 100 presynaptic spikes.

1000 presynaptic and 1000 postsynaptic trains of 100 spikes each (≈ 10 Hz), all-to-all: every
train is shared by 1000 synapses, as the recorded trains of a network are. The job runs in a
subprocess (tests/support/network_job.py) so that its peak resident memory is measured on its
own. Targets (issue "Speed"): < 10 s and < 4 GB. A sample of 100 synapses is checked against
the independent per-event loop (tests/support/event_loop.py), so the timed result is also right.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from support.event_loop import event_loop_batch
from support.network_job import DELAY_MS, INITIAL_WEIGHT, RULE, trains

pytestmark = pytest.mark.benchmark

N_PRE = N_POST = 1000
SPIKES = 100
SEED = 20261203
TARGET_SECONDS = 10.0
TARGET_BYTES = 4 * 2**30
TESTS = Path(__file__).resolve().parents[1]


def _job():
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))}
    output = subprocess.run([sys.executable, "-m", "support.network_job", str(N_PRE), str(N_POST), str(SPIKES),
                             str(SEED)], env=environment, capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


@pytest.mark.benchmark(group="reference-network")
def test_network_of_a_million_synapses(benchmark):
    result = benchmark.pedantic(_job, rounds=1, iterations=1)
    assert result["synapses"] == N_PRE * N_POST
    # The same trains again (same seed, same order of draws) for the independent check.
    rng = np.random.default_rng(SEED)
    pre, post = trains(rng, N_PRE, SPIKES), trains(rng, N_POST, SPIKES)
    sample = result["sample"]
    expected = event_loop_batch([pre[i] for i, _, _ in sample], [post[j] for _, j, _ in sample], RULE,
                                delay=[DELAY_MS] * len(sample), initial_weight=[INITIAL_WEIGHT] * len(sample),
                                conventions="nest")
    np.testing.assert_allclose([w for _, _, w in sample], expected, rtol=0, atol=1e-12)
    gib = result["max_rss_bytes"] / 2**30
    benchmark.extra_info.update(synapses=result["synapses"], predict_seconds=result["seconds"], peak_memory_gib=gib,
                                target_seconds=TARGET_SECONDS, target_memory_gib=TARGET_BYTES / 2**30)
    print(f"\n10^6 synapses: predict_weights {result['seconds']:.1f} s, peak memory {gib:.2f} GiB "
          f"(targets < {TARGET_SECONDS:.0f} s, < {TARGET_BYTES / 2**30:.0f} GiB)")
    missed = [f"{result['seconds']:.1f} s (target < {TARGET_SECONDS:.0f} s)"] if result["seconds"] >= TARGET_SECONDS else []
    missed += [f"{gib:.2f} GiB (target < 4 GiB)"] if result["max_rss_bytes"] >= TARGET_BYTES else []
    if missed:
        pytest.xfail("network-scale target missed: " + ", ".join(missed))
