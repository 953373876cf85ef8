"""``/experiments/{id}/steps`` and ``/experiments/{id}/steps/{subid}``, as src/Models/Steps.php does
them (src/models/Steps.php@5.2.8; src/Models/Steps.php@5.4.6, 5.6.6, 5.6.12, 6.0.0-alpha4).

Rows are the ``experiments_steps`` table (src/sql/structure.sql): ``id, item_id, body, ordering,
finished, finished_time, deadline, deadline_notif``, plus ``is_immutable`` from 5.4.0.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .values import now, php_string
from .wire import ApiError, Reply, created, json_reply

if TYPE_CHECKING:  # call.py imports the views, which read steps through step_row
    from .call import Call

MAX_STEP_CHARS = 255


def step_row(release: Any, step: dict[str, Any]) -> dict[str, Any]:
    """A step as ``SELECT *`` returns it on this release (no ``is_immutable`` before 5.4.0)."""
    row = dict(step)
    if not release.at_least("5.4.0"):
        row.pop("is_immutable", None)
    return row


def title_filter(text: str) -> str:
    """``Filter::title`` (src/Services/Filter.php@5.6.12), which ``Steps::create`` applies: trimmed,
    line breaks become spaces, at most 255 characters, "Untitled" when empty."""
    text = text.strip()
    if not text:
        return "Untitled"
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")[:MAX_STEP_CHARS]


def list_steps(call: Call, exp_id: int) -> Reply:
    """``GET``: readAll, ``ORDER BY ordering``."""
    record = call.store.readable(call.caller, "experiments", exp_id)
    rows = sorted(record["steps"], key=lambda s: (s["ordering"] or 0, s["id"]))
    return json_reply(200, [step_row(call.release, s) for s in rows])


def read_step(call: Call, exp_id: int, step_id: int) -> Reply:
    """``GET`` one step (readOne)."""
    record = call.store.readable(call.caller, "experiments", exp_id)
    return json_reply(200, step_row(call.release, _step(record, step_id)))


def add_step(call: Call, exp_id: int) -> Reply:
    """``POST``: ``create($reqBody['body'] ?? 'RTFM')`` at the end (ordering = count + 1); 201 with
    the step's address in Location."""
    params = call.json_body()
    record = call.store.writable(call.caller, exp_id)
    body = title_filter(php_string(params.get("body", "RTFM")))
    step = call.store.new_step(record, body, ordering=len(record["steps"]) + 1)
    call.store.touch(record, call.caller)
    return created(f"{call.api_url}/experiments/{exp_id}/steps/{step['id']}")


def patch_step(call: Call, exp_id: int, step_id: int) -> Reply:
    """``PATCH``: ``finish`` toggles ``finished`` (``SET finished = !finished``); ``update`` (the
    default action) sets ``body``/``deadline``/``finished_time``, refusing ``is_immutable`` and any
    change to an immutable step from 5.4.0. Answers the step (readOne)."""
    params = call.json_body()
    record = call.store.writable(call.caller, exp_id)
    step = _step(record, step_id)
    action = str(params.get("action") or "update")
    if action == "finish":
        step["finished"] = 0 if step["finished"] else 1
        step["finished_time"] = now()
        step["deadline"] = None
        step["deadline_notif"] = 0
    elif action == "update":
        changes = {k: v for k, v in params.items() if k != "action"}
        if call.release.at_least("5.4.0"):
            if "is_immutable" in changes:
                raise ApiError(400, "The immutability parameter cannot be modified from experiments or resources.")
            if step.get("is_immutable") == 1 and set(changes) & {"body", "ordering"}:
                raise ApiError(400, "This step is immutable: it cannot be modified.")
        for key, value in changes.items():
            text = php_string(value)
            if key == "body":
                text = text.replace("|", "")
                if len(text) < 1:
                    raise ApiError(400, "Input is too short! (minimum: 1)")
                step["body"] = text
            elif key in ("deadline", "finished_time"):
                step[key] = text or None
            else:
                raise ApiError(400, "Incorrect parameter for steps.")
    elif action in ("notif", "notifdestroy"):
        step["deadline_notif"] = 0 if action == "notifdestroy" else int(not step["deadline_notif"])
    else:
        raise ApiError(400, "Invalid action for steps.")
    call.store.touch(record, call.caller)
    return json_reply(200, step_row(call.release, step))


def delete_step(call: Call, exp_id: int, step_id: int) -> Reply:
    """``DELETE``: the row goes (``WHERE id = :id AND item_id = :item_id``)."""
    record = call.store.writable(call.caller, exp_id)
    step = _step(record, step_id)
    record["steps"].remove(step)
    call.store.touch(record, call.caller)
    return Reply(204)


def _step(record: dict[str, Any], step_id: int) -> dict[str, Any]:
    for step in record["steps"]:
        if step["id"] == step_id:
            return step
    raise ApiError(404, "Nothing to show with this id")
