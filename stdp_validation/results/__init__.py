"""Results: observations, comparisons, verdicts, known defects and their files.

``status``       :class:`Status` (how a case ended) and :class:`Execution` (how weights were obtained)
``observation``  :class:`Observation`, :class:`Check`, :class:`RunError`
``compare``      the comparators and :func:`evaluate`
``result``       :class:`Verdict`, :class:`ProtocolResult`
``defects``      known backend defects with their evidence
``io``           atomic writes, JSON, schema validation (schemas ship in ``schemas/``)
"""

from .compare import FloatComparator, NoComparison, StoredIntegerComparator, Tolerance, evaluate
from .observation import FORMAT_VERSION, Check, CheckKind, Observation, RunError
from .result import ProtocolResult, Verdict
from .status import Execution, Status

__all__ = [
    "FORMAT_VERSION",
    "Check",
    "CheckKind",
    "Execution",
    "FloatComparator",
    "NoComparison",
    "Observation",
    "ProtocolResult",
    "RunError",
    "Status",
    "StoredIntegerComparator",
    "Tolerance",
    "Verdict",
    "evaluate",
]
