"""How the product writes a number of bytes for people: decimal units, as file managers do."""
from __future__ import annotations


def describe_size(size: int) -> str:
    """``1234567`` -> ``1.2 MB``; under 1,000 the bytes themselves (``999 bytes``)."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000:
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
