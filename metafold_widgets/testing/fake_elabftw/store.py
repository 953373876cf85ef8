"""The fake server's database: teams, users, categories, statuses, tags, entities and uploads,
with the access rules the server applies to them."""
from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from .releases import Release
from .values import CAN_LISTS, now, positive_int_or_none
from .wire import NO_ACCESS, NOT_FOUND, ApiError

ENTITY_PAGES = {
    "experiments": "experiments",
    "items": "database",
    "experiments_templates": "templates",
    "items_types": "resources-templates",
}

SEED_TEMPLATE_METADATA = {
    "elabftw": {"extra_fields_groups": [{"id": 1, "name": "Sample"}, {"id": 2, "name": "Acquisition"}]},
    "extra_fields": {
        "Sample ID": {"type": "text", "value": "", "required": True, "group_id": 1, "position": 0},
        "Objective": {"type": "select", "value": "20x", "options": ["10x", "20x", "63x"], "group_id": 2,
                      "position": 1},
        "Laser power": {"type": "number", "value": "", "units": ["mW", "W"], "unit": "mW", "group_id": 2,
                        "position": 2},
        "Microscope": {"type": "items", "value": "", "group_id": 2, "position": 3},
    },
}


@dataclass(frozen=True)
class Caller:
    """Who an API key belongs to."""

    userid: int
    team: int
    can_write: bool
    is_admin: bool = False


class Store:
    """Every table of the fake, seeded with two teams, three users and a few rows."""

    def __init__(self, keys: Mapping[str, Mapping[str, Any]], *, ft_min_token_size: int = 3):
        self.keys = {k: dict(v) for k, v in keys.items()}
        #: MySQL's ``innodb_ft_min_token_size`` (3 by default; deployments may raise it)
        self.ft_min_token_size = ft_min_token_size
        self.next_ids: dict[str, int] = {"experiments": 1, "items": 101, "experiments_templates": 1,
                                         "items_types": 21, "tags": 1, "uploads": 1, "steps": 1}
        self.teams: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.categories: dict[int, dict[str, Any]] = {}
        self.statuses: dict[int, dict[str, Any]] = {}
        self.resource_categories: dict[int, dict[str, Any]] = {}
        self.tags: dict[int, dict[str, Any]] = {}
        self.uploads: dict[int, dict[str, Any]] = {}
        self.entities: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in ENTITY_PAGES}
        self._seed()

    # --- seeding and adding ----------------------------------------------------------------

    def _seed(self) -> None:
        for team_id, name in ((1, "Alpha"), (2, "Beta")):
            self.ensure_team(team_id, name)
        for userid, first, last, team in ((1, "Ada", "Lovelace", 1), (2, "Grace", "Hopper", 1),
                                          (3, "Alan", "Turing", 2)):
            self.users[userid] = {"userid": userid, "firstname": first, "lastname": last,
                                  "email": f"{first.lower()}@example.org", "team": team}
        for spec in self.keys.values():
            self.ensure_team(int(spec["team"]), f"Team {spec['team']}")
            self.users.setdefault(int(spec["userid"]), {
                "userid": int(spec["userid"]), "firstname": "User", "lastname": str(spec["userid"]),
                "email": f"user{spec['userid']}@example.org", "team": int(spec["team"])})
        for title in ("Imaging", "Spectroscopy", "Simulation"):
            self.add_statuslike(self.categories, title, 1, "32a100")
        self.add_statuslike(self.categories, "Chemistry", 2, "32a100")
        # Team 2 also has an "Imaging" category, listed after team 1's on 5.4+: a client that maps
        # titles to ids over the whole list picks the other team's id.
        self.add_statuslike(self.categories, "Imaging", 2, "5a5a5a")
        equipment = self.add_statuslike(self.resource_categories, "Equipment", 1, "4f5e9e")
        sample = self.add_statuslike(self.resource_categories, "Sample", 1, "c24f3d")
        for title, category in (("Confocal microscope LSM 980", equipment), ("Sample S-001", sample),
                                ("Laser 488 nm", equipment)):
            self.new_entity("items", title=title, team=1, userid=1, category=category)
        for title, category in (("Equipment", equipment), ("Sample", sample)):
            self.new_entity("items_types", title=title, team=1, userid=1, category=category)
        # Templates count from 1 like categories, so a category id is also a template id (the
        # 5.2.5-5.2.8 quirk in Release.category_pulls_template copies template 1 for "Imaging").
        template = self.add_template("Multi-modal imaging session", body="<p>Imaging protocol</p>", category=1,
                                     tags=["imaging"], metadata=SEED_TEMPLATE_METADATA)
        self.entities["experiments_templates"][template]["items_links"].append(101)

    def ensure_team(self, team_id: int, name: str) -> None:
        """A team with elabFTW's four default statuses."""
        if team_id in self.teams:
            return
        self.teams[team_id] = {"id": team_id, "name": name, "created_at": now(), "orgid": "",
                               "visible": 1, "user_create_tag": 1, "force_exp_tpl": 0, "force_res_tpl": 0,
                               "announcement": None, "onboarding_email_active": 0,
                               "onboarding_email_body": None, "onboarding_email_subject": None}
        for title, color in (("Running", "29aeb9"), ("Success", "54aa08"),
                             ("Need to be redone", "c0c0c0"), ("Fail", "c24f3d")):
            self.add_statuslike(self.statuses, title, team_id, color, is_default=title == "Running")

    def first_user(self, team: int) -> int:
        """The lowest user id of a team."""
        return min((u["userid"] for u in self.users.values() if u["team"] == team), default=1)

    def next_id(self, table: str) -> int:
        """The next auto-increment id of ``table``."""
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add_statuslike(self, table: dict[int, dict[str, Any]], title: str, team: int, color: str,
                       is_default: bool = False, is_private: bool = False) -> int:
        """A category or status row."""
        new_id = max(table, default=0) + 1
        ordering = sum(1 for row in table.values() if row["team"] == team)
        table[new_id] = {"id": new_id, "title": title, "color": color, "team": team,
                         "is_default": int(is_default), "ordering": ordering, "is_private": int(is_private),
                         "state": 1}
        return new_id

    def add_template(self, title: str, *, body: str = "", metadata: Any = None, category: int | None = None,
                     tags: Iterable[str] = (), team: int = 1) -> int:
        """An experiments template."""
        record = self.new_entity("experiments_templates", title=title, team=team, body=body,
                                 userid=self.first_user(team), metadata=copy.deepcopy(metadata), category=category)
        record["tag_ids"] = [self.tag_id(team, tag) for tag in tags]
        self.new_step(record, "Prepare the sample")
        return int(record["id"])

    def new_step(self, record: dict[str, Any], body: str, *, ordering: int | None = None,
                 is_immutable: int = 0) -> dict[str, Any]:
        """Insert an ``experiments_steps`` row for ``record`` (src/sql/structure.sql@5.6.12; the
        fake's steps API is in steps.py)."""
        step = {"id": self.next_id("steps"), "item_id": record["id"], "body": body,
                "ordering": ordering if ordering is not None else len(record["steps"]) + 1, "finished": 0,
                "finished_time": None, "deadline": None, "deadline_notif": 0, "is_immutable": is_immutable}
        record["steps"].append(step)
        return step

    def new_entity(self, kind: str, *, title: str, team: int, userid: int, body: str = "",
                   category: int | None = None, metadata: Any = None) -> dict[str, Any]:
        """Insert an entity row with the server's defaults."""
        new_id = self.next_id(kind)
        stamp = now()
        record = {
            "id": new_id, "kind": kind, "title": title, "body": body, "content_type": 1,
            "category": category, "status": None, "metadata": metadata, "tag_ids": [],
            "canread": CAN_LISTS, "canwrite": CAN_LISTS, "canread_base": 30, "canwrite_base": 20,
            "locked": 0, "lockedby": None, "locked_at": None,
            "created_at": stamp, "modified_at": stamp, "date": stamp[:10], "userid": userid, "team": team,
            "lastchangeby": userid, "state": 1, "rating": 0, "custom_id": None, "hide_main_text": 0,
            "elabid": datetime.now().strftime("%Y%m%d") + "-" + secrets.token_hex(20),
            "created_from_id": None, "items_links": [], "experiments_links": [], "uploads": [], "steps": [],
        }
        self.entities[kind][new_id] = record
        return record

    # --- lookups and access rules ----------------------------------------------------------

    def authenticate(self, auth: str | None, release: Release) -> Caller:
        """The caller of an API key (web/app/controllers/ApiController.php, ApiKeys::readFromApiKey):
        no key is 403 on 5.2 and 401 after; an unknown key is 401 "No corresponding API key found!"
        with the release's phrase ("Unauthorized" up to 5.3, "Authentication required" from 5.4)."""
        if not auth:
            description = "" if release.detail_in_message else "Authentication required"
            raise ApiError(release.missing_key_status, description, message="Authentication required")
        spec = self.keys.get(auth.strip())
        if spec is None:
            phrase = "Authentication required" if release.detail_in_message else "Unauthorized"
            raise ApiError(401, "No corresponding API key found!", message=phrase)
        return Caller(int(spec["userid"]), int(spec["team"]), bool(spec.get("can_write", True)),
                      bool(spec.get("is_admin", False)))

    def team_of(self, caller: Caller, team: str) -> int:
        """The team id of a ``{team}`` path segment (``current`` or a number)."""
        team_id = caller.team if team == "current" else int(team)
        if team_id not in self.teams:
            raise ApiError(404, "The resource was not found.")
        if team_id != caller.team:
            raise ApiError(403, "You are not a member of this team.")
        return team_id

    def readable(self, caller: Caller, kind: str, entity_id: int) -> dict[str, Any]:
        """An entity the caller may read (``canOrExplode(AccessType::Read)``)."""
        record = self.entities[kind].get(entity_id)
        if record is None:
            raise ApiError(404, NOT_FOUND)
        base = record["canread_base"]
        if record["userid"] != caller.userid and not (record["team"] == caller.team and base >= 30) and base < 40:
            raise ApiError(403, NO_ACCESS)
        return record

    def writable(self, caller: Caller, entity_id: int, *, unlocked: bool = True) -> dict[str, Any]:
        """An experiment the caller may change (``canOrExplode(AccessType::Write)``)."""
        record = self.readable(caller, "experiments", entity_id)
        base = record["canwrite_base"]
        if record["userid"] != caller.userid and not (record["team"] == caller.team and base >= 30) and base < 40:
            raise ApiError(403, NO_ACCESS)
        if unlocked and record["locked"]:
            raise ApiError(403, "This item is locked.")
        return record

    def touch(self, record: dict[str, Any], caller: Caller) -> None:
        """Record a change by ``caller``."""
        record["modified_at"] = now()
        record["lastchangeby"] = caller.userid

    def known_id(self, table: Mapping[int, Mapping[str, Any]], team: int, key: str, value: Any) -> int | None:
        """A category/status id that exists in ``team`` (the server's foreign keys refuse others)."""
        wanted = positive_int_or_none(key, value)
        if wanted is None:
            return None
        row = table.get(wanted)
        if row is None or row["team"] != team:
            label = "experiments category" if table is self.categories else "experiments status"
            raise ApiError(400, f"Invalid {key}: {wanted} is not an {label} of team {team}.")
        return wanted

    def existing_tag(self, team: int, tag: str) -> int | None:
        """The id of a team tag, if it exists."""
        for row in self.tags.values():
            if row["team"] == team and row["tag"] == tag:
                return int(row["id"])
        return None

    def tag_id(self, team: int, tag: str, caller: Caller | None = None) -> int:
        """The id of a team tag, created when missing. A team whose ``user_create_tag`` is 0 refuses
        a new tag from a non-admin: 400 "Users cannot create tags." (src/Models/Tags.php@5.6.12
        create(); src/models/Tags.php@5.2.8)."""
        found = self.existing_tag(team, tag)
        if found is not None:
            return found
        if caller is not None and not caller.is_admin and not self.teams[team]["user_create_tag"]:
            raise ApiError(400, "Users cannot create tags.")
        new_id = self.next_id("tags")
        self.tags[new_id] = {"id": new_id, "tag": tag, "team": team}
        return new_id
