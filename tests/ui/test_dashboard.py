"""The dashboard's WSGI application over a real state store, made by real runs against the emulators."""

from __future__ import annotations

import time

from ui_support import REFUSED, TOKEN, ShopSync, csrf_of, finished, job_id_of, signed_in
from werkzeug.test import Client

from connector_core.cli.ui.app import Dashboard
from connector_core.sync.store import lease_owner


class TestSignIn:
    def test_a_page_without_a_session_sends_to_the_sign_in_page(self, dashboard: Dashboard) -> None:
        response = Client(dashboard).get("/c/shop_to_netsuite")
        assert response.status_code == 303
        assert response.headers["Location"] == "/login?next=/c/shop_to_netsuite"

    def test_a_wrong_token_is_refused_and_the_right_one_signs_in(self, dashboard: Dashboard) -> None:
        client = Client(dashboard)
        refused = client.get("/login?token=not-the-token")
        assert refused.status_code == 403 and "not the token" in refused.text
        assert client.get_cookie("connector_core_ui") is None
        accepted = client.get(f"/login?token={TOKEN}&next=/c/shop_to_netsuite")
        assert accepted.status_code == 303 and accepted.headers["Location"] == "/c/shop_to_netsuite"
        cookie = client.get_cookie("connector_core_ui")
        assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
        assert client.get("/").status_code == 200

    def test_the_configured_password_signs_in_through_the_form(self, shop_sync: ShopSync, registry: object) -> None:
        from ui_support import make_dashboard

        board = make_dashboard(shop_sync.dir, registry, password="correct horse battery")  # type: ignore[arg-type]
        client = Client(board)
        assert client.post("/login", data={"secret": "wrong horse battery"}).status_code == 403
        assert client.post("/login", data={"secret": "correct horse battery", "next": "//evil.example/"}).headers["Location"] == "/"
        assert client.get("/").status_code == 200

    def test_signing_in_never_sends_the_browser_off_the_dashboard(self, dashboard: Dashboard) -> None:
        for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
            response = Client(dashboard).get("/login", query_string={"token": TOKEN, "next": target})
            assert response.headers["Location"] == "/", target

    def test_a_request_for_another_host_name_is_refused(self, dashboard: Dashboard) -> None:
        client = signed_in(dashboard)
        response = client.get("/", headers={"Host": "attacker.example:8800"})
        assert response.status_code == 403 and "127.0.0.1 or localhost only" in response.text

    def test_every_page_carries_a_strict_content_security_policy(self, dashboard: Dashboard) -> None:
        response = signed_in(dashboard).get("/")
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


class TestPages:
    def test_the_connections_page_shows_the_failed_run_and_its_dead_letters(self, dashboard: Dashboard) -> None:
        page = signed_in(dashboard).get("/").text
        row = page[page.index('id="conn-shop_to_netsuite"') :]
        row = row[: row.index("</tr>")]
        assert "shop-to-netsuite" in row and "example ⇄ netsuite" in row
        assert '<span class="badge warn">failed_records</span>' in row
        assert ">10<" in row and "2 failed" in row  # 10 created; 2 refused
        assert '<a href="/c/shop_to_netsuite#dead-letters">2</a>' in row
        assert "every 1h" in row
        assert '<svg class="spark"' in row and "run 1: failed_records" in row

    def test_the_connection_page_groups_dead_letters_by_reason_with_a_retry_button_each(self, dashboard: Dashboard) -> None:
        page = signed_in(dashboard).get("/c/shop_to_netsuite").text
        assert '<span class="count">2</span> × <strong>customers</strong>: record 4: upsert_customer was rejected' in page
        for source_id in REFUSED:
            assert f'data-flow="customers" data-record="{source_id}"' in page
            assert f'<input type="hidden" name="source_id" value="{source_id}">' in page
        assert page.count(">Retry</button>") == 2
        assert '<svg class="history"' in page and "run 1: failed_records" in page
        assert '<td class="num">12</td>' in page  # read 12

    def test_the_id_map_search_finds_a_pair_from_either_side(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        client = signed_in(dashboard)
        with shop_sync.store() as store:
            row = store.mapped("customers", "3")
        assert row is not None and row.dest_id
        for term in ("3", row.dest_id):
            page = client.get(f"/c/shop_to_netsuite?q={term}").text
            hits = page[page.index('id="id-map-hits"') :]
            assert f"<td>example 3</td><td>⇄</td><td>netsuite {row.dest_id}" in hits
            assert "shop-3" in hits
        assert "No record with id “nothing-like-it”" in client.get("/c/shop_to_netsuite?q=nothing-like-it").text

    def test_cursors_are_shown(self, dashboard: Dashboard) -> None:
        page = signed_in(dashboard).get("/c/shop_to_netsuite").text
        section = page[page.index("Flows and cursors") : page.index('id="id-map"')]
        assert "<td>customers</td><td><code class=\"payload\">" in section

    def test_no_page_shows_a_secret(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        client = signed_in(dashboard)
        run = client.post("/c/shop_to_netsuite/dry-run", data={"csrf": csrf_of(dashboard, client)})
        finished(dashboard, job_id_of(run.headers["Location"]))
        pages = [client.get(path).text for path in ("/", "/c/shop_to_netsuite", "/c/shop_to_netsuite?q=1", run.headers["Location"], "/login")]
        for page in pages:
            assert shop_sync.secret not in page
            assert TOKEN not in page

    def test_an_unknown_connection_is_a_404_naming_it(self, dashboard: Dashboard) -> None:
        response = signed_in(dashboard).get("/c/nope")
        assert response.status_code == 404 and "no connection file &#39;nope&#39;" in response.text

    def test_a_connection_that_never_ran_is_shown_without_making_a_state_file(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        other = shop_sync.dir / "second.yaml"
        other.write_text(shop_sync.path.read_text().replace("name: shop-to-netsuite", "name: second-shop"))
        page = signed_in(dashboard).get("/").text
        row = page[page.index('id="conn-second"') :]
        assert "never run" in row[: row.index("</tr>")]
        assert not (shop_sync.dir / ".state" / "second-shop.sqlite").exists()
        assert "Never run." in signed_in(dashboard).get("/c/second").text

    def test_a_file_that_does_not_load_is_listed_with_its_error(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        (shop_sync.dir / "broken.yaml").write_text("name: broken\nsource: {connector: example}\nflows: []\n")
        page = signed_in(dashboard).get("/").text
        row = page[page.index('id="conn-broken"') :]
        assert "invalid connection" in row[: row.index("</tr>")]


class TestActionsAreGuarded:
    def test_an_action_without_a_session_is_refused(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        response = Client(dashboard).post("/c/shop_to_netsuite/run", data={"csrf": "anything"})
        assert response.status_code == 403 and "sign in first" in response.text
        assert dashboard.jobs.jobs() == []

    def test_an_action_without_the_csrf_token_is_refused(self, dashboard: Dashboard) -> None:
        client = signed_in(dashboard)
        assert client.post("/c/shop_to_netsuite/run").status_code == 403
        assert client.post("/c/shop_to_netsuite/run", data={"csrf": "0" * 64}).status_code == 403
        assert dashboard.jobs.jobs() == []

    def test_an_action_from_another_origin_is_refused_even_with_the_token(self, dashboard: Dashboard) -> None:
        client = signed_in(dashboard)
        response = client.post("/c/shop_to_netsuite/run", data={"csrf": csrf_of(dashboard, client)}, headers={"Origin": "http://attacker.example"})
        assert response.status_code == 403
        assert dashboard.jobs.jobs() == []

    def test_signing_out_ends_the_session(self, dashboard: Dashboard) -> None:
        client = signed_in(dashboard)
        client.post("/logout", data={"csrf": csrf_of(dashboard, client)})
        assert client.get("/").status_code == 303


class TestActions:
    def test_retry_of_one_dead_letter_resolves_it_and_leaves_the_other(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        client = signed_in(dashboard)
        writes = shop_sync.ns_writes()
        response = client.post("/c/shop_to_netsuite/retry", data={"csrf": csrf_of(dashboard, client), "flow": "customers", "source_id": "4"})
        assert response.status_code == 303
        job = finished(dashboard, job_id_of(response.headers["Location"]))
        assert job.status == "ok", (job.error, job.result)
        assert job.counts == {"customers": {"retried": 1, "created": 1}}
        assert shop_sync.ns_writes() == writes + 1  # the one record, nothing read and written again
        with shop_sync.store() as store:
            assert [(d.source_id, d.attempts) for d in store.dead_letters()] == [("7", 1)]
            assert store.mapped("customers", "4") is not None
            last = store.last_run()
            assert last is not None and last.status == "ok" and last.counts == {"customers": {"retried": 1, "created": 1}}
        page = client.get(response.headers["Location"]).text
        assert 'id="job-status">ok<' in page and "customers: retried 1, created 1" in page

    def test_retry_all_resolves_every_dead_letter(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        client = signed_in(dashboard)
        response = client.post("/c/shop_to_netsuite/retry", data={"csrf": csrf_of(dashboard, client)})
        job = finished(dashboard, job_id_of(response.headers["Location"]))
        assert job.status == "ok" and job.counts["customers"] == {"retried": 2, "created": 2}
        with shop_sync.store() as store:
            assert store.dead_letters() == []
        assert "None: every record read was written" in client.get("/c/shop_to_netsuite").text

    def test_a_retry_the_api_refuses_again_stays_a_dead_letter_with_one_more_attempt(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        shop_sync.refuse_once("7")
        client = signed_in(dashboard)
        response = client.post("/c/shop_to_netsuite/retry", data={"csrf": csrf_of(dashboard, client), "flow": "customers", "source_id": "7"})
        job = finished(dashboard, job_id_of(response.headers["Location"]))
        assert job.status == "failed_records"
        with shop_sync.store() as store:
            assert sorted((d.source_id, d.attempts) for d in store.dead_letters()) == [("4", 1), ("7", 2)]

    def test_run_now_goes_through_the_runner_and_reads_what_is_new(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        client = signed_in(dashboard)
        response = client.post("/c/shop_to_netsuite/run", data={"csrf": csrf_of(dashboard, client)})
        job = finished(dashboard, job_id_of(response.headers["Location"]))
        assert job.status == "ok"
        assert job.counts["customers"]["retried"] == 2 and job.counts["customers"]["created"] == 2
        with shop_sync.store() as store:
            assert [r.status for r in store.runs()] == ["ok", "failed_records"]
        page = client.get(response.headers["Location"]).text
        assert "connection shop-to-netsuite: ok" in page

    def test_run_now_while_the_connection_runs_elsewhere_is_skipped_by_the_lease(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        with shop_sync.store() as elsewhere:
            assert elsewhere.acquire_lease(lease_owner(), 60.0) is not None  # another process's run
            client = signed_in(dashboard)
            csrf = csrf_of(dashboard, client)
            for action, data in (("run", {}), ("retry", {"flow": "customers", "source_id": "4"})):
                response = client.post(f"/c/shop_to_netsuite/{action}", data={"csrf": csrf, **data})
                job = finished(dashboard, job_id_of(response.headers["Location"]))
                assert job.status == "locked"
                assert job.result is not None and job.result.errors[0].startswith("skipped: running elsewhere")
            with shop_sync.store() as store:
                assert len(store.runs()) == 1 and len(store.dead_letters()) == 2

    def test_a_second_job_of_a_connection_waits_for_the_first(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        shop_sync.netsuite.faults.add("slow", seconds=1.0, count=1, path_prefix="/services/rest/query")
        client = signed_in(dashboard)
        csrf = csrf_of(dashboard, client)
        first = client.post("/c/shop_to_netsuite/run", data={"csrf": csrf})
        second = client.post("/c/shop_to_netsuite/dry-run", data={"csrf": csrf})
        assert second.status_code == 409 and "has a job running in this dashboard" in second.text
        finished(dashboard, job_id_of(first.headers["Location"]))

    def test_a_dry_run_lists_the_writes_it_would_make_and_writes_nothing(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        shop_sync.shop.api.data.customers[5]["name"] = "Renamed & Co <b>"
        client = signed_in(dashboard)
        writes = shop_sync.ns_writes()
        response = client.post("/c/shop_to_netsuite/dry-run", data={"csrf": csrf_of(dashboard, client)})
        job = finished(dashboard, job_id_of(response.headers["Location"]))
        assert job.status == "ok" and shop_sync.ns_writes() == writes
        assert {(w["action"], w["source_id"]) for w in job.writes} >= {("create", "4"), ("create", "7")}
        page = client.get(response.headers["Location"]).text
        assert "Nothing was written or committed." in page
        assert '<tr class="write create"><td>customers</td><td>create</td><td>upsert_customer</td><td>4</td>' in page
        with shop_sync.store() as store:
            assert len(store.runs()) == 1 and len(store.dead_letters()) == 2


class TestStopping:
    def test_stopping_the_dashboard_stops_a_running_job_at_a_safe_point(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        # every write answered after 3 s (a "slow" body does nothing to the 204 of an upsert): the stop lands while
        # the run waits for its writes, however loaded the machine (under a CI run the flow was once past its last safe point)
        shop_sync.netsuite.faults.add("latency", seconds=3.0, count=None, path_prefix="/services/rest/record")
        client = signed_in(dashboard)
        response = client.post("/c/shop_to_netsuite/run", data={"csrf": csrf_of(dashboard, client)})
        job = dashboard.jobs.get(job_id_of(response.headers["Location"]))
        assert job is not None
        while not job.counts and not job.finished:  # the flow has started: the runner is on the board
            time.sleep(0.02)
        assert dashboard.jobs.stop_all("Ctrl-C") == 1
        assert job.finished and job.status == "interrupted"
        assert job.result is not None and job.result.stopped_by == "Ctrl-C"
        with shop_sync.store() as store:
            assert [r.status for r in store.runs()] == ["interrupted", "failed_records"]
            assert store.lease_holder() is None


class TestBadState:
    def test_a_damaged_state_file_is_shown_as_the_connections_error(self, dashboard: Dashboard, shop_sync: ShopSync) -> None:
        state = shop_sync.dir / ".state" / "shop-to-netsuite.sqlite"
        for suffix in ("-wal", "-shm"):
            state.with_name(state.name + suffix).unlink(missing_ok=True)
        state.write_bytes(b"this is not a database" * 100)
        client = signed_in(dashboard)
        for path in ("/", "/c/shop_to_netsuite"):
            response = client.get(path)
            assert response.status_code == 200
            assert f"{state}" in response.text and "Traceback" not in response.text
