"""The fake OMERO follows OMERO's model and the server's semantics, not the product's queries.

The model table comes from omero-model's mapping files; every HQL path is checked against it;
joins, fetch joins, distinct, paging, groups, ownership, the session and pixels behave as the
server (Hibernate 3.6, OMERO 5.6) does.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import Ice  # noqa: I001
import numpy as np
import omero
import omero.cmd
import omero.gateway  # noqa: F401  (loads omero.model before Ice and omero.cmd, as omero-py needs)
import pytest
from omero.model import DatasetAnnotationLinkI, DatasetI, ImageAnnotationLinkI, ImageI, MapAnnotationI, NamedValue
from omero.rtypes import rlist, rlong, rstring
from omero.sys import ParametersI

from metafold_widgets.testing.fake_omero import OTHER_USER_ID, USER_ID
from metafold_widgets.testing.omero_model import MODEL_FILE, load_model

ROOT = Path(__file__).resolve().parents[2]
MIRROR = Path("/work/.mirror/ome+omero-model/repo")
NS = "lab.example.org/ns"


def params(**values) -> ParametersI:
    p = ParametersI()
    for name, value in values.items():
        if isinstance(value, list):
            p.map[name] = rlist([rlong(v) if isinstance(v, int) else rstring(v) for v in value])
        else:
            p.map[name] = rlong(value) if isinstance(value, int) else rstring(value)
    return p


def rows(conn, query, p=None, ctx=None) -> list[list]:
    return [[v.getValue() if v is not None and hasattr(v, "getValue") else v for v in row]
            for row in conn.getQueryService().projection(query, p, ctx if ctx is not None else conn.SERVICE_OPTS)]


@pytest.fixture
def all_groups(conn):
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup("-1")
    return ctx


# --- the model table ----------------------------------------------------------------------

def test_the_model_table_has_the_entities_and_paths_the_product_uses():
    model = load_model()
    assert model.source["repository"].endswith("omero-model") and model.source["tag"] == "v5.6.15"
    assert len(model.source["commit"]) == 40 and model.source["generated"]
    dataset = model.entities["Dataset"]
    assert dataset.class_name == "ome.model.containers.Dataset" and dataset.superclass is None
    links = model.properties("Dataset")
    assert (links["projectLinks"].kind, links["projectLinks"].target, links["projectLinks"].inverse,
            links["projectLinks"].link_target) == ("collection", "ProjectDatasetLink", "child", "Project")
    assert links["imageLinks"].inverse == "parent" and links["annotationLinks"].target == "DatasetAnnotationLink"
    assert model.entities["MapAnnotation"].superclass == "Annotation" and model.entities["Annotation"].abstract
    map_value = model.properties("MapAnnotation")["mapValue"]
    assert (map_value.kind, map_value.component, map_value.ordered, map_value.index_column) == \
        ("elements", "NamedValue", True, "index")
    assert set(model.components["NamedValue"].properties) == {"name", "value"}
    pixels = model.properties("Image")["pixels"]
    assert (pixels.kind, pixels.target, pixels.inverse, pixels.ordered) == ("collection", "Pixels", "image", True)
    physical = model.properties("Pixels")["physicalSizeX"]
    assert (physical.kind, physical.component) == ("component", "Length")
    assert set(model.components["Length"].properties) == {"value", "unit"}
    assert model.properties("Pixels")["pixelsType"].target == "PixelsType"
    assert "uint16" in model.entities["PixelsType"].entries
    link = model.properties("DatasetAnnotationLink")
    assert (link["parent"].target, link["child"].target) == ("Dataset", "Annotation")
    for implicit in ("id", "version", "details"):
        assert implicit in model.properties("Dataset")
    details = model.components["Details"].properties
    assert (details["owner"].target, details["group"].target, details["creationEvent"].target) == \
        ("Experimenter", "ExperimenterGroup", "Event")
    assert "permissions" in details and "owner" not in model.components["GlobalDetails"].properties
    assert model.properties("PixelsType")["details"].component == "GlobalDetails"  # enumerations are global


@pytest.mark.skipif(not MIRROR.exists(), reason="needs a mirror of ome/omero-model")
def test_the_checked_in_table_is_what_the_generator_makes(tmp_path):
    out = tmp_path / "model.json"
    subprocess.run([sys.executable, str(ROOT / "scripts/generate-omero-model"), str(MIRROR), "--ref", "v5.6.15",
                    "--out", str(out)], check=True, capture_output=True)
    made, checked_in = json.loads(out.read_text()), json.loads(MODEL_FILE.read_text())
    assert made["entities"] == checked_in["entities"] and made["components"] == checked_in["components"]
    assert made["source"]["commit"] == checked_in["source"]["commit"]


# --- paths are checked ---------------------------------------------------------------------

@pytest.mark.parametrize(("query", "message"), [
    ("select ds.id from Dataset ds join ds.imageLink x", "could not resolve property: imageLink of: "
                                                         "ome.model.containers.Dataset"),
    ("select ds.id from Datasett ds", "Datasett is not mapped"),
    ("select mv.key from MapAnnotation a join a.mapValue mv", "could not resolve property: key of: "
                                                             "component[name,value]"),
    ("select ann.nss from Annotation ann", "could not resolve property: nss of: ome.model.annotations.Annotation"),
    ("select l.parent.nam from DatasetAnnotationLink l", "could not resolve property: nam of: "
                                                          "ome.model.containers.Dataset"),
    ("select ds.details.ownr.id from Dataset ds", "could not resolve property: details.ownr of: "
                                                  "ome.model.containers.Dataset"),
    ("select pix.physicalSizeX.units from Pixels pix", "could not resolve property: physicalSizeX.units"),
    ("select ds.imageLinks.id from Dataset ds", "illegal attempt to dereference collection [ds.imageLinks]"),
    ("select x.id from Dataset ds", "Invalid path: 'x.id'"),
    ("select ds.id from Dataset ds where ds.name = = 'a'", "unexpected token: ="),
    ("select link.id from DatasetAnnotationLink link join fetch link.child",
     "owner of the fetched association was not present in the select list"),
    ("select a.id, index(l) from Dataset a join a.imageLinks l", "unindexed collection"),
])
def test_a_wrong_query_raises_the_servers_query_exception(conn, query, message):
    with pytest.raises(omero.QueryException) as caught:
        conn.getQueryService().projection(query, None, conn.SERVICE_OPTS)
    assert caught.value.message.startswith(f"Illegal query:{query}\n") and message in caught.value.message
    assert isinstance(caught.value, omero.ServerError)


def test_a_subclass_property_resolves_on_a_polymorphic_alias(conn):
    dataset = conn.add_dataset("D")
    conn.annotate("Dataset", dataset, [("k", "v")])
    found = rows(conn, "select a.id, mv.name from Annotation a join a.mapValue mv left outer join a.file f")
    assert [r[1] for r in found] == ["k"]


def test_a_missing_parameter_is_an_api_usage_error(conn):
    with pytest.raises(omero.ApiUsageException, match="Null parameters not allowed: id"):
        conn.getQueryService().projection("select p.id from Project p where p.id = :id", ParametersI(), None)


# --- joins, fetch joins, distinct ------------------------------------------------------------

def dataset_in_two_projects(conn) -> int:
    first, second = conn.add_project("first"), conn.add_project("second")
    dataset = conn.add_dataset("D", first)
    conn.link("ProjectDatasetLink", second, dataset)
    conn.annotate("Dataset", dataset, [("k", "v")], ns=NS)
    return dataset


FETCH_PROJECTS = ("select {distinct} link from DatasetAnnotationLink link join fetch link.child ann "
                  "join fetch link.parent ds left outer join fetch ds.projectLinks plink where ann.ns = :ns")


def test_a_collection_fetch_repeats_its_owner_without_distinct(conn):
    dataset_in_two_projects(conn)
    links = conn.getQueryService().findAllByQuery(FETCH_PROJECTS.format(distinct=""), params(ns=NS), None)
    assert len(links) == 2 and links[0] is links[1]  # one row per project, the same object twice
    distinct = conn.getQueryService().findAllByQuery(FETCH_PROJECTS.format(distinct="distinct"), params(ns=NS), None)
    assert len(distinct) == 1
    dataset = distinct[0].getParent()
    assert dataset.isLoaded() and dataset.isProjectLinksLoaded() and dataset.sizeOfProjectLinks() == 2
    assert sorted(pl.getParent().getId().getValue() for pl in dataset.copyProjectLinks()) == [1, 2]
    assert not dataset.copyProjectLinks()[0].getParent().isLoaded()


def test_fetch_joins_load_what_they_name_and_nothing_else(conn):
    dataset = conn.add_dataset("D")
    conn.annotate("Dataset", dataset, [("a", "1"), ("b", "2")])
    (link,) = conn.getQueryService().findAllByQuery(
        "select link from DatasetAnnotationLink link join fetch link.child", None, None)
    annotation = link.getChild()
    assert isinstance(annotation, MapAnnotationI) and annotation.isLoaded()
    assert [(nv.name, nv.value) for nv in annotation.getMapValue()] == [("a", "1"), ("b", "2")]
    assert not link.getParent().isLoaded() and not link.getDetails().getOwner().isLoaded()
    (link,) = conn.getQueryService().findAllByQuery(
        "select l from DatasetAnnotationLink as l join fetch l.details.owner where l.parent.id = :id",
        params(id=dataset), None)
    assert link.getDetails().getOwner().getOmeName().getValue() == "researcher"
    assert not link.getChild().isLoaded()


def test_inner_joins_drop_rows_and_left_joins_keep_them_with_null(conn):
    empty = conn.add_project("empty")
    full = conn.add_project("full")
    conn.add_dataset("D", full)
    query = "select p.id, ds.name from Project p {join} join p.datasetLinks l {join} join l.child ds order by p.id"
    assert rows(conn, query.format(join="")) == [[full, "D"]]
    assert rows(conn, query.format(join="left outer")) == [[empty, None], [full, "D"]]


def test_conditions_on_null_follow_sqls_three_valued_logic(conn):
    empty = conn.add_project("empty")
    full = conn.add_project("full")
    conn.add_dataset("D", full)
    query = ("select p.id from Project p left outer join p.datasetLinks l left outer join l.child ds "
             "where {} order by p.id")
    assert rows(conn, query.format("ds.name = 'D' or p.name = 'empty'")) == [[empty], [full]]  # NULL or TRUE
    assert rows(conn, query.format("ds.name = 'X' and p.name = 'full'")) == []  # FALSE and TRUE
    assert rows(conn, query.format("not (ds.name = 'D' and p.name = 'empty')")) == [[full]]  # not (NULL and TRUE)
    assert rows(conn, query.format("not (ds.name = 'X' or p.name = 'full')")) == []  # not (NULL or FALSE), not TRUE


def test_map_values_come_with_their_index_and_order_by_sorts(conn):
    dataset = conn.add_dataset("D")
    annotation = conn.annotate("Dataset", dataset, [("z", "1"), ("a", "2"), ("m", "3")])
    query = "select a.id, index(mv), mv.name, mv.value from MapAnnotation a join a.mapValue mv order by {order}"
    assert rows(conn, query.format(order="index(mv)")) == [[annotation, 0, "z", "1"], [annotation, 1, "a", "2"],
                                                           [annotation, 2, "m", "3"]]
    assert [r[2] for r in rows(conn, query.format(order="mv.name desc"))] == ["z", "m", "a"]
    assert rows(conn, "select count(mv) from MapAnnotation a join a.mapValue mv where mv.name like 'a%'") == [[1]]


def test_distinct_orders_only_by_what_it_selects(conn):
    conn.add_dataset("b")
    conn.add_dataset("a")
    assert rows(conn, "select distinct d.name from Dataset d order by d.name") == [["a"], ["b"]]
    with pytest.raises(omero.InternalException, match="ORDER BY expressions must appear in select list"):
        rows(conn, "select distinct d.name from Dataset d order by d.id")
    found = conn.getQueryService().findAllByQuery("select distinct d from Dataset d order by d.name", None, None)
    assert [d.getName().getValue() for d in found] == ["a", "b"]


def test_paging_with_a_collection_fetch_pages_distinct_roots(conn):
    dataset = conn.add_dataset("D")
    for n in range(3):
        conn.annotate("Dataset", dataset, [("k", str(n))])
    query = ("select d from Dataset d join fetch d.annotationLinks l where d.id = :id")
    p = params(id=dataset)
    assert len(conn.getQueryService().findAllByQuery(query, p, None)) == 3  # one per fetched link
    p.page(0, 10)
    (found,) = conn.getQueryService().findAllByQuery(query, p, None)  # QueryTranslatorImpl: distinct in memory
    assert found.sizeOfAnnotationLinks() == 3


def test_find_by_query_refuses_several_objects(conn):
    conn.add_project("a")
    conn.add_project("b")
    with pytest.raises(omero.ApiUsageException, match="has returned more than one Object"):
        conn.getQueryService().findByQuery("select p from Project p", None, None)
    assert conn.getQueryService().findByQuery("select p from Project p where p.name = 'b'", None, None) is not None
    assert conn.getQueryService().findByQuery("select p from Project p where p.id = 99", None, None) is None


def test_projection_converts_as_the_server_does(conn):
    dataset = conn.add_dataset("D")
    conn.add_image(dataset, "a.tif", size=(8, 4, 2, 1, 1), physical_size=(0.5, None, None), pixels_type="uint8")
    (row,) = conn.getQueryService().projection(
        "select pix.sizeX, pix.physicalSizeX, pix.physicalSizeY, pt.value, img.id from DatasetImageLink link "
        "join link.child img join img.pixels pix join pix.pixelsType pt", None, None)
    assert isinstance(row[0], omero.RInt) and row[0].getValue() == 8
    assert {k: v.getValue() for k, v in row[1].getValue().items()} == {"value": 0.5, "unit": "MICROMETER",
                                                                       "symbol": "µm"}
    assert row[2] is None and row[3].getValue() == "uint8" and isinstance(row[4], omero.RLong)
    conn.annotate("Dataset", dataset, [("k", "v")])
    with pytest.raises(omero.ApiUsageException, match="Unsupported conversion"):
        conn.getQueryService().projection("select mv from MapAnnotation a join a.mapValue mv", None, None)


def test_the_products_queries_run_through_the_engine(conn, all_groups):
    project = conn.add_project("P")
    dataset = conn.add_dataset("D", project)
    image = conn.add_image(dataset, "a.tif", key_values=[("k", "v")], ns=NS)
    conn.annotate("Image", image, [("other", "x")], ns=NS, owner=OTHER_USER_ID)
    q = conn.getQueryService()
    links = q.findAllByQuery("select link from ImageAnnotationLink link join fetch link.child ann "
                             "where link.parent.id in (:ids) and ann.ns = :ns order by link.parent.id, ann.id",
                             params(ids=[image], ns=NS), all_groups)
    assert [lk.getChild().getMapValue()[0].name for lk in links] == ["k", "other"]
    mine = q.findAllByQuery("select link from ImageAnnotationLink link join fetch link.child ann where link.parent.id "
                            "in (:ids) and ann.ns = :ns and ann.details.owner.id = :owner",
                            params(ids=[image], ns=NS, owner=USER_ID), all_groups)
    assert [lk.getChild().getMapValue()[0].name for lk in mine] == ["k"]
    assert rows(conn, "select img.id, img.name, pix.id, pix.sizeX, pix.sizeY, pix.sizeZ, pix.sizeC, pix.sizeT, "
                      "pt.value from DatasetImageLink link join link.child img join img.pixels pix "
                      "join pix.pixelsType pt where link.parent.id = :id order by img.id",
                params(id=dataset), all_groups) == [[image, "a.tif", 1, 512, 512, 1, 1, 1, "uint16"]]
    assert rows(conn, "select ds.details.group.id from Dataset ds where ds.id = :id", params(id=dataset)) == [[3]]
    assert rows(conn, "SELECT i.id FROM Dataset d JOIN d.imageLinks dil JOIN dil.child i WHERE d.id=:dataset",
                params(dataset=dataset)) == [[image]]
    assert rows(conn, "select i.id from Image i where not exists (select dil from DatasetImageLink dil "
                      "where dil.child = i.id)") == []


# --- groups, ownership ------------------------------------------------------------------------

def test_reads_see_the_context_group_or_all_the_users_groups(conn, all_groups):
    conn.add_project("here")
    conn.add_project("there", group=4)
    query = "select p.name from Project p order by p.name"
    assert rows(conn, query) == [["here"]]  # no omero.group: the session's group
    assert rows(conn, query, ctx=all_groups) == [["here"], ["there"]]
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup(4)
    assert rows(conn, query, ctx=ctx) == [["there"]]
    ctx.setOmeroGroup(77)
    with pytest.raises(omero.SecurityViolation, match="not a member of group 77"):
        rows(conn, query, ctx=ctx)


def test_another_users_annotation_can_be_read_and_annotated_around_but_not_changed(conn):
    dataset = conn.add_dataset("D")
    image = conn.add_image(dataset, "theirs.tif", owner=OTHER_USER_ID)
    theirs = conn.annotate("Image", image, [("k", "v")], owner=OTHER_USER_ID)
    assert conn.owner_of("MapAnnotation", theirs) == OTHER_USER_ID
    (link,) = conn.getQueryService().findAllByQuery(
        "select l from ImageAnnotationLink l join fetch l.child where l.child.id = :id", params(id=theirs), None)
    annotation = link.getChild()
    update = conn.getUpdateService()
    update.saveAndReturnObject(annotation, conn.SERVICE_OPTS)  # unchanged: nothing is written
    annotation.setMapValue([NamedValue("k", "mine now")])
    with pytest.raises(omero.SecurityViolation, match=f"Updating ome.model.annotations.MapAnnotation:Id_{theirs} "
                                                      "not allowed"):
        update.saveAndReturnObject(annotation, conn.SERVICE_OPTS)
    assert conn.pairs("Image", image) == [("k", "v")]
    mine = ImageAnnotationLinkI()  # my own annotation on their image: read-annotate allows it
    mine.setParent(ImageI(image, False))
    new = MapAnnotationI()
    new.setMapValue([NamedValue("seen", "yes")])
    mine.setChild(new)
    saved = update.saveAndReturnObject(mine, conn.SERVICE_OPTS)
    assert saved.getDetails().getOwner().getId().getValue() == USER_ID
    assert [pairs for _, _, pairs in conn.map_annotations("Image", image)] == [[("k", "v")], [("seen", "yes")]]


def test_writes_go_to_one_group_the_user_is_in(conn):
    dataset = DatasetI()
    dataset.setName(rstring("d"))
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup("-1")
    with pytest.raises(omero.SecurityViolation):
        conn.getUpdateService().saveAndReturnObject(dataset, ctx)
    with pytest.raises(omero.ValidationException, match="not-null property .*Dataset.name"):
        conn.getUpdateService().saveAndReturnObject(DatasetI(), conn.SERVICE_OPTS)


def test_a_refused_save_writes_nothing(conn):
    named = DatasetI()
    named.setName(rstring("fine"))
    with pytest.raises(omero.ValidationException):
        conn.getUpdateService().saveAndReturnArray([named, DatasetI()], conn.SERVICE_OPTS)  # one transaction
    assert conn.count("Dataset") == 0 and conn.count("Event") == 0


def test_delete_objects_removes_my_annotations_and_refuses_others(conn):
    dataset = conn.add_dataset("D")
    mine = conn.annotate("Dataset", dataset, [("a", "1")])
    theirs = conn.annotate("Dataset", dataset, [("b", "2")], owner=OTHER_USER_ID)
    conn.reset_counts()
    handle = conn.deleteObjects("Annotation", [mine], dryRun=True, wait=True)
    assert conn.count("MapAnnotation") == 2 and handle.closed
    assert handle.getResponse().deletedObjects["ome.model.annotations.MapAnnotation"] == [mine]
    with pytest.raises(omero.CmdError) as caught:
        conn.deleteObjects("Annotation", [theirs], wait=True)
    assert isinstance(caught.value.err, omero.cmd.GraphException)
    assert caught.value.err.message == f"not permitted to delete ome.model.annotations.MapAnnotation[{theirs}]"
    refused = conn.deleteObjects("MapAnnotation", [theirs, mine])  # wait=False: the handle says it
    assert isinstance(refused.getResponse(), omero.cmd.ERR) and conn.count("MapAnnotation") == 2
    response = conn.deleteObjects("Annotation", [mine], wait=True).getResponse()
    assert set(response.deletedObjects) == {"ome.model.annotations.MapAnnotation",
                                            "ome.model.annotations.DatasetAnnotationLink"}
    assert [a for a, _, _ in conn.map_annotations("Dataset", dataset)] == [theirs]
    assert conn.round_trips == 4 and set(conn.calls) == {"deleteObjects"}
    with pytest.raises(AttributeError, match="list of object IDs"):
        conn.deleteObjects("Annotation", mine)


def test_a_saved_link_is_unique_per_owner(conn):
    dataset = conn.add_dataset("D")
    annotation = conn.annotate("Dataset", dataset, [("a", "1")])
    link = DatasetAnnotationLinkI()
    link.setParent(DatasetI(dataset, False))
    link.setChild(MapAnnotationI(annotation, False))
    with pytest.raises(omero.ValidationException, match="exists already"):
        conn.getUpdateService().saveAndReturnObject(link, conn.SERVICE_OPTS)


# --- the session ---------------------------------------------------------------------------------

def test_an_expired_session_is_only_seen_by_asking_the_server(conn):
    assert conn.keepAlive() is True
    conn.expire_session()
    assert conn.isConnected()  # a flag: still true
    assert conn.keepAlive() is False
    assert conn.getEventContext().userId == USER_ID  # cached by the gateway
    with pytest.raises(Ice.ObjectNotExistException):
        conn.getQueryService().projection("select p.id from Project p", None, None)
    with pytest.raises(Ice.ObjectNotExistException):
        conn.getGroupsMemberOf()


def test_the_session_group_is_not_service_opts(conn):
    conn.SERVICE_OPTS.setOmeroGroup(4)
    assert conn.getGroupFromContext().getId() == 3  # getEventContext().groupId, not SERVICE_OPTS
    conn.reset_counts()
    assert conn.setGroupForSession(3) is None  # already there
    assert conn.setGroupForSession(77) is False  # not a member
    assert conn.round_trips == 0
    assert conn.setGroupForSession(4) is True
    assert conn.calls == ["activeServices", "setSecurityContext"]
    assert conn.SERVICE_OPTS.getOmeroGroup() == "4"  # left alone (it was 4 already)
    assert conn.getEventContext().groupId == 4 and conn.calls[-1] == "getEventContext"  # the cache was emptied
    conn.getEventContext()
    assert conn.calls.count("getEventContext") == 1
    conn.SERVICE_OPTS.setOmeroGroup(None)
    conn.add_project("in four", group=4)
    assert rows(conn, "select p.name from Project p") == [["in four"]]  # no omero.group: the session's group


def test_moving_the_session_closes_its_pixels_stores(conn):
    store = conn.createRawPixelsStore()
    conn.setGroupForSession(4)
    assert store.closed
    with pytest.raises(Ice.ObjectNotExistException):
        store.getByteWidth()


# --- pixels -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("pixels_type", ["uint8", "int16", "uint16", "uint32", "float", "double"])
def test_planes_read_through_a_raw_pixels_store_are_the_computed_planes(conn, pixels_type):
    dataset = conn.add_dataset("D")
    image = conn.add_image(dataset, "a.tif", size=(7, 5, 2, 3, 1), pixels_type=pixels_type)
    pixels_id = conn.pixels_of(image).getId().getValue()
    conn.reset_counts()
    store = conn.createRawPixelsStore()
    store.setPixelsId(pixels_id, True, conn.SERVICE_OPTS)
    dtype = {"uint8": ">u1", "int16": ">i2", "uint16": ">u2", "uint32": ">u4", "float": ">f4", "double": ">f8"}
    width = np.dtype(dtype[pixels_type]).itemsize
    assert store.getByteWidth() == width and store.getPlaneSize() == 7 * 5 * width
    raw = store.getPlane(1, 2, 0)
    plane = np.frombuffer(raw, dtype=dtype[pixels_type]).reshape(5, 7)
    expected = conn.plane(image, 1, 2, 0)
    assert expected.shape == (5, 7) and np.array_equal(plane, expected)
    assert not np.array_equal(expected, conn.plane(image, 0, 2, 0))  # planes differ
    store.close()
    assert conn.round_trips == 6  # create, setPixelsId, getByteWidth, getPlaneSize, getPlane, close


def test_a_raw_pixels_store_refuses_what_the_server_refuses(conn):
    dataset = conn.add_dataset("D")
    image = conn.add_image(dataset, "a.tif", size=(4, 4, 3, 1, 1))
    store = conn.createRawPixelsStore()
    with pytest.raises(omero.ApiUsageException, match="not been properly initialized"):
        store.getPlane(0, 0, 0)
    with pytest.raises(omero.ValidationException, match="Cannot read pixels id=999"):
        store.setPixelsId(999, True)
    store.setPixelsId(conn.pixels_of(image).getId().getValue(), True)
    with pytest.raises(omero.ApiUsageException, match="Z '5' greater than sizeZ '3'"):
        store.getPlane(5, 0, 0)
    with pytest.raises(omero.ApiUsageException, match="C '1' greater than sizeC '1'"):
        store.getPlane(0, 1, 0)
