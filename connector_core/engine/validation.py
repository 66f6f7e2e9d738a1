"""Turning pydantic validation errors into located, helpful messages.

Each problem reads ``file:line:col: json.path: what is wrong (got X); hint``. Unknown keys and unknown
``type`` values get a did-you-mean suggestion drawn from the schema of that spot.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from connector_core.engine.documents import Document, PathKey, format_path
from connector_core.errors import SpecError


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _path_key_hint(text: str, keys: list[str]) -> str:
    """For a bare path written where a mapping naming it is expected (``id: data.id``): the form to write."""
    if "path" not in keys:
        return ""
    hint = f"; write the path under its key: {{path: {text}}}"
    return hint + (" (or {header: NAME} for a response header)" if "header" in keys else "")


def _got(value: Any) -> str:
    """How a received value is shown: scalars as written, containers by kind with a short preview."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return f"a mapping {_short(value, 40)}"
    if isinstance(value, list):
        return f"a list {_short(value, 40)}"
    return _short(value)


def suggest(word: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return match[0] if match else None


def _words(name: str) -> list[str]:
    """``expand_subResources`` → ['expand', 'sub', 'resources']."""
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)]


def suggest_name(word: str, choices: list[str]) -> str | None:
    """The known name ``word`` most likely meant: the same words spelt otherwise (``expandSubResources``,
    ``expand_subresources`` for ``expand_sub_resources``), a close spelling, or the one known name
    among its words (``pagination_limit`` for ``limit``)."""
    squashed = "".join(_words(word))
    same = [c for c in choices if "".join(_words(c)) == squashed]
    if same:
        return same[0]
    close = suggest(word, choices)
    if close:
        return close
    words = set(_words(word))
    inside = [c for c in choices if set(_words(c)) and set(_words(c)) <= words]
    return inside[0] if len(inside) == 1 else None


#: Keywords with which a JSON Schema object takes properties beyond its `properties` (so none is unknown).
_OPEN_KEYWORDS = ("additionalProperties", "patternProperties", "unevaluatedProperties", "allOf", "anyOf", "oneOf", "$ref", "if", "dependentSchemas")


def unknown_keys(schema: Any, value: Any, at: str = "input", *, closed_by_default: bool = False) -> list[str]:
    """Keys of ``value`` that an object schema closed to other keys does not name, each with a
    did-you-mean, e.g. ``input: unknown key 'pagination_limit'; did you mean 'limit'?``.

    A schema is closed by ``additionalProperties: false``. With ``closed_by_default``, an object schema
    that lists its ``properties`` is closed too unless it opens itself on purpose
    (``additionalProperties``, ``patternProperties``, composition): an operation's input schema lists
    what its templates read, so a key it does not list is read by nothing and silently dropped (a
    misspelt option). Nested objects with their own ``properties`` are checked the same way.
    """
    if not isinstance(schema, dict) or not isinstance(value, dict):
        return []
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    problems = []
    closed = schema.get("additionalProperties") is False or (closed_by_default and not any(k in schema for k in _OPEN_KEYWORDS))
    if closed:
        known = [str(name) for name in properties]
        for key in value:
            if key in properties:
                continue
            guess = suggest_name(str(key), known)
            extra = f"; did you mean '{guess}'?" if guess else f"; it takes: {', '.join(known) or '(nothing)'}"
            problems.append(f"{at}: unknown key {_short(key)}{extra}")
    for name, sub in properties.items():
        if name in value:
            problems.extend(unknown_keys(sub, value[name], f"{at}.{name}", closed_by_default=closed_by_default))
    return problems


#: What each pydantic type error expected, in words.
#: Stream fields whose values come only from plugins (an empty union: only null validates without one).
_PLUGIN_COMPONENTS = {
    "extractor": ("record extractor", "connector_register_extractors"),
    "router": ("partition router", "connector_register_partition_routers"),
    "slicer": ("slicer", "connector_register_slicers"),
}

_EXPECTED = {
    "string_type": "a string",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "none_required": "null",
}


def no_such(what: str, name: str, known: Any, owner: str) -> SpecError:
    """``connector 'x' has no stream 'custmers'`` with a did-you-mean, or the list of known names."""
    names = list(known)
    guess = suggest(name, names)
    return SpecError(
        f"{owner} has no {what} '{name}'",
        hint=f"did you mean '{guess}'?" if guess else f"{what}s: {', '.join(names) or '(none)'}",
    )


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


def _value_at(data: Any, path: PathKey) -> tuple[bool, Any]:
    node = data
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return False, None
    return True, node


class _SchemaWalker:
    """Finds the allowed keys at a document path by walking the JSON Schema alongside the data."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        for _ in range(20):
            if "$ref" not in node:
                break
            node = self.root.get("$defs", {}).get(node["$ref"].split("/")[-1], {})
        return node

    def _resolve(self, node: dict[str, Any], data: Any) -> dict[str, Any]:
        for _ in range(20):
            if "$ref" in node:
                node = self._deref(node)
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

    def _raw_at(self, data: Any, path: PathKey) -> dict[str, Any] | None:
        """The unresolved schema of the value at ``path`` (None when the path leaves the schema)."""
        node: dict[str, Any] = self.root
        current = data
        for part in path:
            resolved = self._resolve(node, current)
            if isinstance(part, int):
                node = resolved.get("items", {})
                current = current[part] if isinstance(current, list) and part < len(current) else None
                continue
            if part in resolved.get("properties", {}):
                node = resolved["properties"][part]
            elif isinstance(resolved.get("additionalProperties"), dict):
                node = resolved["additionalProperties"]
            else:
                return None
            current = current.get(part) if isinstance(current, dict) else None
        return node

    def keys_at(self, data: Any, path: PathKey) -> list[str]:
        node = self._raw_at(data, path)
        if node is None:
            return []
        return sorted(self._resolve(node, _value_at(data, path)[1]).get("properties", {}).keys())

    def description_of(self, data: Any, path: PathKey) -> str | None:
        node = self._raw_at(data, path)
        if node is None:
            return None
        text = node.get("description") or self._deref(node).get("description")
        return str(text) if text else None

    def tags_at(self, data: Any, path: PathKey) -> list[str]:
        """The ``type`` values a discriminated union at ``path`` accepts."""
        pending = [self._raw_at(data, path) or {}]
        for _ in range(40):
            if not pending:
                break
            node = self._deref(pending.pop(0))
            mapping = (node.get("discriminator") or {}).get("mapping")
            if mapping:
                return list(mapping)
            for key in ("anyOf", "oneOf", "allOf"):
                pending.extend(node.get(key, []))
        return []


def _describe(error: ErrorDetails, doc: Document, path: PathKey, walker: _SchemaWalker | None) -> tuple[str, PathKey, bool]:
    """Message, the path to point at, and whether to point at the key rather than the value."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    found, raw = _value_at(doc.data, path)
    value = raw if found else error.get("input")
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
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        count = ctx.get("actual_length")
        noun = "item" if bound == 1 else "items"
        limit = "at least" if kind == "too_short" else "at most"
        return f"needs {limit} {bound} {noun}, got {count}", path, False
    if kind == "missing":
        message = f"required key '{path[-1]}' is missing"
        description = walker.description_of(doc.data, path) if walker else None
        if description:
            message += f" ({description.rstrip('.')})"
        return message, path[:-1], False
    if kind == "none_required" and path and path[-1] in _PLUGIN_COMPONENTS:
        noun, hook = _PLUGIN_COMPONENTS[str(path[-1])]
        return f"no installed plugin provides {noun}s, so there is nothing to select here; a plugin registers them with {hook} (see docs/plugins.md)", path, False
    if kind == "union_tag_invalid":
        expected = re.findall(r"'([^']+)'", str(ctx.get("expected_tags", "")))
        tag = str(ctx.get("tag"))
        guess = suggest(tag, expected)
        message = f"unknown type '{tag}'; known: {', '.join(expected)}"
        message += f"; did you mean '{guess}'?" if guess else ""
        return message, (*path, "type"), False
    if kind == "union_tag_not_found":
        tags = walker.tags_at(doc.data, path) if walker else []
        message = "a 'type' key is required here to say which kind this is"
        if not isinstance(value, dict):
            message = f"expected a mapping with a 'type' key, got {_got(value)}"
        return message + (f"; known types: {', '.join(tags)}" if tags else ""), path, False
    if kind == "literal_error":
        expected = re.findall(r"'([^']+)'", str(ctx.get("expected", "")))
        guess = suggest(str(value), expected) if expected else None
        message = f"{_short(value)} is not allowed; expected {ctx.get('expected')}"
        if guess:
            message += f" (did you mean '{guess}'?)"
        return message, path, False
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {_got(value)}"
        if kind == "string_type" and isinstance(value, int | float | bool) and doc.path.suffix.lower() != ".json":
            message += " (YAML reads it as a number or boolean; put it in quotes to keep it as text)"
        if kind in ("model_type", "model_attributes_type", "dict_type") and isinstance(value, str) and walker:
            message += _path_key_hint(value, walker.keys_at(doc.data, path))
        return message, path, False
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        message = f"{_short(value)} does not match the pattern {pattern}"
        description = walker.description_of(doc.data, path) if walker else None
        if description:
            message += f" ({description.rstrip('.')})"
        if isinstance(value, str):
            candidate = re.sub(r"[^a-z0-9_\-]+", "_", value.strip().lower()).strip("_")
            if candidate != value and re.fullmatch(pattern, candidate):
                message += f"; did you mean '{candidate}'?"
        return message, path, False
    text = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    for noun in ("Input", "String", "List", "Dictionary", "Value"):
        if text.startswith(f"{noun} should "):
            text = "must " + text[len(noun) + len(" should ") :]
            break
    if _short(value) not in text:
        text += f" (got {_got(value)})"
    choices = re.search(r"expected one of ([\w\-, ]+)$", text)
    if kind == "value_error" and choices and isinstance(value, str):
        guess = suggest(value.upper() if value.isupper() else value, [c.strip() for c in choices.group(1).split(",")])
        if guess:
            text += f" (did you mean '{guess}'?)"
    return text, path, False


def located_problems(exc: ValidationError, doc: Document, schema: dict[str, Any] | None = None) -> list[str]:
    """One located line per validation problem, deduplicated, in document order.

    Union members that failed only because the value has another shape are folded together: a
    mapping given where ``str | RecordSelector`` is allowed reports the mapping's own problems, not
    also "expected a string"; a value neither member accepts reads "expected a string or a mapping".
    """
    walker = _SchemaWalker(schema) if schema else None
    errors = [(error, _to_document_path(error["loc"], doc.data)) for error in exc.errors(include_url=False)]
    # a tagged-union error is about the value's `type` key: it counts as a problem inside the value
    reported = [(*path, "type") if error["type"].startswith("union_tag") else path for error, path in errors]
    deeper = {path[:i] for path in reported for i in range(len(path))}
    misspelled: set[PathKey] = set()
    for error, path in errors:
        if error["type"] == "extra_forbidden" and walker and path:
            guess = suggest(str(path[-1]), walker.keys_at(doc.data, path[:-1]))
            if guess:
                misspelled.add((*path[:-1], guess))
    type_errors: dict[PathKey, list[str]] = {}
    kept: list[tuple[ErrorDetails, PathKey]] = []
    for error, path in errors:
        if error["type"] in _EXPECTED:
            if path in deeper:
                continue  # another member of the union accepted the shape and reported what is inside
            type_errors.setdefault(path, [])
            if _EXPECTED[error["type"]] not in type_errors[path]:
                type_errors[path].append(_EXPECTED[error["type"]])
            if len(type_errors[path]) > 1:
                continue
        if error["type"] == "missing" and path in misspelled:
            continue  # reported as "unknown key ...; did you mean" on the misspelt key
        kept.append((error, path))
    seen: set[str] = set()
    problems: list[tuple[str, str]] = []
    for error, path in kept:
        message, point, at_key = _describe(error, doc, path, walker)
        if error["type"] in _EXPECTED and len(type_errors.get(path, [])) > 1:
            found, raw = _value_at(doc.data, path)
            expected = type_errors[path]
            words = ", ".join(expected[:-1]) + f" or {expected[-1]}"
            message = f"expected {words}, got {_got(raw if found else error.get('input'))}"
        where = doc.where(point, key=at_key)
        line = f"{where}: {format_path(point)}: {message}"
        if line not in seen:
            seen.add(line)
            problems.append((where, line))
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
    if doc.data is None:
        raise SpecError(f"{doc.where(())}: (document root): the file is empty; a {what} is a mapping of keys to values", spec_path=str(doc.path))
    if not isinstance(doc.data, dict):
        shape = "a list" if isinstance(doc.data, list) else f"{_got(doc.data)}"
        raise SpecError(
            f"{doc.where(())}: (document root): a {what} must be a mapping of keys to values, got {shape}",
            spec_path=str(doc.path),
        )
    try:
        result = model.model_validate(doc.data)
    except ValidationError as exc:
        from connector_core.engine.schema import json_schema

        problems = located_problems(exc, doc, json_schema(model))
        problems = sorted({*problems, *(extra_problems or [])}, key=lambda p: _position_key(p.split(": ", 1)[0]))
        noun = "problem" if len(problems) == 1 else "problems"
        raise SpecError(f"{doc.path}: invalid {what} ({len(problems)} {noun})", problems=problems, spec_path=str(doc.path)) from None
    if extra_problems:
        noun = "problem" if len(extra_problems) == 1 else "problems"
        raise SpecError(f"{doc.path}: invalid {what} ({len(extra_problems)} {noun})", problems=extra_problems, spec_path=str(doc.path))
    return result


__all__ = ["located_problems", "suggest", "suggest_name", "unknown_keys", "validate_document"]
