"""Pixel data for the fake OMERO: a RawPixelsStore and planes computed on demand.

No plane is stored: ``synthetic_plane`` computes a plane from the image id, its z/c/t index and
the pixels' size and type, so a test can predict every value (``FakeBlitzGateway.plane``) and
memory stays small whatever the images' sizes. ``getPlane`` sends the plane as the server does:
big-endian bytes of the pixels type (ome.io.nio.RomioPixelBuffer), one round trip per call.
Out-of-range indexes fail as RomioPixelBuffer.checkBounds does ("Z '5' greater than sizeZ
'3'."), which RawPixelsBean.handleException turns into ApiUsageException; a store used before
``setPixelsId`` raises RawPixelsBean.errorIfNotLoaded's ApiUsageException; unknown or
invisible pixels raise ValidationException "Cannot read pixels id=..." (RawPixelsBean.setPixelsId).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import omero

__all__ = ["PIXEL_DTYPES", "synthetic_plane", "FakeRawPixelsStore"]

# OMERO's pixels type names (ome.model.enums.PixelsType) -> big-endian numpy types
PIXEL_DTYPES = {"bit": ">u1", "int8": ">i1", "uint8": ">u1", "int16": ">i2", "uint16": ">u2", "int32": ">i4",
                "uint32": ">u4", "float": ">f4", "double": ">f8"}


def synthetic_plane(seed: int, z: int, c: int, t: int, size_x: int, size_y: int, pixels_type: str) -> np.ndarray:
    """The plane (size_y, size_x) of an image, in its type (native byte order): a ramp along x
    and y offset by the image (``seed``) and the plane's z, c and t, wrapped to the type's range."""
    dtype = np.dtype(PIXEL_DTYPES[pixels_type]).newbyteorder("=")
    yy, xx = np.indices((size_y, size_x), dtype=np.int64)
    base = xx + 3 * yy + 7 * z + 11 * c + 13 * t + 17 * seed
    if pixels_type == "bit":
        return (base % 2).astype(dtype)
    if dtype.kind == "f":
        return (base % 4096).astype(dtype) / 4
    info = np.iinfo(dtype)
    span = int(info.max) - int(info.min) + 1
    return (base % span + int(info.min)).astype(dtype)


class FakeRawPixelsStore:
    """``omero.api.RawPixelsStorePrx`` for the fake: each call is one round trip."""

    def __init__(self, trip: Callable[[str], None], lookup: Callable[[int, Any], dict[str, Any] | None],
                 on_close: Callable[["FakeRawPixelsStore"], None]) -> None:
        self._trip, self._lookup, self._on_close = trip, lookup, on_close
        self._pixels: dict[str, Any] | None = None
        self.closed = False

    def _call(self, name: str) -> None:
        self._trip(f"RawPixelsStore.{name}")
        if self.closed:
            import Ice
            raise Ice.ObjectNotExistException(operation=name)

    def _loaded(self) -> dict[str, Any]:
        if self._pixels is None:
            raise omero.ApiUsageException(None, None, "This RawPixelsStore has not been properly initialized.\n"
                                          "Please set the pixels id before executing any other methods.\n")
        return self._pixels

    def setPixelsId(self, pixelsId: int, bypassOriginalFile: bool, ctx: Any = None) -> None:
        self._call("setPixelsId")
        found = self._lookup(int(pixelsId), ctx)
        if found is None:
            raise omero.ValidationException(None, None, f"Cannot read pixels id={int(pixelsId)}")
        self._pixels = found

    def getPixelsId(self, ctx: Any = None) -> int:
        self._call("getPixelsId")
        return int(self._loaded()["id"])

    def getPlane(self, z: int, c: int, t: int, ctx: Any = None) -> bytes:
        self._call("getPlane")
        pixels = self._loaded()
        for axis, value in (("Z", z), ("C", c), ("T", t)):
            size = pixels[f"size{axis}"]
            if value > size - 1 or value < 0:
                raise omero.ApiUsageException(None, None, f"{axis} '{value}' greater than size{axis} '{size}'.")
        plane = synthetic_plane(pixels["seed"], z, c, t, pixels["sizeX"], pixels["sizeY"], pixels["type"])
        return plane.astype(PIXEL_DTYPES[pixels["type"]]).tobytes()

    def getByteWidth(self, ctx: Any = None) -> int:
        self._call("getByteWidth")
        return int(np.dtype(PIXEL_DTYPES[self._loaded()["type"]]).itemsize)

    def getPlaneSize(self, ctx: Any = None) -> int:
        self._call("getPlaneSize")
        pixels = self._loaded()
        return int(pixels["sizeX"] * pixels["sizeY"] * np.dtype(PIXEL_DTYPES[pixels["type"]]).itemsize)

    def getRowSize(self, ctx: Any = None) -> int:
        self._call("getRowSize")
        pixels = self._loaded()
        return int(pixels["sizeX"] * np.dtype(PIXEL_DTYPES[pixels["type"]]).itemsize)

    def isSigned(self, ctx: Any = None) -> bool:
        self._call("isSigned")
        return np.dtype(PIXEL_DTYPES[self._loaded()["type"]]).kind in "if"

    def isFloat(self, ctx: Any = None) -> bool:
        self._call("isFloat")
        return np.dtype(PIXEL_DTYPES[self._loaded()["type"]]).kind == "f"

    def close(self, ctx: Any = None) -> None:
        self._call("close")
        self.closed = True
        self._on_close(self)
