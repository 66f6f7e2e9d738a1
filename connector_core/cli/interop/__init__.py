"""Speaking other platforms' protocols: ``spec|check|discover|read --format airbyte|singer``.

``airbyte`` makes a spec an Airbyte source (SPEC, CONNECTION_STATUS, CATALOG, RECORD, per-stream STATE,
LOG and TRACE messages on stdout); ``singer`` makes it a Singer tap for Meltano (SCHEMA, RECORD, STATE).
Only the options live here, so that the plain commands import nothing of the protocols; each verb
imports its protocol's module when ``--format`` asks for it. See docs/interop.md.
"""

from __future__ import annotations

import click

FORMATS = ("airbyte", "singer")

#: The environment variables a container or a Meltano plugin sets instead of arguments: the platform
#: appends only its own arguments (``spec``, ``read --config ... --catalog ...``) to the entry point.
CONNECTOR_ENV = "CONNECTOR_CORE_CONNECTOR"
FORMAT_ENV = "CONNECTOR_CORE_FORMAT"

FORMAT_OPTION = click.option(
    "--format", "protocol", type=click.Choice(FORMATS), envvar=FORMAT_ENV, show_envvar=True,
    help="Speak the Airbyte or Singer protocol on stdout instead of connector-core's own output (docs/interop.md).",
)


#: CONNECTOR, or the connector CONNECTOR_CORE_CONNECTOR names when the argument is left out.
CONNECTOR_ARGUMENT = click.argument("connector", envvar=CONNECTOR_ENV)


__all__ = ["CONNECTOR_ARGUMENT", "CONNECTOR_ENV", "FORMATS", "FORMAT_ENV", "FORMAT_OPTION"]
