"""Identity is exact (issue 10, section 6): external IDs, NUL characters, internal ids, ids of raw writes.

- ``ns_external_id`` is injective: distinct values never share an external ID (``acme.com`` and
  ``acme-com`` used to become one customer), and an ID that needs no change is kept as it is;
- a NUL is refused everywhere a value goes to NetSuite (record bodies and SuiteQL alike), so nothing is
  stored that a lookup could not find; other control characters round-trip exactly;
- the emulator never gives a deleted record's internal id (or a dropped line's unique key) again;
- ``raw_request`` returns the id from ``Location`` as ``create_record`` does.

Everything talks real HTTP to the emulator on loopback; the sync tests run the runner over the example
shop API.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector_core.errors import InterpolationError
from connector_core.plugins import Registry, build_registry, make_plugin_manager
from connector_core.sync.connection import load_connection
from connector_core.sync.runner import Runner, RunResult
from connector_core.sync.store import SQLiteStateStore
from connectors.example.server import ShopServer
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator
from connectors.netsuite.emulator.errors import NsError
from connectors.netsuite.filters import ns_external_id, ns_external_id_source

VALID_EID = re.compile(r"^[A-Za-z0-9_-]+$")
CUSTOMER = {"entityId": "ID-TEST", "companyName": "Identity Test", "subsidiary": {"id": "1"}}
_ENTITY_IDS = itertools.count(1)


def _customer(**fields: Any) -> dict[str, Any]:
    """A customer body with a fresh entity ID (the emulator, like NetSuite, refuses a second one)."""
    return {**CUSTOMER, "entityId": f"ID-TEST-{next(_ENTITY_IDS)}", **fields}


# -- 1. external IDs ------------------------------------------------------------------------------


class TestExternalIdDerivation:
    KEPT = ["crm-42", "CID_002", "hubspot-deal-7", "123", "ITEM-EXT-2", "a_b-c", "_", "-", "x_"]

    def test_ids_that_need_no_change_are_kept_so_existing_pairings_still_match(self) -> None:
        for value in self.KEPT:
            assert ns_external_id(value) == value
        assert ns_external_id(42) == "42"
        assert ns_external_id(0) == "0"

    def test_values_folding_merged_get_distinct_ids(self) -> None:
        values = ["acme.com", "acme-com", "acme_com", "acme com", "acme/com", "acme--com", "acme__com", "ACME.com"]
        ids = [ns_external_id(v) for v in values]
        assert len(set(ids)) == len(values), dict(zip(values, ids, strict=True))
        assert ns_external_id("acme.com") == "acme__2E_com"
        assert ns_external_id("acme-com") == "acme-com"
        assert all(VALID_EID.match(i) for i in ids)

    def test_a_value_spelled_like_an_encoding_is_encoded_too(self) -> None:
        # "acme__2E_com" is a valid external ID, but it is what acme.com encodes to: it must not stay as is
        assert ns_external_id("acme__2E_com") != ns_external_id("acme.com")
        assert ns_external_id_source(ns_external_id("acme__2E_com")) == "acme__2E_com"

    def test_whitespace_is_not_trimmed_into_another_value(self) -> None:
        assert len({ns_external_id(v) for v in ("a", " a", "a ", "a\t", "a\n")}) == 5

    def test_injective_on_random_values_from_an_awkward_alphabet(self) -> None:
        rng = random.Random(10)
        alphabet = ["a", "Z", "0", "9", "-", "_", "__", ".", " ", "/", "\x00", "é", "😀", "2E", "_2E_", "F"]
        values = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(20000)}
        ids = {}
        for value in values:
            eid = ns_external_id(value)
            assert VALID_EID.match(eid), (value, eid)
            assert ns_external_id_source(eid) == value
            assert ids.setdefault(eid, value) == value, f"{value!r} and {ids[eid]!r} share {eid!r}"
        assert len(ids) == len(values) > 5000

    def test_nothing_to_make_an_id_from_is_refused_with_a_clear_error(self) -> None:
        for value in (None, "", [], {}):
            with pytest.raises(ValueError, match="cannot make a NetSuite external ID"):
                ns_external_id(value)


class TestExternalIdsOnTheWire:
    def test_upserts_of_values_that_used_to_fold_together_make_two_customers(self, env: Any) -> None:
        connector = env.open()
        dotted = connector.call("upsert_customer", {"external_id": "acme.com", "payload": _customer(companyName="Dotted")})
        dashed = connector.call("upsert_customer", {"external_id": "acme-com", "payload": _customer(companyName="Dashed")})
        assert dotted["id"] != dashed["id"]
        rows = env.emulator.suiteql("SELECT id, externalid, companyname FROM customer WHERE externalid LIKE 'acme%' ORDER BY id")
        assert [(r["externalid"], r["companyname"]) for r in rows] == [("acme__2E_com", "Dotted"), ("acme-com", "Dashed")]
        again = connector.call("upsert_customer", {"external_id": "acme.com", "payload": _customer(companyName="Dotted 2")})
        assert again["id"] == dotted["id"]
        assert env.emulator.get_record("customer", dashed["id"])["companyName"] == "Dashed"

    def test_find_customers_finds_what_upsert_customer_wrote_under_the_same_value(self, env: Any) -> None:
        connector = env.open()
        for value in ("acme.com", "acme-com", "Müller & Söhne"):
            written = connector.call("upsert_customer", {"external_id": value, "payload": _customer(companyName=value)})
            found = connector.call("find_customers", {"external_id": value})["body"]["items"]
            assert [(r["id"], r["companyname"]) for r in found] == [(written["id"], value)]

    def test_invoice_external_ids_are_derived_the_same_way(self, env: Any) -> None:
        connector = env.open()
        payload = {"entity": {"id": "2"}, "subsidiary": {"id": "1"}, "tranDate": "2026-01-15",
                   "item": {"items": [{"item": {"id": "1"}, "quantity": 1, "rate": 10}]}}
        dotted = connector.call("create_invoice", {"external_id": "deal.7", "payload": payload})
        dashed = connector.call("create_invoice", {"external_id": "deal-7", "payload": payload})
        again = connector.call("create_invoice", {"external_id": "deal.7", "payload": payload})
        assert dotted["id"] == again["id"] != dashed["id"]

    def test_an_empty_external_id_names_the_operation(self, env: Any) -> None:
        with pytest.raises(InterpolationError, match=r"operations\.upsert_customer\.request\.path.*empty value"):
            env.open().call("upsert_customer", {"external_id": "", "payload": CUSTOMER})


# -- 2. NUL: one rule everywhere ------------------------------------------------------------------


class TestNul:
    NAME = "Acme\x00Corp"

    def test_a_nul_is_refused_on_the_write_and_on_the_lookup_before_any_request(self, env: Any) -> None:
        connector = env.open()
        before = env.stats()["total"]
        calls = [
            ("create_record", {"record_type": "customer", "payload": _customer(companyName=self.NAME)}, r"payload\.companyName"),
            ("upsert_customer", {"external_id": "nul-1", "payload": _customer(companyName=self.NAME)}, r"payload\.companyName"),
            ("update_record", {"record_type": "customer", "record_id": 1, "payload": {"companyName": self.NAME}}, r"payload\.companyName"),
            ("raw_request", {"url": "/customer", "method": "POST", "data": _customer(companyName=self.NAME)}, r"data\.companyName"),
            ("find_customers", {"company_name": self.NAME}, "a SuiteQL value"),
            ("suiteql_query", {"query": f"SELECT id FROM customer WHERE companyname = '{self.NAME}'"}, "query"),
            ("list_records", {"record_type": "customer", "query": f'companyName IS "{self.NAME}"'}, "query"),
        ]
        for operation, payload, where in calls:
            with pytest.raises(InterpolationError, match=rf"operations\.{operation}\.request.*{where} contains a NUL character \(U\+0000\) at position \d+") as caught:
                connector.call(operation, payload)
            assert "remove it from the source value" in caught.value.message
        assert env.stats()["total"] == before  # nothing was sent
        assert env.sql_count("SELECT COUNT(*) AS n FROM customer WHERE companyname LIKE 'Acme%Corp'") == 0

    def test_other_control_characters_are_stored_and_found_exactly(self, env: Any) -> None:
        connector = env.open()
        for name in ("Acme\tCorp", "Acme\x01Corp", "Acme\nCorp", "O'Brien\x1f"):
            created = connector.call("create_record", {"record_type": "customer", "payload": _customer(companyName=name)})
            found = connector.call("find_customers", {"company_name": name})["body"]["items"]
            assert [(r["id"], r["companyname"]) for r in found] == [(created["id"], name)]

    def test_the_emulator_answers_a_nul_in_suiteql_with_a_400_not_a_500(self, env: Any) -> None:
        with pytest.raises(NsError) as caught:
            env.emulator.suiteql("SELECT id FROM customer WHERE companyname = 'a\x00b'")
        assert (caught.value.status, caught.value.code) == (400, "INVALID_PARAMETER")
        assert "NUL character (U+0000) at position" in caught.value.detail


# -- 3. internal ids only grow --------------------------------------------------------------------


class TestIdsOnlyGrow:
    def test_a_deleted_customers_id_is_never_given_again(self, env: Any) -> None:
        connector = env.open()
        ids = []
        for n in range(3):
            created = connector.call("create_record", {"record_type": "customer", "payload": _customer(entityId=f"GROW-{n}")})
            ids.append(int(created["id"]))
            connector.call("delete_record", {"record_type": "customer", "record_id": created["id"]})
        after = int(connector.call("create_record", {"record_type": "customer", "payload": _customer(entityId="GROW-x")})["id"])
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert after > max(ids)

    def test_each_record_type_counts_on_after_deletes(self, env: Any) -> None:
        connector = env.open()
        invoice = {"entity": {"id": "2"}, "subsidiary": {"id": "1"}, "tranDate": "2026-01-15",
                   "item": {"items": [{"item": {"id": "1"}, "quantity": 1, "rate": 10}]}}
        for record_type, payload in (("invoice", invoice), ("customer", _customer())):
            first = int(connector.call("create_record", {"record_type": record_type, "payload": payload})["id"])
            connector.call("delete_record", {"record_type": record_type, "record_id": first})
            second = int(connector.call("create_record", {"record_type": record_type, "payload": payload})["id"])
            assert second > first, record_type
        deleted = env.emulator.suiteql("SELECT recordid FROM deletedrecord ORDER BY id")
        assert len({d["recordid"] for d in deleted}) == len(deleted)

    def test_line_keys_stay_with_their_lines_and_a_dropped_lines_key_is_not_reused(self, env: Any) -> None:
        connector = env.open()
        lines = [{"item": {"id": "1"}, "quantity": 1, "rate": 10}, {"item": {"id": "2"}, "quantity": 2, "rate": 5}]
        invoice = connector.call("create_record", {"record_type": "invoice", "payload": {
            "entity": {"id": "2"}, "subsidiary": {"id": "1"}, "item": {"items": lines}}})["id"]

        def keys() -> dict[str, str]:
            rows = env.emulator.suiteql(f"SELECT uniquekey, linesequencenumber FROM transactionline WHERE transaction = {invoice} AND mainline = 'F'")
            return {r["linesequencenumber"]: r["uniquekey"] for r in rows}

        first = keys()
        connector.call("update_record", {"record_type": "invoice", "record_id": invoice, "payload": {"memo": "edited"}})
        assert keys() == first
        connector.call("update_record", {"record_type": "invoice", "record_id": invoice, "replace": "item",
                                         "payload": {"item": {"items": [lines[0]]}}})
        replaced = keys()
        assert len(replaced) == 1
        assert all(int(k) > max(int(v) for v in first.values()) or k in first.values() for k in replaced.values())
        connector.call("update_record", {"record_type": "invoice", "record_id": invoice, "payload": {"item": {"items": [lines[1]]}}})
        grown = keys()
        dropped = set(first.values()) - set(replaced.values())
        assert not dropped & set(grown.values())


# -- 4. raw_request surfaces the new id -----------------------------------------------------------


class TestRawRequestId:
    def test_post_returns_the_id_from_location_like_create_record(self, env: Any) -> None:
        connector = env.open()
        raw = connector.call("raw_request", {"url": "/customer", "method": "POST", "data": _customer(entityId="RAW-1")})
        made = connector.call("create_record", {"record_type": "customer", "payload": _customer(entityId="RAW-2")})
        assert raw["status"] == made["status"] == 204
        assert raw["id"] is not None and int(made["id"]) == int(raw["id"]) + 1
        assert env.emulator.get_record("customer", raw["id"])["entityId"] == "RAW-1"

    def test_patch_and_put_return_the_records_id_and_a_get_none(self, env: Any) -> None:
        connector = env.open()
        put = connector.call("raw_request", {"url": "/customer/eid:raw-put", "method": "PUT", "data": _customer(entityId="RAW-PUT")})
        assert put["id"] is not None
        patch = connector.call("raw_request", {"url": f"/customer/{put['id']}", "method": "PATCH", "data": {"companyName": "Patched"}})
        assert patch["id"] == put["id"]
        got = connector.call("raw_request", {"url": f"/customer/{put['id']}"})
        assert got["id"] is None and got["body"]["companyName"] == "Patched"


# -- the sync: distinct records stay distinct -----------------------------------------------------


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(make_plugin_manager())


@pytest.fixture
def servers() -> Iterator[tuple[ShopServer, NetSuiteEmulator]]:
    with ShopServer(customers=4, orders=0) as shop, NetSuiteEmulator(EmulatorSettings(customers=3, items=2, sales_orders=1, invoices=1)) as ns:
        yield shop, ns


def _sync(tmp_path: Path, registry: Registry, shop: ShopServer, ns: NetSuiteEmulator, names: dict[int, str]) -> tuple[RunResult, Any]:
    """Name the shop's customers, sync them to NetSuite keyed by ``match.external_id: "{{ record.name }}"``."""
    for cid, name in names.items():
        shop.api.data.customers[cid]["name"] = name
    connection = {
        "name": "identity",
        "source": {"connector": "example", "config": {"base_url": shop.url, "api_key": "demo-key"}},
        "destination": {"connector": "netsuite", "config": {
            "account_id": ns.settings.account_id, "base_url": ns.url, **ns.credentials()["tba"], "subsidiary_id": "1"}},
        "direction": "crm->netsuite",
        "schedule": "every 1h",
        "flows": [{
            "name": "customers",
            "from": {"stream": "customers"},
            "to": {"operation": "upsert_customer", "into": "payload", "external_id": "external_id"},
            "match": {"external_id": "{{ record.name }}"},
            "mapping": {"companyName": "name", "entityId": {"template": "SHOP{{ record.id }}"}},
        }],
    }
    path = tmp_path / "identity.yaml"
    path.write_text(yaml.safe_dump(connection, sort_keys=False))
    loaded = load_connection(path, registry)
    with SQLiteStateStore(loaded.state_path(), loaded.name) as store:
        result = Runner(loaded, store, registry).run()
        letters = {d.source_id: d.reason for d in store.dead_letters()}
    return result, letters


def _ns_customers(ns: NetSuiteEmulator) -> dict[str, str]:
    rows = ns.suiteql("SELECT externalid, companyname FROM customer WHERE entityid LIKE 'SHOP%'")
    return {r["externalid"]: r["companyname"] for r in rows}


class TestSyncIdentity:
    def test_records_whose_ids_used_to_fold_together_stay_two_customers(self, tmp_path: Path, registry: Registry, servers: Any) -> None:
        shop, ns = servers
        result, letters = _sync(tmp_path, registry, shop, ns, {1: "acme.com", 2: "acme-com", 3: "acme com", 4: "acme_com"})
        assert result.status == "ok" and not letters, (result.errors, letters)
        assert _ns_customers(ns) == {"acme__2E_com": "acme.com", "acme-com": "acme-com", "acme__20_com": "acme com", "acme_com": "acme_com"}

    def test_a_nul_in_a_name_dead_letters_that_record_and_the_run_goes_on(self, tmp_path: Path, registry: Registry, servers: Any) -> None:
        shop, ns = servers
        result, letters = _sync(tmp_path, registry, shop, ns, {1: "one", 2: "two\x00bad", 3: "three", 4: "four"})
        assert result.status == "failed_records"
        assert list(letters) == ["2"] and "NUL character (U+0000)" in letters["2"]
        assert sorted(_ns_customers(ns).values()) == ["four", "one", "three"]

    def test_two_records_with_one_external_id_dead_letter_the_second_never_merge(self, tmp_path: Path, registry: Registry, servers: Any) -> None:
        # ns_external_id is injective, so a shared external ID can only come from match.external_id
        # rendering the same text for two records; the runner must refuse the second, not upsert over the first
        shop, ns = servers
        result, letters = _sync(tmp_path, registry, shop, ns, {1: "same", 2: "same", 3: "three", 4: "four"})
        assert list(letters) == ["2"] and "1" in letters["2"] and "same" in letters["2"]
        assert _ns_customers(ns)["same"] == "same"
        assert ns.get_record("customer", ns.suiteql("SELECT id FROM customer WHERE externalid = 'same'")[0]["id"])["entityId"] == "SHOP1"
        assert result.status == "failed_records"
