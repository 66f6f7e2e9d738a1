"""Fault injection: status, latency, slow bodies, dropped connections; all counted."""

from __future__ import annotations

import time

import pytest
import requests
from hubspot_emulator_support import Client

from connectors.crm.emulator import HubSpotEmulator

PATH = "/crm/v3/objects/companies?limit=1"


def test_status_fault_counts_down(emu: HubSpotEmulator, client: Client) -> None:
    emu.faults.add(kind="status", status=503, count=2)
    codes = [client.get(PATH).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert emu.stats.snapshot()["faults"] == 2
    assert emu.faults.fired_by_kind["status"] == 2


def test_status_500_has_error_envelope_and_429_has_rate_limit_body(emu: HubSpotEmulator, client: Client) -> None:
    emu.faults.add(kind="status", status=500)
    r = client.get(PATH)
    assert r.status_code == 500 and r.json()["status"] == "error" and r.json()["correlationId"]
    emu.faults.add(kind="status", status=429)
    r = client.get(PATH)
    assert r.status_code == 429 and r.json()["errorType"] == "RATE_LIMIT"
    assert emu.stats.snapshot()["rate_limited"] == 1


def test_path_prefix_and_method_scope(emu: HubSpotEmulator, client: Client) -> None:
    emu.faults.add(kind="status", status=502, count=None, path_prefix="/crm/v3/objects/deals", method="GET")
    assert client.get(PATH).status_code == 200
    assert client.get("/crm/v3/objects/deals").status_code == 502
    assert client.get("/crm/v3/objects/deals").status_code == 502
    assert client.post("/crm/v3/objects/deals/search", json={}).status_code == 200
    emu.faults.clear()
    assert client.get("/crm/v3/objects/deals").status_code == 200


def test_latency(emu: HubSpotEmulator, client: Client) -> None:
    emu.faults.add(kind="latency", seconds=0.3)
    t0 = time.monotonic()
    r = client.get(PATH)
    assert r.status_code == 200 and time.monotonic() - t0 >= 0.3
    client.get(PATH)
    assert emu.faults.fired_by_kind["latency"] == 1  # a count-1 fault: the second request is not delayed


def test_slow_body_and_read_timeout(emu: HubSpotEmulator, client: Client) -> None:
    emu.faults.add(kind="slow", seconds=0.5)
    t0 = time.monotonic()
    r = client.get("/crm/v3/objects/companies?limit=20")
    assert r.status_code == 200 and len(r.json()["results"]) == 20
    assert time.monotonic() - t0 >= 0.45
    emu.faults.add(kind="slow", seconds=4)  # 20 pieces 0.2 s apart: each wait twice the read timeout
    with pytest.raises(requests.exceptions.RequestException):
        client.get("/crm/v3/objects/companies?limit=20", timeout=0.1)


def test_drop_connection(emu: HubSpotEmulator, client: Client) -> None:
    emu.faults.add(kind="drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get(PATH)
    assert client.get(PATH).status_code == 200
    assert emu.faults.fired_by_kind["drop"] == 1


def test_drop_after_processing_still_applies_the_write(emu: HubSpotEmulator, client: Client) -> None:
    before = emu.count("companies")
    emu.faults.add(kind="drop", path_prefix="/crm/v3/objects/companies", method="POST", when="after")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.post("/crm/v3/objects/companies", json={"properties": {"name": "Ghost"}})
    assert emu.count("companies") == before + 1


def test_faults_via_control_api(emu: HubSpotEmulator, client: Client) -> None:
    r = requests.post(f"{emu.url}/_emulator/faults", json={"kind": "status", "status": 504, "count": 1})
    assert r.status_code == 201 and r.json()["kind"] == "status"
    assert requests.get(f"{emu.url}/_emulator/faults").json()["results"][0]["status"] == 504
    resp = client.get(PATH)
    assert resp.status_code == 504 and resp.text.startswith("<html>")
    assert requests.get(f"{emu.url}/_emulator/faults").json()["results"] == []
    r = requests.post(f"{emu.url}/_emulator/faults", json={"kind": "bogus"})
    assert r.status_code == 400
    stats = requests.get(f"{emu.url}/_emulator/stats").json()
    assert stats["faults"] == 1 and stats["faults_by_kind"]["status"] == 1
