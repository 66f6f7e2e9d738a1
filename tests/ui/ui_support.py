"""Helpers of the dashboard tests (a uniquely named module: `conftest` modules clash under one name): a
shop and a NetSuite emulator on loopback, a connection file between them in a directory of its own,
real runs of it into its SQLite state, and the dashboard over that directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml
from werkzeug.test import Client

from connector_core.cli.ui.app import Dashboard
from connector_core.cli.ui.jobs import Job
from connector_core.cli.ui.security import Guard
from connector_core.cli.ui.server import bound_port, dashboard_server
from connector_core.plugins import Registry
from connector_core.sync.connection import load_connection
from connector_core.sync.runner import Runner, RunResult
from connector_core.sync.store import SQLStateStore, open_store
from connectors.example.server import ShopServer
from connectors.netsuite.emulator import NetSuiteEmulator

TOKEN = "ui-test-token-0123456789"
#: Shop customers whose NetSuite upsert the emulator refuses once (a 400): the first run dead-letters them.
REFUSED = ("4", "7")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def service_missing(service: str, reason: str) -> NoReturn:
    """Skip the test because ``service`` is missing, or fail it when CONNECTOR_CORE_REQUIRE_SERVICES=1."""
    if os.environ.get("CONNECTOR_CORE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{service} is required here (CONNECTOR_CORE_REQUIRE_SERVICES=1) but {reason}", pytrace=False)
    pytest.skip(f"{service}: {reason} (CI sets CONNECTOR_CORE_REQUIRE_SERVICES=1, which makes this a failure)")


class ShopSync:
    """``shop_to_netsuite.yaml`` in ``directory``: shop customers upserted as NetSuite customers."""

    def __init__(self, directory: Path, shop: ShopServer, netsuite: NetSuiteEmulator, registry: Registry) -> None:
        self.dir = directory
        self.shop = shop
        self.netsuite = netsuite
        self.registry = registry
        self.path = directory / "shop_to_netsuite.yaml"
        self.secret = netsuite.credentials()["tba"]["token_secret"]
        self.path.write_text(yaml.safe_dump(self.connection(), sort_keys=False), encoding="utf-8")

    def connection(self) -> dict[str, Any]:
        ns = {"account_id": self.netsuite.settings.account_id, "base_url": self.netsuite.url, **self.netsuite.credentials()["tba"], "subsidiary_id": "1"}
        return {
            "name": "shop-to-netsuite",
            "description": "Shop customers become NetSuite customers.",
            "source": {"connector": "example", "config": {"base_url": self.shop.url, "api_key": "demo-key"}},
            "destination": {"connector": "netsuite", "config": ns},
            "direction": "crm->netsuite",
            "schedule": "every 1h",
            "flows": [
                {
                    "name": "customers",
                    "from": {"stream": "customers"},
                    "to": {"operation": "upsert_customer", "into": "payload", "external_id": "external_id"},
                    "match": {"external_id": "shop-{{ record.id }}"},
                    "mapping": {"companyName": "name", "entityId": {"template": "SHOP{{ record.id }}"}, "email": "email"},
                }
            ],
        }

    def refuse_once(self, *source_ids: str) -> None:
        for source_id in source_ids:
            self.netsuite.faults.add(
                "status", status=400, count=1, path_prefix=f"/services/rest/record/v1/customer/eid:shop-{source_id}", detail="Invalid field value"
            )

    def run(self) -> RunResult:
        loaded = load_connection(self.path, self.registry)
        with open_store(loaded.state_location(), loaded.name) as store:
            return Runner(loaded, store, self.registry).run()

    def store(self) -> SQLStateStore:
        loaded = load_connection(self.path, self.registry)
        return open_store(loaded.state_location(), loaded.name)

    def ns_writes(self) -> int:
        return int(self.netsuite.stats().get("by_route", {}).get("record", 0))


def signed_in(dashboard: Dashboard) -> Client:
    client = Client(dashboard)
    response = client.get(f"/login?token={TOKEN}")
    assert response.status_code == 303, response.text
    return client


def csrf_of(dashboard: Dashboard, client: Client) -> str:
    cookie = client.get_cookie("connector_core_ui")
    assert cookie is not None
    return dashboard.guard.csrf_token(cookie.value)


def finished(dashboard: Dashboard, job_id: int, timeout: float = 60.0) -> Job:
    """The job once its thread ended (the runner's own timeouts bound it; ``timeout`` only stops a hung test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = dashboard.jobs.get(job_id)
        assert job is not None
        if job.finished:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end within {timeout}s")


def job_id_of(location: str) -> int:
    return int(location.rstrip("/").rsplit("/", 1)[1])


def make_dashboard(directory: Path, registry: Registry, password: str | None = None) -> Dashboard:
    return Dashboard(directory, registry, Guard(password, token=TOKEN))


@contextmanager
def serving(dashboard: Dashboard) -> Iterator[str]:
    """The dashboard on a free loopback port, as ``connector-core ui`` serves it; yields its base URL."""
    server = dashboard_server(dashboard, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, name="dashboard", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{bound_port(server)}"
    finally:
        server.shutdown()
        server.server_close()
        dashboard.jobs.wait(30)


def chromium_path() -> str:
    """Debian's chromium, installed with apt-get when missing and this runs as root (CI does)."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        service_missing("chromium", "it is not installed, and only root can install it with apt-get (`apt-get install -y chromium`)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=1200)
    if done.returncode != 0:  # a fresh machine's package lists may be missing or stale
        subprocess.run(["apt-get", "update"], capture_output=True, text=True, env=env, timeout=600)
        done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=1200)
    found = shutil.which("chromium")
    if found is None:
        service_missing("chromium", f"`apt-get install -y chromium` failed: {(done.stderr or done.stdout).strip()[-400:]}")
    return found
