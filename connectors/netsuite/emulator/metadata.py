"""``/record/v1/metadata-catalog``: record type list, JSON Schema and OpenAPI documents."""

from __future__ import annotations

from typing import Any

from .schema import LINE_FIELDS, RECORD_TYPES, Field, RecordType

_JSON_TYPES = {
    "id": {"type": "string"},
    "string": {"type": "string"},
    "integer": {"type": "integer", "format": "int64"},
    "float": {"type": "number", "format": "double"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}

_REF = {
    "type": "object",
    "properties": {
        "id": {"title": "Internal identifier", "type": "string"},
        "refName": {"title": "Reference Name", "type": "string"},
        "externalId": {"title": "External identifier", "type": "string"},
        "links": {"type": "array", "readOnly": True},
    },
}


def _field_schema(f: Field) -> dict[str, Any]:
    if f.kind == "ref":
        out: dict[str, Any] = dict(_REF)
    elif f.kind == "enum":
        out = {"type": "object", "properties": {"id": {"type": "string"}, "refName": {"type": "string"}}}
    elif f.kind == "sublist":
        line = {"type": "object", "properties": {x.name: _field_schema(x) for x in LINE_FIELDS}}
        out = {
            "type": "object",
            "properties": {"items": {"type": "array", "items": line}, "links": {"type": "array", "readOnly": True}},
        }
    else:
        out = dict(_JSON_TYPES[f.kind])
    out["title"] = f.title
    out["nullable"] = not f.required
    if f.read_only:
        out["readOnly"] = True
    out["x-ns-filterable"] = f.filterable
    return out


def json_schema(rt: RecordType) -> dict[str, Any]:
    """JSON Schema of a record type (``Accept: application/schema+json``)."""
    return {
        "$schema": "http://json-schema.org/draft-06/hyper-schema#",
        "type": "object",
        "title": rt.label,
        "properties": {f.name: _field_schema(f) for f in rt.fields},
        "required": [f.name for f in rt.fields if f.required],
        "links": [],
    }


def openapi(types: list[RecordType], base: str) -> dict[str, Any]:
    """A small OpenAPI 3 document (``Accept: application/swagger+json``)."""
    paths: dict[str, Any] = {}
    for rt in types:
        paths[f"/{rt.name}"] = {"get": {"summary": f"Get list of {rt.label} records."},
                                "post": {"summary": f"Insert {rt.label} record."}}
        paths[f"/{rt.name}/{{id}}"] = {"get": {}, "patch": {}, "delete": {}, "put": {}}
    return {
        "openapi": "3.0.1",
        "info": {"title": "NetSuite REST Record API (emulator)", "version": "v1"},
        "servers": [{"url": f"{base}/services/rest/record/v1"}],
        "paths": paths,
        "components": {"schemas": {rt.name: json_schema(rt) for rt in types}},
    }


def catalog(base: str, select: list[str] | None) -> dict[str, Any]:
    href = f"{base}/services/rest/record/v1/metadata-catalog"
    names = [n for n in RECORD_TYPES if select is None or n.lower() in {s.lower() for s in select}]
    return {
        "links": [{"rel": "self", "href": href}],
        "items": [
            {
                "name": name,
                "links": [
                    {"rel": "canonical", "href": f"{href}/{name}", "mediaType": "application/json"},
                    {"rel": "alternate", "href": f"{href}/{name}", "mediaType": "application/swagger+json"},
                    {"rel": "describes", "href": f"{base}/services/rest/record/v1/{name}",
                     "mediaType": "application/schema+json"},
                ],
            }
            for name in names
        ],
    }
