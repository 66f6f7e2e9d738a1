"""JSON Schemas from the pydantic models: the spec format as published, and its Markdown reference.

``python -m connector_core.cli.schemas`` writes them into ``specs/`` and ``docs/``;
``tests/core/test_schema.py`` fails when the committed files drift.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@lru_cache(maxsize=16)
def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    schema = _plain_generic_names(schema)
    for definition in [schema, *schema.get("$defs", {}).values()]:
        selector = definition.get("properties", {}).get("type")
        if isinstance(selector, dict) and "const" in selector and "description" not in selector:
            selector["description"] = f"Selects this kind: `{selector['const']}`."
    return schema


def _plain_generic_names(schema: dict[str, Any]) -> dict[str, Any]:
    """``Stream_Annotated_Union_…`` (a parametrized generic) becomes plain ``Stream``."""
    renames = {name: name.split("_Annotated_", 1)[0] for name in schema.get("$defs", {}) if "_Annotated_" in name}
    if not renames:
        return schema
    text = json.dumps(schema)
    for old, new in renames.items():
        text = text.replace(f'"#/$defs/{old}"', f'"#/$defs/{new}"').replace(f'"{old}"', f'"{new}"')
    renamed: dict[str, Any] = json.loads(text)
    return renamed


def connector_schema(registry: Any) -> dict[str, Any]:
    schema = dict(json_schema(registry.spec_model))
    schema = {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://connector-core.dev/schemas/connector.schema.json",
        "title": "connector-core connector spec",
        **{k: v for k, v in schema.items() if k != "title"},
    }
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _type_text(node: dict[str, Any]) -> str:
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        return f"[{name}](#{name.lower()})"
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            return " or ".join(_type_text(option) for option in node[key])
    kind = node.get("type")
    if kind == "array":
        return f"list of {_type_text(node.get('items', {}))}" if node.get("items") else "list"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"map of {_type_text(node['additionalProperties'])}"
    if kind == "null":
        return "null"
    return str(kind or "any")


def spec_reference(schema: dict[str, Any]) -> str:
    """docs/spec-reference.md: every model of the spec format, field by field."""
    lines = [
        "# Connector spec reference",
        "",
        "Generated from the pydantic models by `python -m connector_core.cli.schemas`; do not edit by hand.",
        "The same information is in `specs/connector.schema.json`, which editors use for completion.",
        "Every string value may be a template (see the [tutorial](tutorial.md#templates)).",
        "",
    ]
    sections = [("ConnectorSpec", schema)] + sorted(schema.get("$defs", {}).items())
    for name, node in sections:
        if "properties" not in node:
            continue
        lines += [f"## {name}", "", node.get("description", "").strip(), "", "| key | type | default | description |", "| --- | --- | --- | --- |"]
        required = set(node.get("required", []))
        for key, prop in node["properties"].items():
            default = "required" if key in required else (f"`{json.dumps(prop['default'])}`" if "default" in prop else "")
            description = " ".join(str(prop.get("description", "")).split()).replace("|", "\\|")
            lines.append(f"| `{key}` | {_type_text(prop)} | {default} | {description} |")
        lines.append("")
    return "\n".join(lines)
