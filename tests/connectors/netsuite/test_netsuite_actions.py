"""Every action of the NetSuite connector (seed 001) with each of its inputs, over loopback HTTP."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from connector_core.errors import FatalHTTPError, OperationError, RetriableHTTPError

RECORD = "/services/rest/record/v1"


def _new_customer(env: Any, entity_id: str, **fields: Any) -> str:
    payload = {"entityId": entity_id, "companyName": f"{entity_id} Ltd", "subsidiary": {"id": "1"}, **fields}
    created = env.open().call("create_record", {"record_type": "customer", "payload": payload})
    return str(created["id"])


def _recent(env: Any, route: str | None = None) -> list[dict[str, Any]]:
    return [r for r in env.stats()["recent"] if route is None or r["route"] == route]


class TestCreateGetListUpdateDelete:
    def test_create_record_returns_the_id_from_location(self, shared: Any) -> None:
        result = shared.open().call("create_record", {
            "record_type": "customer",
            "payload": {"entityId": "NEW-1", "companyName": "New One", "subsidiary": {"id": "2"}},
        })
        assert result["status"] == 204
        assert result["body"] is None
        record = shared.emulator.get_record("customer", result["id"])
        assert record["companyName"] == "New One"
        assert record["subsidiary"]["id"] == "2"

    def test_get_record_fields_as_list_or_text(self, shared: Any) -> None:
        connector = shared.open()
        body = connector.call("get_record", {"record_type": "customer", "record_id": 1, "fields": ["companyName", "email"]})["body"]
        assert set(body) - {"links", "id"} == {"companyName", "email"}
        body = connector.call("get_record", {"record_type": "customer", "record_id": "1", "fields": "phone"})["body"]
        assert set(body) - {"links", "id"} == {"phone"}
        whole = connector.call("get_record", {"record_type": "customer", "record_id": 1})["body"]
        assert {"companyName", "email", "subsidiary", "entityStatus"} <= set(whole)

    def test_get_record_expand_sub_resources_and_simple_enum_format(self, shared: Any) -> None:
        connector = shared.open()
        invoice = shared.emulator.suiteql("SELECT id FROM transaction WHERE type = 'CustInvc' ORDER BY id")[0]["id"]
        plain = connector.call("get_record", {"record_type": "invoice", "record_id": invoice})["body"]
        assert "items" not in plain["item"]  # a link stub
        assert isinstance(plain["status"], dict) and {"id", "refName"} <= set(plain["status"])
        rich = connector.call("get_record", {
            "record_type": "invoice", "record_id": invoice, "expand_sub_resources": True, "simple_enum_format": True,
        })["body"]
        assert rich["item"]["items"] and all("quantity" in line for line in rich["item"]["items"])
        assert rich["status"] == plain["status"]["id"]
        sent = _recent(shared, "record")[-1]["query"]
        assert "expandSubResources=true" in sent and "simpleEnumFormat=true" in sent

    def test_get_record_by_external_id(self, shared: Any) -> None:
        shared.open().call("upsert_customer", {"external_id": "EXT-GET-1", "payload": {"entityId": "EXT-GET-1", "companyName": "By Eid", "subsidiary": {"id": "1"}}})
        body = shared.open().call("get_record", {"record_type": "customer", "record_id": "eid:EXT-GET-1"})["body"]
        assert body["companyName"] == "By Eid"

    def test_list_records_query_limit_offset(self, shared: Any) -> None:
        connector = shared.open()
        first = connector.call("list_records", {"record_type": "customer", "limit": 10})["body"]
        assert first["count"] == 10 and first["hasMore"] is True and first["offset"] == 0
        second = connector.call("list_records", {"record_type": "customer", "limit": 10, "offset": 10})["body"]
        assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
        default = connector.call("list_records", {"record_type": "subsidiary"})
        assert "limit=1000" in _recent(shared, "record")[-1]["query"]
        assert default["body"]["totalResults"] == 3
        _new_customer(shared, "QUERY-ME-1", email="zz-query-me@example.com")
        found = connector.call("list_records", {"record_type": "customer", "query": 'email START_WITH "zz-query-me"'})["body"]
        assert found["totalResults"] == 1

    def test_list_records_offset_not_a_multiple_of_limit_is_refused(self, shared: Any) -> None:
        with pytest.raises(FatalHTTPError, match="INVALID_PARAMETER") as caught:
            shared.open().call("list_records", {"record_type": "customer", "limit": 10, "offset": 5})
        assert "offset" in caught.value.message

    def test_update_record_payload_replace_and_replace_selected_fields(self, shared: Any) -> None:
        connector = shared.open()
        cid = _new_customer(shared, "UPD-1", email="upd@example.com", phone="+1-555-0100")
        result = connector.call("update_record", {"record_type": "customer", "record_id": cid, "payload": {"companyName": "Renamed"}})
        assert result["status"] == 204 and result["id"] == cid
        record = shared.emulator.get_record("customer", cid)
        assert record["companyName"] == "Renamed" and record["email"] == "upd@example.com"
        connector.call("update_record", {
            "record_type": "customer", "record_id": cid, "payload": {}, "replace": ["email", "phone"],
            "replace_selected_fields": True,
        })
        record = shared.emulator.get_record("customer", cid)
        assert "email" not in record and "phone" not in record and record["companyName"] == "Renamed"
        assert "replace=email%2Cphone" in _recent(shared, "record")[-1]["query"] or "replace=email,phone" in _recent(shared, "record")[-1]["query"]

    def test_update_record_replace_sublist(self, shared: Any) -> None:
        connector = shared.open()
        invoice = shared.emulator.suiteql("SELECT id FROM transaction WHERE type = 'CustInvc' ORDER BY id DESC")[0]["id"]
        before = shared.emulator.get_record("invoice", invoice)["item"]["items"]
        item = before[0]["item"]["id"]
        lines = {"item": {"items": [{"item": {"id": item}, "quantity": 2, "rate": 10}]}}
        connector.call("update_record", {"record_type": "invoice", "record_id": invoice, "payload": lines})
        added = shared.emulator.get_record("invoice", invoice)["item"]["items"]
        assert len(added) == len(before) + 1  # without replace, lines are added
        connector.call("update_record", {"record_type": "invoice", "record_id": invoice, "payload": lines, "replace": "item"})
        replaced = shared.emulator.get_record("invoice", invoice)["item"]["items"]
        assert len(replaced) == 1 and replaced[0]["quantity"] == 2

    def test_delete_record_then_it_is_gone_and_listed_as_deleted(self, shared: Any) -> None:
        connector = shared.open()
        cid = _new_customer(shared, "DEL-1")
        assert connector.call("delete_record", {"record_type": "customer", "record_id": cid})["status"] == 204
        with pytest.raises(FatalHTTPError) as caught:
            connector.call("get_record", {"record_type": "customer", "record_id": cid})
        assert caught.value.status == 404
        assert "does not exist" in caught.value.message
        deleted = list(connector.read("deleted_records"))
        assert any(d["recordid"] == cid and d["recordtypeid"].lower() == "customer" for d in deleted)

    def test_missing_required_input_is_named(self, shared: Any) -> None:
        with pytest.raises(OperationError, match="'record_id' is required"):
            shared.open().call("get_record", {"record_type": "customer"})


class TestSuiteQLQuery:
    def test_limit_offset(self, shared: Any) -> None:
        connector = shared.open()
        page = connector.call("suiteql_query", {"query": "SELECT id FROM customer ORDER BY id", "limit": 5, "offset": 10})["body"]
        assert [r["id"] for r in page["items"]] == [str(i) for i in range(11, 16)]
        assert page["hasMore"] is True and page["offset"] == 10

    def test_default_query_is_the_seeds(self, shared: Any) -> None:
        schema = shared.open().spec.operations["suiteql_query"].input
        assert schema["properties"]["query"]["default"] == "SELECT email, COUNT(*) as count FROM transaction GROUP BY email"
        assert schema["properties"]["limit"]["default"] == 1000

    def test_bad_column_names_the_identifier(self, shared: Any) -> None:
        with pytest.raises(FatalHTTPError) as caught:
            shared.open().call("suiteql_query", {"query": "SELECT nosuchcolumn FROM customer"})
        assert "INVALID_PARAMETER" in caught.value.message
        assert "nosuchcolumn" in caught.value.message
        assert "metadata" in (caught.value.hint or "")


# --- raw_request ------------------------------------------------------------------------------------


class Echo:
    """A loopback server that answers every request with what it received."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        seen = {
            "method": request.method,
            "path": request.path,
            "args": request.args.to_dict(flat=False),
            "headers": dict(request.headers),
            "form": request.form.to_dict(),
            "files": {k: {"filename": f.filename, "content": f.read().decode("latin-1")} for k, f in request.files.items()},
            "json": request.get_json(silent=True),
        }
        self.requests.append(seen)
        if request.path.endswith("/binary"):
            return Response(bytes(range(256)), content_type="application/octet-stream")(environ, start_response)
        return Response(request.get_data() or b"{}", content_type=request.content_type or "application/json")(environ, start_response)


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.server.shutdown()
    server.server.server_close()


class TestRawRequest:
    def test_get_with_query_params_json_text_and_binary(self, shared: Any) -> None:
        connector = shared.open()
        as_json = connector.call("raw_request", {"url": "/customer/1", "query_params": {"fields": "email"}})
        assert set(as_json["body"]) - {"links", "id"} == {"email"}
        as_text = connector.call("raw_request", {"url": "/customer/1", "response_type": "text"})["body"]
        assert isinstance(as_text, str) and '"companyName"' in as_text
        as_binary = connector.call("raw_request", {"url": "/customer/1", "response_type": "binary"})["body"]
        assert base64.b64decode(as_binary["content_base64"]).decode() == as_text
        assert as_binary["size"] == len(as_text.encode())

    def test_post_data_and_method(self, shared: Any) -> None:
        connector = shared.open()
        made = connector.call("raw_request", {
            "url": "/customer", "method": "POST",
            "data": {"entityId": "RAW-1", "companyName": "Raw One", "subsidiary": {"id": "1"}},
        })
        assert made["status"] == 204
        rows = shared.emulator.suiteql("SELECT id FROM customer WHERE entityid = 'RAW-1'")
        assert len(rows) == 1
        connector.call("raw_request", {"url": f"/customer/{rows[0]['id']}", "method": "PATCH", "data": {"companyName": "Raw Two"}})
        assert shared.emulator.get_record("customer", rows[0]["id"])["companyName"] == "Raw Two"
        connector.call("raw_request", {"url": f"/customer/{rows[0]['id']}", "method": "DELETE"})
        assert not shared.emulator.suiteql("SELECT id FROM customer WHERE entityid = 'RAW-1'")

    def test_service_type_query_and_async(self, shared: Any) -> None:
        connector = shared.open()
        page = connector.call("raw_request", {
            "url": "/suiteql", "method": "POST", "service_type": "query", "headers": {"Prefer": "transient"},
            "query_params": {"limit": 2}, "data": {"q": "SELECT id FROM subsidiary ORDER BY id"},
        })["body"]
        assert [r["id"] for r in page["items"]] == ["1", "2"]
        job = connector.call("create_record_async", {"record_type": "customer", "payload": {"entityId": "ASYNC-RAW", "companyName": "A", "subsidiary": {"id": "1"}}})
        status = connector.call("raw_request", {"url": f"/job/{job['id']}", "service_type": "async"})["body"]
        assert status["id"] == job["id"]

    def test_headers_form_data_and_files_are_sent(self, shared: Any, echo: Echo) -> None:
        connector = shared.open(shared.tba(base_url=echo.url))
        connector.call("raw_request", {
            "url": "/file", "method": "POST",
            "headers": {"X-NetSuite-PropertyNameValidation": "Error"},
            "form_data": {"folder": "-15", "name": "report"},
            "file_data": {"file": "hello,world\n", "logo": "base64:" + base64.b64encode(b"\x89PNG").decode()},
            "file_data_file_names": {"file": "report.csv"},
            "response_type": "text",
        })
        seen = echo.requests[-1]
        assert seen["path"] == "/services/rest/record/v1/file"
        assert seen["headers"]["X-Netsuite-Propertynamevalidation"] == "Error"
        assert seen["headers"]["Authorization"].startswith("OAuth realm=")
        assert seen["form"] == {"folder": "-15", "name": "report"}
        assert seen["files"]["file"] == {"filename": "report.csv", "content": "hello,world\n"}
        assert seen["files"]["logo"] == {"filename": "logo", "content": "\x89PNG"}

    def test_binary_response(self, shared: Any, echo: Echo) -> None:
        body = shared.open(shared.tba(base_url=echo.url)).call("raw_request", {"url": "/binary", "response_type": "binary"})["body"]
        assert base64.b64decode(body["content_base64"]) == bytes(range(256))
        assert body["content_type"] == "application/octet-stream"

    @pytest.mark.parametrize("url", ["https://evil.example/x", "//evil.example/x", "evil.example/x", "http:/x"])
    def test_full_url_or_other_host_is_refused_before_any_request(self, shared: Any, url: str) -> None:
        before = shared.stats()["total"]
        with pytest.raises(OperationError, match="url"):
            shared.open().call("raw_request", {"url": url})
        assert shared.stats()["total"] == before

    def test_timeout(self, env: Any) -> None:
        fault = env.emulator.faults.add("latency", seconds=1.0, path_prefix=RECORD + "/customer/1")
        with pytest.raises(RetriableHTTPError, match="Timeout"):
            env.open().call("raw_request", {"url": "/customer/1", "timeout": 0.2})
        env.emulator.faults.remove(fault.id)
        assert env.open().call("raw_request", {"url": "/customer/1", "timeout": 5})["status"] == 200

    def _attempts(self, env: Any, path: str) -> int:
        return sum(1 for r in _recent(env, "record") if r["path"] == path)

    def test_max_retry_count_and_retry_delay(self, env: Any) -> None:
        path = RECORD + "/customer/2"
        env.emulator.faults.add("status", status=503, count=2, path_prefix=path)
        sleeps: list[float] = []
        connector = env.open(sleep=sleeps.append)
        result = connector.call("raw_request", {"url": "/customer/2", "max_retry_count": 2, "retry_delay_ms": 250})
        assert result["status"] == 200
        assert self._attempts(env, path) == 3
        assert sleeps == [0.25, 0.25]

    def test_no_retries_by_default(self, env: Any) -> None:
        path = RECORD + "/customer/3"
        env.emulator.faults.add("status", status=503, count=1, path_prefix=path)
        with pytest.raises(RetriableHTTPError, match="503"):
            env.open(sleep=lambda s: None).call("raw_request", {"url": "/customer/3"})
        assert self._attempts(env, path) == 1

    def test_retries_run_out(self, env: Any) -> None:
        path = RECORD + "/customer/4"
        env.emulator.faults.add("status", status=500, count=5, path_prefix=path)
        with pytest.raises(RetriableHTTPError, match="after 3 attempts"):
            env.open(sleep=lambda s: None).call("raw_request", {"url": "/customer/4", "max_retry_count": 2})
        assert self._attempts(env, path) == 3

    def test_retry_on_all_errors(self, env: Any) -> None:
        path = RECORD + "/customer/5"
        env.emulator.faults.add("status", status=400, count=1, path_prefix=path)
        with pytest.raises(FatalHTTPError):
            env.open(sleep=lambda s: None).call("raw_request", {"url": "/customer/5", "max_retry_count": 3})
        assert self._attempts(env, path) == 1  # a 4xx is not retried unless asked
        env.emulator.faults.add("status", status=400, count=1, path_prefix=path)
        result = env.open(sleep=lambda s: None).call(
            "raw_request", {"url": "/customer/5", "max_retry_count": 3, "retry_on_all_errors": True}
        )
        assert result["status"] == 200
        assert self._attempts(env, path) == 3

    def test_exponential_backoff_ignores_retry_delay(self, env: Any) -> None:
        path = RECORD + "/customer/6"
        env.emulator.faults.add("status", status=502, count=3, path_prefix=path)
        sleeps: list[float] = []
        result = env.open(sleep=sleeps.append).call("raw_request", {
            "url": "/customer/6", "max_retry_count": 3, "use_exponential_backoff": True, "retry_delay_ms": 5,
        })
        assert result["status"] == 200
        assert self._attempts(env, path) == 4
        assert len(sleeps) == 3
        # doubling from the spec's 1 s, each wait jittered to between half and all of it
        assert 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[1] <= 2 and 2 <= sleeps[2] <= 4
