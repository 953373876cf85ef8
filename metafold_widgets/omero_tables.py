"""OMERO datasets and projects as pandas tables: one row per image, one column per key.

Reading a dataset costs a constant number of round trips per page of images, whatever
the number of images or key-value pairs: one projection query for a page of images
(name, acquisition date, sizes, physical pixel sizes) and one for all the map-annotation
pairs of those images. The per-image pattern (load the image, list its annotations, load
each annotation) costs three or more round trips per image instead.

Rules for the key columns:

* one column per key, in the order keys are first met; ``ns`` restricts the annotations
  read to one namespace (default: all map annotations);
* long values that were split by the 1 KiB rule (``key``, ``key (2)``, ...) are joined back;
* a key that occurs several times for one image (repeated in one annotation, or in several
  annotations) gets its values joined with ``"; "``, in annotation-id order, then pair order;
* a key that equals a fixed column name (``image_id``...) is renamed ``kv:<key>``.

Reads use the group context ``-1`` (all the user's groups), so a dataset is found whichever
of them it lives in.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .adapters.omero import import_omero
from .adapters.omero_pairs import join_continuations

if TYPE_CHECKING:  # pandas is a core dependency, imported when a table is built
    import pandas as pd

DEFAULT_PAGE_SIZE = 1000
VALUE_SEPARATOR = "; "
IMAGE_COLUMNS = ("image_id", "image_name", "acquisition_date", "size_x", "size_y", "size_z", "size_c", "size_t",
                 "physical_size_x", "physical_size_x_unit", "physical_size_y", "physical_size_y_unit",
                 "physical_size_z", "physical_size_z_unit")
DATASET_COLUMNS = ("dataset_id", "dataset_name")
METADATA_COLUMNS = ("namespace", "annotation_id", "key", "value")
OBJECT_TYPES = ("Project", "Dataset", "Image")

IMAGES_OF_DATASET_HQL = (
    "select img.id, img.name, img.acquisitionDate, pix from DatasetImageLink link "
    "join link.child img left outer join img.pixels pix "
    "where link.parent.id = :id order by img.id")
IMAGES_OF_PROJECT_HQL = (
    "select ds.id, ds.name, img.id, img.name, img.acquisitionDate, pix from ProjectDatasetLink plink "
    "join plink.child ds join ds.imageLinks link join link.child img left outer join img.pixels pix "
    "where plink.parent.id = :id order by ds.id, img.id")


def key_values_hql(object_type: str, with_ns: bool) -> str:
    """The one query that reads every map annotation of many objects of ``object_type``.

    The annotation links with their annotation fetched, whose ``getMapValue()`` gives the
    pairs in their stored order: the way OMERO's own clients read map annotations (no OMERO
    code selects ``index()`` of ``mapValue``).
    """
    if object_type not in OBJECT_TYPES:
        raise ValueError(f"object type must be one of {', '.join(OBJECT_TYPES)}, not {object_type!r}")
    return (f"select link from {object_type}AnnotationLink link join fetch link.child ann "
            f"where link.parent.id in (:ids)" + (" and ann.ns = :ns" if with_ns else "")
            + " order by link.parent.id, ann.id")


def dataset_dataframe(conn: Any, dataset_id: int, ns: str | None = None,
                      page_size: int = DEFAULT_PAGE_SIZE) -> "pd.DataFrame":
    """One row per image of the dataset: ids, name, date, sizes, pixel sizes, then one column per key."""
    rows = _image_pages(conn, IMAGES_OF_DATASET_HQL, dataset_id, ns, page_size, dataset_columns=False)
    return _frame(rows, IMAGE_COLUMNS)


def project_dataframe(conn: Any, project_id: int, ns: str | None = None,
                      page_size: int = DEFAULT_PAGE_SIZE) -> "pd.DataFrame":
    """Like :func:`dataset_dataframe` for every dataset of a project, with dataset id and name first.

    An image in two datasets of the project appears once per dataset.
    """
    rows = _image_pages(conn, IMAGES_OF_PROJECT_HQL, project_id, ns, page_size, dataset_columns=True)
    return _frame(rows, DATASET_COLUMNS + IMAGE_COLUMNS)


def metadata_dataframe(conn: Any, object_type: str, object_id: int, ns: str | None = None) -> "pd.DataFrame":
    """The key-value pairs on one Project, Dataset or Image: namespace, annotation id, key, value.

    For a project's dataset this is the project's own metadata (the researcher's pairs and
    the provenance); one row per pair, in annotation then pair order, long values joined.
    """
    import_omero()
    import pandas as pd
    ctx = _read_context(conn)
    per_object = _key_value_rows(conn, object_type, [object_id], ns, ctx)
    records = [{"namespace": namespace, "annotation_id": annotation_id, "key": key, "value": value}
               for annotation_id, namespace, pairs in per_object.get(int(object_id), [])
               for key, value in pairs]
    return pd.DataFrame(records, columns=list(METADATA_COLUMNS))


# --- reading ----------------------------------------------------------------------------

def _read_context(conn: Any) -> Any:
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup("-1")
    return ctx


def _image_pages(conn: Any, hql: str, parent_id: int, ns: str | None, page_size: int,
                 dataset_columns: bool) -> list[dict[str, Any]]:
    """Every image row, page by page: two queries per page."""
    import_omero()
    from omero.sys import ParametersI
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    ctx = _read_context(conn)
    query = conn.getQueryService()
    records: list[dict[str, Any]] = []
    offset = 0
    while True:
        params = ParametersI()
        params.addId(int(parent_id))
        params.page(offset, page_size)
        rows = query.projection(hql, params, ctx)
        if not rows:
            break
        page = [_image_record(row[2:] if dataset_columns else row) for row in rows]
        if dataset_columns:
            for record, row in zip(page, rows):
                record["dataset_id"], record["dataset_name"] = _val(row[0]), _val(row[1])
        image_ids = list(dict.fromkeys(record["image_id"] for record in page))
        pairs = _key_value_rows(conn, "Image", image_ids, ns, ctx)
        for record in page:
            record.update(_key_columns(pairs.get(record["image_id"], [])))
        records.extend(page)
        if len(rows) < page_size:
            break
        offset += page_size
    return records


def _key_value_rows(conn: Any, object_type: str, object_ids: Sequence[int], ns: str | None,
                    ctx: Any) -> dict[int, list[tuple[int, str | None, list[tuple[str, str]]]]]:
    """Per object id: its map annotations as (annotation id, namespace, logical pairs); one query."""
    from omero.rtypes import rstring
    from omero.sys import ParametersI
    if not object_ids:
        return {}
    params = ParametersI()
    params.addIds([int(i) for i in object_ids])
    if ns is not None:
        params.map["ns"] = rstring(ns)
    links = conn.getQueryService().findAllByQuery(key_values_hql(object_type, ns is not None), params, ctx)
    result: dict[int, list[tuple[int, str | None, list[tuple[str, str]]]]] = {}
    seen: set[tuple[int, int]] = set()
    for link in sorted(links, key=lambda lk: (_val(lk.getParent().getId()), _val(lk.getChild().getId()))):
        annotation = link.getChild()
        if not hasattr(annotation, "getMapValue"):  # tags, comments, files...: not key-value pairs
            continue
        object_id, annotation_id = int(_val(link.getParent().getId())), int(_val(annotation.getId()))
        if (object_id, annotation_id) in seen:
            continue
        seen.add((object_id, annotation_id))
        stored = [(nv.name, nv.value if nv.value is not None else "") for nv in annotation.getMapValue() or []]
        result.setdefault(object_id, []).append((annotation_id, _val(annotation.getNs()),
                                                 join_continuations(stored)))
    return result


def _key_columns(annotations: Iterable[tuple[int, str | None, list[tuple[str, str]]]]) -> dict[str, str]:
    values: dict[str, list[str]] = {}
    for _annotation_id, _namespace, pairs in annotations:
        for key, value in pairs:
            values.setdefault(f"kv:{key}" if key in _FIXED else key, []).append(value)
    return {key: VALUE_SEPARATOR.join(items) for key, items in values.items()}


_FIXED = frozenset(IMAGE_COLUMNS + DATASET_COLUMNS)


def _image_record(row: Sequence[Any]) -> dict[str, Any]:
    """Image id, name, date (ms since 1970), sizes and physical sizes from one projection row."""
    pixels = _val(row[3])
    record: dict[str, Any] = {"image_id": _val(row[0]), "image_name": _val(row[1]), "acquisition_date": _val(row[2])}
    for axis in "xyzct":
        record[f"size_{axis}"] = _val(getattr(pixels, f"getSize{axis.upper()}")()) if pixels is not None else None
    for axis in "xyz":
        length = getattr(pixels, f"getPhysicalSize{axis.upper()}")() if pixels is not None else None
        record[f"physical_size_{axis}"] = length.getValue() if length is not None else None
        record[f"physical_size_{axis}_unit"] = length.getSymbol() if length is not None else None
    return record


def _val(value: Any) -> Any:
    """The Python value of an omero.rtypes value (None stays None)."""
    return value.getValue() if value is not None and hasattr(value, "getValue") else value


def _frame(records: list[dict[str, Any]], fixed: Sequence[str]) -> "pd.DataFrame":
    import pandas as pd
    keys = list(dict.fromkeys(key for record in records for key in record if key not in _FIXED))
    frame = pd.DataFrame.from_records(records, columns=list(fixed) + keys)
    frame["acquisition_date"] = pd.to_datetime(frame["acquisition_date"], unit="ms", utc=True)
    for column in ("image_id", "dataset_id", "size_x", "size_y", "size_z", "size_c", "size_t"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    for axis in "xyz":
        frame[f"physical_size_{axis}"] = frame[f"physical_size_{axis}"].astype("float64")
    return frame
