"""The fake OMERO connection behaves like the server where the product relies on it."""
from __future__ import annotations

import omero
import pytest
from omero.model import DatasetI, ProjectDatasetLinkI, ProjectI
from omero.rtypes import rstring

from metafold_widgets.testing.fake_omero import FakeBlitzGateway


def named(cls, name):
    obj = cls()
    obj.setName(rstring(name))
    return obj


def test_writes_across_all_groups_are_refused(conn) -> None:
    conn.SERVICE_OPTS.setOmeroGroup("-1")
    with pytest.raises(omero.SecurityViolation):
        conn.getUpdateService().saveAndReturnObject(named(DatasetI, "d"), conn.SERVICE_OPTS)
    assert conn.count("Dataset") == 0


def test_links_across_groups_and_to_missing_objects_are_refused(conn) -> None:
    elsewhere = conn.add_project("elsewhere", group=4)
    link = ProjectDatasetLinkI()
    link.setParent(ProjectI(elsewhere, False))
    link.setChild(named(DatasetI, "d"))
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup(3)
    with pytest.raises(omero.SecurityViolation):
        conn.getUpdateService().saveAndReturnObject(link, ctx)
    link.setParent(ProjectI(999, False))
    with pytest.raises(omero.ValidationException):
        conn.getUpdateService().saveAndReturnObject(link, ctx)


def test_a_group_the_user_is_not_in_is_refused(conn) -> None:
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup(77)
    with pytest.raises(omero.SecurityViolation):
        conn.getUpdateService().saveAndReturnObject(named(ProjectI, "p"), ctx)


def test_a_query_on_an_unknown_entity_fails_as_on_a_server(conn) -> None:
    with pytest.raises(omero.QueryException, match="Y is not mapped"):
        conn.getQueryService().projection("select x\n from Y x", None, conn.SERVICE_OPTS)


def test_reads_see_only_the_context_group(conn) -> None:
    conn.add_project("mine")
    conn.add_project("theirs", group=4)
    query = "select p.id, p.name from Project p order by lower(p.name), p.id"
    ctx = conn.SERVICE_OPTS.copy()
    assert [r[1].getValue() for r in conn.getQueryService().projection(query, None, ctx)] == ["mine"]
    ctx.setOmeroGroup("-1")
    assert [r[1].getValue() for r in conn.getQueryService().projection(query, None, ctx)] == ["mine", "theirs"]


def test_round_trips_are_counted_and_can_be_slowed_down() -> None:
    import time
    conn = FakeBlitzGateway(latency=0.01)
    started = time.perf_counter()
    list(conn.getGroupsMemberOf())
    conn.getObject("Project", 1)
    assert conn.round_trips == 2 and conn.calls == ["getGroupsMemberOf", "getObject:Project"]
    assert time.perf_counter() - started >= 0.02
    conn.getEventContext()  # cached by the real gateway: free
    assert conn.round_trips == 2


def test_ezomero_works_against_the_fake(conn) -> None:
    import ezomero  # installed by scripts/setup-omero-env as the per-image baseline
    dataset = conn.add_dataset("D")
    image = conn.add_image(dataset, "a", key_values=[("k", "1"), ("k", "2"), ("j", "3")])
    assert ezomero.get_image_ids(conn, dataset=dataset) == [image]
    conn.reset_counts()
    (annotation_id,) = ezomero.get_map_annotation_ids(conn, "Image", image)
    assert ezomero.get_map_annotation(conn, annotation_id) == {"k": ["1", "2"], "j": "3"}
    # the per-image pattern the benchmark compares with: ezomero switches to group -1 and back
    # (getGroupFromContext, then getObject of the group) around each of its two calls
    assert conn.calls == ["getGroupFromContext", "getObject:Image", "findAllByQuery", "getObject:ExperimenterGroup",
                          "getGroupFromContext", "getObject:MapAnnotation", "getObject:ExperimenterGroup"]
