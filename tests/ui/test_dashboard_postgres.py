"""The dashboard over a PostgreSQL state, as over SQLite, through real HTTP.

The same connection (shop customers upserted as NetSuite customers, two of them refused once) runs once
against the emulators into its state, a SQLite file (``[sqlite]``) or a new PostgreSQL database named by
the file's ``state:`` (``[postgres]``, skipped without a server unless CONNECTOR_CORE_REQUIRE_SERVICES=1).
Then the dashboard serves the directory on a loopback port and every test asks the same of both: the
connections page and the last run, the run history, cursors, ID map and dead letters of the connection,
and actions (retry, run now, dry run) whose effect is read back from the state through the store's API.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from ui_support import REFUSED, TOKEN, ShopSync, make_dashboard, serving

from connector_core.cli.ui import app as ui_app
from connector_core.cli.ui.app import Dashboard
from connector_core.cli.ui.jobs import Job, JobBoard
from connector_core.cli.ui.security import Guard
from connector_core.plugins import Registry
from connector_core.sync.records import RunResult
from connector_core.sync.store import PostgresStateStore, SQLiteStateStore, lease_owner, open_store
from connectors.example.server import ShopServer
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")]
SLUG = "shop_to_netsuite"
#: What the postgres half puts in the state URL as a password: the server trusts 127.0.0.1 and ignores it,
#: and no page may show it.
PG_PASSWORD = "pg-Secret-0f-the-state"


class StateShopSync(ShopSync):
    """:class:`ShopSync` whose connection file names its state (``state:``), when given one."""

    def __init__(self, directory: Path, shop: ShopServer, netsuite: NetSuiteEmulator, registry: Registry, state: str | None) -> None:
        self.state = state  # before ShopSync writes the file
        super().__init__(directory, shop, netsuite, registry)

    def connection(self) -> dict[str, Any]:
        connection = super().connection()
        if self.state is not None:
            connection["state"] = self.state
        return connection


def with_password(url: str) -> str:
    """``url`` with :data:`PG_PASSWORD` as the password of its user."""
    return re.sub(r"^(postgresql://[^:@/]+)(:[^@]*)?@", rf"\1:{PG_PASSWORD}@", url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def state_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """The connection's ``state:``: none on SQLite (``.state/shop-to-netsuite.sqlite`` beside the file), a
    new PostgreSQL database (with a password the server ignores) on PostgreSQL."""
    if backend == "sqlite":
        return None
    return with_password(request.getfixturevalue("postgres_url"))


@pytest.fixture
def synced(tmp_path: Path, registry: Registry, state_url: str | None) -> Iterator[StateShopSync]:
    """A first run of shop → NetSuite has happened into the backend's state: 12 read, 10 created, REFUSED
    dead-lettered."""
    with ShopServer(customers=12, orders=0) as shop, NetSuiteEmulator(EmulatorSettings(customers=2, items=1, sales_orders=0, invoices=0)) as netsuite:
        directory = tmp_path / "connections"
        directory.mkdir()
        sync = StateShopSync(directory, shop, netsuite, registry, state_url)
        sync.refuse_once(*REFUSED)
        result = sync.run()
        assert result.status == "failed_records", result
        yield sync


class Browser:
    """A signed-in HTTP client of the served dashboard (requests: real sockets, real cookies)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        signed = self.http.get(f"{base}/login", params={"token": TOKEN}, allow_redirects=False, timeout=30)
        assert signed.status_code == 303, signed.text

    def page(self, path: str, **params: str) -> str:
        response = self.http.get(self.base + path, params=params, allow_redirects=False, timeout=60)
        assert response.status_code == 200, (path, response.status_code, response.text[-2000:])
        assert "Traceback" not in response.text and "internal error" not in response.text
        return response.text

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', self.page(path))
        assert found is not None, f"no form on {path}"
        return found.group(1)

    def post(self, path: str, **form: str) -> str:
        """Post one of the connection page's forms, as the browser would; the job page it opens."""
        data = {"csrf": self.csrf(f"/c/{SLUG}"), **form}
        response = self.http.post(self.base + path, data=data, headers={"Origin": self.base}, allow_redirects=False, timeout=60)
        assert response.status_code == 303, (path, response.status_code, response.text[-2000:])
        location: str = response.headers["Location"]
        assert re.fullmatch(rf"/c/{SLUG}/jobs/\d+", location), location
        return location

    def job_ended(self, path: str, timeout: float = 120.0) -> tuple[str, str]:
        """The job page once the job ended, and its status (``timeout`` only stops a hung test)."""
        deadline = time.monotonic() + timeout
        while True:
            page = self.page(path)
            found = re.search(r'id="job-status">([^<]+)<', page)
            assert found is not None, page[-2000:]
            if found.group(1) != "running":
                return found.group(1), page
            assert time.monotonic() < deadline, f"{path} still running after {timeout}s"
            time.sleep(0.1)


@pytest.fixture
def dashboard(synced: StateShopSync, registry: Registry) -> Iterator[Dashboard]:
    board = make_dashboard(synced.dir, registry)
    yield board
    board.jobs.wait(60)


@pytest.fixture
def browser(dashboard: Dashboard) -> Iterator[Browser]:
    with serving(dashboard) as base:
        yield Browser(base)


def row_of(page: str, element_id: str) -> str:
    row = page[page.index(f'id="{element_id}"') :]
    return row[: row.index("</tr>")]


def test_the_state_is_where_the_backend_says(synced: StateShopSync, backend: str) -> None:
    with synced.store() as store:
        assert isinstance(store, PostgresStateStore if backend == "postgres" else SQLiteStateStore)
        assert PG_PASSWORD not in store.where
    assert (synced.dir / ".state" / "shop-to-netsuite.sqlite").exists() == (backend == "sqlite")


class TestPages:
    def test_the_connections_page_shows_the_last_run_and_its_dead_letters(self, browser: Browser) -> None:
        row = row_of(browser.page("/"), f"conn-{SLUG}")
        assert "shop-to-netsuite" in row and "example ⇄ netsuite" in row
        assert '<span class="badge warn">failed_records</span>' in row
        assert ">10<" in row and "2 failed" in row  # 10 created; 2 refused
        assert f'<a href="/c/{SLUG}#dead-letters">2</a>' in row
        assert "every 1h" in row
        assert '<svg class="spark"' in row and "run 1: failed_records" in row

    def test_the_connection_page_shows_the_run_its_cursor_and_its_dead_letters_by_reason(self, browser: Browser, synced: StateShopSync) -> None:
        page = browser.page(f"/c/{SLUG}")
        with synced.store() as store:
            (run,) = store.runs()
        run_row = row_of(page, f"run-{run.id}")
        assert '<span class="badge warn">failed_records</span>' in run_row
        numbers = re.findall(r'<td class="num">([^<]*)</td>', run_row)
        # duration, then read, retried, created, updated, unchanged, deleted, failed
        assert numbers[0].endswith("s") and numbers[1:] == ["12", "0", "10", "0", "0", "0", "2"]
        assert run.errors == [] and '<td class="error-text"></td>' in run_row  # refused records are no run error
        assert '<svg class="history"' in page and "run 1: failed_records" in page
        cursors = page[page.index("Flows and cursors") : page.index('id="id-map"')]
        assert '<td>customers</td><td><code class="payload">' in cursors
        assert '<span class="count">2</span> × <strong>customers</strong>: record 4: upsert_customer was rejected' in page
        for source_id in REFUSED:
            letter = page[page.index(f'data-flow="customers" data-record="{source_id}"') :]
            letter = letter[: letter.index("</tr>")]
            assert "Invalid field value" in letter and '<td class="num">1</td>' in letter  # the API's message, 1 attempt
            assert f'<input type="hidden" name="source_id" value="{source_id}">' in letter
        assert page.count(">Retry</button>") == 2

    def test_the_id_map_search_finds_a_pair_from_either_side(self, browser: Browser, synced: StateShopSync) -> None:
        with synced.store() as store:
            row = store.mapped("customers", "3")
        assert row is not None and row.dest_id
        for term in ("3", row.dest_id):
            page = browser.page(f"/c/{SLUG}", q=term)
            hits = page[page.index('id="id-map-hits"') :]
            assert f"<td>example 3</td><td>⇄</td><td>netsuite {row.dest_id}" in hits
            assert "shop-3" in hits
        assert "No record with id “nothing-like-it”" in browser.page(f"/c/{SLUG}", q="nothing-like-it")

    def test_no_page_shows_the_state_password_or_a_secret(self, browser: Browser, synced: StateShopSync) -> None:
        job = browser.post(f"/c/{SLUG}/dry-run")
        browser.job_ended(job)
        for path in ("/", f"/c/{SLUG}", job):
            page = browser.page(path)
            assert PG_PASSWORD not in page and synced.secret not in page and TOKEN not in page


class TestActions:
    def test_retry_of_one_dead_letter_resolves_it_in_the_state(self, browser: Browser, synced: StateShopSync) -> None:
        writes = synced.ns_writes()
        status, page = browser.job_ended(browser.post(f"/c/{SLUG}/retry", flow="customers", source_id="4"))
        assert status == "ok", page[-3000:]
        assert "customers: retried 1, created 1" in page
        assert synced.ns_writes() == writes + 1  # the one record, nothing else read and written again
        with synced.store() as store:
            assert [(d.source_id, d.attempts) for d in store.dead_letters()] == [("7", 1)]
            mapped = store.mapped("customers", "4")
            assert mapped is not None and mapped.dest_id and mapped.external_id == "shop-4"
            last, first = store.runs()
            assert (last.status, last.counts, first.status) == ("ok", {"customers": {"retried": 1, "created": 1}}, "failed_records")
            assert store.lease_holder() is None  # the job gave its lease back
            run_id = last.id
        page = browser.page(f"/c/{SLUG}")
        assert 'data-record="4"' not in page and 'data-record="7"' in page
        assert '<span class="badge ok">ok</span>' in row_of(page, f"run-{run_id}")
        assert '<span class="badge ok">ok</span>' in row_of(browser.page("/"), f"conn-{SLUG}")

    def test_a_retry_refused_again_stays_with_one_more_attempt(self, browser: Browser, synced: StateShopSync) -> None:
        synced.refuse_once("7")
        status, _ = browser.job_ended(browser.post(f"/c/{SLUG}/retry", flow="customers", source_id="7"))
        assert status == "failed_records"
        with synced.store() as store:
            assert sorted((d.source_id, d.attempts) for d in store.dead_letters()) == [("4", 1), ("7", 2)]
        letter = browser.page(f"/c/{SLUG}")
        letter = letter[letter.index('data-record="7"') :]
        assert '<td class="num">2</td>' in letter[: letter.index("</tr>")]

    def test_run_now_retries_every_dead_letter_and_commits_in_the_state(self, browser: Browser, synced: StateShopSync) -> None:
        status, page = browser.job_ended(browser.post(f"/c/{SLUG}/run"))
        assert status == "ok", page[-3000:]
        assert "connection shop-to-netsuite: ok" in page
        with synced.store() as store:
            assert [r.status for r in store.runs()] == ["ok", "failed_records"]
            assert store.runs()[0].counts["customers"]["retried"] == 2
            assert store.dead_letters() == []
            assert {r.source_id for r in store.mapped_rows("customers")} == {str(n) for n in range(1, 13)}
            assert store.lease_holder() is None
        assert "None: every record read was written" in browser.page(f"/c/{SLUG}")

    def test_a_dry_run_writes_nothing_to_the_state(self, browser: Browser, synced: StateShopSync) -> None:
        writes = synced.ns_writes()
        status, page = browser.job_ended(browser.post(f"/c/{SLUG}/dry-run"))
        assert status == "ok" and synced.ns_writes() == writes
        assert "Nothing was written or committed." in page
        assert '<tr class="write create"><td>customers</td><td>create</td><td>upsert_customer</td><td>4</td>' in page
        with synced.store() as store:
            assert len([r for r in store.runs() if not r.dry_run]) == 1 and len(store.dead_letters()) == 2
            assert store.mapped("customers", "4") is None

    def test_an_action_while_the_connection_runs_elsewhere_is_skipped_by_the_lease(self, browser: Browser, synced: StateShopSync) -> None:
        with synced.store() as elsewhere:
            assert elsewhere.acquire_lease(lease_owner(), 60.0) is not None  # another process's run
            assert '<span class="badge busy">running</span>' in browser.page(f"/c/{SLUG}")
            for action, form in (("run", {}), ("retry", {"flow": "customers", "source_id": "4"})):
                status, page = browser.job_ended(browser.post(f"/c/{SLUG}/{action}", **form))
                assert status == "locked" and "skipped: running elsewhere" in page, page[page.index("<main"):]
            with synced.store() as store:
                assert len(store.runs()) == 1 and len(store.dead_letters()) == 2


class TestOneStateForEveryConnection:
    def test_ui_state_reads_and_writes_every_connection_in_one_database_by_name(self, synced: StateShopSync, registry: Registry) -> None:
        """``connector-core ui DIR --state LOCATION``: a second connection file, without ``state:``, that never ran."""
        with synced.store() as store:
            location = store.where if isinstance(store, SQLiteStateStore) else synced.state
        assert location is not None
        second = synced.dir / "second.yaml"
        text = synced.path.read_text().replace("name: shop-to-netsuite", "name: second-shop")
        second.write_text("\n".join(line for line in text.splitlines() if not line.startswith("state:")) + "\n")
        assert "state:" not in second.read_text()
        board = Dashboard(synced.dir, registry, Guard(None, token=TOKEN), state=location)  # what `ui --state` makes
        with serving(board) as base:
            browser = Browser(base)
            index = browser.page("/")
            assert "failed_records" in row_of(index, f"conn-{SLUG}") and "never run" in row_of(index, "conn-second")
            assert "Never run." in browser.page("/c/second")
            assert not (synced.dir / ".state" / "second-shop.sqlite").exists()
            response = browser.http.post(
                f"{base}/c/second/run", data={"csrf": browser.csrf("/c/second")}, headers={"Origin": base}, allow_redirects=False, timeout=60
            )
            assert response.status_code == 303
            status, page = browser.job_ended(response.headers["Location"])
            assert status == "ok", page[-3000:]
            assert "ok" in row_of(browser.page("/"), "conn-second")
        board.jobs.wait(60)
        with open_store(location, "second-shop") as store:
            assert [r.status for r in store.runs()] == ["ok"] and len(store.mapped_rows("customers")) == 12
        with open_store(location, "shop-to-netsuite") as store:  # the other connection's rows are its own
            assert [r.status for r in store.runs()] == ["failed_records"] and len(store.dead_letters()) == 2


class TestJobPage:
    def test_a_job_ending_while_its_page_is_made_shows_one_moment_of_it(
        self, browser: Browser, dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The job's thread sets its result, then its end. A page that read the job live could catch it
        # running for its summary and ended for its status: "ok" with no summary, and no more refreshing.
        # Here the job waits for its page to ask for the summary, and ends then.
        gate = threading.Event()
        runner_of = JobBoard._runner

        def gated_runner(board: JobBoard, *args: Any, **kwargs: Any) -> Any:
            runner = runner_of(board, *args, **kwargs)
            run = runner.run

            def run_once_its_page_asks(due_check: Callable[[], bool] | None = None) -> RunResult:
                gate.wait(60)
                return run(due_check)

            runner.run = run_once_its_page_asks  # type: ignore[method-assign]
            return runner

        summary_of = ui_app._summary
        caught_running: list[bool] = []

        def summary_then_the_job_ends(job: Job) -> str | None:
            text = summary_of(job)
            live = dashboard.jobs.get(job.id)
            if live is not None and not live.finished:
                caught_running.append(True)
                gate.set()
                deadline = time.monotonic() + 60
                while not live.finished and time.monotonic() < deadline:
                    time.sleep(0.01)
            return text

        monkeypatch.setattr(JobBoard, "_runner", gated_runner)
        monkeypatch.setattr(ui_app, "_summary", summary_then_the_job_ends)
        job = browser.post(f"/c/{SLUG}/retry", flow="customers", source_id="4")
        page = browser.page(job)
        assert caught_running == [True]
        assert 'id="job-status">running<' in page and '<meta http-equiv="refresh"' in page  # as it was when the page began
        status, page = browser.job_ended(job)  # the refresh: ended, with its summary
        assert status == "ok" and "customers: retried 1, created 1" in page and '<meta http-equiv="refresh"' not in page


def test_a_postgresql_state_that_does_not_answer_is_shown_as_the_connections_error(tmp_path: Path, registry: Registry) -> None:
    """The SQLite half is TestBadState in test_dashboard.py (a damaged file). Nothing listens on the port."""
    import socket

    pytest.importorskip("psycopg")
    with socket.socket() as closed:  # bound, never listening: connections to it are refused
        closed.bind(("127.0.0.1", 0))
        url = f"postgresql://sync:{PG_PASSWORD}@127.0.0.1:{closed.getsockname()[1]}/connector_state"
        with ShopServer(customers=1, orders=0) as shop, NetSuiteEmulator(EmulatorSettings(customers=1, items=1, sales_orders=0, invoices=0)) as netsuite:
            directory = tmp_path / "connections"
            directory.mkdir()
            StateShopSync(directory, shop, netsuite, registry, url)
            board = make_dashboard(directory, registry)
            with serving(board) as base:
                browser = Browser(base)
                shown = f"postgresql://***@127.0.0.1:{closed.getsockname()[1]}/connector_state: cannot use the state database"
                for path in ("/", f"/c/{SLUG}"):
                    page = browser.page(path)
                    assert shown in page and PG_PASSWORD not in page
                response = browser.http.post(f"{base}/c/{SLUG}/dry-run", data={"csrf": browser.csrf("/")}, headers={"Origin": base}, allow_redirects=False, timeout=60)
                assert response.status_code == 303
                status, page = browser.job_ended(response.headers["Location"])
                assert status == "error" and shown in page and PG_PASSWORD not in page


def test_a_connection_that_never_ran_on_an_empty_postgresql_database(tmp_path: Path, registry: Registry, postgres_url: str) -> None:
    """Listed as never run; nothing is written for it (the empty database gets its tables, as any open of a store gives them)."""
    import sqlalchemy as sa

    with ShopServer(customers=1, orders=0) as shop, NetSuiteEmulator(EmulatorSettings(customers=1, items=1, sales_orders=0, invoices=0)) as netsuite:
        directory = tmp_path / "connections"
        directory.mkdir()
        StateShopSync(directory, shop, netsuite, registry, with_password(postgres_url))
        board = make_dashboard(directory, registry)
        with serving(board) as base:
            browser = Browser(base)
            assert "never run" in row_of(browser.page("/"), f"conn-{SLUG}")
            assert "Never run." in browser.page(f"/c/{SLUG}")
    assert not (directory / ".state").exists()
    with open_store(postgres_url, "shop-to-netsuite") as store:
        assert store.runs() == [] and store.cursors() == {} and store.dead_letters() == [] and store.lease_holder() is None
        assert {"runs", "leases", "dead_letters", "id_map"} <= set(sa.inspect(store.engine).get_table_names())
