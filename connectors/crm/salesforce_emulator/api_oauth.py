"""``/services/oauth2/``: the token endpoint, the consent redirect, token revocation."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from .auth import TokenRegistry
from .call import JSON_TYPE, Reply
from .errors import OAuthError


def token(request: Request, tokens: TokenRegistry, base_url: str) -> Reply:
    if request.method != "POST":
        raise OAuthError("invalid_request", "must use HTTP POST", 400)
    form = {k: v for k, v in request.form.items()}
    return Reply(200, tokens.grant(form, request.headers.get("Authorization"), base_url))


def authorize(request: Request, tokens: TokenRegistry) -> Response:
    """Consent at once and send the browser back to the redirect URI with a code."""
    try:
        location = tokens.consent({k: v for k, v in request.args.items()})
    except OAuthError as exc:
        return Response(f"<html><body><h1>OAuth error</h1><p>{exc.error}: {exc.description}</p></body></html>",
                        status=400, content_type="text/html;charset=UTF-8")
    return Response(status=302, headers={"Location": location})


def revoke(request: Request, tokens: TokenRegistry) -> Reply:
    value = request.values.get("token", "")
    if not value:
        raise OAuthError("unsupported_token_type", "this token type is not supported")
    tokens.revoke(value)
    return Reply(200, b"", content_type=JSON_TYPE)
