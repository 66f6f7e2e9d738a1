"""Token-based authentication: OAuth 1.0a HMAC-SHA256 verified with oauthlib's server code.

NetSuite specifics enforced on top of RFC 5849: ``realm`` must equal the account id in upper
case with an underscore, only HMAC-SHA256 is accepted, a nonce+timestamp pair is single use
per consumer/token, and the timestamp must be within ``timestamp_skew_seconds`` of the
(emulated) clock. Every failure is the same 401 INVALID_LOGIN, as in NetSuite.
"""

from __future__ import annotations

import threading
from typing import Any

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint

from .settings import EmulatorSettings

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")


class _Validator(RequestValidator):
    """oauthlib hooks bound to the emulator's single TBA consumer/token pair."""

    def __init__(self, settings: EmulatorSettings, nonces: NonceCache) -> None:
        super().__init__()
        self.settings = settings
        self.nonces = nonces

    enforce_ssl = False

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return ("HMAC-SHA256",)

    @property
    def timestamp_lifetime(self) -> int:
        # oauthlib compares with the real clock; the emulated clock is checked in
        # validate_timestamp_and_nonce instead, so disable the built-in check.
        return 10**10

    @property
    def dummy_client(self) -> str:
        return "dummy_client"

    @property
    def dummy_access_token(self) -> str:
        return "dummy_access_token"

    def check_client_key(self, client_key: str) -> bool:
        return bool(client_key) and set(client_key) <= _SAFE

    def check_nonce(self, nonce: str) -> bool:
        return 6 <= len(nonce) <= 64 and set(nonce) <= _SAFE

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key == self.settings.consumer_key

    def get_client_secret(self, client_key: str, request: Any) -> str:
        if client_key == self.settings.consumer_key:
            return self.settings.consumer_secret
        return "dummy-secret"

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        if token == self.settings.token_id:
            return self.settings.token_secret
        return "dummy-token-secret"

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        now = self.settings.clock.now()
        try:
            ts = int(timestamp)
        except ValueError:
            return False
        if abs(now - ts) > self.settings.timestamp_skew_seconds:
            return False
        token = request.resource_owner_key or ""
        return self.nonces.add((client_key, token, timestamp, nonce), now)


class NonceCache:
    """Remembers used nonce/timestamp pairs for the skew window."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self._seen: dict[tuple[str, str, str, str], float] = {}
        self._lock = threading.Lock()

    def add(self, key: tuple[str, str, str, str], now: float) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = now
            if len(self._seen) > 50_000:
                horizon = now - 2 * self.settings.timestamp_skew_seconds
                self._seen = {k: v for k, v in self._seen.items() if v >= horizon}
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


class TbaVerifier:
    """Checks ``Authorization: OAuth …`` headers."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.nonces = NonceCache(settings)
        self._endpoint = SignatureOnlyEndpoint(_Validator(settings, self.nonces))

    def verify(self, method: str, uri: str, headers: dict[str, str], body: bytes, content_type: str) -> bool:
        """True when the request is correctly signed for this account's consumer and token.

        ``uri`` must be the absolute URL as the client addressed it (scheme, Host, raw path and
        query). Only form-encoded bodies take part in the signature; JSON bodies never do.
        """
        form_body = body.decode("utf-8", "replace") if "application/x-www-form-urlencoded" in content_type else None
        ok, request = self._endpoint.validate_request(uri, method, form_body, headers)
        if not ok or request is None:
            return False
        if request.realm != self.settings.realm:
            return False
        if request.resource_owner_key != self.settings.token_id:
            return False
        return True
