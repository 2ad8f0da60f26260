"""The nightly job's archive and regression checks, exercised with NEST (no board here).

On a board host the same job runs with ``--spinnaker-cfg``; what is tested here is the
archive layout and the comparison of two nights, which do not depend on the backend.
"""

import json

import pytest

from stdp_validation.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main
from stdp_validation.run.nightly import compare_nights, run_nightly

pytestmark = pytest.mark.nest


def night(archive, date):
    # Timing limits out of reach: phases of a few ms jitter on shared machines; the timing
    # tests below set the timings themselves and call compare_nights with explicit limits.
    folder, comparison = run_nightly(archive, backends=["nest"], protocols=["bounds", "window"], date=date,
                                     progress=lambda line: None, slower_seconds=1e6)
    return folder, comparison


def test_each_night_is_archived_and_compared_with_the_previous(tmp_path):
    first, comparison = night(tmp_path, "2026-11-24")
    assert comparison["regressions"] == [] and comparison["changes"] == ["first night"]
    for name in ("results.json", "index.html", "regressions.json", "observations"):
        assert (first / name).exists()
    second, comparison = night(tmp_path, "2026-11-25")
    assert comparison["previous"] == str(first)
    assert comparison["same_software"] and comparison["regressions"] == []
    again, _ = night(tmp_path, "2026-11-25")
    assert again.name == "2026-11-25-2"


def tamper(folder, edit):
    path = folder / "results.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_a_weight_change_with_the_same_software_is_a_regression(tmp_path):
    first, _ = night(tmp_path, "2026-11-24")
    second, _ = night(tmp_path, "2026-11-25")
    tamper(second, lambda d: d["results"][0]["verdicts"][0].update(observed=0.123))
    regressions = compare_nights(first, second, slower_seconds=1e6)["regressions"]  # weights only
    assert len(regressions) == 1 and "must be bit-identical" in regressions[0]


def test_a_weight_change_after_a_version_change_is_reported_not_failed(tmp_path):
    first, _ = night(tmp_path, "2026-11-24")
    second, _ = night(tmp_path, "2026-11-25")

    def upgrade(data):
        data["results"][0]["verdicts"][0]["observed"] = 0.123
        for note in data["backend_notes"].values():
            note["environment"]["versions"]["nest-simulator"] = "9.9.9"

    tamper(second, upgrade)
    comparison = compare_nights(first, second, slower_seconds=1e6)  # weights only: timings jitter
    assert comparison["regressions"] == []
    assert any("nest-simulator" in line for line in comparison["changes"])
    assert any("0.123" in line for line in comparison["changes"])


def test_slower_timings_and_new_failures_are_regressions(tmp_path):
    first, _ = night(tmp_path, "2026-11-24")
    second, _ = night(tmp_path, "2026-11-25")
    tamper(first, lambda d: d["results"][0]["timings"].update(run=1.0))

    def slower_and_failing(data):
        data["results"][0]["timings"]["run"] = 2.0  # 2× with a 1.5× limit
        data["results"][0]["verdicts"][1]["status"] = "fail"

    tamper(second, slower_and_failing)
    regressions = compare_nights(first, second, slower_factor=1.5)["regressions"]
    assert any("run took 2 s, 2.0× last night's 1 s (limits 1.5× and +0.5 s)" in line for line in regressions)
    assert any("passed last night, fails tonight" in line for line in regressions)


def test_the_command_exits_non_zero_on_a_regression(tmp_path, capsys):
    assert main(["nightly", "--archive", str(tmp_path), "--backend", "nest", "--protocol", "bounds", "--quiet"]) == EXIT_OK
    (first,) = tmp_path.iterdir()
    tamper(first, lambda d: d["results"][0]["verdicts"][0].update(observed=-1.0))
    assert main(["nightly", "--archive", str(tmp_path), "--backend", "nest", "--protocol", "bounds", "--quiet"]) == EXIT_FAILED
    assert "REGRESSION" in capsys.readouterr().out


def test_bad_nightly_input(tmp_path, capsys):
    assert main(["nightly", "--archive", str(tmp_path), "--backend", "nest", "--slower-factor", "0.5"]) == EXIT_BAD_INPUT
    assert "--slower-factor (slower_factor) must be > 1; got 0.5" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_short_phases_regress_only_beyond_both_the_factor_and_the_absolute_margin(tmp_path):
    first, _ = night(tmp_path, "2026-11-24")
    second, _ = night(tmp_path, "2026-11-25")

    def timings(run):
        def edit(data):
            for result in data["results"]:
                result["timings"] = {}  # the measured phases jitter; only this one is compared
            data["results"][0]["timings"] = {"run": run}
        return edit

    tamper(first, timings(0.010))
    tamper(second, timings(0.050))  # 5×, but only +0.04 s
    assert compare_nights(first, second, slower_factor=1.5, slower_seconds=0.1)["regressions"] == []
    tamper(second, timings(0.300))  # 30× and +0.29 s
    (line,) = compare_nights(first, second, slower_factor=1.5, slower_seconds=0.1)["regressions"]
    assert "run took 0.3 s, 30.0× last night's 0.01 s (limits 1.5× and +0.1 s)" in line
    tamper(second, timings(1.0))  # +0.99 s: beyond the default margin too
    assert len(compare_nights(first, second)["regressions"]) == 1


def test_nightly_with_nest_is_not_presented_as_a_board_night(tmp_path):
    _, comparison = night(tmp_path, "2026-11-24")
    assert comparison["rehearsal"].startswith("REHEARSAL, not a board run: weights obtained as simulated")


@pytest.mark.parametrize("option, message", [
    (["--keep", "1"], "--keep (keep) must be an integer >= 2"),
    (["--slower-seconds", "-1"], "--slower-seconds (slower_seconds) must be >= 0 s; got -1.0"),
    (["--emulate"], "--emulate rehearses the job without a board"),
])
def test_bad_nightly_options_are_refused_before_anything_runs(tmp_path, capsys, option, message):
    assert main(["nightly", "--archive", str(tmp_path), "--backend", "nest", *option]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
