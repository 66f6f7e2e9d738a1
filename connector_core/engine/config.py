"""The user's settings for a connector: loading, secret references, validation, redaction.

A config file is JSON or YAML. Any value may be ``{env: NAME}`` (read from the environment) or
``{file: PATH}`` (read from a file, relative to the config file; trailing newline stripped), so
secrets never need to be written into the file itself. The result is validated against the spec's
config schema; fields marked ``secret: true`` and every value read from ``env``/``file`` are registered
with the redactor.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from connector_core.engine.documents import Document, PathKey, format_path, load_document
from connector_core.engine.redaction import MASK, Redactor
from connector_core.engine.validation_cache import already_valid, remember_valid
from connector_core.errors import ConfigError, SpecError

if TYPE_CHECKING:
    import jsonschema


def is_reference(value: Any) -> bool:
    """Whether a config value is ``{env: NAME}`` or ``{file: PATH}``, read when the config is prepared."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("env", "file")


def resolve_references(
    value: Any, base_dir: Path, secrets: list[str], problems: list[str], doc: Document | None = None, at: PathKey = ()
) -> Any:
    """Replace ``{env: NAME}`` and ``{file: PATH}`` values, collecting problems instead of stopping."""
    if is_reference(value):
        where = f"{doc.where(at)}: " if doc else ""  # only for a problem: locating reads the file's positions
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
                resolved = read_secret_file(path)
            except ValueError as exc:
                problems.append(f"{where}{format_path(at)}: {exc}")
                return None
        secrets.append(resolved)
        return resolved
    if isinstance(value, dict):
        return {k: resolve_references(v, base_dir, secrets, problems, doc, (*at, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, base_dir, secrets, problems, doc, (*at, i)) for i, v in enumerate(value)]
    return value


#: The most a ``{file: PATH}`` value reads: secrets, keys and certificate bundles are far smaller.
MAX_SECRET_FILE_BYTES = 1024 * 1024


def read_secret_file(path: Path) -> str:
    """The text of a ``{file: PATH}`` secret, trailing newline stripped. Only a regular file of at most
    :data:`MAX_SECRET_FILE_BYTES` is read (a device such as /dev/zero would never end, a FIFO may never
    open); raises ValueError saying what is wrong with the file, never what it holds."""
    import stat

    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ValueError(f"cannot read secret file {path}: it is a directory")
        if not stat.S_ISREG(mode):
            raise ValueError(f"cannot read secret file {path}: not a regular file (a device, FIFO or socket); secrets are read from files")
        with path.open("rb") as handle:
            data = handle.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise ValueError(f"cannot read secret file {path}: larger than {MAX_SECRET_FILE_BYTES // 1024} KiB, so not a secret")
    try:
        return data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise ValueError(f"cannot read secret file {path}: not UTF-8 text (byte {exc.start})") from None


def secret_values(schema: object, config: Any) -> list[str]:
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


def masked_config(schema: object, config: Any, redactor: Redactor) -> Any:
    """A copy of ``config`` for templates whose result is not sent to the API (record transforms and
    filters, operation outputs, messages): values of ``secret: true`` fields become ``***``, and every
    string has the redactor's secrets (``env``/``file`` values) and URLs' userinfo masked."""
    node = schema if isinstance(schema, Mapping) else {}
    if node.get("secret") is True and config not in (None, "") and not isinstance(config, bool):
        return MASK
    if isinstance(config, str):
        return redactor.text(config)
    if isinstance(config, dict):
        properties = node.get("properties") or {}
        return {name: masked_config(properties.get(name), value, redactor) for name, value in config.items()}
    if isinstance(config, list):
        return [masked_config(node.get("items"), item, redactor) for item in config]
    return config


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


def _check_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    text = value.strip()
    if len(text) <= 10 or text[10] not in "Tt ":
        raise ValueError("a date-time needs a date and a time")
    dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


def _check_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.path):
        raise ValueError("a URI needs a scheme, e.g. https://")
    return True


@lru_cache(maxsize=1)
def format_checker() -> jsonschema.FormatChecker:
    """jsonschema's format checks plus the two it leaves to optional packages that config files use most."""
    import jsonschema

    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=ValueError)(_check_datetime)
    checker.checks("uri", raises=ValueError)(_check_uri)
    return checker

_TYPE_WORDS = {"array": "a list", "object": "a mapping", "string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false", "null": "null"}


def _contains_secret(value: Any, secrets: frozenset[str]) -> bool:
    if isinstance(value, str):
        return value in secrets or any(s in value for s in secrets if len(s) >= 4)
    if isinstance(value, dict):
        return any(_contains_secret(v, secrets) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v, secrets) for v in value)
    return isinstance(value, int | float) and not isinstance(value, bool) and str(value) in secrets


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problem_message(error: jsonschema.ValidationError, hidden: bool) -> str:
    """One jsonschema error in words. ``hidden``: the value is a secret and must not be shown."""
    kind, value = error.validator, error.instance
    # The keyword's value in the schema (any JSON). The stubs allow jsonschema's ``Unset`` sentinel, which
    # only errors built by hand carry; every error a validator yields has it.
    expected: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    shown = "a secret value (hidden)" if hidden else _short(value)
    if kind == "required":
        name = error.message.split("'")[1] if error.message.count("'") >= 2 else str(expected)
        present = [k for k in value if isinstance(k, str)] if isinstance(value, dict) else []
        guess = _suggest(name, [k for k in present if k not in (schema.get("properties") or {})])
        return f"'{name}' is required but missing" + (f"; is '{guess}' a misspelling of it?" if guess else "")
    if kind == "type":
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in (expected if isinstance(expected, list) else [expected]))
        return f"expected {words}, got {shown}"
    if kind == "enum":
        choices = ", ".join(repr(c) for c in expected)
        guess = None if hidden or not isinstance(value, str) else _suggest(value, [c for c in expected if isinstance(c, str)])
        return f"{shown} is not one of {choices}" + (f"; did you mean {guess!r}?" if guess else "")
    if kind == "format":
        return f"{shown} is not a valid {expected}" + (f" ({error.cause})" if error.cause and not hidden else "")
    if kind == "pattern":
        return f"{shown} does not match the pattern {expected}"
    if kind in ("minLength", "maxLength"):
        bound = "at least" if kind == "minLength" else "at most"
        return f"must be {bound} {expected} character{'s' if expected != 1 else ''} long"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind]
        return f"must be {sign} {expected}, got {shown}"
    if kind == "additionalProperties" and isinstance(value, dict):
        known = list(schema.get("properties") or {})
        extras = [k for k in value if k not in known]
        described = []
        for key in extras:
            guess = _suggest(str(key), known)
            described.append(f"'{key}'" + (f" (did you mean '{guess}'?)" if guess else ""))
        return f"unknown setting{'s' if len(extras) != 1 else ''} {', '.join(described)}"
    if kind in ("anyOf", "oneOf"):
        if kind == "oneOf" and not error.context:
            return f"matches more than one of the {len(expected)} allowed forms; it must match exactly one"
        from jsonschema.exceptions import best_match

        best = best_match(error.context or [])
        closest = ""
        if best is not None:
            inner = tuple(best.absolute_path)[len(error.absolute_path) :]
            prefix = f"{format_path(inner)}: " if inner else ""
            closest = f"; closest: {prefix}{_problem_message(best, hidden)}"
        return f"matches none of the {len(expected)} allowed forms{closest}"
    if hidden or isinstance(value, dict | list):
        return f"does not satisfy '{kind}': {_short(expected)}"
    return error.message


def _suggest(word: str, choices: list[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return match[0] if match else None


def validate_config(
    schema: Mapping[str, Any],
    config: dict[str, Any],
    source: str = "config",
    doc: Document | None = None,
    secrets: Iterable[str] = (),
) -> dict[str, Any]:
    """Apply defaults and validate; raise ConfigError listing every problem with its path.

    Never echoes a secret: values of ``secret: true`` fields and every value in ``secrets`` (those
    read from ``{env: ...}`` and ``{file: ...}``) are described, not shown, and each message is
    passed through a redactor as a last line of defence.
    """
    config = apply_defaults(schema, config)
    fingerprint = (_canonical(schema), _canonical(config))
    if already_valid("config", *fingerprint):
        return config
    import jsonschema

    hidden_values = frozenset(str(s) for s in [*secrets, *secret_values(schema, config)] if s is not None and str(s) != "")
    redactor = Redactor(hidden_values)
    validator = jsonschema.Draft202012Validator(schema, format_checker=format_checker())
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path]):
        at = tuple(error.absolute_path)
        where = f"{doc.where(at)}: " if doc else ""
        subschema = error.schema if isinstance(error.schema, Mapping) else {}
        hidden = (
            subschema.get("secret") is True or _is_secret_path(schema, at) or _contains_secret(error.instance, hidden_values)
        ) and error.validator not in ("required", "additionalProperties")
        message = _problem_message(error, hidden)
        description = subschema.get("description") if error.validator not in ("required", "additionalProperties") else None
        problems.append(redactor.text(f"{where}{format_path(at)}: {message}" + (f" ({description})" if description else "")))
    if problems:
        raise ConfigError(f"{source}: invalid settings ({len(problems)} problem{'s' if len(problems) > 1 else ''})", problems=problems)
    remember_valid("config", *fingerprint)
    return config


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode()


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
        doc = load_document(path, locate_later=True)  # positions only matter to an error message
    except SpecError as exc:
        raise ConfigError(exc.message, problems=exc.problems, hint=exc.hint) from None
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
    secrets: list[str] = []
    if raw is None:
        data: dict[str, Any] = {}
        source = "config"
    elif isinstance(raw, str | Path):
        data, secrets, doc = load_config_file(raw)
        source = str(raw)
    else:
        problems: list[str] = []
        data = resolve_references(dict(raw), Path.cwd(), secrets, problems)
        if problems:
            raise ConfigError("config: cannot resolve secret references", problems=problems)
        source = "config"
    for secret in secrets:
        redactor.add(secret)
    config = validate_config(schema, data, source, doc, secrets)
    for secret in secret_values(schema, config):
        redactor.add(secret)
    return config


__all__ = [
    "format_checker",
    "apply_defaults",
    "is_reference",
    "load_config_file",
    "masked_config",
    "prepare_config",
    "read_secret_file",
    "resolve_references",
    "secret_values",
    "validate_config",
]
