"""The public API is a contract: the names connector_core exports, the names the docs tell users to
import, and the 0.1 module addresses that plugins written before the floors still use."""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from pathlib import Path

import pytest

import connector_core
from connector_core._moved import MOVED

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").rglob("*.md")])

EXPECTED = [
    "AuthContext", "AuthError", "AuthModel", "CheckResult", "ConfigError", "Connector", "ConnectorError",
    "ConnectorSpec", "DuplicateComponentError", "FatalHTTPError", "HTTPError", "InterpolationError",
    "LoadedSpec", "OperationError", "PageRequest", "PageResult", "PaginationLoopError", "Paginator",
    "PaginatorModel", "PluginError", "Registry", "RetriableHTTPError", "SpecError", "__version__",
    "build_registry", "hookimpl", "load_spec", "make_plugin_manager",
]

FROM_IMPORT = re.compile(r"from (connector_core(?:\.\w+)*) import (?:\(([\w ,\n]+)\)|([\w ,]+))")
DOTTED = re.compile(r"`(?:python -m )?(connector_core(?:\.\w+)+)")
FILE_PATH = re.compile(r"`(connector_core/[\w/.]+\.py)`")
ROOM_PATH = re.compile(r"`((?:engine|sync|cli|testing)/[\w/]*(?:\.py)?)`")


def test_exported_names_are_pinned() -> None:
    assert connector_core.__all__ == sorted(EXPECTED)


def test_every_exported_name_resolves() -> None:
    for name in connector_core.__all__:
        assert getattr(connector_core, name) is not None


def _resolve(dotted: str) -> object:
    """Import the longest importable module prefix of ``dotted``, then follow attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


def _doc_references() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        where = str(doc.relative_to(ROOT))
        for module, grouped, names in FROM_IMPORT.findall(text):
            found += [(where, f"{module}.{name.strip()}") for name in (grouped or names).replace("\n", ",").split(",") if name.strip()]
        found += [(where, dotted) for dotted in DOTTED.findall(text)]
    # the 0.1 addresses the docs name as deprecated are checked by the test of moved modules below
    return sorted({(where, dotted) for where, dotted in found if dotted not in MOVED})


def test_the_docs_mention_names_at_all() -> None:
    assert len(_doc_references()) >= 10


@pytest.mark.parametrize(("doc", "dotted"), _doc_references(), ids=lambda value: str(value))
def test_every_name_the_docs_mention_imports(doc: str, dotted: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the docs must not point at a moved address
        assert _resolve(dotted) is not None, f"{doc} mentions {dotted}"


def test_every_module_file_the_docs_name_exists() -> None:
    missing = [(doc.name, path) for doc in DOCS for path in FILE_PATH.findall(doc.read_text(encoding="utf-8")) if not (ROOT / path).exists()]
    assert missing == []


def test_every_room_the_architecture_names_exists() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rooms = set(ROOM_PATH.findall(text))
    assert len(rooms) > 15
    assert sorted(room for room in rooms if not (ROOT / "connector_core" / room).exists()) == []
    modules = {path.name for folder in ("connector_core", "connectors") for path in (ROOT / folder).rglob("*.py")}
    named = set(re.findall(r"`(\w+\.py)`", text))
    assert len(named) > 40
    assert sorted(named - modules) == []


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_a_0_1_module_address_still_imports_with_a_warning(old: str, new: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=re.escape(f"{old} moved to {new}")):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


def test_a_plugin_written_for_0_1_still_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    for old in ("connector_core.auth", "connector_core.pagination", "connector_core.sandbox"):
        monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning):
        from connector_core.auth import AuthContext, AuthModel  # noqa: F401
        from connector_core.pagination import OffsetPaginator, PaginatorModel  # noqa: F401
        from connector_core.sandbox import RunningEmulator
    assert RunningEmulator is importlib.import_module("connector_core.plugins").RunningEmulator
    assert AuthModel is connector_core.AuthModel and PaginatorModel is connector_core.PaginatorModel
