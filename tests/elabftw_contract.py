"""Contract checks: elabFTW API exchanges validated against the official OpenAPI description.

The 5.6.12 description is loaded with spec validation off (it fails strict validation) and the
test server's URL is mapped onto its first ``servers`` entry. Where the description and the real
server disagree the server wins (``/work/shared/elabftw/NOTES.md``); each such correction is a
small function below, applied to the in-memory copy only:

* ``metadata`` sub-schema: the 5.6.12 ``extra_fields`` part lists property names as types; the
  6.0.0 description's fixed schema is used instead, plus our own rules (``extra_fields_problems``).
* ``Error.code`` is a string in the description; the server sends an integer.
* ``/teams/{id}/...`` takes ``current`` like ``/teams/{id}`` does (the description says integer).
* ``GET /info`` 200 is a ``oneOf`` of two property-only objects, which no object can satisfy
  (it matches both); the plain branch is used (the histogram form needs ``?hist``).
* ``allowEmptyValue`` (deprecated, only on ``/info``'s ``hist``) is dropped: openapi-core would
  warn on every ``/info`` call otherwise.
* Operations get a ``default`` Error response: the server answers 403 (read-only key, locked
  entry), 405, 429, 500... where the description lists fewer statuses. Undocumented *success*
  statuses are still violations.
* PATCH values are cast to strings by the server, so ``metadata``/``metadatamerge`` travel as
  JSON strings: they must be strings, and their decoded content is validated. Entities carry
  ``metadata`` as a JSON string too (the description says object): same treatment.
* A step's ``finished_time`` and ``deadline`` are null until set (nullable columns).
"""
from __future__ import annotations

import copy
import json
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import parse_qsl

import yaml
from jsonschema.exceptions import best_match
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import ImmutableMultiDict

from metafold_widgets.testing.fake_elabftw import RequestInfo, ResponseInfo

SPEC_FILE = "elabftw/openapi-5.6.12.yaml"
FIXED_SPEC_FILE = "elabftw/openapi-6.0.0-alpha4.yaml"
SPEC_SERVER = "https://elab.local:3148"
FIELD_TYPES = frozenset({"checkbox", "compounds", "date", "datetime-local", "email", "experiments", "items",
                         "number", "radio", "select", "text", "time", "uploads", "url", "users"})
LINK_TYPES = frozenset({"compounds", "experiments", "items", "uploads", "users"})
_BOOLEAN_FIELD_KEYS = ("required", "readonly", "allow_multi_values", "blank_value_on_duplicate")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Violation:
    """A request or response that does not follow the contract."""

    side: str
    method: str
    path: str
    status: int | None
    problems: tuple[str, ...]

    def __str__(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        lines = "\n".join(f"    {p}" for p in self.problems)
        return f"{self.side} {self.method} {self.path}{status}:\n{lines}"


# ---------------------------------------------------------------------------------------------
# Loading the description, with the server-wins corrections
# ---------------------------------------------------------------------------------------------


def _load_yaml(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=loader)


def _use_fixed_metadata_schema(spec: dict[str, Any], fixed: Mapping[str, Any]) -> None:
    spec["components"]["schemas"]["metadata"] = copy.deepcopy(fixed["components"]["schemas"]["metadata"])


def _error_code_is_integer(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["Error"]["properties"]["code"] = {"type": "integer"}


def _team_ids_accept_current(spec: dict[str, Any]) -> None:
    current = {"oneOf": [{"type": "integer"}, {"type": "string", "enum": ["current"]}]}
    for template, item in spec["paths"].items():
        if template.startswith("/teams/{id}/"):
            for parameter in item.get("parameters", []):
                if parameter.get("name") == "id" and parameter.get("in") == "path":
                    parameter["schema"] = copy.deepcopy(current)


def _info_is_plain_object(spec: dict[str, Any]) -> None:
    schema = spec["paths"]["/info"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    plain = schema["oneOf"][0]
    schema.clear()
    schema.update(plain)


def _no_deprecated_allow_empty_value(spec: dict[str, Any]) -> None:
    for item in spec["paths"].values():
        for method in _METHODS:
            for parameter in item.get(method, {}).get("parameters", []):
                parameter.pop("allowEmptyValue", None)


def _default_error_responses(spec: dict[str, Any]) -> None:
    default = {"description": "Any error the server sends (Error schema).",
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for item in spec["paths"].values():
        for method in _METHODS:
            if method in item:
                item[method].setdefault("responses", {}).setdefault("default", copy.deepcopy(default))


def _step_times_nullable(spec: dict[str, Any]) -> None:
    """A step's ``finished_time`` and ``deadline`` are ``datetime DEFAULT NULL`` columns
    (src/sql/structure.sql@5.6.12 experiments_steps): null until set."""
    for key in ("finished_time", "deadline"):
        spec["components"]["schemas"]["step"]["properties"][key]["nullable"] = True


def corrected_spec(spec: dict[str, Any], fixed: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the 5.6.12 description with the server-wins corrections applied."""
    spec = copy.deepcopy(spec)
    _use_fixed_metadata_schema(spec, fixed)
    _error_code_is_integer(spec)
    _team_ids_accept_current(spec)
    _info_is_plain_object(spec)
    _no_deprecated_allow_empty_value(spec)
    _default_error_responses(spec)
    _step_times_nullable(spec)
    return spec


# ---------------------------------------------------------------------------------------------
# Our own rules for the extra_fields part of metadata
# ---------------------------------------------------------------------------------------------


def extra_fields_problems(metadata: Any, *, partial: bool = False) -> list[str]:
    """Problems of ``metadata["extra_fields"]`` by the rules in NOTES.md.

    ``partial`` is for ``metadatamerge`` payloads, whose fields may carry only a value.
    """
    if not isinstance(metadata, dict) or metadata.get("extra_fields") is None:
        return []
    fields = metadata["extra_fields"]
    if not isinstance(fields, dict):
        return ["metadata.extra_fields must be an object"]
    groups = _group_ids(metadata)
    problems: list[str] = []
    for name, spec in fields.items():
        where = f"metadata.extra_fields[{name!r}]"
        if not isinstance(spec, dict):
            problems.append(f"{where} must be an object")
        elif "value" not in spec:
            problems.append(f"{where} has no 'value' (the only required property)")
        elif not partial:
            problems.extend(f"{where}: {p}" for p in _field_problems(spec, groups))
    return problems


def _group_ids(metadata: Mapping[str, Any]) -> set[Any] | None:
    section = metadata.get("elabftw")
    groups = section.get("extra_fields_groups") if isinstance(section, dict) else None
    if not isinstance(groups, list):
        return None
    return {g.get("id") for g in groups if isinstance(g, dict)}


def _field_problems(spec: Mapping[str, Any], groups: set[Any] | None) -> list[str]:
    problems: list[str] = []
    kind = spec.get("type", "text")
    if kind not in FIELD_TYPES:
        problems.append(f"unknown type {kind!r}")
    for key in _BOOLEAN_FIELD_KEYS:
        if key in spec and not isinstance(spec[key], bool):
            problems.append(f"{key} must be true or false")
    if "position" in spec and (not isinstance(spec["position"], int) or isinstance(spec["position"], bool)):
        problems.append("position must be an integer")
    group = spec.get("group_id")
    if group is not None and (not isinstance(group, int) or (groups is not None and group not in groups)):
        problems.append(f"group_id {group!r} is not one of the extra_fields_groups")
    problems.extend(_value_problems(spec, kind))
    problems.extend(_unit_problems(spec))
    return problems


def _value_problems(spec: Mapping[str, Any], kind: Any) -> list[str]:
    value = spec.get("value")
    multi = spec.get("allow_multi_values") is True
    if isinstance(value, list) and not multi:
        return ["a list value needs allow_multi_values: true"]
    values = value if isinstance(value, list) else [value]
    filled = [v for v in values if v not in ("", None)]
    if kind == "checkbox" and any(v != "on" for v in filled):
        return ["a checkbox value is 'on' or ''"]
    if kind in ("select", "radio"):
        options = spec.get("options")
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            return ["options must be a list of strings"]
        return [f"value {v!r} is not one of the options" for v in filled if v not in options]
    if kind == "number" and not all(_is_number(v) for v in filled):
        return ["a number value must be numeric (or '' when blank)"]
    if kind in LINK_TYPES and not all(str(v).isdigit() for v in filled):
        return ["a link field's value is the target id"]
    return []


def _unit_problems(spec: Mapping[str, Any]) -> list[str]:
    units = spec.get("units")
    if units is None:
        return ["unit without units"] if spec.get("unit") not in (None, "") else []
    if not isinstance(units, list) or not all(isinstance(u, str) for u in units):
        return ["units must be a list of strings"]
    unit = spec.get("unit")
    return [f"unit {unit!r} is not one of the units"] if unit not in (None, "") and unit not in units else []


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------------------------
# The contract
# ---------------------------------------------------------------------------------------------


def _describe(error: BaseException) -> list[str]:
    """Readable lines for an openapi-core error and its causes."""
    lines = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            lines.extend(_schema_error_line(e) for e in schema_errors)
        else:
            lines.append(f"caused by {type(cause).__name__}: {cause}")
        cause = cause.__cause__
    return lines


def _schema_error_line(error: Any) -> str:
    best = best_match(error.context) if getattr(error, "context", None) else None
    chosen = best or error
    location = "/".join(str(p) for p in chosen.absolute_path) or "<body>"
    return f"{location}: {chosen.message}"


def _path_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


class ElabftwContract:
    """Validates requests and responses of the elabFTW API v2 against the corrected spec."""

    def __init__(self, spec: Mapping[str, Any], fixed_spec: Mapping[str, Any]):
        self.spec = corrected_spec(dict(spec), fixed_spec)
        self.api = OpenAPI.from_dict(self.spec, config=Config(spec_validator_cls=None))
        self._error_validator = OAS30Validator(self.spec["components"]["schemas"]["Error"])
        templates = sorted(self.spec["paths"], key=lambda t: (t.count("{"), t))
        self._templates = [(t, _path_regex(t)) for t in templates]

    @classmethod
    def from_files(cls, spec_path: Path, fixed_spec_path: Path) -> ElabftwContract:
        """Load the 5.6.12 description and the 6.0.0 one (for its fixed metadata schema)."""
        return cls(_load_yaml(spec_path), _load_yaml(fixed_spec_path))

    # -- requests -------------------------------------------------------------------------------

    def request_problems(self, request: RequestInfo) -> list[str]:
        """What is wrong with this request (empty when it follows the contract)."""
        if request.api_path is None:
            return []
        body, problems = self._request_body_for_validation(request)
        mock = self._mock_request(request, body)
        for error in self.api.request_validator.iter_errors(mock):
            problems.extend(_describe(error))
        return problems

    def _request_body_for_validation(self, request: RequestInfo) -> tuple[bytes, list[str]]:
        payload = _json_or_none(request.body) if "json" in request.content_type else None
        if not isinstance(payload, dict):
            return request.body, []
        problems: list[str] = []
        if request.method == "PATCH":
            payload, problems = _decode_patch_strings(payload)
        problems.extend(extra_fields_problems(payload.get("metadata")))
        problems.extend(extra_fields_problems(payload.get("metadatamerge"), partial=True))
        return json.dumps(payload).encode(), problems

    def _mock_request(self, request: RequestInfo, body: bytes) -> MockRequest:
        mock = MockRequest(SPEC_SERVER, request.method, request.path,
                           headers=dict(request.headers), data=body,
                           content_type=request.content_type or "application/json")
        mock.parameters.query = ImmutableMultiDict(parse_qsl(request.query, keep_blank_values=True))
        return mock

    # -- responses ------------------------------------------------------------------------------

    def response_problems(self, request: RequestInfo, response: ResponseInfo) -> list[str]:
        """What is wrong with this response to this request (empty when it follows the contract)."""
        if request.api_path is None:
            return []
        template = self._template_for(request.api_path)
        operation = self.spec["paths"].get(template, {}).get(request.method.lower()) if template else None
        if operation is None:
            return self._undocumented_problems(response)
        if _is_file_export(request, response):
            # GET /{entity}/{id}?format=pdf|eln|zip|csv...: the description lists JSON only, but the
            # server sends the file itself (documented in the parameter). Check status and a body.
            return self._status_problems(operation, response) + ([] if response.body else ["empty export"])
        data, problems = _response_body_for_validation(response)
        problems.extend(self._status_problems(operation, response))
        mock_response = MockResponse(data, response.status, dict(response.headers), response.content_type)
        for error in self.api.response_validator.iter_errors(self._mock_request(request, b""), mock_response):
            problems.extend(_describe(error))
        return problems

    def _template_for(self, api_path: str) -> str | None:
        for template, regex in self._templates:
            if regex.match(api_path):
                return template
        return None

    def _undocumented_problems(self, response: ResponseInfo) -> list[str]:
        """Unknown path or method: only an error answer in the Error shape is right."""
        if response.status < 400:
            return [f"status {response.status} for a path/method the spec does not describe"]
        return _error_body_problems(self._error_validator, response)

    @staticmethod
    def _status_problems(operation: Mapping[str, Any], response: ResponseInfo) -> list[str]:
        documented = {str(code) for code in operation.get("responses", {})}
        problems = []
        if response.status < 400 and str(response.status) not in documented:
            problems.append(f"success status {response.status} is not documented (documented: "
                            f"{', '.join(sorted(documented - {'default'}))})")
        if response.status == 201 and not re.search(r"/api/v2/.+/\d+$", response.headers.get("Location", "")):
            problems.append("201 without a Location header ending in /api/v2/.../<id>")
        return problems


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _decode_patch_strings(payload: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """PATCH carries metadata JSON-encoded: require strings, return the decoded payload."""
    decoded = dict(payload)
    problems: list[str] = []
    for key in ("metadata", "metadatamerge"):
        if key not in decoded:
            continue
        value = decoded[key]
        if not isinstance(value, str):
            problems.append(f"PATCH {key} must be a JSON-encoded string (the server casts PATCH values "
                            f"to strings), got {type(value).__name__}")
            continue
        try:
            decoded[key] = json.loads(value)
        except ValueError:
            problems.append(f"PATCH {key} is not valid JSON")
    return decoded, problems


def _response_body_for_validation(response: ResponseInfo) -> tuple[bytes, list[str]]:
    """Entities carry metadata as a JSON string: require it, validate the decoded content."""
    payload = _json_or_none(response.body) if "json" in response.content_type else None
    entities = payload if isinstance(payload, list) else [payload]
    problems: list[str] = []
    touched = False
    for entity in entities:
        if isinstance(entity, dict) and "metadata" in entity:
            touched = True
            problems.extend(_decode_entity_metadata(entity))
    return (json.dumps(payload).encode() if touched else response.body), problems


def _decode_entity_metadata(entity: dict[str, Any]) -> list[str]:
    value = entity["metadata"]
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"entity {entity.get('id')}: metadata must be a JSON string like the real server's, "
                f"got {type(value).__name__}"]
    try:
        entity["metadata"] = json.loads(value)
    except ValueError:
        return [f"entity {entity.get('id')}: metadata is not valid JSON"]
    return extra_fields_problems(entity["metadata"])


def _error_body_problems(validator: OAS30Validator, response: ResponseInfo) -> list[str]:
    if "json" not in response.content_type:
        return [f"error answer with content type {response.content_type!r}, expected JSON"]
    payload = _json_or_none(response.body)
    errors = sorted(validator.iter_errors(payload), key=str)
    return [f"Error body: {e.message}" for e in errors]


# ---------------------------------------------------------------------------------------------
# The hook a fake server calls for every exchange
# ---------------------------------------------------------------------------------------------


class ContractChecker:
    """A ``contract_hook`` for FakeElabftw: records every violation of the contract.

    ``violations`` lists them; ``expect_violation()`` captures the ones a test provokes on
    purpose; ``assert_clean()`` fails when any unexpected one was recorded.
    """

    def __init__(self, contract: ElabftwContract):
        self.contract = contract
        self.violations: list[Violation] = []
        self.exchanges = 0
        self.reported = 0
        self._captures: list[list[Violation]] = []
        self._lock = threading.Lock()

    def __call__(self, request: RequestInfo, response: ResponseInfo | None) -> None:
        found = [self._violation("request", request, response, self.contract.request_problems)]
        if response is not None:
            found.append(self._violation("response", request, response,
                                         lambda r: self.contract.response_problems(r, response)))
        with self._lock:
            self.exchanges += 1
            target = self._captures[-1] if self._captures else self.violations
            target.extend(v for v in found if v is not None)

    @staticmethod
    def _violation(side: str, request: RequestInfo, response: ResponseInfo | None, check: Any) -> Violation | None:
        try:
            problems = check(request)
        except Exception as exc:  # a crash of the validator must not pass silently
            problems = [f"the contract validator crashed: {type(exc).__name__}: {exc}"]
        if not problems:
            return None
        return Violation(side, request.method, request.path, response.status if response else None,
                         tuple(problems))

    @contextmanager
    def expect_violation(self, match: str | None = None) -> Iterator[list[Violation]]:
        """Violations inside the block are expected (and required): they are captured, not failures."""
        captured: list[Violation] = []
        with self._lock:
            self._captures.append(captured)
        try:
            yield captured
        finally:
            with self._lock:
                self._captures.remove(captured)
        if not captured:
            raise AssertionError("expected a contract violation, but every exchange passed validation")
        if match is not None and not any(re.search(match, str(v)) for v in captured):
            joined = "\n".join(map(str, captured))
            raise AssertionError(f"no contract violation matches {match!r}; got:\n{joined}")

    def unreported(self) -> list[Violation]:
        """Violations not yet handed out by this method (each is reported once)."""
        with self._lock:
            fresh = self.violations[self.reported:]
            self.reported = len(self.violations)
        return fresh

    def assert_clean(self) -> None:
        """Fail when any exchange so far broke the contract."""
        if self.violations:
            joined = "\n".join(map(str, self.violations))
            raise AssertionError(f"{len(self.violations)} elabFTW contract violation(s):\n{joined}")


def _is_file_export(request: RequestInfo, response: ResponseInfo) -> bool:
    """A successful export in a format other than JSON (the server wins over the description)."""
    formats = dict(parse_qsl(request.query)).get("format", "json")
    return request.method == "GET" and formats != "json" and response.status == 200
