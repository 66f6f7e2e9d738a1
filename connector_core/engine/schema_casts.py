"""Which top-level properties of a JSON Schema a text value can be converted for (integer, number,
boolean), as ``export.cast: schema`` converts them (:mod:`~connector_core.engine.export_cast`) and
``validate`` checks them (:mod:`~connector_core.engine.export_checks`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector_core.engine.spec import CastType

#: The JSON Schema types a text value is converted to.
CASTABLE: dict[str, CastType] = {"integer": "integer", "number": "number", "boolean": "boolean"}


def schema_casts(schema: Mapping[str, Any]) -> dict[str, CastType]:
    """Each top-level property ``schema`` types as integer, number or boolean (alone or with null), and that type."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    casts: dict[str, CastType] = {}
    for name, described in properties.items():
        kind = _castable_type(described)
        if kind is not None:
            casts[str(name)] = kind
    return casts


def _castable_type(described: Any) -> CastType | None:
    declared = described.get("type") if isinstance(described, Mapping) else None
    listed = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
    types = {kind for kind in listed if isinstance(kind, str)} - {"null"}
    if len(types) != 1:
        return None  # untyped, or text allowed beside a number: nothing says which a text value is
    (kind,) = types
    return CASTABLE.get(kind)


__all__ = ["CASTABLE", "schema_casts"]
