"""A Bulk API 2.0 read gives the JSON types a query read gives (`export.cast: schema` on the spec's `&bulk`):
its CSV values are converted by each stream's describe schema, custom `__c` numbers and checkboxes too;
the describe is asked for only when a job runs. Against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from salesforce_connector_support import jwt_config, route_counts

from connector_core.engine.connector import Connector
from connector_core.errors import ConnectorError
from connector_core.testing import read_stream
from connectors.crm.salesforce_emulator import SalesforceEmulator, api_bulk
from connectors.crm.salesforce_emulator.schema import Field
from connectors.crm.salesforce_emulator.values import to_csv

DEFAULT_ACCOUNT_FIELDS = [
    "Name", "AccountNumber", "Type", "Industry", "Phone", "Website", "BillingStreet", "BillingCity", "BillingPostalCode",
    "BillingCountry", "AnnualRevenue", "NumberOfEmployees", "OwnerId", "CreatedDate", "LastModifiedDate",
]
#: The defaults, a custom currency field (a `__c` number) and a custom checkbox.
ACCOUNT_FIELDS = [*DEFAULT_ACCOUNT_FIELDS, "Paid_Revenue__c", "Key_Account__c"]


def exact(records: list[dict[str, Any]]) -> bytes:
    """Records as the bytes a sync hashes: 100 and 100.0, or 1 and true, differ here though Python finds them equal."""
    return orjson.dumps(records, option=orjson.OPT_SORT_KEYS)


def test_a_bulk_read_gives_the_records_and_types_of_a_query_read_custom_fields_included(
    make_emulator: Callable[..., SalesforceEmulator], open_salesforce: Callable[..., Connector]
) -> None:
    emu = make_emulator(accounts=45)
    pages = open_salesforce(jwt_config(emu, account_fields=ACCOUNT_FIELDS))
    ids = [r["Id"] for r in read_stream(pages, "accounts").records]
    pages.call("update_record", {"type": "Account", "id": ids[0], "fields": {"Paid_Revenue__c": 1234.5, "Key_Account__c": True}})
    pages.call("update_record", {"type": "Account", "id": ids[1], "fields": {"Paid_Revenue__c": 2000, "AnnualRevenue": None}})
    by_query = read_stream(pages, "accounts").records
    by_job = read_stream(open_salesforce(jwt_config(emu, account_fields=ACCOUNT_FIELDS, bulk=True)), "accounts").records
    assert route_counts(emu)["bulk.create"] == 1
    assert exact(by_job) == exact(by_query)
    first, second = (next(r for r in by_job if r["Id"] == i) for i in ids[:2])
    assert first["Paid_Revenue__c"] == 1234.5 and first["Key_Account__c"] is True
    assert isinstance(second["Paid_Revenue__c"], float) and second["AnnualRevenue"] is None
    assert {r["Key_Account__c"] for r in by_job} == {True, False}  # every fourth seeded account is a key account
    assert sum(r["Paid_Revenue__c"] is None for r in by_job) == 43  # an empty cell is null, not 0 or ""
    assert all(isinstance(r["NumberOfEmployees"], int) and not isinstance(r["NumberOfEmployees"], bool) for r in by_job)


def test_deleted_and_calculated_fields_are_typed_on_the_other_bulk_streams(
    emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]
) -> None:
    for stream in ("opportunities", "opportunity_line_items", "contacts"):
        by_query = read_stream(open_salesforce(jwt_config(emu, include_deleted=True)), stream).records
        by_job = read_stream(open_salesforce(jwt_config(emu, include_deleted=True, bulk=True)), stream).records
        assert by_job and exact(by_job) == exact(by_query), stream
        assert all(r["IsDeleted"] is False for r in by_job)


def test_a_query_page_read_asks_for_no_describe_and_a_bulk_read_for_one(
    emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]
) -> None:
    read_stream(open_salesforce(jwt_config(emu, bulk_above=1000)), "accounts")  # counted, then read as pages
    counts = route_counts(emu)
    assert "bulk.create" not in counts and "sobjects.describe" not in counts
    bulk = open_salesforce(jwt_config(emu, bulk=True))
    read_stream(bulk, "accounts")
    read_stream(bulk, "accounts")  # a second read of the same run keeps the schema it fetched
    counts = route_counts(emu)
    assert counts["bulk.create"] == 2 and counts["sobjects.describe"] == 1


def test_a_value_the_schema_cannot_convert_stops_the_read_naming_stream_field_and_value(
    emu: SalesforceEmulator, open_salesforce: Callable[..., Connector], monkeypatch: pytest.MonkeyPatch
) -> None:
    def locale_formatted(field: Field, value: Any) -> str:  # a job that writes a German number
        return "1.234,50" if field.name == "AnnualRevenue" and value is not None else to_csv(field, value)

    monkeypatch.setattr(api_bulk, "to_csv", locale_formatted)
    with pytest.raises(ConnectorError) as caught:
        read_stream(open_salesforce(jwt_config(emu, bulk=True)), "accounts")
    message = str(caught.value)
    assert "salesforce.yaml:" in message  # where `cast: schema` is written (the &bulk anchor)
    assert "streams.accounts.export.cast: field 'AnnualRevenue' of record Id='001" in message
    assert "holds '1.234,50', which is not a number" in message
    assert "types 'AnnualRevenue' as number" in (caught.value.hint or "")
