"""``POST /oauth/v1/token`` (also ``/oauth/v3/token``) and access-token introspection."""

from __future__ import annotations

from ..auth import TokenRegistry
from ..errors import ApiError
from .context import Ctx, Reply


def token(ctx: Ctx, tokens: TokenRegistry) -> Reply:
    form = {k: v for k, v in ctx.request.form.items()}
    if not form and ctx.request.is_json:
        body = ctx.json(required=False)
        form = {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return 200, tokens.grant(form)


def access_token_info(ctx: Ctx, tokens: TokenRegistry, token_value: str) -> Reply:
    info = tokens.token_info(token_value)
    if info is None:
        raise ApiError(404, "OBJECT_NOT_FOUND", "Token not found")
    return 200, info
