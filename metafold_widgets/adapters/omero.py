"""OMERO through omero-py's BlitzGateway, imported lazily so everything else works without it."""
from __future__ import annotations

from typing import Any

from ..config import OmeroSettings
from ..errors import OmeroError

INSTALL_HINT = ("OMERO features need omero-py: pip install 'metafold-widgets[omero]' on Python 3.10-3.12 "
                "(with Glencoe Software's zeroc-ice wheels), or conda install -c conda-forge omero-py")
KEEPALIVE_SECONDS = 60


def import_omero() -> Any:
    """The ``omero`` package, or OmeroError saying how to install it."""
    try:
        import omero
        import omero.gateway  # noqa: F401  (BlitzGateway lives here)
    except ImportError:
        raise OmeroError(INSTALL_HINT) from None
    return omero


def open_gateway(settings: OmeroSettings, keepalive: int = KEEPALIVE_SECONDS) -> Any:
    """A connected BlitzGateway: joins ``session_key`` when given, else logs in. Never prompts."""
    omero = import_omero()
    from omero.gateway import BlitzGateway
    where = f"OMERO at {settings.host}:{settings.port}"
    try:
        if settings.session_key:
            client = omero.client(settings.host, settings.port)
            client.joinSession(settings.session_key.reveal())
            conn = BlitzGateway(client_obj=client)
        else:
            if not settings.user or not settings.password:
                raise OmeroError(f"{where}: give a user and password, or a session key")
            conn = BlitzGateway(settings.user, settings.password.reveal(), host=settings.host,
                                port=settings.port, secure=settings.secure)
            if not conn.connect():
                raise OmeroError(f"{where} refused the login of '{settings.user}' (wrong user or password, "
                                 "or the server is unreachable)")
    except OmeroError:
        raise
    except Exception as exc:  # Ice and Glacier2 raise their own exception types
        raise OmeroError(f"{where}: could not connect ({type(exc).__name__}: {exc})") from None
    if settings.group:
        use_group(conn, settings.group)
    conn.c.enableKeepAlive(keepalive)
    return conn


def use_group(conn: Any, group: str) -> int:
    """Switch the connection to the group given by name or id; returns the group id."""
    for candidate in conn.getGroupsMemberOf():
        if str(candidate.getId()) == str(group) or candidate.getName() == group:
            conn.SERVICE_OPTS.setOmeroGroup(candidate.getId())
            return int(candidate.getId())
    raise OmeroError(f"you are not a member of an OMERO group called '{group}'")


def describe_connection(conn: Any) -> str:
    """Who is logged in where, for people."""
    user = conn.getUser()
    group = conn.getGroupFromContext()
    return (f"connected to OMERO at {conn.host}:{conn.port} as {user.getName()} "
            f"(group {group.getName()})")
