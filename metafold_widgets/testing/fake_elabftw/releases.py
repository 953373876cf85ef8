"""What differs between elabFTW releases, as read from each release's source.

Every flag of :class:`Release` names the file and release tag of the ``elabftw/elabftw``
repository where the behaviour is decided (``git show TAG:path``). Up to 5.2 the source folders
are ``src/models`` and ``src/controllers``; from 5.3 ``src/Models`` and ``src/Controllers``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["EMULATED_RELEASES", "NEWEST", "OLDEST", "Release", "parse_version", "version_int"]

#: The releases the test suite runs against, oldest first.
EMULATED_RELEASES = ("5.2.8", "5.4.6", "5.6.6", "5.6.12", "6.0.0-alpha4")
OLDEST = EMULATED_RELEASES[0]
NEWEST = EMULATED_RELEASES[-1]

MergeMode = Literal["none", "stringify", "typed"]


def parse_version(version: str) -> tuple[int, int, int]:
    """``"5.6.12"`` -> ``(5, 6, 12)``; a suffix such as ``-alpha4`` is ignored."""
    numbers = []
    for part in version.split("-")[0].split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        numbers.append(int(digits or 0))
    while len(numbers) < 3:
        numbers.append(0)
    return numbers[0], numbers[1], numbers[2]


def version_int(version: str) -> int:
    """The server's ``elabftw_version_int``: 5.6.12 -> 50612 (M*10000 + m*100 + p)."""
    major, minor, patch = parse_version(version)
    return major * 10000 + minor * 100 + patch


@dataclass(frozen=True)
class Release:
    """The behaviour of one elabFTW release (build one with :meth:`of`)."""

    version: str
    number: int

    @classmethod
    def of(cls, version: str) -> Release:
        """The release called ``version`` (``"5.6.12"``, ``"6.0.0-alpha4"``)."""
        return cls(version, version_int(version))

    def at_least(self, version: str) -> bool:
        """True from ``version`` on."""
        return self.number >= version_int(version)

    # --- creating ---------------------------------------------------------------------------

    @property
    def metadata_on_post(self) -> bool:
        """POST keeps ``body``, ``metadata`` and ``content_type``; 5.1 keeps only
        template/title/tags/category/status (src/models/AbstractConcreteEntity.php@5.1.15, postAction)."""
        return self.at_least("5.2.0")

    @property
    def content_type_on_post(self) -> bool:
        """POST honours ``content_type``; 5.2-5.3 take the user's editor preference instead
        (src/models/Experiments.php@5.2.8 create: ``use_markdown``; from src/Models/AbstractEntity.php@5.4.0
        postAction: ``BodyContentType::from($reqBody['content_type'])``)."""
        return self.at_least("5.4.0")

    @property
    def category_pulls_template(self) -> bool:
        """``$template = $reqBody['template'] ?? $reqBody['category_id'] ?? $reqBody['category']``:
        a category also copies the experiments template with that id
        (src/Models/Experiments.php@5.2.5 .. 5.2.8, postAction)."""
        return self.at_least("5.2.5") and not self.at_least("5.3.0")

    # --- updating ---------------------------------------------------------------------------

    @property
    def hide_main_text(self) -> bool:
        """The ``hide_main_text`` column and PATCH key (src/Params/EntityParams.php@5.4.0 getContent;
        absent @5.3.11); before, ``metadata.elabftw.display_main_text``."""
        return self.at_least("5.4.0")

    @property
    def merge_mode(self) -> MergeMode:
        """``metadatamerge`` (a target of src/Params/EntityParams.php from 5.6.0): 5.6.0-5.6.12 set each
        field's value to ``trim((string) $value)``, so a list becomes "Array" (src/Models/AbstractEntity.php
        @5.6.0..5.6.12 mergeMetadataValues); 6.0.0-alpha4 keeps lists and refuses a changed type or
        unit (src/Elabftw/MetadataHelpers.php@6.0.0-alpha4 mergeMetadataValues)."""
        if not self.at_least("5.6.0"):
            return "none"
        return "stringify" if not self.at_least("6.0.0") else "typed"

    @property
    def merge_appends_options(self) -> bool:
        """5.6.12 also appends the merged value to a select field's ``options``
        (src/Models/AbstractEntity.php@5.6.12 mergeMetadataValues)."""
        return self.version == "5.6.12" or (self.at_least("5.6.12") and not self.at_least("6.0.0"))

    @property
    def base_columns(self) -> bool:
        """``canread_base``/``canwrite_base`` columns hold the base permission (10..50) and the
        ``canread``/``canwrite`` JSON holds the lists only (src/sql/schema197.sql@5.4.0; PATCH keys
        in src/Params/EntityParams.php@5.4.0); before, the JSON's ``base`` (src/Enums/BasePermissions.php@5.2.8
        toJson)."""
        return self.at_least("5.4.0")

    # --- reading ----------------------------------------------------------------------------

    @property
    def fulltext_simple_search(self) -> bool:
        """A query without field prefixes, operators or quotes is a MySQL FULLTEXT search
        (src/Models/AbstractEntity.php@5.6.7 isAdvancedSearchQuery); before, every ``q`` goes
        through the advanced grammar (src/Models/AbstractEntity.php@5.6.6 readShow)."""
        return self.at_least("5.6.7")

    @property
    def show_mode_lists(self) -> bool:
        """List reads return the show-mode columns (no body, metadata, elabid); before 5.6.0 the API
        read lists with every column (src/Models/AbstractEntity.php@5.4.6 readAll: readShow(..., true);
        @5.6.0 readAll: readShow(params) with extended false)."""
        return self.at_least("5.6.0")

    @property
    def default_list_limit(self) -> int:
        """Rows of a list read without ``limit``: 15 up to 5.3 (src/Params/DisplayParams.php@5.2.8
        ``$limit = 15``), every row from 5.4.0 (``$limit = 0``: no LIMIT clause, @5.4.0)."""
        return 15 if not self.at_least("5.4.0") else 0

    @property
    def full_param(self) -> bool:
        """``full=1`` makes a list read return every column (src/Params/DisplayParams.php@5.6.9)."""
        return self.at_least("5.6.9")

    @property
    def lists_other_teams(self) -> bool:
        """Categories and statuses list other teams' non-private rows too, with
        ``is_current_team`` (src/Models/AbstractStatus.php@5.4.0 readAll)."""
        return self.at_least("5.4.0")

    @property
    def elnhtml_export(self) -> bool:
        """``format=elnhtml`` exists (src/Enums/ExportFormat.php@5.3.0 ``ElnHtml``)."""
        return self.at_least("5.3.0")

    def ignores_limit(self, listing: str) -> bool:
        """``/teams`` never pages (src/Models/Teams.php readAll, every tag); 5.2 templates do not
        either (src/models/Templates.php@5.2.8 readAll ignores the query)."""
        if listing == "teams":
            return True
        return listing == "experiments_templates" and not self.at_least("5.3.0")

    def default_limit(self, listing: str) -> int:
        """Default page size of a listing (0: every row). 5.2 items types 128
        (src/models/ItemsTypes.php@5.2.8 getQueryParams); otherwise :attr:`default_list_limit`."""
        if listing == "items_types" and not self.at_least("5.3.0"):
            return 128
        return self.default_list_limit

    @property
    def statuslike_descending(self) -> bool:
        """5.2 lists categories and statuses ``ORDER BY ordering DESC`` (src/models/AbstractStatus.php@5.2.8)."""
        return not self.at_least("5.3.0")

    @property
    def other_teams_any_state(self) -> bool:
        """5.4.0-5.6.11 write ``is_private = 0 OR team = :team AND state IN (1)`` without
        parentheses: other teams' archived and deleted rows are listed too
        (src/Models/AbstractStatus.php@5.4.0; fixed @5.6.12)."""
        return self.lists_other_teams and not self.at_least("5.6.12")

    # --- errors -----------------------------------------------------------------------------

    @property
    def detail_in_message(self) -> bool:
        """Error bodies: 5.1-5.3 send ``{code, message: phrase, description: detail}``
        (src/controllers/Apiv2Controller.php@5.2.8 getResponse); 5.4+ ``{code, message: detail,
        description: ""}`` from AppException (src/Controllers/Apiv2Controller.php@5.4.0)."""
        return self.at_least("5.4.0")

    @property
    def missing_key_status(self) -> int:
        """No API key: 403 "Authentication required" on 5.2 (UnauthorizedException's default code,
        src/exceptions/UnauthorizedException.php@5.2.8), 401 from 5.3."""
        return 403 if not self.at_least("5.3.0") else 401

    @property
    def template_keeps_title(self) -> bool:
        """Creating from a template keeps the request's title from 5.4 (createFromTemplate@5.4.0);
        5.3 takes the template's (src/Models/Experiments.php@5.3.11)."""
        return self.at_least("5.4.0")

    @property
    def metadata_string_kept(self) -> bool:
        """POST ``metadata`` given as a string: stored as is on 6.0.0-alpha4, JSON-encoded again
        (a JSON string scalar) before (src/Models/AbstractConcreteEntity.php@5.6.12 postAction)."""
        return self.at_least("6.0.0")

    @property
    def owner_keys_refused(self) -> bool:
        """PATCH ``userid``/``team`` refused from 5.6.0: "Use the 'action:updateowner' to transfer
        ownership." (src/Params/EntityParams.php@5.6.0)."""
        return self.at_least("5.6.0")

    @property
    def content_type_checked_on_delete(self) -> bool:
        """5.1 wants ``Content-Type: application/json`` on DELETE too
        (src/controllers/Apiv2Controller.php@5.1.15)."""
        return not self.at_least("5.2.0")
