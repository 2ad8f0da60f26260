"""The HTML report, built from a synthetic run folder (no simulator needed).

The run is made by hand: Observations with hand-chosen recorded spikes for "nest" and
"brian2" (and a virtual-board "spinnaker" one), final weights computed from the reference
model with a deliberate error on one case, verdicts from ``result_from_observation`` and
``results.json`` written by ``ValidationRun.save()``.
"""

import base64
import json
import re
import sys
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from stdp_validation import CONVENTIONS, predict_weights  # noqa: E402
from stdp_validation.errors import ParameterError  # noqa: E402
from stdp_validation.observation import Observation  # noqa: E402
from stdp_validation.protocols import RULES, seed_protocol, window_protocol  # noqa: E402
from stdp_validation.report import write_report  # noqa: E402
from stdp_validation.report.data import load_run  # noqa: E402
from stdp_validation.validation import ValidationRun, result_from_observation, utc_now  # noqa: E402

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
DELIBERATE_ERROR = 1e-3  # on nest's dt=+10 case, far above the 1e-9 tolerance


def _environment(backend):
    versions = {"python": "3.11.7", "numpy": "1.26.4", "PyNN": "0.13.0"}
    versions.update({"nest": {"nest-simulator": "3.10.0"}, "brian2": {"brian2": "2.9.0"},
                     "spinnaker": {"sPyNNaker": "1!7.4.1"}}[backend])
    machine = "virtual board" if backend == "spinnaker" else "software simulator"
    return {"versions": versions, "platform": "Linux-test", "machine": machine}


def _observation(backend, protocol, pre, post, *, conventions=None, errors=None, final=None, traces=None, notes=()):
    """An Observation whose final weights are the reference's prediction (+ ``errors``)."""
    conventions = conventions or CONVENTIONS[backend].with_timestep(protocol.timestep)
    initial = [case.initial_weight for case in protocol.cases]
    if final is None:
        final = predict_weights(pre, post, protocol.rule, delay=protocol.delay, initial_weight=initial,
                                conventions=conventions, t_stop=protocol.t_stop)
    final = np.array(final, dtype=float)
    for index, error in (errors or {}).items():
        final[index] += error
    return Observation(
        backend=backend,
        protocol=protocol,
        conventions=conventions,
        pre_spike_times=[list(map(float, t)) for t in pre],
        post_spike_times=[list(map(float, t)) for t in post],
        final_weights=[float(w) for w in final],
        initial_weights=initial,
        intended_post_times=[list(case.post_drive_times) for case in protocol.cases],
        delay=protocol.delay,
        t_stop=protocol.t_stop,
        traces=traces or {},
        timings={"build": 0.12, "run": 0.5, "readout": 0.03},
        environment=_environment(backend),
        notes=list(notes),
    )


def _seed_traces(protocol, pre, post):
    """Plausible v / gsyn traces on the 1 ms grid: exponential conductances at each spike."""
    times = np.arange(0.0, protocol.t_stop + 1.0, protocol.timestep)

    def conductance(trains):
        rows = []
        for train in trains:
            g = np.zeros_like(times)
            for t in train:
                g += np.where(times >= t, 5.0 * np.exp(-(times - t) / 5.0), 0.0)
            rows.append(g.tolist())
        return rows

    def voltage(trains):
        rows = []
        for train in trains:
            v = np.full_like(times, -65.0)
            for t in train:
                v += np.where(times >= t, 8.0 * np.exp(-(times - t) / 10.0), 0.0)
            rows.append(np.minimum(v, -50.0).tolist())
        return rows

    drive_pre = [c.pre_spike_times for c in protocol.cases]
    drive_post = [c.post_drive_times for c in protocol.cases]
    zeros = [np.zeros_like(times).tolist() for _ in protocol.cases]
    return {
        "v": {"units": "mV", "times": times.tolist(), "pre": voltage(drive_pre), "post": voltage(drive_post)},
        "gsyn_exc": {"units": "uS", "times": times.tolist(), "pre": conductance(drive_pre),
                     "post": conductance([list(a) + list(b) for a, b in zip(drive_post, pre)])},
        "gsyn_inh": {"units": "uS", "times": times.tolist(), "pre": zeros, "post": zeros},
    }


def build_run(directory):
    """Write a synthetic run folder (results.json + observations/) into ``directory``; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    observations = []

    # window: pre at 100 ms, post at 90, 100, 110 ms. NEST gets a trailing pre spike 100 ms
    # after each case's last spike (deferred update); its dt=+10 case carries the error.
    window = window_protocol([-10, 0, 10])
    post = [[90.0], [100.0], [110.0]]
    observations.append(_observation("nest", window, [[100.0, 200.0], [100.0, 200.0], [100.0, 210.0]], post,
                                     errors={2: DELIBERATE_ERROR}))
    observations.append(_observation("brian2", window, [[100.0], [100.0], [100.0]], post))
    spinnaker_conventions = CONVENTIONS["spinnaker"].with_timestep(window.timestep)
    observations.append(_observation(
        "spinnaker", window, [[100.0, 200.0], [100.0, 200.0], [100.0, 210.0]], post,
        conventions=spinnaker_conventions,
        notes=["virtual board: fixed-point encoding of A_plus, A_minus, w_max and the exponential tables "
               "checked; learned weights need a real board (set machine_name + version)"]))

    # Brian2 under a multiplicative rule applies the additive one: a known defect.
    multiplicative = window.with_rule(RULES["pair-multiplicative"])
    brian2_conventions = CONVENTIONS["brian2"].with_timestep(window.timestep)
    additive = predict_weights([[100.0]] * 3, post, window.rule, delay=1.0, initial_weight=0.5,
                               conventions=brian2_conventions, t_stop=window.t_stop)
    observations.append(_observation("brian2", multiplicative, [[100.0]] * 3, post, final=additive))

    # seed: the notebook's network; hand-chosen recorded spikes 1 ms after the thalamic drive.
    seed = seed_protocol()
    seed_pre = [[t + 1.0 for t in case.pre_spike_times] for case in seed.cases]
    seed_post = [[t + 1.0 for t in case.post_drive_times] for case in seed.cases]
    for backend in ("nest", "brian2"):
        observations.append(_observation(backend, seed, seed_pre, seed_post,
                                         traces=_seed_traces(seed, seed_pre, seed_post)))

    # A SpiNNaker virtual board: no simulation, the final weights are the initial ones.
    virtual = _observation("spinnaker", seed, [[] for _ in seed.cases], [[] for _ in seed.cases],
                           conventions=CONVENTIONS["spinnaker"].with_timestep(seed.timestep),
                           notes=["NOT board output: final_weights are the INITIAL weights"])
    virtual.environment["board_output"] = False
    observations.append(virtual)

    # hostile labels: a protocol and a case named like a script tag.
    hostile = window_protocol([-5, 5])
    hostile = replace(hostile, name=HOSTILE,
                      cases=(replace(hostile.cases[0], label=HOSTILE), replace(hostile.cases[1], label="dt=+5 & <b>")))
    observations.append(_observation("nest", hostile, [[100.0, 200.0], [100.0, 205.0]], [[95.0], [105.0]]))

    run = ValidationRun(directory, command=f"stdp-validate --out reports --protocol '{HOSTILE}'",
                        backends=["brian2", "nest", "spinnaker"], protocols=["window", "seed", HOSTILE])
    for number, observation in enumerate(observations):
        path = directory / "observations" / f"{number}-{observation.backend}.json"
        observation.save(path)
        run.results.append(result_from_observation(observation, str(path.relative_to(directory))))
    run.errors.append({"backend": "brian2", "protocol": "bounds", "error": f"RuntimeError: {HOSTILE}",
                       "traceback": "Traceback (most recent call last):\n  ...\nRuntimeError: <boom>"})
    run.skipped = {"hardware-spinnaker": f"no board reachable {HOSTILE}"}
    run.finished = utc_now()
    run.save()
    return directory


BENCHMARK = {
    "datetime": "2026-11-26T00:00:00",
    "machine_info": {"node": "ci", "python_version": "3.11.7"},
    "benchmarks": [{"name": "test_window_batched[nest]",
                    "fullname": "tests/benchmarks/x.py::test_window_batched[nest]",
                    "stats": {"mean": 0.13, "stddev": 0.01, "min": 0.12, "rounds": 5},
                    "extra_info": {"cases": 101, "label": "<i>x</i>"}}],
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One report for most tests (each report takes a few seconds to draw)."""
    directory = build_run(tmp_path_factory.mktemp("run") / "20261126T000000.000000Z")
    (directory / "benchmark.json").write_text(json.dumps(BENCHMARK))  # picked up by default
    (directory / "figures").mkdir()
    (directory / "figures" / "old.png").write_bytes(b"stale figure of an earlier report")
    had_pyplot = "matplotlib.pyplot" in sys.modules
    import matplotlib

    backend = dict.__getitem__(matplotlib.rcParams, "backend")  # raw: reading it must not resolve it
    path = write_report(directory)
    assert dict.__getitem__(matplotlib.rcParams, "backend") == backend
    if not had_pyplot:
        assert "matplotlib.pyplot" not in sys.modules, "the report must not use pyplot"
    return directory, path, path.read_text(encoding="utf-8")


def _section(page, section_id):
    match = re.search(rf'<section id="{re.escape(section_id)}">(.*?)</section>', page, re.S)
    assert match, f"section {section_id!r} missing"
    return match.group(1)


def test_write_report_returns_the_page_in_the_run_folder(report):
    directory, path, page = report
    assert path == directory / "index.html"
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_every_section_is_present(report):
    _, _, page = report
    for section_id in ("summary", "protocol-window", "protocol-seed", "protocol-script-alert-1-script", "seed",
                       "cross-backend", "known-defects", "timings", "spinnaker"):
        _section(page, section_id)
        assert f'href="#{section_id}"' in page, f"table of contents lacks {section_id}"


def test_every_figure_is_inline_and_saved_as_png(report):
    directory, _, page = report
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    files = sorted((directory / "figures").glob("*.png"))
    assert len(images) == len(page.split("<img ")) - 1, "an <img> is not an inline PNG"
    assert len(images) == len(files)
    names = {f.name for f in files}
    # window, residuals for each protocol, observed-vs-expected for seed, two seed figures,
    # cross-backend for window (and the hostile window on one backend only: none), timings.
    for expected in ("window-window.png", "window-residuals.png", "seed-observed-vs-expected.png",
                     "seed-residuals.png", "seed-nest-seed-pair-additive.png", "seed-brian2-seed-pair-additive.png",
                     "cross-backend-window-pair-additive.png", "timings.png",
                     "script-alert-1-script-window.png"):
        assert expected in names, f"{expected} missing from {sorted(names)}"
    for encoded, file in zip(sorted(images, key=len), sorted(files, key=lambda f: f.stat().st_size)):
        assert base64.b64decode(encoded)[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(f.stat().st_size > 5000 for f in files)
    # each saved file is the inlined image
    inlined = {base64.b64decode(e) for e in images}
    assert {f.read_bytes() for f in files} == inlined


def test_failing_case_is_shown_as_failed(report):
    _, _, page = report
    section = _section(page, "protocol-window")
    rows = re.findall(r'<tr class="(\w+)">(.*?)</tr>', section, re.S)
    failed = [body for cls, body in rows if cls == "fail"]
    assert len(failed) == 1
    assert "dt=+10" in failed[0] and "FAIL" in failed[0]
    assert "1 failed case(s): dt=+10 (nest)" in section
    summary = _section(page, "summary")
    assert '<div class="banner fail">FAILED: 1 failed case(s), 1 run error(s)' in summary
    nest_window = re.search(r'<tr class="(\w+)"><td>nest</td><td><a href="#protocol-window">', summary)
    assert nest_window and nest_window.group(1) == "fail"


def test_known_defect_is_amber_and_listed(report):
    _, _, page = report
    section = _section(page, "protocol-window")
    known = [body for cls, body in re.findall(r'<tr class="(\w+)">(.*?)</tr>', section, re.S) if cls == "known"]
    assert known and all("brian2-multiplicative-ignored" in body for body in known)
    defects = _section(page, "known-defects")
    assert "brian2 / window / pair-multiplicative: dt=-10" in defects
    assert "tests/backends/test_known_defects.py::test_brian2_multiplicative_weight_dependence" in defects


def test_page_is_self_contained(report):
    _, _, page = report
    lowered = page.lower()
    assert "<script" not in lowered
    assert "<link" not in lowered
    assert "@import" not in lowered and "url(" not in lowered
    assert not re.search(r'(src|href)\s*=\s*"(?!data:|#)', page), "an attribute points outside the page"
    assert "http://" not in lowered and "https://" not in lowered


def test_hostile_labels_are_escaped(report):
    _, _, page = report
    assert HOSTILE not in page
    assert page.count(HOSTILE_ESCAPED) >= 5  # protocol, case, command, error, skip reason
    assert "dt=+5 &amp; &lt;b&gt;" in page
    section = _section(page, "protocol-script-alert-1-script")
    assert f"<h2>Protocol <code>{HOSTILE_ESCAPED}</code></h2>" in section
    assert f"<td>{HOSTILE_ESCAPED}</td>" in section
    assert "RuntimeError: &lt;boom&gt;" in _section(page, "summary")


def test_summary_environment_and_command(report):
    _, _, page = report
    summary = _section(page, "summary")
    assert f"stdp-validate --out reports --protocol &#x27;{HOSTILE_ESCAPED}&#x27;" in summary
    for text in ("3.11.7", "0.13.0", "2.9.0", "3.10.0", "1!7.4.1", "software simulator", "virtual board",
                 "window: <span class=\"num\">0.1</span>", "seed: <span class=\"num\">1</span>",
                 "hardware-spinnaker", "no board reachable"):
        assert text in summary, text


def test_window_zero_crossings_and_cross_backend_conventions(report):
    _, _, page = report
    window = _section(page, "protocol-window")
    assert "Zero crossing in emission time" in window
    zero = {m[0]: m[1] for m in re.findall(
        r"<tr><td>(\w+)</td><td>\w+</td>(?:<td class=\"num\">[^<]*</td>){3}<td class=\"num\">([^<]*)</td></tr>",
        window)}
    assert zero == {"nest": "-1", "brian2": "+1"}  # the virtual-board run has no observed window
    cross = _section(page, "cross-backend")
    assert "Zero crossings differ by <strong>2 ms</strong> = 2·d" in cross
    for convention in ("amplitude_scaling", "dendritic_delay_fraction", "update_timing", "zero_lag"):
        assert f"<code>{convention}</code>" in cross
    # The default rule: A_plus = 0.01, w_max = 2; Brian2 potentiates fully at lag 0, NEST ignores it.
    assert "brian2: Δw(s = 0) = 0.02" in cross and "nest: Δw(s = 0) = 0 " in cross
    # amplitude per rule: A·w_max = 0.02 / −0.024 on NEST and Brian2 against A on sPyNNaker with the
    # window's w_max = 2; 2.5 against 0.5 with the seed's w_max = 5.
    amplitude = re.search(r"<td>amplitude .*?</tr>", cross).group(0)
    window_rule, seed_rule = amplitude.split("(window, ")[1], amplitude.split("(seed; ")[1]
    for backend in ("nest", "brian2"):
        assert f"{backend} 0.02 / -0.024" in window_rule
    assert "spinnaker 0.01 / -0.012" in window_rule
    assert "nest 2.5 / -2.5" in seed_rule and "brian2 2.5 / -2.5" in seed_rule and "spinnaker 0.5 / -0.5" in seed_rule
    assert "multiplicative rules scale by (w_max − w) and (w − w_min) on every backend" in amplitude
    assert "pynn-dendritic-delay-fraction" in cross


def test_seed_section_shows_traces_and_predicted_trajectory(report):
    _, _, page = report
    seed = _section(page, "seed")
    assert seed.count("<img ") == 2  # nest and brian2; the virtual board has nothing to draw
    assert "spinnaker · seed: not board output" in seed
    assert "predicted from recorded spikes" in seed
    assert "30, 40, 50, 60" in seed and "31, 41, 51, 61" in seed


def test_timings_and_spinnaker_notes(report):
    _, _, page = report
    timings = _section(page, "timings")
    assert "<img " in timings and "0.120" in timings and "readout (s)" in timings
    spinnaker = _section(page, "spinnaker")
    assert "virtual board" in spinnaker and "learned weights need a real board" in spinnaker
    assert "final_weights are the INITIAL weights" in spinnaker and "board_output" in spinnaker


def test_virtual_board_results_are_marked_and_not_compared(report):
    _, _, page = report
    summary = _section(page, "summary")
    assert re.search(r'<td>spinnaker <span class="badge other">not board output</span></td>\s*'
                     r'<td><a href="#protocol-seed">', summary)
    assert "out of 20 simulated cases; 3 case(s) on the SpiNNaker virtual board" in summary
    cross = _section(page, "cross-backend")
    assert "Left out of the comparison (not board output, no learning to compare): spinnaker" in cross
    assert "nest vs spinnaker" in cross  # the window on spinnaker here is board-like data
    assert "seed</td><td>pair-additive</td><td>nest vs spinnaker" not in cross


def test_long_spike_lists_are_shortened(report):
    _, _, page = report
    assert "0, 10, 20, …, 90 (10 spikes)" in _section(page, "protocol-seed")


def test_benchmark_json_in_the_run_folder_is_tabulated(report):
    _, _, page = report
    timings = _section(page, "timings")
    assert "tests/benchmarks/x.py::test_window_batched[nest]" in timings and "0.13" in timings
    assert "&quot;cases&quot;: 101" in timings and "&lt;i&gt;x&lt;/i&gt;" in timings


def test_rewriting_removes_stale_figures(report):
    directory, _, page = report
    names = {f.name for f in (directory / "figures").glob("*.png")}
    assert "old.png" not in names and len(names) == page.count("<img ")


def test_missing_and_broken_observations_are_tolerated(tmp_path):
    directory = build_run(tmp_path / "run")
    results = json.loads((directory / "results.json").read_text())
    files = [r["observation_file"] for r in results["results"]]
    (directory / files[0]).unlink()  # nest window
    (directory / files[4]).write_text("{ truncated")  # nest seed
    assert files[0].endswith("-nest.json") and files[4].endswith("-nest.json")
    other = dict(BENCHMARK, benchmarks=[dict(BENCHMARK["benchmarks"][0], fullname="explicit::bench")])
    (tmp_path / "bench.json").write_text(json.dumps(other))
    (tmp_path / "broken.json").write_text("[]")
    page = write_report(directory, benchmark_json=tmp_path / "bench.json").read_text()
    assert "explicit::bench" in _section(page, "timings")
    assert page.count("observation not available") == 2
    assert "does not exist" in page and "not valid JSON" in page
    window = _section(page, "protocol-window")
    # the failing case still shows from its verdict alone
    assert any("dt=+10" in body for cls, body in re.findall(r'<tr class="(\w+)">(.*?)</tr>', window, re.S)
               if cls == "fail")
    assert len(list((directory / "figures").glob("*.png"))) == page.count("<img ")
    # an unusable benchmark file is reported on the page, not raised
    run = load_run(directory, tmp_path / "broken.json")
    assert run.benchmark is None and "no 'benchmarks' list" in run.benchmark_problem


def test_missing_results_file_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        write_report(tmp_path)
