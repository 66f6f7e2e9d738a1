"""`connector-core import airbyte`: an Airbyte declarative (low-code) manifest as a connector-core spec.

:func:`convert_manifest` returns the spec as a mapping and a :class:`Report` of what it could not carry
over, each finding with its manifest path and what to do. The modules, one job each: ``resolve``
(``$ref`` and ``$parameters``), ``templates`` (Airbyte's Jinja names into ours), ``auth``, ``paging``,
``incremental``, ``records`` (selectors, decoders, schemas, transformations), ``errors_map`` (error
handlers), ``streams`` (one stream, its partitions and parents) and ``convert`` (the whole connector).
User documentation: docs/interop.md#importing-an-airbyte-manifest.
"""

from connector_core.cli.importers.airbyte.convert import convert_manifest, default_name
from connector_core.cli.importers.airbyte.report import Finding, Report

__all__ = ["Finding", "Report", "convert_manifest", "default_name"]
