"""``check`` over several streams, each failure reported with its own hint, against a local API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI

from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.errors import FatalHTTPError, SpecError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

SCRIPT = Path(sys.executable).with_name("connector-core")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "connector_core.cli"]
TOKEN = "tok-93f1c2aa7e"  # distinctive, so a leak is easy to spot


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/customers", {"data": [{"id": 1}]})
        server.json("/invoices", {"error": "INSUFFICIENT_PERMISSION", "message": "Permission Violation: Transactions"}, status=403)
        server.json("/revenue", {"data": []})
        yield server


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False))


def write_spec(tmp_path: Path, check: dict[str, Any], base_url: str = "http://127.0.0.1:9") -> Path:
    streams = {
        name: {"request": {"path": f"/{name}"}, "records": "data"} for name in ("customers", "invoices", "revenue")
    }
    streams["per_account"] = {"request": {"path": "/accounts/{{ config.account | path }}"}, "records": "data"}
    spec = {
        "name": "checked",
        "config": {
            "type": "object",
            "properties": {"account": {"type": "string"}, "token": {"type": "string", "secret": True}},
        },
        "base_url": base_url,
        "auth": {"type": "bearer", "token": "{{ config.token }}"},
        "defaults": {"retries": {"attempts": 1, "backoff": 0}},
        "check": check,
        "streams": streams,
    }
    path = tmp_path / "checked.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


SEVERAL = {
    "streams": [
        "customers",
        {"stream": "invoices", "hint": "give the role 'Transactions > Invoice: View' in account {{ config.account }} ({{ config.token }})"},
        "revenue",
    ],
    "hint": "check the role of the token",
}


class TestSeveralStreams:
    def test_every_stream_is_tried_and_each_failure_gets_its_hint(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        conn = Connector(load_spec(write_spec(tmp_path, SEVERAL, api.url), registry), {"account": "1234_SB1", "token": TOKEN}, registry)
        result = conn.check()
        assert not result.ok
        assert [r.path for r in api.received()] == ["/customers", "/invoices", "/revenue"]  # revenue is tried after the failure
        lines = result.message.splitlines()
        assert lines[0] == "checked: 1 of 3 check streams failed"
        assert lines[1] == "  ok      customers: answered, 1 record(s) on its first page"
        assert lines[2].startswith("  FAILED  invoices: ") and "403" in lines[2]
        # the hint is a template over the config, with secrets masked
        assert lines[3] == "          hint: give the role 'Transactions > Invoice: View' in account 1234_SB1 (***)"
        assert lines[4] == "  ok      revenue: answered, 0 record(s) on its first page"
        assert TOKEN not in result.message
        invoices = result.details["streams"][1]
        assert invoices["stream"] == "invoices" and invoices["ok"] is False and invoices["api"] is True

    def test_a_stream_without_its_own_hint_gets_the_checks(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        check = {"streams": ["invoices"], "hint": "check the role of the token"}
        result = Connector(load_spec(write_spec(tmp_path, check, api.url), registry), {"token": TOKEN}, registry).check()
        assert result.details["streams"][0]["hint"] == "check the role of the token"

    def test_all_streams_answering_is_a_working_connection(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        conn = Connector(load_spec(write_spec(tmp_path, {"streams": ["customers", "revenue"]}, api.url), registry), {"token": TOKEN}, registry)
        result = conn.check()
        assert result.ok
        assert result.message.splitlines()[0] == "checked: connection works (2 streams answered)"
        assert all(r.header("Authorization") == f"Bearer {TOKEN}" for r in api.received())


class TestSingleCheckHint:
    def test_the_hint_is_added_to_the_error(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        check = {"stream": "invoices", "hint": "give the role 'Transactions > Invoice: View'"}
        conn = Connector(load_spec(write_spec(tmp_path, check, api.url), registry), {"token": TOKEN}, registry)
        with pytest.raises(FatalHTTPError) as caught:
            conn.check()
        assert caught.value.hint is not None and caught.value.hint.startswith("give the role 'Transactions > Invoice: View'")


class TestValidate:
    def problems(self, tmp_path: Path, registry: Registry, check: dict[str, Any]) -> list[str]:
        with pytest.raises(SpecError) as caught:
            load_spec(write_spec(tmp_path, check), registry)
        return caught.value.problems

    def test_an_unknown_stream_is_located_with_a_suggestion(self, tmp_path: Path, registry: Registry) -> None:
        problems = self.problems(tmp_path, registry, {"streams": ["customers", {"stream": "invoice", "hint": "x"}]})
        assert any("checked.json:" in p and "check.streams[1].stream: no stream is called 'invoice'; did you mean 'invoices'?" in p for p in problems), problems

    def test_a_stream_listed_twice_is_refused(self, tmp_path: Path, registry: Registry) -> None:
        problems = self.problems(tmp_path, registry, {"streams": ["customers", "customers"]})
        assert any("check.streams[1]: stream 'customers' is listed twice" in p for p in problems), problems

    def test_streams_beside_stream_is_refused(self, tmp_path: Path, registry: Registry) -> None:
        problems = self.problems(tmp_path, registry, {"stream": "customers", "streams": ["revenue"]})
        assert any("set one of 'request', 'stream' or 'streams', not both 'stream' and 'streams'" in p for p in problems), problems

    def test_a_hint_naming_an_undefined_config_key_is_located(self, tmp_path: Path, registry: Registry) -> None:
        problems = self.problems(tmp_path, registry, {"streams": [{"stream": "customers", "hint": "{{ config.acount }}"}]})
        assert any("check.streams[0].hint" in p and "did you mean 'config.account'?" in p for p in problems), problems


class TestCommandLine:
    def run(self, tmp_path: Path, spec: Path, config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
        return subprocess.run(
            [*COMMAND, "check", str(spec), "-c", "config.json"], capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ), timeout=120, check=False
        )

    def test_api_failures_exit_3_with_every_stream_reported(self, api: FakeAPI, tmp_path: Path) -> None:
        result = self.run(tmp_path, write_spec(tmp_path, SEVERAL, api.url), {"account": "A1", "token": TOKEN})
        assert result.returncode == 3, result.stderr
        assert "1 of 3 check streams failed" in result.stderr and "hint: give the role" in result.stderr
        assert "Traceback" not in result.stderr and TOKEN not in result.stderr

    def test_a_config_mistake_exits_1(self, api: FakeAPI, tmp_path: Path) -> None:
        result = self.run(tmp_path, write_spec(tmp_path, {"streams": ["customers", "per_account"]}, api.url), {"token": TOKEN})
        assert result.returncode == 1, result.stderr
        assert "FAILED  per_account:" in result.stderr and "'account'" in result.stderr

    def test_a_working_connection_exits_0(self, api: FakeAPI, tmp_path: Path) -> None:
        result = self.run(tmp_path, write_spec(tmp_path, {"streams": ["customers", "revenue"]}, api.url), {"token": TOKEN})
        assert result.returncode == 0, result.stderr
        assert "connection works (2 streams answered)" in result.stderr
