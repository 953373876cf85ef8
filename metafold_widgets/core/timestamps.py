"""The one way the product writes a moment in time: ISO 8601, UTC, whole seconds, ``Z``."""
from __future__ import annotations

import datetime as dt


def utc_now(moment: dt.datetime | None = None) -> str:
    """``moment`` (default: now) as ``2025-06-13T10:30:00Z``; a naive ``moment`` is taken as local time."""
    when = moment if moment is not None else dt.datetime.now(dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
