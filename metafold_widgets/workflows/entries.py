"""The lab record in elabFTW: Markdown entries written in the project folder, published as
sections of the experiment, their checklists as the experiment's steps.

- :func:`new_entry` writes a pre-filled entry of a built-in kind into its documentation folder.
- :func:`documentation_files` lists the Markdown files of the template's documentation folders.
- :func:`publish_entries` makes each file one section of the experiment body: appended the first
  time, replaced in place when the file changed, left alone otherwise; whatever the researcher
  wrote outside the sections is kept. A section is found again by two links to fragment-only
  addresses (``#metafold-entry-KEY`` at its start, ``#metafold-entry-KEY-end`` at its end):
  elabFTW's purifier keeps ``a[href]`` but drops comments and ``data-`` attributes
  (``Filter::body``, src/Services/Filter.php@5.6.12). Checklist items become steps, each made
  once (matched by text) and finished when ticked; a step is never un-finished from here.
  What was published (per file: hash, section key, step ids) is kept in the project record,
  so a rerun with nothing changed reads the experiment once and sends nothing.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..config import templates_folder_setting
from ..core.atomic import write_new_file
from ..core.bounded import is_inside, read_bytes
from ..core.catalogue import TemplateCatalogue
from ..core.entries import entry_facts, entry_folder, entry_kind, parse_entry, step_text
from ..core.record import ProjectRecord, load_record, log_event, record_integration
from ..core.template import Template, default_documentation_folders
from ..errors import InputFileError, IntegrationError, UserError

if TYPE_CHECKING:  # 'metafold note' needs neither the HTTP client nor the Markdown parser
    from ..session import Session

ENTRY_MAX_BYTES = 1024 * 1024  # one Markdown entry
MAX_DOCUMENTATION_FILES = 2_000  # files looked at in the documentation folders
MAX_NAME_TRIES = 1_000  # 2026-12-06_protocol.md, -2, -3...
MARKER_PREFIX = "metafold-entry-"


@dataclass
class EntriesReport:
    """What publishing the entries did (or, with ``dry_run``, would do)."""

    project: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # sections removed in elabFTW, file unchanged
    steps_added: list[str] = field(default_factory=list)
    steps_finished: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        """True when anything was (or would be) sent to elabFTW."""
        return bool(self.added or self.updated or self.steps_added or self.steps_finished)

    def summary(self) -> str:
        """What happened, for people."""
        verb = "would " if self.dry_run else ""
        lines = [f"{self.project.name}:"]
        lines += [f"  {verb}add section {path}" for path in self.added]
        lines += [f"  {verb}update section {path}" for path in self.updated]
        lines += [f"  {verb}add step: {text}" for text in self.steps_added]
        lines += [f"  {verb}finish step: {text}" for text in self.steps_finished]
        lines += [f"  {path}: its section was removed in elabFTW; change the file to publish it again"
                  for path in self.left_out]
        lines += [f"  ERROR {error}" for error in self.errors]
        if len(lines) == 1:
            lines.append(f"  entries already published ({len(self.unchanged)} file"
                         f"{'' if len(self.unchanged) == 1 else 's'})")
        return "\n".join(lines)


# --- where entries live ------------------------------------------------------------------------

def project_template(record: ProjectRecord, templates_dir: str | os.PathLike[str] | None = None) -> Template | None:
    """The template a record names, from the built-ins and the lab's folder (None when not found)."""
    folder = templates_dir if templates_dir is not None else templates_folder_setting()
    template, _ = TemplateCatalogue(folder).for_record(record)
    return template


def documentation_folders(project: str | os.PathLike[str], template: Template | None) -> tuple[str, ...]:
    """The template's documentation folders; without a template, the project's folders named like
    the built-in templates' documentation folders."""
    if template is not None:
        return template.documentation_folders
    root = Path(project)
    found: list[str] = []
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [(Path(dirpath) / d).relative_to(root).as_posix() for d in dirnames]
        if len(found) > MAX_DOCUMENTATION_FILES:
            break
    return default_documentation_folders(found)


def documentation_paths(project: str | os.PathLike[str], template: Template | None) -> list[Path]:
    """Every regular file of the documentation folders, recursively, sorted: no hidden names, no
    symbolic links, nothing outside the project; at most :data:`MAX_DOCUMENTATION_FILES`."""
    root = Path(project)
    files: dict[Path, None] = {}
    for folder in documentation_folders(root, template):
        top = root / folder
        if top.is_symlink() or not top.is_dir() or not is_inside(root, top):
            continue
        for dirpath, dirnames, filenames in os.walk(top):  # never follows a linked folder
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith(".") or not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
                files[path] = None
                if len(files) > MAX_DOCUMENTATION_FILES:
                    raise InputFileError(f"{root}: the documentation folders hold more than "
                                         f"{MAX_DOCUMENTATION_FILES:,} files; move data files elsewhere")
    return sorted(files)


def is_entry(path: Path) -> bool:
    """True for a Markdown file (an entry, published as a section rather than attached)."""
    return path.suffix.lower() in (".md", ".markdown")


def documentation_files(project: str | os.PathLike[str], *,
                        templates_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The Markdown files of the project's documentation folders (recursive, safely)."""
    template = project_template(load_record(project), templates_dir)
    return [path for path in documentation_paths(project, template) if is_entry(path)]


# --- writing an entry --------------------------------------------------------------------------

def new_entry(project: str | os.PathLike[str], kind: str, *, title: str | None = None,
              facts: Mapping[str, Any] | None = None, now: datetime | None = None,
              templates_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write a new entry of ``kind`` pre-filled with the project's facts (``facts`` add to them)
    into its folder, as ``DATE_KIND.md`` (``-2``, ``-3``... when taken); returns its path."""
    spec = entry_kind(kind)
    root = Path(project)
    record = load_record(root)
    template = project_template(record, templates_dir)
    tree = list(template.folders.folders) if template is not None else list(documentation_folders(root, None))
    folder = entry_folder(spec, tree, documentation_folders(root, template))
    moment = now or datetime.now()
    labels = {f.key: f.label for f in template.fields} if template is not None else {}
    text = spec.render(entry_facts(record, date=moment.date().isoformat(), labels=labels, extra=facts))
    if title is not None and title.strip():
        text = re.sub(r"^# .*$", "# " + " ".join(title.split()), text, count=1, flags=re.M)
    target = root / folder
    if target.is_symlink() or not is_inside(root, target):
        raise InputFileError(f"{target}: the entry folder must be a folder inside the project, not a link")
    target.mkdir(parents=True, exist_ok=True)
    stem = f"{moment.date().isoformat()}_{spec.name}"
    for attempt in range(1, MAX_NAME_TRIES + 1):
        path = target / (f"{stem}.md" if attempt == 1 else f"{stem}-{attempt}.md")
        try:
            write_new_file(path, text)
        except FileExistsError:
            continue
        log_event(root, record, system="local", action="new entry", result="done", kind=spec.name,
                  file=path.relative_to(root).as_posix())
        return path
    raise UserError(f"{target}: {MAX_NAME_TRIES} entries named {stem} exist already")


# --- publishing ----------------------------------------------------------------------------------

def section_key(relative: str) -> str:
    """The stable key of a file's section: letters and digits from its path in the project."""
    return hashlib.sha256(relative.encode("utf-8")).hexdigest()[:16]


def section_html(relative: str, markdown: str) -> str:
    """A file's section: start link, the entry as HTML, end link (see the module docstring)."""
    from ..core.markdown_html import escape_text, markdown_to_html

    key = section_key(relative)
    name = escape_text(relative)
    return (f'<p><a href="#{MARKER_PREFIX}{key}">Lab record entry: {name}</a></p>\n'
            f"{markdown_to_html(markdown)}\n"
            f'<p><a href="#{MARKER_PREFIX}{key}-end">End of {name}</a></p>')


def find_section(body: str, key: str) -> tuple[int, int] | None:
    """Where the section ``key`` is in ``body`` (start, end), or None; tolerant to attributes an
    editor may add to the marker links."""
    start = re.search(rf'<p>\s*<a[^>]*href="#{MARKER_PREFIX}{key}"[^>]*>.*?</a>\s*</p>', body, re.S)
    if start is None:
        return None
    end = re.compile(rf'<p>\s*<a[^>]*href="#{MARKER_PREFIX}{key}-end"[^>]*>.*?</a>\s*</p>', re.S)
    found = end.search(body, start.end())
    return (start.start(), found.end()) if found is not None else None


def publish_entries(session: Session, project: str | os.PathLike[str], *, dry_run: bool = False) -> EntriesReport:
    """Publish the project's entries into its elabFTW experiment (see the module docstring)."""
    root = Path(project)
    report = EntriesReport(root, dry_run=dry_run)
    record = load_record(root)
    state = record.integration("elabftw")
    if not state.done:
        raise UserError(f"{root.name} has no elabFTW experiment yet (state: {state.state})")
    client = session.elabftw
    if client is None:
        raise UserError("elabFTW is not configured: set ELABFTW_URL and ELABFTW_API_KEY")
    experiment_id = int(state.id)
    template = project_template(record, session.templates_dir)
    files = [p for p in documentation_paths(root, template) if is_entry(p)]
    known: dict[str, Any] = dict(state.get("entries") or {})
    experiment = client.get_experiment(experiment_id)
    if str(experiment.get("content_type", 1)) == "2":
        report.errors.append(f"experiment {experiment_id} has a Markdown body; entries are published into "
                             "HTML bodies only (switch the experiment's editor to the rich text one)")
        return report
    body = str(experiment.get("body") or "")
    original = body
    todo: list[tuple[str, str, Any]] = []  # files whose steps need looking at: relative, digest, parsed
    for path in files:
        relative = path.relative_to(root).as_posix()
        try:
            data = read_bytes(path, ENTRY_MAX_BYTES, "lab record entry", follow_links=False)
            text = data.decode("utf-8")
            html = section_html(relative, text)
        except (InputFileError, UnicodeDecodeError) as exc:
            report.errors.append(f"{relative}: {exc if isinstance(exc, InputFileError) else 'is not UTF-8 text'}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        previous = known.get(relative) or {}
        where = find_section(body, section_key(relative))
        if where is not None and previous.get("sha256") == digest:
            report.unchanged.append(relative)
            continue
        if where is None and previous.get("sha256") == digest:
            report.left_out.append(relative)
            continue
        if where is not None:
            body = body[:where[0]] + html + body[where[1]:]
            report.updated.append(relative)
        else:
            body = (body.rstrip("\n") + "\n" + html) if body.strip() else html
            report.added.append(relative)
        todo.append((relative, digest, parse_entry(text, path.name)))
    if dry_run:
        if todo:
            _publish_steps(client, experiment_id, todo, known, report)
        return report
    if body != original:
        try:
            answer = client.update_experiment(experiment_id, body=body)
        except IntegrationError as exc:
            report.errors.append(f"elabFTW: could not update the experiment body: {exc}")
            return report
        kept = str(answer.get("body") or "")
        lost = [relative for relative, _, _ in todo if find_section(kept, section_key(relative)) is None]
        report.errors += [f"{relative}: elabFTW did not keep the section markers; it will be appended again "
                          "next time" for relative in lost]
    else:
        lost = []
    if todo:
        _publish_steps(client, experiment_id, todo, known, report)
    for relative in lost:  # not recorded as published, so that the next run appends it again
        known[relative]["sha256"] = ""
    if todo:
        record_integration(root, "elabftw", action="publish entries", result="failed" if report.errors else "done",
                           entries=known)
    return report


def _publish_steps(client: Any, experiment_id: int, todo: list[tuple[str, str, Any]], known: dict[str, Any],
                   report: EntriesReport) -> None:
    """Create and finish the steps of the files in ``todo``; record each file as published."""
    try:
        remote = {int(s["id"]): s for s in client.steps(experiment_id) if str(s.get("id", "")).isdigit()}
    except IntegrationError as exc:
        report.errors.append(f"elabFTW: could not read the steps: {exc}")
        return
    claimed = {int(i) for entry in known.values() for i in (entry.get("steps") or {}).values()
               if str(i).isdigit() and int(i) in remote}
    for relative, digest, parsed in todo:
        previous = dict((known.get(relative) or {}).get("steps") or {})
        steps: dict[str, int] = {}
        failed = False
        for text, done in parsed.steps:
            if text in steps:
                continue  # the same item twice in one file is one step
            step_id = _step_for(text, previous.get(text), remote, claimed)
            if report.dry_run:
                report.steps_added += [text] if step_id is None else []
                report.steps_finished += [text] if done and (step_id is None or not _finished(remote[step_id])) else []
                continue
            try:
                if step_id is None:
                    step_id = client.add_step(experiment_id, text)
                    remote[step_id] = {"id": step_id, "body": step_text(text), "finished": 0}
                    report.steps_added.append(text)
                claimed.add(step_id)
                steps[text] = step_id
                if done and not _finished(remote[step_id]):
                    client.finish_step(experiment_id, step_id)
                    remote[step_id]["finished"] = 1
                    report.steps_finished.append(text)
            except IntegrationError as exc:
                report.errors.append(f"{relative}: step '{text}': {exc}")
                failed = True
        known[relative] = {"sha256": "" if failed else digest, "section": section_key(relative), "steps": steps}


def _step_for(text: str, recorded: Any, remote: Mapping[int, Mapping[str, Any]], claimed: set[int]) -> int | None:
    """The step already made for ``text``: the recorded one if it still exists, else one with the
    same text that no other item uses."""
    if str(recorded).isdigit() and int(recorded) in remote:
        return int(recorded)
    wanted = step_text(text)
    for step_id, step in remote.items():
        if step_id not in claimed and step_text(str(step.get("body") or "")) == wanted:
            return step_id
    return None


def _finished(step: Mapping[str, Any]) -> bool:
    return str(step.get("finished", 0)) not in ("0", "", "None", "False")
