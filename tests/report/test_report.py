"""The HTML report, built from a synthetic run folder (no simulator needed, see report_runs.py).

The run: "nest" and "brian2" windows (a deliberate error on one NEST case), an emulated
SpiNNaker window whose stored integers equal the fixed-point model's, a Brian2 known defect,
the seed network with traces, a toolchain-only SpiNNaker seed run with checks, and a
protocol and case named like a script tag.
"""

import base64
import json
import re
import sys

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

from markupsafe import escape  # noqa: E402

from report_runs import (  # noqa: E402  (same folder; pytest puts it on sys.path)
    EMULATED,
    EMULATED_NOTE,
    HOSTILE,
    HOSTILE_ESCAPED,
    TOOLCHAIN_NOTE,
    build_run,
    save_run,
    toolchain_seed,
)

from stdp_validation.errors import ParameterError  # noqa: E402
from stdp_validation.protocols import seed_protocol  # noqa: E402
from stdp_validation.report import write_report  # noqa: E402
from stdp_validation.report.load import load_run  # noqa: E402
from stdp_validation.results import Execution  # noqa: E402
from stdp_validation.results.defects import KNOWN_DEFECTS, NETWORK_DEFECTS  # noqa: E402

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


def _rows(section):
    return re.findall(r'<tr class="(\w*)">(.*?)</tr>', section, re.S)


def test_write_report_returns_the_page_in_the_run_folder(report):
    directory, path, page = report
    assert path == directory / "index.html"
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_every_section_is_present(report):
    _, _, page = report
    for section_id in ("summary", "protocol-window", "protocol-seed", "protocol-script-alert-1-script", "seed",
                       "cross-backend", "known-defects", "timings", "toolchain", "execution-emulated",
                       "execution-toolchain_only"):
        _section(page, section_id)
        assert f'href="#{section_id}"' in page, f"table of contents lacks {section_id}"
    # no section per backend name, and none for a kind of execution the run did not have
    assert 'id="spinnaker"' not in page and 'id="execution-board"' not in page
    assert 'id="execution-simulated"' not in page


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
                     "cross-backend-window-pair-additive.png", "timings.png", "script-alert-1-script-window.png"):
        assert expected in names, f"{expected} missing from {sorted(names)}"
    assert not any("spinnaker-seed" in name for name in names), "a toolchain-only run has nothing to draw"
    assert "window-observed-vs-expected.png" not in names  # every window result is in the window figure
    for encoded in images:
        assert base64.b64decode(encoded)[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(f.stat().st_size > 5000 for f in files)
    assert {f.read_bytes() for f in files} == {base64.b64decode(e) for e in images}


def test_failing_case_is_shown_as_failed(report):
    _, _, page = report
    section = _section(page, "protocol-window")
    failed = [body for cls, body in _rows(section) if cls == "fail"]
    assert len(failed) == 1
    assert "dt=+10" in failed[0] and "FAIL" in failed[0]
    assert "1 failed case(s): dt=+10 (nest)" in section
    summary = _section(page, "summary")
    assert ('<div class="banner fail">FAILED: 1 failed case(s), 0 failed toolchain check(s), 1 run error(s); '
            "validated: nest") in summary
    nest_window = re.search(r'<tr class="(\w+)"><td>nest</td><td><a href="#protocol-window">', summary)
    assert nest_window and nest_window.group(1) == "fail"


def test_known_defect_is_amber_and_listed(report):
    _, _, page = report
    section = _section(page, "protocol-window")
    known = [body for cls, body in _rows(section) if cls == "known"]
    assert known and all("brian2-multiplicative-ignored" in body for body in known)
    defects = _section(page, "known-defects")
    assert "brian2 / window / pair-multiplicative: dt=-10" in defects
    assert "tests/backends/test_known_defects.py::test_brian2_multiplicative_weight_dependence" in defects
    for defect in KNOWN_DEFECTS + NETWORK_DEFECTS:  # every defect of results.json is listed
        assert f"<code>{defect.id}</code>" in defects


def test_page_is_self_contained(report):
    _, _, page = report
    lowered = page.lower()
    assert "<script" not in lowered
    assert "<link" not in lowered
    assert "@import" not in lowered and "url(" not in lowered
    assert not re.search(r'(src|href)\s*=\s*"(?!data:|#)', page), "an attribute points outside the page"
    assert "http://" not in lowered and "https://" not in lowered
    assert "--pass:" in _style(page), "the package style sheet is inlined"


def _style(page):
    return re.search(r"<style>(.*?)</style>", page, re.S).group(1)


def test_hostile_labels_are_escaped(report):
    _, _, page = report
    assert HOSTILE not in page
    assert page.count(HOSTILE_ESCAPED) >= 5  # protocol, case, command, error, skip reason
    assert "dt=+5 &amp; &lt;b&gt;" in page
    section = _section(page, "protocol-script-alert-1-script")
    assert f"<h2>Protocol <code>{HOSTILE_ESCAPED}</code></h2>" in section
    assert f"<td>{HOSTILE_ESCAPED}</td>" in section
    assert "RuntimeError: &lt;boom&gt;" in _section(page, "summary")
    assert '"' not in _style(page).replace('"Segoe UI"', "").replace('"Helvetica Neue"', "").replace(
        '"Liberation Mono"', ""), "the style sheet is inlined unescaped and holds only its font names in quotes"


def test_summary_environment_and_command(report):
    _, _, page = report
    summary = _section(page, "summary")
    assert f"stdp-validate --out reports --protocol &#39;{HOSTILE_ESCAPED}&#39;" in summary
    for text in ("3.11.7", "0.13.0", "2.9.0", "3.10.0", "1!7.4.1", "software simulator", "Linux-test",
                 "window: <span class=\"num\">0.1</span>", "seed: <span class=\"num\">1</span>",
                 "hardware-spinnaker", "no board reachable"):
        assert text in summary, text


def test_every_row_says_how_the_weights_were_obtained(report):
    _, _, page = report
    summary = _section(page, "summary")
    results = re.search(r'<table class="results">(.*?)</table>', summary, re.S).group(1)
    rows = [body for cls, body in _rows(results) if "run error" not in body]
    assert len(rows) == 8
    for body in rows:
        assert any(kind.label in body for kind in Execution), body
    emulated = [body for body in rows if f"<td>{EMULATED}</td>" in body]
    assert emulated and all('class="exec marked exec-emulated">emulated ARM code (not a board)<' in b for b in emulated)
    banner = re.search(r'<div class="banner fail">(.*?)</div>', summary, re.S).group(1)
    assert Execution.EMULATED.label in banner and escape(EMULATED_NOTE) in banner
    assert Execution.TOOLCHAIN_ONLY.label in banner and TOOLCHAIN_NOTE in banner
    window = _section(page, "protocol-window")
    assert f"Cases: {EMULATED} · pair-additive — weights from <span class=\"exec marked exec-emulated\">" in window
    assert escape(f"{EMULATED} (weights from {Execution.EMULATED.label}): {EMULATED_NOTE}") in window


def test_stored_integer_comparisons_show_lsb(report):
    _, _, page = report
    window = _section(page, "protocol-window")
    table = window.split(f"Cases: {EMULATED}")[1].split("</table>")[0]
    assert "<th>stored expected</th><th>stored observed</th><th>Δ (LSB)</th>" in table
    assert table.count('<td class="num">+0</td>') == 3  # the emulated stored integers equal the model's


def test_window_zero_crossings_and_cross_backend_conventions(report):
    _, _, page = report
    window = _section(page, "protocol-window")
    assert "Zero crossing in emission time" in window
    zero = dict(re.findall(r"<tr><td>([^<]+)</td><td>\w+</td>(?:<td class=\"num\">[^<]*</td>){3}"
                           r"<td class=\"num\">([^<]*)</td></tr>", window))
    assert zero == {"nest": "-1", "brian2": "+1", EMULATED: "-1"}  # dendritic −d, axonal +d
    cross = _section(page, "cross-backend")
    assert "Zero crossings differ by <strong>2 ms</strong> = 2·d" in cross
    for convention in ("amplitude_scaling", "dendritic_delay_fraction", "update_timing", "zero_lag"):
        assert f"<code>{convention}</code>" in cross
    # The default rule: A_plus = 0.01, w_max = 2; Brian2 potentiates fully at lag 0, NEST ignores it,
    # sPyNNaker depresses fully (from each result's reference kernel).
    assert "brian2: Δw(s = 0) = 0.02 " in cross and "nest: Δw(s = 0) = 0 " in cross
    assert f"{EMULATED}: Δw(s = 0) = -0.012 " in cross
    assert "spinnaker: Δw(s = 0) = not computed" in cross  # toolchain only: no reference
    # amplitude per rule: A·w_max = 0.02 / −0.024 on NEST and Brian2 against A on sPyNNaker with the
    # window's w_max = 2; 2.5 against 0.5 with the seed's w_max = 5.
    amplitude = re.search(r"<td><code>amplitude_scaling</code>.*?</tr>", cross, re.S).group(0)
    window_rule = amplitude.split(f"(window, {HOSTILE_ESCAPED}; ")[1].split("; rule")[0]
    seed_rule = amplitude.split("(seed; ")[1]
    for backend in ("nest", "brian2"):
        assert f"{backend} 0.02 / -0.024" in window_rule
    assert f"{EMULATED} 0.01 / -0.012" in window_rule
    assert "nest 2.5 / -2.5" in seed_rule and "brian2 2.5 / -2.5" in seed_rule and "spinnaker 0.5 / -0.5" in seed_rule
    assert "weight-dependent rules (multiplicative, mixed, Gütig) scale by the distance to the bounds on every backend" in amplitude
    assert "pynn-dendritic-delay-fraction" in cross


def test_seed_section_shows_traces_and_predicted_trajectory(report):
    _, _, page = report
    seed = _section(page, "seed")
    assert seed.count("<img ") == 2  # nest and brian2; the toolchain-only run has nothing to draw
    assert f"spinnaker · seed: not drawn ({Execution.TOOLCHAIN_ONLY.label}: no spikes" in seed
    assert "predicted from recorded spikes" in seed
    assert "30, 40, 50, 60" in seed and "31, 41, 51, 61" in seed


def test_timings_toolchain_checks_and_execution_sections(report):
    _, _, page = report
    timings = _section(page, "timings")
    assert "<img " in timings and "0.120" in timings and "readout (s)" in timings
    toolchain = _section(page, "toolchain")
    assert "spinnaker · " in toolchain and "network maps" in toolchain
    assert "1 passed, 0 failed, 1 not checked, 1 divergence(s)" in toolchain
    classes = [cls for cls, _ in _rows(toolchain)]
    assert classes == ["pass", "notrun", "diff", "pass"]
    assert "{&#34;count&#34;: 1}" in toolchain  # a JSON value, escaped
    emulated = _section(page, "execution-emulated")
    assert Execution.EMULATED.label in emulated and escape(EMULATED_NOTE) in emulated
    assert "the ARM binaries ran in an emulator" in emulated
    toolchain_only = _section(page, "execution-toolchain_only")
    assert TOOLCHAIN_NOTE in toolchain_only and "final_weights are the INITIAL weights" in toolchain_only
    assert "nest" not in toolchain_only and "brian2" not in toolchain_only


def test_toolchain_only_results_are_marked_and_not_compared(report):
    _, _, page = report
    summary = _section(page, "summary")
    row = re.search(r'<tr class="(\w+)"><td>spinnaker</td><td><a href="#protocol-seed">seed</a></td>(.*?)</tr>',
                    summary, re.S)
    assert row and row.group(1) == "notrun" and Execution.TOOLCHAIN_ONLY.label in row.group(2)
    assert "not run (no learned weights): spinnaker 3" in summary
    cross = _section(page, "cross-backend")
    left_out = "Left out of the comparison (no learned weights to compare): spinnaker"
    assert f"{left_out} ({Execution.TOOLCHAIN_ONLY.label})" in cross
    assert f"nest vs {EMULATED}" in cross  # the emulated window learned weights: it is compared
    assert "seed</td><td>pair-additive</td><td>nest vs spinnaker" not in cross


def test_long_spike_lists_are_shortened(report):
    _, _, page = report
    assert "0, 10, 20, …, 90 (10 spikes)" in _section(page, "protocol-seed")


def test_benchmark_json_in_the_run_folder_is_tabulated(report):
    _, _, page = report
    timings = _section(page, "timings")
    assert "tests/benchmarks/x.py::test_window_batched[nest]" in timings and "0.13" in timings
    assert "&#34;cases&#34;: 101" in timings and "&lt;i&gt;x&lt;/i&gt;" in timings


def test_rewriting_removes_stale_figures(report):
    directory, _, page = report
    names = {f.name for f in (directory / "figures").glob("*.png")}
    assert "old.png" not in names and len(names) == page.count("<img ")


def test_nothing_validated_never_says_passed(tmp_path):
    directory = save_run(tmp_path / "run", [toolchain_seed(seed_protocol())], notes={"spinnaker": TOOLCHAIN_NOTE})
    page = write_report(directory).read_text()
    summary = _section(page, "summary")
    banner = re.search(r'<div class="banner (\w+)">(.*?)</div>', summary, re.S)
    assert banner.group(1) == "known"
    assert banner.group(2).startswith("NOTHING VALIDATED: no case was compared with the reference and agreed")
    assert "PASSED" not in banner.group(2)
    assert page.count("<img ") == 1  # timings only: nothing learned, nothing plotted against a model


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
    window, seed = _section(page, "protocol-window"), _section(page, "protocol-seed")
    assert window.count("observation not available") == 1 and "does not exist" in window
    assert seed.count("observation not available") == 1 and "not valid JSON" in seed
    assert "nest · seed: not drawn (observation not available" in _section(page, "seed")
    # the failing case still shows from its verdict alone, in the residuals and the scatter
    assert any("dt=+10" in body for cls, body in _rows(window) if cls == "fail")
    assert (directory / "figures" / "window-observed-vs-expected.png").exists()
    assert len(list((directory / "figures").glob("*.png"))) == page.count("<img ")
    # an unusable benchmark file is reported on the page, not raised
    run = load_run(directory, tmp_path / "broken.json")
    assert run.benchmark.data is None and "no 'benchmarks' list" in run.benchmark.problem


def test_an_observation_of_another_result_is_not_used(tmp_path):
    directory = build_run(tmp_path / "run")
    results = json.loads((directory / "results.json").read_text())
    results["results"][0]["observation_file"] = results["results"][4]["observation_file"]  # window → seed file
    (directory / "results.json").write_text(json.dumps(results))
    run = load_run(directory)
    assert run.entries[0].observation is None and "does not match its result" in run.entries[0].problem
    assert run.entries[4].observation is not None


def test_missing_results_file_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        write_report(tmp_path)


def test_version_1_results_are_refused_naming_format_version(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"format_version": 1, "results": []}))
    with pytest.raises(ParameterError, match="format_version must be 2; got 1"):
        write_report(tmp_path)


def test_templates_are_autoescaped_and_strict():
    from jinja2 import StrictUndefined, UndefinedError

    from stdp_validation.report.render import environment

    env = environment()
    assert env.autoescape is True and env.undefined is StrictUndefined
    assert env.from_string("{{ x }}").render(x=HOSTILE) == HOSTILE_ESCAPED
    with pytest.raises(UndefinedError):
        env.get_template("summary.html.j2").render()  # a missing value is an error, not an empty cell


def test_a_figure_that_cannot_be_drawn_is_reported_not_raised(tmp_path, monkeypatch):
    from stdp_validation.report import figures, render

    monkeypatch.setattr(render, "MAX_FIGURE_WORKERS", 1)  # the patched draw lives in this process only

    draw = figures.draw

    def failing(spec):
        if spec.kind == "seed":
            raise RuntimeError("<no traces>")
        return draw(spec)

    monkeypatch.setattr(figures, "draw", failing)
    directory = build_run(tmp_path / "run")
    page = write_report(directory).read_text()
    seed = _section(page, "seed")
    assert "figures/seed-nest-seed-pair-additive.png could not be drawn: RuntimeError: &lt;no traces&gt;" in seed
    assert "<img " not in seed and not list((directory / "figures").glob("seed-nest*"))
    assert len(list((directory / "figures").glob("*.png"))) == page.count("<img ")


@pytest.mark.parametrize("change, message", [
    (lambda r: r["results"][0].pop("verdicts"), "field results.0: missing required field(s) verdicts"),
    (lambda r: r["results"][0].update(colour="red"), "field results.0: unknown field(s) colour"),
    (lambda r: r["results"][0]["verdicts"][0].update(status="passed"), "field results.0.verdicts.0.status"),
    (lambda r: r["results"][1].update(execution="hardware"), "field results.1.execution"),
    (lambda r: r["errors"].append({"backend": "nest", "protocol": "window"}), "missing required field(s) error"),
])
def test_results_file_is_checked_against_its_schema_naming_the_field(tmp_path, change, message):
    directory = build_run(tmp_path / "run")
    from stdp_validation.results.io import validate

    results = json.loads((directory / "results.json").read_text())
    validate(results, "results", "results file")  # what a run writes is valid
    change(results)
    (directory / "results.json").write_text(json.dumps(results))
    with pytest.raises(ParameterError, match=re.escape(message)):
        load_run(directory)


def test_figures_drawn_in_worker_processes_are_the_ones_drawn_here(tmp_path, monkeypatch):
    import os

    from stdp_validation.report import render

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)  # two workers, even on one core
    directory = build_run(tmp_path / "run")
    specs = render.build_page(load_run(directory)).figures
    assert len(specs) >= 8  # enough for the worker pool
    parallel = render._pngs(list(specs))
    monkeypatch.setattr(render, "MAX_FIGURE_WORKERS", 1)
    assert render._pngs(list(specs)) == parallel and all(data for data, _ in parallel)


def test_seed_section_sets_the_backends_neuron_arithmetic_side_by_side(report):
    _, _, page = report
    seed = _section(page, "seed")
    table = seed[seed.index("Neuron arithmetic side by side · protocol seed"):]
    assert "reported, not judged" in table
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("</table>")[0].split("<tbody>")[1], re.S)
    backends = [re.findall(r"<td>(\w+)</td>", row) for row in rows]
    # One row per drawn backend and case; the toolchain-only SpiNNaker run is not drawn, so not listed.
    assert {b for names in backends for b in names if b in ("nest", "brian2", "spinnaker")} == {"nest", "brian2"}
    assert len(rows) == 2 * len(seed_protocol().cases)
