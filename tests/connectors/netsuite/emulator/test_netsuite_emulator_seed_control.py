"""Seeding determinism, the control API, the Python conveniences and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import requests
from netsuite_emulator_support import RECORD, suiteql, tba_session

from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

REPO = Path(__file__).resolve().parents[4]
STABLE = ("SELECT id, entityid, companyname, email, subsidiary, externalid, isinactive "
          "FROM customer ORDER BY id")


def _rows(emu: NetSuiteEmulator, q: str) -> list[dict]:
    return emu.suiteql(q)


class TestSeed:
    def test_same_seed_same_data(self) -> None:
        a = NetSuiteEmulator(EmulatorSettings(customers=150, seed=7))
        b = NetSuiteEmulator(EmulatorSettings(customers=150, seed=7))
        c = NetSuiteEmulator(EmulatorSettings(customers=150, seed=8))
        tx = "SELECT id, tranid, type, entity, status, foreigntotal, amountremaining FROM transaction ORDER BY id"
        assert _rows(a, STABLE) == _rows(b, STABLE)
        assert _rows(a, tx) == _rows(b, tx)
        assert _rows(a, STABLE) != _rows(c, STABLE)

    def test_seed_shape(self, emulator: NetSuiteEmulator) -> None:
        subs = emulator.suiteql("SELECT id, name, parent FROM subsidiary ORDER BY id")
        assert "parent" not in subs[0] and len(subs) >= 3
        assert all(s["parent"] == "1" and s["name"] for s in subs[1:])
        spread = emulator.suiteql("SELECT subsidiary, COUNT(*) AS n FROM customer GROUP BY subsidiary")
        assert len(spread) >= 2
        invoices = emulator.suiteql(
            "SELECT status, foreigntotal, amountremaining, duedate FROM transaction WHERE type = 'CustInvc'")
        statuses = {i["status"] for i in invoices}
        assert statuses == {"A", "B"}
        for inv in invoices:
            assert "duedate" in inv
            if inv["status"] == "B":
                assert float(inv["amountremaining"]) == 0
            else:
                assert 0 < float(inv["amountremaining"]) <= float(inv["foreigntotal"])
        lines = emulator.suiteql("SELECT COUNT(*) AS n FROM transactionline WHERE mainline = 'F'")
        assert int(lines[0]["n"]) >= len(invoices)

    def test_large_seed_is_fast(self) -> None:
        start = time.monotonic()
        emu = NetSuiteEmulator(EmulatorSettings(customers=50_000))
        assert time.monotonic() - start < 10
        assert emu.suiteql("SELECT COUNT(*) AS n FROM customer")[0]["n"] == "50000"


class TestControlApi:
    def test_stats_reset_and_records(self, fresh: NetSuiteEmulator) -> None:
        base = fresh.url + "/_emulator"
        session = tba_session(fresh.settings)
        session.get(fresh.url + RECORD + "/customer/1")
        stats = requests.get(base + "/stats").json()
        assert stats["total"] >= 1 and stats["by_route"]["record"] >= 1 and stats["by_auth"]["tba"] >= 1
        assert stats["recent"][-1]["path"] == "/services/rest/record/v1/customer/1"
        created = requests.post(base + "/records/customer", json={
            "entityId": "CTRL-1", "companyName": "Control Co", "subsidiary": {"id": "2"}}).json()
        got = requests.get(f"{base}/records/customer/{created['id']}").json()
        assert got["companyName"] == "Control Co"
        assert requests.post(base + "/reset").json() == {"ok": True}
        assert requests.get(f"{base}/records/customer/{created['id']}").status_code == 404
        assert requests.get(base + "/stats").json()["total"] == 0

    def test_settings_time_token_and_credentials(self, fresh: NetSuiteEmulator) -> None:
        base = fresh.url + "/_emulator"
        r = requests.patch(base + "/settings", json={"concurrency_limit": 2, "denied_record_types": ["customer"]})
        assert r.json()["concurrency_limit"] == 2 and fresh.settings.concurrency_limit == 2
        assert requests.patch(base + "/settings", json={"account_id": "x"}).status_code == 400
        token = requests.post(base + "/token", json={}).json()["access_token"]
        r = requests.get(fresh.url + RECORD + "/customer/1", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403
        before = fresh.settings.clock.now()
        requests.post(base + "/time/advance", json={"seconds": 3600})
        assert fresh.settings.clock.now() - before >= 3600
        creds = requests.get(base + "/credentials").json()
        assert creds["realm"] == "1234567_SB1" and creds["tba"]["token_id"] == fresh.settings.token_id

    def test_pay_invoice(self, fresh: NetSuiteEmulator) -> None:
        inv = fresh.suiteql("SELECT id FROM transaction WHERE type = 'CustInvc' AND status = 'A'")[0]["id"]
        requests.post(f"{fresh.url}/_emulator/invoices/{inv}/pay", json={})
        record = fresh.get_record("invoice", inv)
        assert record["status"]["refName"] == "Paid In Full" and record["amountRemaining"] == 0.0

    def test_python_helpers(self, fresh: NetSuiteEmulator) -> None:
        rid = fresh.insert_record("customer", {"entityId": "PY-1", "companyName": "Py Co", "subsidiary": "2"})
        assert fresh.get_record("customer", rid)["entityId"] == "PY-1"
        session = tba_session(fresh.settings)
        assert suiteql(session, fresh.url, f"SELECT id FROM customer WHERE id = {rid}").json()["count"] == 1


def test_cli_prints_credentials_and_serves() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.netsuite.emulator", "--port", "0", "--customers", "20"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["tba"]["consumer_key"] and info["realm"] == "1234567_SB1"
        assert requests.get(info["url"] + "/_emulator/health").json()["ok"] is True
        settings = EmulatorSettings(**{k: info["tba"][k] for k in
                                       ("consumer_key", "consumer_secret", "token_id", "token_secret")})
        body = suiteql(tba_session(settings), info["url"], "SELECT COUNT(*) AS n FROM customer").json()
        assert body["items"][0]["n"] == "20"
    finally:
        proc.terminate()
        proc.wait(10)
