"""Steps the CRM <-> NetSuite finance-flow tests share, whichever CRM is on the other side
(a uniquely named module: `conftest` modules clash under one name).

Used by the HubSpot flow tests (finance_flow_support.FinanceSync, finance_support.Finance) and their Salesforce
twins (salesforce_flow_support.SalesforceFinance): each takes a harness with a NetSuite emulator, a shipped
connection file and its state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import requests
from kill_support import CLI

from connector_core.sync.runner import RunResult
from connector_core.sync.store import DeadLetter, SQLStateStore
from connectors.netsuite.emulator import NetSuiteEmulator


class NetSuiteFlow(Protocol):
    """What the shared steps need of a test's harness."""

    path: Path
    netsuite: NetSuiteEmulator

    def store(self, path: Path | None = None) -> SQLStateStore: ...

    def run(self, path: Path | None = None, **options: Any) -> RunResult: ...


class InvoiceFlow(NetSuiteFlow, Protocol):
    dir: Path

    def ns_invoices(self, where: str = "1 = 1") -> list[dict[str, Any]]: ...


class NetSuiteSide:
    """The NetSuite half of a finance harness: SuiteQL, the record writes served, a customer read and edited."""

    netsuite: NetSuiteEmulator

    def suiteql(self, query: str) -> list[dict[str, Any]]:
        return self.netsuite.suiteql(query)

    def ns_writes(self) -> int:
        return int(self.netsuite.stats().get("by_route", {}).get("record", 0))

    def customer(self, customer_id: str) -> dict[str, Any]:
        (row,) = self.suiteql(f"SELECT * FROM customer WHERE id = {int(customer_id)}")
        return row

    def edit_customer(self, customer_id: str, **fields: Any) -> None:
        self.netsuite.advance_time(5)  # a later modified time than our last write
        requests.patch(
            f"{self.netsuite.url}/_emulator/records/customer/{customer_id}", json=fields, timeout=10
        ).raise_for_status()


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def kill_while_the_invoice_is_in_flight(finance: InvoiceFlow, flow: str, source_id: str) -> None:
    """Run the connection and SIGKILL it while NetSuite holds its one invoice request; the request completes on
    the server, and the state shows the record sent, never acknowledged. NetSuite's faults are cleared after."""
    # the invoice request is held on the server long enough to kill the run while it is in flight
    finance.netsuite.faults.add(
        "latency", seconds=1.5, path_prefix="/services/rest/record/v1/invoice", method="PUT"
    )
    child = subprocess.Popen(
        [*CLI, "run", str(finance.path)],
        cwd=finance.dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with finance.store() as store:
            wait_for(lambda: bool(store.pending(flow)) or child.poll() is not None)
        wait_for(lambda: finance.netsuite.stats()["in_flight"] > 0 or child.poll() is not None)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    wait_for(lambda: len(finance.ns_invoices()) == 1)  # the server finished the request the dead run sent
    with finance.store() as store:
        assert list(store.pending(flow)) == [source_id]  # sent, never acknowledged
        assert store.mapped(flow, source_id) is None
    finance.netsuite.faults.clear()


def resume_without_a_second_invoice(finance: InvoiceFlow, flow: str, external_id: str) -> dict[str, Any]:
    """The next run finds the invoice the killed run sent by its external id and updates it; returns the invoice."""
    resumed = finance.run()
    assert resumed.status == "ok", resumed.errors
    assert resumed.counts[flow] == {
        "read": 1,
        "updated": 1,
    }  # found by its external id, updated, not created again
    (invoice,) = finance.ns_invoices()
    assert invoice["externalid"] == external_id
    return invoice


def assert_resumed_state(finance: InvoiceFlow, flow: str, source_id: str, invoice: dict[str, Any]) -> None:
    """Nothing pending, the record mapped to the invoice, the runs: the killed one interrupted, the resumed one ok."""
    with finance.store() as store:
        assert store.pending(flow) == {}
        assert store.mapped(flow, source_id).dest_id == invoice["id"]  # type: ignore[union-attr]
        assert [run.status for run in store.runs()] == ["ok", "interrupted"]


def only_dead_letter(finance: NetSuiteFlow, flow: str) -> DeadLetter:
    with finance.store() as store:
        (letter,) = store.dead_letters(flow)
    return letter


def pay_first_open_invoice(sync: NetSuiteFlow) -> dict[str, Any]:
    """Pay the open invoice of lowest id in full (the NetSuite emulator's control API); returns it as it was."""
    (invoice,) = sync.netsuite.suiteql(
        "SELECT id, entity, amountremaining FROM transaction WHERE type = 'CustInvc' AND amountremaining > 0 ORDER BY id FETCH FIRST 1 ROWS ONLY"
    )
    requests.post(
        f"{sync.netsuite.url}/_emulator/invoices/{invoice['id']}/pay", json={}, timeout=10
    ).raise_for_status()
    return invoice


__all__ = [
    "InvoiceFlow",
    "NetSuiteFlow",
    "NetSuiteSide",
    "assert_resumed_state",
    "kill_while_the_invoice_is_in_flight",
    "only_dead_letter",
    "pay_first_open_invoice",
    "resume_without_a_second_invoice",
    "wait_for",
]
