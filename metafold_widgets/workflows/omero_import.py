"""Import a project's raw images into its OMERO dataset with omero-py's importer (``omero import``).

The command is omero-py's own CLI (the ``omero`` script beside the running Python),
logged in by the Session's **session key** (``-k``), never by a password, and aimed at
``Dataset:id:<id>``. It runs the Java importer (Bio-Formats), so it needs Java and the
OMERO.java jars; :func:`importer_problem` checks both (and that we are not root, which
omero-py's CLI refuses) before anything runs, because omero-py would otherwise try to
download the jars itself.

Each run writes one log file into the template's import-log folder (the folder named like
``*omero_import_logs*``, e.g. ``03_imaging/omero_import_logs/``): a header with the command
(session key masked), the importer's log (its stderr), then its output (stdout), in which
each imported fileset shows up as a line ``Image:123,124``. Those ids are added to the
project record (``integrations.omero.image_ids``), along with ``last_import``.

With a session key the CLI ignores ``-g``: the import runs in the session's current group,
and a dataset of another group is not found. So the session is first moved to the
dataset's group (``setGroupForSession``), which changes the group for everything sharing
that session key; the run says so (``ImportRun.moved_to_group``, the log, a warning).
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..adapters.omero import dataset_group, import_omero, move_session_to_group
from ..core.record import ProjectRecord, load_record, record_integration
from ..core.timestamps import utc_now
from ..errors import ImporterMissingError, OmeroError
from ..session import Session

log = logging.getLogger("metafold_widgets.omero")
IMPORT_LOG_PATTERN = "*omero_import_logs*"
RAW_FOLDER_NAMES = ("raw_images", "raw_data", "raw")
MASK = "********"
#: Runs the importer's command line like :func:`subprocess.run` (the demo mode's stand-in replaces it).
Runner = Callable[..., "subprocess.CompletedProcess[str]"]
_IMAGE_LINE = re.compile(r"^\s*Image:(\d+(?:\s*,\s*\d+)*)\s*$")


@dataclass(frozen=True)
class ImportRun:
    """One run of the importer: the image ids it reported, its exit status and its log file."""

    image_ids: tuple[int, ...]
    returncode: int
    log_file: Path
    command: tuple[str, ...]  # as written to the log: the session key masked
    moved_to_group: int | None = None  # the session was moved to the dataset's group first

    @property
    def ok(self) -> bool:
        """True when the importer exited with status 0."""
        return self.returncode == 0


def raw_image_folders(project: str | os.PathLike[str]) -> list[Path]:
    """The project's raw-image folders (named ``raw_images``, ``raw_data`` or ``raw``), outermost only."""
    found: list[Path] = []
    for folder, subfolders, _files in os.walk(project):
        subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))
        for name in list(subfolders):
            if name.lower() in RAW_FOLDER_NAMES:
                found.append(Path(folder) / name)
                subfolders.remove(name)  # the importer walks into it by itself
    return found


def import_log_folder(project: str | os.PathLike[str]) -> Path:
    """The template's import-log folder (``*omero_import_logs*``), else the integration-log folder."""
    root = Path(project)
    for folder, subfolders, _files in os.walk(root):
        subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))
        for name in subfolders:
            if fnmatch.fnmatch(name.lower(), IMPORT_LOG_PATTERN):
                return Path(folder) / name
    return load_record(root).log_path(root).parent


def default_omero_cli() -> list[str]:
    """omero-py's ``omero`` script beside this Python (else on PATH); ImporterMissingError if absent."""
    beside = Path(sys.executable).with_name("omero")
    if beside.is_file():
        return [str(beside)]
    on_path = shutil.which("omero")
    if on_path:
        return [on_path]
    import_omero()  # says how to install omero-py when that is what is missing
    raise ImporterMissingError("omero-py's 'omero' command was not found beside this Python or on PATH")


def importer_problem(clientdir: str | os.PathLike[str] | None = None) -> str | None:
    """Why ``omero import`` cannot run here (Java, the OMERO.java jars, root), or None when it can."""
    import_omero()
    if shutil.which("java") is None:
        return ("the OMERO importer runs on Java, which is not installed (or not on PATH): install a Java 11+ "
                "runtime, e.g. 'apt-get install default-jre-headless'")
    if not _importer_jars(clientdir):
        return ("the OMERO importer's Java libraries (OMERO.java with Bio-Formats) are not installed: run "
                "'omero import --fetch-jars latest' once (it downloads them), or pass clientdir=<folder of jars>")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "omero-py's 'omero' command refuses to run as root: run the import as a normal user"
    return None


def import_command(conn: Any, dataset_id: int, paths: Iterable[str | os.PathLike[str]], *,
                   omero_cli: Sequence[str] | None = None, clientdir: str | os.PathLike[str] | None = None,
                   extra_args: Sequence[str] = ()) -> list[str]:
    """The ``omero import`` command line: server, port and session key of ``conn``, target, paths."""
    host = conn.c.getProperty("omero.host") or getattr(conn, "host", "")
    port = conn.c.getProperty("omero.port") or str(getattr(conn, "port", 4064))
    command = [*(omero_cli or default_omero_cli()), "import", "-s", str(host), "-p", str(port),
               "-k", conn.c.getSessionId(), "-T", f"Dataset:id:{int(dataset_id)}"]
    if clientdir is not None:
        command += ["--clientdir", str(clientdir)]
    return command + list(extra_args) + [str(Path(p).resolve()) for p in paths]


def parse_image_ids(output: str) -> list[int]:
    """Image ids from the importer's output lines ``Image:123,124`` (other lines ignored)."""
    ids: list[int] = []
    for line in output.splitlines():
        match = _IMAGE_LINE.match(line)
        if match:
            ids.extend(int(part) for part in match.group(1).split(","))
    return list(dict.fromkeys(ids))


def import_images(session_or_conn: Session | Any, project: str | os.PathLike[str], dataset_id: int | None = None,
                  paths: Sequence[str | os.PathLike[str]] | None = None, *, omero_cli: Sequence[str] | None = None,
                  clientdir: str | os.PathLike[str] | None = None, extra_args: Sequence[str] = (),
                  check_importer: bool = True, runner: Runner | None = None,
                  now: dt.datetime | None = None) -> ImportRun:
    """Import the project's raw images (or ``paths``) into its dataset; log, record and return the run.

    ``dataset_id`` defaults to the project's OMERO dataset from its record. Raises
    ImporterMissingError before running when the importer cannot run here, OmeroError when
    it fails (after the log and the ids it did report are recorded). ``runner`` stands in for
    the importer process (the demo mode's :class:`~metafold_widgets.testing.demo.DemoImporter`);
    the importer is then not looked for.
    """
    conn = session_or_conn.omero if isinstance(session_or_conn, Session) else session_or_conn
    root = Path(project)
    record = load_record(root)
    if dataset_id is None:
        dataset_id = record.integration("omero").id
        if dataset_id is None:
            raise OmeroError(f"{root}: the project has no OMERO dataset yet; create it first")
    folders = [Path(p) for p in paths] if paths is not None else raw_image_folders(root)
    if not folders:
        raise OmeroError(f"{root}: no raw-image folder ({', '.join(RAW_FOLDER_NAMES)}) to import")
    if check_importer and runner is None:
        problem = importer_problem(clientdir)
        if problem:
            raise ImporterMissingError(problem)
    target_group = dataset_group(conn, int(dataset_id))
    moved_to = target_group if move_session_to_group(conn, target_group) else None
    if moved_to is not None:
        log.warning("moved the OMERO session to group %s (the dataset's group) for the import; this applies to "
                    "everything that shares the session", target_group)
    if runner is not None and omero_cli is None:
        omero_cli = ["omero"]
    command = import_command(conn, dataset_id, folders, omero_cli=omero_cli, clientdir=clientdir,
                             extra_args=extra_args)
    key = conn.c.getSessionId()
    shown = tuple(MASK if part == key else part for part in command)
    started = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    log_dir = import_log_folder(root)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"omero-import-{started.strftime('%Y%m%dT%H%M%SZ')}.log"
    env = {name: value for name, value in os.environ.items() if name != "OMERO_PASSWORD"}
    moved_note = (f"# the session was moved to group {moved_to}, the dataset's group (with a session key the "
                  "importer uses the session's group); this applies to everything sharing the session\n"
                  if moved_to is not None else "")
    with open(log_file, "w", encoding="utf-8") as out:
        out.write(f"# omero import started {started.isoformat()}\n# command: {' '.join(shown)}\n{moved_note}"
                  "# --- importer log (stderr) ---\n")
        out.flush()
        try:
            completed = (runner or subprocess.run)(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                   stderr=out, env=env, cwd=root, text=True, errors="replace",
                                                   check=False)
        except FileNotFoundError:
            raise ImporterMissingError(f"the importer command {command[0]} was not found") from None
        out.write(f"# --- importer output (stdout) ---\n{completed.stdout}"
                  f"# exit status {completed.returncode}\n")
    _mask_in_file(log_file, key)
    ids = parse_image_ids(completed.stdout)
    run = ImportRun(tuple(ids), completed.returncode, log_file, shown, moved_to)
    _record(root, record, run, started)
    if not run.ok:
        raise OmeroError(f"omero import failed (exit status {run.returncode}); {len(ids)} image(s) reported; "
                         f"see {log_file}")
    return run


def _importer_jars(clientdir: str | os.PathLike[str] | None) -> list[Path]:
    """The jar files the importer would use (the same places omero-py's import plugin looks)."""
    if clientdir is not None:
        folders = [Path(clientdir)]
    else:
        from omero.util import get_omero_user_cache_dir
        folders = []
        if os.environ.get("OMERODIR"):
            folders.append(Path(os.environ["OMERODIR"]) / "lib" / "client")
        jars = Path(str(get_omero_user_cache_dir())) / "jars"
        marker = jars / "OMERO.java.txt"
        if marker.is_file():
            folders.append(jars / marker.read_text(encoding="utf-8").strip() / "libs")
    return [jar for folder in folders if folder.is_dir() for jar in sorted(folder.glob("*.jar"))]


def _mask_in_file(path: Path, secret: str) -> None:
    """Replace ``secret`` in a log file (an importer may echo its arguments)."""
    if not secret:
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    if secret in text:
        path.write_text(text.replace(secret, MASK), encoding="utf-8")


def _record(project: Path, record: ProjectRecord, run: ImportRun, started: dt.datetime) -> None:
    known = record.integration("omero").get("image_ids") or []
    try:
        log_path = str(run.log_file.relative_to(project))
    except ValueError:
        log_path = str(run.log_file)
    record_integration(project, "omero", action="import", result="done" if run.ok else "failed",
                       image_ids=list(dict.fromkeys([*known, *run.image_ids])),
                       last_import={"time": utc_now(started),
                                    "images": list(run.image_ids), "exit_status": run.returncode, "log": log_path,
                                    "moved_session_to_group": run.moved_to_group})
