"""CSV the product writes is opened in spreadsheets: text cells that a spreadsheet would run as a
formula are defused (OWASP's CSV-injection rule: a leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return gets a ``'`` in front, which spreadsheets show as text)."""
from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, with a ``'`` in front when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame whose text cells (and column names) are :func:`safe_cell`."""
    safe = frame.copy()
    for column in safe.columns:
        if getattr(safe[column].dtype, "kind", "") in ("O", "U", "S", "T"):  # object and string columns
            safe[column] = safe[column].map(safe_cell)
    safe.columns = [safe_cell(str(column)) for column in safe.columns]
    return safe
