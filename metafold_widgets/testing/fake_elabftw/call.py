"""One API call as the handlers see it: who calls, what was sent, which release answers."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .releases import Release
from .store import Caller, Store
from .views import Views
from .wire import DEFAULT_LIMIT, ApiError, RequestInfo, query_int


@dataclass(frozen=True)
class Call:
    """The context of one request."""

    store: Store
    views: Views
    release: Release
    caller: Caller
    request: RequestInfo
    api_url: str
    reported_version_int: int  # what /info says (0 for a development build)

    @cached_property
    def query(self) -> dict[str, Any]:
        """The query-string parameters."""
        return self.request.params

    def json_body(self) -> dict[str, Any]:
        """The JSON object sent (``{}`` for none); a body that is not JSON is a 400
        (src/Controllers/Apiv2Controller.php: "Error decoding json payload")."""
        if not self.request.body:
            return {}
        try:
            decoded = json.loads(self.request.body)
        except ValueError as exc:
            raise ApiError(400, f"Error decoding json payload: {exc}") from None
        if not isinstance(decoded, dict):
            raise ApiError(400, "Error decoding json payload: expected a JSON object.")
        return decoded

    def page(self, rows: list[Any], listing: str = "", unlimited_below: int | None = None) -> list[Any]:
        """``limit``/``offset`` as ``BaseQueryParams``/``Check::limit`` read them: without ``limit``
        the release's default (15 up to 5.3, every row from 5.4); a limit out of range is 15, and 0
        means every row from 5.4 (src/Services/Check.php@5.4.0 ``MIN_RANGE = 0``); ``offset`` only
        with a LIMIT. Listings that a release does not page come back whole."""
        release = self.release
        if listing and release.ignores_limit(listing):
            return rows
        if "limit" in self.query:
            limit = query_int(self.query, "limit", 0)
            if unlimited_below is not None and limit <= unlimited_below:
                return rows
            lowest = 0 if release.at_least("5.4.0") else 1
            if not lowest <= limit <= 9999999:
                limit = DEFAULT_LIMIT
        else:
            limit = release.default_limit(listing)
        if limit == 0:
            return rows
        offset = max(query_int(self.query, "offset", 0), 0)
        return rows[offset:offset + limit]
