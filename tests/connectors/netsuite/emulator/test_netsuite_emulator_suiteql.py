"""SuiteQL: envelope, row shape, paging and caps, functions, joins, errors."""

from __future__ import annotations

import re

import pytest
import requests
from netsuite_emulator_support import RECORD, SUITEQL, error_code, error_detail, suiteql, tba_session

from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

COLLECTION = "application/vnd.oracle.resource+json; type=collection; charset=UTF-8"
PREFIX = "Invalid search query. Detailed unprocessed description follows. Search error occurred: "


class TestEnvelope:
    def test_envelope_shape_and_headers(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = suiteql(session, emulator.url, "SELECT id, entityid FROM customer ORDER BY id", limit=5, offset=0)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == COLLECTION
        assert r.headers["Preference-Applied"] == "transient"
        body = r.json()
        assert list(body) == ["links", "count", "hasMore", "items", "offset", "totalResults"]
        assert body["links"] == [
            {"rel": "next", "href": f"{emulator.url}{SUITEQL}?limit=5&offset=5"},
            {"rel": "self", "href": f"{emulator.url}{SUITEQL}?limit=5&offset=0"},
        ]
        assert body["items"][0] == {"links": [], "id": "1", "entityid": "CUST000001"}

    def test_self_link_reorders_query(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.post(f"{emulator.url}{SUITEQL}?offset=0&limit=3", json={"q": "SELECT id FROM customer"})
        assert r.json()["links"][-1]["href"] == f"{emulator.url}{SUITEQL}?limit=3&offset=0"
        assert "Preference-Applied" not in r.headers

    def test_no_paging_params(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        body = suiteql(session, emulator.url, "SELECT id FROM subsidiary ORDER BY id").json()
        assert body["links"] == [{"rel": "self", "href": f"{emulator.url}{SUITEQL}"}]
        assert body["offset"] == 0 and body["hasMore"] is False

    def test_empty_result(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        body = suiteql(session, emulator.url, "SELECT id FROM customer WHERE id < 0").json()
        assert body["count"] == 0 and body["items"] == [] and body["totalResults"] == 0

    def test_row_values_are_strings_and_nulls_omitted(self, emulator: NetSuiteEmulator,
                                                      session: requests.Session) -> None:
        q = ("SELECT id AS internalId, externalid, creditlimit, isinactive FROM customer "
             "WHERE id IN (1, 3) ORDER BY id")
        items = suiteql(session, emulator.url, q).json()["items"]
        assert "externalid" not in items[0] and items[1]["externalid"] == "CRM-3"
        assert items[0]["internalid"] == "1"
        assert all(isinstance(v, str) for item in items for k, v in item.items() if k != "links")
        assert items[0]["isinactive"] in ("T", "F")

    def test_prefer_transient_can_be_required(self, fresh: NetSuiteEmulator) -> None:
        fresh.settings.require_prefer_transient = True
        session = tba_session(fresh.settings)
        assert suiteql(session, fresh.url, "SELECT id FROM customer", prefer=False).status_code == 400
        assert suiteql(session, fresh.url, "SELECT id FROM customer").status_code == 200


class TestPagingAndCaps:
    def test_limit_above_cap(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = suiteql(session, emulator.url, "SELECT id FROM customer", limit=1001)
        assert r.status_code == 400 and error_code(r) == "INVALID_PARAMETER"

    def test_offset_not_multiple_of_limit(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = suiteql(session, emulator.url, "SELECT id FROM customer", limit=10, offset=15)
        assert r.status_code == 400

    def test_row_cap(self) -> None:
        settings = EmulatorSettings(customers=120, row_cap=50, invoices=2, sales_orders=1)
        with NetSuiteEmulator(settings) as emu:
            session = tba_session(settings)
            seen: list[str] = []
            offset = 0
            while True:
                body = suiteql(session, emu.url, "SELECT id FROM customer ORDER BY id", limit=20,
                               offset=offset).json()
                seen += [i["id"] for i in body["items"]]
                assert body["totalResults"] == 120
                if not body["hasMore"]:
                    break
                offset += 20
            assert len(seen) == 50 and seen[-1] == "50"
            r = suiteql(session, emu.url, "SELECT id FROM customer ORDER BY id", limit=10, offset=50)
            assert r.status_code == 400 and error_code(r) == "INVALID_PARAMETER"
            # keyset paging gets past the cap
            body = suiteql(session, emu.url, "SELECT id FROM customer WHERE id > 50 ORDER BY id", limit=20).json()
            assert body["items"][0]["id"] == "51"
            emu.settings.row_cap_offset_behavior = "empty"
            body = suiteql(session, emu.url, "SELECT id FROM customer ORDER BY id", limit=10, offset=50).json()
            assert body["items"] == [] and body["hasMore"] is False


class TestFunctionsAndJoins:
    def test_raw_dates_and_to_char(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        q = ("SELECT lastmodifieddate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lmd "
             "FROM customer WHERE id = 1")
        item = suiteql(session, emulator.url, q).json()["items"][0]
        assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", item["lastmodifieddate"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", item["lmd"])
        y, m, d = item["lmd"][:10].split("-")
        assert item["lastmodifieddate"] == f"{int(m)}/{int(d)}/{y}"

    def test_date_format_setting(self, fresh: NetSuiteEmulator) -> None:
        fresh.settings.date_format = "D/M/YYYY"
        item = suiteql(tba_session(fresh.settings), fresh.url,
                       "SELECT datecreated, TO_CHAR(datecreated, 'YYYY-MM-DD') d FROM customer WHERE id = 1"
                       ).json()["items"][0]
        y, m, d = item["d"].split("-")
        assert item["datecreated"] == f"{int(d)}/{int(m)}/{y}"

    def test_to_date_and_to_timestamp_filters(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        q_all = "SELECT COUNT(*) AS n FROM customer"
        q_new = ("SELECT COUNT(*) AS n FROM customer WHERE lastmodifieddate > "
                 "TO_TIMESTAMP('2000-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')")
        q_none = "SELECT COUNT(*) AS n FROM customer WHERE datecreated >= TO_DATE('2999-01-01', 'YYYY-MM-DD')"
        n_all = suiteql(session, emulator.url, q_all).json()["items"][0]["n"]
        assert suiteql(session, emulator.url, q_new).json()["items"][0]["n"] == n_all
        assert suiteql(session, emulator.url, q_none).json()["items"][0]["n"] == "0"

    def test_builtin_df(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        q = ("SELECT t.id, BUILTIN.DF(t.entity) AS customer, BUILTIN.DF(t.status) AS status, t.status AS code, "
             "BUILTIN.DF(tl.subsidiary) AS subsidiary FROM transaction t JOIN transactionline tl "
             "ON tl.transaction = t.id AND tl.mainline = 'T' WHERE t.type = 'CustInvc' ORDER BY t.id")
        item = suiteql(session, emulator.url, q, limit=1).json()["items"][0]
        assert item["status"] in ("Invoice : Open", "Invoice : Paid In Full")
        assert item["subsidiary"].startswith("Acme ")
        entity = suiteql(session, emulator.url,
                         f"SELECT entity FROM transaction WHERE id = {item['id']}").json()["items"][0]["entity"]
        record = session.get(f"{emulator.url}{RECORD}/customer/{entity}").json()
        assert item["customer"] == record.get("companyName") or item["customer"].startswith(record["firstName"])

    def test_join_group_by_and_aggregates(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        q = ("SELECT tl.subsidiary, COUNT(*) AS invoices, SUM(t.amountremaining) AS open_amount "
             "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id AND tl.mainline = 'T' "
             "WHERE t.type = 'CustInvc' GROUP BY tl.subsidiary ORDER BY tl.subsidiary")
        items = suiteql(session, emulator.url, q).json()["items"]
        assert items and all({"subsidiary", "invoices"} <= set(i) for i in items)
        total = sum(int(i["invoices"]) for i in items)
        n = suiteql(session, emulator.url, "SELECT COUNT(*) FROM transaction WHERE type = 'CustInvc'").json()
        assert n["items"][0]["expr1"] == str(total)

    def test_subquery_and_customer_subsidiary_join(self, emulator: NetSuiteEmulator,
                                                   session: requests.Session) -> None:
        q = ("SELECT c.id FROM customer c JOIN customersubsidiaryrelationship csr ON csr.entity = c.id "
             "WHERE csr.subsidiary = 3 AND c.id IN (SELECT entity FROM transaction) ORDER BY c.id")
        r = suiteql(session, emulator.url, q)
        assert r.status_code == 200 and r.json()["count"] > 0

    def test_boolean_literals(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        inactive = suiteql(session, emulator.url, "SELECT id FROM customer WHERE isinactive = 'T'").json()
        assert inactive["count"] > 0 and all(int(i["id"]) % 20 == 0 for i in inactive["items"]
                                             if int(i["id"]) <= 300)

    def test_lastmodifieddate_moves_on_write(self, fresh: NetSuiteEmulator) -> None:
        session = tba_session(fresh.settings)
        q = "SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lmd FROM customer WHERE id = 2"
        before = suiteql(session, fresh.url, q).json()["items"][0]["lmd"]
        fresh.advance_time(5)
        session = tba_session(fresh.settings)
        session.auth = None
        token = fresh.issue_access_token()
        session.headers["Authorization"] = f"Bearer {token}"
        assert session.patch(f"{fresh.url}{RECORD}/customer/2", json={"comments": "x"}).status_code == 204
        after = suiteql(session, fresh.url, q).json()["items"][0]["lmd"]
        assert after > before


class TestErrors:
    @pytest.mark.parametrize(
        ("q", "detail"),
        [
            ("SELECT foo FROM customer",
             PREFIX + "Unknown identifier 'foo'. Available identifiers are: {customer=customer}."),
            ("SELECT id FROM employee", PREFIX + "Invalid search type: employee."),
            ("SELECT c.bar FROM customer c",
             PREFIX + "Unknown identifier 'c.bar'. Available identifiers are: {c=customer}."),
        ],
    )
    def test_error_details(self, emulator: NetSuiteEmulator, session: requests.Session, q: str, detail: str) -> None:
        r = suiteql(session, emulator.url, q)
        assert r.status_code == 400 and error_code(r) == "INVALID_PARAMETER"
        assert error_detail(r) == detail
        assert r.json()["o:errorDetails"][0]["o:errorQueryParam"] == "q"

    def test_parse_error(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = suiteql(session, emulator.url, "SELEC id FRM customer")
        assert r.status_code == 400 and error_detail(r).startswith(PREFIX)

    def test_non_select_refused(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        assert suiteql(session, emulator.url, "DELETE FROM customer").status_code == 400

    def test_missing_q(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.post(emulator.url + SUITEQL, json={"query": "SELECT 1 FROM dual"})
        assert r.status_code == 400 and error_code(r) == "INVALID_CONTENT"
