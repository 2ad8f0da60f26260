"""Running the suite: the main job's orchestration, its summary, the nightly job, shared options."""

from .orchestration import ValidationRun, plan_validation, run_validation
from .summary import run_status, summary_table

__all__ = ["ValidationRun", "plan_validation", "run_status", "run_validation", "summary_table"]
