"""Workflows: what the widgets and the CLI both call (create everywhere, resume, sync, check...).

The names below are imported on first use, so that importing one workflow module (``verify``
for a quick check, say) does not load the others, the Session and their HTTP libraries.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .create import CreateResult, StepOutcome, apply_everywhere, create_project_everywhere

__all__ = ["CreateResult", "StepOutcome", "apply_everywhere", "create_project_everywhere"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module(".create", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
