"""The verdict of a whole run and its plain-text summary: what was validated, never more.

A run passes only if something was validated: a run, backend or row whose cases were all
``not_run`` (or all known defects) never says PASSED. The headline counts validated cases
per backend and names the rest.
"""

from __future__ import annotations

from ..results.status import Status


def _per_backend(results, status):
    counts = {}
    for result in results:
        counts[result.backend_label] = counts.get(result.backend_label, 0) + result.count(status)
    return {k: v for k, v in counts.items() if v}


def _listing(counts):
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def run_status(run):
    """``(Status, headline)`` of a run (a :class:`~.orchestration.ValidationRun` or anything
    with ``results``, ``errors`` and ``interrupted``).

    error: interrupted; fail: a case or toolchain check failed or a protocol raised;
    not_run: nothing was validated (all cases not run or known defects); pass otherwise.
    """
    results = run.results
    validated = _per_backend(results, Status.PASS)
    failed = sum(r.count(Status.FAIL) for r in results)
    failed_checks = sum(r.failed_checks for r in results)
    known = _per_backend(results, Status.KNOWN_DEFECT)
    not_run = _per_backend(results, Status.NOT_RUN)
    rest = []
    if known:
        rest.append(f"known defects: {_listing(known)}")
    defect_only = _defects_only(results)
    if defect_only:
        rest.append(f"no case validated, only known defects: {', '.join(defect_only)}")
    if not_run:
        rest.append(f"not run (no learned weights): {_listing(not_run)}")
    tail = f" ({'; '.join(rest)})" if rest else ""
    if run.interrupted:
        return Status.ERROR, f"INTERRUPTED: the run was stopped; {sum(validated.values())} cases validated so far"
    if failed or failed_checks or run.errors:
        return Status.FAIL, (f"FAILED: {failed} failed case(s), {failed_checks} failed toolchain check(s), "
                             f"{len(run.errors)} run error(s); validated: {_listing(validated) or 'none'}{tail}")
    if not validated:
        return Status.NOT_RUN, f"NOTHING VALIDATED: no case was compared with the reference and agreed{tail}"
    return Status.PASS, f"PASSED: {sum(validated.values())} validated cases ({_listing(validated)}){tail}"


def _defects_only(results):
    """``"<rule> on <backend label>"`` for every (backend label, rule) whose cases include known
    defects and no pass: such a rule is not validated there, whatever else passed."""
    groups = {}
    for result in results:
        key = (result.backend_label, result.rule)
        passed, defects = groups.get(key, (0, 0))
        groups[key] = (passed + result.count(Status.PASS), defects + result.count(Status.KNOWN_DEFECT))
    return [f"{rule} on {label}" for (label, rule), (passed, defects) in groups.items() if defects and not passed]


def _ratio_cell(ratio):
    return "n/a" if ratio is None else f"{ratio:.3g}"


def _checks_cell(result):
    total = sum(result.checks.get(k, 0) for k in ("passed", "failed", "not_checked"))
    return f"{result.checks.get('passed', 0)}/{total}" if total else "-"


def summary_table(run):
    """Plain-text table: one row per result with its status and counts, then the headline."""
    names = [r.protocol for r in run.results] + [e.protocol for e in run.errors]
    w = max([10] + [len(n) for n in names])
    labels = [r.backend_label for r in run.results] + [e.backend for e in run.errors] + list(run.skipped) + \
        [u["backend"] for u in run.unsupported]
    b = max([16] + [len(label) for label in labels])
    header = (f"{'protocol':<{w}} {'backend':<{b}} {'rule':<22} {'status':<12} {'cases':>5} {'passed':>6} "
              f"{'failed':>6} {'defects':>7} {'not run':>7} {'checks':>9} {'worst err/tol':>13}")
    lines = [header, "-" * len(header)]
    for result in run.results:
        counts = result.counts
        lines.append(
            f"{result.protocol:<{w}} {result.backend_label:<{b}} {result.rule:<22} {result.status.value:<12} "
            f"{len(result.verdicts):>5} {counts['pass']:>6} {counts['fail']:>6} {counts['known_defect']:>7} "
            f"{counts['not_run']:>7} {_checks_cell(result):>9} {_ratio_cell(result.worst_error_ratio):>13}"
        )
    for error in run.errors:
        lines.append(f"{error.protocol:<{w}} {error.backend:<{b}} ERROR {error.error}")
    for backend, reason in run.skipped.items():
        lines.append(f"{'(all)':<{w}} {backend:<{b}} SKIPPED {reason}")
    grouped = {}
    for entry in run.unsupported:
        grouped.setdefault((entry["backend"], entry["reason"]), []).append(entry)
    for (backend, reason), entries in grouped.items():
        protocols = ", ".join(dict.fromkeys(e["protocol"] for e in entries))
        rules = ", ".join(dict.fromkeys(e.get("rule", "?") for e in entries))
        lines.append(f"{'(' + str(len(entries)) + ')':<{w}} {backend:<{b}} NOT SUPPORTED {protocols} under {rules}: {reason}")
    for label, note in getattr(run, "backend_notes", {}).items():
        if note.get("execution") != "simulated":
            lines.append(note["note"])
    lines.append(run_status(run)[1])
    return "\n".join(lines)
