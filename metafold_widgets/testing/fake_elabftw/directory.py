"""The instance, its users and teams, and the team lists (categories, statuses, tags)."""
from __future__ import annotations

from typing import Any, Mapping

from .call import Call
from .wire import ApiError, Reply, json_reply


def info(call: Call) -> Reply:
    """``GET /info`` (src/Models/Info.php@5.6.12 readAll: the version and a few counts)."""
    store = call.store
    size = sum(u["filesize"] for u in store.uploads.values())
    reported_number = call.reported_version_int
    return json_reply(200, {
        "elabftw_version": call.release.version if reported_number else "dev",
        "elabftw_version_int": reported_number, "ts_balance": 0,
        "all_users_count": len(store.users), "active_users_count": len(store.users),
        "items_count": len(store.entities["items"]), "teams_count": len(store.teams),
        "experiments_count": len(store.entities["experiments"]), "experiments_timestamped_count": 0,
        "uploads_filesize_sum": size, "uploads_filesize_sum_formatted": f"{size} B",
    })


def read_user(call: Call, userid: str) -> Reply:
    """``GET /users/{id|me}``."""
    wanted = call.caller.userid if userid == "me" else int(userid)
    if wanted not in call.store.users:
        raise ApiError(404, "The resource was not found.")
    return json_reply(200, call.views.user(wanted))


def list_teams(call: Call) -> Reply:
    """``GET /teams``: never paged (src/Models/Teams.php readAll)."""
    return json_reply(200, call.page(list(call.store.teams.values()), "teams"))


def read_team(call: Call, team: str) -> Reply:
    """``GET /teams/{id|current}``."""
    return json_reply(200, call.store.teams[call.store.team_of(call.caller, team)])


def _team_rows(call: Call, table: Mapping[int, Mapping[str, Any]], team: str, listing: str) -> Reply:
    """Categories or statuses. From 5.4.0 other teams' non-private rows are listed too
    (src/Models/AbstractStatus.php@5.4.0 readAll: ``is_private = 0 OR team = :team``)."""
    team_id = call.store.team_of(call.caller, team)
    release = call.release
    if release.other_teams_any_state:  # is_private = 0 OR team = :team AND state IN (1)
        rows = [r for r in table.values() if not r["is_private"] or (r["team"] == team_id and r["state"] == 1)]
    elif release.lists_other_teams:
        rows = [r for r in table.values() if (not r["is_private"] or r["team"] == team_id) and r["state"] == 1]
    else:
        rows = [r for r in table.values() if r["team"] == team_id and r["state"] == 1]
    rows.sort(key=lambda r: (r["ordering"], r["id"]), reverse=release.statuslike_descending)
    return json_reply(200, call.page([call.views.statuslike(r, call.caller) for r in rows], listing))


def list_categories(call: Call, team: str) -> Reply:
    """``GET /teams/{team}/experiments_categories``."""
    return _team_rows(call, call.store.categories, team, "experiments_categories")


def list_statuses(call: Call, team: str) -> Reply:
    """``GET /teams/{team}/experiments_status``."""
    return _team_rows(call, call.store.statuses, team, "experiments_status")


def list_team_tags(call: Call, team: str) -> Reply:
    """``GET /teams/{team}/tags``."""
    team_id = call.store.team_of(call.caller, team)
    rows = [call.views.tag_row(t) for t in call.store.tags.values() if t["team"] == team_id]
    return json_reply(200, call.page(rows, "tags"))
