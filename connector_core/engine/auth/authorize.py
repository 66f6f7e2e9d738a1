"""The one-time browser consent behind ``oauth2_authorization_code`` (``connector-core authorize``).

The flow (RFC 6749 §4.1 with PKCE, RFC 7636, and loopback redirects, RFC 8252):

1. build the consent URL from ``auth.authorize_url`` with a fresh ``state`` and an S256
   ``code_challenge``, and print it (and open it in a browser unless ``--no-browser``);
2. receive the redirect: a one-shot server on the loopback redirect URI catches it, or, with
   ``--no-browser`` or a redirect URI that is not loopback, the user pastes the address the browser
   landed on (or just the code);
3. check ``state``, exchange the code at ``auth.token_url`` (client authentication as the spec says,
   Basic by default, plus the ``code_verifier``);
4. save the tokens with their expiry, and the refresh token's expiry when the spec sets
   ``refresh_token_lifetime``, in the token store the connector then reads.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from connector_core.errors import AuthError, ConfigError

if TYPE_CHECKING:  # connector_core.engine.auth pulls in requests and pydantic: imported when a command runs
    from connector_core.engine.auth.base import AuthContext, TokenStore
    from connector_core.engine.auth.oauth2 import OAuth2AuthorizationCode
    from connector_core.engine.connector import Connector

_log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
CALLBACK_PATH = "/callback"
REDIRECT_TIMEOUT = 300.0


def pkce_pair() -> tuple[str, str]:
    """A (code_verifier, S256 code_challenge) pair: 43 URL-safe characters and their hash."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")
    return verifier, challenge


@dataclass(frozen=True)
class Consent:
    """One authorization request: what to open, and what the redirect must match."""

    url: str
    state: str
    code_verifier: str
    redirect_uri: str


def consent_request(auth: OAuth2AuthorizationCode, ctx: AuthContext, redirect_uri: str) -> Consent:
    """The consent URL for ``auth``, with a random state and a PKCE S256 challenge."""
    if not auth.authorize_url:
        raise ConfigError(
            f"{ctx.connector}: auth.authorize_url is not set, so there is no consent page to open",
            hint="add authorize_url (the provider's authorization endpoint) to the spec's auth block",
        )
    authorize_url = str(ctx.render(auth.authorize_url))
    ctx.check_url(authorize_url)
    client_id = str(ctx.render(auth.client_id))
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    scopes = ctx.render(auth.scopes) if auth.scopes else None
    if scopes:
        params.insert(3, ("scope", scopes if isinstance(scopes, str) else " ".join(str(s) for s in scopes)))
    parts = urlsplit(authorize_url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params])
    return Consent(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")), state, verifier, redirect_uri)


def code_from_redirect(text: str, state: str) -> str:
    """The code in a redirect URL (or its query string, or a bare code), after checking ``state``."""
    text = text.strip()
    if not text:
        raise AuthError("nothing was pasted: expected the address the browser was sent to, or the code")
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    params = dict(parse_qsl(query, keep_blank_values=True)) if "=" in query else {}
    if not params:
        return text  # a bare code: nothing to check the state against
    if "error" in params:
        description = params.get("error_description", "")
        raise AuthError(
            f"the authorization server refused the consent: {params['error']} {description}".rstrip(),
            hint="start `connector-core authorize` again and grant access; check the app's redirect URI and scopes",
        )
    if params.get("state") != state:
        raise AuthError(
            "the redirect's state does not match this authorization request",
            hint="paste the address from the browser tab opened for *this* run, or start again",
        )
    code = params.get("code")
    if not code:
        raise AuthError("the redirect carries no code; expected ...?code=...&state=...")
    return code


class _RedirectCatcher:
    """A one-shot loopback server that waits for the consent redirect on ``path``."""

    def __init__(self, port: int, path: str, state: str) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                return None  # the request line holds the code

        self.path, self.state = path, state
        self.code: str | None = None
        self.error: AuthError | None = None
        self._done = threading.Event()
        try:
            self._server = make_server("127.0.0.1", port, self._app, threaded=True, request_handler=Quiet)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on 127.0.0.1:{port} for the redirect: {exc.strerror}",
                hint="free the port, pass another with --port (it must match the app's registered redirect URI), or use --no-browser",
            ) from None
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="authorize-redirect", daemon=True)
        self._thread.start()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        if request.path != self.path or self._done.is_set():
            return Response("not found", status=404)(environ, start_response)
        try:
            self.code = code_from_redirect("?" + request.query_string.decode(), self.state)
            page, status = "Authorization received. You can close this tab and return to the terminal.", 200
        except AuthError as exc:
            self.error = exc
            page, status = f"Authorization failed: {exc.message}", 400
        self._done.set()
        body = f"<!doctype html><title>connector-core</title><p>{html.escape(page)}</p>"
        return Response(body, status=status, mimetype="text/html")(environ, start_response)

    def wait(self, timeout: float) -> str:
        try:
            if not self._done.wait(timeout):
                raise AuthError(
                    f"no redirect reached 127.0.0.1:{self.port}{self.path} within {timeout:.0f} s",
                    hint="open the printed URL and grant access, or rerun with --no-browser to paste the redirect address",
                )
        finally:
            self._server.shutdown()
            self._server.server_close()
        if self.error is not None:
            raise self.error
        assert self.code is not None
        return self.code


def redirect_target(auth: OAuth2AuthorizationCode, ctx: AuthContext, port: int | None) -> tuple[str | None, int, str]:
    """(spec redirect URI or None, port to listen on, callback path)."""
    if auth.redirect_uri:
        uri = str(ctx.render(auth.redirect_uri))
        parts = urlsplit(uri)
        if port is not None and parts.port is not None and parts.port != port:
            raise ConfigError(f"--port {port} conflicts with the spec's redirect URI {uri} (auth.redirect_uri)")
        return uri, parts.port or (port if port is not None else 80), parts.path or "/"
    return None, DEFAULT_PORT if port is None else port, CALLBACK_PATH


def exchange_code(auth: OAuth2AuthorizationCode, ctx: AuthContext, consent: Consent, code: str) -> dict[str, Any]:
    """Trade the code for tokens; return what the token store keeps (with absolute expiries)."""
    from connector_core.engine.auth.tokens import _client_auth, _post_token

    ctx.redactor.add(code)
    token_url = str(ctx.render(auth.token_url))
    ctx.check_url(token_url)
    client_id = str(ctx.render(auth.client_id))
    secret = str(ctx.render(auth.client_secret) or "") if auth.client_secret else ""
    ctx.redactor.add(secret)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": consent.redirect_uri,
        "code_verifier": consent.code_verifier,
    }
    client_auth = _client_auth(ctx, auth.client_auth, client_id, secret, data) if secret else None
    if not secret:
        data["client_id"] = client_id  # a public client identifies itself in the body
    try:
        token = _post_token(ctx, token_url, data, client_auth)
    except AuthError as exc:
        exc.hint = "the code is valid for a few minutes and only once: run `connector-core authorize` again"
        raise
    if not token.get("access_token"):
        raise AuthError(f"token endpoint {token_url} answered without an access_token")
    now = ctx.now()
    expires_in = token.get("expires_in")
    refresh_expires_in = token.get("refresh_token_expires_in") or auth.refresh_token_lifetime
    address = {auth.base_url_from: token.get(auth.base_url_from)} if auth.base_url_from else {}
    return {
        **address,
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token"),
        "token_type": token.get("token_type"),
        "scope": token.get("scope"),
        "expires_at": now + float(expires_in) if expires_in not in (None, "") else None,
        "refresh_expires_at": now + float(refresh_expires_in) if token.get("refresh_token") and refresh_expires_in else None,
        "authorized_at": now,
    }


def run_authorization(
    connector: Connector,
    tokens: TokenStore,
    *,
    port: int | None = None,
    paste: bool = False,
    open_browser: Callable[[str], Any] | None = None,
    read_line: Callable[[str], str] | None = None,
    echo: Callable[[str], None] = _log.warning,
    clock: Callable[[], float] = time.time,
    timeout: float = REDIRECT_TIMEOUT,
    redirect_uri: str | None = None,
) -> dict[str, Any]:
    """Run the consent for ``connector`` and save the tokens in ``tokens``; return the saved entry.

    Args:
        connector: an opened connector whose spec uses ``oauth2_authorization_code``.
        tokens: where the tokens go (the store the connector reads later).
        port: loopback port for the redirect (0: any free port); default: the spec's redirect URI, else 8765.
        paste: do not listen; ask for the redirect address (or code) on ``read_line``.
        open_browser: called with the consent URL when listening (default: the system browser).
        read_line: reads the pasted redirect; required with ``paste``.
        echo: where the instructions for the person go (default: this module's logger; the CLI passes stderr).
        clock: epoch seconds, for the saved expiries.
        timeout: seconds to wait for the redirect when listening.
        redirect_uri: overrides the spec's redirect URI (it must be the one registered for the app).
    """
    from connector_core.engine.auth.base import AuthContext
    from connector_core.engine.auth.oauth2 import authorization_code_key
    from connector_core.engine.urls import check_transport, is_loopback

    ctx = AuthContext(
        render=lambda value: connector.render(value, {}, "auth"),
        redactor=connector.redactor,
        session=connector.session,
        check_url=lambda url: check_transport(url, "auth URL"),
        tokens=tokens,
        connector=connector.name,
        now=clock,
    )
    auth = authorization_code_auth(connector.auth_spec, ctx)
    if redirect_uri is not None:
        auth = auth.model_copy(update={"redirect_uri": redirect_uri})
    spec_uri, listen_port, path = redirect_target(auth, ctx, port)
    listen = not paste and (spec_uri is None or (urlsplit(spec_uri).scheme == "http" and is_loopback(urlsplit(spec_uri).hostname)))
    if not paste and not listen:
        echo(f"The app's redirect URI {spec_uri} is not on this machine: paste the address you are sent to.")
    catcher: _RedirectCatcher | None = None
    if listen:
        catcher = _RedirectCatcher(listen_port, path, state="")
        redirect_uri = spec_uri or f"http://127.0.0.1:{catcher.port}{path}"
    else:
        redirect_uri = spec_uri or f"http://127.0.0.1:{listen_port}{path}"
    consent = consent_request(auth, ctx, redirect_uri)
    echo(f"Open this URL in a browser and grant access to {connector.name}:\n\n  {consent.url}\n")
    if catcher is not None:
        catcher.state = consent.state
        echo(f"Waiting for the redirect to {redirect_uri} …")
        if open_browser is None:
            import webbrowser

            open_browser = webbrowser.open
        threading.Thread(target=open_browser, args=(consent.url,), name="authorize-browser", daemon=True).start()
        code = catcher.wait(timeout)
    else:
        if read_line is None:
            raise ConfigError("pasting the redirect needs a way to read it: pass read_line")
        code = code_from_redirect(read_line("After granting access, paste the address the browser was sent to (or the code):"), consent.state)
    saved = exchange_code(auth, ctx, consent, code)
    tokens.save_token(authorization_code_key(connector.name, str(ctx.render(auth.client_id))), saved)
    return saved


def authorization_code_auth(auth: Any, ctx: AuthContext) -> OAuth2AuthorizationCode:
    """The spec's auth (from a list of choices, the one the config selects) as an authorization-code auth.

    A plugin auth type that stands for a core one (e.g. ``netsuite`` choosing among TBA, M2M and
    authorization code) exposes ``delegate(ctx) -> AuthModel``; it is followed.
    """
    from connector_core.engine.auth.oauth2 import OAuth2AuthorizationCode

    delegate = getattr(auth, "delegate", None)
    if not isinstance(auth, OAuth2AuthorizationCode) and callable(delegate):
        auth = delegate(ctx)
    if not isinstance(auth, OAuth2AuthorizationCode):
        kind = getattr(auth, "type", "none")
        raise ConfigError(
            f"connector '{ctx.connector}' uses auth type '{kind}'; `authorize` is for the OAuth 2.0 authorization-code flow only",
            hint="other auth types need no browser consent: their credentials go in the config",
        )
    return auth


__all__ = [
    "Consent",
    "authorization_code_auth",
    "code_from_redirect",
    "consent_request",
    "exchange_code",
    "pkce_pair",
    "run_authorization",
]
