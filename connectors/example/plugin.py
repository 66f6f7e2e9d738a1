"""Registers the example connector's spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector_core.hookspecs import hookimpl


@hookimpl
def connector_register_connectors() -> list[Path]:
    return [Path(__file__).with_name("example.yaml")]


@hookimpl
def connector_register_emulators() -> dict[str, Any]:
    return {"example": start_example}


def start_example(port: int | None) -> Any:
    """The example shop API on 127.0.0.1 (port 8300 unless told otherwise)."""
    from connector_core.engine.emulators import RunningEmulator
    from connectors.example.server import ShopServer

    server = ShopServer()
    url = server.start(port=8300 if port is None else port)
    return RunningEmulator("example", "example", url, {"base_url": url, "api_key": "demo-key"}, server.stop)
