"""Fixtures every test folder may use: a PostgreSQL database of the test's own.

``postgres_url`` creates a database with a random name on the server at 127.0.0.1:5432 (user
``postgres``, trust auth; ``CONNECTOR_CORE_TEST_POSTGRES`` names another server's maintenance database)
and drops it after the test. Without a server the test is skipped, saying why, unless
``CONNECTOR_CORE_REQUIRE_SERVICES=1`` (CI sets it in ``.ci/run``): then it fails, so a CI machine
without its services never passes by skipping.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest

# A suite started in the background by a non-interactive shell (`bash .ci/run &`) inherits SIGINT
# ignored, and so do the processes it starts: the tests of what Ctrl-C does would never see one. Caught
# again here, the children of this process start with the default disposition.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

POSTGRES_ADMIN = os.environ.get("CONNECTOR_CORE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def service_missing(service: str, reason: str) -> NoReturn:
    """Skip the test because ``service`` is missing, or fail it when CONNECTOR_CORE_REQUIRE_SERVICES=1."""
    if os.environ.get("CONNECTOR_CORE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{service} is required here (CONNECTOR_CORE_REQUIRE_SERVICES=1) but {reason}", pytrace=False)
    pytest.skip(f"{service}: {reason} (CI sets CONNECTOR_CORE_REQUIRE_SERVICES=1, which makes this a failure)")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The maintenance database URL of a PostgreSQL server that answers."""
    try:
        import psycopg
    except ImportError:
        service_missing("PostgreSQL", "psycopg is not installed (pip install -e '.[test]')")
    try:
        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        service_missing("PostgreSQL", f"no server answers at {POSTGRES_ADMIN} ({' '.join(str(exc).split())[:200]})")
    return POSTGRES_ADMIN


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """``postgresql://…/cc_test_RANDOM``: a new, empty database, dropped after the test."""
    import psycopg
    from psycopg import sql
    from sqlalchemy import make_url

    name = f"cc_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
