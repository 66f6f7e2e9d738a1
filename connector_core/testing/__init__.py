"""connector-core's test kit: recorded HTTP with secrets scrubbed, connector helpers, and the emulator kit.

* :mod:`connector_core.testing.pytest_plugin` is loaded by pytest through the ``pytest11`` entry point
  wherever connector-core is installed; it provides the fixtures described there (``connector_vcr``,
  ``connector_cassette``, ``load_connector``, ``read_stream``, ...).
* :mod:`connector_core.testing.cassettes`: scrubbing, matching and the secret check of cassettes;
  :func:`assert_cassette_has_no_secrets` is re-exported here.
* :mod:`connector_core.testing.emulator`: the kit local API emulators are built on.

Importing this package does not import pytest, so the emulators run in an installation without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector_core.engine.connector import Connector

from connector_core.testing.cassettes import (
    MATCH_ON,
    OAUTH1_SECRET_PARAMS,
    SECRET_BODY_FIELDS,
    SECRET_HEADERS,
    VOLATILE_PARAMS,
    CassetteScrubber,
    SerialSession,
    assert_cassette_has_no_secrets,
    make_vcr,
    match_body,
    match_query,
)

# --- helpers behind the fixtures ---------------------------------------------------------------------


@dataclass
class StreamRead:
    """What :func:`read_stream` returns: the records, the final state and every checkpoint."""

    records: list[dict[str, Any]]
    state: dict[str, Any]
    checkpoints: list[dict[str, Any]] = field(default_factory=list)


def read_stream(
    connector: Connector, stream: str, state: Mapping[str, Any] | None = None, *, limit: int | None = None
) -> StreamRead:
    """Read a whole stream (or ``limit`` records) into memory."""
    checkpoints: list[dict[str, Any]] = []
    records = list(connector.read(stream, dict(state or {}), on_checkpoint=checkpoints.append, limit=limit))
    final = checkpoints[-1] if checkpoints else dict(state or {})
    return StreamRead(records=records, state=final, checkpoints=checkpoints)


def call_operation(connector: Connector, operation: str, payload: Mapping[str, Any] | None = None) -> Any:
    """Run one write operation or action and return its output."""
    return connector.call(operation, payload)


__all__ = [
    "MATCH_ON",
    "OAUTH1_SECRET_PARAMS",
    "SECRET_BODY_FIELDS",
    "SECRET_HEADERS",
    "VOLATILE_PARAMS",
    "CassetteScrubber",
    "SerialSession",
    "StreamRead",
    "assert_cassette_has_no_secrets",
    "call_operation",
    "make_vcr",
    "match_body",
    "match_query",
    "read_stream",
]
