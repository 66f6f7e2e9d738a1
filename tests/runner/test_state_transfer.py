"""`connector-core state export`, `state import` and `state migrate`: a connection's state moved between
SQLite and PostgreSQL as JSON lines, whole or not at all, and used there as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import yaml
from click.testing import CliRunner
from finance_support import Finance, hubspot, netsuite_ns  # noqa: F401
from runner_support import Sync

from connector_core.cli import main
from connector_core.plugins import Registry
from connector_core.sync.store import MappedRecord, OutboxEntry, SQLStateStore, open_store
from connector_core.sync.store.tables import metadata
from connector_core.sync.store.transfer import TABLES
from connectors.crm.emulator import HubSpotEmulator
from connectors.netsuite.emulator import NetSuiteEmulator

TO_NETSUITE, TO_HUBSPOT = "companies-to-customers", "customers-to-companies"


@pytest.fixture
def finance(tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry) -> Finance:  # noqa: F811
    return Finance("customers_both_ways.yaml", tmp_path, hubspot, netsuite_ns, registry)


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input, env=env)
    return result.exit_code, result.stdout, result.stderr


def new_company(sync: Finance, **properties: str) -> str:
    response = requests.post(
        f"{sync.hubspot.url}/crm/v3/objects/companies",
        json={"properties": {"lifecyclestage": "customer", "country": "United States", **properties}},
        headers={"Authorization": f"Bearer {sync.hubspot.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def contents(store: SQLStateStore, flows: list[str]) -> dict[str, Any]:
    """Everything the runner reads from a state, through the store (run ids left out: the target assigns them)."""
    return {
        "cursors": store.cursors(),
        "id_map": {flow: sorted(store.mapped_rows(flow), key=lambda row: row.source_id) for flow in flows},  # (in no order)
        "pending": {flow: store.pending(flow) for flow in flows},
        "dead_letters": store.dead_letters(),
        "outbox": store.outbox(),
        "runs": [(r.started_at, r.ended_at, r.status, r.dry_run, r.counts, r.errors, r.duration) for r in store.runs(100)],
    }


def last_counts(path: Path, state: str | None = None) -> dict[str, Any]:
    code, out, err = invoke("status", str(path), "--json", "--runs", "1", *(["--state", state] if state else []))
    assert code == 0, err
    counts: dict[str, Any] = json.loads(out)["runs"][0]["counts"]
    return counts


def without_time(line: str) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(line)
    header.pop("exported_at")
    return header


def test_the_file_holds_every_table_of_a_connection_but_its_lease() -> None:
    assert [t.name for t in TABLES] == ["cursors", "id_map", "pending_writes", "dead_letters", "outbox", "runs"]
    assert {t.name for t in TABLES} == {t.name for t in metadata.tables.values() if "connection" in t.c} - {"leases"}


class TestRoundTrip:
    def test_a_real_state_moves_to_postgresql_and_the_next_run_there_does_what_it_does_on_sqlite(
        self, finance: Finance, postgres_url: str, tmp_path: Path
    ) -> None:
        path = finance.path
        assert invoke("run", str(path))[0] == 0
        refused_name = new_company(finance, name="")  # a dead letter: companyName is required
        owed = new_company(finance, name="Transfer Ltd")  # created in NetSuite; its write-back stays owed:
        finance.hubspot.faults.add("status", status=401, count=1, path_prefix="/crm/v3/objects/companies/batch/update")
        code, _, err = invoke("run", str(path))
        assert code == 3 and "HubSpot refused the credentials" in err
        with finance.store() as sqlite_store:
            (letter,) = sqlite_store.dead_letters()
            (entry,) = sqlite_store.outbox()
            assert (letter.source_id, entry.source_id) == (refused_name, owed)
            before = contents(sqlite_store, [TO_NETSUITE, TO_HUBSPOT])
        assert len(before["runs"]) == 2 and before["cursors"].keys() == {TO_NETSUITE, TO_HUBSPOT}

        exported = tmp_path / "state.jsonl"
        code, out, err = invoke("state", "export", str(path), "-o", str(exported))
        assert code == 0 and out == "", err
        assert f"exported connection 'customers-both-ways' from {finance.load().state_path()}" in err
        text = exported.read_text()
        lines = text.splitlines()
        header, trailer = json.loads(lines[0]), json.loads(lines[-1])
        assert header["format"] == "connector-core-state" and header["connection"] == "customers-both-ways"
        assert header["schema_revision"] == "0002"
        assert trailer == {"trailer": {"rows": {"cursors": 2, "id_map": 33, "pending_writes": 0, "dead_letters": 1, "outbox": 1, "runs": 2}}}
        assert len(lines) == 2 + 2 + 33 + 1 + 1 + 2
        secrets = [finance.hubspot.token, *finance.netsuite.credentials()["tba"].values()]
        config = (path.parent / "config" / "netsuite.json").read_text() + (path.parent / "config" / "hubspot.json").read_text()
        assert all(secret in config for secret in secrets)  # the configs hold them...
        assert [secret for secret in secrets if secret in text] == []  # ...the export none

        code, out, err = invoke("state", "import", str(exported), str(path), "--state", postgres_url)
        assert code == 0, err
        assert "imported connection 'customers-both-ways' into postgresql://***@127.0.0.1:5432/cc_test_" in err
        with open_store(postgres_url, "customers-both-ways") as pg_store:
            assert contents(pg_store, [TO_NETSUITE, TO_HUBSPOT]) == before
        code, again, err = invoke("state", "export", "--state", postgres_url, "--name", "customers-both-ways")
        assert code == 0, err
        assert again.splitlines()[1:] == lines[1:]  # byte for byte, but for the time of the export
        assert without_time(again.splitlines()[0]) == without_time(lines[0])

        # the next run on PostgreSQL, then the same run on the SQLite state it came from: the same world both times
        customers = finance.suiteql("SELECT COUNT(*) AS n FROM customer")[0]["n"]
        code, _, err = invoke("run", str(path), "--state", postgres_url)
        assert code == 5, err  # the dead letter is retried, and still refused
        on_postgres = last_counts(path, postgres_url)
        assert finance.company(owed)["netsuite_customer_id"] == entry.dest_id  # the owed write-back went out
        code, _, err = invoke("run", str(path))
        assert code == 5, err
        assert last_counts(path) == on_postgres
        assert on_postgres == {
            TO_NETSUITE: {"read": 1, "retried": 1, "unchanged": 1, "failed": 1},  # cursor respected: only the letter's record
            TO_HUBSPOT: {"read": 1, "echo": 1},
        }
        assert finance.suiteql("SELECT COUNT(*) AS n FROM customer")[0]["n"] == customers  # nothing created twice
        code, _, err = invoke("run", str(path), "--state", postgres_url)
        assert code == 5 and f"{TO_HUBSPOT}: nothing to do" in err
        with open_store(postgres_url, "customers-both-ways") as pg_store:
            assert pg_store.outbox() == [] and [d.attempts for d in pg_store.dead_letters()] == [3]
            assert [run.status for run in pg_store.runs()] == ["failed_records", "failed_records", "api_error", "ok"]


def plant(location: str, name: str = "shop", *, rows: int = 3) -> None:
    """A state with a row in every table: two runs, each with a pending write that refers to it."""
    with open_store(location, name) as store:
        first = store.start_run(False)
        store.add_pending("customers", [("7", "shop-7")], "create", first)
        with store.batch() as tx:
            tx.set_cursor("customers", {"cursor": "2024-05-01T00:00:00Z", "seen": [["3", "2024-05-01T00:00:00Z"]]})
            for n in range(rows):
                tx.map_record(MappedRecord("customers", f"{n:05d}", str(100 + n), f"shop-{n}", f"h{n}", 1.5, None, "2024", deleted=n == 1))
            tx.dead_letter("customers", "4", {"id": 4, "name": "Zoë Ünal"}, "HTTP 400: bad email")
            tx.put_outbox(OutboxEntry("customers", "5", "105", "shop-5", {"id": 5}, "h5", None, None))
        store.finish_run(first, "ok", {"customers": {"read": rows}}, [])
        second = store.start_run(False)
        store.add_pending("customers", [("8", None)], "create", second)
        store.finish_run(second, "interrupted", {}, ["killed"])


def export(location: str, name: str = "shop") -> str:
    code, out, err = invoke("state", "export", "--state", location, "--name", name)
    assert code == 0, err
    return out


def count(location: str, name: str = "shop") -> int:
    with open_store(location, name) as store, store.engine.connect() as conn:
        return sum(int(conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.connection == name)).scalar_one()) for t in TABLES)


class TestImport:
    def test_both_ways_between_the_back_ends_with_the_runs_renumbered_by_the_target(
        self, state_location: str, tmp_path: Path, postgres_url: str
    ) -> None:
        plant(state_location)
        text = export(state_location)
        other = postgres_url if state_location.endswith(".sqlite") else str(tmp_path / "other.sqlite")
        with open_store(other, "someone-else") as busy:  # the target's run ids are taken up to 3
            for _ in range(3):
                busy.start_run(False)
        code, _, err = invoke("state", "import", "-", "--state", other, input=text)
        assert code == 0, err
        with open_store(other, "shop") as store:
            runs = {run.id: run.status for run in store.runs()}
            assert sorted(runs) == [4, 5]
            with store.engine.connect() as conn:
                pending = dict(conn.execute(sa.text("SELECT source_id, run_id FROM pending_writes WHERE connection = 'shop'")).all())
            assert {source: runs[run] for source, run in pending.items()} == {"7": "ok", "8": "interrupted"}
            assert store.dead_letters()[0].record == {"id": 4, "name": "Zoë Ünal"}
        assert export(other).splitlines()[1:] == text.splitlines()[1:]

    def test_a_truncated_file_is_refused_and_nothing_is_written(self, tmp_path: Path, postgres_url: str) -> None:
        plant(str(tmp_path / "a.sqlite"), rows=2500)  # the rows come in three inserts: the refusal rolls them back
        lines = export(str(tmp_path / "a.sqlite")).splitlines(keepends=True)
        cut = tmp_path / "cut.jsonl"
        cut.write_text("".join(lines[:-1]))
        code, _, err = invoke("state", "import", str(cut), "--state", postgres_url)
        assert code == 1
        assert f"{cut}: ends at line {len(lines) - 1} without its trailer line: the file was cut short; nothing was imported" in err
        cut.write_text("".join(lines[:1500]))
        code, _, err = invoke("state", "import", str(cut), "--state", postgres_url)
        assert code == 1 and f"{cut}: ends at line 1500 without its trailer line" in err
        dropped = tmp_path / "dropped.jsonl"
        dropped.write_text("".join(lines[:10] + lines[11:]))
        code, _, err = invoke("state", "import", str(dropped), "--state", postgres_url)
        assert code == 1
        assert f"{dropped}:{len(lines) - 1}: the trailer's row counts disagree with the rows (id_map: the trailer says 2500, the file holds 2499)" in err
        bad = tmp_path / "bad.jsonl"
        bad.write_text("".join(lines[:2000]) + lines[2000].replace('"deleted":false', '"deleted":"no"') + "".join(lines[2001:]))
        code, _, err = invoke("state", "import", str(bad), "--state", postgres_url)
        assert code == 1 and f"{bad}:2001: id_map column deleted: expected true or false, got \"no\"" in err
        assert count(postgres_url) == 0

    @pytest.mark.parametrize(
        ("first_line", "expected"),
        [
            ('{"id": 1, "name": "a record"}', ':1: not a connector-core state export: its first line should be a header with "format": "connector-core-state"'),
            ("SQLite format 3", ":1: not JSON (Expecting value: line 1 column 1 (char 0))"),
            (None, ": empty, or its first line is blank: not a connector-core state export"),
        ],
    )
    def test_a_file_of_another_kind_is_refused(self, tmp_path: Path, first_line: str | None, expected: str) -> None:
        other = tmp_path / "other.jsonl"
        other.write_text("" if first_line is None else first_line + "\n")
        code, _, err = invoke("state", "import", str(other), "--state", str(tmp_path / "state.sqlite"))
        assert code == 1 and f"{other}{expected}" in err

    def test_a_newer_format_or_schema_is_refused(self, tmp_path: Path) -> None:
        plant(str(tmp_path / "a.sqlite"))
        lines = export(str(tmp_path / "a.sqlite")).splitlines(keepends=True)
        for old, new, expected in [
            ('"format_version":1', '"format_version":2', "connector-core-state format version 2, which connector-core 0.2.0 does not know (it reads version 1)"),
            ('"schema_revision":"0002"', '"schema_revision":"0003"', "exported from a state at schema revision '0003', which connector-core 0.2.0 does not know"),
        ]:
            newer = tmp_path / "newer.jsonl"
            newer.write_text(lines[0].replace(old, new) + "".join(lines[1:]))
            code, _, err = invoke("state", "import", str(newer), "--state", str(tmp_path / "b.sqlite"))
            assert code == 1 and f"{newer}:1: {expected}" in err

    def test_a_target_with_state_of_the_connection_is_refused_unless_replace(self, tmp_path: Path, postgres_url: str) -> None:
        plant(str(tmp_path / "a.sqlite"))
        text = export(str(tmp_path / "a.sqlite"))
        plant(postgres_url, rows=40)
        plant(postgres_url, "neighbour")
        code, _, err = invoke("state", "import", "-", "--state", postgres_url, input=text)
        assert code == 1
        assert "already holds state of connection 'shop' (1 cursors, 40 id_map, 2 pending_writes, 1 dead_letters, 1 outbox, 2 runs); nothing was imported" in err
        assert "add --replace" in err
        code, _, err = invoke("state", "import", "-", "--state", postgres_url, "--replace", input=text)
        assert code == 0, err
        assert export(postgres_url).splitlines()[1:] == text.splitlines()[1:]
        assert count(postgres_url, "neighbour") == 10  # another connection's rows are left alone

    def test_refused_while_a_run_holds_the_lease(self, tmp_path: Path, postgres_url: str) -> None:
        plant(str(tmp_path / "a.sqlite"))
        text = export(str(tmp_path / "a.sqlite"))
        with open_store(postgres_url, "shop") as store:
            assert store.acquire_lease("ci-2:81734:9f0c", 600)
        code, _, err = invoke("state", "import", "-", "--state", postgres_url, input=text)
        assert code == 7
        assert "connection 'shop' is being run by ci-2:81734:9f0c; nothing was imported" in err
        assert count(postgres_url) == 0

    def test_under_another_name_only_with_as(self, sync: Sync, tmp_path: Path) -> None:
        path = sync.write()
        plant(str(tmp_path / "a.sqlite"), "old-name")
        text = export(str(tmp_path / "a.sqlite"), "old-name")
        code, _, err = invoke("state", "import", "-", str(path), input=text)
        assert code == 1
        assert "<stdin>: holds the state of connection 'old-name', and" in err and "add --as shop-to-netsuite" in err
        code, _, err = invoke("state", "import", "-", str(path), "--as", "shop-to-netsuite", input=text)
        assert code == 0, err
        assert "imported connection 'old-name' as 'shop-to-netsuite'" in err
        assert count(str(sync.load(path).state_path()), "shop-to-netsuite") == 10

    def test_export_names_what_the_database_holds_when_the_connection_has_no_state_there(self, tmp_path: Path) -> None:
        plant(str(tmp_path / "a.sqlite"))
        code, _, err = invoke("state", "export", "--state", str(tmp_path / "a.sqlite"), "--name", "shpo")
        assert code == 1 and "holds no state of connection 'shpo' (it holds: shop)" in err
        code, _, err = invoke("state", "export", "--state", str(tmp_path / "none.sqlite"), "--name", "shop")
        assert code == 1 and "none.sqlite: no such file" in err
        assert not (tmp_path / "none.sqlite").exists()
        code, _, err = invoke("state", "export", "--state", str(tmp_path / "a.sqlite"))
        assert code == 2 and "give a CONNECTION file, or --state LOCATION with --name CONNECTION_NAME" in err


class TestMigrate:
    def test_a_directory_of_two_connections_moves_to_postgresql(
        self, sync: Sync, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("CONNECTOR_CORE_STATE_URL", raising=False)
        first = sync.write()
        second = tmp_path / "second.yaml"
        connection = sync.connection()
        connection.update(name="second-shop", state="states/second.sqlite")
        connection["flows"][0]["match"] = {"external_id": "shop2-{{ record.id }}"}
        connection["flows"][0]["mapping"]["entityId"] = {"template": "S2-{{ record.id }}"}
        second.write_text(yaml.safe_dump(connection, sort_keys=False))
        (tmp_path / "states").mkdir()
        (tmp_path / "notes.yaml").write_text("not: a connection\n")
        for path in (first, second):
            assert invoke("run", str(path))[0] == 0
        before = {path: export(str(sync.load(path).state_path()), sync.load(path).name) for path in (first, second)}

        code, out, err = invoke("state", "migrate", str(tmp_path), "--to", postgres_url)
        assert code == 0, err
        shown = "postgresql://***@127.0.0.1:5432/cc_test_"
        for path in (first, second):
            loaded = sync.load(path)
            assert f"{loaded.name}: moved from {loaded.state_location()} to {shown}" in err
            assert "rows per table match (cursors 1, id_map 40, pending_writes 0, dead_letters 0, outbox 0, runs 1)" in err
            assert export(postgres_url, loaded.name).splitlines()[1:] == before[path].splitlines()[1:]
        assert f"next: point these connections at {shown}" in err
        assert f"  set CONNECTOR_CORE_STATE_URL to it where they run (their files name no `state:`): {first}\n" in err
        assert f"  {second}: change its `state: states/second.sqlite` to it" in err

        writes = sync.ns_writes()
        env = {"CONNECTOR_CORE_STATE_URL": postgres_url}
        code, _, err = invoke("run-due", str(tmp_path), env=env)  # the run log moved: neither is due yet
        assert code == 0 and "shop_to_netsuite.yaml: not due" in err and "second.yaml: not due" in err
        code, _, err = invoke("run", str(first), env=env)
        assert code == 0 and "customers: nothing to do" in err
        assert sync.ns_writes() == writes and sync.ns_count() == 40
        with open_store(postgres_url, "shop-to-netsuite") as store:
            assert [run.status for run in store.runs()] == ["ok", "ok"]

        code, _, err = invoke("state", "migrate", str(first), "--to", postgres_url)
        assert code == 1 and "already holds state of connection 'shop-to-netsuite'" in err
        code, _, err = invoke("state", "migrate", str(first), "--to", str(sync.load(first).state_path()))
        assert code == 0 and "shop-to-netsuite: its state is there already; skipped" in err and "next:" not in err

    def test_a_connection_being_run_is_not_migrated(self, sync: Sync, postgres_url: str) -> None:
        path = sync.write()
        assert invoke("run", str(path))[0] == 0
        with sync.store(path) as store:
            assert store.acquire_lease("ci-2:81734:9f0c", 600)
        code, _, err = invoke("state", "migrate", str(path), "--to", postgres_url)
        assert code == 7
        assert "connection 'shop-to-netsuite' is being run by ci-2:81734:9f0c; its state was not migrated" in err
        assert "next:" not in err
        assert count(postgres_url, "shop-to-netsuite") == 0
