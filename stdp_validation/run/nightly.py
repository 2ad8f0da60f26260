"""The nightly job: run the suite (on a board), keep each night's results, flag regressions.

Each night writes ``ARCHIVE/<YYYY-MM-DD>[-N]/`` (results.json, observations, index.html) and
compares it with the latest earlier night in the archive (nights ordered by date, then by N):

* weights must be bit-identical case by case when the software versions are the same (a
  different version is reported, and its weight changes are listed but not failures);
* a case whose verdict went from pass to fail, or a result that stopped running, is a regression;
* a timing phase slower by more than ``slower_factor`` is a regression (phases under
  ``min_seconds`` are ignored: they are noise).

The comparison is written to ``regressions.json`` in the night's folder; the exit status is 1
when anything regressed.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

from ..errors import ParameterError
from ..results.io import read_json, write_json_atomic

DEFAULT_SLOWER_FACTOR = 1.5
DEFAULT_MIN_SECONDS = 1.0
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
    nights = [p for p in Path(archive).iterdir()
              if p.is_dir() and (p / "results.json").exists() and night_order(p) is not None
              and p.resolve() != Path(current).resolve() and (here is None or night_order(p) < here)]
    return max(nights, key=night_order) if nights else None


def _versions(results):
    versions = {}
    for note in (results.get("backend_notes") or {}).values():
        versions.update(((note.get("environment") or {}).get("versions")) or {})
    return versions


def _key(result):
    return (result.get("backend_label") or result["backend"], result["protocol"], result["rule"])


def compare_nights(previous_dir, current_dir, slower_factor=DEFAULT_SLOWER_FACTOR, min_seconds=DEFAULT_MIN_SECONDS):
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
            if before and seconds >= min_seconds and seconds > slower_factor * before:
                regressions.append(f"{name}: {phase} took {seconds:.2f} s, {seconds / before:.1f}× last night's "
                                   f"{before:.2f} s (limit {slower_factor:g}×)")
    for error in current.get("errors", []):
        regressions.append(f"{error['backend']}/{error['protocol']}: run error {error['error']}")
    return {
        "previous": str(previous_dir),
        "current": str(current_dir),
        "same_software": same_software,
        "versions": {"previous": old_versions, "current": new_versions},
        "slower_factor": slower_factor,
        "regressions": regressions,
        "changes": changes,
    }


def run_nightly(archive, *, backends=("spinnaker",), backend_options=None, protocols=None,
                slower_factor=DEFAULT_SLOWER_FACTOR, date=None, progress=None):
    """Run the suite into ``archive/<date>[-N]/``, compare with the previous night; return (folder, comparison)."""
    from ..report import write_report
    from .orchestration import run_validation

    if not slower_factor > 1.0:
        raise ParameterError(f"--slower-factor (slower_factor) must be > 1; got {slower_factor!r}")
    run = run_validation(backends, protocols, out_dir=archive, command="stdp-validate nightly", progress=progress,
                         backend_options=backend_options, folder_name=date or _dt.date.today().isoformat(),
                         out_option="--archive")
    night = run.directory
    write_report(night)
    earlier = previous_night(archive, night)
    if earlier is None:
        comparison = {"previous": None, "current": str(night), "regressions": [], "changes": ["first night"]}
    else:
        comparison = compare_nights(earlier, night, slower_factor)
    if any(result.failed for result in run.results):
        comparison["regressions"].append("tonight has failing cases (see index.html)")
    write_json_atomic(night / "regressions.json", comparison)
    return night, comparison
