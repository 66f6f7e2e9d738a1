"""Static credentials: ``none``, ``api_key`` (header or query), ``bearer`` and ``basic``."""

from __future__ import annotations

import base64
from typing import Literal

import requests
from pydantic import Field
from requests.auth import AuthBase, HTTPBasicAuth

from connector_core.engine.auth.base import AuthContext, AuthModel, _required


class NoAuth(AuthModel):
    """No authentication."""

    type: Literal["none"] = "none"

    def build(self, ctx: AuthContext) -> AuthBase | None:
        return None


class _HeaderAuth(AuthBase):
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers[self.name] = self.value
        return r


class _QueryAuth(AuthBase):
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.prepare_url(r.url, {self.name: self.value})
        return r


class ApiKeyAuth(AuthModel):
    """An API key in a header or a query parameter."""

    type: Literal["api_key"] = "api_key"
    name: str = Field("X-API-Key", description="Header or query parameter name.")
    value: str = Field(..., description="The key (template, e.g. '{{ config.api_key }}').")
    location: Literal["header", "query"] = Field("header", alias="in", description="Where the key goes.")
    prefix: str = Field("", description="Text put before the key, e.g. 'Token '.")

    def build(self, ctx: AuthContext) -> AuthBase:
        key = _required(ctx, self.value, "value", secret=True)
        if self.location == "query":
            return _QueryAuth(self.name, self.prefix + key)
        return _HeaderAuth(self.name, self.prefix + key)


class BearerAuth(AuthModel):
    """A static bearer token."""

    type: Literal["bearer"] = "bearer"
    token: str = Field(..., description="The token (template, e.g. '{{ config.access_token }}').")

    def build(self, ctx: AuthContext) -> AuthBase:
        return _HeaderAuth("Authorization", "Bearer " + _required(ctx, self.token, "token", secret=True))


class BasicAuth(AuthModel):
    """HTTP Basic authentication."""

    type: Literal["basic"] = "basic"
    username: str = Field(..., description="User name (template).")
    password: str = Field("", description="Password (template).")

    def build(self, ctx: AuthContext) -> AuthBase:
        user = _required(ctx, self.username, "username")
        password = str(ctx.render(self.password) or "")
        ctx.redactor.add(password)
        ctx.redactor.add(base64.b64encode(f"{user}:{password}".encode()).decode())
        return HTTPBasicAuth(user, password)


__all__ = ["ApiKeyAuth", "BasicAuth", "BearerAuth", "NoAuth"]
