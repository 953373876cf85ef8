"""Plan a project: template + answers -> plain data describing everything to create.

A Plan has no side effects. It can be previewed (``--dry-run``, the app's preview),
serialized, and tested without a server; :func:`apply_plan` is the only step that
writes.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import string
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .._version import __version__
from ..errors import UnsafeNameError, UserError
from .body import fill_text
from .formats.elabftw import to_elabftw
from .names import safe_folder_name
from .readme import ProjectLink, render_experiment_body, render_readme
from .record import (
    ELABFTW_METADATA_FILE,
    LOG_FILE,
    README_FILE,
    RECORD_FILE,
    RECORD_FORMAT,
    RECORD_VERSION,
    ProjectRecord,
    assert_no_secrets,
    to_json,
)
from .systems import RECORD_NAMES, SYSTEMS
from .template import Template
from .timestamps import utc_now
from .users import clean_user_name, current_user
from .validation import AnswerCheck, resolve_answers
from .web_folders import WebFolders

MAX_DESCRIPTION = 10_000  # characters of an OMERO dataset description (OMERO keeps text; people read it)


@dataclass(frozen=True)
class Plan:
    """Everything a project creation will do, as plain data."""

    name: str
    parent: Path
    template_id: str
    template_version: str
    folders: tuple[str, ...]
    files: Mapping[str, str]
    record: Mapping[str, Any]
    integrations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    log_folder: str = "integration_logs"

    @property
    def path(self) -> Path:
        """Where the project folder will be."""
        return self.parent / self.name

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data."""
        return {"name": self.name, "path": str(self.path), "template": {
            "id": self.template_id, "version": self.template_version},
            "folders": list(self.folders), "files": sorted(self.files),
            "integrations": {k: dict(v) for k, v in self.integrations.items()}}

    def describe(self) -> str:
        """A human preview: the tree, the files and what each system would receive."""
        lines = [f"Project: {self.path}", f"Template: {self.template_id} {self.template_version}", "",
                 "Folders and files:"]
        # by path components, so that 'data/raw' stays under 'data' and not under 'data-old'
        entries = sorted([(f, True) for f in self.folders] + [(f, False) for f in self.files],
                         key=lambda entry: entry[0].split("/"))
        for entry, is_folder in entries:
            depth = entry.count("/")
            lines.append("  " + "  " * depth + entry.rsplit("/", 1)[-1] + ("/" if is_folder else ""))
        for system, spec in self.integrations.items():
            lines.append("")
            state = "will be created" if spec["enabled"] else f"off ({spec['reason']})"
            lines.append(f"{RECORD_NAMES[system]}: {state}")
            if spec["enabled"]:
                for key, value in spec["payload"].items():
                    if key in ("metadata", "key_values"):
                        count = len(value["extra_fields"]) if key == "metadata" else len(value)
                        lines.append(f"  {key}: {count} fields")
                    else:
                        lines.append(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
        return "\n".join(lines)




def project_name_from_answers(template: Template, values: Mapping[str, Any],
                              now: dt.datetime | None = None) -> str:
    """The folder name the template's naming pattern gives for these answers.

    When the pattern gives nothing, the name is the template id and the date of ``now``.
    """
    pattern = template.project_name or ""
    formatted = _fill(pattern, values) if pattern else ""
    if not formatted.strip(" _-"):
        formatted = f"{template.id}_{(now or dt.datetime.now()).date().isoformat()}"
    return safe_folder_name(formatted)


def _fill(pattern: str, values: Mapping[str, Any]) -> str:
    """``pattern`` with each ``{key}`` replaced by its answer (blank when unanswered)."""
    return _Lenient().vformat(pattern, (), _Blank(values))


class _Lenient(string.Formatter):
    """A blank or mistyped answer cannot take a format spec like ``{run:03d}``: use it as text."""

    def format_field(self, value: Any, format_spec: str) -> str:
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


class _Blank(dict):
    """Answers for name patterns: blanks are empty text, lists are joined with '_'."""

    def __init__(self, values: Mapping[str, Any]):
        super().__init__({k: "" if v is None else "_".join(map(str, v)) if isinstance(v, list) else v
                          for k, v in values.items()})

    def __missing__(self, key: str) -> str:
        return ""


def plan_project(template: Template, answers: Mapping[str, Any] | None, dest: str | os.PathLike[str],
                 name: str | None = None, *, created_by: str | None = None,
                 now: dt.datetime | None = None, answers_source: str | None = None,
                 uid: str | None = None, web: WebFolders | None = None) -> Plan:
    """Validate answers and plan the project under the folder ``dest``.

    ``uid`` identifies the project in every system (a new random one by default). ``web``
    gives the project folder a web address for the experiment body's link back.

    Raises AnswersError (every field listed) for invalid answers, UnsafeNameError
    when no safe folder name results and UserError when an answered field is named like
    a credential (``omero_password``). Nothing is written.
    """
    checked = resolve_answers(template, answers, answers_source, now)
    folder_name = safe_folder_name(name) if name is not None and name.strip() else \
        project_name_from_answers(template, checked.values, now)
    parent = Path(dest).expanduser()
    if str(parent).strip() == "":
        raise UnsafeNameError("the destination folder is empty")
    created_at = utc_now(now)
    metadata = to_elabftw(template, checked.values)
    uid = uid or str(uuid.uuid4())
    link = ProjectLink(folder_name, uid, os.path.abspath(parent / folder_name),
                       web.url_for(parent / folder_name) if web else None)
    integrations = plan_integrations(template, checked, folder_name, metadata, link=link)
    creator = clean_user_name(created_by) or current_user()
    record = {
        "format": RECORD_FORMAT,
        "format_version": RECORD_VERSION,
        "project": {"name": folder_name, "uid": uid, "created_at": created_at,
                    "created_by": creator, "tool": f"metafold-widgets {__version__}",
                    "log": f"{template.log_folder}/{LOG_FILE}"},
        "template": {"id": template.id, "name": template.name, "version": template.version,
                     "type": template.type},
        "answers": checked.values,
        "integrations": {
            # an enabled system keeps what it is to receive, so that resume needs nothing else
            system: {"state": "pending" if spec["enabled"] else "off",
                     **({"payload": spec["payload"]} if spec["enabled"] else {"reason": spec["reason"]}),
                     "id": None, "url": None, "error": None}
            for system, spec in integrations.items()},
    }
    try:  # the same rule as every later write_record: a project file never holds a credential
        assert_no_secrets(record)
    except ValueError as exc:
        raise UserError(f"{exc}; rename the field or leave it blank") from None
    files = {
        RECORD_FILE: to_json(record),
        ELABFTW_METADATA_FILE: to_json(metadata),
        README_FILE: render_readme(template, checked.values, ProjectRecord.from_dict(record)),
        f"{template.log_folder}/{LOG_FILE}": json.dumps(
            {"time": created_at, "user": creator, "system": "local", "action": "create_project", "result": "done",
             "project": folder_name, "template": f"{template.id} {template.version}"}) + "\n",
    }
    for empty in template.folders.files:
        files.setdefault(empty, "")
    folders = tuple(dict.fromkeys((*template.folders.folders, *_parents(files))))
    return Plan(folder_name, parent, template.id, template.version, folders, files, record,
                integrations, template.log_folder)


def plan_integrations(template: Template, checked: AnswerCheck, project_name: str,
                      metadata: Mapping[str, Any], *, link: ProjectLink | None = None,
                      elabftw_url: str | None = None) -> dict[str, dict[str, Any]]:
    """Per system: whether the template and answers turn it on, why not, and its payload.

    ``link`` (the project's name, uid and folder) is shown in the experiment body;
    ``elabftw_url``, once the experiment exists, ends the OMERO dataset's description.
    Re-planning an existing project (sync) passes both: :func:`project_link` gives the link.
    """
    plans: dict[str, dict[str, Any]] = {}
    for system in SYSTEMS:
        roles = template.integrations.get(system)
        if template.type == "folder" and not roles:
            plans[system] = {"enabled": False, "reason": "folder-only template", "payload": {}}
            continue
        if roles is None:
            plans[system] = {"enabled": False, "reason": "turned off in the template", "payload": {}}
            continue
        switch = roles.get("enabled_by")
        if switch and not checked.values.get(switch):
            plans[system] = {"enabled": False, "reason": f"'{template.field(switch).label}' is not checked",
                             "payload": {}}
            continue
        payload = _elabftw_payload(template, checked, project_name, metadata, link) if system == "elabftw" else \
            _omero_payload(template, checked, project_name, elabftw_url)
        plans[system] = {"enabled": True, "reason": "", "payload": payload}
    return plans


def _value(template: Template, checked: AnswerCheck, system: str, role: str) -> Any:
    """The answer of the field playing ``role``, or the value the template fixes for it."""
    fixed = template.fixed(system, role)
    if fixed is not None:
        return fixed
    key = template.role(system, role)
    return checked.values.get(key) if key else None


def _elabftw_payload(template: Template, checked: AnswerCheck, project_name: str,
                     metadata: Mapping[str, Any], link: ProjectLink | None = None) -> dict[str, Any]:
    title_pattern = template.role("elabftw", "title")
    if title_pattern:
        title = _fill(title_pattern, checked.values).strip()
    else:
        title = str(checked.values.get("experiment_title") or project_name)
    tags = _value(template, checked, "elabftw", "tags")
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    return {"title": title or project_name, "body": render_experiment_body(template, checked.values, link),
            "category": _value(template, checked, "elabftw", "category"),
            "status": _value(template, checked, "elabftw", "status"), "tags": list(dict.fromkeys(tags or [])),
            "metadata": metadata}


def _omero_payload(template: Template, checked: AnswerCheck, project_name: str,
                   elabftw_url: str | None = None) -> dict[str, Any]:
    fields = {f.key: f for f in template.fields}
    pairs: list[list[str]] = []
    for key, value in checked.values.items():
        if value is None or value == "" or key == template.role("omero", "enabled_by"):
            continue
        label = fields[key].label
        for item in value if isinstance(value, list) else [value]:
            text = ("yes" if item else "no") if isinstance(item, bool) else str(item)
            pairs.append([label, text])
    return {"dataset": _value(template, checked, "omero", "dataset") or project_name,
            "group": _value(template, checked, "omero", "group"),
            "project": _value(template, checked, "omero", "project"),
            "project_link": _value(template, checked, "omero", "project_link"),
            "description": with_elabftw_link(dataset_description(template, checked.values, project_name),
                                             elabftw_url),
            "key_values": pairs}


def dataset_description(template: Template, values: Mapping[str, Any], project_name: str) -> str:
    """The OMERO dataset's description: the template's ``omero.description`` pattern filled in,
    else the research question, else a sentence naming the project."""
    pattern = template.role("omero", "description")
    text = fill_text(pattern, values).strip() if pattern else ""
    if not text and not pattern:
        question = values.get("research_question")
        text = str(question).strip() if question else ""
    if not text:
        title = values.get("experiment_title")
        text = f"Images of the project {project_name}" + (f": {title}" if title else "") + "."
    return text[:MAX_DESCRIPTION]


ELABFTW_LINE = "elabFTW experiment: "


def with_elabftw_link(description: str, elabftw_url: str | None) -> str:
    """A dataset description ending with the elabFTW experiment's address on its own line (when known);
    an older address is replaced, so the description never lists two."""
    base = description.split(f"\n\n{ELABFTW_LINE}", 1)[0]
    return f"{base}\n\n{ELABFTW_LINE}{elabftw_url}" if elabftw_url else base


def project_link(record: ProjectRecord, project: str | os.PathLike[str],
                 web: WebFolders | None = None) -> ProjectLink:
    """The link back to an existing project that its experiment body shows (with its web
    address when ``web`` serves the folder it is in)."""
    return ProjectLink(record.name, record.uid, os.path.abspath(project), web.url_for(project) if web else None)


def _parents(files: Mapping[str, str]) -> list[str]:
    parents: list[str] = []
    for path in files:
        parts = path.split("/")[:-1]
        parents.extend("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return parents

