"""Keeps secret values out of logs, error messages, cassettes and state files.

One mask for everything a person or a file sees:

* :class:`Redactor` masks the secrets one connection knows: its config's ``secret: true`` fields and
  ``{env: ...}``/``{file: ...}`` values, and every token its auth obtains, each in its plain,
  URL-encoded, base64 and base64url forms.
* Whatever a redactor knows, the userinfo of any URL is masked: ``https://user:pass@host`` becomes
  ``https://***@host``, registered as a secret or not.
* :func:`redact` applies both with every redactor alive in the process. It is the last line of
  defence where text leaves the process with no connection at hand: the CLI's stderr (messages,
  hints, debug logging, tracebacks) and the reasons and errors the state store writes.

What it cannot know, it cannot mask: a secret in a config field the spec does not flag ``secret``
and that is not read from ``env``/``file``, or one shorter than four characters.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import weakref
from collections.abc import Iterable
from typing import Any, overload
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

# scheme://userinfo@ : the userinfo runs to the last '@' before the host's end ('/', '?', '#', space),
# so a password with a raw '@' is masked whole. Quotes, brackets and backslashes end it too: they are
# not allowed unescaped in a URL, and they delimit the URL in JSON and repr() text.
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://)[^\s/?#\"<>\\\[\]{}|^`]*@")

_LIVE: weakref.WeakSet[Redactor] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


def mask_userinfo(text: str) -> str:
    """``text`` with the userinfo of every URL in it masked (``https://***@host``)."""
    if "@" not in text:
        return text
    return _USERINFO.sub(rf"\g<1>{MASK}@", text)


def secret_forms(secret: str) -> set[str]:
    """The forms a secret travels in: plain, URL-encoded (both ways), base64 and base64url (unpadded)."""
    encoded = secret.encode()
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(encoded).decode().rstrip("="),
        base64.urlsafe_b64encode(encoded).decode().rstrip("="),
    }


class Redactor:
    """Replaces every registered secret value, and the userinfo of URLs, with ``***``.

    Secrets are registered from the config (fields flagged ``secret``, values read from ``env`` or
    ``file``) and at run time (tokens the auth obtains). Each value is also masked in its URL-encoded
    and base64 forms, since secrets travel in query strings, form bodies and Basic headers.
    Every redactor joins the process-wide set :func:`redact` uses.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)
        with _LIVE_LOCK:
            _LIVE.add(self)

    def add(self, secret: Any) -> None:
        """Register a secret value (ignored when empty or too short to be meaningful)."""
        if not isinstance(secret, str) or len(secret) < _MIN_SECRET_LENGTH:
            return
        forms = {form for form in secret_forms(secret) if len(form) >= _MIN_SECRET_LENGTH}
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
        """Return ``value`` with every registered secret and every URL's userinfo masked."""
        if not value:
            return value
        return self.secrets_only(mask_userinfo(value))

    def secrets_only(self, value: str) -> str:
        """Return ``value`` with the registered secrets masked (URLs' userinfo left as it is)."""
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
                # requests-oauthlib hands some header values over as bytes
                masked[name] = self.text(val.decode("latin-1") if isinstance(val, bytes) else str(val))
        return masked


@overload
def redact(text: str) -> str: ...
@overload
def redact(text: None) -> None: ...
def redact(text: str | None) -> str | None:
    """``text`` with URLs' userinfo and the secrets of every redactor alive in this process masked.

    For text that leaves the process where no connection's redactor is at hand (the CLI's stderr,
    the state store). Masking another connection's secret too costs nothing; missing one would leak.
    """
    if not text:
        return text
    with _LIVE_LOCK:
        live = list(_LIVE)
    text = mask_userinfo(text)
    for redactor in live:
        text = redactor.secrets_only(text)
    return text


class RedactingFormatter(logging.Formatter):
    """A log formatter whose every line, traceback included, passes :func:`redact`.

    The CLI's stderr is masked already; embedding programs that log connector-core elsewhere use this.
    """

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


__all__ = ["MASK", "SENSITIVE_NAMES", "RedactingFormatter", "Redactor", "mask_userinfo", "redact", "secret_forms"]
