"""Protocol messages on stdout: one JSON object a line, written whole even when threads log at once."""

from __future__ import annotations

import io
import sys
import threading
from typing import Any, BinaryIO

import orjson


class MessageWriter:
    """stdout as a buffered binary stream (64 KiB: one system call per record would dominate a read)
    that writes each message as one line under a lock, so a log line from a worker thread never lands
    in the middle of a record."""

    def __init__(self) -> None:
        sys.stdout.flush()
        self._lock = threading.Lock()
        self._stream: BinaryIO
        self._owned = True
        try:
            self._stream = open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)  # noqa: SIM115 - closed by close()
        except (AttributeError, io.UnsupportedOperation, ValueError):  # not a real file (a test runner's capture)
            self._stream, self._owned = sys.stdout.buffer, False

    def write(self, message: dict[str, Any]) -> None:
        line = orjson.dumps(message, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS)
        with self._lock:
            self._stream.write(line)

    def flush(self) -> None:
        with self._lock:
            self._stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._stream.closed:
                return
            self._stream.flush()
            if self._owned:
                self._stream.close()


__all__ = ["MessageWriter"]
