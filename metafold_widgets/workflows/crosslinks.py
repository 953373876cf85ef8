"""Link a project's records to each other once they exist.

The OMERO dataset names the elabFTW experiment in its provenance annotation (written at
creation when elabFTW came first, the usual order, and refreshed here when elabFTW came
later, e.g. by a resume). The experiment gets a url custom field "OMERO dataset",
visible to researchers in elabFTW.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..core.record import ProjectRecord, load_record, record_integration
from ..errors import IntegrationError
from ..session import Session
from .omero_step import omero_web_base, push_dataset

OMERO_LINK_FIELD = "OMERO dataset"


def link_records(session: Session, project: str | os.PathLike[str]) -> str | None:
    """Link the experiment and the dataset to each other when both exist; returns what went wrong, if anything."""
    path = Path(project)
    record = load_record(path)
    experiment, dataset = record.integration("elabftw"), record.integration("omero")
    if not experiment.done or not dataset.done:
        return None
    problem = _name_experiment_in_dataset(session, path, record)
    if session.elabftw is None:
        return problem
    target = dataset.url or f"OMERO Dataset:id:{dataset.id}"
    if experiment.get("linked_omero") == target:
        return None
    spec = {"type": "url" if dataset.url else "text", "value": target,
            "description": "The OMERO dataset of this project (added by metafold-widgets)"}
    try:
        session.elabftw.add_extra_field(int(experiment.id), OMERO_LINK_FIELD, spec)
    except IntegrationError as exc:
        record_integration(path, "elabftw", action="cross-link", result="failed", error=f"linking OMERO: {exc}")
        return str(exc)
    record_integration(path, "elabftw", action="cross-link", result="done", linked_omero=target)
    return problem


def _name_experiment_in_dataset(session: Session, path: Path, record: ProjectRecord) -> str | None:
    """Refresh the dataset's provenance when it does not name the experiment yet."""
    experiment, dataset = record.integration("elabftw"), record.integration("omero")
    if dataset.get("linked_elabftw") == experiment.url or not session.is_configured("omero"):
        return None
    try:
        push_dataset(session.omero, path, record, dataset.payload or {}, resuming=True,
                     web_url=omero_web_base(session))
    except IntegrationError as exc:
        record_integration(path, "omero", action="cross-link", result="failed", error=f"linking elabFTW: {exc}")
        return str(exc)
    record_integration(path, "omero", action="cross-link", result="done", linked_elabftw=experiment.url)
    return None
