"""Who may see a project's OMERO dataset: the dataset's name, description and group permissions.

OMERO decides access by the permissions of the group that owns the data, written like
``rwra--`` (user, group, world; ``r`` read, ``a`` annotate, ``w`` write). The levels OMERO.web
offers are private ``rw----``, read-only ``rwr---``, read-annotate ``rwra--`` and read-write
``rwrw--``; a third pair such as ``r-`` makes the data readable by every user of the server
(omero-model ``src/main/java/ome/model/internal/Permissions.java`` at v5.7.5, ``parseString``:
``a`` grants annotate, ``w`` grants annotate and write). omero-py is imported lazily.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import OmeroError
from .omero import project_by_id, server_call

DATASET_FACTS_HQL = "select ds.name, ds.description, ds.details.group.id from Dataset ds where ds.id = :id"
_PERMISSIONS_TEXT = re.compile(r"([Rr_-][AaWw_-]){3}")  # Permissions.parseString's pattern


@dataclass(frozen=True)
class GroupPermissions:
    """The rights a group's permissions give its members (group) and every user (world)."""

    group_read: bool
    group_annotate: bool
    group_write: bool
    world_read: bool
    world_annotate: bool = False
    world_write: bool = False

    @classmethod
    def from_text(cls, text: str) -> GroupPermissions:
        """Read ``rwra--`` as omero-model's ``Permissions.parseString`` does (v5.7.5)."""
        if not isinstance(text, str) or not _PERMISSIONS_TEXT.fullmatch(text):
            raise ValueError(f"OMERO permissions look like 'rwra--', not {text!r}")
        group, world = text[2:4].lower(), text[4:6].lower()
        return cls(group_read=group[0] == "r", group_annotate=group[1] in "aw", group_write=group[1] == "w",
                   world_read=world[0] == "r", world_annotate=world[1] in "aw", world_write=world[1] == "w")

    @classmethod
    def of(cls, permissions: Any) -> GroupPermissions:
        """From an ``omero.model.PermissionsI`` (its ``isGroupRead()``... accessors, omero-py)."""
        return cls(group_read=bool(permissions.isGroupRead()), group_annotate=bool(permissions.isGroupAnnotate()),
                   group_write=bool(permissions.isGroupWrite()), world_read=bool(permissions.isWorldRead()),
                   world_annotate=bool(permissions.isWorldAnnotate()), world_write=bool(permissions.isWorldWrite()))

    @property
    def text(self) -> str:
        """The ``rwra--`` form (the owner's ``rw`` is implied)."""
        def pair(read: bool, annotate: bool, write: bool) -> str:
            return ("r" if read else "-") + ("w" if write else "a" if annotate else "-")
        return "rw" + pair(self.group_read, self.group_annotate, self.group_write) + pair(
            self.world_read, self.world_annotate, self.world_write)

    @property
    def level(self) -> str:
        """OMERO.web's name for it: private, read-only, read-annotate or read-write (+ world-readable)."""
        name = ("read-write" if self.group_write else "read-annotate" if self.group_annotate
                else "read-only" if self.group_read else "private")
        return name + (", readable by every user of the server" if self.world_read else "")


@dataclass(frozen=True)
class DatasetAccess:
    """A dataset's name and description, its group and that group's permissions."""

    dataset_id: int
    name: str
    description: str
    group_id: int
    group_name: str
    permissions: GroupPermissions


def read_dataset_access(conn: Any, dataset_id: int) -> DatasetAccess | None:
    """The dataset ``dataset_id`` as any of the user's groups sees it; None when it is not visible.

    Two calls: the dataset's name, description and group (across all groups, ``omero.group``
    -1), then the group, whose ``getDetails().getPermissions()`` are the group's permissions.
    """
    rows = project_by_id(conn, DATASET_FACTS_HQL, dataset_id, f"read dataset {dataset_id}")
    if not rows:
        return None
    name, description, group_id = (_unwrap(value) for value in rows[0][:3])
    group = server_call(lambda: conn.getObject("ExperimenterGroup", int(group_id)), f"read group {group_id}")
    if group is None:
        raise OmeroError(f"the group {group_id} of OMERO dataset {dataset_id} cannot be read")
    permissions = group.getDetails().getPermissions()
    return DatasetAccess(int(dataset_id), str(name or ""), str(description or ""), int(group_id),
                         str(group.getName() or ""), GroupPermissions.of(permissions))


def _unwrap(value: Any) -> Any:
    """The Python value of an rtype (None stays None)."""
    return value.getValue() if value is not None and hasattr(value, "getValue") else value
