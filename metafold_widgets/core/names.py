"""Folder and file names that are safe on Windows, macOS and Linux.

Template paths are checked strictly (an unsafe one is a template error); project
names typed by researchers are turned into a safe folder name instead.
"""
from __future__ import annotations

import re
import unicodedata

from ..errors import UnsafeNameError

FORBIDDEN_CHARACTERS = '<>:"|?*'
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{stem}{n}" for stem in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 1024  # a longer path fails on macOS (PATH_MAX), and on Windows without long paths
MAX_PROJECT_NAME_CHARS = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 and C1 control characters
# Invisible text-direction controls can disguise a name ("report\u202egpj.exe" shows as "reportexe.jpg").
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # half of a broken \\u escape: no file system stores it


def component_problem(name: str) -> str | None:
    """Why ``name`` cannot be one folder/file name on every OS, or None when it can."""
    if not name:
        return "empty name"
    if name in (".", ".."):
        return "refers to the current or the parent folder"
    if _CONTROL.search(name):
        return "contains a control character"
    if _BIDI.search(name):
        return "contains an invisible text-direction mark"
    if _SURROGATE.search(name):
        return "contains an invalid character (a lone surrogate)"
    bad = sorted({c for c in name if c in FORBIDDEN_CHARACTERS or c in "/\\"})
    if bad:
        return f"contains {' '.join(repr(c) for c in bad)}, which Windows or macOS do not allow"
    if name[-1] in ". ":
        return "ends with a dot or space, which Windows drops silently"
    stem = name.split(".")[0]
    if stem.rstrip(" ").upper() in _WINDOWS_RESERVED:
        return "is a reserved device name on Windows" if stem == name else \
            f"starts with '{stem}', a reserved device name on Windows"
    if len(name.encode("utf-8")) > MAX_COMPONENT_BYTES:
        return f"is longer than {MAX_COMPONENT_BYTES} bytes"
    return None


def relative_path_problem(path: str) -> str | None:
    """Why ``path`` is not a safe relative path inside a project, or None."""
    if not path or not path.strip():
        return "empty path"
    shown = show_name(path)
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return f"'{shown}' is absolute; paths must be relative to the project folder"
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return f"'{shown}' is longer than {MAX_PATH_BYTES} bytes"
    for part in re.split(r"[/\\]", path.strip("/")):
        if part == "..":
            return f"'{shown}' contains '..' and would leave the project folder"
        problem = component_problem(part)
        if problem:
            if not part:
                return f"'{shown}' has an empty part"
            return f"'{shown}' {problem}" if part == path else f"'{shown}': '{show_name(part)}' {problem}"
    return None


def show_name(name: str, limit: int = 60) -> str:
    """``name`` fit for a message: control characters escaped, long names shortened."""
    shown = re.sub(f"{_BIDI.pattern}|{_SURROGATE.pattern}", lambda m: f"\\u{ord(m.group()):04x}",
                   _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name))
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


def safe_folder_name(text: str, max_chars: int = MAX_PROJECT_NAME_CHARS) -> str:
    """Turn free text (a project title, an id) into a folder name valid on every OS.

    Whitespace and forbidden characters become ``_``; leading dots and ``_`` are dropped so the
    folder is never hidden; reserved Windows names get a trailing ``_``.
    Raises UnsafeNameError when nothing usable remains.
    """
    name = unicodedata.normalize("NFC", str(text))
    name = _CONTROL.sub(" ", _SURROGATE.sub("", _BIDI.sub("", name)))
    name = re.sub(rf"[{re.escape(FORBIDDEN_CHARACTERS)}/\\\s]+", "_", name)
    name = re.sub(r"_+", "_", name).lstrip("._").rstrip("_")
    name = name[:max_chars]
    while len(name.encode("utf-8")) > MAX_COMPONENT_BYTES:
        name = name[:-1]
    name = name.rstrip(". _")
    if not name or set(name) <= {".", "_"}:
        raise UnsafeNameError(f"project name {text!r} has no characters usable in a folder name")
    stem = name.split(".")[0]
    if stem.upper() in _WINDOWS_RESERVED:
        name = stem + "_" + name[len(stem):]
    return name
