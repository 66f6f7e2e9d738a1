"""Control API (/_emulator/) and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests
from hubspot_emulator_support import Client

from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings

REPO = Path(__file__).resolve().parents[4]


def test_stats_counts_requests(emu: HubSpotEmulator, client: Client) -> None:
    client.get("/crm/v3/objects/companies")
    client.get("/crm/v3/objects/companies/1")
    stats = requests.get(f"{emu.url}/_emulator/stats").json()
    assert stats["requests"] == 2
    assert stats["by_status"] == {"200": 1, "404": 1}
    assert stats["by_endpoint"]["objects.list"] == 1
    assert stats["objects"]["companies"] == 30


def test_insert_inspect_and_reset(emu: HubSpotEmulator, client: Client) -> None:
    r = requests.post(f"{emu.url}/_emulator/objects/companies", json={
        "properties": {"name": "Planted", "hs_lastmodifieddate": "2020-01-01T00:00:00.000Z"},
        "updatedAt": "2020-01-01T00:00:00Z"})
    assert r.status_code == 201
    oid = r.json()["id"]
    got = client.get(f"/crm/v3/objects/companies/{oid}").json()
    assert got["properties"]["name"] == "Planted"
    assert got["updatedAt"] == "2020-01-01T00:00:00.000Z"
    raw = requests.get(f"{emu.url}/_emulator/objects/companies/{oid}").json()
    assert raw["properties"]["name"] == "Planted"
    listing = requests.get(f"{emu.url}/_emulator/objects/companies?limit=5").json()
    assert listing["total"] == 31 and len(listing["results"]) == 5
    client.delete(f"/crm/v3/objects/companies/{oid}")
    assert requests.get(f"{emu.url}/_emulator/objects/companies/{oid}").json()["archived"] is True
    assert requests.post(f"{emu.url}/_emulator/reset").status_code == 200
    assert requests.get(f"{emu.url}/_emulator/objects/companies/{oid}").status_code == 404
    assert requests.get(f"{emu.url}/_emulator/stats").json()["requests"] == 0
    assert emu.count("companies") == 30


def test_time_and_tokens_endpoints(emu: HubSpotEmulator) -> None:
    before = requests.get(f"{emu.url}/_emulator/time").json()["now"]
    after = requests.post(f"{emu.url}/_emulator/time", json={"seconds": 3600}).json()["now"]
    assert after - before >= 3600
    token = requests.post(f"{emu.url}/_emulator/tokens").json()["access_token"]
    assert Client(emu.url or "", token).get("/crm/v3/objects/deals").status_code == 200
    creds = requests.get(f"{emu.url}/_emulator/credentials").json()
    assert creds["private_app_token"] == emu.token and creds["client_id"]


def test_context_manager_and_url() -> None:
    with HubSpotEmulator(HubSpotSettings(companies=1, contacts=0, deals=0)) as emu:
        assert emu.url and emu.url.startswith("http://127.0.0.1:")
        r = Client(emu.url, emu.token).get("/crm/v3/objects/companies")
        assert len(r.json()["results"]) == 1
        assert emu.app is not None


def test_keep_alive_reuses_one_connection(client: Client) -> None:
    for _ in range(5):
        r = client.get("/crm/v3/objects/companies?limit=1")
        assert r.headers.get("Connection", "").lower() != "close"
    pool = client.session.get_adapter("http://").poolmanager
    conns = [p for p in pool.pools._container.values()]
    assert len(conns) == 1 and conns[0].num_connections == 1


def test_cli_prints_url_and_credentials() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.crm.emulator", "--port", "0", "--companies", "5", "--contacts", "2",
         "--deals", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        info = json.loads(line)
        assert info["url"].startswith("http://127.0.0.1:")
        assert info["private_app_token"] and info["client_id"] and info["refresh_token"]
        r = requests.get(f"{info['url']}/crm/v3/objects/companies?limit=100",
                         headers={"Authorization": f"Bearer {info['private_app_token']}"}, timeout=5)
        assert len(r.json()["results"]) == 5
    finally:
        proc.terminate()
        proc.wait(timeout=5)
