"""The engine's clock: one "now" for templates, time windows and slicers, pinned per connector
(``now=``), per process (``CONNECTOR_CORE_NOW``) or per command (``connector-core --now``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeapi import FakeAPI

from connector_core.engine.clock import NOW_ENV, EngineClock, parse_instant
from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.errors import ConfigError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

SCRIPT = Path(sys.executable).with_name("connector-core")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "connector_core.cli"]


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/events", {"data": [{"id": 1, "at": "2024-02-10T00:00:00Z"}]})
        yield server


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False))


def write_spec(tmp_path: Path, base_url: str) -> Path:
    spec = {
        "name": "clocked",
        "base_url": base_url,
        "defaults": {"retries": {"attempts": 1, "backoff": 0}},
        "streams": {
            "events": {
                "request": {
                    "path": "/events",
                    "query": {"since": "{{ slice.start }}", "until": "{{ slice.end }}", "asked_at": "{{ now_utc() | format_datetime }}"},
                },
                "records": "data",
                "cursor": {"field": "at", "start": "2024-01-15T00:00:00Z", "window": {"step": "P1M"}},
            }
        },
    }
    path = tmp_path / "clocked.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def asked(api: FakeAPI) -> list[tuple[str, str, str]]:
    return [(r.query["since"], r.query["until"], r.query["asked_at"]) for r in api.received("/events")]


PINNED_REQUESTS = [
    ("2024-01-15T00:00:00Z", "2024-02-15T00:00:00Z", "2024-03-01T00:00:00Z"),
    ("2024-02-15T00:00:00Z", "2024-03-01T00:00:00Z", "2024-03-01T00:00:00Z"),
]


class TestEngineClock:
    def test_a_pinned_instant_wins_over_the_real_clock(self) -> None:
        clock = EngineClock("2026-01-01T09:00:00+09:00", real=lambda: 0.0)
        assert clock.now() == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        assert clock.timestamp() == dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()

    def test_without_a_pin_it_follows_the_real_clock(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(NOW_ENV, raising=False)
        ticks = iter([100.0, 200.0])
        clock = EngineClock(real=lambda: next(ticks))
        assert clock.now().timestamp() == 100.0
        assert clock.now().timestamp() == 200.0

    def test_the_environment_pins_every_clock_without_its_own_pin(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(NOW_ENV, "2025-06-01")
        assert EngineClock(real=lambda: 0.0).now() == dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        assert EngineClock("2020-01-01T00:00:00Z").now() == dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

    def test_a_bad_pin_names_where_it_came_from(self, monkeypatch: pytest.MonkeyPatch) -> None:
        with pytest.raises(ConfigError, match="--now is 'tomorrow', which is not an ISO 8601 date-time"):
            parse_instant("tomorrow", "--now")
        monkeypatch.setenv(NOW_ENV, "soon")
        with pytest.raises(ConfigError, match=f"the environment variable {NOW_ENV} is 'soon'"):
            EngineClock().now()


class TestPinnedReads:
    def test_windows_and_now_utc_follow_a_connectors_pin(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        conn = Connector(load_spec(write_spec(tmp_path, api.url), registry), {}, registry, now="2024-03-01T00:00:00Z")
        assert [r["id"] for r in conn.read("events")] == [1, 1]
        assert asked(api) == PINNED_REQUESTS

    def test_the_environment_pins_a_connector(self, api: FakeAPI, tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(NOW_ENV, "2024-03-01T00:00:00Z")
        conn = Connector(load_spec(write_spec(tmp_path, api.url), registry), {}, registry)
        list(conn.read("events"))
        assert asked(api) == PINNED_REQUESTS


class TestCommandLine:
    def run(self, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != NOW_ENV}
        return subprocess.run([*COMMAND, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False)

    def test_now_makes_a_windowed_read_reproducible(self, api: FakeAPI, tmp_path: Path) -> None:
        spec = str(write_spec(tmp_path, api.url))
        first = self.run(tmp_path, "--now", "2024-03-01T00:00:00Z", "read", spec, "-s", "events")
        second = self.run(tmp_path, "--now", "2024-03-01T00:00:00Z", "read", spec, "-s", "events")
        assert first.returncode == 0, first.stderr
        assert first.stdout == second.stdout and [json.loads(line)["id"] for line in first.stdout.splitlines()] == [1, 1]
        assert asked(api) == PINNED_REQUESTS * 2

    def test_a_bad_now_is_a_usage_error(self, tmp_path: Path) -> None:
        result = self.run(tmp_path, "--now", "yesterday", "spec", "whatever.yaml")
        assert result.returncode == 2
        assert "'yesterday' is not an ISO 8601 date-time" in result.stderr and "Traceback" not in result.stderr


def test_a_recorded_windowed_read_replays_offline_only_with_the_same_now(tmp_path: Path, registry: Registry) -> None:
    import vcr.errors

    from connector_core.testing import SerialSession, make_vcr

    with FakeAPI() as server:
        server.json("/events", {"data": [{"id": 1, "at": "2024-02-10T00:00:00Z"}]})
        spec = write_spec(tmp_path, server.url)
        with make_vcr(tmp_path, record_mode="once").use_cassette("events.yaml"):
            live = Connector(load_spec(spec, registry), {}, registry, session=SerialSession(), now="2024-03-01T00:00:00Z")
            recorded = list(live.read("events"))
    # the server is gone: the same pinned now asks for the same windows, which the cassette answers
    with make_vcr(tmp_path, record_mode="none").use_cassette("events.yaml") as played:
        offline = Connector(load_spec(spec, registry), {}, registry, now="2024-03-01T00:00:00Z")
        assert list(offline.read("events")) == recorded
        assert played.all_played
    # another now asks for other windows, which were never recorded
    with make_vcr(tmp_path, record_mode="none").use_cassette("events.yaml"):
        later = Connector(load_spec(spec, registry), {}, registry, now="2024-04-01T00:00:00Z")
        with pytest.raises(vcr.errors.CannotOverwriteExistingCassetteException):
            list(later.read("events"))
