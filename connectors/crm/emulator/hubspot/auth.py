"""Bearer-token authentication: private-app tokens and OAuth access/refresh tokens."""

from __future__ import annotations

import math
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from connector_core.testing.emulator import Clock

from .errors import ApiError
from .settings import HubSpotSettings

_NO_CREDENTIALS = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``kind`` is ``private_app`` or ``oauth``; ``app`` keys the rate-limit budget."""

    kind: str
    app: str
    token: str


class OAuthError(Exception):
    """Token-endpoint failure, rendered as ``{"status": code, "message", "correlationId"}`` with 400."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class TokenRegistry:
    """Issues OAuth access tokens (with expiry on the emulator clock) and authenticates requests."""

    def __init__(self, settings: HubSpotSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch s)
        self.refresh_tokens: set[str] = set(settings.refresh_tokens)
        self.codes: set[str] = set(settings.authorization_codes)
        self.revoked: set[str] = set()

    # -- token endpoint --------------------------------------------------------------------
    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        if grant_type not in ("refresh_token", "authorization_code"):
            raise OAuthError("BAD_GRANT_TYPE", "missing or unsupported grant_type")
        if form.get("client_id") != self.settings.client_id:
            raise OAuthError("BAD_CLIENT_ID", "missing or unknown client id")
        if form.get("client_secret") != self.settings.client_secret:
            raise OAuthError("BAD_CLIENT_SECRET", "missing or invalid client secret")
        with self._lock:
            if grant_type == "refresh_token":
                refresh = form.get("refresh_token", "")
                if refresh not in self.refresh_tokens:
                    raise OAuthError("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
            else:
                code = form.get("code", "")
                if code not in self.codes:
                    raise OAuthError("BAD_AUTH_CODE", "missing or invalid auth code")
                if self.settings.redirect_uri and form.get("redirect_uri") != self.settings.redirect_uri:
                    raise OAuthError("BAD_REDIRECT_URI", "redirect_uri does not match the one used to authorize")
                self.codes.discard(code)
                refresh = f"emu-rt-{uuid.uuid4()}"
                self.refresh_tokens.add(refresh)
            access = self._new_access_token()
        return {
            "token_type": "bearer",
            "refresh_token": refresh,
            "access_token": access,
            "expires_in": self.settings.access_token_ttl,
        }

    def _new_access_token(self) -> str:
        token = f"emu-at-{uuid.uuid4().hex}"
        self.access_tokens[token] = self.clock.now() + self.settings.access_token_ttl
        return token

    def issue_access_token(self) -> str:
        """Issue an OAuth access token directly (test helper)."""
        with self._lock:
            return self._new_access_token()

    def token_info(self, token: str) -> dict[str, Any] | None:
        expiry = self.access_tokens.get(token)
        if expiry is None:
            return None
        return {
            "token": token,
            "hub_id": self.settings.portal_id,
            "app_id": 1000001,
            "expires_in": max(int(expiry - self.clock.now()), 0),
            "user_id": 1,
            "token_type": "access",
            "scopes": ["oauth", "crm.objects.companies.read", "crm.objects.companies.write",
                       "crm.objects.contacts.read", "crm.objects.contacts.write",
                       "crm.objects.deals.read", "crm.objects.deals.write",
                       "crm.schemas.companies.read", "crm.schemas.contacts.read", "crm.schemas.deals.read"],
        }

    def revoke_refresh_token(self, token: str) -> bool:
        with self._lock:
            if token in self.refresh_tokens:
                self.refresh_tokens.discard(token)
                return True
            return False

    # -- request authentication ------------------------------------------------------------
    def authenticate(self, header: str | None) -> Principal:
        if not header or not header.lower().startswith("bearer "):
            raise ApiError(401, "INVALID_AUTHENTICATION", _NO_CREDENTIALS)
        token = header[7:].strip()
        if token in self.settings.private_app_tokens:
            return Principal("private_app", "private_app", token)
        expiry = self.access_tokens.get(token)
        if expiry is None:
            raise ApiError(
                401, "INVALID_AUTHENTICATION",
                "The OAuth token used to make this call is invalid. Check your credentials and try again.",
            )
        now = self.clock.now()
        if now >= expiry:
            ago = max(int(math.floor(now - expiry)), 0)
            raise ApiError(
                401, "EXPIRED_AUTHENTICATION",
                f"The OAuth token used to make this call expired {ago} second(s) ago.",
            )
        return Principal("oauth", f"oauth:{self.settings.client_id}", token)
