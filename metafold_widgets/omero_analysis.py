"""The analysis loop of an OMERO dataset: read its images' planes as numpy arrays, measure them,
and write the results back onto the images as key-value pairs.

* :func:`dataset_images` lists the images with their pixels (sizes, type) in one query per page.
* :func:`iter_planes` yields one plane at a time as a numpy array, read through one
  ``RawPixelsStore`` (one round trip per plane, one per image to point it at its pixels), so
  memory stays at one plane whatever the dataset's size.
* :func:`measure_dataset` runs a function on every plane and returns a DataFrame.
* :func:`annotate_images` turns a DataFrame with an image-id column into one map annotation per
  image, in a namespace of the caller's choice; annotations this user made earlier in that
  namespace on those images are replaced, nobody else's are touched. A batch of images costs
  four round trips (their groups, the earlier annotations, deleting those, saving the new
  ones), never one per image.

Progress callbacks take ``(done, total, message)`` like the rest of the product (a
``ProgressBar``'s ``update`` in a notebook).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from .adapters.omero import CLIENT_NS, PRODUCT_NS, import_omero, server_call
from .adapters.omero_pairs import split_long_values
from .errors import OmeroError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Progress = Callable[[int, int, str], None]
DEFAULT_BATCH = 500
DEFAULT_PAGE_SIZE = 1000
# OMERO's pixel type names -> numpy dtypes, big-endian as RawPixelsStore sends them
PIXEL_DTYPES = {"int8": ">i1", "uint8": ">u1", "int16": ">i2", "uint16": ">u2", "int32": ">i4", "uint32": ">u4",
                "float": ">f4", "double": ">f8", "bit": ">u1"}

IMAGES_WITH_PIXELS_HQL = (
    "select img.id, img.name, pix.id, pix.sizeX, pix.sizeY, pix.sizeZ, pix.sizeC, pix.sizeT, pt.value "
    "from DatasetImageLink link join link.child img join img.pixels pix join pix.pixelsType pt "
    "where link.parent.id = :id order by img.id")
IMAGE_GROUPS_HQL = "select img.id, img.details.group.id from Image img where img.id in (:ids)"
OWN_ANNOTATIONS_HQL = (
    "select link from ImageAnnotationLink link join fetch link.child ann "
    "where link.parent.id in (:ids) and ann.ns = :ns and ann.details.owner.id = :owner")


@dataclass(frozen=True)
class ImagePixels:
    """An image and the shape and type of its pixels."""

    image_id: int
    name: str
    pixels_id: int
    size_x: int
    size_y: int
    size_z: int
    size_c: int
    size_t: int
    pixels_type: str

    @property
    def planes(self) -> int:
        """How many planes the image has."""
        return self.size_z * self.size_c * self.size_t


@dataclass(frozen=True)
class AnnotationResult:
    """What :func:`annotate_images` did."""

    images: int
    saved: int
    replaced: int
    namespace: str


def dataset_images(conn: Any, dataset_id: int, page_size: int = DEFAULT_PAGE_SIZE) -> list[ImagePixels]:
    """The dataset's images with their pixels, by image id (one query per page of images)."""
    import_omero()
    from omero.sys import ParametersI
    ctx = _all_groups(conn)
    images: list[ImagePixels] = []
    offset = 0
    while True:
        params = ParametersI()
        params.addId(int(dataset_id))
        params.page(offset, page_size)
        rows = server_call(partial(conn.getQueryService().projection, IMAGES_WITH_PIXELS_HQL, params, ctx),
                           "list the dataset's images")
        images.extend(ImagePixels(*(_val(value) for value in row)) for row in rows)
        if len(rows) < page_size:
            return images
        offset += page_size


def iter_planes(conn: Any, images: Iterable[ImagePixels], *, z: Sequence[int] | None = None,
                c: Sequence[int] | None = None, t: Sequence[int] | None = None,
                progress: Progress | None = None) -> Iterator[tuple[ImagePixels, int, int, int, np.ndarray]]:
    """Yield ``(image, z, c, t, plane)`` for the chosen planes of every image, one at a time.

    ``z``/``c``/``t`` choose indexes (all by default; indexes an image lacks are skipped).
    ``plane`` is a ``(size_y, size_x)`` array in the image's own type.
    """
    import numpy as np
    images = list(images)
    total = sum(len(_axis(z, i.size_z)) * len(_axis(c, i.size_c)) * len(_axis(t, i.size_t)) for i in images)
    done = 0
    store = server_call(conn.createRawPixelsStore, "open a pixels store")
    try:
        for image in images:
            dtype = PIXEL_DTYPES.get(image.pixels_type)
            if dtype is None:
                raise OmeroError(f"image {image.image_id}: pixels of type {image.pixels_type!r} cannot be read")
            server_call(partial(store.setPixelsId, image.pixels_id, True, _all_groups(conn)),
                        f"open the pixels of image {image.image_id}")
            for tt in _axis(t, image.size_t):
                for cc in _axis(c, image.size_c):
                    for zz in _axis(z, image.size_z):
                        raw = server_call(partial(store.getPlane, zz, cc, tt),
                                          f"read a plane of image {image.image_id}")
                        plane = np.frombuffer(raw, dtype=dtype).reshape(image.size_y, image.size_x)
                        done += 1
                        if progress is not None:
                            progress(done, total, image.name)
                        yield image, zz, cc, tt, plane.astype(plane.dtype.newbyteorder("="))
    finally:
        try:
            store.close()
        except Exception:  # closing must not hide what went wrong
            pass


def measure_dataset(conn: Any, dataset_id: int, measure: Callable[[np.ndarray], Mapping[str, Any]], *,
                    z: Sequence[int] | None = None, c: Sequence[int] | None = None, t: Sequence[int] | None = (0,),
                    progress: Progress | None = None) -> pd.DataFrame:
    """``measure(plane)`` for every chosen plane of the dataset's images: one row per plane with
    ``image_id``, ``image_name``, ``z``, ``c``, ``t`` and the measurement's columns."""
    import pandas as pd
    rows = []
    for image, zz, cc, tt, plane in iter_planes(conn, dataset_images(conn, dataset_id), z=z, c=c, t=t,
                                                progress=progress):
        rows.append({"image_id": image.image_id, "image_name": image.name, "z": zz, "c": cc, "t": tt,
                     **dict(measure(plane))})
    return pd.DataFrame(rows, columns=None if rows else ["image_id", "image_name", "z", "c", "t"])


def annotate_images(conn: Any, table: pd.DataFrame, *, namespace: str, columns: Sequence[str] | None = None,
                    id_column: str = "image_id", batch_size: int = DEFAULT_BATCH,
                    progress: Progress | None = None) -> AnnotationResult:
    """One map annotation per row of ``table`` on the image named by ``id_column``.

    ``columns`` are written as key-value pairs (all but the id column by default; empty
    values are left out). Each image's annotation in ``namespace`` that this user wrote
    earlier is replaced; annotations of other users or namespaces stay. Annotations are
    written in their image's group, saved ``batch_size`` images at a time.
    """
    import_omero()
    if not namespace or namespace in (CLIENT_NS, PRODUCT_NS):
        raise ValueError("choose a namespace of your own for the results (not OMERO.web's editable one, "
                         "nor the project's provenance), e.g. 'lab.example.org/analysis/nuclei'")
    if id_column not in table.columns:
        raise ValueError(f"the table has no {id_column!r} column naming the images")
    ids = table[id_column]
    if ids.isna().any():
        raise ValueError(f"the {id_column!r} column has empty cells")
    if ids.duplicated().any():
        repeated = sorted({int(i) for i in ids[ids.duplicated()]})[:5]
        raise ValueError(f"one row per image is needed; images repeated: {repeated} (aggregate the table first)")
    chosen = [col for col in (columns if columns is not None else table.columns) if col != id_column]
    missing = [col for col in chosen if col not in table.columns]
    if missing:
        raise ValueError(f"the table has no column {missing[0]!r}")
    rows = [(int(row[id_column]), _pairs(row, chosen)) for row in table.to_dict("records")]
    user_id = int(conn.getEventContext().userId)
    saved = replaced = 0
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        replaced += _remove_own(conn, [image_id for image_id, _ in batch], namespace, user_id)
        saved += _save_batch(conn, batch, namespace)
        if progress is not None:
            progress(min(start + batch_size, len(rows)), len(rows), f"annotated {saved} images")
    return AnnotationResult(len(rows), saved, replaced, namespace)


# --- helpers ------------------------------------------------------------------------------

def _axis(chosen: Sequence[int] | None, size: int) -> list[int]:
    return list(range(size)) if chosen is None else [i for i in chosen if 0 <= i < size]


def _pairs(row: Mapping[str, Any], columns: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for column in columns:
        value = row[column]
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            continue
        pairs.append((str(column), _text(value)))
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


def _remove_own(conn: Any, image_ids: list[int], namespace: str, user_id: int) -> int:
    """Delete this user's earlier annotations in ``namespace`` on these images; how many."""
    from omero.rtypes import rlong, rstring
    from omero.sys import ParametersI
    params = ParametersI()
    params.addIds(image_ids)
    params.map.update({"ns": rstring(namespace), "owner": rlong(user_id)})
    links = server_call(lambda: conn.getQueryService().findAllByQuery(OWN_ANNOTATIONS_HQL, params, _all_groups(conn)),
                  "look for earlier results on the images")
    annotation_ids = sorted({int(_val(link.getChild().getId())) for link in links})
    if annotation_ids:
        server_call(lambda: conn.deleteObjects("Annotation", annotation_ids, wait=True), "remove the earlier results")
    return len(annotation_ids)


def _save_batch(conn: Any, batch: list[tuple[int, list[tuple[str, str]]]], namespace: str) -> int:
    """Save one annotation per image, in each image's group (one save per group)."""
    from omero.model import ImageAnnotationLinkI, ImageI, MapAnnotationI, NamedValue
    from omero.rtypes import rstring
    from omero.sys import ParametersI
    params = ParametersI()
    params.addIds([image_id for image_id, _ in batch])
    rows = server_call(lambda: conn.getQueryService().projection(IMAGE_GROUPS_HQL, params, _all_groups(conn)),
                 "find the images' groups")
    groups = {int(_val(row[0])): int(_val(row[1])) for row in rows}
    absent = [image_id for image_id, _ in batch if image_id not in groups]
    if absent:
        raise OmeroError(f"OMERO images {absent[:5]} do not exist or are not visible to you")
    by_group: dict[int, list[Any]] = {}
    for image_id, pairs in batch:
        annotation = MapAnnotationI()
        annotation.setNs(rstring(namespace))
        annotation.setMapValue([NamedValue(k, v) for k, v in split_long_values(pairs)])
        link = ImageAnnotationLinkI()
        link.setParent(ImageI(image_id, False))
        link.setChild(annotation)
        by_group.setdefault(groups[image_id], []).append(link)
    for group_id, links in by_group.items():
        ctx = conn.SERVICE_OPTS.copy()
        ctx.setOmeroGroup(group_id)
        server_call(partial(conn.getUpdateService().saveAndReturnArray, links, ctx),
                    "save the results on the images")
    return len(batch)


def _all_groups(conn: Any) -> Any:
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup("-1")
    return ctx


def _val(value: Any) -> Any:
    return value.getValue() if value is not None and hasattr(value, "getValue") else value

