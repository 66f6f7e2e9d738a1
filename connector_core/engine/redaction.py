"""Keeps secret values out of logs, error messages, cassettes and state files."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"

# Query parameters and header names whose values are secret whatever the spec says.
SENSITIVE_NAMES = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api_key",
        "apikey",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "client_assertion",
        "assertion",
        "password",
        "token",
        "code",
        "code_verifier",
        "oauth_signature",
        "oauth_token",
        "oauth_consumer_key",
        "oauth_nonce",
    }
)

_MIN_SECRET_LENGTH = 4


class Redactor:
    """Replaces every registered secret value with ``***`` in text and nested data.

    Secrets are registered from the config (fields flagged ``secret``) and at run time (tokens the
    auth obtains). Each value is also masked in its URL-encoded forms, since secrets travel in query
    strings and form bodies.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: Any) -> None:
        """Register a secret value (ignored when empty or too short to be meaningful)."""
        if not isinstance(secret, str) or len(secret) < _MIN_SECRET_LENGTH:
            return
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._values)

    def text(self, value: str) -> str:
        """Return ``value`` with every registered secret masked."""
        pattern = self._pattern
        if pattern is None or not value:
            return value
        return pattern.sub(MASK, value)

    def data(self, value: Any) -> Any:
        """Return a copy of nested dicts/lists/strings with secrets masked, and secret-named keys masked."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                k: (MASK if isinstance(k, str) and k.lower() in SENSITIVE_NAMES and v else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value

    def headers(self, headers: Any) -> dict[str, str]:
        """Mask header values that are secret by name or contain a registered secret."""
        masked: dict[str, str] = {}
        for name, val in dict(headers).items():
            if name.lower() in SENSITIVE_NAMES:
                masked[name] = MASK
            else:
                masked[name] = self.text(str(val))
        return masked


__all__ = ["MASK", "SENSITIVE_NAMES", "Redactor"]
