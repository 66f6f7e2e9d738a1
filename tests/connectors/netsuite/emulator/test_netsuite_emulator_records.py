"""Record API: CRUD, upsert, list and q filters, transform, metadata, async, errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import requests
from netsuite_emulator_support import RECORD, error_code, error_detail, suiteql, tba_session

from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator


def _customer(**extra: object) -> dict:
    body = {"entityId": f"E-{uuid.uuid4().hex[:10]}", "companyName": "Emu Test Co", "subsidiary": {"id": "2"}}
    body.update(extra)
    return body


def _create(session: requests.Session, url: str, rtype: str, body: dict) -> str:
    r = session.post(f"{url}{RECORD}/{rtype}", json=body)
    assert r.status_code == 204, r.text
    return r.headers["Location"].rsplit("/", 1)[1]


class TestCreateAndGet:
    def test_create_returns_204_with_lowercase_location(self, emulator: NetSuiteEmulator,
                                                        session: requests.Session) -> None:
        r = session.post(emulator.url + RECORD + "/salesOrder", json={
            "entity": {"id": "3"}, "item": {"items": [{"item": {"id": "1"}, "quantity": 2, "rate": 10}]}})
        assert r.status_code == 204
        assert r.content == b"" and "Content-Type" not in r.headers
        assert r.headers["Location"].startswith(emulator.url + RECORD + "/salesorder/")
        got = session.get(r.headers["Location"])
        assert got.status_code == 200
        assert got.json()["total"] == 20.0

    def test_get_customer_shape(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        rid = _create(session, emulator.url, "customer", _customer(email="a@b.example", isPerson=False))
        body = session.get(f"{emulator.url}{RECORD}/customer/{rid}").json()
        assert body["id"] == rid and body["companyName"] == "Emu Test Co"
        assert body["isinactive"] is False and "isInactive" not in body
        assert body["subsidiary"]["id"] == "2" and body["subsidiary"]["refName"] == "Acme US"
        assert body["subsidiary"]["links"][0]["rel"] == "self"
        assert body["addressbook"] == {"links": [{"rel": "self",
                                                  "href": f"{emulator.url}{RECORD}/customer/{rid}/addressbook"}]}
        assert body["dateCreated"].endswith(":00Z") and "T" in body["dateCreated"]
        assert "externalId" not in body  # empty fields are omitted

    def test_fields_parameter_limits_output(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        body = session.get(f"{emulator.url}{RECORD}/customer/1", params={"fields": "companyName,email"}).json()
        assert set(body) <= {"links", "id", "companyName", "email"}

    def test_expand_and_simple_enum(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        inv = session.get(f"{emulator.url}{RECORD}/invoice/25").json()
        assert inv["item"] == {"links": [{"rel": "self", "href": f"{emulator.url}{RECORD}/invoice/25/item"}]}
        assert set(inv["status"]) == {"id", "refName"}
        expanded = session.get(f"{emulator.url}{RECORD}/invoice/25",
                               params={"expandSubResources": "true", "simpleEnumFormat": "true"}).json()
        assert isinstance(expanded["status"], str)
        lines = expanded["item"]["items"]
        assert lines and {"item", "quantity", "rate", "amount", "line"} <= set(lines[0])
        assert expanded["item"]["totalResults"] == len(lines)

    def test_eid_works_as_id(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        rid = _create(session, emulator.url, "customer", _customer(externalId="EXT-GET-1"))
        body = session.get(f"{emulator.url}{RECORD}/customer/eid:EXT-GET-1").json()
        assert body["id"] == rid and body["externalId"] == "EXT-GET-1"

    def test_date_fields_accept_iso_datetimes(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        rid = _create(session, emulator.url, "invoice", {
            "entity": {"id": "4"}, "tranDate": "2024-01-15T00:00:00.000000Z", "dueDate": "2024-02-14T00:00:00+00:00",
            "item": {"items": [{"item": {"id": "2"}, "quantity": 1, "rate": 5}]}})
        inv = session.get(f"{emulator.url}{RECORD}/invoice/{rid}").json()
        assert inv["tranDate"] == "2024-01-15" and inv["dueDate"] == "2024-02-14"
        assert inv["status"]["refName"] == "Open" and inv["amountRemaining"] == 5.0


class TestValidation:
    def test_unknown_field_is_a_warning_header(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.post(emulator.url + RECORD + "/customer", json=_customer(internalId="5"))
        assert r.status_code == 204
        assert r.headers["X-NetSuite-PropertyValidation"].startswith("Unknown field name internalId.")

    def test_unknown_field_under_error_validation(self, emulator: NetSuiteEmulator,
                                                  session: requests.Session) -> None:
        r = session.post(emulator.url + RECORD + "/customer", json=_customer(bogus=1),
                         headers={"X-NetSuite-PropertyNameValidation": "Error"})
        assert r.status_code == 400 and error_code(r) == "NONEXISTENT_FIELD"

    def test_invoice_without_lines(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.post(emulator.url + RECORD + "/invoice", json={"entity": {"id": "3"}})
        assert r.status_code == 400 and error_code(r) == "USER_ERROR"
        assert error_detail(r) == ("Error while accessing a resource. You must enter at least one line item "
                                   "for this transaction.")
        assert r.headers["Connection"] == "close"
        assert r.json()["type"] == "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1"

    def test_customer_missing_required_fields(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.post(emulator.url + RECORD + "/customer", json={"subsidiary": {"id": "2"}})
        assert r.status_code == 400 and error_code(r) == "USER_ERROR"
        assert "Please enter value(s) for: Company Name, Customer ID" in error_detail(r)

    def test_bad_reference_is_invalid_content_with_path(self, emulator: NetSuiteEmulator,
                                                        session: requests.Session) -> None:
        r = session.post(emulator.url + RECORD + "/customer", json=_customer(subsidiary={"id": "999"}))
        assert r.status_code == 400 and error_code(r) == "INVALID_CONTENT"
        assert r.json()["o:errorDetails"][0]["o:errorPath"] == "subsidiary"
        r = session.post(emulator.url + RECORD + "/invoice", json={
            "entity": {"id": "3"}, "item": {"items": [{"item": {"id": "9999"}, "quantity": 1}]}})
        assert r.json()["o:errorDetails"][0]["o:errorPath"] == "item.items[0].item"

    def test_wrong_value_type(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.post(emulator.url + RECORD + "/customer", json=_customer(isPerson="yes"))
        assert r.status_code == 400 and error_code(r) == "INVALID_CONTENT"

    def test_non_json_body(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.post(emulator.url + RECORD + "/customer", data=b"{nope",
                         headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and error_detail(r) == "Invalid content in the request body."

    def test_unknown_record_type(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.get(emulator.url + RECORD + "/file/1")
        assert r.status_code == 404 and error_detail(r) == "Record type 'file' does not exist."

    def test_unknown_id(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.get(emulator.url + RECORD + "/customer/999999")
        assert r.status_code == 404 and error_code(r) == "NONEXISTENT_ID"
        assert error_detail(r) == "The record instance does not exist. Provide a valid record instance ID."

    def test_unknown_transaction_id_answers_400_like_live_netsuite(
        self, emulator: NetSuiteEmulator, session: requests.Session
    ) -> None:
        r = session.get(emulator.url + RECORD + "/invoice/999999")
        assert r.status_code == 400
        assert error_detail(r) == "Error while accessing a resource. Transaction type specified is incorrect."

    def test_duplicate_entity_id(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        body = _customer()
        _create(session, emulator.url, "customer", body)
        r = session.post(emulator.url + RECORD + "/customer", json=body)
        assert r.status_code == 400 and "This entity already exists." in error_detail(r)


class TestUpdateUpsertDelete:
    def test_patch_keeps_omitted_fields_and_null_clears(self, emulator: NetSuiteEmulator,
                                                        session: requests.Session) -> None:
        rid = _create(session, emulator.url, "customer", _customer(email="x@y.example", phone="123"))
        before = session.get(f"{emulator.url}{RECORD}/customer/{rid}").json()
        emulator.advance_time(61)
        r = session.patch(f"{emulator.url}{RECORD}/customer/{rid}", json={"email": None, "comments": "hi"})
        assert r.status_code == 204 and r.headers["Location"].endswith(f"/customer/{rid}")
        after = session.get(f"{emulator.url}{RECORD}/customer/{rid}").json()
        assert "email" not in after and after["phone"] == "123" and after["comments"] == "hi"
        assert after["lastModifiedDate"] > before["lastModifiedDate"]

    def test_replace_selected_fields(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        rid = _create(session, emulator.url, "customer", _customer(phone="555", comments="keep"))
        r = session.patch(f"{emulator.url}{RECORD}/customer/{rid}", params={
            "replace": "phone", "replaceSelectedFields": "true"}, json={"comments": "new"})
        assert r.status_code == 204
        after = session.get(f"{emulator.url}{RECORD}/customer/{rid}").json()
        assert "phone" not in after and after["comments"] == "new"

    def test_sublist_merge_and_replace(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        rid = _create(session, emulator.url, "invoice", {"entity": {"id": "5"}, "item": {"items": [
            {"item": {"id": "1"}, "quantity": 1, "rate": 10}, {"item": {"id": "2"}, "quantity": 1, "rate": 20}]}})
        url = f"{emulator.url}{RECORD}/invoice/{rid}"
        session.patch(url, json={"item": {"items": [{"item": {"id": "3"}, "quantity": 1, "rate": 5}]}})
        assert session.get(url).json()["total"] == 35.0
        session.patch(url, params={"replace": "item"},
                      json={"item": {"items": [{"item": {"id": "3"}, "quantity": 2, "rate": 5}]}})
        body = session.get(url, params={"expandSubResources": "true"}).json()
        assert body["total"] == 10.0 and len(body["item"]["items"]) == 1
        r = session.patch(url, params={"replace": "item"}, json={"item": {"items": []}})
        assert r.status_code == 400 and "at least one line item" in error_detail(r)

    def test_put_eid_upserts_without_duplicates(self, emulator: NetSuiteEmulator,
                                                session: requests.Session) -> None:
        url = f"{emulator.url}{RECORD}/customer/eid:UPSERT-1"
        body = _customer()
        assert session.put(url, json=body).status_code == 204
        assert session.put(url, json={**body, "companyName": "Renamed"}).status_code == 204
        rows = suiteql(session, emulator.url, "SELECT id, companyname FROM customer WHERE externalid = 'UPSERT-1'")
        assert rows.json()["count"] == 1 and rows.json()["items"][0]["companyname"] == "Renamed"

    def test_delete_records_deletedrecord_row(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        rid = _create(session, emulator.url, "customer", _customer(externalId="DEL-1"))
        r = session.delete(f"{emulator.url}{RECORD}/customer/{rid}")
        assert r.status_code == 204
        assert session.get(f"{emulator.url}{RECORD}/customer/{rid}").status_code == 404
        rows = suiteql(session, emulator.url,
                       f"SELECT recordid, recordtypeid, deleteddate FROM deletedrecord WHERE recordid = {rid}")
        item = rows.json()["items"][0]
        assert item["recordtypeid"] == "customer"
        today = datetime.now(UTC)
        assert item["deleteddate"] == f"{today.month}/{today.day}/{today.year}"

    def test_delete_customer_with_transactions_is_refused(self, emulator: NetSuiteEmulator,
                                                          session: requests.Session) -> None:
        entity = suiteql(session, emulator.url, "SELECT entity FROM transaction ORDER BY id").json()["items"][0]
        r = session.delete(f"{emulator.url}{RECORD}/customer/{entity['entity']}")
        assert r.status_code == 400 and error_code(r) == "USER_ERROR"

    def test_transform_sales_order_to_invoice(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        so = _create(session, emulator.url, "salesOrder", {"entity": {"id": "6"}, "item": {"items": [
            {"item": {"id": "1"}, "quantity": 3, "rate": 7}]}})
        r = session.post(f"{emulator.url}{RECORD}/salesOrder/{so}/!transform/invoice", json={"memo": "billed"})
        assert r.status_code == 204
        assert "/invoice/" in r.headers["Location"]
        inv = session.get(r.headers["Location"]).json()
        assert inv["createdFrom"]["id"] == so and inv["total"] == 21.0 and inv["memo"] == "billed"
        assert session.get(f"{emulator.url}{RECORD}/salesOrder/{so}").json()["status"]["refName"] == "Billed"
        again = session.post(f"{emulator.url}{RECORD}/salesOrder/{so}/!transform/invoice")
        assert again.status_code == 400


class TestList:
    def test_collection_envelope_and_paging(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.get(emulator.url + RECORD + "/customer", params={"limit": 10, "offset": 10})
        body = r.json()
        assert list(body) == ["links", "count", "hasMore", "items", "offset", "totalResults"]
        assert body["count"] == 10 and body["offset"] == 10 and body["hasMore"] is True
        assert [link["rel"] for link in body["links"]] == ["next", "self"]
        assert body["links"][0]["href"].endswith("limit=10&offset=20")
        assert set(body["items"][0]) == {"links", "id"}

    def test_offset_must_be_multiple_of_limit(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.get(emulator.url + RECORD + "/customer", params={"limit": 10, "offset": 5})
        assert r.status_code == 400 and error_code(r) == "INVALID_PARAMETER"

    def test_limit_above_cap(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.get(emulator.url + RECORD + "/customer", params={"limit": 1001})
        assert r.status_code == 400

    @pytest.mark.parametrize(
        "q",
        [
            'companyName CONTAIN "Peak"',
            'companyName START_WITH "Blue"',
            'entityId IS "CUST000007"',
            "id EQUAL 7",
            "id GREATER 290",
            "isinactive IS true",
            'lastModifiedDate AFTER "1/1/2020"',
            'dateCreated ON_OR_AFTER "01/01/2020" AND id LESS 20',
            '(id EQUAL 1 OR id EQUAL 2) AND isinactive IS false',
            "subsidiary ANY_OF [2, 3]",
        ],
    )
    def test_q_filters_match_suiteql(self, emulator: NetSuiteEmulator, session: requests.Session, q: str) -> None:
        r = session.get(emulator.url + RECORD + "/customer", params={"q": q, "limit": 1000})
        assert r.status_code == 200, r.text
        assert r.json()["totalResults"] > 0

    def test_q_exact_semantics(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        ids = session.get(emulator.url + RECORD + "/customer", params={"q": "(id EQUAL 1 OR id EQUAL 2)"}).json()
        assert [i["id"] for i in ids["items"]] == ["1", "2"]

    def test_q_unparseable_date(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.get(emulator.url + RECORD + "/customer", params={"q": 'lastModifiedDate AFTER "2024-01-15"'})
        assert r.status_code == 400 and error_detail(r).startswith("Unparseable date")

    def test_q_on_transactions_by_subsidiary(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        r = session.get(emulator.url + RECORD + "/invoice", params={"q": "subsidiary EQUAL 2"})
        assert r.status_code == 200 and r.json()["totalResults"] > 0


class TestMetadataAsyncPermissions:
    def test_metadata_catalog_and_schema(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        names = {i["name"] for i in session.get(emulator.url + RECORD + "/metadata-catalog").json()["items"]}
        assert {"customer", "invoice", "salesOrder", "subsidiary", "inventoryItem"} <= names
        r = session.get(emulator.url + RECORD + "/metadata-catalog/customer",
                        headers={"Accept": "application/schema+json"})
        assert r.headers["Content-Type"].startswith("application/schema+json")
        schema = r.json()
        assert schema["properties"]["companyName"]["type"] == "string"
        assert schema["properties"]["lastModifiedDate"]["format"] == "date-time"
        assert "entityId" in schema["required"]

    def test_async_job_and_idempotency(self, emulator: NetSuiteEmulator, session: requests.Session) -> None:
        key = str(uuid.uuid4())
        headers = {"Prefer": "respond-async", "X-NetSuite-Idempotency-Key": key}
        r = session.post(emulator.url + RECORD + "/customer", json=_customer(), headers=headers)
        assert r.status_code == 202 and r.headers["Preference-Applied"] == "respond-async"
        job_url = r.headers["Location"]
        assert "/services/rest/async/v1/job/" in job_url
        first = session.get(job_url).json()
        assert first["completed"] is False and first["progress"] == "pending"
        second = session.get(job_url).json()
        assert second["completed"] is True
        task = session.get(job_url + "/task").json()["items"][0]["links"][0]["href"]
        result = session.get(task + "/result")
        assert result.status_code == 204 and "/customer/" in result.headers["Location"]
        dup = session.post(emulator.url + RECORD + "/customer", json=_customer(), headers=headers)
        assert dup.status_code == 400 and error_code(dup) == "IDEMPOTENCY_ERROR"
        assert dup.json()["title"] == "Conflict" and dup.headers["Location"] == job_url

    def test_idempotency_key_ignored_without_async(self, emulator: NetSuiteEmulator,
                                                   session: requests.Session) -> None:
        headers = {"X-NetSuite-Idempotency-Key": str(uuid.uuid4())}
        assert session.post(emulator.url + RECORD + "/customer", json=_customer(), headers=headers).status_code == 204
        assert session.post(emulator.url + RECORD + "/customer", json=_customer(), headers=headers).status_code == 204

    def test_denied_record_type_is_403(self) -> None:
        settings = EmulatorSettings(customers=5, invoices=3, sales_orders=1,
                                    denied_record_types=frozenset({"invoice"}))
        with NetSuiteEmulator(settings) as emu:
            r = tba_session(settings).get(emu.url + RECORD + "/invoice/1")
            assert r.status_code == 403 and error_code(r) == "INSUFFICIENT_PERMISSION"
            assert "invoice" in error_detail(r)
