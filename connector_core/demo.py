"""`connector-core demo`: the main job against local servers, with nothing to configure."""

from __future__ import annotations

import time

import click


def run_demo(customers: int = 500) -> None:
    """Start the example shop API, check it, read each stream incrementally twice, and write a record."""
    from connector_core.connector import Connector
    from connectors.example.server import ShopServer

    with ShopServer(customers=customers) as server:
        config = {"base_url": server.url, "api_key": "demo-key"}
        with Connector.open("example", config) as shop:
            click.echo(f"example shop API on {server.url}", err=True)
            click.echo(shop.check().message, err=True)
            state: dict[str, dict] = {}
            for stream in shop.spec.streams:
                started = time.perf_counter()
                count = sum(1 for _ in shop.read(stream, on_checkpoint=lambda s, name=stream: state.__setitem__(name, s)))
                click.echo(f"read {count} {stream} in {time.perf_counter() - started:.2f}s; state {state.get(stream, {})}", err=True)
            created = shop.call("create_customer", {"name": "Demo Customer", "email": "demo@example.test", "country": "NL"})
            click.echo(f"created customer {created['id']}", err=True)
            again = sum(1 for _ in shop.read("customers", state.get("customers")))
            click.echo(f"incremental re-read of customers: {again} record(s) changed since the last checkpoint", err=True)
