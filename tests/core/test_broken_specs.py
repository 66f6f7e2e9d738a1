"""A corpus of broken spec files, each with the exact message a spec author sees.

Every ``broken_specs/NAME.yaml`` (or ``.json``) sits beside ``NAME.expected``: the text of the error
`connector-core validate` prints, with the file's directory removed so the expectation is stable.
After changing a message on purpose, rewrite the expectations with
``CONNECTOR_CORE_UPDATE_EXPECTED=1 pytest tests/core/test_broken_specs.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import connectors.example.plugin as example_plugin
from connector_core.cli.validate import validate_file
from connector_core.errors import SpecError
from connector_core.hookspecs import hookimpl
from connector_core.plugins import Registry, build_registry, make_plugin_manager

CORPUS = Path(__file__).with_name("broken_specs")
CASES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".json"))
UPDATE = os.environ.get("CONNECTOR_CORE_UPDATE_EXPECTED") == "1"


class _TransformPlugin:
    """Contributes one named transform, so an unknown name can be matched against a known one."""

    @hookimpl
    def connector_register_transforms(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]]:
        return {"lowercase_keys": lambda record: {str(k).lower(): v for k, v in record.items()}}


@pytest.fixture(scope="module")
def registry() -> Registry:
    # Built-ins, the example connector and one transform only: the expectations must not change
    # when another installed plugin adds an auth type or a paginator.
    return build_registry(make_plugin_manager(entry_points=False, plugins=[example_plugin, _TransformPlugin()]))


def _message(path: Path, registry: Registry) -> str:
    with pytest.raises(SpecError) as caught:
        validate_file(path, registry)
    return str(caught.value).replace(str(path), path.name) + "\n"


def test_corpus_is_large_enough_and_paired() -> None:
    assert len(CASES) >= 20
    assert sum(p.suffix == ".json" for p in CASES) >= 3
    assert len({p.stem for p in CASES}) == len(CASES), "two cases share a name"
    for case in CASES:
        assert case.with_suffix(".expected").exists() or UPDATE, f"{case.name} has no .expected file"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_broken_spec_message(case: Path, registry: Registry) -> None:
    message = _message(case, registry)
    expected_file = case.with_suffix(".expected")
    if UPDATE:
        expected_file.write_text(message, encoding="utf-8")
    assert message == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_every_problem_is_located(case: Path, registry: Registry) -> None:
    """Each problem line starts with ``NAME:line:col: json.path:`` and no Python internals leak."""
    message = _message(case, registry)
    assert "Traceback" not in message
    assert "pydantic" not in message.lower()
    located = [line.strip() for line in message.splitlines() if re.match(rf"\s*{re.escape(case.name)}:\d+:\d+: ", line)]
    assert located, message
    for line in located:
        assert re.match(rf"{re.escape(case.name)}:\d+:\d+: (\(document root\)|[\w\-\[\]]+(\.[\w\-\[\]]+)*): \S", line), line


def test_the_positions_point_at_the_offending_text(registry: Registry) -> None:
    """Spot-check that line:col land on the bad key or value, not just somewhere near it."""
    checks = {
        "unknown_nested_key.yaml": "limt",
        "unknown_paginator_type.yaml": "ofset",
        "wrong_value_type.yaml": '"ten"',
        "bad_http_method.json": '"GTE"',
        "check_stream_unknown.yaml": "custmers",
        "parent_stream_missing.yaml": "customer}",
        "duplicate_key.yaml": "customers:",
        "name_with_capitals.yaml": "MyShop",
        "config_key_not_in_schema.yaml": '"https://{{',
    }
    for name, text in checks.items():
        case = CORPUS / name
        message = _message(case, registry)
        found = re.search(rf"{re.escape(name)}:(\d+):(\d+): ", message.split("\n", 1)[-1] if "\n" in message else message)
        assert found, message
        line, column = int(found.group(1)), int(found.group(2))
        source_line = case.read_text(encoding="utf-8").splitlines()[line - 1]
        assert source_line[column - 1 :].startswith(text), (name, source_line, column)


def test_a_valid_spec_passes(registry: Registry) -> None:
    assert validate_file(Path(example_plugin.__file__).with_name("example.yaml"), registry) == "connector spec"
