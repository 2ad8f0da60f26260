"""Batching a protocol into one simulation vs one simulation per case; the whole main job.

Targets (issue "Run the protocols through PyNN"): the 101-case window as one simulation is
≥ 50× faster than 101 single-case simulations on Brian2 and ≥ 10× on NEST; the default
``stdp-validate`` run on Brian2 + NEST takes < 60 s on a 2-core machine. The single-case
side runs a sample of the cases and is scaled to all 101 (each single-case simulation costs
the same: same network size, same duration); the sample size is in ``extra_info``.
"""

import time

import pytest

from stdp_validation.backends import get_backend, unavailable_reason
from stdp_validation.protocols import window_protocol
from stdp_validation.run import run_validation

TARGET_RATIO = {"brian2": 50.0, "nest": 10.0}
SAMPLE = {"brian2": 5, "nest": 20}


def need(backend):
    reason = unavailable_reason(backend)
    if reason:
        pytest.skip(reason)


@pytest.mark.benchmark(group="window-batching")
@pytest.mark.parametrize("backend", ["brian2", "nest"])
def test_window_batched_vs_single_case_simulations(benchmark, backend):
    need(backend)
    protocol = window_protocol()
    runner = get_backend(backend)
    list(runner.run([window_protocol([0.0])]))  # imports and one-off set-up outside the timing

    started = time.perf_counter()
    for lag in protocol.cases[: SAMPLE[backend]]:
        list(runner.run([window_protocol([lag.parameter])]))
    per_case = (time.perf_counter() - started) / SAMPLE[backend]
    single_total = per_case * len(protocol.cases)

    benchmark.pedantic(lambda: list(runner.run([protocol])), rounds=3, iterations=1, warmup_rounds=1)
    batched = benchmark.stats.stats.mean
    ratio = single_total / batched
    benchmark.extra_info.update(
        {"single_case_seconds_each": per_case, "single_case_sample": SAMPLE[backend],
         "single_cases_total_seconds_scaled": single_total, "speed_ratio": ratio, "target_ratio": TARGET_RATIO[backend]}
    )
    print(f"\n{backend}: batched {batched:.2f} s, 101 single-case runs ≈ {single_total:.1f} s, ratio {ratio:.0f}×")


@pytest.mark.benchmark(group="main-job")
def test_default_main_job(benchmark, tmp_path):
    need("brian2")
    need("nest")
    run = benchmark.pedantic(run_validation, kwargs={"out_dir": tmp_path, "progress": lambda line: None},
                             rounds=1, iterations=1)
    assert not run.errors
    benchmark.extra_info["target_seconds"] = 60.0
