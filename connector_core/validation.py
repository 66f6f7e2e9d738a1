"""Turning pydantic validation errors into located, helpful messages.

Each problem reads ``file:line:col: json.path: what is wrong (got X); hint``. Unknown keys and unknown
``type`` values get a did-you-mean suggestion drawn from the schema of that spot.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from connector_core.documents import Document, PathKey, format_path
from connector_core.errors import SpecError


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def suggest(word: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return match[0] if match else None


def _to_document_path(loc: tuple[Any, ...], data: Any) -> PathKey:
    """Drop the parts of a pydantic location that are not keys in the document (union tags, etc.)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and part == node.get("type"):
            continue  # the tag pydantic adds for a discriminated union member
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not _is_model_tag(part):
            # a missing or extra key: keep it so the message names it
            path.append(part)
            node = None
    return tuple(path)


def _is_model_tag(part: str) -> bool:
    # pydantic inserts union member names ("str", "RecordSelector", "function-after[...]") into locations
    return part[:1].isupper() or part in {"str", "int", "float", "bool", "list", "dict", "none"} or "[" in part


class _SchemaWalker:
    """Finds the allowed keys at a document path by walking the JSON Schema alongside the data."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema

    def _resolve(self, node: dict[str, Any], data: Any) -> dict[str, Any]:
        for _ in range(20):
            if "$ref" in node:
                ref = node["$ref"].split("/")[-1]
                node = self.root.get("$defs", {}).get(ref, {})
                continue
            for key in ("anyOf", "oneOf"):
                if key in node:
                    node = self._pick(node[key], node.get("discriminator"), data)
                    break
            else:
                if "allOf" in node and len(node["allOf"]) == 1:
                    node = node["allOf"][0]
                    continue
                return node
        return node

    def _pick(self, options: list[dict[str, Any]], discriminator: dict[str, Any] | None, data: Any) -> dict[str, Any]:
        if discriminator and isinstance(data, dict):
            tag = data.get(discriminator.get("propertyName", "type"))
            target = discriminator.get("mapping", {}).get(tag)
            if target:
                return {"$ref": target}
        objects = [o for o in options if o.get("type") != "null"]
        for option in objects:
            resolved = self._resolve(option, data)
            if isinstance(data, dict) and resolved.get("type") == "object":
                return resolved
            if isinstance(data, list) and resolved.get("type") == "array":
                return resolved
        return objects[0] if objects else {}

    def keys_at(self, data: Any, path: PathKey) -> list[str]:
        node = self._resolve(self.root, data)
        current = data
        for part in path:
            if isinstance(part, int):
                node = self._resolve(node.get("items", {}), current[part] if isinstance(current, list) else None)
                current = current[part] if isinstance(current, list) and part < len(current) else None
                continue
            child = current.get(part) if isinstance(current, dict) else None
            if part in node.get("properties", {}):
                node = self._resolve(node["properties"][part], child)
            elif isinstance(node.get("additionalProperties"), dict):
                node = self._resolve(node["additionalProperties"], child)
            else:
                return []
            current = child
        return sorted(node.get("properties", {}).keys())


def _describe(error: dict[str, Any], doc: Document, path: PathKey, walker: _SchemaWalker | None) -> tuple[str, PathKey, bool]:
    """Message, the path to point at, and whether to point at the key rather than the value."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        allowed = walker.keys_at(doc.data, path[:-1]) if walker else []
        guess = suggest(key, allowed)
        message = f"unknown key '{key}'"
        if guess:
            message += f"; did you mean '{guess}'?"
        elif allowed:
            message += f"; allowed here: {', '.join(allowed)}"
        return message, path, True
    if kind == "missing":
        return f"required key '{path[-1]}' is missing", path[:-1], False
    if kind == "union_tag_invalid":
        expected = re.findall(r"'([^']+)'", str(ctx.get("expected_tags", "")))
        tag = str(ctx.get("tag"))
        guess = suggest(tag, expected)
        message = f"unknown type '{tag}'; known: {', '.join(expected)}"
        if guess:
            message += f" (did you mean '{guess}'?)"
        return message, (*path, "type"), False
    if kind == "union_tag_not_found":
        return f"a 'type' key is required here ({error['msg']})", path, False
    if kind == "literal_error":
        expected = re.findall(r"'([^']+)'", str(ctx.get("expected", "")))
        guess = suggest(str(value), expected) if expected else None
        message = f"{_short(value)} is not allowed; expected {ctx.get('expected')}"
        if guess:
            message += f" (did you mean '{guess}'?)"
        return message, path, False
    return f"{error['msg']} (got {_short(value)})", path, False


def located_problems(exc: ValidationError, doc: Document, schema: dict[str, Any] | None = None) -> list[str]:
    """One located line per validation problem, deduplicated, in document order."""
    walker = _SchemaWalker(schema) if schema else None
    seen: set[str] = set()
    problems: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False):
        path = _to_document_path(error["loc"], doc.data)
        message, point, at_key = _describe(error, doc, path, walker)
        line = f"{doc.where(point, key=at_key)}: {format_path(point)}: {message}"
        if line not in seen:
            seen.add(line)
            problems.append((doc.where(point, key=at_key), line))
    return [line for _, line in sorted(problems, key=lambda p: _position_key(p[0]))]


def _position_key(where: str) -> tuple[int, int]:
    parts = where.rsplit(":", 2)
    try:
        return int(parts[-2]), int(parts[-1])
    except (ValueError, IndexError):
        return 0, 0


def validate_document(model: type[BaseModel], doc: Document, what: str, extra_problems: list[str] | None = None) -> Any:
    """Validate ``doc.data`` against ``model``; raise SpecError listing every located problem.

    ``extra_problems`` (found by checks that need no validated model) are reported together with the
    model's, so one run shows every mistake.
    """
    if not isinstance(doc.data, dict):
        raise SpecError(
            f"{doc.where(())}: a {what} must be a mapping of keys to values, got {type(doc.data).__name__}",
            spec_path=str(doc.path),
        )
    try:
        result = model.model_validate(doc.data)
    except ValidationError as exc:
        from connector_core.schema import json_schema

        problems = located_problems(exc, doc, json_schema(model))
        problems = sorted({*problems, *(extra_problems or [])}, key=lambda p: _position_key(p.split(": ", 1)[0]))
        noun = "problem" if len(problems) == 1 else "problems"
        raise SpecError(f"{doc.path}: invalid {what} ({len(problems)} {noun})", problems=problems, spec_path=str(doc.path)) from None
    if extra_problems:
        noun = "problem" if len(extra_problems) == 1 else "problems"
        raise SpecError(f"{doc.path}: invalid {what} ({len(extra_problems)} {noun})", problems=extra_problems, spec_path=str(doc.path))
    return result


__all__ = ["located_problems", "suggest", "validate_document"]
