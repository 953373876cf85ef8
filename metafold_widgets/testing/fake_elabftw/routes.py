"""Which handler answers which path and method, and the checks every API request passes first
(src/Controllers/Apiv2Controller.php: getResponse, parseReq, applyRestrictions)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Mapping

from . import attachments, directory, experiments, steps
from .call import Call
from .wire import ApiError, Reply

Handler = Callable[..., Reply]
METHODS = ("GET", "POST", "PATCH", "DELETE")  # nginx filters the others


@dataclass(frozen=True)
class Route:
    """A path pattern (``{int}``, ``{team}``, ``{user}`` placeholders) and its handlers."""

    pattern: tuple[str, ...]
    handlers: Mapping[str, Handler]
    unimplemented: frozenset[str] = field(default_factory=frozenset)

    def match(self, segments: list[str]) -> list[Any] | None:
        """The path parameters when ``segments`` fit the pattern."""
        if len(self.pattern) != len(segments):
            return None
        params: list[Any] = []
        for token, segment in zip(self.pattern, segments):
            if token == "{int}":
                if not segment.isdigit():
                    return None
                params.append(int(segment))
            elif token in ("{team}", "{user}"):
                alias = "current" if token == "{team}" else "me"
                if segment != alias and not segment.isdigit():
                    return None
                params.append(segment)
            elif token != segment:
                return None
        return params


def _route(pattern: str, unimplemented: tuple[str, ...] = (), **handlers: Handler) -> Route:
    return Route(tuple(pattern.strip("/").split("/")), handlers, frozenset(unimplemented))


def _entity_routes(kind: str) -> list[Route]:
    return [_route(kind, ("POST",), GET=partial(experiments.list_entities, kind=kind)),
            _route(f"{kind}/{{int}}", ("POST", "PATCH", "DELETE"),
                   GET=lambda call, entity_id: experiments.read_entity(call, kind, entity_id))]


def _links(kind: str) -> list[Route]:
    return [_route(f"experiments/{{int}}/{kind}_links", GET=partial(attachments.list_links, kind=kind)),
            _route(f"experiments/{{int}}/{kind}_links/{{int}}", POST=partial(attachments.add_link, kind=kind),
                   DELETE=partial(attachments.delete_link, kind=kind))]


ROUTES: tuple[Route, ...] = (
    _route("info", GET=directory.info),
    _route("users", ("GET", "POST")),
    _route("users/{user}", ("PATCH",), GET=directory.read_user),
    _route("teams", ("POST",), GET=directory.list_teams),
    _route("teams/{team}", ("PATCH",), GET=directory.read_team),
    _route("teams/{team}/experiments_categories", ("POST",), GET=directory.list_categories),
    _route("teams/{team}/experiments_status", ("POST",), GET=directory.list_statuses),
    _route("teams/{team}/status", ("POST",), GET=directory.list_statuses),
    _route("teams/{team}/tags", ("POST",), GET=directory.list_team_tags),
    _route("experiments", GET=partial(experiments.list_entities, kind="experiments"),
           POST=experiments.create_experiment),
    _route("experiments/{int}", ("POST",),
           GET=lambda call, exp_id: experiments.read_entity(call, "experiments", exp_id),
           PATCH=experiments.patch_experiment, DELETE=experiments.delete_experiment),
    _route("experiments/{int}/tags", ("DELETE",), GET=attachments.list_tags, POST=attachments.add_tag),
    *_links("items"),
    *_links("experiments"),
    _route("experiments/{int}/uploads", GET=attachments.list_uploads, POST=attachments.add_upload),
    _route("experiments/{int}/steps", GET=steps.list_steps, POST=steps.add_step),
    _route("experiments/{int}/steps/{int}", ("POST",), GET=steps.read_step, PATCH=steps.patch_step,
           DELETE=steps.delete_step),
    _route("experiments/{int}/uploads/{int}", ("POST", "PATCH", "DELETE"), GET=attachments.read_upload),
    *_entity_routes("items"),
    *_entity_routes("experiments_templates"),
    *_entity_routes("items_types"),
    _route("extra_fields_keys", GET=experiments.extra_fields_keys),
)


def find_route(api_path: str) -> tuple[Route, list[Any]]:
    """The route of a path below ``/api/v2``; 404 for none (parseReq: "Incorrect endpoint")."""
    segments = [s for s in api_path.split("/") if s]
    for route in ROUTES:
        params = route.match(segments)
        if params is not None:
            return route, params
    raise ApiError(404, "The resource was not found.")


def handler_for(route: Route, method: str) -> Handler:
    """The handler of ``method``; 501 for what the real server has and the fake does not, else 405."""
    handler = route.handlers.get(method)
    if handler is not None:
        return handler
    if method in route.unimplemented:
        raise ApiError(501, f"{method} on this endpoint exists on a real server but is not emulated by FakeElabftw.")
    allowed = sorted(set(route.handlers) | route.unimplemented)
    raise ApiError(405, f"Method {method} is not allowed on this endpoint.", {"Allow": ", ".join(allowed)})


def check_content_type(call: Call, is_upload: bool) -> None:
    """Only ``application/json`` (exactly) is accepted on POST and PATCH, multipart only for an
    upload; GET and DELETE need none (src/Controllers/Apiv2Controller.php@5.6.12 applyRestrictions;
    5.1 checks DELETE too, src/controllers/Apiv2Controller.php@5.1.15)."""
    method = call.request.method
    exempt = ("GET",) if call.release.content_type_checked_on_delete else ("GET", "DELETE")
    if method in exempt:
        return
    content_type = call.request.content_type
    if is_upload and method == "POST" and content_type.startswith("multipart/form-data"):
        return
    if content_type != "application/json":
        raise ApiError(400, "Incorrect content-type header.")
