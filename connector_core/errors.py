"""Exceptions raised by connector-core, sorted by what the caller does about them.

::

    ConnectorError                  root: anything connector-core raises on purpose
    ├── SpecError                   a spec or connection file is malformed (fix the file)
    ├── ConfigError                 the user's settings are missing or invalid (fix the config)
    ├── PluginError                 a plugin failed to load or registered something twice
    │   └── DuplicateComponentError
    ├── InterpolationError          a template failed while rendering (fix the template or its inputs)
    ├── PaginationLoopError         the API handed back a page token it already gave
    ├── OperationError              a write operation was called with bad input
    ├── StateError                  a sync's state database cannot be used as it is (fix, restore or reset it)
    │   └── LeaseLostError          another run took the connection's lease over: this run must stop
    └── HTTPError                   the API answered with an error, or did not answer
        ├── RetriableHTTPError      429, 5xx, network errors: retried, then raised when attempts run out
        └── FatalHTTPError          other 4xx: retrying would not help
            └── AuthError           401/403 or a credential that cannot be renewed

Every message says what was received, what was expected and where. None of them carry secrets:
messages pass through the connection's redactor before they are raised.
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    """Root of every error connector-core raises on purpose.

    Attributes:
        hint: an optional suggestion shown to the user after the message.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class SpecError(ConnectorError):
    """A spec or connection file is malformed.

    Attributes:
        problems: each located problem, already formatted as ``file:line:col: path: message``.
        spec_path: the file the problems were found in, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        problems: list[str] | None = None,
        spec_path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []
        self.spec_path = spec_path

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return "\n".join([self.message, *(f"  {p}" for p in self.problems)])


class ConfigError(ConnectorError):
    """The user's settings (config file, environment, secret files) are missing or invalid."""

    def __init__(self, message: str, *, problems: list[str] | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []

    def __str__(self) -> str:
        lines = [self.message, *(f"  {p}" for p in self.problems)]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class PluginError(ConnectorError):
    """A plugin could not be loaded or broke a hook's contract."""


class DuplicateComponentError(PluginError):
    """Two plugins registered a component (paginator, auth type, connector…) under one name."""


class InterpolationError(ConnectorError):
    """A template failed while rendering, e.g. it referred to an undefined variable."""


class PaginationLoopError(ConnectorError):
    """The API returned a page token that was already used: following it would loop forever."""


class OperationError(ConnectorError):
    """A write operation was called with input that does not match its declared schema."""


class StateError(ConnectorError):
    """A sync's state database cannot be used as it is: a directory, missing, empty (truncated),
    damaged, read-only where it must be written, or its write-ahead log damaged. The message names the
    file; the hint says what to do. Nothing was written to it."""


class StateUnavailableError(StateError):
    """The state database did not answer (a PostgreSQL server down or out of reach, a lock held past its
    wait): nothing is wrong with it or the files, and trying again later may succeed. The CLI exits 3, as
    for an API that failed; a worker engine retries it."""


class LeaseLostError(StateError):
    """Another run took over the connection's lease (this one's expired while it was paused or cut off),
    so this run may no longer commit: the transaction that found it out was rolled back. The run stops;
    the one that holds the lease goes on from the last checkpoint.

    Attributes:
        connection: the connection's name.
        token: the fencing token this run held.
        holder: the owner that holds the lease now, or None when nobody does (the row was removed).
        holder_token: that owner's token, or None.
    """

    def __init__(
        self,
        message: str,
        *,
        connection: str,
        token: int,
        holder: str | None = None,
        holder_token: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.connection = connection
        self.token = token
        self.holder = holder
        self.holder_token = holder_token


class HTTPError(ConnectorError):
    """The API answered with an error status, or the request failed on the network.

    Attributes:
        method: HTTP method.
        url: the redacted URL.
        status: the HTTP status, or None for network errors.
        body: the (redacted, truncated) response body, when there was one.
        attempts: how many attempts were made before giving up.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int | None = None,
        body: Any = None,
        attempts: int = 1,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.attempts = attempts


class RetriableHTTPError(HTTPError):
    """A transient failure (429, 5xx, connection error); raised once retries are exhausted."""


class FatalHTTPError(HTTPError):
    """A client error that retrying would not fix.

    Attributes:
        final: the spec's error rules said ``fail``: not retried even on a status the retry policy lists.
    """

    final: bool = False


class AuthError(FatalHTTPError):
    """Credentials were refused, or a token expired and cannot be renewed."""


__all__ = [
    "AuthError",
    "ConfigError",
    "ConnectorError",
    "DuplicateComponentError",
    "FatalHTTPError",
    "HTTPError",
    "InterpolationError",
    "LeaseLostError",
    "OperationError",
    "PaginationLoopError",
    "PluginError",
    "RetriableHTTPError",
    "SpecError",
    "StateError",
    "StateUnavailableError",
]
