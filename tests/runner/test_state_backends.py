"""open_store: which back end a location names, and the errors of a location that cannot be used."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from connector_core.errors import StateError
from connector_core.sync.store import PostgresStateStore, SQLiteStateStore, backend_of, open_store
from connector_core.sync.store.postgres import display_url


class TestLocations:
    @pytest.mark.parametrize(
        ("location", "backend"),
        [
            ("state.sqlite", "sqlite"),
            ("/srv/sync/.state/a.sqlite", "sqlite"),
            ("C:\\sync\\a.sqlite", "sqlite"),
            ("sqlite:///a.sqlite", "sqlite"),
            ("postgresql://u@h/db", "postgresql"),
            ("postgres://u@h/db", "postgresql"),
            ("postgresql+psycopg://u@h/db", "postgresql"),
        ],
    )
    def test_the_scheme_picks_the_back_end(self, location: str, backend: str) -> None:
        assert backend_of(location) == backend

    def test_a_path_and_a_sqlite_url_open_a_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        with open_store(tmp_path / "a.sqlite", "c") as store:
            assert isinstance(store, SQLiteStateStore) and store.path == tmp_path / "a.sqlite"
        with open_store(f"sqlite:///{tmp_path}/b.sqlite", "c") as store:  # four slashes: an absolute path
            assert isinstance(store, SQLiteStateStore) and store.path == tmp_path / "b.sqlite"
        monkeypatch.chdir(tmp_path)
        with open_store("sqlite:///c.sqlite", "c") as store:
            assert store.where == "c.sqlite" and (tmp_path / "c.sqlite").exists()

    def test_a_state_in_memory_is_refused(self) -> None:
        with pytest.raises(StateError, match="the state must be kept in a file"):
            open_store("sqlite://", "c")

    def test_an_unknown_scheme_is_refused_without_its_password(self) -> None:
        with pytest.raises(StateError) as refused:
            open_store("mysql://sync:hunter2@db/state", "c")
        assert "unknown state database kind 'mysql'" in str(refused.value) and "hunter2" not in str(refused.value)

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("postgresql+psycopg2://u:pw@h/db", "speaks psycopg 3 only, not 'postgresql+psycopg2'"),
            ("postgresql://u:pw@h:5432", "the URL names no database"),
        ],
    )
    def test_a_postgresql_url_the_store_cannot_use_is_refused(self, url: str, expected: str) -> None:
        with pytest.raises(StateError, match=re.escape(expected)) as refused:
            open_store(url, "c")
        assert "pw" not in str(refused.value)

    def test_reset_is_for_sqlite_files(self) -> None:
        with pytest.raises(StateError, match="--reset-state resets a SQLite file only"):
            open_store("postgresql://u@h/db", "c", reset=True)

    def test_messages_show_no_password(self) -> None:
        shown = display_url("postgresql://sync:s3cret@db.internal:5432/state?password=s3cret&sslmode=require")
        assert shown == "postgresql://***@db.internal:5432/state?sslmode=require"


class TestPostgres:
    def test_the_url_schemes_all_open_the_postgresql_store(self, postgres_url: str) -> None:
        rest = postgres_url.removeprefix("postgresql://")
        for scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            with open_store(f"{scheme}://{rest}", "c") as store:
                assert isinstance(store, PostgresStateStore) and store.where == display_url(f"{scheme}://{rest}")

    def test_a_server_that_does_not_answer_is_a_state_error_naming_it(self) -> None:
        with pytest.raises(StateError) as refused:
            open_store("postgresql://sync:s3cret@127.0.0.1:1/state?connect_timeout=2", "c")
        message = str(refused.value)
        assert message.startswith("postgresql://***@127.0.0.1:1/state?connect_timeout=2: cannot use the state database")
        assert "s3cret" not in message and "check that the server runs" in message

    def test_without_psycopg_it_says_what_to_install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "psycopg", None)
        with pytest.raises(StateError, match="needs the psycopg package") as refused:
            open_store("postgresql://u@h/db", "c")
        assert refused.value.hint == "pip install 'connector-core[postgres]'"

    def test_a_lost_connection_is_a_state_error(self, postgres_url: str) -> None:
        import psycopg

        with open_store(postgres_url, "c") as store:
            assert store.mapped("f", "1") is None  # the lookup connection is open
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            with pytest.raises(StateError, match="cannot use the state database"):
                store.mapped("f", "1")
            assert store.mapped("f", "1") is None  # a new connection next time
            with store.batch() as tx:  # the pool pings and reconnects
                tx.set_cursor("f", {"n": 1})


@pytest.mark.parametrize(("required", "outcome"), [("", "1 skipped"), ("1", "1 failed")])
def test_without_a_server_postgresql_tests_skip_unless_services_are_required(required: str, outcome: str) -> None:
    """CI sets CONNECTOR_CORE_REQUIRE_SERVICES=1: there a missing server fails the test instead of skipping it."""
    env = {**os.environ, "CONNECTOR_CORE_TEST_POSTGRES": "postgresql://postgres@127.0.0.1:1/postgres", "CONNECTOR_CORE_REQUIRE_SERVICES": required}
    test = f"{Path(__file__)}::TestPostgres::test_the_url_schemes_all_open_the_postgresql_store"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:randomly", test], capture_output=True, text=True, env=env, timeout=120)
    assert outcome in done.stdout, done.stdout[-2000:]
    reason = "is required here (CONNECTOR_CORE_REQUIRE_SERVICES=1) but no server answers" if required else "no server answers at postgresql://postgres@127.0.0.1:1/postgres"
    assert reason in done.stdout
