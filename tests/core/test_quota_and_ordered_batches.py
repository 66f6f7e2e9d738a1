"""Three engine mechanisms over real HTTP to the fake API: ``defaults.quota`` (stop before a long-window
allowance is spent), ``batch.ok`` (answers with one entry per record, in input order) and error rules
for success statuses that leave other successful replies unread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector, reply
from werkzeug.wrappers import Request

from connector_core.errors import FatalHTTPError, RetriableHTTPError, SpecError


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


def quota_spec(api: FakeAPI, quota: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "allowance",
        "base_url": api.url,
        "config": {"type": "object", "properties": {"reserve": {"type": "integer", "default": 2}}},
        "defaults": {"retries": {"attempts": 3, "backoff": 0}, "quota": quota},
        "streams": {"items": {"request": {"path": "/items"}, "records": "data", "paginate": {"type": "page", "size": 1, "size_param": None}}},
    }


class TestQuota:
    @staticmethod
    def pages(used_from: int, limit: int) -> Any:
        state = {"used": used_from}

        def handler(request: Request) -> Any:
            state["used"] += 1
            return reply({"data": [{"id": int(request.args.get("page", 1))}]}, headers={"Limit-Info": f"api-usage={state['used']}/{limit}"})

        return handler

    def test_stops_before_the_reserve_and_sends_nothing_more(self, api: FakeAPI, tmp_path: Path) -> None:
        api.route("/items", self.pages(used_from=94, limit=100))
        quota = {"header": "Limit-Info", "pattern": r"api-usage=(?P<used>\d+)/(?P<limit>\d+)", "reserve": "{{ config.reserve }}"}
        connector = open_connector(tmp_path, quota_spec(api, quota))
        seen: list[dict[str, Any]] = []
        with pytest.raises(RetriableHTTPError) as caught:
            seen.extend(connector.read("items"))
        # replies say 95, 96, 97, 98 used: 2 left after the 4th, the reserve, so no 5th request
        assert [r["id"] for r in seen] == [1, 2, 3, 4] and len(api.received("/items")) == 4
        assert "2 requests of 100 left (Limit-Info)" in str(caught.value) and "2 are kept in reserve" in str(caught.value)

    def test_a_remaining_count_works_too_and_a_reply_without_the_header_changes_nothing(self, api: FakeAPI, tmp_path: Path) -> None:
        calls = {"n": 0}

        def handler(request: Request) -> Any:
            calls["n"] += 1
            headers = {"X-Daily-Left": str(10 - calls["n"])} if calls["n"] != 2 else {}
            return reply({"data": [{"id": calls["n"]}] if calls["n"] < 20 else []}, headers=headers)

        api.route("/items", handler)
        quota = {"header": "X-Daily-Left", "pattern": r"(?P<remaining>\d+)", "reserve": 5}
        with pytest.raises(RetriableHTTPError):
            list(open_connector(tmp_path, quota_spec(api, quota)).read("items"))
        assert calls["n"] == 5  # 9, (none), 7, 6, 5 left: the 5th reply reaches the reserve

    def test_a_pattern_without_the_named_groups_is_a_spec_error(self, api: FakeAPI, tmp_path: Path) -> None:
        with pytest.raises(SpecError) as caught:
            open_connector(tmp_path, quota_spec(api, {"header": "Limit-Info", "pattern": r"(\d+)/(\d+)"}))
        assert "named groups" in str(caught.value)


ORDERED = {
    "kind": "batch",
    "input": {"type": "object", "required": ["records"], "properties": {"records": {"type": "array"}}},
    "request": {"method": "POST", "path": "/collection", "json": {"records": "{{ items }}"}},
    "batch": {"size": 3, "results": "", "errors": None, "ok": "{{ result.success }}",
              "error_message": "{{ error.errors[0].statusCode }}: {{ error.errors[0].message }}"},
}


def in_order(request: Request) -> Any:
    """One entry per record, in order; records named 'bad…' fail (without an id, as Salesforce's creates)."""
    entries = []
    for record in request.get_json()["records"]:
        if record["name"].startswith("bad"):
            entries.append({"success": False, "errors": [{"statusCode": "INVALID", "message": f"{record['name']} refused"}]})
        else:
            entries.append({"id": f"id-{record['name']}", "success": True, "errors": []})
    return entries


class TestInOrderOutcomes:
    def test_entries_are_matched_by_position_and_failures_keep_their_message(self, api: FakeAPI, tmp_path: Path) -> None:
        api.route("/collection", in_order)
        spec = {"name": "ordered", "base_url": api.url, "operations": {"create": ORDERED}}
        names = ["a", "bad1", "b", "c", "bad2"]
        result = open_connector(tmp_path, spec).call("create", {"records": [{"name": n} for n in names]})
        outcomes = result["records"]
        assert [(o["index"], o["ok"]) for o in outcomes] == [(0, True), (1, False), (2, True), (3, True), (4, False)]
        assert [o["result"]["id"] for o in outcomes if o["ok"]] == ["id-a", "id-b", "id-c"]
        assert [o["message"] for o in outcomes if not o["ok"]] == ["INVALID: bad1 refused", "INVALID: bad2 refused"]
        assert len(result["results"]) == 3 and len(result["errors"]) == 2 and result["requests"] == 2

    def test_an_answer_with_another_count_is_left_unreported(self, api: FakeAPI, tmp_path: Path) -> None:
        api.route("/collection", lambda request: in_order(request)[:-1])
        spec = {"name": "ordered", "base_url": api.url, "operations": {"create": ORDERED}}
        result = open_connector(tmp_path, spec).call("create", {"records": [{"name": "a"}, {"name": "b"}]})
        assert [o["ok"] for o in result["records"]] == [None, None]  # which entry is whose would be a guess


class TestSuccessStatusRules:
    def test_a_rule_for_status_300_reads_only_300s(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/one", {"id": "x"}, status=200)
        api.json("/two", ["/things/1", "/things/2"], status=300)
        spec = {
            "name": "choices",
            "base_url": api.url,
            "operations": {name: {"kind": "action", "request": {"path": f"/{name}"}} for name in ("one", "two")},
            "errors": [{"status": 300, "message": "{{ response.body | length }} records match"}],
        }
        connector = open_connector(tmp_path, spec)
        assert connector.http.success_statuses == frozenset({300})
        assert connector.call("one", {})["body"] == {"id": "x"}
        with pytest.raises(FatalHTTPError) as caught:
            connector.call("two", {})
        assert str(caught.value) == "2 records match"
