"""A local Pipedrive API v1 (developers.pipedrive.com/docs/api/v1): `api_token` in the query, answers
`{success, data, additional_data: {pagination: {start, limit, more_items_in_collection, next_start}}}`,
and `/recents`, which wraps each changed record as `{item, id, data}` (data null for a deleted one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ported_api_server import PortedAPI, json_reply
from werkzeug.wrappers import Request, Response

API_TOKEN = "5c7f3a9d1e2b4c6a8f0e1d2c3b4a5f6e7d8c9b0a"


def _deal(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "title": f"Deal {i}",
        "org_id": None,
        "value": 100 * i,
        "currency": "EUR",
        "update_time": f"2024-02-{i:02d} 10:00:00",
    }


class FakePipedrive(PortedAPI):
    """12 deals (deal 3 deleted), 2 users, fields, goals, mail threads per folder and deal products."""

    def __init__(self) -> None:
        super().__init__()
        kinds = ("file", "filter", "note", "activity", "person", "pipeline", "product", "stage")
        self.recents: dict[str, list[dict[str, Any]]] = {
            **{
                kind: [
                    {
                        "item": kind,
                        "id": i,
                        "data": {"id": i, "kind": kind, "update_time": f"2024-02-0{i} 08:00:00"},
                    }
                    for i in range(1, 4)
                ]
                for kind in kinds
            },
            "deal": [{"item": "deal", "id": i, "data": None if i == 3 else _deal(i)} for i in range(1, 13)],
            "user": [
                {
                    "item": "user",
                    "id": 1,
                    "data": [{"id": 1, "name": "Ada", "modified": "2024-02-01 09:00:00"}],
                },
                {
                    "item": "user",
                    "id": 2,
                    "data": [{"id": 2, "name": "Bo", "modified": "2024-02-02 09:00:00"}],
                },
            ],
        }
        self.lists: dict[str, list[dict[str, Any]]] = {
            "/v1/dealFields": [{"id": i, "key": f"field_{i}", "name": f"Field {i}"} for i in range(1, 8)],
            "/v1/currencies": [{"id": 1, "code": "EUR"}, {"id": 2, "code": "USD"}],
            "/v1/mailbox/mailThreads": [],
            **{
                f"/v1/{path}": [{"id": i, "name": f"{path} {i}", "active_flag": True} for i in range(1, 4)]
                for path in (
                    "leads",
                    "activityFields",
                    "organizationFields",
                    "personFields",
                    "productFields",
                    "roles",
                    "leadLabels",
                    "activityTypes",
                    "permissionSets",
                    "organizations",
                )
            },
        }
        self.threads = {
            "inbox": [{"id": 101, "subject": "Hello"}],
            "sent": [{"id": 201, "subject": "Re: Hello"}],
        }
        self.messages = {
            101: [{"id": 1001, "thread_id": 101, "body_url": "https://x/1001"}],
            201: [{"id": 2001, "thread_id": 201}],
        }

    def answer(self, request: Request) -> Response:
        if request.args.get("api_token") != API_TOKEN:
            return json_reply({"success": False, "error": "unauthorized access", "errorCode": 401}, 401)
        path = request.path
        if path == "/v1/recents":
            kind = request.args["items"]
            since = request.args.get("since_timestamp", "")
            changed = [r for r in self.recents.get(kind, []) if _changed_at(r) >= since]
            return self._page(request, changed)
        if path == "/v1/goals/find":
            return json_reply({"success": True, "data": {"goals": [{"id": "g1", "title": "Q1 deals"}]}})
        if path == "/v1/mailbox/mailThreads":
            return self._page(request, self.threads.get(request.args.get("folder", ""), []))
        if path.startswith("/v1/mailbox/mailThreads/") and path.endswith("/mailMessages"):
            return self._page(request, self.messages.get(int(path.split("/")[4]), []))
        if path.startswith("/v1/deals/") and path.endswith("/products"):
            deal = int(path.split("/")[3])
            return self._page(
                request,
                [{"id": deal * 10, "deal_id": deal, "product_id": 5, "quantity": 1}] if deal % 4 == 0 else [],
            )
        if path in self.lists:
            return self._page(request, self.lists[path])
        return json_reply({"success": False, "error": "Unknown method .", "errorCode": 404}, 404)

    @staticmethod
    def _page(request: Request, rows: Sequence[dict[str, Any]]) -> Response:
        start, limit = int(request.args.get("start", "0")), int(request.args.get("limit", "100"))
        more = start + limit < len(rows)
        pagination: dict[str, Any] = {"start": start, "limit": limit, "more_items_in_collection": more}
        if more:
            pagination["next_start"] = start + limit
        data = list(rows[start : start + limit]) or None  # Pipedrive answers `data: null` for an empty list
        return json_reply({"success": True, "data": data, "additional_data": {"pagination": pagination}})


def _changed_at(item: dict[str, Any]) -> str:
    data = item["data"]
    if data is None:
        return "9999"  # a deletion is always among the changes
    if isinstance(data, list):
        return str(data[0]["modified"])
    return str(data["update_time"])
