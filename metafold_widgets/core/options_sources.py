"""Named sources of dropdown options that integrations fill in at form time.

A template says ``options_source: omero_groups_api`` instead of listing options; the
name must be known when the template loads (a typo is a template error), and the
options themselves come later from a provider that a connected integration registers
(the OMERO adapter lists the user's groups). Without a provider the form falls back
to free text; the core never calls a server itself.
"""
from __future__ import annotations

from typing import Callable, Iterable, Mapping, Union

from .fields import Option

# Sources the bundled integrations provide; extensions add theirs with declare_options_source.
_KNOWN_SOURCES: dict[str, str] = {
    "omero_groups_api": "OMERO groups the user belongs to",
    "omero_projects_api": "OMERO projects in the selected group",
    "elabftw_categories_api": "elabFTW experiment categories of the team",
    "elabftw_status_api": "elabFTW experiment statuses of the team",
    "elabftw_templates_api": "elabFTW experiment templates",
    "elabftw_teams_api": "elabFTW teams the user belongs to",
    "elabftw_items_types_api": "elabFTW resource categories (items types)",
}

RawOption = Union[str, Option, tuple]
Provider = Callable[[], Iterable[RawOption]]


def declare_options_source(name: str, description: str) -> None:
    """Make ``name`` a valid ``options_source`` in templates."""
    _KNOWN_SOURCES[name] = description


def known_options_sources() -> Mapping[str, str]:
    """Every valid ``options_source`` name with what it lists."""
    return dict(_KNOWN_SOURCES)


class OptionsProviders:
    """The providers registered for one Session: name -> callable returning options."""

    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}

    def register(self, name: str, provider: Provider) -> None:
        """Provide options for ``name`` (declaring it if it was unknown)."""
        _KNOWN_SOURCES.setdefault(name, name)
        self._providers[name] = provider

    def unregister(self, name: str) -> None:
        """Stop providing ``name`` (e.g. when its connection closes)."""
        self._providers.pop(name, None)

    def has(self, name: str) -> bool:
        """Whether a provider is registered for ``name``."""
        return name in self._providers

    def options(self, name: str) -> list[Option]:
        """Ask the provider for its options now; KeyError when none is registered."""
        return [_as_option(raw) for raw in self._providers[name]()]


def _as_option(raw: RawOption) -> Option:
    if isinstance(raw, Option):
        return raw
    if isinstance(raw, tuple) and len(raw) == 2:
        return Option(str(raw[0]), str(raw[1]))
    return Option(str(raw), str(raw))
