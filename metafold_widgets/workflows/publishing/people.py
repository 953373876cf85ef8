"""What the answers say about people and rights, read once for every publication format.

The package's facts, its RO-Crate and the ``.eln`` export all ask the same questions
(who are the authors, who is the principal investigator, which license applies); they
get the same answers from here. An answer plays a role by its key: the exact keys of
:data:`ANSWER_ROLES` first, then, for the roles not in :data:`EXACT_ROLES`, any key that has
one of the role's words as a whole word (``lab_license``, ``co_authors``).

People come from the answers only (:func:`answer_people`: every field that names people,
see :data:`PEOPLE_WORDS`) and from elabFTW (the experiment's owner, when read). The login name
that created the folder (``created_by``) is no person's name: ``root`` or ``jdoe`` is never
an author.
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
CREATOR = "created the project folder (login name)"  # never given to anyone: kept for callers' role lists
CORRESPONDING_AUTHOR = "corresponding author"
CONTRIBUTOR = "contributor"
INVESTIGATOR = "investigator"
AUTHOR_ROLES = (PRINCIPAL_INVESTIGATOR, AUTHOR, CORRESPONDING_AUTHOR, INVESTIGATOR, CONTRIBUTOR)
"""The roles that make someone an author of the data (the elabFTW owner is named apart)."""

# role of an answer that names people, by the words of its key (first match wins)
PEOPLE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (PRINCIPAL_INVESTIGATOR, ("principal_investigator", "pi")),
    (CORRESPONDING_AUTHOR, ("corresponding", "contact_person", "contact")),
    (AUTHOR, ("author", "authors", "creator", "creators")),
    (INVESTIGATOR, ("investigator", "investigators", "researcher", "researchers", "experimenter",
                    "experimenters", "operator", "operators", "scientist", "scientists")),
    (CONTRIBUTOR, ("contributor", "contributors", "collaborator", "collaborators", "co_investigator",
                   "co_investigators")),
)
# words of a key that say its value is about people, not their names (``author_orcid``)
NOT_NAMES = frozenset({"orcid", "email", "mail", "affiliation", "institution", "id", "ids", "count", "number",
                       "phone", "address", "role", "roles", "type", "enabled", "enable", "url"})

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
    """The people the answers name (:func:`answer_people`) and the elabFTW experiment's ``owner``
    (when it was read), in that order. Never the login name that created the folder."""
    people = answer_people(record.answers)
    if owner and not any(p["name"] == owner for p in people):
        people.append({"name": owner, "role": OWNER, "source": "elabFTW"})
    return people


def answer_people(answers: Mapping[str, Any], *, unique: bool = True) -> list[Person]:
    """Every person an answer names, in answer order, with the role the answer's key gives
    (:data:`PEOPLE_WORDS`); with ``unique``, a name given twice is listed once, with its first role."""
    people: list[Person] = []
    seen: set[str] = set()
    for key, value in answers.items():
        role = people_role(key)
        if role is None or value in (None, "", []) or isinstance(value, (bool, int, float, dict)):
            continue
        for name in _names(value):
            if not unique or name.lower() not in seen:
                seen.add(name.lower())
                people.append({"name": name, "role": role, "source": f"answers.{key}"})
    return people


def people_role(key: str) -> str | None:
    """The role of the people an answer with this key names, or None when the key names nobody."""
    words = [word for word in key.lower().replace("-", "_").split("_") if word]
    if not words or NOT_NAMES & set(words):
        return None
    joined = "_".join(words)
    for role, keywords in PEOPLE_WORDS:
        for keyword in keywords:
            if joined == keyword or ("_" in keyword and f"_{keyword}_" in f"_{joined}_") or \
                    ("_" not in keyword and keyword in words):
                return role
    return None


def _names(value: Any) -> list[str]:
    """A list answer as is, a text answer split at semicolons; blanks left out."""
    items = value if isinstance(value, list) else str(value).split(";")
    return [str(name).strip() for name in items if str(name).strip()]


def with_role(people: Sequence[Person], *roles: str) -> list[Person]:
    """The people who have one of ``roles``."""
    return [person for person in people if person["role"] in roles]


def authors(people: Sequence[Person]) -> list[Person]:
    """The people who are authors of the data (:data:`AUTHOR_ROLES`), principal investigator first."""
    return sorted(with_role(people, *AUTHOR_ROLES), key=lambda p: p["role"] != PRINCIPAL_INVESTIGATOR)


def crate_people(people: Sequence[Person]) -> list[tuple[str, str, str]]:
    """``(name, crate role, description)`` for :func:`..rocrate.project_crate`: the principal
    investigator is ``pi``, everyone else a ``creator``."""
    return [(p["name"], "pi" if p["role"] == PRINCIPAL_INVESTIGATOR else "creator", p["role"]) for p in people]
