"""Read an answers file (YAML or JSON mapping of field key to answer)."""
from __future__ import annotations

import os
from typing import Any

from ..errors import InputFileError
from .bounded import ANSWERS_MAX_BYTES, read_text
from .source import parse_text


def load_answers(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The answers in a YAML/JSON file; InputFileError naming the file and line when malformed."""
    source = str(path)
    return answers_from_text(read_text(path, ANSWERS_MAX_BYTES, "answers file"), source)


def answers_from_text(text: str, source: str = "<answers>") -> dict[str, Any]:
    """The answers in YAML/JSON text; InputFileError when it is not a mapping."""
    located = parse_text(text, source)
    if located.problems:
        raise InputFileError("\n".join(str(p) for p in located.problems))
    if located.data is None:
        return {}
    if not isinstance(located.data, dict):
        raise InputFileError(f"{source}: answers must be a mapping of field keys to values")
    bad = [k for k in located.data if not isinstance(k, str)]
    if bad:
        raise InputFileError(f"{source}:{located.line_of((bad[0],)) or ''}: field key {bad[0]!r} is not text")
    return located.data
