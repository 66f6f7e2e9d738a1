"""The plugin verbs: ``plugins`` lists what is installed, ``init-plugin`` scaffolds a new plugin package."""

from __future__ import annotations

from pathlib import Path

import click

from connector_core.cli.app import Context, guarded, pass_context


@click.command()
@pass_context
@guarded
def plugins(ctx: Context) -> None:
    """List installed plugins and what each registers."""
    registry = ctx.registry
    by_plugin: dict[str, list[str]] = {}
    for key, owner in sorted(registry.owners.items()):
        by_plugin.setdefault(owner, []).append(key)
    for name, plugin in sorted(registry.pm.list_name_plugin(), key=lambda p: p[0] or ""):
        items = by_plugin.get(name or "", [])
        click.echo(f"{name}  ({getattr(plugin, '__name__', type(plugin).__name__)})")
        for item in items:
            click.echo(f"    {item}")
        hooks = sorted(h.name for h in registry.pm.get_hookcallers(plugin) or [] if not h.name.startswith("connector_register"))
        for hook in hooks:
            click.echo(f"    hook: {hook}")


@click.command("init-plugin")
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(file_okay=False), help="Where to create the package (default: ./NAME).")
@guarded
def init_plugin(name: str, directory: str | None) -> None:
    """Scaffold a plugin package NAME: pyproject, spec, hooks and a cassette test."""
    from connector_core.cli.scaffold import next_steps, scaffold_plugin

    target = scaffold_plugin(name, Path(directory) if directory else Path(name))
    click.echo(f"created {target}; next:", err=True)
    for step in next_steps(target):
        click.echo(f"  {step}", err=True)
