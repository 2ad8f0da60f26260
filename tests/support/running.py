"""Running one protocol on one backend in a test."""

from stdp_validation.backends import get_backend
from stdp_validation.results import Observation, RunError


def observe(backend, protocol, **options) -> Observation:
    """The observation of ``protocol`` on ``backend`` (a name or an instance); a RunError raises."""
    instance = get_backend(backend, **options) if isinstance(backend, str) else backend
    (outcome,) = instance.run([protocol])
    if isinstance(outcome, RunError):
        raise AssertionError(f"{outcome.error}\n{outcome.traceback}")
    return outcome
