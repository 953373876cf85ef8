"""Exports of an experiment: ``format=pdf`` (a one-page PDF with the title and the custom fields)
and ``format=eln`` (an ELN Consortium RO-Crate zip shaped like elabFTW 5.x's, src/Make/MakeEln.php@5.6.12:
one top folder, the experiment as a Dataset with ``variableMeasured`` PropertyValues,
``export-elabftw.json`` and the uploads)."""
from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from datetime import datetime
from typing import Any, Mapping, Sequence

from .call import Call
from .wire import Reply


def pdf(call: Call, record: Mapping[str, Any]) -> Reply:
    """``GET /experiments/{id}?format=pdf``."""
    entity = call.views.entity("experiments", record, full=True)
    fields = record["metadata"].get("extra_fields") if isinstance(record["metadata"], dict) else None
    lines = [entity["title"], f"Date: {entity['date']}  Author: {entity['fullname']}",
             f"Unique eLabID: {entity['elabid']}"]
    lines += [f"{name}: {spec.get('value', '')}" for name, spec in (fields or {}).items() if isinstance(spec, dict)]
    disposition = f'attachment; filename="{_slug(entity["title"])}.pdf"'
    return Reply(200, _pdf_document(lines), "application/pdf", {"Content-Disposition": disposition})


def eln(call: Call, record: Mapping[str, Any]) -> Reply:
    """``GET /experiments/{id}?format=eln``."""
    store = call.store
    entity = call.views.entity("experiments", record, full=True)
    uploads = [store.uploads[u] for u in record["uploads"] if store.uploads[u]["state"] == 1]
    links = [store.entities[kind][target] for kind in ("items", "experiments") for target in record[f"{kind}_links"]]
    body = _eln_archive(entity, uploads, links, call.views.url, call.release.version)
    disposition = f'attachment; filename="{_slug(entity["title"])}.eln"'
    return Reply(200, body, "application/zip", {"Content-Disposition": disposition})


def _slug(text: str) -> str:
    """A file-name-safe version of ``text`` (as elabFTW names exported files and folders)."""
    return re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-") or "untitled"


def _pdf_text(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1").replace("\\", "\\\\").replace(
        "(", "\\(").replace(")", "\\)")


def _pdf_document(lines: list[str]) -> bytes:
    """A valid one-page PDF 1.4 showing ``lines`` in Helvetica (what a PDF export needs to be here)."""
    text = "BT /F1 11 Tf 50 800 Td 14 TL " + " ".join(f"({_pdf_text(line)}) '" for line in lines[:50]) + " ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text.encode("latin-1")), text.encode("latin-1")),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _eln_archive(entity: Mapping[str, Any], uploads: Sequence[Mapping[str, Any]],
                 links: Sequence[Mapping[str, Any]],
                 server: str, version: str) -> bytes:
    """An ``.eln`` (RO-Crate 1.1 zip) of one experiment, shaped like elabFTW 5.x exports."""
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    root = datetime.now().strftime("%Y-%m-%d-%H%M%S") + "-export"
    category = _slug(entity["category_title"] or entity["date"])
    folder = f"{category} - {_slug(entity['title'])} - {entity['elabid'][9:17]}"
    dataset_id = f"./{folder}/"
    person_id = "person://" + hashlib.sha256(f"{entity['firstname']}{entity['lastname']}".encode()).hexdigest() + \
        "?hash_algo=sha256"
    export_json = json.dumps([entity], indent=2).encode()
    files = [(f"{dataset_id}export-elabftw.json", "export-elabftw.json", export_json,
              {"description": "JSON export", "encodingFormat": "application/json"})]
    files += [(f"{dataset_id}{u['real_name']}", u["real_name"], u["data"],
               {"description": u["comment"], "alternateName": u["long_name"]}) for u in uploads]
    graph: list[dict[str, Any]] = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}, "dateCreated": now,
         "sdPublisher": {"@id": "#publisher"}, "version": "1.0"},
        {"@id": "#publisher", "@type": "Organization", "name": "eLabFTW", "url": "https://www.elabftw.net"},
        {"@id": "#ro-crate_created", "@type": "CreateAction", "object": {"@id": "./"}, "name": "RO-Crate created",
         "endTime": now, "instrument": {"@id": "https://www.elabftw.net"},
         "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"}},
        {"@id": "https://www.elabftw.net", "@type": "SoftwareApplication", "name": "eLabFTW", "version": version,
         "identifier": "https://www.elabftw.net"},
        {"@id": person_id, "@type": "Person", "familyName": entity["lastname"], "givenName": entity["firstname"]},
    ]
    graph += [{"@id": file_id, "@type": "File", "name": name, "contentSize": len(data),
               "sha256": hashlib.sha256(data).hexdigest(), **extra} for file_id, name, data, extra in files]
    measured = _property_values(entity["metadata"])
    graph += measured
    mentions = [{"@id": f"{server}/{'experiments' if t['kind'] == 'experiments' else 'database'}.php?mode=view"
                        f"&id={t['id']}", "@type": "Dataset", "name": t["title"], "identifier": t["elabid"]}
                for t in links]
    graph += mentions
    dataset: dict[str, Any] = {
        "@id": dataset_id, "@type": "Dataset", "author": {"@id": person_id}, "dateCreated": entity["created_at"],
        "dateModified": entity["modified_at"], "identifier": entity["elabid"], "comment": [],
        "keywords": [t for t in (entity["tags"] or "").split("|") if t], "name": entity["title"],
        "text": entity["body"], "encodingFormat": "text/html" if entity["content_type"] == 1 else "text/markdown",
        "url": f"{server}/experiments.php?mode=view&id={entity['id']}", "genre": "experiment",
        "hasPart": [{"@id": file_id} for file_id, _, _, _ in files],
        "mentions": [{"@id": m["@id"]} for m in mentions],
        "variableMeasured": [{"@id": pv["@id"]} for pv in measured] or None,
    }
    if entity["category_title"]:
        graph.append({"@id": f"#category-{entity['category_title']}", "@type": "Thing",
                      "name": entity["category_title"]})
        dataset["about"] = {"@id": f"#category-{entity['category_title']}"}
    if entity["status_title"]:
        dataset["creativeWorkStatus"] = entity["status_title"]
    graph.append(dataset)
    graph.append({"@id": "./", "@type": ["Dataset"], "hasPart": [{"@id": dataset_id}]})
    crate = {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/ro-crate-metadata.json", json.dumps(crate, indent=2, ensure_ascii=False))
        for file_id, _, data, _ in files:
            archive.writestr(f"{root}/{file_id[2:]}", data)
    return buffer.getvalue()


def _property_values(metadata: str | None) -> list[dict[str, Any]]:
    """``variableMeasured``: the whole metadata JSON first (what elabFTW imports), then one per field."""
    if not metadata:
        return []
    values = [{"@id": f"pv://{uuid.uuid4()}", "@type": "PropertyValue", "propertyID": "elabftw_metadata",
               "description": "eLabFTW metadata JSON as string", "value": metadata}]
    decoded = json.loads(metadata)
    for name, spec in (decoded.get("extra_fields") or {}).items() if isinstance(decoded, dict) else ():
        if not isinstance(spec, dict):
            continue
        value = {"@id": f"pv://{uuid.uuid4()}", "@type": "PropertyValue", "propertyID": name,
                 "valueReference": spec.get("type", "text"), "value": spec.get("value", "")}
        if spec.get("unit"):
            value["unitText"] = spec["unit"]
        if spec.get("description"):
            value["description"] = spec["description"]
        values.append(value)
    return values
