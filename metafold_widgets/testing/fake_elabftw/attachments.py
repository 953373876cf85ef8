"""What hangs off an experiment: tags, links to items and experiments, uploads."""
from __future__ import annotations

import hashlib
from typing import Any

from .call import Call
from .values import now
from .wire import ApiError, Reply, created, json_reply, parse_multipart


def list_tags(call: Call, exp_id: int) -> Reply:
    """The experiment's tags."""
    record = call.store.readable(call.caller, "experiments", exp_id)
    return json_reply(200, [call.views.tag_row(call.store.tags[t]) for t in record["tag_ids"]])


def add_tag(call: Call, exp_id: int) -> Reply:
    """``POST /experiments/{id}/tags`` with ``{"tag": ...}`` (a team may forbid new tags:
    src/Models/Tags.php@5.6.12 create)."""
    record = call.store.writable(call.caller, exp_id)
    params = call.json_body()
    names = params["tags"] if isinstance(params.get("tags"), list) else [params.get("tag")]
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise ApiError(400, "Tag is too short!")
    tag_id = 0
    for name in names:
        assert isinstance(name, str)
        tag_id = call.store.tag_id(record["team"], name.strip(), call.caller)
        if tag_id not in record["tag_ids"]:
            record["tag_ids"].append(tag_id)
    call.store.touch(record, call.caller)
    return created(f"{call.api_url}/experiments/{exp_id}/tags/{tag_id}")


def list_links(call: Call, exp_id: int, kind: str) -> Reply:
    """``items_links`` or ``experiments_links`` of an experiment."""
    record = call.store.readable(call.caller, "experiments", exp_id)
    return json_reply(200, [call.views.link(kind, t) for t in record[f"{kind}_links"]])


def add_link(call: Call, exp_id: int, target: int, kind: str) -> Reply:
    """A link, idempotent like the server's ``INSERT IGNORE`` (src/Models/Links/AbstractLinks.php@5.6.12)."""
    record = call.store.writable(call.caller, exp_id)
    call.store.readable(call.caller, kind, target)  # 404 when the target does not exist
    if target not in record[f"{kind}_links"]:
        record[f"{kind}_links"].append(target)
    call.store.touch(record, call.caller)
    # getApiPath() names the table, not the route (src/Models/Links/AbstractLinks.php@5.6.12)
    return created(f"{call.api_url}/experiments/{exp_id}/experiments2{kind}/{target}")


def delete_link(call: Call, exp_id: int, target: int, kind: str) -> Reply:
    """Remove a link."""
    record = call.store.writable(call.caller, exp_id)
    if target not in record[f"{kind}_links"]:
        raise ApiError(404, "The resource was not found.")
    record[f"{kind}_links"].remove(target)
    call.store.touch(record, call.caller)
    return Reply(204)


def list_uploads(call: Call, exp_id: int) -> Reply:
    """The experiment's live uploads."""
    record = call.store.readable(call.caller, "experiments", exp_id)
    uploads = call.store.uploads
    return json_reply(200, [call.views.upload(u) for u in record["uploads"] if uploads[u]["state"] == 1])


def add_upload(call: Call, exp_id: int) -> Reply:
    """``POST /experiments/{id}/uploads``: multipart ``file`` and ``comment`` (src/Models/Uploads.php@5.6.12
    postAction; "Error reading file!" without a file)."""
    record = call.store.writable(call.caller, exp_id)
    fields = parse_multipart(call.request.content_type, call.request.body)
    upload = fields.get("file")
    if upload is None or upload["filename"] is None:
        raise ApiError(400, "Error reading file!")
    comment = fields.get("comment", {}).get("data", b"").decode("utf-8", "replace")
    upload_id = _store_upload(call, record, upload["filename"] or "upload", upload["data"], comment)
    call.store.touch(record, call.caller)
    return created(f"{call.api_url}/experiments/{exp_id}/uploads/{upload_id}")


def _store_upload(call: Call, record: dict[str, Any], name: str, data: bytes, comment: str) -> int:
    store = call.store
    upload_id = store.next_id("uploads")
    user = store.users[call.caller.userid]
    digest = hashlib.sha256(data).hexdigest()
    extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
    store.uploads[upload_id] = {
        "id": upload_id, "real_name": name, "long_name": f"{digest[:2]}/{digest}.{extension}",
        "comment": comment, "item_id": record["id"], "userid": call.caller.userid, "type": "experiments",
        "created_at": now(), "hash": digest, "hash_algorithm": "sha256", "storage": 1,
        "filesize": len(data), "state": 1, "immutable": 0,
        "fullname": f"{user['firstname']} {user['lastname']}", "data": data,
    }
    record["uploads"].append(upload_id)
    return upload_id


def read_upload(call: Call, exp_id: int, upload_id: int) -> Reply:
    """An upload's row, or its bytes with ``format=binary``."""
    record = call.store.readable(call.caller, "experiments", exp_id)
    if upload_id not in record["uploads"]:
        raise ApiError(404, "The resource was not found.")
    if call.query.get("format") == "binary":
        return Reply(200, call.store.uploads[upload_id]["data"], "application/octet-stream")
    return json_reply(200, call.views.upload(upload_id))
