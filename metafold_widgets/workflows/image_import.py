"""Import images into a project's OMERO dataset, then tell its elabFTW experiment.

Everything that can be refused is checked before the importer runs: the files exist and
lie inside the project folder (symbolic links resolved), the project has its dataset,
OMERO is configured, and a requested status is one the caller's team has. Then the import
runs (:func:`.omero_import.import_images`); only when it succeeds is an "N images imported"
entry written into the project's lab record and published to the experiment, and the
status set. A failed import tells elabFTW nothing.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..core.bounded import is_inside
from ..core.record import ProjectRecord, load_record, record_integration
from ..errors import ConfigError, IntegrationError, UserError
from ..session import Session
from .omero_import import RAW_FOLDER_NAMES, ImportRun, Runner, import_images, raw_image_folders

Notify = Callable[[str], None]


@dataclass
class ImportReport:
    """What an import did: the run, the entry written, and what elabFTW heard (or why not)."""

    run: ImportRun
    entry: Path | None = None
    published: bool = False
    status: str | None = None
    problems: list[str] = field(default_factory=list)  # what elabFTW was not told, and why
    notes: list[str] = field(default_factory=list)  # elabFTW not part of the project: nothing to tell

    @property
    def ok(self) -> bool:
        """True when the images were imported and elabFTW heard everything it was to hear."""
        return self.run.ok and not self.problems


def import_paths(project: str | os.PathLike[str], paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The files or folders to import, checked: each exists and lies inside the project folder.

    Without ``paths``: the project's raw-image folders. Raises UserError naming the path.
    """
    root = Path(project)
    if not paths:
        found = raw_image_folders(root)
        if not found:
            raise UserError(f"{root}: no raw-image folder ({', '.join(RAW_FOLDER_NAMES)}) to import; "
                            "name the files or folders to import")
        return found
    checked: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(f"{raw}: no such file or folder")
        if not is_inside(root, path):
            raise UserError(f"{raw}: is outside the project folder {root}; copy it into the project's raw-image "
                            "folder first (e.g. 03_imaging/raw_images), so that the project holds what OMERO holds")
        checked.append(path.resolve())
    return list(dict.fromkeys(checked))


def import_and_announce(session: Session, project: str | os.PathLike[str],
                        paths: Sequence[str | os.PathLike[str]] = (), *, status: str | None = None,
                        clientdir: str | os.PathLike[str] | None = None, notify: Notify | None = None,
                        runner: Runner | None = None,
                        now: dt.datetime | None = None) -> ImportReport:
    """Import ``paths`` (default: the raw-image folders) into the project's dataset, then tell elabFTW.

    Raises UserError before anything runs for a wrong path, a project without its dataset,
    OMERO not configured or an unknown ``status``; OmeroError when the import fails (elabFTW
    is then told nothing). Problems telling elabFTW afterwards are in the report.
    """
    say = notify or (lambda message: None)
    root = Path(project)
    record = load_record(root)
    dataset = record.integration("omero")
    if not dataset.done or dataset.id is None:
        raise UserError(f"{root}: the project has no OMERO dataset yet ({dataset.state}); "
                        f"create it first with 'metafold resume {root}'")
    targets = import_paths(root, paths)
    if not session.is_configured("omero"):
        raise ConfigError("OMERO is not configured: set OMERO_HOST and OMERO_USER/OMERO_PASSWORD "
                          "(or OMERO_SESSION_KEY) to import images")
    experiment_id = _experiment(session, root, record) if status else None
    if status:
        status = _known_status(session, status)
    say(f"importing {len(targets)} path(s) into OMERO dataset {dataset.id}")
    run = import_images(session, root, int(dataset.id), targets, clientdir=clientdir, runner=runner, now=now)
    count = len(run.image_ids)
    say(f"imported {count} image{'s' if count != 1 else ''} (log: {run.log_file})")
    report = ImportReport(run)
    _announce(session, root, load_record(root), run, targets, report, say, now)
    if status and experiment_id is not None:
        _set_status(session, root, experiment_id, status, report, say)
    return report


def _experiment(session: Session, root: Path, record: ProjectRecord) -> int:
    """The experiment whose status is to be set; UserError when there is none to set."""
    state = record.integration("elabftw")
    if not state.done or state.id is None:
        raise UserError(f"{root}: --status needs the project's elabFTW experiment, which is {state.state}")
    if session.elabftw is None:
        raise ConfigError("--status needs elabFTW: set ELABFTW_URL and ELABFTW_API_KEY")
    return int(state.id)


def _known_status(session: Session, wanted: str) -> str:
    """The team's status called ``wanted`` (any case); UserError listing the team's statuses otherwise."""
    assert session.elabftw is not None
    titles = [str(row.get("title", "")) for row in session.elabftw.statuses()]
    for title in titles:
        if title.casefold() == wanted.strip().casefold():
            return title
    raise UserError(f"--status: elabFTW has no experiment status called '{wanted}' "
                    f"(the team has: {', '.join(titles) or 'none'})")


def _announce(session: Session, root: Path, record: ProjectRecord, run: ImportRun, targets: Sequence[Path],
              report: ImportReport, say: Notify, now: dt.datetime | None) -> None:
    """Write the "images imported" entry and publish it to the experiment when there is one."""
    from .entries import new_entry, publish_entries

    omero = record.integration("omero")
    facts = {"count": len(run.image_ids), "image_ids": list(run.image_ids),
             "dataset_id": omero.id, "dataset_url": omero.url,
             "files": [_shown(root, path) for path in targets], "log": _shown(root, run.log_file)}
    report.entry = new_entry(root, "images-imported", facts=facts, now=now, templates_dir=session.templates_dir)
    say(f"wrote {_shown(root, report.entry)}")
    experiment = record.integration("elabftw")
    if experiment.state == "off" or not experiment.done:
        report.notes.append(f"elabFTW: the project has no experiment ({experiment.state}); the entry is "
                            "published by 'metafold sync' once it has one")
        return
    if session.elabftw is None:
        report.problems.append("elabFTW is not configured: the entry is published by 'metafold sync' later")
        return
    try:
        published = publish_entries(session, root)
    except IntegrationError as exc:
        report.problems.append(f"elabFTW: the entry was not published: {exc}")
        return
    if published.errors:
        report.problems.extend(error if error.startswith("elabFTW") else f"elabFTW: {error}"
                               for error in published.errors)
        return
    report.published = True
    say(f"elabFTW experiment {experiment.id}: entry published")


def _set_status(session: Session, root: Path, experiment_id: int, status: str, report: ImportReport,
                say: Notify) -> None:
    assert session.elabftw is not None
    try:
        session.elabftw.update_experiment(experiment_id, status=status)
    except IntegrationError as exc:
        report.problems.append(f"elabFTW: the status was not set to {status}: {exc}")
        return
    record_integration(root, "elabftw", action="set status", status=status)
    report.status = status
    say(f"elabFTW experiment {experiment_id}: status set to {status}")


def _shown(root: Path, path: Path) -> str:
    """A path relative to the project when it lies inside it."""
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
