"""Running one protocol on one backend in a test."""

import pytest

from stdp_validation.backends import get_backend
from stdp_validation.results import Observation, RunError, Status


def observe(backend, protocol, **options) -> Observation:
    """The observation of ``protocol`` on ``backend`` (a name or an instance); a RunError raises."""
    instance = get_backend(backend, **options) if isinstance(backend, str) else backend
    (outcome,) = instance.run([protocol])
    if isinstance(outcome, RunError):
        raise AssertionError(f"{outcome.error}\n{outcome.traceback}")
    return outcome


def check(result):
    """Fail with the failing cases listed; xfail naming the known defects if any case is one."""
    failures = [v for v in result.verdicts if v.status == Status.FAIL]
    lines = [
        f"{v.case}: expected {v.expected!r}, observed {v.observed!r}, error {v.error:.3g} > tolerance "
        f"{v.tolerance:g} ({v.tolerance_reason})"
        for v in failures[:10]
    ]
    assert not failures, f"{len(failures)} of {len(result.verdicts)} cases failed:\n" + "\n".join(lines)
    defects = sorted({d for v in result.verdicts if v.status == Status.KNOWN_DEFECT for d in v.defects})
    if defects:
        pytest.xfail(f"known defect(s) {', '.join(defects)} in {sum(v.status == Status.KNOWN_DEFECT for v in result.verdicts)} cases")
