"""How many images an OMERO dataset holds and how big their pixel data are, in one query.

One HQL projection returns, for every image of the dataset, its pixel dimensions and pixels
type (and name and format, for the formats a statement lists); nothing is fetched image by
image. The query's paths follow OMERO's model (omero-model v5.6.15,
``src/main/resources/mappings/acquisition.ome.xml``: ``Pixels.image``, ``Pixels.pixelsType``,
``Pixels.sizeX..sizeT``, ``Image.datasetLinks``, ``Image.format``; ``containers.ome.xml``:
``DatasetImageLink.parent``; the enumeration ``PixelsType.value``).

The size is that of the uncompressed pixel data (x * y * z * c * t * bits of the pixels type),
what the image occupies once read; the original files' size can differ (compression,
container overhead). omero-py is imported lazily; callers without it get OmeroError.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .omero import project_by_id

# Pixels p -> p.image -> i.datasetLinks (DatasetImageLink) -> l.parent (Dataset): one row per image.
# pt: the pixels type enumeration (its value: "uint16"...); f: Image.format, often unset since
# OMERO 5 keeps the format on the fileset, hence the left join.
DATASET_PIXELS_HQL = (
    "select i.id, i.name, p.sizeX, p.sizeY, p.sizeZ, p.sizeC, p.sizeT, pt.value, f.value "
    "from Pixels p join p.image i join i.datasetLinks l join p.pixelsType pt left outer join i.format f "
    "where l.parent.id = :id")

# bits per pixel of OMERO's pixels types (ome.model.enums.PixelsType entries, acquisition.ome.xml)
BITS_PER_PIXEL = {"bit": 1, "int8": 8, "uint8": 8, "int16": 16, "uint16": 16, "int32": 32, "uint32": 32,
                  "float": 32, "double": 64, "complex": 64, "double-complex": 128}

_SERIES_SUFFIX = re.compile(r"\s*\[[^\]]*\]\s*$")  # "file.lif [Series 3]": the series of a multi-image file


@dataclass(frozen=True)
class ImagePixels:
    """One image's pixels: dimensions (x, y, z, c, t), pixels type, name and format as OMERO has them."""

    image_id: int
    name: str | None
    size: tuple[int, int, int, int, int]
    pixels_type: str | None
    format: str | None = None

    @property
    def pixel_count(self) -> int:
        """x * y * z * c * t."""
        x, y, z, c, t = self.size
        return x * y * z * c * t

    @property
    def size_bytes(self) -> int | None:
        """Bytes of uncompressed pixel data, or None for a pixels type this module does not know."""
        bits = BITS_PER_PIXEL.get(self.pixels_type or "")
        return None if bits is None else (self.pixel_count * bits + 7) // 8


@dataclass(frozen=True)
class DatasetSize:
    """What a dataset's images add up to. ``size_bytes`` is None when any image's pixels type is unknown."""

    dataset_id: int
    image_count: int
    pixel_count: int
    size_bytes: int | None
    pixels_types: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    image_ids: list[int] = field(default_factory=list)


def dataset_size(conn: Any, dataset_id: int) -> DatasetSize:
    """Image count, pixel count, pixel-data size, pixels types and formats of a dataset: one round trip.

    The dataset is read in all the user's groups (``omero.group=-1``), wherever it lives.
    Raises OmeroError when omero-py is missing or the server refuses.
    """
    return summarize(int(dataset_id), dataset_pixels(conn, dataset_id))


def dataset_pixels(conn: Any, dataset_id: int) -> list[ImagePixels]:
    """Every image of the dataset with its pixels (one projection query)."""
    rows = project_by_id(conn, DATASET_PIXELS_HQL, dataset_id, f"read the pixel sizes of dataset {dataset_id}")
    return [_image(row) for row in rows]


def summarize(dataset_id: int, images: Iterable[ImagePixels]) -> DatasetSize:
    """Add up images (an image with several Pixels rows counts once, its pixels every time)."""
    seen: dict[int, None] = {}
    pixel_count, size, known = 0, 0, True
    types: set[str] = set()
    formats: dict[str, None] = {}
    for image in images:
        seen.setdefault(image.image_id, None)
        pixel_count += image.pixel_count
        image_bytes = image.size_bytes
        known = known and image_bytes is not None
        size += image_bytes or 0
        if image.pixels_type:
            types.add(image.pixels_type)
        for found in (image.format, name_format(image.name)):
            if found:
                formats.setdefault(found, None)
    return DatasetSize(dataset_id, len(seen), pixel_count, size if known else None, sorted(types),
                       sorted(formats, key=str.lower), sorted(seen))


def name_format(name: str | None) -> str | None:
    """The file format an image name shows (``cell_01.ome.tif [Series 1]`` -> ``OME-TIFF``... ``TIF``),
    or None when the name has no extension."""
    if not name:
        return None
    base = _SERIES_SUFFIX.sub("", name).strip()
    lowered = base.lower()
    for double, label in ((".ome.tiff", "OME-TIFF"), (".ome.tif", "OME-TIFF"), (".ome.zarr", "OME-Zarr")):
        if lowered.endswith(double):
            return label
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem or not extension.isalnum() or len(extension) > 8:
        return None
    return extension.upper()


def _image(row: Sequence[Any]) -> ImagePixels:
    values = [_plain(value) for value in row]
    size = tuple(int(v) if v is not None else 0 for v in values[2:7])
    return ImagePixels(int(values[0]), values[1], size,  # type: ignore[arg-type]
                       values[7], values[8] if len(values) > 8 else None)


def _plain(value: Any) -> Any:
    """The Python value of an omero.rtypes value (None stays None)."""
    return value.getValue() if value is not None and hasattr(value, "getValue") else value
