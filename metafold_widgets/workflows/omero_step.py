"""The OMERO step of creating a project: one dataset, in a project, carrying the project's metadata."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .._version import __version__
from ..adapters.omero import dataset_web_url, ensure_dataset
from ..core.record import ProjectRecord


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
    """
    ref = ensure_dataset(conn, payload["dataset"], uid=record.uid,
                         key_values=payload.get("key_values") or [],
                         provenance=dataset_provenance(project, record), group=payload.get("group"),
                         project=payload.get("project"), project_link=payload.get("project_link"))
    return ref.dataset_id, dataset_web_url(web_url, ref.dataset_id)


def omero_web_base(session: Any) -> str | None:
    """The OMERO.web address configured for a Session, if any."""
    settings = session.omero_settings
    return getattr(settings, "web_url", None)
