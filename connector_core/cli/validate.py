"""`connector-core validate`: recognise a file as a connector spec or a connection file and check it."""

from __future__ import annotations

from pathlib import Path

from connector_core.engine.documents import load_document
from connector_core.engine.loader import load_spec
from connector_core.engine.registry import Registry
from connector_core.errors import SpecError

CONNECTION_KEYS = frozenset({"source", "destination", "flows", "direction"})


def validate_file(path: Path, registry: Registry) -> str:
    """Validate ``path``; return what it is ('connector spec' or 'connection'); raise on problems."""
    doc = load_document(path)
    if isinstance(doc.data, dict) and CONNECTION_KEYS & set(doc.data):
        try:
            from connector_core.sync.connection import load_connection
        except ImportError:
            raise SpecError(f"{path}: connection files need the sync runner, which this version does not include") from None
        load_connection(path, registry)
        return "connection"
    load_spec(path, registry)
    return "connector spec"


__all__ = ["validate_file"]
