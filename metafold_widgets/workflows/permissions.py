"""Who may read and change the project, in each system, against the answer ``data_sharing_level``.

Nothing is changed: each check says what it found, why it matters and what to set. Rights wider
than the sharing level fail (data seen by people it was not meant for); narrower ones warn (the
people it was meant for cannot see it).

- **folder**: modes of the project folder and its files (owner can read and write; nothing
  world-writable; nothing world-readable for a Private project).
- **elabFTW**: the experiment's base permissions, ``canread``/``canwrite``: 10 only owner, 20
  owner and admins, 30 the team, 40 every account, 50 everyone (src/Enums/BasePermissions.php, the
  same values from 5.2.8 to 6.0.0-alpha4). Up to 5.3 the base is the ``base`` of the canread
  JSON; from 5.4 it is the ``canread_base`` column and the JSON holds the teams, team groups
  and users it is also shared with (src/sql/schema197.sql@5.4.0).
- **OMERO**: the permissions of the dataset's group (private, read-only, read-annotate,
  read-write; readable by every user of the server when world-readable).
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..adapters.omero_permissions import DatasetAccess

SHARING_FIELD = "data_sharing_level"
SHARING_LEVELS = ("Private", "Group", "Institution", "Public")
MAX_ENTRIES = 50_000  # files and folders looked at in one project; a larger one is reported as partial

# elabFTW base permission per sharing level (src/Enums/BasePermissions.php@5.6.12 toHuman)
ELABFTW_BASE = {"Private": 20, "Group": 30, "Institution": 40, "Public": 50}
ELABFTW_HUMAN = {50: "Everyone including anonymous users", 40: "Everyone with an account",
                 30: "Only members of the team", 20: "Only owner and admins", 10: "Only owner"}
# OMERO group permissions per sharing level (OMERO.web's names and their text)
OMERO_WANTED = {"Private": "private (rw----)", "Group": "read-only (rwr---) or read-annotate (rwra--)",
                "Institution": "readable by every user (e.g. rwr-r-)",
                "Public": "readable by every user (e.g. rwr-r-) and published with OMERO.web's public user"}


@dataclass(frozen=True)
class Result:
    """A verdict (pass, warn, fail, skip), what was found and what to do."""

    status: str
    message: str
    fix: str = ""


def sharing_level(answers: Mapping[str, Any]) -> str | None:
    """The project's sharing level (one of :data:`SHARING_LEVELS`, any case), or None."""
    value = answers.get(SHARING_FIELD)
    if not isinstance(value, str):
        return None
    for level in SHARING_LEVELS:
        if value.strip().casefold() == level.casefold():
            return level
    return None


def _rank(level: str) -> int:
    return SHARING_LEVELS.index(level)


# --- folder -------------------------------------------------------------------------------


def folder_permissions(project: str | os.PathLike[str], level: str | None) -> Result:
    """Modes of the project folder and everything in it (symbolic links are not followed)."""
    root = Path(project)
    not_owner: list[str] = []
    world_writable: list[str] = []
    world_readable: list[str] = []
    group_readable: list[str] = []
    counted = 0
    for path, is_dir in _entries(root):
        counted += 1
        if counted > MAX_ENTRIES:
            break
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode):  # a link's own mode is always rwxrwxrwx and means nothing
            continue
        name = "." if path == root else path.relative_to(root).as_posix()
        needed = stat.S_IRWXU if is_dir else stat.S_IRUSR | stat.S_IWUSR
        if mode & needed != needed:
            not_owner.append(name)
        if mode & stat.S_IWOTH:
            world_writable.append(name)
        if mode & stat.S_IROTH:
            world_readable.append(name)
        if mode & stat.S_IRGRP:
            group_readable.append(name)
    root_mode = root.stat().st_mode
    others_enter = bool(root_mode & stat.S_IXOTH)  # without it, nothing inside is reachable by others
    group_enter = bool(root_mode & stat.S_IXGRP)
    partial = f" (first {MAX_ENTRIES} entries)" if counted > MAX_ENTRIES else ""
    problems, fixes, warnings = [], [], []
    if not_owner:
        problems.append(f"the owner cannot read or write {_some(not_owner)}")
        fixes.append(f"chmod -R u+rwX '{root}'")
    if world_writable:
        problems.append(f"anyone on this computer can change {_some(world_writable)}")
        fixes.append(f"chmod -R o-w '{root}'")
    if level == "Private" and others_enter and world_readable:
        exposed = f"the project is Private but anyone on this computer can read {_some(world_readable)}"
        closed = closed_parent(root)
        if closed is None:
            problems.append(exposed)
        else:  # safe where it is now, not once moved or copied
            warnings.append(f"{exposed} once the folder is moved out of {closed} (closed to other users)")
        fixes.append(f"chmod -R o-rwx '{root}'")
    elif level == "Private" and group_enter and group_readable:
        warnings.append(f"the project is Private but the folder's group can read {_some(group_readable)}")
        fixes.append(f"chmod -R g-rwx '{root}' (if the group is not only you and your PI)")
    fix = "Nothing was changed; to correct it: " + "; ".join(fixes) + "." if fixes else ""
    if problems:
        return Result("fail", "; ".join(problems + warnings) + partial, fix)
    if warnings:
        return Result("warn", "; ".join(warnings) + partial, fix)
    shown = stat.filemode(root_mode)
    private = "" if others_enter else ", closed to other users"
    return Result("pass", f"{counted} entries{partial} readable and writable by the owner, none world-writable; "
                  f"folder {shown}{private}")


def closed_parent(folder: Path) -> Path | None:
    """The nearest parent folder other users cannot enter (no ``o+x``), if any."""
    for parent in folder.resolve().parents:
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return parent
        except OSError:
            return None
    return None


def _entries(root: Path) -> Any:
    """The folder itself, then every folder and file below it, without following links."""
    yield root, True
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in dirs:
            yield base / name, True
        for name in files:
            yield base / name, False


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


# --- elabFTW ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElabftwAccess:
    """An experiment's base permissions and the teams, team groups and users also granted."""

    read_base: int
    write_base: int
    read_extra: int
    write_extra: int


def elabftw_access(experiment: Mapping[str, Any]) -> ElabftwAccess:
    """Read ``canread``/``canwrite`` as the experiment's release returns them (see the module
    docstring); ValueError when neither form is there."""
    read_base, read_extra = _can(experiment, "canread")
    write_base, write_extra = _can(experiment, "canwrite")
    return ElabftwAccess(read_base, write_base, read_extra, write_extra)


def _can(experiment: Mapping[str, Any], key: str) -> tuple[int, int]:
    raw = experiment.get(key)
    decoded: Any = raw
    if isinstance(raw, str):
        try:
            decoded = json.loads(raw)
        except ValueError:
            raise ValueError(f"{key} is not JSON") from None
    if not isinstance(decoded, dict):
        raise ValueError(f"{key} is missing")
    base = experiment.get(f"{key}_base", decoded.get("base"))
    if isinstance(base, str) and base.isdigit():
        base = int(base)
    if base not in ELABFTW_HUMAN:
        raise ValueError(f"{key} has no known base permission ({base!r})")
    extra = sum(len(v) for k, v in decoded.items() if k in ("teams", "teamgroups", "users") and isinstance(v, list))
    return int(base), extra


def elabftw_permissions(experiment: Mapping[str, Any], level: str | None) -> Result:
    """The experiment's read and write rights against the sharing level."""
    if level is None:
        return Result("skip", f"no answer '{SHARING_FIELD}' to compare the experiment's rights with")
    try:
        access = elabftw_access(experiment)
    except ValueError as exc:
        return Result("warn", f"the experiment's permissions cannot be read: {exc}",
                      "Check that your elabFTW API key may read the experiment's permissions.")
    wanted = ELABFTW_BASE[level]
    read, write = access.read_base, access.write_base
    found = f"read: '{ELABFTW_HUMAN[read]}' ({read}), write: '{ELABFTW_HUMAN[write]}' ({write})"
    also = f", also shared with {access.read_extra} teams/groups/users" if access.read_extra else ""
    setting = f"In elabFTW, set the experiment's visibility (canread) to '{ELABFTW_HUMAN[wanted]}' ({wanted})"
    if max(read, 20) > wanted:  # 10 and 20 both keep it to the owner (and admins)
        return Result("fail", f"{found}{also}: wider than the sharing level '{level}'",
                      f"{setting}, or change {SHARING_FIELD} if it is meant to be shared that widely.")
    if max(write, 20) > wanted:
        return Result("fail", f"{found}: more people may change it than the sharing level '{level}' allows",
                      f"In elabFTW, set who can edit (canwrite) to '{ELABFTW_HUMAN[20]}' (20) or "
                      f"'{ELABFTW_HUMAN[wanted]}' ({wanted}).")
    if level == "Private" and access.read_extra:
        return Result("warn", f"{found}{also}, although the project is Private",
                      "In elabFTW, remove the teams, groups and users the experiment is shared with.")
    if max(read, 20) < wanted:
        return Result("warn", f"{found}: narrower than the sharing level '{level}'{also}",
                      f"{setting}, so that the people the level names can read it.")
    return Result("pass", f"{found}{also} fit the sharing level '{level}'")


# --- OMERO --------------------------------------------------------------------------------


def omero_permissions(access: DatasetAccess, level: str | None) -> Result:
    """The permissions of the dataset's group against the sharing level."""
    if level is None:
        return Result("skip", f"no answer '{SHARING_FIELD}' to compare the group's permissions with")
    perms = access.permissions
    found = f"dataset {access.dataset_id} is in group '{access.group_name}' ({perms.level}, {perms.text})"
    reach = 2 if perms.world_read else 1 if perms.group_read else 0
    wanted = min(_rank(level), 2)  # OMERO's widest is every user of the server (Public adds OMERO.web)
    fix = (f"Ask an OMERO administrator to move the dataset to a group that is {OMERO_WANTED[level]}, "
           f"or change {SHARING_FIELD} if the group is right.")
    if reach > wanted:
        return Result("fail", f"{found}: wider than the sharing level '{level}'", fix)
    if reach < wanted:
        return Result("warn", f"{found}: narrower than the sharing level '{level}'", fix)
    if level in ("Private", "Group") and perms.world_write:
        return Result("fail", f"{found}: every user may change it", fix)
    note = ("; anonymous access needs OMERO.web's public user" if level == "Public" else
            "; group members may also change and delete it" if perms.group_write else "")
    return Result("pass", f"{found} fits the sharing level '{level}'{note}")
