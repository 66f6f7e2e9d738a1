"""Take the dashboard screenshots in docs/images/ (run from the repository root, the venv's python):

    .venv/bin/python scripts/dashboard_screenshots.py

Starts the demo's emulators and the dashboard over a copy of the example connections, photographs a
dry run of the first one, runs every connection three times (as a schedule would: the later runs retry
the dead letters and find little new), and photographs the main pages with Debian's chromium (`apt-get install chromium`) under Playwright.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from connector_core.cli.demo import EXAMPLES, connection_files, connectors_used, point_at_emulators
from connector_core.cli.ui.app import Dashboard
from connector_core.cli.ui.security import Guard
from connector_core.cli.ui.server import bound_port, dashboard_server
from connector_core.engine.emulators import running_emulators
from connector_core.engine.registry import Registry, build_registry, make_plugin_manager
from connector_core.sync.connection import load_connection
from connector_core.sync.runner import Runner
from connector_core.sync.store import open_store

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
ROUNDS = 3
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> int:
    registry = build_registry(make_plugin_manager())
    files = connection_files(EXAMPLES)
    used = connectors_used(files)
    names = sorted(name for name in registry.emulators if name in used)
    with tempfile.TemporaryDirectory(prefix="connector-core-screenshots-") as scratch, running_emulators(registry, names, dict.fromkeys(names, 0)) as running:
        work = Path(scratch) / "demo"
        copies = point_at_emulators(files, work, {emulator.connector: emulator.config for emulator in running})
        guard = Guard(token="screenshots")
        dashboard = Dashboard(work, registry, guard)
        server = dashboard_server(dashboard, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{bound_port(server)}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 760}, device_scale_factor=1)
                page.goto(f"{base}/login?token={guard.token}")
                runs = [copy for _ in range(ROUNDS) for copy in copies]
                for copy in runs[:2]:  # the customers are linked first
                    run(copy, registry)
                # before its first run, a dry run of the Closed Won flow lists the invoices it would create
                page.goto(f"{base}/c/closed_won_to_invoice")
                page.locator("#dry-run").click()
                page.locator("pre.summary, p.error").first.wait_for(timeout=120_000)  # the job page refreshes until the job ends
                page.set_viewport_size({"width": 1280, "height": 1100})
                page.screenshot(path=str(IMAGES / "dashboard-dry-run.png"))
                for copy in runs[2:]:
                    run(copy, registry)
                page.set_viewport_size({"width": 1280, "height": 720})
                page.goto(f"{base}/")
                page.screenshot(path=str(IMAGES / "dashboard-connections.png"), full_page=True)
                page.goto(f"{base}/c/closed_won_to_invoice")
                page.set_viewport_size({"width": 1280, "height": 1500})
                page.screenshot(path=str(IMAGES / "dashboard-connection.png"))
                page.goto(f"{base}/c/customers_both_ways")
                page.locator("#id-map input[name=q]").fill(_an_id(work))
                page.locator("#id-map button").click()
                page.locator("#id-map").screenshot(path=str(IMAGES / "dashboard-id-map.png"))
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    for image in sorted(IMAGES.glob("dashboard-*.png")):
        print(image, file=sys.stderr)
    return 0


def run(copy: Path, registry: Registry) -> None:
    loaded = load_connection(copy, registry)
    with open_store(loaded.state_location(), loaded.name) as store:
        result = Runner(loaded, store, registry).run()
    print(f"{loaded.name}: {result.status}", file=sys.stderr)


def _an_id(work: Path) -> str:
    """A HubSpot company id the customers flow paired with a NetSuite customer."""
    with open_store(work / ".state" / "customers-both-ways.sqlite", "customers-both-ways") as store:
        rows = [row for row in store.mapped_rows("companies-to-customers") if row.dest_id]
    return rows[0].source_id


if __name__ == "__main__":
    sys.exit(main())
