"""``--format airbyte``: the example spec as an Airbyte source, run as the platform runs it.

The real console script against the example shop on 127.0.0.1; every stdout line is parsed with
Airbyte's own protocol models (``airbyte-protocol-models-pdv2``), and a read resumes from the STATE a
previous read emitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from interop_support import EXAMPLE_SPEC, airbyte_messages, of_type, run

from connectors.example.server import ShopServer

API_KEY = "shop-key-airbyte-7c4ca4238a0b9238"  # distinctive, so that a leak is easy to spot


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopServer]:
    with ShopServer(customers=230, orders=120, api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, shop: ShopServer) -> Path:
    directory = tmp_path_factory.mktemp("airbyte")
    (directory / "config.json").write_text(json.dumps({"base_url": shop.url, "api_key": API_KEY}), encoding="utf-8")
    (directory / "wrong-key.json").write_text(json.dumps({"base_url": shop.url, "api_key": API_KEY[::-1]}), encoding="utf-8")
    (directory / "bad-config.json").write_text(json.dumps({"base_url": 5, "api_key": API_KEY, "start_date": "tomorrow"}), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def discovered(workdir: Path) -> dict[str, dict[str, Any]]:
    """The example's streams as `discover --format airbyte` offers them, by name."""
    [message] = airbyte_messages(run("discover", str(EXAMPLE_SPEC), "--format", "airbyte", cwd=workdir).stdout)
    return {stream.name: stream.model_dump(mode="json", exclude_none=True) for stream in message.catalog.streams}


@pytest.fixture
def configured(workdir: Path, discovered: dict[str, dict[str, Any]]) -> Callable[..., str]:
    """``configured((stream, sync_mode), ..., name=FILE, **more)``: a configured catalog as Airbyte writes one."""

    def write(*streams: tuple[str, str], name: str = "catalog.json", **extra: Any) -> str:
        entries = [{"stream": discovered.get(stream, {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh"]}),
                    "sync_mode": mode, "destination_sync_mode": "append", **extra} for stream, mode in streams]
        (workdir / name).write_text(json.dumps({"streams": entries}, indent=2), encoding="utf-8")
        return name

    return write

def read(directory: Path, catalog: str, *args: str, config: str = "config.json") -> tuple[Any, list[Any]]:
    result = run("read", str(EXAMPLE_SPEC), "--format", "airbyte", "--config", config, "--catalog", catalog, *args, cwd=directory)
    return result, airbyte_messages(result.stdout)


def test_spec_is_the_config_schema_with_secrets_marked(workdir: Path) -> None:
    result = run("spec", str(EXAMPLE_SPEC), "--format", "airbyte", cwd=workdir)
    assert result.returncode == 0, result.stderr
    [message] = airbyte_messages(result.stdout)
    spec = message.spec
    assert spec.connectionSpecification["required"] == ["api_key"]
    assert spec.connectionSpecification["properties"]["api_key"]["airbyte_secret"] is True
    assert "airbyte_secret" not in spec.connectionSpecification["properties"]["base_url"]
    assert spec.supportsIncremental is True


def test_the_connector_and_format_can_come_from_the_environment_as_in_a_container(workdir: Path) -> None:
    env = {"CONNECTOR_CORE_CONNECTOR": str(EXAMPLE_SPEC), "CONNECTOR_CORE_FORMAT": "airbyte"}
    spec = run("spec", cwd=workdir, env=env)
    check = run("check", "--config", "config.json", cwd=workdir, env=env)
    assert [m.type.value for m in airbyte_messages(spec.stdout)] == ["SPEC"]
    [status] = airbyte_messages(check.stdout)
    assert status.connectionStatus.status.value == "SUCCEEDED"


def test_check_succeeds_with_a_working_config(workdir: Path) -> None:
    result = run("check", str(EXAMPLE_SPEC), "--format", "airbyte", "--config", "config.json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    [message] = airbyte_messages(result.stdout)
    assert message.connectionStatus.status.value == "SUCCEEDED"
    assert "GET /api/ping answered 200" in message.connectionStatus.message


def test_check_with_a_refused_key_is_a_failed_status_without_the_key(workdir: Path) -> None:
    result = run("check", str(EXAMPLE_SPEC), "--format", "airbyte", "--config", "wrong-key.json", cwd=workdir)
    assert result.returncode == 0, result.stderr  # the status is the answer; the check itself ran
    messages = airbyte_messages(result.stdout)
    status = of_type(messages, "CONNECTION_STATUS")[0].connectionStatus
    assert status.status.value == "FAILED"
    assert "The shop refused the API key." in status.message
    assert API_KEY[::-1] not in result.stdout + result.stderr


def test_a_bad_config_is_a_located_config_error_trace_and_a_failed_status(workdir: Path) -> None:
    result = run("check", str(EXAMPLE_SPEC), "--format", "airbyte", "--config", "bad-config.json", cwd=workdir)
    messages = airbyte_messages(result.stdout)
    [trace] = of_type(messages, "TRACE")
    error = trace.trace.error
    assert error.failure_type.value == "config_error"
    assert "bad-config.json" in error.message and "base_url" in error.message and "start_date" in error.message
    assert error.stack_trace is None
    assert of_type(messages, "CONNECTION_STATUS")[0].connectionStatus.status.value == "FAILED"
    assert API_KEY not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_broken_spec_is_a_trace_with_file_line_and_column(workdir: Path) -> None:
    (workdir / "broken.yaml").write_text("name: shop\nbase_url: https://x.test\nstreams:\n  a:\n    request: {path: /a}\n    paginate: {type: offset, limt: 10}\n", encoding="utf-8")
    result = run("discover", "broken.yaml", "--format", "airbyte", cwd=workdir)
    assert result.returncode == 1
    [message] = airbyte_messages(result.stdout)
    error = message.trace.error
    assert error.failure_type.value == "config_error"
    assert "broken.yaml:6:" in error.message and "limt" in error.message
    assert "Traceback" not in result.stdout + result.stderr


def test_discover_offers_each_stream_with_its_cursor_and_primary_key(workdir: Path) -> None:
    result = run("discover", str(EXAMPLE_SPEC), "--format", "airbyte", "--config", "config.json", cwd=workdir)
    [message] = airbyte_messages(result.stdout)
    streams = {stream.name: stream for stream in message.catalog.streams}
    assert [m.value for m in streams["customers"].supported_sync_modes] == ["full_refresh", "incremental"]
    assert streams["customers"].source_defined_cursor is True
    assert streams["customers"].default_cursor_field == ["updated_at"]
    assert streams["customers"].source_defined_primary_key == [["id"]]
    assert [m.value for m in streams["orders"].supported_sync_modes] == ["full_refresh"]


def test_read_emits_records_state_per_stream_and_statuses(workdir: Path, configured: Callable[..., str]) -> None:
    catalog = configured(("customers", "incremental"), ("orders", "full_refresh"))
    result, messages = read(workdir, catalog)
    assert result.returncode == 0, result.stdout[-2000:]
    records = of_type(messages, "RECORD")
    by_stream = {name: [r.record for r in records if r.record.stream == name] for name in ("customers", "orders")}
    assert len(by_stream["customers"]) == 230 and len(by_stream["orders"]) == 120
    assert sorted(r.data["id"] for r in by_stream["customers"]) == list(range(1, 231))
    assert all(r.record.emitted_at > 1_600_000_000_000 for r in records)  # milliseconds since the epoch
    states = [m.state for m in of_type(messages, "STATE")]
    assert {s.type.value for s in states} == {"STREAM"}
    assert {s.stream.stream_descriptor.name for s in states} == {"customers"}  # a full refresh has nothing to resume
    assert sum(s.sourceStats.recordCount for s in states) == 230
    statuses = [(m.trace.stream_status.stream_descriptor.name, m.trace.stream_status.status.value) for m in of_type(messages, "TRACE")]
    assert statuses == [("customers", "STARTED"), ("customers", "RUNNING"), ("customers", "COMPLETE"),
                        ("orders", "STARTED"), ("orders", "RUNNING"), ("orders", "COMPLETE")]
    logs = [m.log.message for m in of_type(messages, "LOG")]
    assert "read customers (incremental): 230 records in 3 pages" in logs


def test_a_read_resumes_from_the_state_it_emitted(workdir: Path, configured: Callable[..., str], shop: ShopServer) -> None:
    catalog = configured(("customers", "incremental"), name="customers.json")
    first, messages = read(workdir, catalog)
    assert first.returncode == 0
    last_state = of_type(messages, "STATE")[-1].state
    # as the platform passes it: a list of per-stream state messages
    (workdir / "state.json").write_text(json.dumps([last_state.model_dump(mode="json", by_alias=True, exclude_none=True)]), encoding="utf-8")
    created = requests.post(f"{shop.url}/api/customers", json={"name": "Ada"}, headers={"X-API-Key": API_KEY}, timeout=10).json()

    second, resumed = read(workdir, catalog, "--state", "state.json")
    assert second.returncode == 0, second.stdout[-2000:]
    assert [m.record.data["id"] for m in of_type(resumed, "RECORD")] == [created["id"]]
    final = of_type(resumed, "STATE")[-1].state
    assert final.stream.stream_state.cursor == created["updated_at"]
    assert final.sourceStats.recordCount == 1

    # the STATE lines exactly as a read printed them work as a state file too; nothing new, nothing read
    (workdir / "lines.json").write_text(json.dumps([json.loads(line) for line in second.stdout.splitlines() if '"STATE"' in line]), encoding="utf-8")
    third, unchanged = read(workdir, catalog, "--state", "lines.json")
    assert third.returncode == 0 and of_type(unchanged, "RECORD") == []
    assert of_type(unchanged, "STATE")[-1].state.stream.stream_state == final.stream.stream_state  # kept, not lost


def test_a_full_refresh_ignores_the_state(workdir: Path, configured: Callable[..., str]) -> None:
    catalog = configured(("customers", "full_refresh"), name="full.json")
    (workdir / "legacy-state.json").write_text(json.dumps({"customers": {"cursor": "2099-01-01T00:00:00Z"}}), encoding="utf-8")
    result, messages = read(workdir, catalog, "--state", "legacy-state.json")
    assert result.returncode == 0
    assert len(of_type(messages, "RECORD")) >= 230 and of_type(messages, "STATE") == []


def test_a_stream_the_spec_lacks_is_a_located_error_with_a_suggestion(workdir: Path, configured: Callable[..., str]) -> None:
    catalog = configured(("customers", "incremental"), ("custmers", "full_refresh"), name="typo.json")
    result, messages = read(workdir, catalog)
    assert result.returncode == 1 and of_type(messages, "RECORD") == []
    error = of_type(messages, "TRACE")[0].trace.error
    line = next(n for n, text in enumerate((workdir / "typo.json").read_text().splitlines(), 1) if '"custmers"' in text)
    assert f"typo.json:{line}:" in error.message and "streams[1].stream.name" in error.message
    assert "did you mean 'customers'?" in error.message and error.failure_type.value == "config_error"


@pytest.mark.parametrize(
    ("stream", "mode", "extra", "expected"),
    [
        ("orders", "incremental", {}, "stream 'orders' has no cursor"),
        ("customers", "incremental", {"cursor_field": ["name"]}, "reads incrementally by ['updated_at']"),
    ],
)
def test_a_sync_mode_or_cursor_the_spec_cannot_honour_is_refused(workdir: Path, configured: Callable[..., str], stream: str, mode: str, extra: dict[str, Any], expected: str) -> None:
    catalog = configured((stream, mode), name=f"refused-{stream}.json", **extra)
    result, messages = read(workdir, catalog)
    assert result.returncode == 1
    assert expected in of_type(messages, "TRACE")[0].trace.error.message


def test_an_api_failure_marks_each_stream_incomplete_and_exits_non_zero(workdir: Path, configured: Callable[..., str]) -> None:
    catalog = configured(("customers", "incremental"), ("orders", "full_refresh"), name="both.json")
    result, messages = read(workdir, catalog, config="wrong-key.json")
    assert result.returncode == 3
    errors = [m.trace.error for m in of_type(messages, "TRACE") if m.trace.error is not None]
    assert [e.stream_descriptor.name for e in errors] == ["customers", "orders"]
    assert all("The shop refused the API key." in e.message and e.failure_type.value == "config_error" for e in errors)
    incomplete = [m.trace.stream_status.stream_descriptor.name for m in of_type(messages, "TRACE")
                  if m.trace.stream_status is not None and m.trace.stream_status.status.value == "INCOMPLETE"]
    assert incomplete == ["customers", "orders"]
    assert API_KEY[::-1] not in result.stdout + result.stderr


def test_log_records_become_log_messages_with_secrets_masked(workdir: Path, configured: Callable[..., str]) -> None:
    catalog = configured(("orders", "full_refresh"), name="orders.json")
    result = run("--debug", "read", str(EXAMPLE_SPEC), "--format", "airbyte", "-c", "config.json", "--catalog", catalog, cwd=workdir)
    assert result.returncode == 0, result.stderr
    logs = [m.log for m in of_type(airbyte_messages(result.stdout), "LOG")]
    assert any(log.level.value == "DEBUG" and "/api/orders" in log.message for log in logs)
    assert API_KEY not in result.stdout + result.stderr


def test_read_without_a_catalog_says_what_is_missing(workdir: Path) -> None:
    result = run("read", str(EXAMPLE_SPEC), "--format", "airbyte", "--config", "config.json", cwd=workdir)
    assert result.returncode == 1
    [message] = airbyte_messages(result.stdout)
    assert "needs --catalog FILE" in message.trace.error.message


def test_the_plain_read_is_unchanged(workdir: Path) -> None:
    missing = run("read", str(EXAMPLE_SPEC), "--config", "config.json", cwd=workdir)
    assert missing.returncode == 2 and "Missing option '--stream' / '-s'" in missing.stderr
    plain = run("read", str(EXAMPLE_SPEC), "--config", "config.json", "-s", "orders", "--state", "plain-state.json", cwd=workdir)
    assert plain.returncode == 0
    assert [json.loads(line)["id"] for line in plain.stdout.splitlines()][:2] == ["o-1", "o-2"]
    misplaced = run("read", str(EXAMPLE_SPEC), "--config", "config.json", "-s", "orders", "--catalog", "orders.json", cwd=workdir)
    assert misplaced.returncode == 2 and "--format airbyte|singer" in misplaced.stderr
