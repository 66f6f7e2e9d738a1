"""``query`` and ``queryAll`` over HTTP: errors with positions, SOQL semantics, paging by ``nextRecordsUrl``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from salesforce_emulator_support import Org, start


def _error(reply: object) -> dict[str, object]:
    body = reply.json()  # type: ignore[attr-defined]
    assert isinstance(body, list) and len(body) == 1
    return body[0]  # type: ignore[no-any-return]


def test_malformed_query_is_a_400_naming_row_and_column(shared_org: Org) -> None:
    reply = shared_org.query("SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Type = 'c'")
    assert reply.status_code == 400
    error = _error(reply)
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:56" in str(error["message"])
    assert "unexpected token: 'OR'" in str(error["message"])


def test_unknown_field_and_type_are_named(shared_org: Org) -> None:
    field = _error(shared_org.query("SELECT Id, Nmae FROM Account"))
    assert field["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nmae' on entity 'Account'" in str(field["message"])
    assert "Row:1:Column:12" in str(field["message"])
    kind = _error(shared_org.query("SELECT Id FROM Acount"))
    assert kind["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Acount' is not supported" in str(kind["message"])


def test_a_quoted_datetime_is_refused_as_salesforce_does(shared_org: Org) -> None:
    error = _error(shared_org.query("SELECT Id FROM Account WHERE SystemModstamp > '2024-01-01T00:00:00Z'"))
    assert error["errorCode"] == "INVALID_FIELD"
    assert "must be of type dateTime and should not be enclosed in quotes" in str(error["message"])


def test_records_carry_attributes_and_nested_parents(shared_org: Org) -> None:
    rows = shared_org.records("SELECT Id, Name, Account.Name, Account.Owner.Username FROM Contact LIMIT 3")
    assert len(rows) == 3
    row = rows[0]
    assert row["attributes"] == {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{row['Id']}"}
    assert list(row) == ["attributes", "Id", "Name", "Account"]
    assert row["Account"]["attributes"]["type"] == "Account"
    assert set(row["Account"]) == {"attributes", "Name", "Owner"}
    assert row["Account"]["Owner"]["Username"].endswith("example.com")


def test_string_equality_and_like_ignore_case(shared_org: Org) -> None:
    name = shared_org.records("SELECT Name FROM Account LIMIT 1")[0]["Name"]
    exact = shared_org.records(f"SELECT Id FROM Account WHERE Name = '{name.upper()}'")
    assert exact and all(r["Id"] for r in exact)
    like = shared_org.records(f"SELECT Name FROM Account WHERE Name LIKE '{name[:4].lower()}%'")
    assert {r["Name"] for r in like} >= {name}
    assert all(r["Name"].lower().startswith(name[:4].lower()) for r in like)


def test_datetime_boundaries_are_exact(org: Org) -> None:
    org.control("POST", "/records/Account", [
        {"Name": "Before", "SystemModstamp": "2025-06-01T11:59:59.999Z"},
        {"Name": "At", "SystemModstamp": "2025-06-01T12:00:00.000Z"},
        {"Name": "After", "SystemModstamp": "2025-06-01T12:00:00.001Z"},
    ])
    base = "SELECT Name FROM Account WHERE Name IN ('Before', 'At', 'After') AND SystemModstamp "
    assert [r["Name"] for r in org.records(base + ">= 2025-06-01T12:00:00Z ORDER BY SystemModstamp")] == ["At", "After"]
    assert [r["Name"] for r in org.records(base + "> 2025-06-01T12:00:00.000+0000")] == ["After"]
    assert [r["Name"] for r in org.records(base + "< 2025-06-01T14:00:00+02:00")] == ["Before"]


def test_nulls_order_first_ascending_and_last_descending(org: Org) -> None:
    org.control("POST", "/records/Account", [{"Name": "zz null phone"}, {"Name": "zz phone", "Phone": "1"}])
    soql = "SELECT Name FROM Account WHERE Name LIKE 'zz%' ORDER BY Phone"
    assert [r["Name"] for r in org.records(soql)] == ["zz null phone", "zz phone"]
    assert [r["Name"] for r in org.records(soql + " DESC")] == ["zz phone", "zz null phone"]
    assert [r["Name"] for r in org.records(soql + " DESC NULLS FIRST")] == ["zz null phone", "zz phone"]


def test_null_comparisons_and_numbers(shared_org: Org) -> None:
    every = shared_org.records("SELECT Id, Amount FROM Opportunity")
    positive = shared_org.records("SELECT Id FROM Opportunity WHERE Amount > 0")
    assert len(positive) == sum(1 for r in every if r["Amount"] is not None and r["Amount"] > 0)
    with_null = shared_org.records("SELECT Id FROM Account WHERE Website = null")
    without = shared_org.records("SELECT Id FROM Account WHERE Website != null")
    assert len(with_null) + len(without) == len(shared_org.records("SELECT Id FROM Account"))


def test_count_limit_and_offset(shared_org: Org) -> None:
    total = shared_org.query("SELECT COUNT() FROM Account").json()
    assert total["records"] == [] and total["done"] is True and total["totalSize"] == 30
    ids = [r["Id"] for r in shared_org.records("SELECT Id FROM Account ORDER BY Id")]
    page = shared_org.records("SELECT Id FROM Account ORDER BY Id LIMIT 5 OFFSET 10")
    assert [r["Id"] for r in page] == ids[10:15]


def test_deleted_rows_only_through_query_all(org: Org) -> None:
    target = org.records("SELECT Id FROM Account LIMIT 1")[0]["Id"]
    assert org.delete(f"/sobjects/Account/{target}").status_code == 204
    soql = f"SELECT Id, IsDeleted FROM Account WHERE Id = '{target}'"
    assert org.records(soql) == []
    assert [r["IsDeleted"] for r in org.records(soql, all_rows=True)] == [True]
    assert org.records("SELECT Id FROM Account WHERE IsDeleted = true", all_rows=True)[0]["Id"] == target


@pytest.fixture(scope="module")
def big_org() -> Iterator[Org]:
    emulator = start(accounts=4500, contacts=0, opportunities=0)
    try:
        yield Org(emulator)
    finally:
        emulator.stop()


def test_pages_hold_at_most_2000_rows_and_follow_next_records_url(big_org: Org) -> None:
    first = big_org.query("SELECT Id FROM Account").json()
    assert first["totalSize"] == 4500 and first["done"] is False and len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    second = big_org.http.get(big_org.url + first["nextRecordsUrl"]).json()
    third = big_org.http.get(big_org.url + second["nextRecordsUrl"]).json()
    assert (len(second["records"]), second["done"]) == (2000, False)
    assert (len(third["records"]), third["done"], "nextRecordsUrl" in third) == (500, True, False)
    ids = [r["Id"] for page in (first, second, third) for r in page["records"]]
    assert len(set(ids)) == 4500


def test_batch_size_option_pages_smaller(big_org: Org) -> None:
    reply = big_org.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=500"})
    assert len(reply.json()["records"]) == 500
    tiny = big_org.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(tiny.json()["records"]) == 200  # the documented minimum


def test_a_used_up_or_idle_locator_is_invalid(big_org: Org) -> None:
    first = big_org.query("SELECT Id FROM Account LIMIT 2500").json()
    big_org.emulator.advance_time(16 * 60)
    expired = big_org.http.get(big_org.url + first["nextRecordsUrl"])
    assert expired.status_code == 400 and _error(expired)["errorCode"] == "INVALID_QUERY_LOCATOR"
