"""The state database's schema revisions, on both back ends: a new database is made at the newest
revision, equal to tables.py; a store made by connector-core 0.2 (no version table) is upgraded on open
with its data intact; a database that is not a state store, or one made by a newer release, is refused."""

from __future__ import annotations

import os
import threading
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from state_support import engine_url, metadata_0_2

import connector_core.sync.store.checks as checks
from connector_core.errors import StateError
from connector_core.sync.store import SQLiteStateStore, open_store, schema
from connector_core.sync.store.tables import metadata


def differences(location: str) -> list[object]:
    """What Alembic finds different between the database and tables.py (nothing, at head)."""
    engine = sa.create_engine(engine_url(location))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": schema.VERSION_TABLE})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def revision(location: str) -> str | None:
    engine = sa.create_engine(engine_url(location))
    try:
        with engine.connect() as conn:
            return schema.revision_of(conn)
    finally:
        engine.dispose()


def execute(location: str, *statements: str, **parameters: object) -> None:
    engine = sa.create_engine(engine_url(location))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), parameters)
    finally:
        engine.dispose()


def make_0_2_store(location: str, *, without: tuple[str, ...] = ()) -> None:
    """A store as connector-core 0.2 made it (its tables, no version table) holding a sync's state."""
    engine = sa.create_engine(engine_url(location))
    try:
        tables = [table for name, table in metadata_0_2.tables.items() if name not in without]
        metadata_0_2.create_all(engine, tables=tables)
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO cursors VALUES ('shop', 'customers', '{\"cursor\": \"2024-05-01\"}', 10.0)"))
            conn.execute(sa.text("INSERT INTO cursors VALUES ('other', 'customers', '{\"cursor\": \"2023-01-01\"}', 10.0)"))
            conn.execute(
                sa.text("INSERT INTO id_map VALUES ('shop', 'customers', :s, :d, :e, 'h1', 11.0, NULL, '2024-04-30', :deleted)"),
                [{"s": "1", "d": "101", "e": "shop-1", "deleted": False}, {"s": "2", "d": "102", "e": "shop-2", "deleted": True}],
            )
            conn.execute(sa.text("INSERT INTO pending_writes VALUES ('shop', 'customers', '3', 'shop-3', 'upsert', 1, 12.0)"))
            conn.execute(sa.text("INSERT INTO dead_letters VALUES ('shop', 'customers', '4', '{\"id\": 4}', 'HTTP 400: bad email', 2, 5.0, 9.0)"))
            if "outbox" not in without:
                conn.execute(
                    sa.text("INSERT INTO outbox VALUES ('shop', 'customers', '5', '105', 'shop-5', '{\"id\": 5}', 'h5', NULL, NULL, 13.0, 1, 'HTTP 503')")
                )
            conn.execute(sa.text("INSERT INTO runs (connection, started_at, ended_at, status, dry_run, counts, errors, duration) "
                                 "VALUES ('shop', 1.0, 2.0, 'ok', :f, '{\"customers\": {\"read\": 5}}', '[]', 1.0)"), {"f": False})  # fmt: skip
            conn.execute(sa.text("INSERT INTO leases VALUES ('shop', 'old-host:1:x', 3.0)"))
    finally:
        engine.dispose()


def test_head_is_the_newest_revision_shipped() -> None:
    assert schema.script().get_current_head() == schema.HEAD
    shipped = sorted(p.name for p in resources.files("connector_core.sync.store.migrations.versions").iterdir() if p.name.startswith("rev"))
    assert shipped == ["rev0001_initial.py", "rev0002_lease_token.py"]


def test_a_new_database_is_made_at_head_equal_to_tables_py(state_location: str) -> None:
    open_store(state_location, "shop").close()
    assert revision(state_location) == schema.HEAD
    assert differences(state_location) == []


def test_replaying_every_revision_on_an_empty_database_gives_the_same_tables(state_location: str) -> None:
    """A new database is made from tables.py and stamped at head, without Alembic; the revisions, replayed
    from nothing, must make exactly the same tables, or a store made new and one upgraded would differ."""
    engine = sa.create_engine(engine_url(state_location))
    try:
        with engine.begin() as conn:
            schema._upgrade(conn)
    finally:
        engine.dispose()
    assert revision(state_location) == schema.HEAD
    assert differences(state_location) == []


def test_a_0_2_store_with_data_is_upgraded_on_open_with_its_data_intact(state_location: str) -> None:
    make_0_2_store(state_location)
    assert revision(state_location) is None
    with open_store(state_location, "shop", clock=lambda: 100.0) as store:
        assert store.cursor("customers") == {"cursor": "2024-05-01"}
        one, two = store.mapped("customers", "1"), store.mapped("customers", "2")
        assert one is not None and (one.dest_id, one.external_id, one.hash, one.written_at, one.source_modified, one.deleted) == (
            "101", "shop-1", "h1", 11.0, "2024-04-30", False,
        )
        assert two is not None and two.deleted
        assert store.holder_of_external_id("customers", "shop-1") == "1"
        assert store.pending("customers") == {"3": "upsert"}
        (letter,) = store.dead_letters()
        assert (letter.source_id, letter.record, letter.reason, letter.attempts, letter.first_seen) == ("4", {"id": 4}, "HTTP 400: bad email", 2, 5.0)
        (owed,) = store.outbox()
        assert (owed.source_id, owed.dest_id, owed.record, owed.hash, owed.attempts, owed.last_error) == ("5", "105", {"id": 5}, "h5", 1, "HTTP 503")
        (run,) = store.runs()
        assert (run.status, run.counts) == ("ok", {"customers": {"read": 5}})
        assert store.lease_holder() is None  # the old lease expired
        lease = store.acquire_lease("new-host:2:y", 60)
        assert lease is not None and lease.token == 1  # the old row counted 0
    with open_store(state_location, "other") as other:
        assert other.cursor("customers") == {"cursor": "2023-01-01"}
    assert revision(state_location) == schema.HEAD
    assert differences(state_location) == []


def test_a_store_made_before_the_outbox_gets_it(tmp_path: Path) -> None:
    location = str(tmp_path / "old.sqlite")
    make_0_2_store(location, without=("outbox",))
    execute(location, "DROP INDEX ix_id_map_external")
    with SQLiteStateStore(location, "shop") as store:
        assert store.outbox() == [] and store.cursor("customers") == {"cursor": "2024-05-01"}
    assert differences(location) == []


def test_a_store_at_an_older_revision_is_upgraded(state_location: str) -> None:
    engine = sa.create_engine(engine_url(state_location))
    scripts = schema.script()
    try:
        with engine.begin() as conn, EnvironmentContext(
            Config(), scripts, fn=lambda rev, _context: scripts._upgrade_revs("0001", rev), destination_rev="0001"
        ) as environment:
            environment.configure(connection=conn, version_table=schema.VERSION_TABLE)
            environment.run_migrations()
    finally:
        engine.dispose()
    assert revision(state_location) == "0001"
    open_store(state_location, "shop").close()
    assert revision(state_location) == schema.HEAD and differences(state_location) == []


def test_a_database_whose_tables_differ_is_refused_naming_it(state_location: str) -> None:
    execute(state_location, "CREATE TABLE runs (id INTEGER PRIMARY KEY, job TEXT)")
    with pytest.raises(StateError) as refused:
        open_store(state_location, "shop")
    message = str(refused.value)
    shown = state_location if not state_location.startswith("postgresql") else state_location.replace("postgres@", "***@")
    assert message.startswith(f"{shown}: not a connector-core state database")
    assert "table runs has job; lacks connection, counts" in message
    assert revision(state_location) is None
    engine = sa.create_engine(engine_url(state_location))
    try:
        assert sa.inspect(engine).get_table_names() == ["runs"]  # nothing was added
    finally:
        engine.dispose()


def test_a_store_made_by_a_newer_release_is_refused(state_location: str) -> None:
    open_store(state_location, "shop").close()
    execute(state_location, f"UPDATE {schema.VERSION_TABLE} SET version_num = '0099'")
    with pytest.raises(StateError, match="revision 0099, which this connector-core does not know .*created by a newer connector-core; upgrade"):
        open_store(state_location, "shop")
    assert revision(state_location) == "0099"


def test_a_read_only_0_2_store_is_read_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    location = tmp_path / "old.sqlite"
    make_0_2_store(str(location))
    location.chmod(0o444)
    if os.geteuid() == 0:  # permissions do not bind root: make the store see what a user would
        monkeypatch.setattr(checks, "_not_writable", lambda p: "the file is read-only for this user")
    with SQLiteStateStore(location, "shop") as store:
        assert store.read_only and store.cursor("customers") == {"cursor": "2024-05-01"}
        assert store.lease_holder() is None and [r.status for r in store.runs()] == ["ok"]
    assert revision(str(location)) is None


def test_processes_opening_a_new_database_together_migrate_it_once(postgres_url: str) -> None:
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_one(name: str) -> None:
        start.wait(10)
        try:
            open_store(postgres_url, name).close()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(f"c{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert revision(postgres_url) == schema.HEAD and differences(postgres_url) == []


def test_threads_opening_new_databases_at_once_each_get_every_table(tmp_path: Path) -> None:
    """Alembic's proxies are per process: without a lock, a thread ran another's migration steps."""
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def open_one(n: int) -> None:
        start.wait(10)
        try:
            with SQLiteStateStore(tmp_path / f"s{n}.sqlite", "shop") as store:
                store.start_run(False)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert all(differences(str(tmp_path / f"s{n}.sqlite")) == [] for n in range(8))
