"""The Session's OMERO connection: opened on first use, reopened when lost, closed at exit."""
from __future__ import annotations

import pytest

import metafold_widgets.adapters.omero as omero_adapter
from metafold_widgets.config import OmeroSettings, Secret
from metafold_widgets.errors import OmeroError
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_omero import FakeBlitzGateway


def test_connects_on_first_use_and_reconnects_after_a_loss(monkeypatch):
    opened = []
    monkeypatch.setattr(omero_adapter, "open_gateway", lambda settings: opened.append(FakeBlitzGateway()) or opened[-1])
    session = Session(omero=OmeroSettings("omero.example.org", user="ada", password=Secret("pw")))
    assert opened == []  # nothing happens until OMERO is needed
    first = session.omero
    assert session.omero is first and len(opened) == 1
    first.close()  # the server dropped the session
    second = session.omero
    assert second is not first and second.isConnected() and len(opened) == 2
    session.close()
    assert not second.isConnected()


def test_a_lost_connection_that_was_handed_in_says_so():
    conn = FakeBlitzGateway()
    session = Session(omero=conn)
    assert session.omero is conn
    conn.close()
    with pytest.raises(OmeroError, match="was lost; connect again"):
        session.omero


def test_a_failed_reconnect_is_a_clear_error(monkeypatch):
    def refuse(settings):
        raise OmeroError("OMERO at omero.example.org:4064 refused the login of 'ada'")

    monkeypatch.setattr(omero_adapter, "open_gateway", refuse)
    session = Session(omero=OmeroSettings("omero.example.org", user="ada", password=Secret("pw")))
    with pytest.raises(OmeroError, match="refused the login"):
        session.omero
