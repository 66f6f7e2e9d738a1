"""A text stream standing in for another (stderr): what every such wrapper of the CLI shares."""

from __future__ import annotations

import io
from typing import TextIO


class TextStreamWrapper(io.TextIOBase):
    """Passes encoding, flushing and the file descriptor through to ``stream``; subclasses decide what
    ``write`` does with the text."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    @property
    def inner(self) -> TextIO:
        return self._stream

    @property
    def encoding(self) -> str:  # type: ignore[override]  # TextIOBase declares it as a plain attribute
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None) or "strict"

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True


__all__ = ["TextStreamWrapper"]
