"""A Salesforce ``/sobjects/<Type>/describe`` reply turned into a JSON Schema of that type's records.

Each field becomes a property typed from its Salesforce type (null allowed when the field is
nillable), with its length, its picklist values (an ``enum`` when the picklist is restricted,
``examples`` otherwise), ``readOnly`` when it can be neither created nor updated, and what a sync
needs to know in ``x-salesforce`` (createable, updateable, externalId, unique, custom, referenceTo).
Fields a create must give are listed in ``required``. Custom fields (``__c``) are fields like any other.
"""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, dict[str, Any]] = {
    "boolean": {"type": "boolean"},
    "int": {"type": "integer"},
    "long": {"type": "integer"},
    "double": {"type": "number"},
    "currency": {"type": "number"},
    "percent": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "time"},
    "base64": {"type": "string", "contentEncoding": "base64"},
    "address": {"type": "object"},
    "location": {"type": "object"},
    "anyType": {},
}
_TEXT_LIMITED = {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring", "id", "reference"}


def field_schema(field: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one field of a describe reply."""
    kind = str(field.get("type") or "string")
    schema: dict[str, Any] = dict(_TYPES.get(kind, {"type": "string"}))
    label = field.get("label")
    if label:
        schema["title"] = label
    length = field.get("length") or 0
    if kind in _TEXT_LIMITED and length > 0:
        schema["maxLength"] = length
    values = [v.get("value") for v in field.get("picklistValues") or [] if isinstance(v, dict) and v.get("active", True)]
    if values and kind == "picklist":
        schema["enum" if field.get("restrictedPicklist") else "examples"] = values
    elif values:
        schema["examples"] = values
    if field.get("nillable") and "type" in schema:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    if not field.get("createable") and not field.get("updateable"):
        schema["readOnly"] = True
    schema["x-salesforce"] = {
        "type": kind,
        "createable": bool(field.get("createable")),
        "updateable": bool(field.get("updateable")),
        "externalId": bool(field.get("externalId")),
        "unique": bool(field.get("unique")),
        "custom": bool(field.get("custom")),
        **({"referenceTo": list(field["referenceTo"])} if field.get("referenceTo") else {}),
    }
    return schema


def _required_on_create(field: dict[str, Any]) -> bool:
    return bool(field.get("createable")) and not field.get("nillable") and not field.get("defaultedOnCreate")


def describe_to_schema(record: dict[str, Any]) -> dict[str, Any]:
    """A describe reply → ``{name, label, custom, key_prefix, json_schema, external_id_fields, required_on_create}``."""
    fields = [f for f in record.get("fields") or [] if isinstance(f, dict) and f.get("name")]
    properties = {str(f["name"]): field_schema(f) for f in fields}
    required = [str(f["name"]) for f in fields if _required_on_create(f)]
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": record.get("name"),
        "type": "object",
        "properties": properties,
    }
    if required:
        schema["required"] = required
    return {
        "name": record.get("name"),
        "label": record.get("label"),
        "custom": bool(record.get("custom")),
        "key_prefix": record.get("keyPrefix"),
        "json_schema": schema,
        "external_id_fields": [str(f["name"]) for f in fields if f.get("externalId")],
        "required_on_create": required,
    }


TRANSFORMS = {"salesforce_json_schema": describe_to_schema}

__all__ = ["TRANSFORMS", "describe_to_schema", "field_schema"]
