"""The OMERO step of creating a project: one dataset, in a project, carrying the project's metadata."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .._version import __version__
from ..adapters.omero import dataset_web_url, ensure_dataset
from ..core.plan import with_elabftw_link
from ..core.record import ProjectRecord, load_record, save_record


def dataset_provenance(project: Path, record: ProjectRecord) -> dict[str, Any]:
    """What the product-namespace annotation says about where the dataset comes from."""
    elabftw = record.integration("elabftw")
    return {"project_name": record.name, "project_path": str(project),
            "template_id": record.template_id, "template_version": record.template_version,
            "tool": f"metafold-widgets {__version__}",
            "elabftw_url": elabftw.url if elabftw.done else None}


def push_dataset(conn: Any, project: Path, record: ProjectRecord, payload: Mapping[str, Any],
                 resuming: bool = False, web_url: str | None = None) -> tuple[int, str | None]:
    """Create (or find) the project's dataset with its metadata; returns (dataset id, OMERO.web URL).

    Unlike the elabFTW step, the lookup of an existing dataset always happens, resuming or
    not: it is one query, and it is the only way to notice a dataset whose creation
    succeeded on the server while the reply was lost. ``web_url`` is the OMERO.web base
    address (``OMERO_WEB_URL``); without it the URL is None.

    The dataset's description is the planned one, followed by the elabFTW experiment's
    address once it exists; the record's payload keeps the description set, so that checks
    compare OMERO with what was sent.
    """
    provenance = dataset_provenance(project, record)
    planned = payload.get("description")
    description = with_elabftw_link(planned, provenance["elabftw_url"]) if planned is not None else None
    ref = ensure_dataset(conn, payload["dataset"], uid=record.uid,
                         key_values=payload.get("key_values") or [],
                         provenance=provenance, group=payload.get("group"),
                         project=payload.get("project"), project_link=payload.get("project_link"),
                         description=description, replaces=(planned or "",))
    if description is not None and description != planned:
        _keep_description(project, description)
    return ref.dataset_id, dataset_web_url(web_url, ref.dataset_id)


def _keep_description(project: Path, description: str) -> None:
    """Store the description sent to OMERO in the record's payload."""
    record = load_record(project)
    state = record.integration("omero")
    if state.payload is not None and state.payload.get("description") != description:
        state.payload = {**state.payload, "description": description}
        save_record(project, record)


def omero_web_base(session: Any) -> str | None:
    """The OMERO.web address configured for a Session, if any."""
    settings = session.omero_settings
    return getattr(settings, "web_url", None)
