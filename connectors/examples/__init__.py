"""Connectors ported from Airbyte's low-code manifests, as worked examples of docs/porting-from-airbyte.md."""
