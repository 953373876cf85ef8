"""Link a project's records to each other once they exist.

The OMERO dataset already names the elabFTW experiment in its provenance annotation when
elabFTW comes first (the usual order). This step adds the other direction: a url
custom field "OMERO dataset" on the experiment, visible to researchers in elabFTW.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..core.record import read_record, record_integration
from ..errors import IntegrationError
from ..session import Session

OMERO_LINK_FIELD = "OMERO dataset"


def link_records(session: Session, project: str | os.PathLike[str]) -> str | None:
    """Add the OMERO link to the elabFTW experiment when both exist; returns what went wrong, if anything."""
    path = Path(project)
    integrations = read_record(path).get("integrations", {})
    experiment, dataset = integrations.get("elabftw", {}), integrations.get("omero", {})
    if experiment.get("state") != "done" or dataset.get("state") != "done" or session.elabftw is None:
        return None
    target = dataset.get("url") or f"OMERO Dataset:id:{dataset.get('id')}"
    if experiment.get("linked_omero") == target:
        return None
    spec = {"type": "url" if dataset.get("url") else "text", "value": target,
            "description": "The OMERO dataset of this project (added by metafold-widgets)"}
    try:
        session.elabftw.add_extra_field(int(experiment["id"]), OMERO_LINK_FIELD, spec)
    except IntegrationError as exc:
        record_integration(path, "elabftw", action="cross-link", result="failed", error=f"linking OMERO: {exc}")
        return str(exc)
    record_integration(path, "elabftw", action="cross-link", result="done", linked_omero=target)
    return None
