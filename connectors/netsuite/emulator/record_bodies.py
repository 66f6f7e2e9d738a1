"""Request bodies of record writes: field names and values checked the way NetSuite checks them.

The ``X-NetSuite-PropertyNameValidation`` / ``-PropertyValueValidation`` headers (a
:class:`Validation`) decide whether a bad name or value is an error, a warning or ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import dates
from .errors import NsError, invalid_content
from .schema import LINE_BY_LOWER, LOOKUP_TARGETS, REF_NAME_SQL, Field, RecordType
from .settings import EmulatorSettings
from .store import Store

_UNKNOWN_FIELD_HINT = "The field is not defined for this record type and was ignored."


@dataclass
class Validation:
    """Per-request validation modes from the ``X-NetSuite-Property*Validation`` headers."""

    names: str = "Warning"
    values: str = "Error"


@dataclass
class ParsedBody:
    """A checked body: stored values by field name, item lines (None: not given) and warnings."""

    values: dict[str, Any] = field(default_factory=dict)
    lines: list[tuple[int, dict[str, Any]]] | None = None
    warnings: list[str] = field(default_factory=list)


class _Skip:
    """Marker for a body value dropped under Warning/Ignore validation."""


_SKIP = _Skip()


class BodyParser:
    """Turns a JSON body into stored column values for one record type."""

    def __init__(self, store: Store, settings: EmulatorSettings) -> None:
        self.store = store
        self.settings = settings

    def _coerce(self, f: Field, value: Any, path: str, validation: Validation, warnings: list[str]) -> Any:
        """Validate one body value; returns the stored form. Raises 400 INVALID_CONTENT."""
        if value is None:
            return None
        expected = {
            "string": "a string",
            "float": "a number",
            "integer": "an integer",
            "boolean": "a boolean",
            "date": "a date (YYYY-MM-DD)",
            "datetime": "a date-time (ISO 8601)",
            "ref": "a reference {\"id\": \"…\"}",
        }.get(f.kind, "a value")
        ok = True
        stored: Any = None
        if f.kind == "string":
            ok = isinstance(value, str)
            stored = value
        elif f.kind in ("float", "integer"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok and f.kind == "integer":
                ok = float(value).is_integer()
            stored = float(value) if ok and f.kind == "float" else (int(value) if ok else None)
        elif f.kind == "boolean":
            ok = isinstance(value, bool)
            stored = "T" if value is True else "F"
        elif f.kind == "date":
            stored = dates.parse_body_date(value) if isinstance(value, str) else None
            ok = stored is not None
        elif f.kind == "datetime":
            stored = dates.parse_body_datetime(value) if isinstance(value, str) else None
            ok = stored is not None
        elif f.kind == "ref":
            return self._coerce_ref(f, value, path, validation, warnings)
        if ok:
            return stored
        detail = f"Invalid content in the request body. The value of field '{path}' must be {expected}."
        if validation.values == "Error":
            raise invalid_content(detail, error_path=path)
        if validation.values == "Warning":
            warnings.append(detail)
        return _SKIP

    def _coerce_ref(self, f: Field, value: Any, path: str, validation: Validation, warnings: list[str]) -> Any:
        target = f.target or ""
        raw: Any = value
        by_external = False
        if isinstance(value, dict):
            if "id" in value:
                raw = value["id"]
            elif "externalId" in value:
                raw, by_external = value["externalId"], True
            else:
                raw = None
        bad_type = raw is None or isinstance(raw, bool) or not isinstance(raw, str | int)
        if bad_type:
            detail = f"Invalid content in the request body. The value of field '{path}' must be a reference."
            if validation.values == "Error":
                raise invalid_content(detail, error_path=path)
            warnings.append(detail)
            return _SKIP
        if target in LOOKUP_TARGETS:
            table, id_col, _ = LOOKUP_TARGETS[target]
            sql, params = f"SELECT {id_col} FROM {table} WHERE {id_col} = ?", [raw]
        else:
            table, id_col, _ = REF_NAME_SQL[target]
            col = "externalid" if by_external else id_col
            sql, params = f"SELECT {id_col} FROM {table} WHERE {col} = ?", [str(raw) if by_external else raw]
            if target in ("salesOrder", "invoice"):
                sql += " AND type = ?"
                params.append("SalesOrd" if target == "salesOrder" else "CustInvc")
        found = None
        if by_external or str(raw).isdigit():
            if not by_external:
                params[0] = int(raw)
            found = self.store.scalar(sql, params)
        if found is None:
            raise invalid_content(
                f"Invalid value for the resource or sub-resource field '{path}'. Provide a valid value.",
                error_path=path,
            )
        return int(found)

    def parse(self, rt: RecordType, body: Any, validation: Validation) -> ParsedBody:
        """Check the JSON body of a write to ``rt``; read-only fields are ignored, bad ones per ``validation``."""
        if not isinstance(body, dict):
            raise invalid_content("Invalid content in the request body.")
        parsed = ParsedBody()
        ci = self.settings.case_insensitive_fields
        for key, value in body.items():
            if key in ("links", "refName"):
                continue
            f = rt.field(key, ci)
            if f is None:
                self._unknown_field(key, validation, parsed.warnings)
                continue
            if f.read_only:
                continue
            if f.kind == "sublist":
                if f.name == "item":
                    parsed.lines = self._parse_lines(value, validation, parsed.warnings)
                continue
            coerced = self._coerce(f, value, f.name, validation, parsed.warnings)
            if coerced is not _SKIP:
                parsed.values[f.name] = coerced
        return parsed

    def _unknown_field(self, key: str, validation: Validation, warnings: list[str]) -> None:
        message = f"Unknown field name {key}. {_UNKNOWN_FIELD_HINT}"
        if validation.names == "Error":
            raise NsError(400, "NONEXISTENT_FIELD", f"Unknown field name {key}.", error_path=key)
        if validation.names == "Warning":
            warnings.append(message)

    def _parse_lines(
        self, value: Any, validation: Validation, warnings: list[str]
    ) -> list[tuple[int, dict[str, Any]]]:
        if not isinstance(value, dict) or not isinstance(value.get("items", []), list):
            raise invalid_content(
                "Invalid content in the request body. The value of field 'item' must be a sublist "
                "object with an 'items' array.",
                error_path="item",
            )
        lines: list[tuple[int, dict[str, Any]]] = []
        for i, line in enumerate(value.get("items", [])):
            if not isinstance(line, dict):
                raise invalid_content("Invalid content in the request body.", error_path=f"item.items[{i}]")
            parsed: dict[str, Any] = {}
            for key, v in line.items():
                if key == "links":
                    continue
                f = LINE_BY_LOWER.get(key.lower())
                if f is None:
                    self._unknown_field(f"item.items[{i}].{key}", validation, warnings)
                    continue
                if f.name == "line":
                    if isinstance(v, int) and not isinstance(v, bool):
                        parsed["line"] = v
                    continue
                coerced = self._coerce(f, v, f"item.items[{i}].{f.name}", validation, warnings)
                if coerced is not _SKIP:
                    parsed[f.name] = coerced
            lines.append((i, parsed))
        return lines
