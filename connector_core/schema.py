"""Generates the published JSON Schemas from the pydantic models.

Run ``python -m connector_core.schema`` to rewrite ``specs/connector.schema.json`` (and the connection
schema once the runner defines it); ``tests/core/test_schema.py`` fails when the committed files drift.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@lru_cache(maxsize=16)
def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True)


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


def generated_files(root: Path) -> dict[Path, str]:
    """Every generated schema file and its expected content."""
    from connector_core.plugins import build_registry, make_plugin_manager

    registry = build_registry(make_plugin_manager())
    files = {root / "specs" / "connector.schema.json": render(connector_schema(registry))}
    try:
        from connector_core.connection import connection_schema
    except ImportError:
        return files
    files[root / "specs" / "connection.schema.json"] = render(connection_schema())
    return files


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    for path, content in generated_files(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(f"wrote {path.relative_to(root)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
