"""Read a template's folder tree from any of its three spellings.

1. a list of relative paths (``- 03_imaging/raw_images/controls``),
2. a nested mapping (``03_imaging: {raw_images: [controls]}``),
3. an indented text block, as the desktop MetaFold stores it
   (``raw_data/`` then ``  images/`` on the next line; tree-drawing characters allowed).

Empty files to create are listed under the template's ``files`` key.

In lists and mappings every entry is a folder. In a text block an entry is a folder
when it ends with ``/``, has indented children, or has no file extension; otherwise it
is a file (``README.md``). Every path is checked with :func:`relative_path_problem` and
NFC-normalised, so text typed on macOS (NFD) names the same folder as elsewhere.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

from .names import relative_path_problem

MAX_ENTRIES = 10_000
MAX_VISITS = 10 * MAX_ENTRIES  # nodes walked in a list/mapping spelling: bounds repeated data
MAX_NESTING = 100  # levels of a list/mapping spelling: bounds data that contains itself
_TREE_DRAWING = re.compile(r"[│├└┬┼]──|[│|](?=\s)|──")

Report = Callable[[tuple, str], None]


@dataclass(frozen=True)
class FolderTree:
    """The folders (every ancestor included) and empty files a project starts with."""

    folders: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def leaf_folders(self) -> list[str]:
        """The folders that are not the parent of another folder (enough to rebuild the tree)."""
        parents = {f.rsplit("/", 1)[0] for f in self.folders if "/" in f}
        return [f for f in self.folders if f not in parents]


class _Builder:
    def __init__(self, report: Report):
        self.report = report
        self.folders: dict[str, None] = {}
        self.files: dict[str, None] = {}
        self.overflow = False

    def add(self, path: str, at: tuple, is_file: bool = False, note: str = "") -> None:
        if len(self.folders) + len(self.files) >= MAX_ENTRIES:
            if not self.overflow:
                self.report(at, f"folder tree has more than {MAX_ENTRIES:,} entries")
            self.overflow = True
            return
        path = unicodedata.normalize("NFC", path.strip()).replace("\\", "/")
        problem = relative_path_problem(path)  # before trailing slashes go: "/" is absolute
        if problem:
            self.report(at, f"unsafe folder path{note}: {problem}")
            return
        path = path.rstrip("/")
        path = re.sub(r"/+", "/", path)
        parts = path.split("/")
        for depth in range(1, len(parts)):
            self.folders.setdefault("/".join(parts[:depth]))
        (self.files if is_file else self.folders).setdefault(path)

    def tree(self) -> FolderTree:
        clash = set(self.folders) & set(self.files)
        for path in sorted(clash):
            self.report((), f"'{path}' is listed both as a folder and as a file")
        first: dict[str, str] = {}  # Windows and macOS ignore letter case in names
        for path in (*self.folders, *self.files):
            other = first.setdefault(path.casefold(), path)
            if other != path:
                self.report((), f"'{other}' and '{path}' differ only in letter case, "
                                "which Windows and macOS treat as the same name")
        return FolderTree(tuple(self.folders), tuple(f for f in self.files if f not in clash))


def parse_folder_tree(spec: Any, report: Report, at: tuple = ("folders",), files: Any = None) -> FolderTree:
    """Parse a folder tree spelled as a list, a mapping or a text block, plus a list of empty files."""
    builder = _Builder(report)
    if isinstance(files, list):
        for index, path in enumerate(files):
            if isinstance(path, str):
                builder.add(path, ("files", index), is_file=True)
            else:
                report(("files", index), f"file entry {path!r} is not a path")
    elif files is not None:
        report(("files",), "'files' must be a list of relative file paths")
    if spec is None:
        pass
    elif isinstance(spec, str):
        _from_text(spec, builder, at)
    elif isinstance(spec, (list, dict)):
        _from_nested(spec, "", builder, at)
    else:
        report(at, "folders must be a list of paths, a nested mapping or an indented text block")
    return builder.tree()


@dataclass(frozen=True)
class _Entry:
    """One ``name: children`` pair of a mapping spelling, waiting on the walk's stack."""

    name: Any
    children: Any


def _from_nested(spec: Any, prefix: str, builder: _Builder, at: tuple) -> None:
    """Add the entries of a list/mapping spelling depth first, in document order."""
    stack: list[tuple[Any, str, tuple]] = [(spec, prefix, at)]
    visits = 0
    while stack and not builder.overflow:
        node, prefix, at = stack.pop()
        visits += 1
        if visits > MAX_VISITS or len(at) > MAX_NESTING:
            builder.report(at[:MAX_NESTING], "folder tree is too large, too deeply nested or contains itself")
            return
        if isinstance(node, list):
            stack.extend((item, prefix, at + (index,)) for index, item in reversed(list(enumerate(node))))
        elif isinstance(node, dict):
            stack.extend((_Entry(name, children), prefix, at) for name, children in reversed(node.items()))
        elif isinstance(node, _Entry):
            name = _name(node.name)
            if name is None:
                builder.report(at, f"folder name {node.name!r} is not text")
                continue
            path = _join(prefix, name)
            builder.add(path, at + (name,))
            if node.children not in (None, {}, []):
                if isinstance(node.children, (dict, list)):
                    stack.append((node.children, path.rstrip("/"), at + (name,)))
                else:
                    builder.report(at + (name,), f"children of '{name}' must be a list or mapping")
        elif (name := _name(node)) is not None:
            builder.add(_join(prefix, name), at)
        else:
            builder.report(at, f"folder entry {node!r} is not a name")


def _name(value: Any) -> str | None:
    """A folder name as text; YAML reads ``2025`` as a number and ``2025-06-13`` as a date."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.isoformat() if isinstance(value, dt.date) else None


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _from_text(text: str, builder: _Builder, at: tuple) -> None:
    entries: list[tuple[int, str, int]] = []  # (indent, name, line number within block)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _TREE_DRAWING.sub(lambda m: " " * len(m.group()), raw.expandtabs(4)).rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        entries.append((len(line) - len(line.lstrip()), line.strip(), number))
    stack: list[tuple[int, str]] = []  # (indent, path) of open folders
    for index, (indent, name, number) in enumerate(entries):
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        has_children = index + 1 < len(entries) and entries[index + 1][0] > indent
        is_folder = name.endswith("/") or has_children or not re.search(r"\.[A-Za-z0-9]{1,8}$", name)
        builder.add(_join(parent, name), at, is_file=not is_folder,
                    note=f" (line {number} of the folder block)")
        if is_folder:
            stack.append((indent, _join(parent, name.rstrip("/"))))
