"""The nightly job: run the suite (on a board), keep each night's results, flag regressions.

Each night writes ``ARCHIVE/<YYYY-MM-DD>[-N]/`` (results.json, observations, index.html) and
compares it with the latest earlier night in the archive (nights ordered by date, then by N):

* weights must be bit-identical case by case when the software versions are the same (a
  different version is reported, and its weight changes are listed but not failures);
* a case whose verdict went from pass to fail, or a result that stopped running, is a regression;
* a timing phase is a regression when it is both more than ``slower_factor`` times and more
  than ``slower_seconds`` slower than last night: the ratio catches a slow-down of a long
  phase, the absolute margin keeps the jitter of millisecond phases (a NEST run, an emulated
  core) from being flagged while a real slow-down of them still is.

The comparison is written to ``regressions.json`` in the night's folder; the exit status is 1
when anything regressed. A night none of whose results came from a board is a *rehearsal*
(``rehearsal`` in regressions.json says how the weights were obtained instead). ``keep``
limits the archive to the newest N nights; ``trends.json`` in each night holds, per night
kept, the worst error over tolerance, sPyNNaker's counters and the timing phases, which the
night's report plots.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

from ..backends import BOARD_BACKEND
from ..errors import ParameterError
from ..results.io import read_json, write_json_atomic
from ..results.observation import add_counters

DEFAULT_SLOWER_FACTOR = 1.5
#: A phase must also be this much slower (s) to count: on a busy 2-core host a 0.3 s toolchain
#: phase was measured to vary by ±0.25 s between identical nights.
DEFAULT_SLOWER_SECONDS = 0.5
_NIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:-(\d+))?$")


def night_order(folder):
    """Sort key of a night folder ``YYYY-MM-DD[-N]``: (date, N), ``None`` for other names."""
    match = _NIGHT.match(Path(folder).name)
    if match is None:
        return None
    try:
        date = _dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None
    return date, int(match.group(2) or 1)


def previous_night(archive, current):
    """The latest night folder in ``archive`` before ``current`` that has a results.json."""
    here = night_order(current)
    earlier = [p for p in nights(archive)
               if p.resolve() != Path(current).resolve() and (here is None or night_order(p) < here)]
    return earlier[-1] if earlier else None


def _versions(results):
    versions = {}
    for note in (results.get("backend_notes") or {}).values():
        versions.update(((note.get("environment") or {}).get("versions")) or {})
    return versions


def _key(result):
    return (result.get("backend_label") or result["backend"], result["protocol"], result["rule"])


def compare_nights(previous_dir, current_dir, slower_factor=DEFAULT_SLOWER_FACTOR,
                   slower_seconds=DEFAULT_SLOWER_SECONDS):
    """Regressions of ``current_dir`` against ``previous_dir`` (two run folders).

    Returns a dict: ``regressions`` (text lines; empty when none), ``changes`` (informational
    lines) and the compared versions.
    """
    previous = read_json(Path(previous_dir) / "results.json", "previous night's results")
    current = read_json(Path(current_dir) / "results.json", "tonight's results")
    old_versions, new_versions = _versions(previous), _versions(current)
    same_software = old_versions == new_versions
    regressions, changes = [], []
    if not same_software:
        changed = sorted(k for k in set(old_versions) | set(new_versions) if old_versions.get(k) != new_versions.get(k))
        changes.append("software versions changed: " + ", ".join(
            f"{k} {old_versions.get(k)} → {new_versions.get(k)}" for k in changed))
    new_results = {_key(r): r for r in current.get("results", [])}
    for old in previous.get("results", []):
        name = "/".join(_key(old))
        new = new_results.get(_key(old))
        if new is None:
            regressions.append(f"{name}: ran last night, has no result tonight")
            continue
        new_cases = {v["case"]: v for v in new["verdicts"]}
        for verdict in old["verdicts"]:
            now = new_cases.get(verdict["case"])
            if now is None:
                regressions.append(f"{name} case {verdict['case']!r}: missing tonight")
                continue
            if verdict["status"] == "pass" and now["status"] == "fail":
                regressions.append(f"{name} case {verdict['case']!r}: passed last night, fails tonight "
                                   f"(observed {now['observed']!r}, expected {now['expected']!r})")
            if now["observed"] != verdict["observed"]:
                line = f"{name} case {verdict['case']!r}: weight {verdict['observed']!r} → {now['observed']!r}"
                (regressions if same_software else changes).append(
                    line + (" with the same software versions (must be bit-identical)" if same_software else ""))
        for phase, seconds in (new.get("timings") or {}).items():
            before = (old.get("timings") or {}).get(phase)
            if before and seconds > slower_factor * before and seconds - before > slower_seconds:
                regressions.append(f"{name}: {phase} took {seconds:.3g} s, {seconds / before:.1f}× last night's "
                                   f"{before:.3g} s (limits {slower_factor:g}× and +{slower_seconds:g} s)")
    for error in current.get("errors", []):
        regressions.append(f"{error['backend']}/{error['protocol']}: run error {error['error']}")
    return {
        "previous": str(previous_dir),
        "current": str(current_dir),
        "same_software": same_software,
        "versions": {"previous": old_versions, "current": new_versions},
        "slower_factor": slower_factor,
        "slower_seconds": slower_seconds,
        "regressions": regressions,
        "changes": changes,
    }


def rehearsal(results):
    """``None`` when a backend of the night ran on a board, else how the night's weights were
    obtained (the night rehearses the job; it does not test a board). Decided from the
    backends of the run, not from its results, so a board night whose protocols all failed
    is still a board night."""
    notes = results.get("backend_notes") or {}
    kinds = sorted({note.get("execution", "") for note in notes.values()})
    if "board" in kinds:
        return None
    described = "; ".join(note.get("note", "") for note in notes.values() if note.get("note"))
    return ("REHEARSAL, not a board run: weights obtained as " + (", ".join(kinds) or "nothing")
            + (f" ({described})" if described else ""))


def nights(archive):
    """The night folders of ``archive`` with a results.json, oldest first."""
    found = [p for p in Path(archive).iterdir()
             if p.is_dir() and night_order(p) is not None and (p / "results.json").exists()]
    return sorted(found, key=night_order)


def prune(archive, keep, tonight=None):
    """Delete all but the newest ``keep`` nights of ``archive`` (never ``tonight``); returns the deleted folders."""
    import shutil

    old = [n for n in (nights(archive)[:-keep] if keep else [])
           if tonight is None or n.resolve() != Path(tonight).resolve()]
    for folder in old:
        shutil.rmtree(folder)
    return old


def trends(archive):
    """Per night kept (oldest first): its name, the worst error/tolerance per result, the
    summed sPyNNaker counters per result (emulated or board) and the timing phases per result."""
    series = []
    for folder in nights(archive):
        try:
            data = read_json(folder / "results.json", "a night's results")
        except ParameterError as error:  # an unreadable old night is shown as such, not fatal
            series.append({"night": folder.name, "problem": str(error), "worst_error_over_tolerance": {},
                           "counters": {}, "timings": {}})
            continue
        night = {"night": folder.name, "worst_error_over_tolerance": {}, "counters": {}, "timings": {}}
        for result in data.get("results", []):
            name = "/".join(_key(result))
            ratio = (result.get("summary") or {}).get("worst_error_over_tolerance")
            night["worst_error_over_tolerance"][name] = ratio if isinstance(ratio, (int, float)) else None
            night["timings"][name] = {k: v for k, v in (result.get("timings") or {}).items()
                                      if isinstance(v, (int, float))}
            observation = folder / (result.get("observation_file") or "")
            if result.get("observation_file") and observation.is_file():
                try:
                    provenance = read_json(observation, "observation").get("provenance") or {}
                except ParameterError:
                    continue
                counters = {}
                for core in provenance.get("cores", []):
                    add_counters(counters, core.get("counters") or {})
                if counters:
                    night["counters"][name] = counters
        series.append(night)
    return series


def run_nightly(archive, *, backends=(BOARD_BACKEND,), backend_options=None, protocols=None,
                slower_factor=DEFAULT_SLOWER_FACTOR, slower_seconds=DEFAULT_SLOWER_SECONDS, keep=None,
                date=None, progress=None, rule_matrix=True):
    """Run the suite into ``archive/<date>[-N]/``, compare with the previous night; return (folder, comparison).

    ``keep``: keep only the newest ``keep`` nights (``None``: all). ``rule_matrix``: as for
    :func:`~.orchestration.run_validation` (every standard rule the backend supports). Writes ``regressions.json``
    and ``trends.json`` into the night and its report (with the trend plots).
    """
    from ..report import write_report
    from .orchestration import run_validation

    if not slower_factor > 1.0:
        raise ParameterError(f"--slower-factor (slower_factor) must be > 1; got {slower_factor!r}")
    if not slower_seconds >= 0.0:
        raise ParameterError(f"--slower-seconds (slower_seconds) must be >= 0 s; got {slower_seconds!r}")
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 2):
        raise ParameterError(f"--keep (keep) must be an integer >= 2 (tonight and the night it is compared with); "
                             f"got {keep!r}")
    run = run_validation(backends, protocols, out_dir=archive, command="stdp-validate nightly", progress=progress,
                         backend_options=backend_options, folder_name=date or _dt.date.today().isoformat(),
                         out_option="--archive", rule_matrix=rule_matrix)
    night = run.directory
    earlier = previous_night(archive, night)
    if earlier is None:
        comparison = {"previous": None, "current": str(night), "regressions": [], "changes": ["first night"]}
    else:
        comparison = compare_nights(earlier, night, slower_factor, slower_seconds)
    if any(result.failed for result in run.results):
        comparison["regressions"].append("tonight has failing cases (see index.html)")
    comparison["rehearsal"] = rehearsal(read_json(night / "results.json", "tonight's results"))
    if keep is not None:
        comparison["pruned"] = [str(p) for p in prune(archive, keep, tonight=night)]
    write_json_atomic(night / "regressions.json", comparison)
    write_json_atomic(night / "trends.json", trends(archive))
    write_report(night)
    return night, comparison
