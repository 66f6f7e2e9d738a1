"""What the connector tests' conftests build their factory fixtures from (a uniquely named module:
`conftest` modules clash under one name): emulators started on loopback and connectors opened, each
stopped or closed after the test. A fixture ``yield from``s one of these generators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

from connector_core.engine.connector import Connector


class Startable(Protocol):
    def start(self) -> Any: ...

    def stop(self) -> Any: ...


EmulatorT = TypeVar("EmulatorT", bound=Startable)


def started_emulators(build: Callable[..., EmulatorT]) -> Iterator[Callable[..., EmulatorT]]:
    """Yields ``make(**settings)``: ``build(**settings)`` started; every one made is stopped after the test."""
    started: list[EmulatorT] = []

    def make(**overrides: Any) -> EmulatorT:
        emu = build(**overrides)
        emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


def opened_connectors(
    default_spec: str, default_options: Callable[[], dict[str, Any]] = dict
) -> Iterator[Callable[..., Connector]]:
    """Yields ``open_(config, spec=default_spec, **options)``: ``Connector.open`` with ``default_options()`` under
    the options given (made afresh for each connector); every one opened is closed after the test."""
    opened: list[Connector] = []

    def open_(config: dict[str, Any], spec: str | Path = default_spec, **options: Any) -> Connector:
        connector = Connector.open(spec, config, **{**default_options(), **options})
        opened.append(connector)
        return connector

    yield open_
    for connector in opened:
        connector.close()


__all__ = ["Startable", "opened_connectors", "started_emulators"]
