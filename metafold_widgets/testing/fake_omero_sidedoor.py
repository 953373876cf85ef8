"""The test's side door into the fake OMERO's store: make and inspect data without round trips.

``FakeBlitzGateway`` mixes this in. Objects made here are stored as the server would store
them (ids from their sequence, details with owner, group and an Event), owned by the session
user unless ``owner`` names another experimenter (made on first use), in the group given, or
the group of the object they go into, or the session's group.
"""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Iterable, Sequence

import numpy as np
import omero.model
from omero.model import (
    DatasetI,
    DimensionOrderI,
    ImageI,
    LengthI,
    MapAnnotationI,
    NamedValue,
    PixelsI,
    PixelsTypeI,
    ProjectI,
)
from omero.model import enums as omero_enums
from omero.rtypes import rint, rlong, rstring, rtime

from .fake_omero_pixels import PIXEL_DTYPES, synthetic_plane
from .fake_omero_save import links_of, unload
from .fake_omero_store import Store, kind_of

__all__ = ["SideDoor", "CLIENT_NS"]

CLIENT_NS = "openmicroscopy.org/omero/client/mapAnnotation"


class SideDoor:
    """Side-door methods (no round trips) over ``self.store``."""

    store: Store
    user_id: int

    def _session_group_id(self) -> int:
        raise NotImplementedError

    # --- making objects ------------------------------------------------------------------------

    def _insert(self, obj: Any, group: int | None, owner: int | None = None) -> int:
        group = group if group is not None else self._session_group_id()
        owner = owner if owner is not None else self.user_id
        obj.setId(rlong(self.store.next_id(kind_of(obj))))
        self.store.stamp(obj, owner, group, self.store.event(owner, group))
        self.store.put(unload(obj, self.store))
        return obj.getId().getValue()

    def add_project(self, name: str, group: int | None = None, owner: int | None = None) -> int:
        """A project made in OMERO.web by someone: its id."""
        project = ProjectI()
        project.setName(rstring(name))
        return self._insert(project, group, owner)

    def add_dataset(self, name: str, project_id: int | None = None, group: int | None = None,
                    owner: int | None = None) -> int:
        """A dataset (in ``project_id`` when given, and then in its group): its id."""
        if group is None and project_id is not None:
            group = self.group_of("Project", project_id)
        dataset = DatasetI()
        dataset.setName(rstring(name))
        dataset_id = self._insert(dataset, group, owner)
        if project_id is not None:
            self.link("ProjectDatasetLink", project_id, dataset_id, owner=owner)
        return dataset_id

    def add_image(self, dataset_id: int, name: str, *, size: Sequence[int] = (512, 512, 1, 1, 1),
                  physical_size: Sequence[float | None] = (0.1, 0.1, None), unit: str = "MICROMETER",
                  acquired: dt.datetime | None = None, key_values: Iterable[tuple[str, str]] | None = None,
                  ns: str | None = CLIENT_NS, group: int | None = None, pixels_type: str = "uint16",
                  owner: int | None = None) -> int:
        """An imported image in a dataset: its pixels (``size`` is x, y, z, c, t; planes are
        :func:`plane`), optionally one map annotation of ``key_values``. Its id."""
        if pixels_type not in PIXEL_DTYPES:
            raise ValueError(f"pixels type must be one of {', '.join(PIXEL_DTYPES)}")
        group = group if group is not None else self.group_of("Dataset", dataset_id)
        image = ImageI()
        image.setName(rstring(name))
        if acquired is not None:
            image.setAcquisitionDate(rtime(int(acquired.timestamp() * 1000)))
        image_id = self._insert(image, group, owner)
        pixels = PixelsI()
        for axis, count in zip("XYZCT", size):
            getattr(pixels, f"setSize{axis}")(rint(count))
        for axis, length in zip("XYZ", physical_size):
            if length is not None:
                getattr(pixels, f"setPhysicalSize{axis}")(LengthI(length, getattr(omero_enums.UnitsLength, unit)))
        pixels.setPixelsType(PixelsTypeI(self.store.enum("PixelsType", pixels_type)._id._val, False))
        pixels.setDimensionOrder(DimensionOrderI(self.store.enum("DimensionOrder", "XYZCT")._id._val, False))
        pixels.setSha1(rstring(""))
        pixels.setImage(ImageI(image_id, False))
        self._insert(pixels, group, owner)
        self.link("DatasetImageLink", dataset_id, image_id, owner=owner)
        if key_values is not None:
            self.annotate("Image", image_id, key_values, ns=ns, owner=owner)
        return image_id

    def annotate(self, kind: str, oid: int, pairs: Iterable[tuple[str, str]], ns: str | None = CLIENT_NS,
                 owner: int | None = None) -> int:
        """A map annotation someone (``owner``, default the session user) added to an object: its id."""
        group = self.group_of(kind, oid)
        annotation = MapAnnotationI()
        if ns is not None:
            annotation.setNs(rstring(ns))
        annotation.setMapValue([NamedValue(k, v) for k, v in pairs])
        annotation_id = self._insert(annotation, group, owner)
        self.link(f"{kind}AnnotationLink", oid, annotation_id, owner=owner)
        return annotation_id

    def link(self, link_kind: str, parent_id: int, child_id: int, owner: int | None = None) -> int:
        """A link (``ProjectDatasetLink``...) made by someone, in the parent's group: its id."""
        model = self.store.model
        entity = model.entities[link_kind]
        parent = self._stored(entity.properties["parent"].target or "", parent_id)
        child = self._stored(entity.properties["child"].target or "", child_id)
        link = getattr(omero.model, f"{link_kind}I")()
        link.setParent(type(parent)(parent_id, False))
        link.setChild(type(child)(child_id, False))
        return self._insert(link, self.store.group_of(parent), owner)

    def edit_annotation(self, annotation_id: int, pairs: Iterable[tuple[str, str]]) -> None:
        """Replace a map annotation's pairs, as its owner editing it in OMERO.web does."""
        edited = copy.copy(self._stored("MapAnnotation", annotation_id))
        edited.setMapValue([NamedValue(k, v) for k, v in pairs])
        self.store.put(edited)

    def delete(self, kind: str, oid: int) -> None:
        """Delete an object and every link to or from it (as its owner would)."""
        obj = self._stored(kind, oid)
        for item in links_of(self.store, obj) + [obj]:
            self.store.remove(item)

    # --- looking ---------------------------------------------------------------------------------

    def _stored(self, kind: str, oid: int) -> Any:
        found = self.store.get(kind, int(oid))
        if found is None:
            raise KeyError(f"the fake OMERO holds no {kind}:{oid}")
        return found

    def objects(self, kind: str) -> list[Any]:
        """Copies of every stored object of ``kind`` ('Project', 'DatasetAnnotationLink'...), by id."""
        return [copy.deepcopy(o) for o in sorted(self.store.instances(kind), key=lambda o: o._id._val)]

    def count(self, kind: str) -> int:
        """How many objects of ``kind`` (and its subclasses) the store holds."""
        return len(self.store.instances(kind))

    def group_of(self, kind: str, oid: int) -> int:
        """The group that owns an object."""
        return self.store.group_of(self._stored(kind, oid))

    def owner_of(self, kind: str, oid: int) -> int:
        """The experimenter who owns an object."""
        return self.store.owner_of(self._stored(kind, oid))

    def name_of(self, kind: str, oid: int) -> str:
        """An object's name."""
        return self._stored(kind, oid).getName().getValue()

    def parents(self, link_kind: str, child_id: int) -> list[int]:
        """Ids of the parents linked to ``child_id`` by ``link_kind`` links."""
        return [link._parent._id._val for link in self.store.referrers(link_kind, "child", int(child_id))]

    def children(self, link_kind: str, parent_id: int) -> list[int]:
        """Ids of the children linked to ``parent_id`` by ``link_kind`` links."""
        return [link._child._id._val for link in self.store.referrers(link_kind, "parent", int(parent_id))]

    def map_annotations(self, kind: str, oid: int, ns: str | None = None) -> list[tuple[int, str | None, list]]:
        """The stored map annotations of an object: (id, namespace, [(key, value)...]), oldest first."""
        result = []
        for annotation_id in sorted(set(self.children(f"{kind}AnnotationLink", oid))):
            annotation = self.store.get("MapAnnotation", annotation_id)
            if annotation is None:
                continue
            annotation_ns = annotation._ns._val if annotation._ns is not None else None
            if ns is None or annotation_ns == ns:
                pairs = [(nv.name, nv.value) for nv in annotation._mapValue or []]
                result.append((annotation_id, annotation_ns, pairs))
        return result

    def pairs(self, kind: str, oid: int, ns: str = CLIENT_NS) -> list[tuple[str, str]]:
        """Every stored (key, value) of an object's map annotations in ``ns``."""
        return [pair for _, _, pairs in self.map_annotations(kind, oid, ns) for pair in pairs]

    def pixels_of(self, image_id: int) -> Any:
        """The stored Pixels of an image."""
        found = self.store.referrers("Pixels", "image", int(image_id))
        if not found:
            raise KeyError(f"image {image_id} has no pixels")
        return found[0]

    def plane(self, image_id: int, z: int, c: int, t: int) -> np.ndarray:
        """The plane (size_y, size_x) that ``RawPixelsStore.getPlane`` sends for this image, in its type."""
        pixels = self.pixels_of(image_id)
        sizes = {axis: getattr(pixels, f"_size{axis}")._val for axis in "XYZCT"}
        for axis, value in (("Z", z), ("C", c), ("T", t)):
            if not 0 <= value < sizes[axis]:
                raise IndexError(f"{axis} {value} is outside 0..{sizes[axis] - 1}")
        pixels_type = self.store.resolve(pixels._pixelsType, "PixelsType")._value._val
        return synthetic_plane(image_id, z, c, t, sizes["X"], sizes["Y"], pixels_type)
