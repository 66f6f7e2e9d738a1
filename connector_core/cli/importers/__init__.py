"""Importers: other platforms' connector definitions turned into connector-core specs (`connector-core import`)."""
