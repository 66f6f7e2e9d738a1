"""Helpers for the Salesforce emulator's tests: :class:`Org`, a started emulator with a signed-in client."""

from __future__ import annotations

from typing import Any

import requests

from connectors.crm.salesforce_emulator import SalesforceEmulator, SalesforceSettings

SMALL_ORG = {"accounts": 30, "contacts": 40, "opportunities": 20, "users": 3}


class Org:
    """A started emulator and a requests session holding a session id (no OAuth flow)."""

    def __init__(self, emulator: SalesforceEmulator) -> None:
        self.emulator = emulator
        self.url = emulator.url or ""
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {emulator.issue_access_token()}"

    @property
    def data(self) -> str:
        return f"{self.url}/services/data/v59.0"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.data + path, **kwargs)

    def query(self, soql: str, *, all_rows: bool = False, **kwargs: Any) -> requests.Response:
        return self.get("/queryAll" if all_rows else "/query", params={"q": soql}, **kwargs)

    def records(self, soql: str, *, all_rows: bool = False) -> list[dict[str, Any]]:
        reply = self.query(soql, all_rows=all_rows)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        rows = list(body["records"])
        while not body["done"]:
            body = self.http.get(self.url + body["nextRecordsUrl"]).json()
            rows.extend(body["records"])
        return rows

    def post(self, path: str, body: Any) -> requests.Response:
        return self.http.post(self.data + path, json=body)

    def patch(self, path: str, body: Any) -> requests.Response:
        return self.http.patch(self.data + path, json=body)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.delete(self.data + path, **kwargs)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        reply = requests.request(method, f"{self.url}/_emulator{path}", json=body)
        assert reply.status_code < 300, reply.text
        return reply.json() if reply.content else None


def start(**overrides: Any) -> SalesforceEmulator:
    emulator = SalesforceEmulator(SalesforceSettings(**{**SMALL_ORG, **overrides}))
    emulator.start()
    return emulator
