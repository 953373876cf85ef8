"""Rows of the fake's tables as the API returns them: entities (show-mode and full), links,
uploads, users, categories and statuses."""
from __future__ import annotations

from typing import Any, Mapping

from .releases import Release
from .steps import step_row
from .store import ENTITY_PAGES, Caller, Store
from .values import mysql_json, permissions_view

# The columns of a list read that did not go the advanced-search way and has no full=1:
# EntitySqlBuilder::entitySelect(false) plus the joined category/status/user columns and the
# hydrated tags (src/Elabftw/EntitySqlBuilder.php@5.6.12 entitySelect, category, status, usersTeams;
# src/Models/AbstractEntity.php@5.6.12 hydrateTags). No body, no metadata, no elabid.
SHOW_COLUMNS = frozenset({
    "id", "title", "custom_id", "date", "category", "status", "team", "rating", "userid", "locked", "state",
    "canread", "canwrite", "canread_base", "canwrite_base", "created_at", "modified_at", "timestamped",
    "timestampedby", "is_pinned",
    "category_title", "category_color", "status_title", "status_color", "next_step", "recent_comment",
    "firstname", "fullname", "team_name", "tags", "tags_id", "tags_decoded", "page", "type",
})

# BasePermissions::toHuman (src/Enums/BasePermissions.php@5.6.12)
BASE_HUMAN = {50: "Everyone including anonymous users", 40: "Everyone with an account",
              30: "Only members of the team", 20: "Only owner and admins", 10: "Only owner"}


class Views:
    """Representations of the store's rows for one server (its URL and release)."""

    def __init__(self, store: Store, release: Release, url: str):
        self.store = store
        self.release = release
        self.url = url

    def entity(self, kind: str, record: Mapping[str, Any], *, full: bool, listed: bool = False) -> dict[str, Any]:
        """An entity as ``GET /{kind}/{id}`` returns it, or as a row of a list read (``listed``:
        every column with ``full``, else the show-mode columns; never the steps, links, uploads)."""
        store = self.store
        categories = store.resource_categories if kind in ("items", "items_types") else store.categories
        category = categories.get(record["category"]) if record["category"] else None
        status = store.statuses.get(record["status"]) if record["status"] else None
        user = store.users[record["userid"]]
        tags = [store.tags[t] for t in record["tag_ids"]]
        steps = [s["body"] for s in sorted(record.get("steps") or [], key=lambda s: s["ordering"] or 0)
                 if not s["finished"]]  # next_step: the first unfinished one
        out: dict[str, Any] = {
            "id": record["id"], "elabid": record["elabid"], "title": record["title"], "body": record["body"],
            "body_html": record["body"], "content_type": record["content_type"],
            "category": category["id"] if category else None,
            "category_title": category["title"] if category else None,
            "category_color": category["color"] if category else None,
            "status": status["id"] if status else None,
            "status_title": status["title"] if status else None,
            "status_color": status["color"] if status else None,
            "canread": permissions_view(record["canread"], record["canread_base"], self.release),
            "canwrite": permissions_view(record["canwrite"], record["canwrite_base"], self.release),
            "metadata": None if record["metadata"] is None else mysql_json(record["metadata"]),
            "tags": "|".join(t["tag"] for t in tags) or None,
            "tags_id": "|".join(str(t["id"]) for t in tags) or None,
            "locked": record["locked"], "lockedby": record["lockedby"], "locked_at": record["locked_at"],
            "created_at": record["created_at"], "modified_at": record["modified_at"], "date": record["date"],
            "lastchangeby": record["lastchangeby"], "userid": record["userid"], "team": record["team"],
            "team_name": store.teams[record["team"]]["name"],
            "firstname": user["firstname"], "lastname": user["lastname"],
            "fullname": f"{user['firstname']} {user['lastname']}", "orcid": None,
            "state": record["state"], "rating": record["rating"], "custom_id": record["custom_id"],
            "timestamped": 0, "timestampedby": None, "timestamped_at": None, "access_key": None,
            "created_from_id": record["created_from_id"], "next_step": steps[0] if steps else None,
            "recent_comment": None, "is_pinned": 0, "page": ENTITY_PAGES[kind], "type": kind,
            "sharelink": f"{self.url}/{ENTITY_PAGES[kind]}.php?mode=view&id={record['id']}",
        }
        if self.release.hide_main_text:
            out["hide_main_text"] = record["hide_main_text"]
        if self.release.base_columns:  # src/Models/AbstractEntity.php@5.4.6 readOne: the *_base_human texts
            out.update(canread_base=record["canread_base"], canwrite_base=record["canwrite_base"],
                       canread_base_human=BASE_HUMAN[record["canread_base"]],
                       canwrite_base_human=BASE_HUMAN[record["canwrite_base"]])
        if kind in ("experiments_templates", "items_types"):
            out.update(canread_is_immutable=0, canwrite_is_immutable=0)
        if self.release.at_least("5.6.0"):  # hydrateTags (src/Models/AbstractEntity.php@5.6.0)
            out["tags_decoded"] = [{"id": t["id"], "tag": t["tag"], "is_favorite": 0} for t in tags]
        if not full:
            return {k: v for k, v in out.items() if k in SHOW_COLUMNS}
        if not listed:
            out.update(self._children(kind, record))
        return out

    def _children(self, kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
        related = [e for e in self.store.entities["experiments"].values()
                   if record["id"] in e["experiments_links"] and kind == "experiments"]
        uploads = self.store.uploads
        return {
            "items_links": [self.link("items", t) for t in record["items_links"]],
            "experiments_links": [self.link("experiments", t) for t in record["experiments_links"]],
            "related_items_links": [],
            "related_experiments_links": [self.link("experiments", e["id"]) for e in related],
            "uploads": [self.upload(u) for u in record["uploads"] if uploads[u]["state"] == 1],
            "steps": [step_row(self.release, s) for s in sorted(record.get("steps") or [],
                                                                   key=lambda s: (s["ordering"] or 0, s["id"]))],
            "comments": [], "compounds_links": [],
        }

    def link(self, kind: str, target_id: int) -> dict[str, Any]:
        """A row of ``items_links``/``experiments_links``."""
        store = self.store
        target = store.entities[kind][target_id]
        categories = store.resource_categories if kind == "items" else store.categories
        category = categories.get(target["category"]) if target["category"] else None
        status = store.statuses.get(target["status"]) if target["status"] else None
        return {
            "entityid": target_id, "title": target["title"], "custom_id": target["custom_id"],
            "category_id": category["id"] if category else None,
            "category_title": category["title"] if category else None,
            "category_color": category["color"] if category else None,
            "status_id": status["id"] if status else None,
            "status_title": status["title"] if status else None,
            "status_color": status["color"] if status else None,
            "is_bookable": 0, "link_state": target["state"], "page": ENTITY_PAGES[kind], "type": kind,
        }

    def upload(self, upload_id: int) -> dict[str, Any]:
        """An upload row without its bytes."""
        return {k: v for k, v in self.store.uploads[upload_id].items() if k != "data"}

    def statuslike(self, row: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
        """A category or status row; 5.4+ flags whether it belongs to the caller's team
        (src/Models/AbstractStatus.php@5.4.0 readAll)."""
        out = {k: row[k] for k in ("id", "title", "color", "is_default", "ordering", "state", "team")}
        if self.release.lists_other_teams:
            out.update(is_private=row["is_private"], team_name=self.store.teams[row["team"]]["name"],
                       is_current_team=int(row["team"] == caller.team))
            if self.release.at_least("5.6.0"):
                del out["is_default"]  # dropped in 5.6.0
        return out

    def tag_row(self, tag: Mapping[str, Any]) -> dict[str, Any]:
        """A team tag with its use count."""
        count = sum(tag["id"] in e["tag_ids"] for kind in self.store.entities.values() for e in kind.values())
        return {"id": tag["id"], "tag": tag["tag"], "team": tag["team"], "item_count": count, "is_favorite": 0}

    def user(self, userid: int) -> dict[str, Any]:
        """``GET /users/{id}``."""
        user = self.store.users[userid]
        team = self.store.teams[user["team"]]
        return {
            "userid": userid, "firstname": user["firstname"], "lastname": user["lastname"],
            "fullname": f"{user['firstname']} {user['lastname']}", "email": user["email"],
            "initials": user["firstname"][:1] + user["lastname"][:1], "orcid": None, "sig_pubkey": None,
            "team": team["id"], "validated": 1, "is_sysadmin": 0,
            "teams": [{"id": team["id"], "name": team["name"], "is_admin": 0, "is_owner": 0, "is_archived": 0}],
        }
