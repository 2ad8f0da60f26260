"""Batching a protocol into one simulation vs one simulation per case; the whole main job.

Targets: the 101-case window as one simulation is ≥ 50× faster than 101 single-case
simulations on Brian2 and ≥ 10× on NEST; the whole default ``stdp-validate`` (every backend,
the rule matrix, the report) takes < 60 s on a 2-core machine. The single-case
side runs a sample of the cases and is scaled to all 101 (each single-case simulation costs
the same: same network size, same duration); the sample size is in ``extra_info``.
"""

import time

import pytest

from stdp_validation.backends import get_backend, unavailable_reason
from stdp_validation.cli import DEFAULT_JOBS
from stdp_validation.protocols import window_protocol
from stdp_validation.report import write_report
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
    """The whole default ``stdp-validate``: every backend (in parallel processes, one per core,
    as the command runs them), the rule matrix and the report; per-phase seconds in extra_info."""
    need("brian2")
    need("nest")

    def main_job():
        started = time.perf_counter()
        run = run_validation(out_dir=tmp_path, progress=lambda line: None, jobs=DEFAULT_JOBS)
        simulated = time.perf_counter() - started
        write_report(run.directory)
        return run, simulated, time.perf_counter() - started - simulated

    run, simulated, report = benchmark.pedantic(main_job, rounds=1, iterations=1)
    assert not run.errors and run.status.value == "pass"
    benchmark.extra_info.update(
        {"target_seconds": 60.0, "jobs": DEFAULT_JOBS, "backends_seconds": simulated, "report_seconds": report,
         "backend_wall_seconds": {label: phase["wall"] for label, phase in run.timings["backends"].items()},
         "results": len(run.results)})
    print(f"\nmain job: backends {simulated:.0f} s ({DEFAULT_JOBS} jobs), report {report:.0f} s, "
          f"{len(run.results)} results (target < 60 s in all)")
