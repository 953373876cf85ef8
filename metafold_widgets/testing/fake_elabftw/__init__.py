"""A stateful elabFTW server (REST API v2) on 127.0.0.1 that behaves like a chosen release.

It stands in for the real server, which cannot run in the test environment. Each behaviour it
emulates was read from that release's source (repository ``elabftw/elabftw``) and its comment
names the file and release tag; :mod:`.releases` lists what differs between releases
(``EMULATED_RELEASES``: 5.2.8, 5.4.6, 5.6.6, 5.6.12, 6.0.0-alpha4). Real HTTP, standard library only.

* ``Authorization: <raw key>``; keys map to a user, a team and a write permission (a read-only
  key that writes gets 400).
* POST and PATCH must say ``Content-Type: application/json`` (multipart for uploads), else 400.
* ``POST`` answers 201 with an empty body and a ``Location`` header; tags are added after the
  experiment row, so a team that forbids new tags answers 400 for an experiment that exists.
* ``PATCH`` applies the keys one by one (the first invalid key aborts the rest), casts values to
  strings (so ``metadata`` must be JSON-encoded) and returns the entity; ``metadatamerge`` as each
  release merges. Entities carry ``metadata`` as a JSON string in MySQL's key order.
* List reads return the show-mode columns only (no body, no metadata) unless the search took the
  advanced path or ``full=1`` (5.6.9+); ``q`` is searched as the release does (:mod:`.search`).
* Categories and statuses of other teams are listed from 5.4.0; ``/teams`` ignores ``limit``.
* Errors are JSON ``{code, message, description}`` shaped as the release shapes them.
* Exports: ``?format=pdf`` and ``?format=eln`` (:mod:`.exports`); other formats answer 501.

Test hooks: ``requests_log``, ``latency``, ``inject(Fault...)``, ``contract_hook`` and the
``add_*``/``forbid_user_tags`` set-up methods. Endpoints the real server has but this fake does
not emulate answer 501.
"""
from __future__ import annotations

from .releases import EMULATED_RELEASES, NEWEST, OLDEST, Release, version_int
from .server import DEFAULT_KEYS, OTHER_TEAM_KEY, READ_KEY, WRITE_KEY, FakeElabftw
from .values import mysql_json
from .wire import API_PREFIX, ContractHook, Fault, LoggedRequest, RequestInfo, ResponseInfo

__all__ = [
    "API_PREFIX",
    "DEFAULT_KEYS",
    "EMULATED_RELEASES",
    "NEWEST",
    "OLDEST",
    "OTHER_TEAM_KEY",
    "READ_KEY",
    "WRITE_KEY",
    "ContractHook",
    "FakeElabftw",
    "Fault",
    "LoggedRequest",
    "Release",
    "RequestInfo",
    "ResponseInfo",
    "mysql_json",
    "version_int",
]
