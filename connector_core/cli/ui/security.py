"""Who may use the dashboard: a sign-in with the token printed at start (or the configured password),
a session cookie, a CSRF token in every form, and a Host check against DNS rebinding.

- The token is random per start; ``/login?token=…`` (the URL the command prints) signs in and moves
  on to ``/`` so the token does not stay in the address bar. A configured password signs in through
  the form. Both are compared in constant time.
- The session cookie is ``HttpOnly`` and ``SameSite=Strict``; sessions live in this process only.
- Every POST must carry the session's CSRF token (an HMAC of the session id under a key made at start)
  and, when the browser sends one, an ``Origin`` that is the dashboard's own.
- When bound to loopback, a request whose ``Host`` is not a loopback name is refused: a web page
  elsewhere cannot reach the dashboard through a DNS name that resolves to 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
from urllib.parse import urlsplit

from werkzeug.wrappers import Request

COOKIE = "connector_core_ui"
CSRF_FIELD = "csrf"
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Guard:
    """Sign-in, sessions and CSRF tokens of one dashboard process."""

    def __init__(self, password: str | None = None, token: str | None = None, *, loopback_only: bool = True) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self.password = password
        self.loopback_only = loopback_only
        self._key = secrets.token_bytes(32)
        self._sessions: set[str] = set()
        self._lock = threading.Lock()

    def accepts(self, given: str | None) -> bool:
        """``given`` is the token or the password."""
        if not given:
            return False
        candidates = [self.token] + ([self.password] if self.password else [])
        return any(hmac.compare_digest(given.encode(), candidate.encode()) for candidate in candidates)

    def new_session(self) -> str:
        session = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions.add(session)
        return session

    def end_session(self, session: str | None) -> None:
        with self._lock:
            self._sessions.discard(session or "")

    def session_of(self, request: Request) -> str | None:
        session = request.cookies.get(COOKIE)
        with self._lock:
            return session if session in self._sessions else None

    def csrf_token(self, session: str) -> str:
        return hmac.new(self._key, session.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, request: Request, session: str) -> bool:
        given = request.form.get(CSRF_FIELD, "")
        return hmac.compare_digest(given.encode(), self.csrf_token(session).encode()) and self.same_origin(request)

    @staticmethod
    def same_origin(request: Request) -> bool:
        """No ``Origin`` (an older browser, a script), or this dashboard's own."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        return origin.rstrip("/") == request.host_url.rstrip("/")

    def host_ok(self, request: Request) -> bool:
        if not self.loopback_only:
            return True
        host = urlsplit(f"//{request.host}").hostname or ""
        return is_loopback(host)


__all__ = ["COOKIE", "CSRF_FIELD", "Guard", "is_loopback"]
