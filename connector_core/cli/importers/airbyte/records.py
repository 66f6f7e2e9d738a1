"""Airbyte record selectors, decoders, schemas and transformations as a stream's `records`, `decoder`,
`schema` and `transforms` (docs/records.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connector_core.cli.importers.airbyte.context import Conversion, custom_class
from connector_core.cli.importers.airbyte.templates import CONFIG_ONLY, RECORD, Scope, translate_text

EXTRACTOR_HOOK = ("write an extractor plugin (docs/plugins.md#stream-components-an-extractor-a-partition-router-a-slicer) "
                  "and set records.extractor, or edit the records path")
TRANSFORM_HOOK = "write a named transform plugin (docs/plugins.md#a-named-transform) and add `plugin: NAME` to transforms"
_DECODERS = {"JsonlDecoder": "jsonl", "CsvDecoder": "csv", "XmlDecoder": "xml", "ZipfileDecoder": "zip"}


def convert_selector(node: Any, conv: Conversion, fallback: str, record_scope: Scope, cursor_field: str | None) -> str | dict[str, Any]:
    """The stream's ``records``: a path, or a selector with a filter or an expand."""
    if not isinstance(node, dict):
        return ""
    at = conv.where(node, fallback)
    extractor = node.get("extractor") or {}
    e_at = conv.where(extractor, f"{at}.extractor")
    path = _field_path(extractor, conv, e_at)
    if custom_class(extractor):
        conv.lost(e_at, f"custom extractor {custom_class(extractor)}: records are taken at its field_path ({path or 'the body'}) "
                  "and whatever else the class does is lost", EXTRACTOR_HOOK)
    elif extractor and extractor.get("type") not in ("DpathExtractor", None):
        conv.lost(e_at, f"extractor {extractor.get('type')!r} is not converted: records are taken from the whole body", EXTRACTOR_HOOK)
    selector: dict[str, Any] = {"path": path}
    expander = extractor.get("record_expander")
    if isinstance(expander, dict):
        selector["expand"] = _expand(expander, conv, conv.where(expander, f"{e_at}.record_expander"))
    record_filter = node.get("record_filter")
    if isinstance(record_filter, dict):
        f_at = conv.where(record_filter, f"{at}.record_filter")
        condition = record_filter.get("condition")
        if custom_class(record_filter):
            conv.lost(f_at, f"custom record filter {custom_class(record_filter)} is not converted: every record is kept",
                      "write the filter as a template in records.filter")
        elif isinstance(condition, str) and condition.strip():
            if cursor_field and any(name in condition for name in ("stream_interval", "stream_slice")):
                conv.lost(f_at, "a filter on the cursor's window is left out: the stream's cursor already drops records "
                          "older than the saved position", "nothing to fix", "note")
            else:
                converted = conv.template(condition, record_scope, f"{f_at}.condition", "record filter")
                if converted is not None:
                    selector["filter"] = converted
    if node.get("transform_before_filtering"):
        conv.lost(f"{at}.transform_before_filtering", "the filter sees records before the transforms, not after",
                  "rewrite the filter for the untransformed record", "changed")
    return selector if len(selector) > 1 else path


def _field_path(extractor: dict[str, Any], conv: Conversion, at: str) -> str:
    steps = conv.resolved.field(extractor, "field_path") or []
    scope = Scope(allowed=CONFIG_ONLY, params=conv.resolved.params(extractor))
    out = []
    for i, step in enumerate(steps):
        value = conv.template(str(step), scope, f"{at}.field_path[{i}]", "field_path step")
        if value is None or "{" in str(value) or "." in str(value):
            conv.lost(f"{at}.field_path", f"field_path step {step!r} cannot be a step of a dotted records path", EXTRACTOR_HOOK)
            return ""
        out.append(str(value))
    return ".".join(out)


def _expand(node: dict[str, Any], conv: Conversion, at: str) -> dict[str, Any]:
    expand: dict[str, Any] = {"path": ".".join(str(s) for s in node.get("expand_records_from_field") or [])}
    if node.get("on_no_records") == "emit_parent":
        expand["keep_empty"] = True
    if node.get("remain_original_record"):
        conv.lost(f"{at}.remain_original_record", "the original record is not kept beside each item",
                  "carry the fields you need with expand.carry", "changed")
    return expand


def convert_decoder(node: Any, conv: Conversion, fallback: str) -> dict[str, Any] | None:
    if not isinstance(node, dict) or node.get("type") in (None, "JsonDecoder"):
        return None
    at = conv.where(node, fallback)
    kind = node.get("type")
    if kind == "GzipDecoder":
        inner = convert_decoder(node.get("decoder"), conv, f"{at}.decoder") or {"format": "json"}
        return {**inner, "compression": "gzip"}
    if kind in _DECODERS:
        decoder: dict[str, Any] = {"format": _DECODERS[kind]}
        if kind == "CsvDecoder":
            if node.get("delimiter"):
                decoder["delimiter"] = str(node["delimiter"]).encode().decode("unicode_escape")
            if node.get("encoding"):
                decoder["encoding"] = node["encoding"]
        return decoder
    conv.lost(at, f"decoder {kind or custom_class(node)!r} is not converted: bodies are read as JSON",
              "set the stream's decoder (docs/exports.md#body-formats) or write an extractor plugin")
    return None


def convert_schema(node: Any, conv: Conversion, fallback: str, manifest_dir: Path | None) -> dict[str, Any] | None:
    loaders = node if isinstance(node, list) else [node]
    for loader in loaders:
        if not isinstance(loader, dict):
            continue
        if isinstance(loader.get("schema"), dict):
            return _plain_schema(loader["schema"])
        if loader.get("type") == "JsonFileSchemaLoader":
            schema = _schema_file(loader, conv, manifest_dir)
            if schema is not None:
                return schema
            conv.lost(conv.where(loader, fallback), "the schema file is not beside the manifest: the schema is inferred",
                      "copy the JSON schema into the stream's `schema` if you need it declared", "note")
    return None


def _schema_file(loader: dict[str, Any], conv: Conversion, manifest_dir: Path | None) -> dict[str, Any] | None:
    params = conv.resolved.params(loader)
    scope = Scope(allowed=frozenset(), params=params)
    template = loader.get("file_path") or f"./schemas/{params.get('name', '')}.json"
    try:
        relative = str(translate_text(str(template), scope))
    except ValueError:
        return None
    if manifest_dir is None:
        return None
    parts = Path(relative).parts
    for start in range(len(parts)):  # the path is relative to the package root, which may sit above the manifest
        candidate = manifest_dir.joinpath(*parts[start:])
        if candidate.is_file():
            try:
                loaded = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            return _plain_schema(loaded) if isinstance(loaded, dict) else None
    return None


def _plain_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without Airbyte's own keywords."""
    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items() if not str(k).startswith("airbyte_") and k != "$schema"}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    return clean(schema)  # type: ignore[no-any-return]


def convert_transformations(nodes: Any, conv: Conversion, fallback: str, slice_fields: dict[str, str]) -> list[dict[str, Any]]:
    transforms: list[dict[str, Any]] = []
    for i, node in enumerate(nodes or []):
        if not isinstance(node, dict):
            continue
        at = conv.where(node, f"{fallback}[{i}]")
        kind = node.get("type")
        if custom_class(node):
            conv.lost(at, f"custom transformation {custom_class(node)} is not converted", TRANSFORM_HOOK)
        elif kind == "AddFields":
            transforms.extend(_add_fields(node, conv, at, slice_fields))
        elif kind == "RemoveFields":
            transforms.extend(_remove_fields(node, conv, at))
        elif kind == "KeysToLower":
            transforms.append({"keys": "lower"})
        elif kind == "KeysToSnakeCase":
            transforms.append({"keys": "snake"})
        elif kind == "FlattenFields":
            transforms.append({"flatten": {"separator": "."}})
            conv.lost(at, "FlattenFields joins nested keys with '.' here; Airbyte also flattens lists unless told not to",
                      "check the flattened field names", "changed")
        else:
            conv.lost(at, f"transformation {kind!r} is not converted", TRANSFORM_HOOK)
    return transforms


def _add_fields(node: dict[str, Any], conv: Conversion, at: str, slice_fields: dict[str, str]) -> list[dict[str, Any]]:
    if node.get("condition"):
        conv.lost(f"{at}.condition", "the condition is not converted: the fields are added to every record",
                  "write the condition into each value as a template", "changed")
    scope = Scope(allowed=RECORD, params=conv.resolved.params(node), slice_fields=slice_fields)
    fields: dict[str, Any] = {}
    casts: dict[str, str] = {}
    for j, definition in enumerate(node.get("fields") or []):
        path = ".".join(str(step) for step in definition.get("path") or [])
        value = conv.template(definition.get("value"), scope, f"{at}.fields[{j}].value", "added field value")
        if path and value is not None:
            fields[path] = value
            if definition.get("value_type") in ("string", "integer", "number", "boolean"):
                casts[path] = definition["value_type"]
    out: list[dict[str, Any]] = [{"set": fields}] if fields else []
    return out + ([{"cast": casts}] if casts else [])


def _remove_fields(node: dict[str, Any], conv: Conversion, at: str) -> list[dict[str, Any]]:
    fields = [".".join(str(step) for step in pointer) for pointer in node.get("field_pointers") or [] if pointer]
    if not fields:
        return []
    condition = node.get("condition")
    if condition:
        scope = Scope(allowed=RECORD | {"property", "value", "field"}, params=conv.resolved.params(node))
        when = conv.template(condition, scope, f"{at}.condition", "condition")
        if when is None:
            return []
        return [{"remove": {"fields": fields, "when": str(when).replace("property", "value")}}]
    return [{"remove": fields}]


__all__ = ["convert_decoder", "convert_schema", "convert_selector", "convert_transformations"]
