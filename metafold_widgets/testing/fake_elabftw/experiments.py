"""``/experiments`` and ``/experiments/{id}``: list and search, read and export, create, update,
delete, release by release."""
from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any, Callable

from . import exports
from .call import Call
from .purifier import purify_body
from .search import CompiledQuery, SearchRow, SearchSyntaxError, UnsupportedSearch, compile_query
from .values import (
    base_of,
    base_permission,
    content_type,
    decode_metadata_string,
    merge_metadata,
    now,
    patch_string,
    permissions_json,
    positive_int_or_none,
)
from .wire import ApiError, Reply, created, json_reply, query_int

ORDER_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "id": lambda r: r["id"],
    "date": lambda r: (r["date"], r["id"]),
    "lastchange": lambda r: (r["modified_at"], r["id"]),
    "title": lambda r: (r["title"].lower(), r["id"]),
    "cat": lambda r: (r["category"] or 0, r["id"]),
    "status": lambda r: (r["status"] or 0, r["id"]),
    "rating": lambda r: (r["rating"], r["id"]),
    "customid": lambda r: (r["custom_id"] or 0, r["id"]),
    "user": lambda r: (r["userid"], r["id"]),
}


def list_entities(call: Call, kind: str) -> Reply:
    """A list read (``readShow``): the team's rows, filtered by ``q``/state/category/status, ordered
    and paged. Show-mode columns only, unless the search went the advanced way or ``full=1`` on
    5.6.9+ (src/Models/AbstractEntity.php@5.6.12 readShow; src/Params/DisplayParams.php@5.6.9)."""
    query = call.query
    rows = [r for r in call.store.entities[kind].values() if r["team"] == call.caller.team]
    states = {s for s in str(query.get("state", "1")).split(",") if s}
    rows = [r for r in rows if str(r["state"]) in states]
    compiled = _compile(call, str(query.get("q", "")))
    if compiled is not None:
        rows = [r for r in rows if compiled.matches(_search_row(call, r))]
    for key in ("category", "status"):
        if query.get(key):
            wanted = {None if v == "null" else int(v) for v in str(query[key]).split(",") if v.strip()}
            rows = [r for r in rows if r[key] in wanted]
    default = "date" if kind in ("experiments", "items") else "id"
    order_key = ORDER_KEYS.get(str(query.get("order", default)), ORDER_KEYS[default])
    sort = str(query.get("sort", "desc" if default == "date" else "asc")).lower()
    rows = sorted(rows, key=order_key, reverse=sort != "asc")
    full = (not call.release.show_mode_lists or (compiled is not None and compiled.advanced)
            or (call.release.full_param and query_int(query, "full", 0) == 1))
    rows = call.page(rows, kind)
    return json_reply(200, [call.views.entity(kind, r, full=full, listed=True) for r in rows])


def _compile(call: Call, q: str) -> CompiledQuery | None:
    if not q.strip():
        return None
    try:
        return compile_query(q, version_int=call.release.number, min_token_size=call.store.ft_min_token_size)
    except SearchSyntaxError as exc:
        raise ApiError(400, exc.message) from None
    except UnsupportedSearch as exc:
        raise ApiError(501, f"This search is valid but not emulated by FakeElabftw: {exc}") from None


def _search_row(call: Call, record: dict[str, Any]) -> SearchRow:
    store = call.store
    category = store.categories.get(record["category"]) if record["category"] else None
    status = store.statuses.get(record["status"]) if record["status"] else None
    user = store.users[record["userid"]]
    metadata = record["metadata"] if isinstance(record["metadata"], dict) else None
    return SearchRow(id=record["id"], title=record["title"], body=record["body"] or "", elabid=record["elabid"],
                     custom_id=record["custom_id"], date=record["date"],
                     category_title=category["title"] if category else None,
                     status_title=status["title"] if status else None,
                     fullname=f"{user['firstname']} {user['lastname']}", rating=record["rating"],
                     locked=bool(record["locked"]), state=record["state"],
                     tags=tuple(store.tags[t]["tag"] for t in record["tag_ids"]), metadata=metadata)


def read_entity(call: Call, kind: str, entity_id: int) -> Reply:
    """``GET /{kind}/{id}``: every column, or an export with ``format``."""
    fmt = str(call.query.get("format", "json"))
    record = call.store.readable(call.caller, kind, entity_id)
    if kind == "experiments" and fmt in ("pdf", "eln"):
        return exports.pdf(call, record) if fmt == "pdf" else exports.eln(call, record)
    if fmt == "elnhtml" and not call.release.elnhtml_export:
        raise ApiError(400, "Incorrect format value.")
    if fmt != "json":
        raise ApiError(501, f"Export format {fmt!r} is not emulated by FakeElabftw.")
    return json_reply(200, call.views.entity(kind, record, full=True))


def create_experiment(call: Call) -> Reply:
    """``POST /experiments`` as ``postAction``/``create`` do it: the row is inserted first, then the
    template's tags, steps and links, then the request's tags, one by one (a forbidden tag
    answers 400 with the experiment kept: src/Models/Experiments.php@5.6.12 create)."""
    params = call.json_body()
    store, caller = call.store, call.caller
    category = store.known_id(store.categories, caller.team, "category", params.get("category"))
    status = store.known_id(store.statuses, caller.team, "status", params.get("status"))  # foreign keys
    template_id = _template_id(call, params, category)
    if "template" in params and template_id > 0:
        template: dict[str, Any] | None = store.readable(caller, "experiments_templates", template_id)
    else:  # the 5.2.5-5.2.8 quirk reads no template row: a missing one copies nothing
        template = store.entities["experiments_templates"].get(template_id) if template_id > 0 else None
    title = patch_string("title", params.get("title")).strip() or "Untitled"
    record = store.new_entity("experiments", title=title, team=caller.team, userid=caller.userid)
    if template is not None and "template" in params:
        if not call.release.template_keeps_title:
            record["title"] = template["title"]
        for key in ("body", "content_type", "category", "status", "canread", "canwrite", "canread_base",
                    "canwrite_base", "hide_main_text", "metadata"):
            record[key] = copy.deepcopy(template[key])
        record["created_from_id"] = template_id
    else:
        record.update(_fields_from_post(call, params), category=category, status=status)
    if template is not None:  # tags, steps and links of the template are copied after the insert
        record["tag_ids"] = list(template["tag_ids"])
        for step in template.get("steps") or []:  # Steps::duplicate: new rows, unfinished
            store.new_step(record, step["body"], ordering=step["ordering"], is_immutable=step["is_immutable"])
        record["items_links"] = list(template["items_links"])
        record["experiments_links"] = list(template["experiments_links"])
    location = f"{call.api_url}/experiments/{record['id']}"
    for tag in _tags(params):
        tag_id = store.tag_id(caller.team, tag, caller)  # may raise: the experiment stays
        if tag_id not in record["tag_ids"]:
            record["tag_ids"].append(tag_id)
    return created(location)


def _template_id(call: Call, params: dict[str, Any], category: int | None) -> int:
    """Which template the new experiment copies. 5.2.5-5.2.8 read
    ``template ?? category_id ?? category ?? -1`` (src/Models/Experiments.php@5.2.8 postAction)."""
    raw: Any = params.get("template")
    if raw is None and call.release.category_pulls_template:
        raw = params.get("category_id", category)
    try:
        return int(raw if raw is not None else -1)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid template: {raw!r} is not an integer.") from None


def _tags(params: dict[str, Any]) -> list[str]:
    tags = params.get("tags", [])
    if isinstance(tags, str):  # "force tags to be an array" (postAction)
        tags = [tags]
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise ApiError(400, "Invalid tags: expected a list of non-empty strings.")
    return [t.strip() for t in tags]


def _fields_from_post(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    release = call.release
    # without content_type (or before 5.4, whatever is sent) the user's editor preference decides
    fields: dict[str, Any] = {"content_type": 2 if call.store.users[call.caller.userid].get("use_markdown") else 1}
    for key, default in (("canread", 30), ("canwrite", 20)):
        if params.get(key) is not None:  # the JSON's base, for backward compatibility from 5.4
            fields[key] = permissions_json(key, params[key], release)
            fields[f"{key}_base"] = base_of(fields[key], default)
        if release.base_columns and f"{key}_base" in params:  # src/Models/AbstractEntity.php@5.6.12 postAction
            fields[f"{key}_base"] = base_permission(f"{key}_base", params[f"{key}_base"])
    if release.metadata_on_post:
        fields["body"] = purify_body(release, patch_string("body", params.get("body")))
        if params.get("metadata"):  # !empty(): json_encode($reqBody['metadata'])
            fields["metadata"] = _posted_metadata(release, params["metadata"])
    if release.content_type_on_post and "content_type" in params:
        fields["content_type"] = content_type(params["content_type"])
    return fields


def _posted_metadata(release: Any, value: Any) -> Any:
    """POST ``metadata``: an object is stored as JSON; a string is encoded again (a JSON string
    scalar) before 6.0, stored as is on 6.0.0-alpha4, where MySQL refuses it unless it is JSON
    (src/Models/AbstractConcreteEntity.php@5.6.12 postAction, @6.0.0-alpha4)."""
    if isinstance(value, str) and release.metadata_string_kept:
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(500, "Invalid JSON text: \"Invalid value.\" at position 0 in value for column "
                                "'experiments.metadata'.") from None
    return copy.deepcopy(value)


def patch_experiment(call: Call, exp_id: int) -> Reply:
    """``PATCH /experiments/{id}``: keys applied one by one, the first invalid one aborts the rest
    (src/Models/AbstractEntity.php@5.6.12 patch: ``(string) $value`` per key)."""
    params = call.json_body()
    store = call.store
    action = params.get("action")
    if action in _ACTIONS:
        record = store.writable(call.caller, exp_id, unlocked=False)
        _patch_action(call, record, action)
    else:  # Action::tryFrom() ?? Update: every key, "action" included, is an update target
        record = store.writable(call.caller, exp_id)
        for key, value in params.items():
            _patch_key(call, record, key, value)
            store.touch(record, call.caller)
    return json_reply(200, call.views.entity("experiments", record, full=True))


_ACTIONS = ("lock", "forcelock", "forceunlock", "pin", "bloxberg", "exclusiveeditmode", "sign", "timestamp",
            "updatemetadatafield")


def _patch_action(call: Call, record: dict[str, Any], action: Any) -> None:
    if action == "lock":
        set_lock(record, not record["locked"], call.caller.userid)
    elif action in ("forcelock", "forceunlock"):
        set_lock(record, action == "forcelock", call.caller.userid)
    elif action == "pin":
        return
    elif action in ("bloxberg", "exclusiveeditmode", "sign", "timestamp", "updatemetadatafield"):
        raise ApiError(501, f"Action {action!r} is not emulated by FakeElabftw.")
    else:
        raise ApiError(400, "Incorrect action value.")


def set_lock(record: dict[str, Any], locked: bool, userid: int | None) -> None:
    """Lock or unlock as ``userid`` (the owner when None)."""
    record["locked"] = int(locked)
    record["lockedby"] = (userid or record["userid"]) if locked else None
    record["locked_at"] = now() if locked else None


def _patch_key(call: Call, record: dict[str, Any], key: str, value: Any) -> None:
    """One PATCH key (src/Params/EntityParams.php getContent: an unknown target is 400)."""
    store, release = call.store, call.release
    if key in ("title", "body", "bodyappend"):
        text = patch_string(key, value)
        if key == "title":
            record["title"] = text.strip() or "Untitled"
        else:
            # ContentParams::getBody: Filter::body (purifier.py) on what is sent
            record["body"] = (record["body"] if key == "bodyappend" else "") + purify_body(release, text)
    elif key in ("category", "status"):
        table = store.categories if key == "category" else store.statuses
        record[key] = store.known_id(table, record["team"], key, value)
    elif key == "content_type":
        record["content_type"] = content_type(patch_string(key, value))
    elif key in ("rating", "custom_id"):
        number = positive_int_or_none(key, value)
        if key == "rating" and (number or 0) > 5:
            raise ApiError(400, "Invalid value for rating: expected 0 to 5.")
        record[key] = number or 0 if key == "rating" else number
    elif key == "date":
        text = patch_string(key, value)
        try:
            record["date"] = datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d")
        except ValueError:
            raise ApiError(400, f"Invalid value for date: {text!r} (expected YYYY-MM-DD).") from None
    elif key in ("canread", "canwrite"):
        record[key] = permissions_json(key, patch_string(key, value), release)
        if not release.base_columns:  # before 5.4 the JSON's base is the base
            record[f"{key}_base"] = base_of(record[key], record[f"{key}_base"])
    elif key in ("canread_base", "canwrite_base") and release.base_columns:
        record[key] = base_permission(key, value)
    elif key == "state":
        _set_state(record, patch_string(key, value))
    elif key in ("userid", "team") and release.owner_keys_refused:
        raise ApiError(400, "Use the 'action:updateowner' to transfer ownership.")
    elif key == "userid":
        _set_owner(call, record, value)
    elif key == "metadata":
        record["metadata"] = decode_metadata_string(key, value)
    elif key == "metadatamerge" and release.merge_mode != "none":
        record["metadata"] = merge_metadata(release, record["metadata"], decode_metadata_string(key, value))
    elif key == "hide_main_text" and release.hide_main_text:
        text = patch_string(key, value)
        if text not in ("", "0", "1"):
            raise ApiError(400, f"Invalid value for hide_main_text: {text!r} (expected 0 or 1).")
        record["hide_main_text"] = int(text == "1")
    else:
        raise ApiError(400, "Invalid update target.")


def _set_state(record: dict[str, Any], text: str) -> None:
    if text not in ("1", "2", "3"):
        raise ApiError(400, f"Invalid value for state: {text!r}.")
    record["state"] = int(text)


def _set_owner(call: Call, record: dict[str, Any], value: Any) -> None:
    target = positive_int_or_none("userid", value)
    user = call.store.users.get(target or 0)
    if user is None or user["team"] != record["team"]:
        raise ApiError(400, f"Invalid value for userid: {value!r} is not a member of the team.")
    record["userid"] = user["userid"]


def delete_experiment(call: Call, exp_id: int) -> Reply:
    """Soft delete: the row stays with state 3, like the server."""
    record = call.store.writable(call.caller, exp_id)
    record["state"] = 3
    call.store.touch(record, call.caller)
    return Reply(204)


def extra_fields_keys(call: Call) -> Reply:
    """``GET /extra_fields_keys``: custom-field names of the team with their frequency."""
    needle = str(call.query.get("q", "")).strip().lower()
    counts: dict[str, int] = {}
    for kind in call.store.entities.values():
        for record in kind.values():
            metadata = record["metadata"]
            fields = metadata.get("extra_fields") if isinstance(metadata, dict) else None
            if record["team"] == call.caller.team and record["state"] != 3 and isinstance(fields, dict):
                for name in fields:
                    counts[name] = counts.get(name, 0) + 1
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    rows = [{"extra_fields_key": k, "frequency": n} for k, n in ranked if needle in k.lower()]
    return json_reply(200, call.page(rows, unlimited_below=-1))

