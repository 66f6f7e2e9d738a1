"""Fixtures for the Salesforce emulator's own tests: a small seeded org on loopback and a signed-in client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from salesforce_emulator_support import Org, start


@pytest.fixture
def org() -> Iterator[Org]:
    emulator = start()
    try:
        yield Org(emulator)
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def shared_org() -> Iterator[Org]:
    """One org for read-only tests of a module."""
    emulator = start()
    try:
        yield Org(emulator)
    finally:
        emulator.stop()
