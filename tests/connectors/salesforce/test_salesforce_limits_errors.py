"""The org's API allowance and Salesforce's error shape, through the `salesforce` spec against the emulator.

The allowance (``Sforce-Limit-Info: api-usage=N/M`` on every reply) is read after each reply; a run stops
before spending the configured reserve, and stops at once, without retrying, on REQUEST_LIMIT_EXCEEDED.
Errors ``[{"message", "errorCode", "fields"}]`` become the framework's error classes with the API's words.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from salesforce_connector_support import control, jwt_config, route_counts

from connector_core.engine.connector import Connector
from connector_core.errors import AuthError, FatalHTTPError, RetriableHTTPError
from connector_core.testing import read_stream
from connectors.crm.salesforce_emulator import SalesforceEmulator


def used(emu: SalesforceEmulator) -> int:
    return int(control(emu, "GET", "/limits")["used"])


def test_a_run_stops_before_the_reserve_of_the_allowance(
    make_emulator: Callable[..., SalesforceEmulator], open_salesforce: Callable[..., Connector]
) -> None:
    emu = make_emulator(accounts=450, max_page_size=200)
    control(emu, "POST", "/limits", {"used": 988, "limit": 1000})
    connector = open_salesforce(jwt_config(emu, api_reserve=10))
    records = []
    with pytest.raises(RetriableHTTPError) as caught:
        records.extend(connector.read("accounts"))
    # page 1 leaves 11 (> 10: go on), page 2 leaves 10: the third page is never asked for
    assert len(records) == 400
    assert used(emu) == 990 and route_counts(emu)["query.next"] == 1
    message = str(caught.value)
    assert "10 requests of 1,000 left (Sforce-Limit-Info)" in message and "no further request was sent" in message
    assert "api_reserve" in message  # the spec's hint says what to change


def test_reading_the_allowance_costs_nothing_while_it_lasts(salesforce: Connector, emu: SalesforceEmulator) -> None:
    read_stream(salesforce, "accounts")
    read_stream(salesforce, "users")
    assert used(emu) == 2  # one call per query: the header rides on the replies


def test_request_limit_exceeded_stops_at_once_without_retries(
    emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]
) -> None:
    control(emu, "POST", "/limits", {"used": 1000, "limit": 1000})
    connector = open_salesforce(jwt_config(emu, api_reserve=0))
    with pytest.raises(AuthError) as caught:
        list(connector.read("accounts"))
    message = str(caught.value)
    assert "REQUEST_LIMIT_EXCEEDED" in message and "TotalRequests Limit exceeded." in message
    assert "rolling 24 hours" in message and "ConcurrentPerOrgLongTxn" in message
    assert emu.stats.snapshot()["by_error_code"] == {"REQUEST_LIMIT_EXCEEDED": 1}  # asked once, not again


def test_malformed_query_keeps_salesforce_words(salesforce: Connector) -> None:
    with pytest.raises(FatalHTTPError) as caught:
        salesforce.call("query", {"soql": "SELECT Id FROM Account WHERE Name = 'x' GROUP BY"})
    assert not isinstance(caught.value, AuthError)
    assert caught.value.status == 400
    assert str(caught.value).startswith("Salesforce MALFORMED_QUERY: ")


def test_a_field_error_names_the_fields(salesforce: Connector) -> None:
    with pytest.raises(FatalHTTPError) as caught:
        salesforce.call("create_record", {"type": "Opportunity", "fields": {"Name": "No stage", "CurrencyIsoCode": "USD"}})
    message = str(caught.value)
    assert message.startswith("Salesforce REQUIRED_FIELD_MISSING: ") and "(fields: " in message and "StageName" in message


def test_an_unknown_field_is_invalid_field(salesforce: Connector) -> None:
    with pytest.raises(FatalHTTPError) as caught:
        salesforce.call("create_record", {"type": "Account", "fields": {"Name": "X", "Colour__c": "blue"}})
    assert "INVALID_FIELD" in str(caught.value) and "Colour__c" in str(caught.value)


def test_a_missing_record_is_not_found(salesforce: Connector) -> None:
    with pytest.raises(FatalHTTPError) as caught:
        salesforce.call("update_record", {"type": "Account", "id": "001000000000000AAA", "fields": {"Name": "X"}})
    assert caught.value.status == 404 and "NOT_FOUND" in str(caught.value)


def test_an_id_with_a_wrong_checksum_never_leaves(salesforce: Connector, emu: SalesforceEmulator) -> None:
    with pytest.raises(Exception) as caught:
        salesforce.call("update_record", {"type": "Account", "id": "001000000000000ZZZ", "fields": {"Name": "X"}})
    assert "checksum" in str(caught.value)
    assert route_counts(emu).get("sobjects.update", 0) == 0


def test_server_errors_are_retried(salesforce: Connector, emu: SalesforceEmulator) -> None:
    salesforce.check()
    emu.faults.add("status", status=503, count=2, path_prefix="/services/data/")
    assert len(list(salesforce.read("users"))) == emu.settings.users
