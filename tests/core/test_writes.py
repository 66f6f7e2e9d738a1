"""Write operations over real HTTP: ids, input validation, batches, outputs, response types and the
spec's error rules."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector, reply
from werkzeug.wrappers import Request

from connector_core.engine.connector import Connector
from connector_core.errors import AuthError, FatalHTTPError, OperationError, RetriableHTTPError


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


CUSTOMER_INPUT = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "country": {"type": "string", "default": "DE"},
        "address": {"type": "object", "properties": {"zip": {"type": "string"}}},
    },
}


def connector(tmp_path: Path, api: FakeAPI, operations: dict[str, Any], errors: list[dict[str, Any]] | None = None) -> Connector:
    spec = {
        "name": "writer",
        "base_url": api.url,
        "defaults": {"retries": {"attempts": 3, "backoff": 0}},
        "operations": operations,
        "errors": errors or [],
    }
    return open_connector(tmp_path, spec)


def create(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "create",
        "input": CUSTOMER_INPUT,
        "request": {"method": "POST", "path": "/customers", "json": "{{ input }}"},
        "id": {"header": "Location"},
        **extra,
    }


def update(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "update",
        "input": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "request": {"method": "PUT", "path": "/customers/{{ input.id }}", "json": {"name": "{{ input.name }}"}},
        "id": {"path": "data.id"},
        **extra,
    }


class TestIds:
    @pytest.mark.parametrize("location", ["/customers/42", "http://example.test/customers/42/?expand=true"])
    def test_create_returns_the_id_from_the_location_header(self, api: FakeAPI, tmp_path: Path, location: str) -> None:
        api.json("/customers", {"ok": True}, status=201, headers={"Location": location})
        result = connector(tmp_path, api, {"create_customer": create()}).call("create_customer", {"name": "Ada"})
        assert result["status"] == 201 and result["id"] == "42"

    def test_update_returns_the_id_from_a_body_path(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers/7", {"data": {"id": 7, "name": "Bea"}}, method="PUT")
        result = connector(tmp_path, api, {"update_customer": update()}).call("update_customer", {"id": 7, "name": "Bea"})
        assert result["id"] == "7"
        assert api.received()[0].json == {"name": "Bea"}

    def test_no_id_when_the_response_has_none(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers", None, status=204)
        assert connector(tmp_path, api, {"create_customer": create()}).call("create_customer", {"name": "A"})["id"] is None


class TestInput:
    def test_defaults_are_applied_before_sending(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers", {}, status=201, headers={"Location": "/customers/1"})
        connector(tmp_path, api, {"create_customer": create()}).call("create_customer", {"name": "Ada"})
        assert api.received()[0].json == {"name": "Ada", "country": "DE"}

    def test_every_problem_is_reported_with_its_path_and_nothing_is_sent(self, api: FakeAPI, tmp_path: Path) -> None:
        conn = connector(tmp_path, api, {"create_customer": create()})
        with pytest.raises(OperationError) as caught:
            conn.call("create_customer", {"country": 49, "address": {"zip": 10115}})
        text = str(caught.value)
        assert "invalid input for operation 'create_customer'" in text
        assert "input: 'name' is required" in text
        assert "country: 49 is not of type 'string'" in text
        assert "address.zip: 10115 is not of type 'string'" in text
        assert api.received() == []

    def test_an_unknown_operation_suggests_the_closest_name(self, api: FakeAPI, tmp_path: Path) -> None:
        with pytest.raises(Exception, match="did you mean 'create_customer'"):
            connector(tmp_path, api, {"create_customer": create()}).call("create_custmer", {})


class TestBatch:
    BATCH = {
        "kind": "batch",
        "input": {"type": "object", "required": ["records"], "properties": {"records": {"type": "array"}}},
        "request": {"method": "POST", "path": "/customers/batch", "json": {"inputs": "{{ input.records }}"}},
        "batch": {"size": 3, "results": "results", "errors": "errors"},
    }

    @staticmethod
    def multi_status(request: Request) -> Any:
        """207-style: records named 'bad…' fail, the others get an id."""
        inputs = request.get_json()["inputs"]
        results = [{"id": f"id-{r['name']}"} for r in inputs if not r["name"].startswith("bad")]
        errors = [{"message": "duplicate", "context": {"name": r["name"]}} for r in inputs if r["name"].startswith("bad")]
        return reply({"status": "COMPLETE", "results": results, "errors": errors}, 207 if errors else 200)

    def test_records_are_sent_in_chunks_and_results_and_errors_collected(self, api: FakeAPI, tmp_path: Path) -> None:
        api.route("/customers/batch", self.multi_status)
        names = ["a", "b", "bad1", "c", "d", "e", "bad2", "f"]
        result = connector(tmp_path, api, {"upsert": self.BATCH}).call("upsert", {"records": [{"name": n} for n in names]})
        assert [len(r.json["inputs"]) for r in api.received()] == [3, 3, 2]
        assert [r["id"] for r in result["results"]] == ["id-a", "id-b", "id-c", "id-d", "id-e", "id-f"]
        assert [(e["message"], e["error"]["context"]["name"]) for e in result["errors"]] == [("duplicate", "bad1"), ("duplicate", "bad2")]
        assert result["requests"] == 3

    def test_a_custom_error_message_template(self, api: FakeAPI, tmp_path: Path) -> None:
        api.route("/customers/batch", self.multi_status)
        operation = {**self.BATCH, "batch": {**self.BATCH["batch"], "error_message": "{{ error.message }} ({{ error.context.name }})"}}
        result = connector(tmp_path, api, {"upsert": operation}).call("upsert", {"records": [{"name": "bad1"}]})
        assert [e["message"] for e in result["errors"]] == ["duplicate (bad1)"]

    def test_a_batch_needs_a_records_list(self, api: FakeAPI, tmp_path: Path) -> None:
        operation = {**self.BATCH, "input": {"type": "object"}}
        with pytest.raises(OperationError, match="'records' list"):
            connector(tmp_path, api, {"upsert": operation}).call("upsert", {"records": "nope"})

    def test_a_rejected_chunk_fails_its_records_and_the_other_chunks_go_on(self, api: FakeAPI, tmp_path: Path) -> None:
        api.route("/customers/batch", self.multi_status)
        api.fail("/customers/batch", 400, body={"message": "chunk too large"})
        result = connector(tmp_path, api, {"upsert": self.BATCH}).call("upsert", {"records": [{"name": n} for n in "abcde"]})
        assert [r["id"] for r in result["results"]] == ["id-d", "id-e"]
        assert [e["index"] for e in result["errors"]] == [0, 1, 2]
        assert all("chunk too large" in e["message"] for e in result["errors"])

    def concurrent_batch(self, api: FakeAPI, tmp_path: Path) -> Connector:
        """A batch that may be resent (retry: true) with a key per record, on a spec allowing 3 requests at once."""
        operation = {**self.BATCH, "retry": True, "batch": {**self.BATCH["batch"], "key": "{{ record.name }}"}}
        spec = {"name": "writer", "base_url": api.url, "defaults": {"concurrency": 3, "retries": {"attempts": 3, "backoff": 0}}, "operations": {"upsert": operation}}
        return open_connector(tmp_path, spec)

    def test_chunks_of_a_resendable_batch_go_out_together_and_results_keep_the_input_order(self, api: FakeAPI, tmp_path: Path) -> None:
        api.route("/customers/batch", self.multi_status)
        api.delay("/customers/batch", lambda request: 0.3 if request.get_json()["inputs"][0]["name"] == "a" else 0.05)
        api.fail("/customers/batch", 503, times=1)  # one chunk waits out a retry; the others do not wait for it
        names = ["a", "b", "bad1", "c", "d", "e", "bad2", "f", "g"]
        result = self.concurrent_batch(api, tmp_path).call("upsert", {"records": [{"name": n} for n in names]})
        assert api.max_in_flight >= 2
        assert [r["id"] for r in result["results"]] == ["id-a", "id-b", "id-c", "id-d", "id-e", "id-f", "id-g"]
        assert [(e["message"], e["error"]["context"]["name"]) for e in result["errors"]] == [("duplicate", "bad1"), ("duplicate", "bad2")]
        assert [o["index"] for o in result["records"]] == list(range(len(names)))
        assert result["requests"] == 3

    def test_a_batch_naming_one_record_twice_is_sent_one_chunk_after_the_other(self, api: FakeAPI, tmp_path: Path) -> None:
        api.route("/customers/batch", self.multi_status)
        api.delay("/customers/batch", 0.05)
        names = ["a", "b", "c", "a", "d", "e"]  # 'a' in two chunks: the later write must land last
        self.concurrent_batch(api, tmp_path).call("upsert", {"records": [{"name": n} for n in names]})
        assert api.max_in_flight == 1
        assert [[r["name"] for r in request.json["inputs"]] for request in api.received()] == [["a", "b", "c"], ["a", "d", "e"]]

    def test_an_auth_failure_stops_the_batch(self, api: FakeAPI, tmp_path: Path) -> None:
        api.fail("/customers/batch", 401, times=5)
        with pytest.raises(AuthError):
            connector(tmp_path, api, {"upsert": self.BATCH}).call("upsert", {"records": [{"name": n} for n in "abcde"]})
        assert len(api.received()) == 1


class TestResponses:
    def test_output_template_shapes_the_result(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers", {"data": {"number": "C-9"}}, status=201, headers={"Location": "/customers/9"})
        operation = create(output={"customer": "{{ record.id }}", "number": "{{ response.body.data.number }}", "name": "{{ input.name }}"})
        result = connector(tmp_path, api, {"create_customer": operation}).call("create_customer", {"name": "Ada"})
        assert result["output"] == {"customer": "9", "number": "C-9", "name": "Ada"}

    def test_text_response(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/report.csv", "a,b\n1,2\n")
        operation = {"kind": "action", "request": {"path": "/report.csv"}, "response": "text"}
        assert connector(tmp_path, api, {"report": operation}).call("report")["body"] == "a,b\n1,2\n"

    def test_binary_response(self, api: FakeAPI, tmp_path: Path) -> None:
        content = b"%PDF-1.7\x00\xff\x10"
        api.json("/invoice.pdf", content)
        operation = {"kind": "action", "request": {"path": "/invoice.pdf"}, "response": "binary"}
        body = connector(tmp_path, api, {"pdf": operation}).call("pdf")["body"]
        assert base64.b64decode(body["content_base64"]) == content
        assert body["size"] == len(content) and body["content_type"] == "application/octet-stream"


class TestErrorRules:
    def test_a_rule_gives_the_specs_message_and_hint(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers", {"error": "email is invalid"}, status=422)
        rules = [{"status": 422, "message": "The shop rejected the customer: {{ response.body.error }}", "hint": "fix the email"}]
        with pytest.raises(FatalHTTPError) as caught:
            connector(tmp_path, api, {"create_customer": create()}, rules).call("create_customer", {"name": "A"})
        assert caught.value.message == "The shop rejected the customer: email is invalid"
        assert caught.value.hint == "fix the email" and caught.value.status == 422
        assert len(api.received()) == 1

    def test_first_matching_rule_wins_and_contains_narrows(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers/1", {"error": "INSUFFICIENT_PERMISSION on customer"}, status=403, method="PUT")
        rules = [
            {"status": 403, "contains": "INVALID_LOGIN", "message": "login"},
            {"status": [401, 403], "contains": "INSUFFICIENT_PERMISSION", "message": "The role cannot edit customers", "hint": "grant Lists > Customers"},
        ]
        with pytest.raises(AuthError, match="The role cannot edit customers"):
            connector(tmp_path, api, {"update_customer": update()}, rules).call("update_customer", {"id": 1, "name": "x"})

    def test_action_retry_retries_a_status_that_is_not_retried_by_default(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers/1", {"data": {"id": 1}}, method="PUT")
        api.fail("/customers/1", 409, times=2, body={"error": "record is locked"})
        rules = [{"status": 409, "contains": "locked", "action": "retry", "message": "The record is locked"}]
        result = connector(tmp_path, api, {"update_customer": update()}, rules).call("update_customer", {"id": 1, "name": "x"})
        assert result["id"] == "1" and len(api.received()) == 3

    def test_action_ignore_treats_the_error_as_success(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers/5", {"error": "not found"}, status=404)
        operation = {"kind": "delete", "input": {"type": "object"}, "request": {"method": "DELETE", "path": "/customers/{{ input.id }}"}}
        rules = [{"status": 404, "action": "ignore"}]
        result = connector(tmp_path, api, {"delete_customer": operation}, rules).call("delete_customer", {"id": 5})
        assert result["status"] == 404 and len(api.received()) == 1

    def test_a_200_carrying_an_error_is_retried_with_a_when_rule(self, api: FakeAPI, tmp_path: Path) -> None:
        answers = iter([{"status": "error", "detail": "busy"}, {"status": "error", "detail": "busy"}, {"status": "ok", "data": {"id": 3}}])
        api.route("/customers/3", lambda request: reply(next(answers)), method="PUT")
        rules = [{"when": "{{ response.body.status == 'error' }}", "action": "retry", "message": "The shop is busy: {{ response.body.detail }}"}]
        result = connector(tmp_path, api, {"update_customer": update()}, rules).call("update_customer", {"id": 3, "name": "x"})
        assert result["id"] == "3" and len(api.received()) == 3

    def test_a_200_error_that_never_clears_ends_with_the_rules_message(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers/3", {"status": "error", "detail": "busy"}, method="PUT")
        rules = [{"when": "{{ response.body.status == 'error' }}", "action": "retry", "message": "The shop is busy: {{ response.body.detail }}", "hint": "try later"}]
        with pytest.raises(RetriableHTTPError) as caught:
            connector(tmp_path, api, {"update_customer": update()}, rules).call("update_customer", {"id": 3, "name": "x"})
        assert "failed after 3 attempts" in caught.value.message and "The shop is busy: busy" in caught.value.message
        assert caught.value.hint == "try later"

    def test_a_200_error_can_fail_at_once(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/customers/3", {"ok": False, "reason": "frozen"}, method="PUT")
        rules = [{"status": 200, "when": "{{ not response.body.ok }}", "message": "Refused: {{ response.body.reason }}"}]
        with pytest.raises(FatalHTTPError, match="Refused: frozen"):
            connector(tmp_path, api, {"update_customer": update()}, rules).call("update_customer", {"id": 3, "name": "x"})
        assert len(api.received()) == 1
