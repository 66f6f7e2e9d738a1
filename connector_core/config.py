"""The user's settings for a connector: loading, secret references, validation, redaction.

A config file is JSON or YAML. Any value may be ``{env: NAME}`` (read from the environment) or
``{file: PATH}`` (read from a file, relative to the config file; trailing newline stripped), so
secrets never need to be written into the file itself. The result is validated against the spec's
config schema; fields marked ``secret: true`` and every value read from ``env``/``file`` are registered
with the redactor.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from connector_core.documents import Document, PathKey, format_path, load_document
from connector_core.errors import ConfigError, SpecError
from connector_core.redaction import Redactor


def _is_reference(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("env", "file")


def resolve_references(
    value: Any, base_dir: Path, secrets: list[str], problems: list[str], doc: Document | None = None, at: PathKey = ()
) -> Any:
    """Replace ``{env: NAME}`` and ``{file: PATH}`` values, collecting problems instead of stopping."""
    where = f"{doc.where(at)}: " if doc else ""
    if _is_reference(value):
        kind, target = next(iter(value.items()))
        if kind == "env":
            resolved = os.environ.get(str(target))
            if resolved is None:
                problems.append(f"{where}{format_path(at)}: environment variable {target} is not set")
                return None
        else:
            path = Path(str(target)).expanduser()
            path = path if path.is_absolute() else base_dir / path
            try:
                resolved = path.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                problems.append(f"{where}{format_path(at)}: cannot read secret file {path}: {exc.strerror or exc}")
                return None
        secrets.append(resolved)
        return resolved
    if isinstance(value, dict):
        return {k: resolve_references(v, base_dir, secrets, problems, doc, (*at, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, base_dir, secrets, problems, doc, (*at, i)) for i, v in enumerate(value)]
    return value


def secret_values(schema: Mapping[str, Any], config: Any) -> list[str]:
    """Values of the config that its schema marks ``secret: true`` (nested objects and arrays too)."""
    found: list[str] = []
    if not isinstance(schema, Mapping):
        return found
    if schema.get("secret") is True and isinstance(config, str | int | float) and not isinstance(config, bool):
        found.append(str(config))
    if isinstance(config, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in config:
                found += secret_values(sub, config[name])
    if isinstance(config, list) and isinstance(schema.get("items"), Mapping):
        for item in config:
            found += secret_values(schema["items"], item)
    return found


def apply_defaults(schema: Mapping[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Fill in ``default`` values of top-level and nested object properties."""
    result = dict(config)
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        if name not in result and "default" in sub:
            result[name] = copy.deepcopy(sub["default"])
        if isinstance(result.get(name), dict) and sub.get("type") == "object":
            result[name] = apply_defaults(sub, result[name])
    return result


def validate_config(schema: Mapping[str, Any], config: dict[str, Any], source: str = "config", doc: Document | None = None) -> dict[str, Any]:
    """Apply defaults and validate; raise ConfigError listing every problem with its path. Never echoes secrets."""
    config = apply_defaults(schema, config)
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        at = tuple(error.absolute_path)
        where = f"{doc.where(at)}: " if doc else ""
        subschema = error.schema if isinstance(error.schema, Mapping) else {}
        if error.validator == "required":
            message = error.message.replace(" is a required property", " is required but missing")
        elif subschema.get("secret") is True or error.validator in ("pattern", "format") and _is_secret_path(schema, at):
            message = f"the value does not satisfy '{error.validator}' (value hidden: it is a secret)"
        else:
            message = error.message
        description = subschema.get("description") if error.validator != "required" else None
        problems.append(f"{where}{format_path(at)}: {message}" + (f" ({description})" if description else ""))
    if problems:
        raise ConfigError(f"{source}: invalid settings ({len(problems)} problem{'s' if len(problems) > 1 else ''})", problems=problems)
    return config


def _is_secret_path(schema: Mapping[str, Any], at: PathKey) -> bool:
    node: Any = schema
    for part in at:
        if not isinstance(node, Mapping):
            return False
        node = (node.get("properties") or {}).get(part) if isinstance(part, str) else node.get("items")
    return isinstance(node, Mapping) and node.get("secret") is True


def load_config_file(path: str | Path) -> tuple[dict[str, Any], list[str], Document]:
    """Read a config file; return the resolved values, the secrets read from env/file, and the document."""
    try:
        doc = load_document(path)
    except SpecError as exc:
        raise ConfigError(exc.message) from None
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{doc.where(())}: a config file must be a mapping of setting names to values")
    secrets: list[str] = []
    problems: list[str] = []
    data = resolve_references(doc.data, doc.path.parent, secrets, problems, doc)
    if problems:
        raise ConfigError(f"{doc.path}: cannot resolve secret references", problems=problems)
    return data, secrets, doc


def prepare_config(
    schema: Mapping[str, Any],
    raw: Mapping[str, Any] | str | Path | None,
    redactor: Redactor,
) -> dict[str, Any]:
    """Load (if a path), resolve references, validate and register secrets. Returns the final config."""
    doc: Document | None = None
    if raw is None:
        data: dict[str, Any] = {}
        source = "config"
    elif isinstance(raw, str | Path):
        data, secrets, doc = load_config_file(raw)
        source = str(raw)
        for secret in secrets:
            redactor.add(secret)
    else:
        secrets = []
        problems: list[str] = []
        data = resolve_references(dict(raw), Path.cwd(), secrets, problems)
        if problems:
            raise ConfigError("config: cannot resolve secret references", problems=problems)
        for secret in secrets:
            redactor.add(secret)
        source = "config"
    config = validate_config(schema, data, source, doc)
    for secret in secret_values(schema, config):
        redactor.add(secret)
    return config


__all__ = ["apply_defaults", "load_config_file", "prepare_config", "resolve_references", "secret_values", "validate_config"]
