"""The OMERO dataset's image count, pixel-data size, pixels types and formats for a package.

Read with one query (:func:`..adapters.omero_sizes.dataset_size`) when the project has a dataset
and the session has OMERO configured; a failure is a warning and the values stay unknown,
with the reason. The group the dataset was made in comes from the record's plan.
"""
from __future__ import annotations

from typing import Any

from ...errors import IntegrationError
from .context import FactContext

SIZE_FIELDS = ("data_sources.omero.image_count", "data_sources.omero.size_bytes")


def add_pixel_sizes(ctx: FactContext, omero: dict[str, Any]) -> dict[str, Any]:
    """``omero`` (the dataset's facts) with ``size_bytes``, ``total_pixels``, ``pixels_types``,
    ``formats``, ``image_ids`` (read from the server where it can be), ``group`` and ``server``
    (host and port, no credentials) filled in."""
    entry = ctx.record.integration("omero") if "omero" in ctx.record.integrations else None
    payload = (entry.payload or {}) if entry is not None else {}
    settings = ctx.session.omero_settings if ctx.session is not None else None
    omero.update(group=payload.get("group") or ctx.answers.get("omero_group") or None,
                 dataset_name=payload.get("dataset"), pixels_types=[], formats=[], image_ids=[],
                 server=f"{settings.host}:{settings.port}" if settings else None,
                 server_host=settings.host if settings else None)
    dataset_id = omero.get("dataset_id")
    reason = "the project has no OMERO dataset" if dataset_id is None else "OMERO is not configured, so it was not read"
    if dataset_id is not None and ctx.session is not None and ctx.session.is_configured("omero"):
        reason = _read(ctx, int(dataset_id), omero)
    _note_unknown(ctx, omero, reason)
    return omero


def _read(ctx: FactContext, dataset_id: int, omero: dict[str, Any]) -> str:
    """Fill ``omero`` from the one query; returns why the values stay unknown when it fails."""
    from ...adapters.omero_sizes import dataset_size
    try:
        size = dataset_size(ctx.session.omero, dataset_id)  # type: ignore[union-attr]
    except IntegrationError as exc:
        ctx.warnings.append(f"OMERO: could not read the pixel sizes of dataset {dataset_id}: {exc}")
        return f"OMERO could not be read ({exc})"
    except Exception as exc:  # a remote system's failure (Ice errors...) must not stop the package
        ctx.warnings.append(f"OMERO: could not read the pixel sizes of dataset {dataset_id}: "
                            f"{type(exc).__name__}: {exc}")
        return "OMERO could not be read"
    omero.update(image_count=size.image_count, total_pixels=size.pixel_count, size_bytes=size.size_bytes,
                 pixels_types=size.pixels_types, formats=size.formats, image_ids=size.image_ids)
    if size.size_bytes is None:
        return f"a pixels type has no known size ({', '.join(size.pixels_types)})"
    return ""


def _note_unknown(ctx: FactContext, omero: dict[str, Any], reason: str) -> None:
    """Replace the entries the dataset's facts noted for count and size by what is known now."""
    ctx.unknown[:] = [u for u in ctx.unknown if u["field"] not in SIZE_FIELDS]
    for path in SIZE_FIELDS:
        if omero.get(path.rsplit(".", 1)[1]) is None:
            ctx.unknown.append({"field": path, "reason": reason or "OMERO could not be read"})
