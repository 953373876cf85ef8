"""The RO-Crate of an ``.eln`` export, shaped like elabFTW 5.x's own exports.

* the root Dataset ``./`` has the experiment Dataset ``./<project>/`` in its ``hasPart``
  (and the license the answers state);
* the experiment Dataset carries ``name`` (title), ``text`` (the HTML body), ``keywords``
  (tags), ``dateCreated``, ``author`` (the login name that made the folder), ``creator``
  (the authors the answers name), ``accountablePerson`` (the principal investigator),
  ``genre`` ``experiment``, ``url`` (the elabFTW experiment, when there is one), ``about``
  (the category), ``creativeWorkStatus``, and ``variableMeasured``: first a PropertyValue
  ``elabftw_metadata`` whose value is the whole metadata JSON (what elabFTW imports), then
  one PropertyValue per field, for readers that are not elabFTW.

People and license are read by :mod:`.people`, as for the package's crate.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Mapping, Sequence

from ...core.record import ProjectRecord
from .eln_read import METADATA_PROPERTY
from .people import AUTHOR, CREATOR, PRINCIPAL_INVESTIGATOR, Person, project_people, stated_license, with_role
from .rocrate import (
    ROOT_ID,
    build_crate,
    creation_action,
    license_entity,
    metadata_descriptor,
    person_entity,
    person_id,
    software_entity,
    system_links,
    template_entity,
)

_PV_NAMESPACE = uuid.UUID("6f0c3a52-0a55-4c59-8a0e-3d8d1f2f3e41")


def eln_crate(record: ProjectRecord, facts: Mapping[str, Any], metadata: Mapping[str, Any],
              files: Sequence[Mapping[str, Any]], dataset_id: str, when: str) -> dict[str, Any]:
    """The crate: root, experiment, its files (``files``: File entities), fields, people, links, license."""
    people = project_people(record)
    measured = property_values(metadata, record.uid)
    template = template_entity(record)
    elabftw_url = record.integration("elabftw").url
    links = [link for link in system_links(record) if link["@id"] != elabftw_url]
    category = {"@id": f"#category-{facts['category']}", "@type": "Thing", "name": facts["category"]} \
        if facts["category"] else None
    dataset = _experiment_dataset(record, facts, dataset_id, when)
    dataset.update({"hasPart": [{"@id": f["@id"]} for f in files],
                    "variableMeasured": [{"@id": pv["@id"]} for pv in measured],
                    "mentions": [{"@id": link["@id"]} for link in links]})
    dataset.update(_optional_references(people, elabftw_url, category, facts["status"], template))
    license_text = stated_license(record.answers)
    license_ = license_entity(license_text) if license_text else None
    descriptor = metadata_descriptor(dateCreated=when, sdPublisher={"@id": "#publisher"}, version="1.0")
    publisher = {"@id": "#publisher", "@type": "Organization", "name": "metafold-widgets"}
    persons = [person_entity(person["name"], person["role"]) for person in people]
    return build_crate([descriptor, publisher, creation_action(when), software_entity(),
                        _root(record.name, dataset_id, when, license_), dataset, *files, *measured, *persons,
                        category, template, license_, *links])


def _root(name: str, dataset_id: str, when: str, license_: Mapping[str, Any] | None) -> dict[str, Any]:
    root: dict[str, Any] = {"@id": ROOT_ID, "@type": "Dataset", "name": f"{name} (exported by metafold-widgets)",
                            "description": f"The project {name} as an ELN Consortium (.eln) archive",
                            "datePublished": when, "hasPart": [{"@id": dataset_id}]}
    if license_:
        root["license"] = {"@id": license_["@id"]}
    return root


def _experiment_dataset(record: ProjectRecord, facts: Mapping[str, Any], dataset_id: str,
                        when: str) -> dict[str, Any]:
    return {"@id": dataset_id, "@type": "Dataset", "name": facts["title"], "text": facts["body"],
            "encodingFormat": "text/html", "genre": "experiment", "keywords": facts["tags"],
            "dateCreated": record.created_at, "dateModified": when, "identifier": record.uid}


def _optional_references(people: Sequence[Person], url: str | None, category: Mapping[str, Any] | None,
                         status: str | None, template: Mapping[str, Any] | None) -> dict[str, Any]:
    """The experiment's properties that are there only when known."""
    found: dict[str, Any] = {}
    for key, role in (("author", CREATOR), ("creator", AUTHOR), ("accountablePerson", PRINCIPAL_INVESTIGATOR)):
        refs = [{"@id": person_id(person["name"])} for person in with_role(people, role)]
        if refs:
            found[key] = refs[0] if len(refs) == 1 else refs
    if url:
        found["url"] = url
    if category:
        found["about"] = {"@id": category["@id"]}
    if status:
        found["creativeWorkStatus"] = status
    if template:
        found["isBasedOn"] = {"@id": template["@id"]}
    return found


def elabftw_json(record: ProjectRecord, facts: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The experiment as elabFTW's JSON export lists it (the fields known here)."""
    elabftw = record.integration("elabftw")
    return {"id": elabftw.id, "title": facts["title"], "body": facts["body"], "content_type": 1,
            "category_title": facts["category"], "status_title": facts["status"],
            "tags": "|".join(facts["tags"]) or None, "metadata": json.dumps(metadata, ensure_ascii=False),
            "created_at": record.created_at, "sharelink": elabftw.url}


def property_values(metadata: Mapping[str, Any], owner: str) -> list[dict[str, Any]]:
    """``variableMeasured`` as elabFTW writes it: the whole metadata JSON, then one PropertyValue per field."""
    if not metadata:
        return []
    values = [{"@id": _pv_id(owner, METADATA_PROPERTY), "@type": "PropertyValue", "propertyID": METADATA_PROPERTY,
               "description": "eLabFTW metadata JSON as string", "value": json.dumps(metadata, ensure_ascii=False)}]
    for label, spec in (metadata.get("extra_fields") or {}).items():
        if isinstance(spec, Mapping):
            values.append(_field_value(owner, label, spec))
    return values


def _field_value(owner: str, label: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = {"@id": _pv_id(owner, f"field:{label}"), "@type": "PropertyValue",
                             "propertyID": label, "valueReference": spec.get("type", "text"),
                             "value": spec.get("value", "")}
    if spec.get("unit"):
        value["unitText"] = spec["unit"]
    if spec.get("description"):
        value["description"] = spec["description"]
    return value


def _pv_id(owner: str, name: str) -> str:
    """elabFTW uses ``pv://<uuid>``; ours are derived from the project, so two exports are equal."""
    return f"pv://{uuid.uuid5(_PV_NAMESPACE, f'{owner}/{name}')}"
