"""The elabFTW step of creating a project: one experiment with the project's metadata."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..adapters.elabftw import ElabftwClient
from ..core.formats.elabftw import PROVENANCE_KEY
from ..core.record import ProjectRecord


def experiment_marker(record: ProjectRecord) -> str:
    """The unique text that identifies this project's experiment (makes creation idempotent).

    Letters and digits only, so that every elabFTW release finds it with a quoted search.
    """
    return "metafold" + "".join(ch for ch in record.uid if ch.isascii() and ch.isalnum())


def legacy_marker(record: ProjectRecord) -> str:
    """The marker of projects created by metafold-widgets 0.1 (looked up too when resuming them)."""
    return f"metafold-project:{record.uid}"


def push_experiment(client: ElabftwClient, project: Path, record: ProjectRecord,
                    payload: Mapping[str, Any], resuming: bool = False,
                    warnings: list[str] | None = None) -> tuple[int, str]:
    """Create (or, when resuming, find) the project's experiment and its links; returns (id, url).

    What was created only in part (tags the team does not let users create) is added to ``warnings``.
    """
    metadata = dict(payload["metadata"])
    metadata[PROVENANCE_KEY] = {**metadata.get(PROVENANCE_KEY, {}), "project_path": str(project),
                                "project_uid": record.uid}
    experiment_id = client.create_experiment(
        payload["title"], marker=experiment_marker(record), body=payload.get("body", ""),
        category=payload.get("category"), status=payload.get("status"), tags=payload.get("tags", ()),
        metadata=metadata, check_existing=resuming, aliases=(legacy_marker(record),) if resuming else (),
        on_warning=None if warnings is None else warnings.append)
    client.link_metadata_targets(experiment_id, metadata)
    return experiment_id, client.web_url(experiment_id)
