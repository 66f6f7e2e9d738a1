"""The JSON files a platform hands a connector (catalogs, state), read with the position of every value,
so that a mistake in one is reported as ``file:line:col: path: what is wrong``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector_core.engine.documents import Document, PathKey, format_path, load_document
from connector_core.errors import ConfigError, SpecError


class InputFile:
    """A parsed input file and the means to point at any place in it."""

    def __init__(self, path: Path, what: str) -> None:
        self.what = what
        try:
            self.doc: Document = load_document(path)
        except SpecError as exc:  # a platform's file, not a spec: the user fixes it as a config
            raise ConfigError(f"{what} {exc.message}", problems=exc.problems, hint=exc.hint) from None
        self.data: Any = self.doc.data

    def error(self, at: PathKey, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.doc.where(at)}: {format_path(at)}: {message}", hint=hint)

    def expect(self, value: Any, kind: type | tuple[type, ...], at: PathKey, expected: str) -> Any:
        """``value`` if it is a ``kind``, else a located error saying what was ``expected``."""
        if isinstance(value, kind) and not (isinstance(value, bool) and bool not in _kinds(kind)):
            return value
        raise self.error(at, f"expected {expected}, got {_describe(value)}")


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _describe(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    if value is None:
        return "null"
    text = repr(value) if isinstance(value, str | int | float | bool) else ""
    return f"{names.get(type(value), type(value).__name__)}{' ' + text[:60] if text else ''}"


__all__ = ["InputFile"]
