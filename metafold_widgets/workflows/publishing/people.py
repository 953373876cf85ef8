"""What the answers say about people and rights, read once for every publication format.

The package's facts, its RO-Crate and the ``.eln`` export all ask the same questions
(who are the authors, who is the principal investigator, which license applies); they
get the same answers from here. An answer plays a role by its key: the exact keys of
:data:`ANSWER_ROLES` first, then, for the roles not in :data:`EXACT_ROLES`, any key that has
one of the role's words as a whole word (``lab_license``, ``co_authors``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ...core.record import ProjectRecord

EXACT_ROLES = frozenset({"title", "identifier", "principal_investigator", "sharing_level"})
ANSWER_ROLES: dict[str, tuple[str, ...]] = {
    "title": ("experiment_title", "project_title", "title"),
    "identifier": ("project_identifier", "project_id", "identifier"),
    "principal_investigator": ("principal_investigator", "pi"),
    "authors": ("authors", "author"),
    "institution": ("institution", "affiliation", "organisation", "organization", "institute"),
    "license": ("license", "licence"),
    "sharing_level": ("data_sharing_level", "sharing_level", "access_level"),
    "repository": ("data_repository", "repository"),
    "doi": ("dataset_doi", "doi"),
}
AUTHOR = "author"
PRINCIPAL_INVESTIGATOR = "principal investigator"
OWNER = "owner of the elabFTW experiment"
CREATOR = "created the project folder (login name)"

Person = dict[str, str]
"""``{"name", "role", "source"}``: one person and where we know them from."""


def answer_for(answers: Mapping[str, Any], role: str) -> tuple[str, Any] | None:
    """``(key, value)`` of the answer that plays ``role`` (see :data:`ANSWER_ROLES`), if any is filled in."""
    words = ANSWER_ROLES[role]
    filled = {key: value for key, value in answers.items() if value not in (None, "", [])}
    for word in words:
        if word in filled:
            return word, filled[word]
    if role in EXACT_ROLES:
        return None
    for key, value in filled.items():
        tokens = {token.rstrip("s") for token in key.lower().split("_")}
        if any(word.rstrip("s") in tokens for word in words if "_" not in word):
            return key, value
    return None


def stated_license(answers: Mapping[str, Any]) -> str | None:
    """The license an answer states (``license``, ``lab_license``...), or None."""
    found = answer_for(answers, "license")
    return str(found[1]) if found else None


def project_people(record: ProjectRecord, owner: str | None = None) -> list[Person]:
    """The authors and principal investigator the answers name, the elabFTW experiment's
    ``owner`` (when it was read) and the login name that created the folder, in that order."""
    answers = record.answers
    people: list[Person] = []
    for role, label in (("authors", AUTHOR), ("principal_investigator", PRINCIPAL_INVESTIGATOR)):
        found = answer_for(answers, role)
        if found:
            people += [{"name": name, "role": label, "source": f"answers.{found[0]}"} for name in _names(found[1])]
    if owner:
        people.append({"name": owner, "role": OWNER, "source": "elabFTW"})
    creator = record.created_by
    if creator and creator != "unknown":
        people.append({"name": creator, "role": CREATOR, "source": "metafold.json"})
    return people


def _names(value: Any) -> list[str]:
    """A list answer as is, a text answer split at semicolons; blanks left out."""
    items = value if isinstance(value, list) else str(value).split(";")
    return [str(name).strip() for name in items if str(name).strip()]


def with_role(people: Sequence[Person], *roles: str) -> list[Person]:
    """The people who have one of ``roles``."""
    return [person for person in people if person["role"] in roles]


def crate_people(people: Sequence[Person]) -> list[tuple[str, str, str]]:
    """``(name, crate role, description)`` for :func:`..rocrate.project_crate`: the principal
    investigator is ``pi``, everyone else a ``creator``."""
    return [(p["name"], "pi" if p["role"] == PRINCIPAL_INVESTIGATOR else "creator", p["role"]) for p in people]
