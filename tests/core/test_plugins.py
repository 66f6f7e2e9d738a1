"""Plugins: every hook exercised from a spec against a loopback server, registry conflicts, hook docs.

The sample plugin (tests/plugins/sample_plugin.py) implements every hook; its connector ``ledger``
(tests/plugins/ledger.yaml) runs against tests/plugins/sample_server.py, which verifies the HMAC
signatures on its own. Each test gets a fresh plugin manager; none touches the installed plugins.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pluggy
import pytest
import requests

from connector_core import hookspecs
from connector_core.engine.connector import Connector
from connector_core.engine.pagination import Paginator, PaginatorModel
from connector_core.errors import (
    AuthError,
    DuplicateComponentError,
    FatalHTTPError,
    PaginationLoopError,
    PluginError,
    RetriableHTTPError,
)
from connector_core.hookspecs import hookimpl
from connector_core.plugins import Registry, build_registry, make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "plugins"))

import sample_plugin  # noqa: E402
from sample_server import LedgerServer  # noqa: E402

KEY_ID = "key-7"
SECRET = "ledger-signing-secret-0b1e"
HOOKS = sorted(
    name for name in dir(hookspecs) if name.startswith("connector_") and callable(getattr(hookspecs, name))
)


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return make_plugin_manager(entry_points=False, plugins=[sample_plugin])


@pytest.fixture
def registry(pm: pluggy.PluginManager) -> Registry:
    return build_registry(pm)


@pytest.fixture
def server() -> Iterator[LedgerServer]:
    with LedgerServer(KEY_ID, SECRET) as running:
        yield running


@pytest.fixture
def ledger(registry: Registry, server: LedgerServer) -> Iterator[Connector]:
    config = {"base_url": server.url, "key_id": KEY_ID, "secret": SECRET}
    with Connector.open("ledger", config, registry=registry, sleep=lambda _: None) as connector:
        yield connector


def _module(name: str, **functions: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for attribute, function in functions.items():
        setattr(module, attribute, function)
    return module


# --- registration ---------------------------------------------------------------------------------------


class TestRegistration:
    def test_sample_plugin_implements_every_hook(self) -> None:
        implemented = {name for name in dir(sample_plugin) if name.startswith("connector_")}
        assert implemented == set(HOOKS)

    def test_components_are_frozen_into_the_registry_with_their_owner(self, registry: Registry) -> None:
        assert registry.connectors["ledger"] == ROOT / "tests" / "plugins" / "ledger.yaml"
        assert registry.auth_types["hmac_header"] is sample_plugin.HmacHeaderAuth
        assert registry.paginators["skip_token"] is sample_plugin.SkipTokenPaginator
        assert "shout" in registry.filters
        assert registry.transforms["cents_to_amount"] is sample_plugin.cents_to_amount
        for key in (
            "connector:ledger",
            "auth type:hmac_header",
            "paginator:skip_token",
            "jinja filter:shout",
        ):
            assert registry.owners[key] == "sample_plugin"
        assert registry.owners["paginator:offset"] == "connector_core.engine.builtin"

    def test_a_fresh_manager_knows_nothing_of_the_sample(self) -> None:
        bare = build_registry(make_plugin_manager(entry_points=False))
        assert "skip_token" not in bare.paginators and "ledger" not in bare.connectors


# --- the hooks, from a spec, over HTTP ---------------------------------------------------------------


class TestHooksFromASpec:
    def test_registered_connector_opens_by_name(self, ledger: Connector) -> None:
        assert ledger.name == "ledger"
        assert ledger.loaded.path.name == "ledger.yaml"

    def test_hmac_auth_signs_every_request(self, ledger: Connector, server: LedgerServer) -> None:
        records = list(ledger.read("entries"))
        assert records and server.rejected == 0
        assert len(server.calls) == 4

    def test_hmac_auth_with_a_wrong_secret_is_refused(self, registry: Registry, server: LedgerServer) -> None:
        config = {"base_url": server.url, "key_id": KEY_ID, "secret": "not-the-secret"}
        with (
            Connector.open("ledger", config, registry=registry) as wrong,
            pytest.raises(AuthError) as refused,
        ):
            list(wrong.read("entries"))
        assert refused.value.status == 401 and server.rejected == 1
        assert refused.value.hint == "check key_id and secret"
        assert "not-the-secret" not in str(refused.value)

    def test_skip_token_paginator_follows_tokens_until_none(
        self, ledger: Connector, server: LedgerServer
    ) -> None:
        list(ledger.read("entries"))
        tokens = [call["args"].get("skip_token") for call in server.calls]
        assert tokens[0] is None and all(tokens[1:]) and len(set(tokens)) == 4

    def test_skip_token_paginator_refuses_a_repeated_token(self, ledger: Connector) -> None:
        with pytest.raises(PaginationLoopError, match="twice"):
            list(ledger.read("looping"))

    def test_jinja_filter_renders_in_the_request(self, ledger: Connector, server: LedgerServer) -> None:
        list(ledger.read("entries"))
        assert {call["args"]["region"] for call in server.calls} == {"EU"}

    def test_named_transform_converts_and_drops(self, ledger: Connector) -> None:
        records = list(ledger.read("entries"))
        assert [r["id"] for r in records] == [1, 2, 5, 6, 7, 10, 11, 13, 14, 15]
        assert records[0]["amount"] == 10.01 and "cents" not in records[0]

    def test_transform_record_hook_sees_every_record(self, ledger: Connector) -> None:
        records = list(ledger.read("entries"))
        assert {r["_source"] for r in records} == {"ledger.entries"}

    def test_interpreted_retriable_error_is_retried(self, ledger: Connector, server: LedgerServer) -> None:
        assert list(ledger.read("locked")) == [{"id": "unlocked", "_source": "ledger.locked"}]
        assert [c["path"] for c in server.calls] == ["/locked"] * 3

    def test_interpreted_retriable_error_surfaces_when_attempts_run_out(
        self, registry: Registry, server: LedgerServer
    ) -> None:
        server.locked_failures = 10
        config = {"base_url": server.url, "key_id": KEY_ID, "secret": SECRET}
        with Connector.open("ledger", config, registry=registry, sleep=lambda _: None) as connector:
            with pytest.raises(RetriableHTTPError, match="busy"):
                list(connector.read("locked"))

    def test_interpreted_fatal_error_carries_the_plugin_message(
        self, ledger: Connector, server: LedgerServer
    ) -> None:
        with pytest.raises(FatalHTTPError) as failure:
            list(ledger.read("closed"))
        assert "PERIOD_CLOSED" in str(failure.value) and "period 2023-12 is closed" in str(failure.value)
        assert failure.value.hint and "open period" in failure.value.hint
        assert len(server.calls) == 1

    def test_spec_error_rules_are_consulted_before_plugins(self, ledger: Connector) -> None:
        with pytest.raises(FatalHTTPError, match="ledger: no such resource"):
            list(ledger.read("missing"))

    def test_plugin_hooks_leave_other_connectors_alone(self, pm: pluggy.PluginManager) -> None:
        response = requests.Response()
        response.status_code = 400
        fault = {"fault": {"code": "X"}}
        assert pm.hook.connector_interpret_error(connector="shop", response=response, body=fault) is None
        record = {"id": 1}
        assert pm.hook.connector_transform_record(connector="shop", stream="s", record=record) == []
        assert record == {"id": 1}


# --- conflicts and contract violations ---------------------------------------------------------------


class _Pages(Paginator):
    def first_page(self) -> dict[str, Any]:
        return {}

    def next_page(self, page: dict[str, Any], result: Any) -> None:
        return None


class RivalSkipToken(PaginatorModel):
    type: Literal["skip_token"] = "skip_token"

    def start(self) -> Paginator:
        return _Pages()


class OffsetImpostor(PaginatorModel):
    type: Literal["offset"] = "offset"

    def start(self) -> Paginator:
        return _Pages()


class TestConflicts:
    def test_two_plugins_registering_one_paginator_type_are_both_named(self) -> None:
        rival = _module("rival_paginators", connector_register_paginators=hookimpl(lambda: [RivalSkipToken]))
        pm = make_plugin_manager(entry_points=False, plugins=[sample_plugin, rival])
        with pytest.raises(DuplicateComponentError) as duplicate:
            build_registry(pm)
        message = str(duplicate.value)
        assert "paginator 'skip_token'" in message
        assert "'sample_plugin'" in message and "'rival_paginators'" in message

    def test_a_plugin_cannot_shadow_a_builtin(self) -> None:
        impostor = _module("impostor", connector_register_paginators=hookimpl(lambda: [OffsetImpostor]))
        with pytest.raises(DuplicateComponentError) as duplicate:
            build_registry(make_plugin_manager(entry_points=False, plugins=[impostor]))
        assert "'connector_core.engine.builtin'" in str(duplicate.value) and "'impostor'" in str(duplicate.value)

    def test_a_hookimpl_argument_missing_from_the_spec_is_a_plugin_error(self) -> None:
        def connector_transform_record(connector: str, record: dict[str, Any], colour: str) -> None:
            return None

        stray = _module("stray_argument", connector_transform_record=hookimpl(connector_transform_record))
        with pytest.raises(PluginError) as refused:
            make_plugin_manager(entry_points=False, plugins=[stray])
        message = str(refused.value)
        assert "stray_argument" in message and "connector_transform_record" in message and "colour" in message

    def test_a_hook_that_does_not_exist_is_a_plugin_error(self) -> None:
        typo = _module("typo", connector_register_paginator=hookimpl(lambda: []))
        with pytest.raises(PluginError, match="connector_register_paginator"):
            make_plugin_manager(entry_points=False, plugins=[typo])


# --- hook documentation --------------------------------------------------------------------------------

DOCS = ROOT / "docs" / "plugins.md"


def _doc_sections() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^### `?(connector_\w+)`?.*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring_naming_its_arguments(hook: str) -> None:
    function = getattr(hookspecs, hook)
    doc = inspect.getdoc(function)
    assert doc, f"hookspec {hook} has no docstring"
    for argument in inspect.signature(function).parameters:
        assert re.search(rf"^\s+{argument}:", doc, flags=re.MULTILINE), (
            f"{hook}: argument '{argument}' is undocumented"
        )
    assert "Returns:" in doc, f"{hook}: the return value is undocumented"
    assert "firstresult" in doc, f"{hook}: the docstring does not say whether it is firstresult"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_for_contributors(hook: str) -> None:
    sections = _doc_sections()
    assert hook in sections, f"docs/plugins.md has no '### {hook}' section"
    section = sections[hook]
    for argument in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert f"`{argument}`" in section, f"docs/plugins.md: {hook} does not describe argument '{argument}'"
    firstresult = bool(getattr(hookspecs, hook).connector_core_spec.get("firstresult"))
    assert ("firstresult" in section) == firstresult, f"docs/plugins.md: {hook} firstresult note is wrong"


def test_docs_describe_no_hook_that_does_not_exist() -> None:
    assert set(_doc_sections()) <= set(HOOKS)


def test_emulator_hook_starts_a_server_the_connector_reaches() -> None:
    from connector_core.engine.emulators import running_emulators

    registry = build_registry(make_plugin_manager(entry_points=False, plugins=[sample_plugin]))
    with running_emulators(registry, ["ledger"]) as (ledger,):
        with Connector.open("ledger", ledger.config, registry=registry) as connector:
            assert connector.check().ok
