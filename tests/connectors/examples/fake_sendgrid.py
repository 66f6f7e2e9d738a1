"""A local SendGrid v3 API (docs.sendgrid.com/api-reference): bearer API key; suppression lists paged by
`offset`/`limit` and filtered by `start_time`/`end_time` (epoch seconds); marketing lists under `result`
with the next page's URL at `_metadata.next`; the contacts export job, whose files are gzipped CSVs.

As SendGrid's files are pre-signed links on S3, the fake's files are on another host by name: `localhost`
(the API is 127.0.0.1), and like S3 it refuses a download that carries an Authorization header."""

from __future__ import annotations

import gzip
import time
from collections.abc import Sequence
from typing import Any

from ported_api_server import PortedAPI, json_reply
from werkzeug.wrappers import Request, Response

API_KEY = "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"
T0 = 1_704_067_200  # 2024-01-01T00:00:00Z


class FakeSendGrid(PortedAPI):
    def __init__(self) -> None:
        super().__init__()
        self.bounces = [
            {
                "created": T0 + 3600 * i,
                "email": f"b{i}@example.com",
                "reason": "550 5.1.1 unknown user",
                "status": "5.1.1",
            }
            for i in range(1, 8)
        ]
        self.lists = [{"id": f"list-{i}", "name": f"List {i}", "contact_count": i} for i in range(1, 6)]
        self.polls = 0
        self.throttle_once = False
        self.files_url = self.url.replace("127.0.0.1", "localhost")  # the "storage" host of the export files

    def answer(self, request: Request) -> Response:
        if request.path.startswith("/downloads/"):
            if request.host != self.files_url.split("://", 1)[1]:
                return Response("not found", status=404)  # the files are not on the API's host
            if "Authorization" in request.headers:  # S3's answer to a pre-signed link sent with a header
                return Response(
                    "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>",
                    status=400,
                    content_type="application/xml",
                )
            return self._download(request.path)
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return json_reply({"errors": [{"field": None, "message": "authorization required"}]}, 401)
        if self.throttle_once:
            self.throttle_once = False
            return json_reply(
                {"errors": [{"message": "too many requests"}]},
                429,
                {"X-RateLimit-Reset": str(int(time.time()) + 30)},
            )
        match request.path:
            case "/v3/suppression/bounces":
                return self._suppressions(request, self.bounces)
            case (
                "/v3/suppression/spam_reports"
                | "/v3/suppression/blocks"
                | "/v3/suppression/invalid_emails"
                | "/v3/suppression/unsubscribes"
            ):
                kind = request.path.rsplit("/", 1)[-1]
                rows = [
                    {"created": T0 + 7200 * i, "email": f"{kind}{i}@example.com", "reason": kind}
                    for i in range(1, 5)
                ]
                return self._suppressions(request, rows)
            case "/v3/asm/suppressions":
                rows = [
                    {
                        "created_at": T0 + 7200 * i,
                        "email": f"g{i}@example.com",
                        "group_id": 1,
                        "group_name": "Weekly",
                    }
                    for i in range(1, 5)
                ]
                return self._suppressions(request, rows, "created_at")
            case "/v3/marketing/singlesends" | "/v3/marketing/campaigns":
                kind = request.path.rsplit("/", 1)[-1]
                rows = [{"id": f"{kind}-{i}", "name": f"{kind} {i}", "status": "sent"} for i in range(1, 4)]
                return self._marketing(request, rows)
            case "/v3/marketing/stats/singlesends" | "/v3/marketing/stats/automations":
                stats = [
                    {"id": f"s-{i}", "aggregation": "total", "stats": {"delivered": 10 * i, "opens": i}}
                    for i in range(1, 4)
                ]
                return self._marketing(request, stats, key="results")  # statistics come under `results`
            case "/v3/marketing/lists":
                return self._marketing(request, self.lists)
            case "/v3/templates":
                return self._marketing(request, [{"id": "t1", "name": "Welcome", "generation": "dynamic"}])
            case "/v3/asm/groups":
                return json_reply(
                    [
                        {
                            "id": 1,
                            "name": "Weekly",
                            "description": "Weekly news",
                            "is_default": True,
                            "unsubscribes": 3,
                        }
                    ]
                )
            case "/v3/marketing/segments/2.0":
                return json_reply({"results": [{"id": "s1", "name": "Openers", "contacts_count": 2}]})
            case "/v3/marketing/contacts/exports" if request.method == "POST":
                return json_reply(
                    {"id": "exp-1", "_metadata": {"self": f"{self.url}/v3/marketing/contacts/exports/exp-1"}},
                    202,
                )
            case "/v3/marketing/contacts/exports/exp-1":
                self.polls += 1
                if self.polls == 1:
                    return json_reply(
                        {"id": "exp-1", "status": "pending", "created_at": "2024-03-01T00:00:00Z"}
                    )
                signed = "X-Amz-Expires=3600&X-Amz-Signature=9f8e7d6c5b4a39281706f5e4d3c2b1a0"
                urls = [f"{self.files_url}/downloads/contacts-{n}.csv.gz?{signed}" for n in (1, 2)]
                return json_reply(
                    {"id": "exp-1", "status": "ready", "urls": urls, "message": "", "contact_count": 3}
                )
        return json_reply({"errors": [{"message": "resource not found"}]}, 404)

    @staticmethod
    def _suppressions(request: Request, rows: Sequence[dict[str, Any]], field: str = "created") -> Response:
        start, end = int(request.args.get("start_time", "0")), int(request.args.get("end_time", str(2**40)))
        chosen = [r for r in rows if start <= r[field] <= end]
        offset, limit = int(request.args.get("offset", "0")), int(request.args.get("limit", "500"))
        return json_reply(chosen[offset : offset + limit])

    def _marketing(self, request: Request, rows: Sequence[dict[str, Any]], key: str = "result") -> Response:
        size, token = int(request.args.get("page_size", "100")), int(request.args.get("page_token", "0"))
        meta: dict[str, Any] = {"self": request.url, "count": len(rows)}
        if token + size < len(rows):
            meta["next"] = f"{self.url}{request.path}?page_size={size}&page_token={token + size}"
        return json_reply({key: list(rows[token : token + size]), "_metadata": meta})

    @staticmethod
    def _download(path: str) -> Response:
        rows = {
            "/downloads/contacts-1.csv.gz": [
                "c1,ada@example.com,Ada,2024-01-02T00:00:00Z",
                "c2,bo@example.com,,2024-01-03T00:00:00Z",
            ],
            "/downloads/contacts-2.csv.gz": ["c3,cy@example.com,Cy,2024-01-04T00:00:00Z"],
        }.get(path)
        if rows is None:
            return Response("not found", status=404)
        text = "\n".join(["CONTACT_ID,EMAIL,FIRST_NAME,CREATED_AT", *rows]) + "\n"
        return Response(gzip.compress(text.encode()), content_type="application/octet-stream")
