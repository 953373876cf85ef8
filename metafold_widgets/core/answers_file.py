"""Read an answers file (YAML or JSON mapping of field key to answer)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InputFileError
from .source import parse_text


def load_answers(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The answers in a YAML/JSON file; InputFileError naming the file and line when malformed."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{source}: answers file not found") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{source}: is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputFileError(f"{source}: cannot be read: {exc.strerror}") from None
    return answers_from_text(text, source)


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
