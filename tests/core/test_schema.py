"""The published JSON Schema and the spec reference are generated from the models and must not drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector_core.cli.schemas import generated_files
from connector_core.engine.schema import json_schema
from connector_core.plugins import build_registry, make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path, expected", sorted(generated_files(ROOT).items()), ids=lambda v: getattr(v, "name", ""))
def test_generated_file_is_current(path: Path, expected: str) -> None:
    assert path.exists(), f"{path} is missing: run `python -m connector_core.cli.schemas`"
    assert path.read_text(encoding="utf-8") == expected, f"{path} is stale: run `python -m connector_core.cli.schemas`"


def _properties(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [("ConnectorSpec", key, prop) for key, prop in schema.get("properties", {}).items()]
    for name, definition in schema.get("$defs", {}).items():
        found += [(name, key, prop) for key, prop in definition.get("properties", {}).items()]
    return found


def test_every_field_of_the_spec_format_has_a_description() -> None:
    schema = json_schema(build_registry(make_plugin_manager()).spec_model)
    undocumented = [f"{model}.{key}" for model, key, prop in _properties(schema) if not prop.get("description")]
    assert undocumented == []


def test_every_model_forbids_unknown_keys() -> None:
    schema = json_schema(build_registry(make_plugin_manager()).spec_model)
    open_models = [name for name, d in schema["$defs"].items() if d.get("type") == "object" and d.get("additionalProperties") is not False]
    assert open_models == []
