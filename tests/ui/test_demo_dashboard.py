"""The issue's "done when": the demo ends pointing at `connector-core ui`, and the dashboard shows its five
connections as the demo left them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ui_support import make_dashboard, signed_in

from connector_core.cli.demo import connection_files, run_demo
from connector_core.plugins import Registry
from connector_core.sync.store import open_store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # the demo alone takes 40-60 s on two shared cores


def test_the_demo_points_at_the_dashboard_which_shows_every_connection_it_ran(tmp_path: Path, registry: Registry) -> None:
    said: list[str] = []
    state_dir = tmp_path / "demo-state"
    assert run_demo(state_dir=state_dir, echo=said.append) == 0
    assert said[-1] == f"Look at what it did in your browser (runs, ID map, dead letters): connector-core ui {state_dir}"

    dashboard = make_dashboard(state_dir, registry)
    page = signed_in(dashboard).get("/").text
    rows = dict(re.findall(r'<tr id="conn-([a-z_]+)" data-connection="([a-z\-]+)">', page))
    files = {path.stem: yaml.safe_load(path.read_text()) for path in connection_files(state_dir)}
    ran = {slug: data["name"] for slug, data in files.items()}
    schedules = {slug: data["schedule"] for slug, data in files.items()}
    assert rows == ran  # every connection the demo ran (the examples may grow), in the demo's order
    assert list(rows)[:5] == ["customers_both_ways", "multi_subsidiary", "closed_won_to_invoice", "invoices_to_deals", "revenue_to_crm"]
    for slug, name in rows.items():
        with open_store(state_dir / ".state" / f"{name}.sqlite", name) as store:
            (run,) = store.runs()
            letters = len(store.dead_letters())
        moved = sum(counts.get(k, 0) for counts in run.counts.values() for k in ("created", "updated", "deleted"))
        row = page[page.index(f'id="conn-{slug}"') :]
        row = row[: row.index("</tr>")]
        assert f'<span class="badge {"ok" if run.status == "ok" else "warn"}">{run.status}</span>' in row, (slug, row)
        assert f'<td class="num">{moved}' in row, (slug, moved, row)
        assert (f'#dead-letters">{letters}</a>' if letters else '<td class="num">0</td>') in row, (slug, row)
        assert f'<div class="sub">{schedules[slug]}</div>' in row  # under the next due time
    # the seeded dead letters, by reason, on the connection's page
    detail = signed_in(dashboard).get("/c/invoices_to_deals").text
    assert re.search(r'<span class="count">\d+</span> × <strong>invoices-to-deals</strong>: record \d+: no counterpart', detail), detail[:2000]
