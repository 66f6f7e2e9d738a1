"""The ground every auth method stands on: the build context, the spec-model base and token storage.

``AuthContext`` is what an auth type is given to build itself, ``AuthModel`` the base of auth spec
models, ``TokenStore`` the protocol for tokens that must outlive a process (``MemoryTokenStore`` here,
``JsonFileTokenStore`` in ``tokenstore``), and ``_required`` renders a setting that may not be empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from requests.auth import AuthBase

from connector_core.engine.redaction import Redactor
from connector_core.engine.spec import SpecModel
from connector_core.errors import ConfigError


class TokenStore(Protocol):
    """Where tokens that must outlive a process (authorization-code tokens) are kept."""

    def load_token(self, key: str) -> dict[str, Any] | None: ...

    def save_token(self, key: str, token: dict[str, Any]) -> None: ...


class MemoryTokenStore:
    """A TokenStore that forgets everything when the process ends."""

    def __init__(self) -> None:
        self._tokens: dict[str, dict[str, Any]] = {}

    def load_token(self, key: str) -> dict[str, Any] | None:
        return self._tokens.get(key)

    def save_token(self, key: str, token: dict[str, Any]) -> None:
        self._tokens[key] = dict(token)


@dataclass
class AuthContext:
    """What an auth type needs to build itself.

    Attributes:
        render: renders a template (or nested value) over the connection's ``config``.
        redactor: register every secret the auth obtains here.
        session: a requests session for token endpoints (TLS verification on).
        check_url: raises ConfigError when a URL may not carry credentials (plain http off loopback).
        tokens: persistent token storage for flows that cannot mint new tokens unattended.
        connector: name of the connector, used to key stored tokens and in messages.
        now: clock, replaceable in tests.
    """

    render: Callable[[Any], Any]
    redactor: Redactor
    session: requests.Session
    check_url: Callable[[str], None]
    tokens: TokenStore = field(default_factory=MemoryTokenStore)
    connector: str = "connector"
    now: Callable[[], float] = time.time


class AuthModel(SpecModel):
    """Base of auth spec models: subclasses declare ``type: Literal[...]`` and implement build()."""

    def build(self, ctx: AuthContext) -> AuthBase | None:  # pragma: no cover - abstract
        raise NotImplementedError


def _required(ctx: AuthContext, value: Any, name: str, secret: bool = False) -> str:
    rendered = ctx.render(value)
    if rendered is None or rendered == "":
        raise ConfigError(
            f"auth setting '{name}' is empty", hint="check the config values the spec's auth refers to"
        )
    text = str(rendered)
    if secret:
        ctx.redactor.add(text)
    return text


__all__ = ["AuthContext", "AuthModel", "MemoryTokenStore", "TokenStore"]
