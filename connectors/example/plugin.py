"""Registers the example connector's spec."""

from __future__ import annotations

from pathlib import Path

from connector_core.hookspecs import hookimpl


@hookimpl
def connector_register_connectors() -> list[Path]:
    return [Path(__file__).with_name("example.yaml")]
