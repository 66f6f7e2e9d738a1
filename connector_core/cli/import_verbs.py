"""`connector-core import`: other platforms' connector definitions turned into specs.

``import airbyte MANIFEST -o SPEC`` writes the spec, validates it exactly as ``validate`` would, and
prints on stderr what could not be converted, each with its manifest path and what to do. Exit 0: the
spec is written and valid (findings may remain: read them); 1: the manifest could not be read, or the
spec written does not validate (its problems are printed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from connector_core.cli.app import EXIT_USER, Context, guarded, pass_context

HEADER = (
    "# Imported from an Airbyte manifest by `connector-core import airbyte {source}`.\n"
    "# Read the import report before relying on it: {count}.\n"
    "# Reference: docs/spec-reference.md; the conversion: docs/interop.md#importing-an-airbyte-manifest\n"
)


@click.group("import")
def import_group() -> None:
    """Convert another platform's connector definition into a connector spec."""


@import_group.command("airbyte")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Spec file to write (YAML).")
@click.option("--name", default=None, help="Connector name (default: from the manifest's folder, e.g. source-pipedrive -> pipedrive).")
@pass_context
def airbyte(ctx: Context, manifest: Path, output: Path, name: str | None) -> None:
    """Convert an Airbyte declarative MANIFEST (manifest.yaml) into a spec; report what was left out."""
    guarded(_import_airbyte)(ctx, manifest, output, name)


def _import_airbyte(ctx: Context, manifest: Path, output: Path, name: str | None) -> None:
    import yaml

    from connector_core.cli.importers.airbyte import convert_manifest
    from connector_core.cli.validate import report as validate_report
    from connector_core.errors import ConfigError

    if output.resolve() == manifest.resolve():
        raise ConfigError(f"{output}: the output would overwrite the manifest", hint="give another file to -o, e.g. -o spec.yaml")
    spec, report = convert_manifest(manifest, name)
    work = report.needing_work()
    count = f"{len(work)} finding{'s need' if len(work) != 1 else ' needs'} a look" if work else "nothing was left out"
    body = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=120)
    try:
        output.write_text(HEADER.format(source=manifest.name, count=count) + body, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{output}: cannot write the spec ({exc.strerror or exc})", hint="check that the folder exists and is writable") from None
    streams = spec.get("streams", {})
    click.echo(f"{output}: {len(streams)} stream{'s' if len(streams) != 1 else ''} imported from {manifest}; {count}", err=True)
    if report.findings:
        click.echo(report.render(), err=True)
    if not validate_report(output, ctx.registry, lambda text: click.echo(text, err=True)):
        click.echo("error: the imported spec does not validate; fix the problems above by hand (and please report the manifest)", err=True)
        sys.exit(EXIT_USER)


__all__ = ["import_group"]
