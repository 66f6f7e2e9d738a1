"""Writes the published JSON Schemas (spec and connection formats) and the spec reference.

Run ``python -m connector_core.cli.schemas`` from a checkout after changing a model;
``tests/core/test_schema.py`` fails when the committed files drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from connector_core.engine.registry import build_registry, make_plugin_manager
from connector_core.engine.schema import connector_schema, render, spec_reference
from connector_core.sync.connection import connection_schema


def generated_files(root: Path) -> dict[Path, str]:
    """Every generated schema file and its expected content."""
    registry = build_registry(make_plugin_manager())
    schema = connector_schema(registry)
    files = {
        root / "specs" / "connector.schema.json": render(schema),
        root / "docs" / "spec-reference.md": spec_reference(schema),
    }
    files[root / "specs" / "connection.schema.json"] = render(connection_schema())
    return files


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    for path, content in generated_files(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(f"wrote {path.relative_to(root)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
