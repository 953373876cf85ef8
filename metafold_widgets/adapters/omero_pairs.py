"""Key-value pairs for OMERO map annotations: normalising, splitting long values, joining them back.

OMERO stores a map annotation as an ordered list of (key, value) pairs; keys may repeat.
Values are indexed in PostgreSQL, so each is kept to at most :data:`MAX_VALUE_BYTES`
(1 KiB of UTF-8). The rule for longer values (a long research question, say) is:

* **Split**: a value longer than 1024 UTF-8 bytes is cut, at character boundaries, into
  chunks of at most 1024 bytes. The first chunk keeps the key; chunk ``n`` (n >= 2) is
  stored under ``"<key> (n)"``, directly after chunk ``n - 1``. Every chunk but the last
  is therefore longer than 1020 bytes (the next character, at most 4 bytes, did not fit).
* **Join**: a pair whose key is ``"<key> (n)"`` is a continuation, and its value is appended
  to the previous pair's without a separator, exactly when it directly follows chunk
  ``n - 1`` of ``<key>`` and that chunk is longer than 1020 bytes. A key a person typed as
  ``"Notes (2)"`` after a short ``"Notes"`` value therefore stays a pair of its own.

``join_continuations(split_long_values(pairs)) == pairs`` for any pairs but one case: a
person's own key ``"<key> (n)"`` placed directly after a value of ``<key>`` whose last chunk
is itself longer than 1020 bytes reads as one more chunk (the stored pairs cannot tell them
apart). Keys longer than 1 KiB are refused (they are labels, not text). Pure Python: no
omero import here.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Union

MAX_VALUE_BYTES = 1024
_MAX_CHAR_BYTES = 4  # the longest UTF-8 encoding of one character
_FULL_CHUNK_BYTES = MAX_VALUE_BYTES - _MAX_CHAR_BYTES
_CONTINUATION = re.compile(r"^(?P<key>.*) \((?P<n>[2-9]|[1-9][0-9]+)\)$", re.DOTALL)

Pair = tuple[str, str]
PairsLike = Union[Mapping[str, Any], Iterable[Union[tuple, list]]]


def value_text(value: Any) -> str:
    """How one answer is written as an OMERO value: booleans as yes/no, the rest as text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def to_pairs(values: PairsLike) -> list[Pair]:
    """Ordered (key, text) pairs from a mapping or from pairs; lists become repeated keys.

    Blank values (None, "") are left out: OMERO.web shows an empty value as a pair to fill in,
    which is not what an unanswered optional field means.
    """
    items = values.items() if isinstance(values, Mapping) else values
    pairs: list[Pair] = []
    for item in items:
        key, value = item
        for element in value if isinstance(value, (list, tuple)) else [value]:
            if element is None or element == "":
                continue
            pairs.append((str(key), value_text(element)))
    return pairs


def continuation_key(key: str, number: int) -> str:
    """The key of chunk ``number`` (2, 3, ...) of a long value stored under ``key``."""
    return f"{key} ({number})"


def split_value(value: str, limit: int = MAX_VALUE_BYTES) -> list[str]:
    """``value`` cut at character boundaries into chunks of at most ``limit`` UTF-8 bytes."""
    data = value.encode("utf-8")
    if len(data) <= limit:
        return [value]
    chunks: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never cut inside a character
            end -= 1
        chunks.append(data[start:end].decode("utf-8"))
        start = end
    return chunks


def split_long_values(pairs: Iterable[Pair]) -> list[Pair]:
    """Pairs ready for OMERO: long values split into numbered continuation keys (see module doc)."""
    result: list[Pair] = []
    for key, value in pairs:
        if len(key.encode("utf-8")) > MAX_VALUE_BYTES:
            raise ValueError(f"the key {key[:40]!r}... is longer than 1 KiB; use a shorter label")
        chunks = split_value(value)
        result.append((key, chunks[0]))
        result.extend((continuation_key(key, n), chunk) for n, chunk in enumerate(chunks[1:], start=2))
    return result


def join_continuations(pairs: Iterable[Pair]) -> list[Pair]:
    """The logical pairs behind stored ones: continuation chunks appended to their value."""
    result: list[Pair] = []
    last_chunk = ""  # the previous stored value (one chunk), to tell a full chunk from a short one
    expected: tuple[str, int] | None = None  # (base key, number the next continuation must carry)
    for key, value in pairs:
        match = _CONTINUATION.match(key)
        if (match and expected is not None and match["key"] == expected[0] and int(match["n"]) == expected[1]
                and len(last_chunk.encode("utf-8")) > _FULL_CHUNK_BYTES):
            base, _ = result[-1]
            result[-1] = (base, result[-1][1] + value)
            expected = (expected[0], expected[1] + 1)
        else:
            result.append((key, value))
            expected = (key, 2)
        last_chunk = value
    return result
