"""A local Mailchimp Marketing API 3.0 (mailchimp.com/developer/marketing/api): Basic auth with any user
name and the API key, `count`/`offset` paging with `total_items`, `since_<field>`/`before_<field>` and
`sort_field` filters, and collections under their own key (`{"lists": [...], "total_items": 2}`)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from ported_api_server import PortedAPI, json_reply
from werkzeug.wrappers import Request, Response

API_KEY = "0123456789abcdef0123456789abcdef-us10"

LISTS = [
    {
        "id": "l1",
        "name": "Newsletter",
        "date_created": "2024-01-01T10:00:00+00:00",
        "web_id": 11,
        "_links": [],
    },
    {
        "id": "l2",
        "name": "Customers",
        "date_created": "2024-01-05T10:00:00+00:00",
        "web_id": "",
        "_links": [],
    },
]
CAMPAIGNS = [
    {
        "id": f"c{i}",
        "type": "regular",
        "create_time": f"2024-02-0{i}T08:00:00+00:00",
        "status": "sent",
        "archive_url": "",
    }
    for i in range(1, 4)
]


class FakeMailchimp(PortedAPI):
    def __init__(self) -> None:
        super().__init__()
        self.members = {
            lid: [
                {
                    "id": f"{lid}-m{i}",
                    "email_address": f"m{i}@{lid}.example",
                    "last_changed": f"2024-03-0{i}T00:00:00+00:00",
                }
                for i in range(1, 4)
            ]
            for lid in ("l1", "l2")
        }
        self.segments = {
            "l1": [{"id": 7, "name": "Active", "updated_at": "2024-03-01T00:00:00+00:00", "list_id": "l1"}],
            "l2": [],
        }
        self.categories = {
            "l1": [{"id": "ic1", "title": "Topics", "list_id": "l1"}],
            "l2": [{"id": "ic2", "title": "Size", "list_id": "l2"}],
        }
        self.interests = {
            "ic1": [{"id": "i1", "name": "Ruby", "category_id": "ic1"}],
            "ic2": [{"id": "i2", "name": "Large", "category_id": "ic2"}],
        }

    def answer(self, request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"anystring:{API_KEY}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return json_reply(
                {
                    "type": "about:blank",
                    "title": "API Key Invalid",
                    "status": 401,
                    "detail": "Your API key may be invalid.",
                },
                401,
            )
        parts = request.path.removeprefix("/3.0/").split("/")
        match parts:
            case ["lists"]:
                return self._collection(request, "lists", LISTS)
            case ["campaigns"]:
                return self._collection(request, "campaigns", CAMPAIGNS)
            case ["automations"]:
                return self._collection(request, "automations", [])
            case ["reports"]:
                return self._collection(
                    request, "reports", [{"id": c["id"], "send_time": c["create_time"]} for c in CAMPAIGNS]
                )
            case ["lists", lid, "members"]:
                return self._collection(request, "members", self.members[lid])
            case ["lists", lid, "segments"]:
                return self._collection(request, "segments", self.segments[lid])
            case ["lists", lid, "segments", sid, "members"]:
                members = [m for m in self.members[lid] if int(sid) == 7]
                return self._collection(request, "members", [{**m, "vip": ""} for m in members])
            case ["lists", lid, "tag-search"]:
                return self._collection(request, "tags", [{"id": 1, "name": "vip"}] if lid == "l1" else [])
            case ["lists", lid, "interest-categories"]:
                return self._collection(request, "categories", self.categories[lid])
            case ["lists", lid, "interest-categories", cid, "interests"]:
                assert cid in {c["id"] for c in self.categories[lid]}, "interests asked under the wrong list"
                return self._collection(request, "interests", self.interests[cid])
            case ["reports", cid, "unsubscribed"]:
                rows = (
                    [
                        {
                            "email_id": "e1",
                            "campaign_id": cid,
                            "timestamp": "2024-02-10T00:00:00+00:00",
                            "reason": "N/A",
                        }
                    ]
                    if cid == "c1"
                    else []
                )
                return self._collection(request, "unsubscribes", rows)
            case ["reports", cid, "email-activity"]:
                return self._collection(request, "emails", self._activity(cid))
        return json_reply({"title": "Resource Not Found", "status": 404}, 404)

    @staticmethod
    def _activity(cid: str) -> list[dict[str, Any]]:
        base = {"campaign_id": cid, "list_id": "l1", "list_is_active": True}
        return [
            {
                **base,
                "email_id": "e1",
                "email_address": "m1@l1.example",
                "activity": [
                    {"action": "open", "timestamp": "2024-02-03T09:00:00+00:00", "ip": "10.0.0.1"},
                    {
                        "action": "click",
                        "timestamp": "2024-02-03T09:01:00+00:00",
                        "url": "https://example.com",
                        "ip": "10.0.0.1",
                    },
                ],
            },
            {**base, "email_id": "e2", "email_address": "m2@l1.example", "activity": []},
        ]

    @staticmethod
    def _collection(request: Request, key: str, rows: Sequence[dict[str, Any]]) -> Response:
        args = request.args
        chosen = list(rows)
        field = args.get("sort_field")
        if field:
            since, before = args.get(f"since_{field}"), args.get(f"before_{field}")
            chosen = sorted(
                (
                    r
                    for r in chosen
                    if (not since or r[field][:19] >= since[:19])
                    and (not before or r[field][:19] < before[:19])
                ),
                key=lambda r: r[field],
            )
        offset, count = int(args.get("offset", "0")), int(args.get("count", "10"))
        page = [
            {
                k: v
                for k, v in r.items()
                if not (k == "_links" and args.get("exclude_fields") == f"{key}._links")
            }
            for r in chosen[offset : offset + count]
        ]
        return json_reply(
            {key: page, "total_items": len(chosen), "_links": [{"rel": "self", "href": request.url}]}
        )
