"""Workflows: what the widgets and the CLI both call (create everywhere, later resume, sync, check)."""
from .create import CreateResult, StepOutcome, apply_everywhere, create_project_everywhere

__all__ = ["CreateResult", "StepOutcome", "apply_everywhere", "create_project_everywhere"]
