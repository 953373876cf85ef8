"""The ``.eln`` format (The ELN Consortium's): its names, and reading the experiments in a file.

An ``.eln`` is a zip with one top folder holding ``ro-crate-metadata.json`` (RO-Crate 1.1)
and the files. The root Dataset ``./`` lists the experiments (Datasets) in its ``hasPart``;
each experiment lists its files (``File``: ``@id`` the path from the top folder, literal as
elabFTW writes it, or percent-encoded) and carries its metadata in ``variableMeasured``: a
PropertyValue ``elabftw_metadata`` holding the whole metadata JSON, then one per field.

An ``.eln`` may come from anyone, so reading one trusts nothing in it: the crate metadata
is read with a size cap (:data:`MAX_CRATE_BYTES`) and a nesting limit
(:data:`MAX_CRATE_DEPTH`); every file an experiment lists must be a member of the zip, and
its ``contentSize`` and ``sha256``, when given, must be a size and a SHA-256. Anything else
is an InputFileError naming the file and the key.
"""
from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Mapping, Sequence
from urllib.parse import unquote

from ...core.record import ELABFTW_METADATA_FILE, README_FILE, RECORD_FILE
from ...errors import InputFileError
from .rocrate import METADATA_FILE, ROOT_ID
from .unpacking import ZIP_DAMAGE, ArchiveLimitError, open_archive, read_capped, zip_member_problem

ELN_SUFFIX = ".eln"
EXPORT_JSON = "export-elabftw.json"
METADATA_PROPERTY = "elabftw_metadata"
REBUILT_ON_IMPORT = frozenset({RECORD_FILE, ELABFTW_METADATA_FILE, README_FILE})
MAX_CRATE_BYTES = 32 << 20  # ro-crate-metadata.json; parsing JSON can take 25 times its size in memory
MAX_CRATE_DEPTH = 64        # nesting levels of the crate's JSON; elabFTW's need fewer than 10
MAX_SIZE_DIGITS = 19        # a contentSize of more digits is no file's size (2**63 has 19)
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # a web resource's @id (https://...), not a member


@dataclass(frozen=True)
class ElnFile:
    """A file of an experiment in an ``.eln``: its zip member, path below the experiment, size and SHA-256."""

    member: str
    relpath: str
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class ElnExperiment:
    """One experiment (Dataset) read from an ``.eln``."""

    id: str
    name: str
    text: str
    keywords: list[str]
    metadata: dict[str, Any] | None
    url: str | None
    date_created: str | None
    category: str | None
    status: str | None
    files: list[ElnFile]


def read_eln(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any], list[ElnExperiment]]:
    """``(top folder, crate, experiments)`` of an ``.eln`` file; InputFileError when it is not one.

    Also an InputFileError (naming the file and the key): crate metadata too large or nested
    too deep, a listed file missing from the zip, a ``contentSize`` or ``sha256`` that is
    not one.
    """
    source = Path(path)
    try:
        with open_archive(source) as handle, zipfile.ZipFile(handle) as archive:
            names = archive.namelist()
            top = _top_folder(source, names)
            crate = _read_crate(source, archive, f"{top}/{METADATA_FILE}")
    except (*ZIP_DAMAGE, OSError) as exc:
        raise InputFileError(f"{path}: cannot be read as an .eln (zip) file: {exc}") from None
    graph = _graph(source, crate)
    members = set(names)
    root = graph.get(ROOT_ID) or graph.get("./") or {}
    where = f"{source}: {METADATA_FILE}"
    experiments = [_experiment(graph[ref], graph, top, members, where) for ref in _refs(root.get("hasPart"))
                   if ref in graph and "Dataset" in _types(graph[ref])]
    return top, crate, experiments


def _read_crate(source: Path, archive: zipfile.ZipFile, name: str) -> Any:
    """The crate metadata, read within :data:`MAX_CRATE_BYTES` and parsed within :data:`MAX_CRATE_DEPTH`."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise InputFileError(f"{source}: no {name}; not an .eln file") from None
    problem = zip_member_problem(info)
    if problem:
        raise InputFileError(f"{source}: {name} {problem}")
    if info.file_size > MAX_CRATE_BYTES:
        raise ArchiveLimitError(f"{source}: {name} is {info.file_size:,} bytes, more than the "
                                f"{MAX_CRATE_BYTES:,} bytes a crate's metadata may have; refused")
    with archive.open(info) as stream:
        data = read_capped(stream, MAX_CRATE_BYTES, archive=source, member=name)
    return parse_crate_json(data, f"{source}: {name}")


def parse_crate_json(data: bytes | str, source: str) -> Any:
    """JSON from an untrusted crate; InputFileError naming ``source`` and the key when it is not fit to use.

    Refused: text that is not UTF-8 or not JSON, nesting deeper than :data:`MAX_CRATE_DEPTH`,
    and numbers too long for Python to convert (thousands of digits).
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{source}: is not UTF-8 text (byte {exc.start:,})") from None
    else:
        text = data
    try:
        parsed = json.loads(text, parse_int=_integer)
    except RecursionError:  # deeper than the interpreter's recursion limit, far past ours
        where = _show_path(_path_at_depth(text, MAX_CRATE_DEPTH))
        raise InputFileError(f"{source}: {where}: nested more than {MAX_CRATE_DEPTH} levels deep") from None
    except ValueError as exc:
        detail = f"{exc.msg} (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) \
            else str(exc)
        raise InputFileError(f"{source}: is not valid JSON: {detail}") from None
    problem = _shape_problem(parsed)
    if problem is not None:
        raise InputFileError(f"{source}: {_show_path(problem[0])}: {problem[1]}")
    return parsed


class _LongNumber(str):
    """A JSON integer with more digits than Python converts; reported with its key."""


def _integer(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return _LongNumber(text)


def _shape_problem(data: Any) -> tuple[list[str | int], str] | None:
    """The path and the problem of the first value nested too deep or too long a number, or None."""
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _LongNumber):
            return path, f"a number of {len(value.lstrip('-')):,} digits"
        if isinstance(value, (dict, list)):
            if len(path) >= MAX_CRATE_DEPTH:
                return path, f"nested more than {MAX_CRATE_DEPTH} levels deep"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((child, [*path, key]) for key, child in reversed(list(items)))
    return None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')


def _path_at_depth(text: str, depth: int) -> list[str | int]:
    """The path (keys and indexes) where ``text`` first nests deeper than ``depth``; a linear scan."""
    path: list[str | int] = []
    open_: list[str] = []
    key: str | int = ""
    expect_key = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            if expect_key:
                key, expect_key = token[1:-1], False
        elif token in "[{":
            if open_:
                path.append(key)
            if len(open_) >= depth:
                return path
            open_.append(token)
            key, expect_key = (0, False) if token == "[" else ("", True)
        elif token in "]}" and open_:
            open_.pop()
            key = path.pop() if path else ""
        elif token == "," and open_:
            if open_[-1] == "[" and isinstance(key, int):
                key += 1
            expect_key = open_[-1] == "{"
    return path


def _show_path(path: Sequence[str | int]) -> str:
    """``@graph[3].contentSize``; long paths shortened in the middle."""
    shown = [f"[{part}]" if isinstance(part, int) else f".{part}" if re.fullmatch(r"[@\w-]+", part)
             else f"[{json.dumps(part)[:60]}]" for part in path]
    if len(shown) > 8:
        shown = [*shown[:4], f"...({len(shown) - 6} levels)...", *shown[-2:]]
    return "".join(shown).lstrip(".") or "the top level"


def _top_folder(source: Path, names: Sequence[str]) -> str:
    for name in names:
        if name.startswith("/") or "\\" in name or ".." in PurePosixPath(name).parts:
            raise InputFileError(f"{source}: unsafe path in the archive: {name!r}")
    tops = {name.split("/", 1)[0] for name in names if name}
    if len(tops) != 1 or not any("/" in name for name in names):
        raise InputFileError(f"{source}: an .eln file holds exactly one top folder (found: {', '.join(sorted(tops))})")
    return tops.pop()


def _graph(source: Path, crate: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(crate, dict) or not isinstance(crate.get("@graph"), list):
        raise InputFileError(f"{source}: {METADATA_FILE} has no @graph; not an RO-Crate")
    return {str(e["@id"]): e for e in crate["@graph"] if isinstance(e, dict) and "@id" in e}


def _refs(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [str(item["@id"]) if isinstance(item, dict) else str(item) for item in items
            if isinstance(item, (dict, str)) and (not isinstance(item, dict) or "@id" in item)]


def _types(entity: Mapping[str, Any]) -> list[str]:
    kind = entity.get("@type")
    return [str(k) for k in kind] if isinstance(kind, list) else [str(kind)]


def _experiment(entity: Mapping[str, Any], graph: Mapping[str, Mapping[str, Any]], top: str,
                members: set[str], where: str) -> ElnExperiment:
    folder = str(entity["@id"]).removeprefix("./").rstrip("/")
    files = []
    for ref in _refs(entity.get("hasPart")):
        part = graph.get(ref, {"@id": ref})
        if "File" not in _types(part) or _URI.match(ref):  # a web resource is not in the zip
            continue
        member = _member(ref, top, members)
        if member is None:
            raise InputFileError(f"{where}: the experiment {entity['@id']!r} lists the file {ref!r} (in hasPart), "
                                 "which the .eln does not hold; the file is incomplete or damaged")
        inner = member[len(top) + 1:]
        relpath = inner[len(folder) + 1:] if folder and inner.startswith(folder + "/") else PurePosixPath(inner).name
        files.append(ElnFile(member, relpath, _declared_size(part, f"{where}: the file {ref!r}"),
                             _declared_sha256(part, f"{where}: the file {ref!r}")))
    about = graph.get(next(iter(_refs(entity.get("about"))), ""), {})
    return ElnExperiment(
        id=str(entity["@id"]), name=str(entity.get("name") or ""), text=str(entity.get("text") or ""),
        keywords=_keywords(entity.get("keywords")), metadata=_metadata(entity.get("variableMeasured"), graph, where),
        url=_text(entity.get("url")), date_created=_text(entity.get("dateCreated")),
        category=_text(about.get("name")), status=_text(entity.get("creativeWorkStatus")), files=files)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _declared_size(part: Mapping[str, Any], where: str) -> int | None:
    """``contentSize`` in bytes (a number or a text of digits); None when absent or given with a unit."""
    value = part.get("contentSize")
    if isinstance(value, str):
        digits = value.strip()
        if not (digits.isascii() and digits.isdigit()):
            return None  # e.g. "12 kB": not enforceable here; the size in the zip's directory still is
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        digits = str(value)
    elif value is None:
        return None
    else:
        raise InputFileError(f"{where}: contentSize is {json.dumps(value)[:40]}, not a size in bytes")
    if len(digits) > MAX_SIZE_DIGITS:
        raise InputFileError(f"{where}: contentSize is a number of {len(digits):,} digits, not a size in bytes")
    return int(digits)


def _declared_sha256(part: Mapping[str, Any], where: str) -> str | None:
    value = part.get("sha256")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InputFileError(f"{where}: sha256 is {json.dumps(value)[:80]}, not a SHA-256 checksum "
                             "(64 hexadecimal digits)")
    return value.lower()


def _member(ref: str, top: str, members: set[str]) -> str | None:
    path = ref.removeprefix("./")
    for candidate in (f"{top}/{path}", f"{top}/{unquote(path)}"):
        if candidate in members:
            return candidate
    return None


def _keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def _metadata(value: Any, graph: Mapping[str, Mapping[str, Any]], where: str) -> dict[str, Any] | None:
    """The elabFTW metadata: the ``elabftw_metadata`` PropertyValue, else rebuilt from the others.

    A metadata text that is not JSON fit to use (malformed, nested too deep) is set aside:
    the other PropertyValues give the fields then.
    """
    values = [graph.get(item["@id"], item) if isinstance(item, dict) and "@id" in item and len(item) == 1 else item
              for item in (value if isinstance(value, list) else [])]
    values = [v for v in values if isinstance(v, Mapping)]
    for item in values:
        if item.get("propertyID") == METADATA_PROPERTY:
            text = item.get("value") or "null"
            try:
                decoded = parse_crate_json(text, f"{where}: {METADATA_PROPERTY}") if isinstance(text, str) else None
            except InputFileError:
                break
            return decoded if isinstance(decoded, dict) else None
    fields = {}
    for position, item in enumerate(v for v in values if v.get("propertyID") not in (None, METADATA_PROPERTY)):
        spec: dict[str, Any] = {"type": item.get("valueReference") or "text", "value": item.get("value", ""),
                                "position": position + 1}
        if item.get("unitText"):
            spec["unit"] = item["unitText"]
        if item.get("description"):
            spec["description"] = item["description"]
        fields[str(item["propertyID"])] = spec
    return {"extra_fields": fields} if fields else None
