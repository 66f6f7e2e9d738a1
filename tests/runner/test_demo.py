"""`connector-core demo`: every example connection run against the in-process emulators, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from connector_core.cli.demo import EXAMPLES, connection_files

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_runs_every_example_connection_and_exits_0(tmp_path: Path) -> None:
    examples = connection_files(EXAMPLES)
    assert {"customers_both_ways.yaml", "revenue_to_crm.yaml", "multi_subsidiary.yaml"} <= {p.name for p in examples}
    done = subprocess.run(
        [sys.executable, "-m", "connector_core", "demo", "--state-dir", str(tmp_path / "demo")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    err = done.stderr
    assert "hubspot emulator on http://127.0.0.1:" in err and "netsuite emulator on http://127.0.0.1:" in err
    assert "salesforce emulator on http://127.0.0.1:" in err
    for path in examples:
        assert f"== {path.name}" in err
    assert "connection customers-both-ways: ok" in err
    assert "connection acme-uk-customers: ok" in err
    assert "connection revenue-to-crm: ok" in err
    assert "connection salesforce-accounts-customers: ok" in err and "connection salesforce-revenue-to-accounts: ok" in err
    assert f"{len(examples)} connection(s) in" in err
    # the dead letters the seed data holds on purpose are summarised and explained, not listed one by one
    for example in ("closed_won_to_invoice", "invoices_to_deals", "salesforce_closed_won_to_invoice", "salesforce_invoices_to_opportunities"):
        section = err.split(f"== {example}.yaml", 1)[1].split("\n== ", 1)[0]
        assert "failed_records" in section and "  dead letters: " in section and " dead letters expected, from the seed data: " in section, section
    assert "records dead-lettered on purpose (" in err and "dead-lettered record" not in err
    assert len(err.splitlines()) < 80, err  # 9 connections
    # multi_subsidiary writes companies another connection created: the destination says updated, not created
    uk = err.split("connection acme-uk-customers: ok", 1)[1].split("\n== ", 1)[0]
    to_companies = next(line for line in uk.splitlines() if line.startswith("  customers-to-companies: "))
    assert "updated" in to_companies and "created" not in to_companies, to_companies
    # the copies point at the emulators; the shipped files are untouched and their state stays in the state dir
    copy = (tmp_path / "demo" / "config" / "netsuite-acme-uk.json").read_text()
    assert '"subsidiary_id": 3' in copy and "127.0.0.1" in copy
    assert (tmp_path / "demo" / ".state" / "customers-both-ways.sqlite").exists()
    assert not (EXAMPLES / ".state").exists()
    assert "NETSUITE_TOKEN_SECRET" in (EXAMPLES / "config" / "netsuite.json").read_text()
