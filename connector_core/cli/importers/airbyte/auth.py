"""Airbyte authenticators as connector-core auths (docs/spec-reference.md#connectorspec, `auth`)."""

from __future__ import annotations

from typing import Any

from connector_core.cli.importers.airbyte.context import Conversion, custom_class
from connector_core.cli.importers.airbyte.templates import CONFIG_ONLY, Scope

HOOK = "write an auth plugin (docs/plugins.md#an-auth-type) and set `auth` to it"
_REFRESH_DEFAULTS = {"client_id_name": "client_id", "client_secret_name": "client_secret", "refresh_token_name": "refresh_token",
                     "access_token_name": "access_token", "expires_in_name": "expires_in", "grant_type_name": "grant_type"}


def convert_auth(node: Any, conv: Conversion, fallback: str) -> dict[str, Any] | list[dict[str, Any]] | None:
    """The spec's ``auth`` for an Airbyte authenticator; None when it has none or it is reported lost."""
    if not isinstance(node, dict):
        return None
    at = conv.where(node, fallback)
    scope = Scope(allowed=CONFIG_ONLY, params=conv.resolved.params(node))

    def text(key: str, default: Any = None) -> Any:
        value = node.get(key, default)
        return conv.template(value, scope, f"{at}.{key}", key) if value is not None else None

    kind = node.get("type")
    if custom_class(node):
        conv.lost(at, f"custom authenticator {custom_class(node)}: requests go out unauthenticated", HOOK)
        return None
    if kind == "NoAuth":
        return None
    if kind == "BearerAuthenticator":
        return _complete({"type": "bearer", "token": text("api_token")}, conv, at)
    if kind == "BasicHttpAuthenticator":
        return _complete({"type": "basic", "username": text("username"), "password": text("password", "")}, conv, at)
    if kind == "ApiKeyAuthenticator":
        option: dict[str, Any] = node["inject_into"] if isinstance(node.get("inject_into"), dict) else {}
        name = node.get("header") or option.get("field_name") or "X-API-Key"
        place = "query" if option.get("inject_into") == "request_parameter" else "header"
        if option.get("inject_into") in ("body_json", "body_data"):
            conv.lost(at, "an API key sent in the request body is sent as a header instead", HOOK, "changed")
        return _complete({"type": "api_key", "name": name, "value": text("api_token"), "in": place}, conv, at)
    if kind == "OAuthAuthenticator":
        return _oauth(node, conv, at, text)
    if kind == "SelectiveAuthenticator":
        return _selective(node, conv, at)
    conv.lost(at, f"authenticator {kind!r} has no connector-core equivalent: requests go out unauthenticated", HOOK)
    return None


def _oauth(node: dict[str, Any], conv: Conversion, at: str, text: Any) -> dict[str, Any] | None:
    renamed = [key for key, default in _REFRESH_DEFAULTS.items() if node.get(key, default) != default]
    if renamed:
        conv.lost(at, f"renamed token fields ({', '.join(renamed)}) are not converted: the standard OAuth 2.0 names are used",
                  HOOK, "changed")
    for key in ("token_expiry_date", "refresh_token_updater"):
        if node.get(key):
            conv.lost(f"{at}.{key}", f"{key} is not needed: connector-core keeps rotated tokens and their expiry in its token store",
                      "nothing to fix (docs/spec-reference.md#oauth2refreshtoken)", "note")
    for key in ("refresh_request_body", "refresh_request_headers", "profile_assertion"):
        if node.get(key):
            conv.lost(f"{at}.{key}", f"{key} is not converted: the token request carries the standard OAuth 2.0 fields only", HOOK, "changed")
    grant = node.get("grant_type", "refresh_token")
    if node.get("access_token_value") and not node.get("token_refresh_endpoint"):
        return _complete({"type": "bearer", "token": text("access_token_value")}, conv, at)
    common = {"token_url": text("token_refresh_endpoint"), "client_id": text("client_id"), "client_secret": text("client_secret")}
    if node.get("scopes"):
        common["scopes"] = list(node["scopes"])
    if grant == "client_credentials":
        return _complete({"type": "oauth2_client_credentials", **common}, conv, at)
    if grant != "refresh_token":
        conv.lost(f"{at}.grant_type", f"grant type {grant!r} is not converted: requests go out unauthenticated", HOOK)
        return None
    return _complete({"type": "oauth2_refresh", **common, "refresh_token": text("refresh_token")}, conv, at)


def _selective(node: dict[str, Any], conv: Conversion, at: str) -> list[dict[str, Any]] | None:
    path = node.get("authenticator_selection_path") or []
    choices = []
    for value, inner in (node.get("authenticators") or {}).items():
        auth = convert_auth(inner, conv, f"{at}.authenticators.{value}")
        if isinstance(auth, dict):
            lookup = "config" + "".join(f"[{step!r}]" for step in path)
            choices.append({"when": f"{{{{ {lookup} | default('') == {value!r} }}}}", "use": auth})
    return choices or None


def _complete(auth: dict[str, Any], conv: Conversion, at: str) -> dict[str, Any] | None:
    missing = [key for key, value in auth.items() if value is None]
    if missing:
        conv.lost(at, f"the authenticator's {', '.join(missing)} could not be converted: requests go out unauthenticated",
                  "write the auth by hand (docs/spec-reference.md#connectorspec)")
        return None
    return auth


__all__ = ["convert_auth"]
