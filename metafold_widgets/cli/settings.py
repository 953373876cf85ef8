"""What the commands read from the user's settings: a Session for one command, the templates folder."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from ..session import Session


@contextmanager
def open_session() -> Iterator[Session]:
    """A Session from the environment and the config file, closed (connections and all) at the end."""
    from ..session import Session

    session = Session.from_environment()
    try:
        yield session
    finally:
        session.close()


def templates_folder() -> Path | None:
    """The lab's templates folder (``METAFOLD_TEMPLATES_DIR``, else the config file's ``paths.templates``).

    The same setting a Session reads, without building one: commands that only read
    folders must not need (or look up) the elabFTW and OMERO credentials.
    """
    from ..config import templates_folder_setting

    return templates_folder_setting()
