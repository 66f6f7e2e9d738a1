"""The retry rule of a plain create (no idempotency key), as the spec reference states it: a 429 is
retried, because the API refused the request without acting on it; a 5xx or a dropped connection is
not, because the record may have been created."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeapi import FakeAPI, open_connector

from connector_core.engine.connector import Connector
from connector_core.errors import RetriableHTTPError


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/customers", {"id": "c-1"}, status=201)
        yield server


def creator(tmp_path: Path, api: FakeAPI) -> Connector:
    spec = {
        "name": "writer",
        "base_url": api.url,
        "defaults": {"retries": {"attempts": 3, "backoff": 0}},
        "operations": {
            "create_customer": {
                "kind": "create",
                "input": {"type": "object", "properties": {"name": {"type": "string"}}},
                "request": {"method": "POST", "path": "/customers", "json": "{{ input }}"},
                "id": {"path": "id"},
            }
        },
    }
    return open_connector(tmp_path, spec, sleep=lambda seconds: None)


def test_a_create_refused_with_429_is_sent_again(tmp_path: Path, api: FakeAPI) -> None:
    api.fail("/customers", 429, times=1, headers={"Retry-After": "0"})
    with creator(tmp_path, api) as connector:
        result = connector.call("create_customer", {"name": "Ada"})
    assert result["id"] == "c-1"
    assert len(api.received("/customers")) == 2


def test_a_create_answered_with_503_is_not_sent_again(tmp_path: Path, api: FakeAPI) -> None:
    api.fail("/customers", 503, times=1)
    with creator(tmp_path, api) as connector, pytest.raises(RetriableHTTPError):
        connector.call("create_customer", {"name": "Ada"})
    assert len(api.received("/customers")) == 1
