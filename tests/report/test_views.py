"""The report's views: every number the page shows, checked by hand, without drawing anything.

Runs are written with the real types (ProtocolResult, Verdict, Observation, ValidationRun)
and read back with ``load_run``, so each test goes through results.json as the report does.
"""

import math

import numpy as np
import pytest
from report_runs import TOOLCHAIN_NOTE, observation, save_run, toolchain_seed

from stdp_validation import CONVENTIONS
from stdp_validation.protocols import seed_protocol, window_protocol
from stdp_validation.report import views
from stdp_validation.report.load import Entry, load_run, unique_slugs
from stdp_validation.report.views.cross import cross_view
from stdp_validation.report.views.protocols import case_rows, protocol_view, seed_view
from stdp_validation.report.views.sections import check_tables, defect_rows, execution_sections, timings_view
from stdp_validation.results import Check, Execution, Observation, ProtocolResult, Status, Verdict

LSB = 2.0 ** -13


def verdict(case, status, *, expected=0.5, observed=0.5, error=0.0, tolerance=1.0, **values):
    return Verdict(case=case, parameter=None, initial_weight=0.5, expected=expected, observed=observed, error=error,
                   tolerance=tolerance, tolerance_reason="by hand", status=status, **values)


def result(label, verdicts, *, protocol="window", execution=Execution.SIMULATED, rule="pair-additive", **values):
    values.setdefault("protocol_parameters", {"timestep": 0.1, "delay": 1.0, "t_stop": 100.0})
    return ProtocolResult(backend=label.split("[")[0], protocol=protocol, rule=rule, execution=execution,
                          verdicts=verdicts, backend_label=label, comparison="float", tolerance="by hand", **values)


def loaded(tmp_path, observations=(), results=(), **options):
    return load_run(save_run(tmp_path / "run", observations, results=results, **options))


def window_observations(lags=(-10.0, 0.0, 10.0)):
    """NEST (dendritic delay, a trailing pre spike) and Brian2 (axonal delay) on the same pairs,
    pre at 100 ms, post at 100 + lag ms, d = 1 ms."""
    window = window_protocol(list(lags), stagger=1)
    post = [[100.0 + lag] for lag in lags]
    return (observation("nest", window, [[100.0, 250.0] for _ in lags], post),
            observation("brian2", window, [[100.0] for _ in lags], post))


def test_summary_rows_take_counts_status_and_worst_ratio_from_the_result(tmp_path):
    cases = [verdict("a", Status.PASS, error=0.5), verdict("b", Status.PASS, error=0.25),
             verdict("c", Status.FAIL, error=3.0), verdict("d", Status.KNOWN_DEFECT, error=10.0, defects=["x"]),
             verdict("e", Status.NOT_RUN, expected=None, error=None, tolerance=None)]
    checks = {"passed": 3, "failed": 1, "not_checked": 1, "divergences": 2}
    run = loaded(tmp_path, results=[result("nest", cases, checks=checks)])
    (row,) = views.summary_rows(run)
    assert row.counts == {"pass": 2, "fail": 1, "known_defect": 1, "not_run": 1}
    assert row.cases == 5 and row.status is Status.FAIL
    assert row.worst_ratio == 3.0  # the known defect's 10 is not a compared case
    assert row.checks == "3/5" and row.execution is Execution.SIMULATED
    assert (row.timestep, row.slug, row.comparison) == (0.1, "window", "float")


def test_banner_of_a_run_with_nothing_validated(tmp_path):
    run = loaded(tmp_path, [toolchain_seed(seed_protocol())], notes={"spinnaker": TOOLCHAIN_NOTE})
    banner = views.banner(run)
    assert banner.css == "known"
    assert banner.headline.startswith("NOTHING VALIDATED: no case was compared with the reference and agreed")
    assert banner.headline.endswith("(not run (no learned weights): spinnaker 3)")
    (line,) = banner.executions
    assert line.execution is Execution.TOOLCHAIN_ONLY and line.labels == ("spinnaker",)
    assert line.notes == (TOOLCHAIN_NOTE,)


def test_banner_names_every_way_weights_were_obtained(tmp_path):
    results = [result("nest", [verdict("a", Status.PASS)]),
               result("spinnaker[mode=emulated]", [verdict("a", Status.PASS)], execution=Execution.EMULATED)]
    run = loaded(tmp_path, results=results, notes={"spinnaker[mode=emulated]": "emulated, not a board"})
    banner = views.banner(run)
    assert banner.css == "pass"
    assert banner.headline == "PASSED: 2 validated cases (nest 1, spinnaker[mode=emulated] 1)"
    simulated, emulated = banner.executions
    assert simulated.execution is Execution.SIMULATED and simulated.labels == ("nest",) and simulated.notes == ()
    assert emulated.execution.label == "emulated ARM code (not a board)"
    assert emulated.labels == ("spinnaker[mode=emulated]",) and emulated.notes == ("emulated, not a board",)


def test_zero_crossing_is_minus_d_for_a_dendritic_delay_and_plus_d_for_an_axonal_one():
    nest, brian2 = CONVENTIONS["nest"], CONVENTIONS["brian2"]  # f = 1 and f = 0
    assert views.lag_offset(nest, 1.5) == 1.5 and views.zero_crossing(nest, 1.5) == -1.5
    assert views.lag_offset(brian2, 1.5) == -1.5 and views.zero_crossing(brian2, 1.5) == 1.5


def test_window_points_zero_crossings_and_panels(tmp_path):
    run = loaded(tmp_path, window_observations())
    nest, brian2 = run.entries
    # pair dt = +10 ms: NEST sees s = 110 + 1 − 100 = 11 ms, Brian2 s = 110 − (100 + 1) = 9 ms
    assert views.points(nest).lag[2] == 11.0 and views.points(brian2).lag[2] == 9.0
    assert views.points(nest).dt.tolist() == views.points(brian2).dt.tolist() == [-10.0, 0.0, 10.0]
    rows = {r.label: r for r in views.zero_crossing_rows(run.entries)}
    assert (rows["nest"].fraction, rows["nest"].offset, rows["nest"].crossing) == (1.0, 1.0, -1.0)
    assert (rows["brian2"].fraction, rows["brian2"].offset, rows["brian2"].crossing) == (0.0, -1.0, 1.0)
    panel = views.window_panel(nest)
    assert panel.kernel is nest.result.reference["kernel"]  # the comparison's curve, not recomputed
    assert panel.kernel["dw_at_zero"] == 0.0 and views.window_panel(brian2).kernel["dw_at_zero"] == 0.02
    p = views.points(brian2)
    assert p.unit == "weight" and np.allclose(p.dw_observed, p.observed - 0.5)


def test_residuals_of_stored_integer_comparisons_are_in_lsb(tmp_path):
    cases = [verdict("a", Status.FAIL, expected=100 * LSB, observed=103 * LSB, error=3 * LSB, tolerance=0.0,
                     stored_expected=100, stored_observed=103, lsb=LSB, lag=5.0),
             verdict("b", Status.PASS, expected=200 * LSB, observed=199 * LSB, error=LSB, tolerance=LSB,
                     stored_expected=200, stored_observed=199, lsb=LSB, lag=-5.0)]
    run = loaded(tmp_path, results=[result("spinnaker", cases, execution=Execution.BOARD)])
    p = views.points(run.entries[0])
    assert p.unit == "LSB"
    assert p.residual.tolist() == [3.0, -1.0] and p.residual_tolerance.tolist() == [0.0, 1.0]
    assert np.isnan(p.dt).all()  # no observation: the emission Δt is unknown
    rows = case_rows(run.entries[0])
    assert [r.lsb_difference for r in rows] == [3, -1] and rows[0].ratio == math.inf
    assert rows[0].recorded_pre is None  # no observation, no spike times


def test_float_residuals_are_observed_minus_expected(tmp_path):
    cases = [verdict("a", Status.PASS, expected=0.5, observed=0.5 + 1e-10, error=1e-10, tolerance=2e-9),
             verdict("b", Status.FAIL, expected=0.5, observed=0.49, error=0.01, tolerance=2e-9)]
    p = views.points(loaded(tmp_path, results=[result("nest", cases)]).entries[0])
    assert p.unit == "weight" and np.allclose(p.residual, [1e-10, -0.01])
    assert p.residual_tolerance.tolist() == [2e-9, 2e-9]


def test_only_learned_weights_are_plotted(tmp_path):
    cases = [verdict("a", Status.NOT_RUN, expected=None, error=None, tolerance=None, lag=1.0)]
    run = loaded(tmp_path, results=[result("spinnaker", cases, execution=Execution.TOOLCHAIN_ONLY,
                                           reference={"kernel": {"dw_at_zero": 0.0}})])
    assert views.window_panel(run.entries[0]) is None
    section = protocol_view(run, "window", views.FigureNames())
    assert section.window is None and section.scatter is None and section.residuals is None


def test_case_rows_follow_the_synapses_to_their_cells(tmp_path):
    protocol = window_protocol([-5.0, 5.0], stagger=1, pre_time=100.0)
    shared = Observation(
        backend="nest", protocol=protocol, conventions=CONVENTIONS["nest"], execution=Execution.SIMULATED,
        pre_spike_times=[[100.0], [110.0]], post_spike_times=[[105.5]], final_weights=[0.5, 0.5],
        initial_weights=[0.5, 0.5], intended_post_times=[[105.0]], delay=1.0, t_stop=300.0,
        synapses=[[0, 0], [1, 0]])
    entry = Entry(0, result("nest", [verdict("dt=-5", Status.PASS), verdict("dt=+5", Status.PASS)]), shared)
    first, second = case_rows(entry)
    assert second.recorded_pre == (110.0,) and second.recorded_post == (105.5,) and second.intended_post == (105.0,)
    assert first.intended_pre == (100.0,) and first.number == 1


def test_cross_backend_differences_on_shared_cases(tmp_path):
    first = result("a", [verdict("x", Status.PASS, observed=0.5, tolerance=1e-9),
                         verdict("y", Status.PASS, observed=0.6, tolerance=1e-9),
                         verdict("only in a", Status.PASS, observed=0.9)])
    second = result("b", [verdict("x", Status.PASS, observed=0.52, tolerance=1e-9),
                          verdict("y", Status.PASS, observed=0.6, tolerance=1e-9)])
    board = result("c", [verdict("x", Status.NOT_RUN, observed=0.1, expected=None, error=None, tolerance=None)],
                   execution=Execution.TOOLCHAIN_ONLY)
    run = loaded(tmp_path, results=[first, second, board])
    cross = cross_view(run, views.FigureNames())
    (row,) = cross.agreement  # the toolchain-only result is not compared
    assert (row.first, row.second, row.shared, row.differing, row.at_case) == ("a", "b", 2, 1, "x")
    assert row.largest == pytest.approx(0.02)
    assert cross.left_out == (("c", Execution.TOOLCHAIN_ONLY),)
    assert cross.windows == () and cross.conventions is None  # no observation: no window, no conventions


def test_pairs_between_the_zero_crossings_change_sign_across_backends(tmp_path):
    run = loaded(tmp_path, window_observations((-10.0, 0.0, 10.0)))
    cross = cross_view(run, views.FigureNames())
    (window,) = cross.windows
    assert window.labels == ("nest", "brian2") and window.shared == 3
    # dt = 0: NEST sees s = +1 ms (potentiation), Brian2 s = −1 ms (depression)
    (row,) = window.signs
    assert row.case == "dt=+0" and row.values[0][1] > 0 > row.values[1][1]
    table = cross.conventions
    assert table.spread == 2.0 and table.spread_is_two_delays
    zero_lag = next(r for r in table.rows if r.field == "zero_lag")
    assert "nest: Δw(s = 0) = 0 " in zero_lag.consequence and "brian2: Δw(s = 0) = 0.02 " in zero_lag.consequence
    assert "timestep" not in [r.field for r in table.rows]


def test_known_defects_list_every_defect_with_the_cases_that_hit_it(tmp_path):
    cases = [verdict("dt=-10", Status.KNOWN_DEFECT, defects=["brian2-multiplicative-ignored"]),
             verdict("dt=+10", Status.KNOWN_DEFECT, defects=["unlisted-defect"])]
    run = loaded(tmp_path, results=[result("brian2", cases, rule="pair-multiplicative")])
    rows, hits = defect_rows(run)
    assert hits == 2
    listed = {r.id: r for r in rows if r.listed}
    assert len(listed) == len(run.known_defects) and len(run.known_defects) >= 7
    assert listed["brian2-multiplicative-ignored"].hits == ("brian2 / window / pair-multiplicative: dt=-10",)
    assert listed["nest-negative-amplitude-bounds"].hits == ()
    assert [(r.id, r.hits) for r in rows if not r.listed] == [
        ("unlisted-defect", ("brian2 / window / pair-multiplicative: dt=+10",))]


def test_timings_totals_and_time_per_case(tmp_path):
    cases = [verdict(str(k), Status.PASS) for k in range(4)]
    run = loaded(tmp_path, results=[result("nest", cases, timings={"run": 0.5, "build": 0.25, "extra": 0.25})])
    timings = timings_view(run, views.FigureNames())
    assert timings.phases == ("build", "run", "extra")
    (row,) = timings.rows
    assert row.values == (0.25, 0.5, 0.25) and row.total == 1.0 and row.ms_per_case == 250.0
    assert timings.figure.name == "timings" and timings.figure.panels[0].labels == ("nest · window",)


def test_toolchain_checks_and_sections_per_execution(tmp_path):
    seed = seed_protocol()
    toolchain = toolchain_seed(seed)
    toolchain.checks.append(Check("seed", "broken", 1, 2, False, "differs"))
    toolchain.checks.append(Check("seed", "warning", 1, 2, False, "measured", kind="info"))
    run = loaded(tmp_path, [toolchain], notes={"spinnaker": TOOLCHAIN_NOTE})
    (table,) = check_tables(run)
    assert [r.css for r in table.rows] == ["pass", "notrun", "diff", "pass", "fail", "known"]
    assert table.rows[3].observed == '{"count": 1}' and table.counts["failed"] == 1
    (section,) = execution_sections(run)
    assert section.id == "execution-toolchain_only" and section.backends[0].note == TOOLCHAIN_NOTE
    assert "NOT board output: final_weights are the INITIAL weights" in section.results[0].notes
    page = views.build_page(run)
    ids = [s.id for s in page.sections]
    assert ids[-2:] == ["toolchain", "execution-toolchain_only"]
    assert seed_view(run, views.FigureNames()).not_drawn[0][2].startswith(Execution.TOOLCHAIN_ONLY.label)


def test_seed_trajectories_come_from_the_results_reference(tmp_path):
    seed = seed_protocol()
    pre = [[t + 1.0 for t in case.pre_spike_times] for case in seed.cases]
    post = [[t + 1.0 for t in case.post_drive_times] for case in seed.cases]
    run = loaded(tmp_path, [observation("nest", seed, pre, post)])
    (drawn,) = seed_view(run, views.FigureNames()).entries
    reference = run.entries[0].result.reference["trajectories"]
    (panel,) = drawn.figure.panels
    for case in panel.cases:
        assert list(case.trajectory_times) == reference[case.label]["times"]
        assert list(case.trajectory_weights) == reference[case.label]["weights"]
    assert drawn.rows[0].intended_pre == (30.0, 40.0, 50.0, 60.0)
    assert drawn.rows[0].recorded_pre == (31.0, 41.0, 51.0, 61.0)


def test_environment_rows_come_from_the_backend_notes(tmp_path):
    run = loaded(tmp_path, results=[result("nest", [verdict("a", Status.PASS)])])
    (row,) = views.summary.environment_rows(run)
    columns = dict(zip(views.summary.VERSION_COLUMNS, row.versions))
    assert columns == {"Python": "3.11.7", "numpy": "1.26.4", "PyNN": "0.13.0", "Brian2": "", "NEST": "3.10.0",
                       "sPyNNaker": ""}
    assert row.machine == "software simulator" and row.platform == "Linux-test"


def test_names_are_unique():
    names = views.FigureNames()
    assert [names.add(n, "timings", (), "").name for n in ("a b", "a-b", "<x>")] == ["a-b", "a-b-2", "x"]
    assert unique_slugs(["window", "win dow", "win-dow", "<script>"]) == {
        "window": "window", "win dow": "win-dow", "win-dow": "win-dow-2", "<script>": "script"}


def test_a_label_with_results_obtained_two_ways_is_named_in_both(tmp_path):
    results = [result("spinnaker", [verdict("a", Status.PASS)], execution=Execution.EMULATED),
               result("spinnaker", [verdict("b", Status.NOT_RUN, expected=None, error=None, tolerance=None)],
                      protocol="seed", execution=Execution.TOOLCHAIN_ONLY)]
    run = loaded(tmp_path, results=results, notes={"spinnaker": "emulated where the emulator can"})
    assert views.executions(run) == {"spinnaker": (Execution.EMULATED, Execution.TOOLCHAIN_ONLY)}
    emulated, toolchain = views.banner(run).executions
    assert emulated.labels == ("spinnaker (window)",) and emulated.notes == ("emulated where the emulator can",)
    assert toolchain.labels == ("spinnaker (seed)",) and toolchain.notes == ()
    sections = {s.id: [r.protocol for r in s.results] for s in execution_sections(run)}
    assert sections == {"execution-emulated": ["window"], "execution-toolchain_only": ["seed"]}


def test_the_pairing_figure_gives_delta_w_per_frequency_lag_and_backend():
    from types import SimpleNamespace

    from stdp_validation.protocols import pairing_protocol
    from stdp_validation.report.views.protocols import frequency_panel

    protocol = pairing_protocol(frequencies=(1.0, 20.0), lags=(-10.0, 10.0), n_pairings=3)
    # cases: 1 Hz −10, 1 Hz +10, 20 Hz −10, 20 Hz +10 (initial 0.5); observed and expected by hand
    observed, expected = [0.4, 0.7, 0.45, 0.6], [0.41, 0.69, 0.44, 0.61]
    verdicts = [SimpleNamespace(parameter=c.parameter, observed=o, expected=e, initial_weight=0.5)
                for c, o, e in zip(protocol.cases, observed, expected)]
    entry = SimpleNamespace(label="nest", observation=SimpleNamespace(protocol=protocol), verdicts=verdicts)
    panel = frequency_panel([entry], protocol.parameter_name)
    depress, potentiate = panel.series
    assert (depress.label, depress.lag, depress.frequencies) == ("nest", -10.0, (1.0, 20.0))
    assert depress.observed == pytest.approx((-0.1, -0.05)) and depress.expected == pytest.approx((-0.09, -0.06))
    assert potentiate.lag == 10.0 and potentiate.observed == pytest.approx((0.2, 0.1))
    assert frequency_panel([SimpleNamespace(label="x", observation=None, verdicts=[])], "f") is None
