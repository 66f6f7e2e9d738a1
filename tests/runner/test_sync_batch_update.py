"""`to.batch.update`: records the ID map already pairs go through a batch update by their destination id, the others
through the batch upsert. NetSuite customers → Salesforce Accounts (sObject Collections: `upsert_records` by
NetSuite_Id__c, `update_records` by Id), 5 records a batch, against both emulators on loopback with a real SQLite
state file in tmp_path: requests per batch, a refused entry among accepted ones, a key cleared in Salesforce, and a
run stopped between the two halves of a batch."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from runner_support import Collect, ConnectionHarness
from salesforce_flow_support import salesforce_config

from connector_core.plugins import Registry
from connectors.crm.salesforce_emulator import SalesforceEmulator, SalesforceSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

FLOW = "customers-to-accounts"
CUSTOMERS = 12  # batches of 5: 5, 5, 2
UPSERT_PATH = "/composite/sobjects/Account/NetSuite_Id__c"  # update_records is PATCH /composite/sobjects


def customers_to_accounts() -> dict[str, Any]:
    return {
        "name": FLOW,
        "from": {"side": "destination", "stream": "customers", "modified": "lastmodifieddate"},
        "to": {
            "side": "source",
            "operation": "upsert_records",
            "external_id": "NetSuite_Id__c",
            "id": "Id",
            "input": {"type": "Account", "external_id_field": "NetSuite_Id__c"},
            "batch": {
                "operation": "upsert_records",
                "size": 5,
                "result_new": "created",
                "update": "update_records",
                "update_input": {"type": "Account"},
            },
        },
        "match": {"external_id": "{{ record.id }}"},
        "mapping": {
            "Name": {"template": "{{ record.companyname | default(record.entityid) }}"},
            "Phone": "phone",
            "NetSuite_Subsidiary_Id__c": {"from": "subsidiary", "type": "string"},
        },
    }


class AccountsSync(ConnectionHarness):
    """NetSuite customers → Salesforce Accounts, the connection written to tmp_path."""

    def __init__(
        self, tmp_path: Path, salesforce: SalesforceEmulator, netsuite: NetSuiteEmulator, registry: Registry
    ) -> None:
        self.salesforce = salesforce
        self.netsuite = netsuite
        self.registry = registry
        self.reporter = Collect()
        self.path = tmp_path / "accounts.yaml"
        connection = {
            "name": "customers-accounts",
            "source": {"connector": "salesforce", "config": salesforce_config(salesforce)},
            "destination": {
                "connector": "netsuite",
                "config": {
                    "account_id": netsuite.settings.account_id,
                    "base_url": netsuite.url,
                    **netsuite.credentials()["tba"],
                },
            },
            "direction": "netsuite->crm",
            "flows": [customers_to_accounts()],
        }
        self.path.write_text(yaml.safe_dump(copy.deepcopy(connection), sort_keys=False))
        self.sf_http = requests.Session()
        self.sf_http.headers["Authorization"] = f"Bearer {salesforce.issue_access_token()}"

    def sf(self, method: str, path: str, body: Any = None) -> None:
        """A REST call as a Salesforce user makes it (path under /services/data/vXX.X)."""
        url = f"{self.salesforce.url}/services/data/v{self.salesforce.settings.api_version}{path}"
        response = self.sf_http.request(method, url, json=body, timeout=10)
        assert response.status_code < 300, (response.status_code, response.text)

    def accounts(self) -> dict[str, dict[str, Any]]:
        """The live Accounts, by Id."""
        return {str(r["Id"]): r for r in self.salesforce.records("Account")}

    def collection_writes(self) -> Counter[str]:
        """sObject Collections requests since the last stats reset: composite.update, composite.upsert."""
        routes = self.salesforce.stats.snapshot(0)["by_route"]
        return Counter({route: n for route, n in routes.items() if route.startswith("composite.")})

    def pairs(self) -> dict[str, str]:
        """The ID map: NetSuite id → Account Id."""
        with self.store() as store:
            return {row.source_id: str(row.dest_id) for row in store.mapped_rows(FLOW)}

    def edit_customers(self, ids: list[str], **fields: Any) -> None:
        """Edit customers in NetSuite, later than our last write (`{id}` in a text value is the customer's id)."""
        self.netsuite.advance_time(5)
        for ns_id in ids:
            body = {k: v.format(id=ns_id) if isinstance(v, str) else v for k, v in fields.items()}
            requests.patch(
                f"{self.netsuite.url}/_emulator/records/customer/{ns_id}", json=body, timeout=10
            ).raise_for_status()

    def new_customer(self, name: str) -> str:
        self.netsuite.advance_time(5)
        entity_id = name.upper().replace(" ", "-")
        return str(
            self.netsuite.insert_record(
                "customer", {"entityId": entity_id, "companyName": name, "subsidiary": {"id": "2"}}
            )
        )


@pytest.fixture
def sync(tmp_path: Path, registry: Registry) -> Iterator[AccountsSync]:
    with (
        SalesforceEmulator(SalesforceSettings(accounts=0, contacts=0, opportunities=0)) as salesforce,
        NetSuiteEmulator(
            EmulatorSettings(customers=CUSTOMERS, items=1, sales_orders=0, invoices=0)
        ) as netsuite,
    ):
        sync = AccountsSync(tmp_path, salesforce, netsuite, registry)
        first = sync.run()
        assert first.status == "ok", first.errors
        assert first.counts[FLOW] == {"read": CUSTOMERS, "created": CUSTOMERS}
        assert sync.collection_writes() == {"composite.upsert": 3}  # 5 + 5 + 2: nothing paired yet
        assert len(sync.pairs()) == CUSTOMERS
        salesforce.stats.reset()
        yield sync


class TestUpdatesById:
    def test_paired_records_go_by_id_in_batches_and_a_refused_entry_is_dead_lettered_while_the_rest_commit(
        self, sync: AccountsSync
    ) -> None:
        pairs = sync.pairs()
        gone_ns, gone_account = sorted(pairs.items())[3]  # in the first batch
        sync.sf("DELETE", f"/sobjects/Account/{gone_account}")
        sync.edit_customers(sorted(pairs), phone="+1 555 {id}")

        run = sync.run()
        assert run.status == "failed_records", run.errors
        assert run.counts[FLOW] == {"read": CUSTOMERS, "updated": CUSTOMERS - 1, "failed": 1}
        assert sync.collection_writes() == {"composite.update": 3}  # by Id, 5 + 5 + 2 a request; no upsert
        accounts = sync.accounts()
        assert len(accounts) == CUSTOMERS - 1  # the deleted Account is not made again
        for ns_id, account_id in pairs.items():
            if ns_id != gone_ns:
                assert accounts[account_id]["Phone"] == f"+1 555 {ns_id}"
                assert accounts[account_id]["NetSuite_Id__c"] == ns_id
        with sync.store() as store:
            (letter,) = store.dead_letters(FLOW)
            assert store.pending(FLOW) == {}
            assert store.cursor(FLOW) is not None  # the refused record waits as a dead letter
            rows = {row.source_id: row for row in store.mapped_rows(FLOW)}
        assert letter.source_id == gone_ns
        assert (
            letter.reason
            == f"record {gone_ns}: update_records rejected it: ENTITY_IS_DELETED: entity is deleted"
        )
        assert rows[gone_ns].dest_id == gone_account  # the pairing stays: it is the record a person deleted

        sync.salesforce.stats.reset()
        again = sync.run()
        assert again.counts[FLOW] == {"retried": 1, "failed": 1}
        assert sync.collection_writes() == {"composite.update": 1}
        assert len(sync.accounts()) == CUSTOMERS - 1

    def test_new_and_paired_records_of_one_batch_take_one_request_each_and_a_cleared_key_is_put_back(
        self, sync: AccountsSync
    ) -> None:
        pairs = sync.pairs()
        cleared = sorted(pairs)[:2]
        for ns_id in cleared:
            sync.sf("PATCH", f"/sobjects/Account/{pairs[ns_id]}", {"NetSuite_Id__c": None})
        edited = [*cleared, sorted(pairs)[5]]
        sync.edit_customers(edited, phone="+44 20 {id}")
        new = [sync.new_customer("Brand New Ltd"), sync.new_customer("Newer Still Ltd")]

        sync.run(dry_run=True)
        intended = {w["source_id"]: (w["action"], w["operation"]) for w in sync.reporter.writes}
        assert intended == {
            **dict.fromkeys(edited, ("update", "update_records")),
            **dict.fromkeys(new, ("create", "upsert_records")),
        }
        assert sync.collection_writes() == {}

        run = sync.run()
        assert run.status == "ok", run.errors
        assert run.counts[FLOW] == {"read": 5, "updated": 3, "created": 2}
        assert sync.collection_writes() == {"composite.update": 1, "composite.upsert": 1}
        accounts = sync.accounts()
        assert len(accounts) == CUSTOMERS + 2  # the two new ones, no duplicate of a cleared one
        for ns_id in edited:
            account = accounts[pairs[ns_id]]
            assert account["Phone"] == f"+44 20 {ns_id}" and account["NetSuite_Id__c"] == ns_id
        by_key = Counter(a["NetSuite_Id__c"] for a in accounts.values())
        assert by_key == Counter({ns_id: 1 for ns_id in [*pairs, *new]})
        assert sync.pairs() == {
            **pairs,
            **{ns_id: a["Id"] for a in accounts.values() for ns_id in new if a["NetSuite_Id__c"] == ns_id},
        }


class TestStopped:
    def test_when_the_creates_stop_the_run_the_updates_sent_before_them_are_committed(
        self, sync: AccountsSync
    ) -> None:
        pairs = sync.pairs()
        edited = sorted(pairs)[:2]
        sync.edit_customers(edited, phone="+33 1 {id}")
        new = sync.new_customer("Stopped Midway SARL")
        prefix = f"/services/data/v{sync.salesforce.settings.api_version}{UPSERT_PATH}"
        refusal = sync.salesforce.faults.add(
            kind="status", status=401, count=None, method="PATCH", path_prefix=prefix
        )

        stopped = sync.run()
        assert stopped.status == "api_error", stopped.counts
        assert stopped.counts[FLOW] == {"read": 3, "updated": 2}
        assert sync.collection_writes()["composite.update"] == 1
        accounts = sync.accounts()
        assert all(accounts[pairs[ns_id]]["Phone"] == f"+33 1 {ns_id}" for ns_id in edited)
        assert len(accounts) == CUSTOMERS
        with sync.store() as store:
            assert list(store.pending(FLOW)) == [new]  # the create is in doubt until its answer is committed
            assert store.dead_letters(FLOW) == []

        sync.salesforce.faults.remove(refusal.id)
        sync.salesforce.stats.reset()
        resumed = sync.run()
        assert resumed.status == "ok", resumed.errors
        # the updates were committed with their hashes: read again, they are unchanged and not sent again
        assert resumed.counts[FLOW] == {"read": 3, "unchanged": 2, "created": 1}, resumed.counts
        assert sync.collection_writes() == {"composite.upsert": 1}
        accounts = sync.accounts()
        assert len(accounts) == CUSTOMERS + 1
        assert [a["Name"] for a in accounts.values() if a["NetSuite_Id__c"] == new] == ["Stopped Midway SARL"]
        with sync.store() as store:
            assert store.pending(FLOW) == {}
