"""Find the projects under a folder and summarize each one in a row of a DataFrame.

metafold-widgets projects are found by ``metafold.json``; projects of the older desktop
MetaFold app, which only wrote ``elabftw-metadata.json``, by that file. The walk lists
each folder once with :func:`os.scandir` and stats no ordinary file: hidden, build and
cache folders are skipped, a project's inside is never listed (unless sizes are asked
for), symlinked folders are not followed (so links cannot loop) and a folder that cannot
be read is reported, not fatal. A broken record is listed with its error.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, NamedTuple

from ..core.bounded import METADATA_MAX_BYTES, decode_utf8, parse_json, read_file
from ..core.catalogue import TemplateCatalogue
from ..core.conditions import referenced_fields
from ..core.fields import Field, Group
from ..core.formats.elabftw import PROVENANCE_KEY
from ..core.loader import BUILTIN_PACKAGE
from ..core.record import ELABFTW_METADATA_FILE, RECORD_FILE, RECORD_FORMAT, load_record, read_summary
from ..core.systems import SYSTEMS
from ..core.template import Template
from ..core.validation import visible_values
from ..core.values import is_blank
from ..errors import InputFileError

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("name", "path", "source", "template", "template_version", "created", "creator", "uid",
           "completeness", "required_filled", "required_total", "optional_filled", "optional_total",
           "elabftw_state", "elabftw_id", "elabftw_url", "omero_state", "omero_id", "omero_url",
           "last_change", "error")
_COUNTS = ("required_filled", "required_total", "optional_filled", "optional_total")
# Folders that never hold projects: tool caches, environments, build output, OS bookkeeping.
# Every hidden folder (.git, .venv, .cache, .ipynb_checkpoints, .tox...) is skipped as well.
SKIPPED_FOLDERS = frozenset({
    "node_modules", "__pycache__", "__pypackages__", "site-packages", "build", "dist", "venv",
    "lost+found", "$RECYCLE.BIN", "System Volume Information", "@eaDir", "#recycle",
})

ErrorHandler = Callable[[str, OSError], None]


class FoundProject(NamedTuple):
    """A project folder found by the walk, with the listing of its top level."""

    path: str
    source: str
    entries: tuple[os.DirEntry, ...]


def scan(root: str | os.PathLike[str], *, max_depth: int = 6, sizes: bool = False,
         on_error: ErrorHandler | None = None,
         templates_dir: str | os.PathLike[str] | None = None) -> "pd.DataFrame":
    """One row per project under ``root`` (``root`` itself included), sorted by path.

    ``max_depth`` counts folders below ``root`` (a project at ``root/a/b`` is at depth 2).
    ``sizes=True`` adds ``size_bytes``, which walks every file of every project.
    Unreadable folders are in ``frame.attrs["errors"]`` as (path, message) pairs and are
    passed to ``on_error(path, error)``. Templates are looked up among the built-ins and
    in ``templates_dir`` to work out completeness.
    """
    import pandas as pd

    rows, errors = scan_rows(root, max_depth=max_depth, sizes=sizes, on_error=on_error, templates_dir=templates_dir)
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *(["size_bytes"] if sizes else [])])
    for column in (f"{system}_id" for system in SYSTEMS):  # ints stay ints beside blanks
        frame[column] = _id_column([row.get(column) for row in rows])
    frame = _typed(frame)
    frame.attrs["errors"] = errors
    return frame


def scan_rows(root: str | os.PathLike[str], *, max_depth: int = 6, sizes: bool = False,
              on_error: ErrorHandler | None = None, templates_dir: str | os.PathLike[str] | None = None,
              ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """What :func:`scan` finds, as plain rows sorted by path (values as recorded: dates as text,
    counts as ints or None), and the unreadable folders as (path, message) pairs; no pandas."""
    errors: list[tuple[str, str]] = []

    def report(path: str, error: OSError) -> None:
        errors.append((path, error.strerror or str(error)))
        if on_error is not None:
            on_error(path, error)

    templates = TemplateIndex.shared(templates_dir)
    rows = []
    for found in find_projects(root, max_depth=max_depth, on_error=report):
        row = project_row(found, templates)
        if sizes:
            row["size_bytes"] = folder_size(found.path, report)
        rows.append(row)
    rows.sort(key=_path_of)
    return rows, errors


def _path_of(row: dict[str, Any]) -> str:
    return row["path"]


def find_projects(root: str | os.PathLike[str], *, max_depth: int = 6,
                  on_error: ErrorHandler | None = None) -> Iterator[FoundProject]:
    """Every project folder under ``root``, without descending into projects."""
    stack = [(os.path.expanduser(os.fspath(root)), 0)]
    while stack:
        path, depth = stack.pop()
        try:
            with os.scandir(path) as listing:
                entries = tuple(listing)
        except OSError as exc:
            if on_error is not None:
                on_error(path, exc)
            continue
        source, folders = _sort_entries(entries)
        if source is not None:
            yield FoundProject(path, source, entries)
        elif depth < max_depth:
            stack.extend([(folder, depth + 1) for folder in reversed(folders)])


def _sort_entries(entries: tuple[os.DirEntry, ...]) -> tuple[str | None, list[str]]:
    """(``metafold``, ``desktop`` or None by the record files present; the folders to descend into).

    One pass; file types come from the listing itself (no ``stat``).
    """
    source = None
    folders = []
    for entry in entries:
        name = entry.name
        if name == RECORD_FILE:
            source = "metafold"
        elif name == ELABFTW_METADATA_FILE:
            source = source or "desktop"
        elif name[0] != "." and name not in SKIPPED_FOLDERS:
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
            except OSError:
                continue
    return source, folders


def project_row(found: FoundProject, templates: "TemplateIndex") -> dict[str, Any]:
    """The summary row of one project; problems go to its ``error`` column, never raised."""
    row: dict[str, Any] = {"name": os.path.basename(found.path.rstrip(os.sep)) or found.path,
                           "path": found.path, "source": found.source, "last_change": None}
    read: dict[str, float] = {}
    try:
        if found.source == "metafold":
            _fill_metafold(row, found, templates, read)
        else:
            _fill_desktop(row, found, read)
    except (OSError, ValueError) as exc:  # unreadable or not JSON (JSONDecodeError is a ValueError)
        row["error"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop a scan of thousands
        row["error"] = f"{type(exc).__name__}: {exc}"
    row["last_change"] = _last_change(found.entries, read)
    return row


def _fill_metafold(row: dict[str, Any], found: FoundProject, templates: "TemplateIndex",
                   read: dict[str, float]) -> None:
    data = _read_json(os.path.join(found.path, RECORD_FILE), read)
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise ValueError(f"{RECORD_FILE} is not a metafold project record")
    try:
        record = read_summary(data, RECORD_FILE)
    except InputFileError as exc:
        raise ValueError(str(exc)) from None
    row.update(name=record.name or row["name"], template=record.template_id,
               template_version=record.template_version, created=record.created_at,
               creator=record.created_by, uid=record.uid)
    for system, state_key, id_key, url_key in _STATE_COLUMNS:
        row[state_key], row[id_key], row[url_key] = record.states.get(system) or _NO_STATE
    row.update(_record_counts(found, templates.counter(str(record.template_id), record.template_version),
                              record.answers, read))


_NO_STATE = (None, None, None)
_STATE_COLUMNS = tuple((system, f"{system}_state", f"{system}_id", f"{system}_url") for system in SYSTEMS)


def _record_counts(found: FoundProject, counter: "FieldCounter | None",
                   answers: Mapping[str, Any], read: dict[str, float]) -> dict[str, int]:
    """Counts from the template when it is known, else from the project's elabFTW metadata."""
    if counter is not None:
        try:
            return counter.counts(answers)
        except Exception:  # noqa: BLE001 - answers a condition cannot compare: count from the metadata
            pass
    if any(entry.name == ELABFTW_METADATA_FILE for entry in found.entries):
        return metadata_counts(_read_json(os.path.join(found.path, ELABFTW_METADATA_FILE), read))
    return {}


def _fill_desktop(row: dict[str, Any], found: FoundProject, read: dict[str, float]) -> None:
    path = os.path.join(found.path, ELABFTW_METADATA_FILE)
    written = os.stat(path).st_mtime  # the desktop app records no creation time: use the file's
    row["created"] = dt.datetime.fromtimestamp(written, dt.timezone.utc).isoformat()
    metadata = _read_json(path, read)
    if not isinstance(metadata, dict) or not isinstance(metadata.get("extra_fields"), Mapping):
        raise ValueError(f"{ELABFTW_METADATA_FILE} holds no elabFTW extra_fields")
    provenance = _mapping(metadata.get(PROVENANCE_KEY))
    row.update(template=provenance.get("template_id"), template_version=provenance.get("template_version"))
    row.update(metadata_counts(metadata))


class FieldCounter:
    """Counts filled fields for one template; which fields show is worked out once per
    combination of the answers that conditions read (the same for most projects)."""

    def __init__(self, template: Template):
        self.template = template
        self.fields = {f.key: f for f in template.fields}
        nodes: tuple[Field | Group, ...] = (*template.groups, *template.fields)
        self.inputs = tuple(sorted({key for node in nodes for key in referenced_fields(node.condition)}))
        self._shown: dict[tuple, _Shown] = {}

    def counts(self, answers: Mapping[str, Any]) -> dict[str, int]:
        """required/optional filled/total for these answers."""
        shown = self._shown_fields(answers)
        required_filled, optional_filled = _filled(shown.required, answers), _filled(shown.optional, answers)
        return {"required_filled": required_filled + shown.required_checkboxes,
                "required_total": len(shown.required) + shown.required_checkboxes,
                "optional_filled": optional_filled + shown.optional_checkboxes,
                "optional_total": len(shown.optional) + shown.optional_checkboxes}

    def _shown_fields(self, answers: Mapping[str, Any]) -> _Shown:
        inputs = tuple([_cache_key(answers.get(key)) for key in self.inputs])
        if inputs not in self._shown:
            specs = [self.fields[key] for key in visible_values(self.template, answers)]
            self._shown[inputs] = _Shown(
                required=tuple(f.key for f in specs if f.required and f.type != "checkbox"),
                optional=tuple(f.key for f in specs if not f.required and f.type != "checkbox"),
                required_checkboxes=sum(1 for f in specs if f.required and f.type == "checkbox"),
                optional_checkboxes=sum(1 for f in specs if not f.required and f.type == "checkbox"))
        return self._shown[inputs]


def _filled(keys: tuple[str, ...], answers: Mapping[str, Any]) -> int:
    """How many of ``keys`` have an answer that is not blank (:func:`~..core.values.is_blank`, inlined:
    a scan counts thousands)."""
    count = 0
    for key in keys:
        value = answers.get(key)
        if value is not None and not (isinstance(value, str) and not value.strip()) and not value == []:
            count += 1
    return count


@dataclass(frozen=True)
class _Shown:
    """The fields shown for one combination of the answers conditions read: the keys whose
    answers count when filled, and the checkboxes (always filled: unticked is an answer)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    required_checkboxes: int
    optional_checkboxes: int


_SCALARS = frozenset({str, int, float, bool})


def _cache_key(value: Any) -> Any:
    """A key equal for equal answers: text and numbers as they are (with their type, so that
    ``1``, ``1.0`` and ``True`` stay apart), anything else as sorted JSON."""
    if value is None or type(value) in _SCALARS:
        return (type(value), value)
    return json.dumps(value, sort_keys=True, default=str)


def metadata_counts(metadata: Any) -> dict[str, int]:
    """The same counts from elabFTW metadata: its ``extra_fields`` and their ``required`` flags."""
    counts = dict.fromkeys(_COUNTS, 0)
    extra = metadata.get("extra_fields") if isinstance(metadata, Mapping) else None
    for spec in (extra.values() if isinstance(extra, Mapping) else ()):
        if not isinstance(spec, Mapping):
            continue
        kind = "required" if spec.get("required") else "optional"
        counts[f"{kind}_total"] += 1
        counts[f"{kind}_filled"] += spec.get("type") == "checkbox" or not is_blank(spec.get("value"))
    return counts


def project_answers(path: str | os.PathLike[str],
                    templates_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, Any]]:
    """(label, answer) pairs of one project, in form order.

    From ``metafold.json`` with the labels of its template (field keys when the template is
    unknown), or for a desktop MetaFold project from ``elabftw-metadata.json``. Raises
    InputFileError, OSError or ValueError when the file cannot be read.
    """
    folder = os.fspath(path)
    if os.path.exists(os.path.join(folder, RECORD_FILE)):
        record = load_record(folder)
        template = TemplateIndex(templates_dir).get(str(record.template_id), record.template_version)
        labels = {f.key: f.label for f in template.fields} if template else {}
        answers = record.answers
        order = [key for key in labels if key in answers] + [key for key in answers if key not in labels]
        return [(labels.get(key, key), answers[key]) for key in order]
    metadata = _read_json(os.path.join(folder, ELABFTW_METADATA_FILE))
    extra = _mapping(metadata.get("extra_fields") if isinstance(metadata, dict) else None)
    specs = sorted(((label, _mapping(spec)) for label, spec in extra.items()),
                   key=lambda item: _position(item[1].get("position")))
    return [(str(label), spec.get("value")) for label, spec in specs]


def _position(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


def _last_change(entries: tuple[os.DirEntry, ...], read: Mapping[str, float]) -> float | None:
    """The newest modification time among the top-level entries (the record among them).

    ``read`` holds the modification times of the files just read (by name): those that are
    not links need no second ``stat``.
    """
    newest = None
    for entry in entries:
        try:
            mtime = read.get(entry.name)
            if mtime is None or entry.is_symlink():
                mtime = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        newest = mtime if newest is None or mtime > newest else newest
    return newest


def folder_size(path: str, on_error: ErrorHandler | None = None) -> int:
    """Bytes in the files under ``path`` (symlinks counted as links, never followed)."""
    total, stack = 0, [path]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_size
        except OSError as exc:
            if on_error is not None:
                on_error(folder, exc)
    return total


class TemplateIndex:
    """Templates by id, loaded once (see :meth:`shared`): the exact version if present, else any version."""

    _shared: dict[str | None, tuple[tuple, TemplateIndex]] = {}

    def __init__(self, folder: str | os.PathLike[str] | None = None):
        self.catalogue = TemplateCatalogue(folder)
        self._counters: dict[int, FieldCounter] = {}
        self._by_name: dict[tuple[str, str | None], FieldCounter | None] = {}

    @classmethod
    def shared(cls, folder: str | os.PathLike[str] | None = None) -> TemplateIndex:
        """The index of the last scan with the same templates folder, while none of the template
        files has changed (a dashboard scans again and again); else a new one."""
        key = None if folder is None else os.fspath(folder)
        signature = _templates_signature(key)
        cached = cls._shared.get(key)
        if signature is not None and cached is not None and cached[0] == signature:
            return cached[1]
        index = cls(folder)
        if signature is not None:
            cls._shared[key] = (signature, index)
        return index

    def get(self, template_id: str, version: str | None) -> Template | None:
        """The template ``template_id`` (``version`` preferred), or None when unknown."""
        return self.catalogue.find(template_id, version)[0]

    def counter(self, template_id: str, version: str | None) -> FieldCounter | None:
        """The field counter of that template (one per template per scan), or None."""
        key = (template_id, version)
        if key not in self._by_name:
            template = self.get(template_id, version)
            if template is not None and id(template) not in self._counters:
                self._counters[id(template)] = FieldCounter(template)
            self._by_name[key] = None if template is None else self._counters[id(template)]
        return self._by_name[key]


def _templates_signature(folder: str | None) -> tuple | None:
    """Name, size and modification time of every file the built-in templates and ``folder``
    hold (what the catalogue reads); None when a folder cannot be listed."""
    from importlib import resources

    signature = []
    for place in (str(resources.files(BUILTIN_PACKAGE)), *([] if folder is None else [os.path.expanduser(folder)])):
        try:
            with os.scandir(place) as listing:
                for entry in listing:
                    info = entry.stat()
                    signature.append((entry.path, info.st_size, info.st_mtime_ns))
        except OSError:
            return None
    return tuple(sorted(signature))


def _typed(frame: "pd.DataFrame") -> "pd.DataFrame":
    """Dates as UTC timestamps, counts as nullable integers, completeness as a 0-1 share."""
    import pandas as pd

    frame["created"] = pd.to_datetime(frame["created"], utc=True, errors="coerce", format="ISO8601")
    frame["last_change"] = pd.to_datetime(frame["last_change"], unit="s", utc=True)
    for column in _COUNTS + (("size_bytes",) if "size_bytes" in frame else ()):
        frame[column] = frame[column].astype("Int64")
    filled = frame["required_filled"] + frame["optional_filled"]
    total = frame["required_total"] + frame["optional_total"]
    frame["completeness"] = (filled / total.where(total > 0)).astype("Float64")
    return frame


def _id_column(values: list[Any]) -> Any:
    """Remote ids as nullable integers when they all are integers, else as they were recorded."""
    import pandas as pd

    present = [v for v in values if v is not None]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.array(values, dtype="Int64")
    return pd.array(values, dtype=object)


def _read_json(path: str, read: dict[str, float] | None = None) -> Any:
    """A project's JSON file: a regular file of bounded size and nesting (a FIFO, a link to a
    device or a huge file is a row with an error, never a hang). Its modification time goes
    into ``read`` under its name.
    """
    try:
        data, info = read_file(path, METADATA_MAX_BYTES, "project file")
        if read is not None:
            read[os.path.basename(path)] = info.st_mtime
        return parse_json(decode_utf8(data, path), path)
    except InputFileError as exc:
        raise ValueError(str(exc).replace(os.path.dirname(path) + os.sep, "")) from None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}  # JSON objects are dicts
