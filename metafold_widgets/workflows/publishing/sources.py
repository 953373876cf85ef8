"""Facts read from the live systems for a package: the elabFTW experiment and the OMERO dataset.

A system is read only when the project has a record there and the session has it
configured; its failures become warnings, and what could not be read is listed as unknown.
The elabFTW exports and the OMERO tables are written into the package's staging folder.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from ...core.atomic import write_atomic
from ...core.spreadsheet import safe_frame
from ...errors import IntegrationError
from .context import FactContext

if TYPE_CHECKING:
    from ...adapters.elabftw import ElabftwClient

ELABFTW_FOLDER = "metadata_packages/elabftw"
OMERO_FOLDER = "metadata_packages/omero"


def _integration(ctx: FactContext, system: str) -> tuple[dict[str, Any], bool, str]:
    """The record's entry for ``system``, whether it can be read live, and why not."""
    entry = ctx.record.integration(system).to_dict() if system in ctx.record.integrations else {}
    name = "elabFTW" if system == "elabftw" else "OMERO"
    if entry.get("id") is None:
        return entry, False, f"the project has no {name} record (state: {entry.get('state', 'off')})"
    if ctx.session is None or not ctx.session.is_configured(system):
        return entry, False, f"{name} is not configured, so it was not read"
    return entry, True, ""


def elabftw_facts(ctx: FactContext, formats: Sequence[str]) -> dict[str, Any]:
    """The experiment's id, address and, when elabFTW can be read, its details and exports."""
    entry, live, reason = _integration(ctx, "elabftw")
    facts: dict[str, Any] = {
        "state": entry.get("state", "off"),
        "experiment_id": ctx.known(entry.get("id"), "data_sources.elabftw.experiment_id", reason or "not recorded"),
        "url": ctx.known(entry.get("url"), "data_sources.elabftw.url", reason or "no URL recorded"),
        "exports": [], "read_live": False}
    if not live:
        if entry.get("id") is not None:
            ctx.unknown.append({"field": "data_sources.elabftw.exports", "reason": reason})
        return facts
    _read_experiment(ctx, int(entry["id"]), facts)
    _export_experiment(ctx, int(entry["id"]), formats, facts)
    return facts


def _elabftw(ctx: FactContext) -> ElabftwClient:
    client = ctx.session.elabftw if ctx.session is not None else None
    assert client is not None  # _integration said elabFTW is configured
    return client


def _read_experiment(ctx: FactContext, experiment_id: int, facts: dict[str, Any]) -> None:
    client = _elabftw(ctx)
    try:
        experiment = client.get_experiment(experiment_id)
    except IntegrationError as exc:
        ctx.warnings.append(f"elabFTW: could not read experiment {experiment_id}: {exc}")
        return
    facts.update(read_live=True, title=experiment.get("title"), owner=experiment.get("fullname"),
                 created_at=experiment.get("created_at"), modified_at=experiment.get("modified_at"),
                 status=experiment.get("status_title"),
                 tags=[t for t in str(experiment.get("tags") or "").split("|") if t])


def _export_experiment(ctx: FactContext, experiment_id: int, formats: Sequence[str], facts: dict[str, Any]) -> None:
    client = _elabftw(ctx)
    folder = ctx.staging / ELABFTW_FOLDER
    for fmt in formats:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"experiment_{experiment_id}.{fmt}"
        try:
            size = client.export_to_file(experiment_id, fmt, target)
        except IntegrationError as exc:
            ctx.warnings.append(f"elabFTW: the {fmt} export of experiment {experiment_id} failed: {exc}")
            facts.setdefault("export_errors", []).append(f"{fmt}: {exc}")
        else:
            facts["exports"].append({"format": fmt, "file": f"{ELABFTW_FOLDER}/{target.name}", "size": size})
    if not facts["exports"]:
        reason = "no export could be downloaded" if formats else "no export was asked for"
        ctx.unknown.append({"field": "data_sources.elabftw.exports", "reason": reason})


def omero_facts(ctx: FactContext) -> dict[str, Any]:
    """The dataset's id, address and, when OMERO can be read, its image list and key-value pairs."""
    entry, live, reason = _integration(ctx, "omero")
    facts: dict[str, Any] = {
        "state": entry.get("state", "off"),
        "dataset_id": ctx.known(entry.get("id"), "data_sources.omero.dataset_id", reason or "not recorded"),
        "url": ctx.known(entry.get("url"), "data_sources.omero.url",
                         reason or "no URL recorded (OMERO_WEB_URL was not set when the dataset was made)"),
        "image_count": None, "total_pixels": None, "size_bytes": None, "files": [], "read_live": False}
    if live:
        _read_omero(ctx, int(entry["id"]), facts)
    if facts["image_count"] is None:
        ctx.unknown.append({"field": "data_sources.omero.image_count", "reason": reason or "OMERO could not be read"})
    ctx.unknown.append({"field": "data_sources.omero.size_bytes",
                        "reason": "OMERO does not report the size of the original files through the tables read here"})
    return facts


def _read_omero(ctx: FactContext, dataset_id: int, facts: dict[str, Any]) -> None:
    """Image list and key-value pairs of the dataset, via omero_tables (needs omero-py)."""
    try:
        from ...omero_tables import dataset_dataframe, metadata_dataframe
    except ImportError as exc:
        ctx.warnings.append(f"OMERO: the tables module is not available ({exc})")
        return
    try:
        conn = ctx.session.omero  # type: ignore[union-attr]
        images = dataset_dataframe(conn, dataset_id)
        pairs = metadata_dataframe(conn, "Dataset", dataset_id)
    except Exception as exc:  # a remote system's failure (OmeroError, Ice errors) must not stop the package
        ctx.warnings.append(f"OMERO: could not read dataset {dataset_id}: {type(exc).__name__}: {exc}")
        return
    folder = ctx.staging / OMERO_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for frame, suffix in ((images, "images"), (pairs, "key_values")):
        name = f"dataset_{dataset_id}_{suffix}.csv"
        write_atomic(folder / name, safe_frame(frame).to_csv(index=False))
        facts["files"].append(f"{OMERO_FOLDER}/{name}")
    facts.update(read_live=True, image_count=int(len(images)), total_pixels=_pixels(images))


def _pixels(images: Any) -> int | None:
    columns = ["size_x", "size_y", "size_z", "size_c", "size_t"]
    if len(images) == 0 or any(c not in images.columns for c in columns) or images[columns].isna().any().any():
        return None if len(images) else 0
    return int(images[columns].astype("int64").prod(axis=1).sum())
