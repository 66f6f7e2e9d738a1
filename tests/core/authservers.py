"""Loopback servers that check credentials independently of connector_core.

Nothing here imports connector_core. OAuth 1.0a signatures are verified by oauthlib's *server* side,
JWT client assertions by pyjwt with the *public* key, PKCE by recomputing the S256 challenge. Every
server listens on 127.0.0.1 on a free port, in a background thread, and time-dependent checks read
a :class:`FakeClock` that tests move forward instead of sleeping.

* :class:`StaticCredentialsServer`: API key (header or query), HTTP Basic.
* :class:`OAuth1Server`: an OAuth 1.0a protected resource (HMAC-SHA256, realm, nonce and timestamp checks).
* :class:`OAuth2Server`: token endpoint (client credentials with a secret or a JWT assertion, refresh
  token with optional rotation, authorization code with PKCE), a consent endpoint that redirects, and
  a protected API that accepts only valid, unexpired bearer tokens.

Keys are generated at test time with :func:`generate_private_key`; none is committed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from oauthlib.oauth1 import RequestValidator, ResourceEndpoint
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

# --- plumbing ------------------------------------------------------------------------------------


class FakeClock:
    """Epoch seconds that only move when a test calls :meth:`advance`."""

    def __init__(self, start: float | None = None) -> None:
        self._now = float(int(time.time()) if start is None else start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now


class _QuietHandler(WSGIRequestHandler):
    """No access log: request lines carry query strings, and tests scan logs for secrets."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class LoopbackServer:
    """A WSGI app served on 127.0.0.1:<free port> in a daemon thread; use as a context manager."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"authserver-{self.port}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json", headers=headers)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except ValueError:
        return None
    return user, password


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


def generate_private_key(algorithm: str) -> tuple[str, str]:
    """A fresh (private PEM, public PEM) pair suited to a JWS algorithm (PS*/RS* → RSA, ES* → EC)."""
    if algorithm.startswith("ES"):
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[algorithm]
        key: Any = ec.generate_private_key(curve)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier))) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


# --- static credentials --------------------------------------------------------------------------


class StaticCredentialsServer(LoopbackServer):
    """``/key/header``, ``/key/query`` and ``/basic`` answer 200 only to the expected credentials.

    Every request is recorded (method, path, query, headers) in :attr:`requests`.
    """

    def __init__(
        self,
        *,
        api_key: str,
        key_header: str = "X-API-Key",
        key_param: str = "api_key",
        user: str = "",
        password: str = "",
    ) -> None:
        self.api_key, self.key_header, self.key_param = api_key, key_header, key_param
        self.user, self.password = user, password
        self.requests: list[dict[str, Any]] = []
        super().__init__(self._app)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.args),
                "headers": dict(request.headers),
            }
        )
        if request.path.startswith("/key/header"):
            ok = _same(request.headers.get(self.key_header), self.api_key)
        elif request.path.startswith("/key/query"):
            ok = _same(request.args.get(self.key_param), self.api_key)
        elif request.path.startswith("/basic"):
            creds = _basic_credentials(request)
            ok = creds is not None and _same(creds[0], self.user) and _same(creds[1], self.password)
        else:
            return _json({"error": "not found"}, 404)(environ, start_response)
        if not ok:
            return _json({"error": "unauthorized"}, 401)(environ, start_response)
        return _json({"data": [{"id": 1}, {"id": 2}]})(environ, start_response)


# --- OAuth 1.0a ----------------------------------------------------------------------------------


class _OAuth1Validator(RequestValidator):
    """One consumer and one access token; nonces remembered per (consumer, token, timestamp)."""

    enforce_ssl = False  # loopback only

    def __init__(self, server: OAuth1Server) -> None:
        super().__init__()
        self.server = server
        self._seen: set[tuple[str, str, str, str | None]] = set()
        self._lock = threading.Lock()

    allowed_signature_methods = ("HMAC-SHA256",)
    safe_characters = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    client_key_length = (8, 128)
    access_token_length = (8, 128)
    nonce_length = (8, 64)
    dummy_client = "dummyclient0"
    dummy_access_token = "dummytoken0"
    timestamp_lifetime = 300

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return _same(client_key, self.server.consumer_key)

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self.server.consumer_secret if client_key == self.server.consumer_key else "dummy-secret"

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        return _same(token, self.server.token)

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return self.server.token_secret if token == self.server.token else "dummy-secret"

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: Any = None,
        access_token: Any = None,
    ) -> bool:
        key = (client_key, timestamp, nonce, request.resource_owner_key)
        with self._lock:
            if key in self._seen:
                self.server.replays += 1
                return False
            self._seen.add(key)
        return True

    def validate_realms(
        self, client_key: str, token: str, request: Any, uri: str | None = None, realms: Any = None
    ) -> bool:
        return request.realm == self.server.realm


class OAuth1Server(LoopbackServer):
    """A protected resource under ``/api/``: 200 for a correctly signed request, 401 otherwise.

    Query parameters (and form bodies) are part of the verified signature; JSON bodies are not, as
    RFC 5849 prescribes. :attr:`fail_next` answers 503 to that many *correctly signed* requests, to
    check that a retry is signed again. :attr:`nonces` lists the nonce of every accepted signature.
    """

    def __init__(
        self, *, consumer_key: str, consumer_secret: str, token: str, token_secret: str, realm: str | None
    ) -> None:
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.token, self.token_secret, self.realm = token, token_secret, realm
        self.endpoint = ResourceEndpoint(_OAuth1Validator(self))
        self.nonces: list[str] = []
        self.signature_methods: list[str] = []
        self.rejected = 0
        self.replays = 0
        self.fail_next = 0
        self.received: list[dict[str, Any]] = []
        super().__init__(self._app)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        # The URI exactly as the client sent it: oauthlib normalises it for the base string itself.
        uri = f"http://{environ['HTTP_HOST']}{environ.get('REQUEST_URI') or environ.get('RAW_URI') or request.full_path}"
        body = request.get_data(as_text=True)
        valid, oauth_request = self.endpoint.validate_protected_resource_request(
            uri,
            http_method=request.method,
            body=body,
            headers=dict(request.headers),
            realms=[self.realm] if self.realm else [],
        )
        if not valid:
            self.rejected += 1
            log = dict(getattr(oauth_request, "validator_log", {}) or {})
            return _json({"error": "invalid OAuth 1.0a signature", "checks": log}, 401)(
                environ, start_response
            )
        self.nonces.append(oauth_request.nonce)
        self.signature_methods.append(oauth_request.signature_method)
        self.received.append({"method": request.method, "query": dict(request.args), "body": body})
        if self.fail_next > 0:
            self.fail_next -= 1
            return _json({"error": "temporarily unavailable"}, 503)(environ, start_response)
        return _json({"data": [{"id": 1, "query": dict(request.args)}], "body": body})(
            environ, start_response
        )


# --- OAuth 2.0 -----------------------------------------------------------------------------------

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class OAuth2Client:
    """A registered client: a secret, or a public key for JWT assertions, and redirect URIs."""

    client_id: str
    secret: str | None = None
    public_key: str | None = None
    key_id: str | None = None
    algorithms: tuple[str, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    loopback_redirects: bool = True  # RFC 8252 §7.3: any port on a loopback redirect URI


@dataclass
class _Grant:
    client_id: str
    expires_at: float | None
    scope: str | None = None


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    expires_at: float
    scope: str | None


@dataclass
class OAuth2Server(LoopbackServer):
    """An OAuth 2.0 authorization server with a protected API, all driven by ``clock``.

    Endpoints: ``POST /token``, ``GET /authorize`` (consents at once and redirects with code and state)
    and ``GET /api/items`` (bearer tokens only). Access tokens live ``access_ttl`` seconds; refresh
    tokens ``refresh_ttl`` seconds (None: forever) and are replaced on use when ``rotate_refresh``.
    """

    clock: FakeClock
    access_ttl: float = 3600
    refresh_ttl: float | None = None
    rotate_refresh: bool = False
    clients: dict[str, OAuth2Client] = field(default_factory=dict)
    token_requests: Counter[str] = field(default_factory=Counter)
    client_auth_methods: list[str] = field(default_factory=list)
    assertion_headers: list[dict[str, Any]] = field(default_factory=list)
    api_requests: int = 0
    api_rejections: int = 0
    consents: int = 0
    refused: list[str] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._codes: dict[str, _Code] = {}
        super().__init__(self._app)
        self.token_url = f"{self.url}/token"
        self.authorize_url = f"{self.url}/authorize"

    # -- test controls -------------------------------------------------------------------------------

    def add_client(self, client: OAuth2Client) -> OAuth2Client:
        self.clients[client.client_id] = client
        return client

    def issue_refresh_token(self, client_id: str) -> str:
        """A refresh token as if the user had consented earlier (for the refresh-token grant)."""
        with self._lock:
            return self._new_refresh(client_id, None)

    def revoke_access_tokens(self) -> None:
        """Forget every access token: the next API call with a cached one gets a 401."""
        with self._lock:
            self._access.clear()

    @property
    def token_request_count(self) -> int:
        return sum(self.token_requests.values())

    # -- token bookkeeping ---------------------------------------------------------------------------

    def _new_access(self, client_id: str, scope: str | None) -> str:
        token = "at-" + secrets.token_urlsafe(24)
        self.issued.append(token)
        self._access[token] = _Grant(client_id, self.clock() + self.access_ttl, scope)
        return token

    def _new_refresh(self, client_id: str, scope: str | None) -> str:
        token = "rt-" + secrets.token_urlsafe(24)
        self.issued.append(token)
        expires = self.clock() + self.refresh_ttl if self.refresh_ttl else None
        self._refresh[token] = _Grant(client_id, expires, scope)
        return token

    def _token_response(self, client_id: str, scope: str | None, refresh: str | None) -> Response:
        body: dict[str, Any] = {
            "access_token": self._new_access(client_id, scope),
            "token_type": "Bearer",
            "expires_in": int(self.access_ttl),
        }
        if refresh:
            body["refresh_token"] = refresh
        if scope:
            body["scope"] = scope
        return _json(body, headers={"Cache-Control": "no-store"})

    def _error(self, error: str, description: str, status: int = 400) -> Response:
        self.refused.append(f"{error}: {description}")
        headers = {"WWW-Authenticate": 'Basic realm="token"'} if status == 401 else None
        return _json({"error": error, "error_description": description}, status, headers)

    # -- client authentication -----------------------------------------------------------------------

    def _authenticate(self, request: Request) -> tuple[OAuth2Client | None, Response | None]:
        form = request.form
        basic = _basic_credentials(request)
        assertion = form.get("client_assertion")
        methods = [
            m
            for m, present in (("basic", basic), ("body", form.get("client_secret")), ("jwt", assertion))
            if present
        ]
        if len(methods) > 1:
            return None, self._error(
                "invalid_request", f"more than one client authentication method: {methods}"
            )
        if not methods:
            return None, self._error("invalid_client", "no client authentication", 401)
        self.client_auth_methods.append(methods[0])
        if assertion:
            return self._verify_assertion(form.get("client_assertion_type"), assertion)
        client_id, secret = basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
        client = self.clients.get(client_id)
        if client is None or client.secret is None or not _same(secret, client.secret):
            return None, self._error("invalid_client", "unknown client or wrong secret", 401)
        return client, None

    def _verify_assertion(
        self, assertion_type: str | None, assertion: str
    ) -> tuple[OAuth2Client | None, Response | None]:
        if assertion_type != JWT_BEARER:
            return None, self._error("invalid_request", f"client_assertion_type must be {JWT_BEARER}")
        try:
            header = jwt.get_unverified_header(assertion)
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            return None, self._error("invalid_client", f"malformed assertion: {exc}", 401)
        self.assertion_headers.append(header)
        client = self.clients.get(str(issuer))
        if client is None or client.public_key is None:
            return None, self._error("invalid_client", "unknown issuer", 401)
        if header.get("kid") != client.key_id:
            return None, self._error("invalid_client", f"unknown key id {header.get('kid')!r}", 401)
        if header.get("alg") not in client.algorithms:
            return None, self._error("invalid_client", f"algorithm {header.get('alg')} not allowed", 401)
        try:
            claims = jwt.decode(
                assertion,
                client.public_key,
                algorithms=[header["alg"]],
                audience=self.token_url,
                issuer=client.client_id,
                # Time claims are checked below against the server's (fake) clock.
                options={
                    "require": ["iss", "aud", "exp", "iat"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            return None, self._error(
                "invalid_client", f"assertion rejected: {type(exc).__name__}: {exc}", 401
            )
        now = self.clock()
        if not now < float(claims["exp"]) <= now + 3600:
            return None, self._error("invalid_client", "assertion expired or lives too long", 401)
        if float(claims["iat"]) > now + 60:
            return None, self._error("invalid_client", "assertion issued in the future", 401)
        return client, None

    # -- grants --------------------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        grant = request.form.get("grant_type", "")
        self.token_requests[grant] += 1
        client, failure = self._authenticate(request)
        if failure is not None:
            return failure
        assert client is not None
        scope = request.form.get("scope")
        with self._lock:
            if grant == "client_credentials":
                return self._token_response(client.client_id, scope, None)
            if grant == "refresh_token":
                return self._refresh_grant(client, request.form.get("refresh_token", ""))
            if grant == "authorization_code":
                return self._code_grant(client, request.form)
        return self._error("unsupported_grant_type", grant)

    def _refresh_grant(self, client: OAuth2Client, token: str) -> Response:
        held = self._refresh.get(token)
        if held is None or held.client_id != client.client_id:
            return self._error("invalid_grant", "unknown refresh token")
        if held.expires_at is not None and self.clock() >= held.expires_at:
            del self._refresh[token]
            return self._error("invalid_grant", "refresh token expired")
        if self.rotate_refresh:
            del self._refresh[token]
            token = self._new_refresh(client.client_id, held.scope)
        return self._token_response(client.client_id, held.scope, token if self.rotate_refresh else None)

    def _code_grant(self, client: OAuth2Client, form: Any) -> Response:
        code = self._codes.pop(form.get("code", ""), None)  # single use
        if code is None or code.client_id != client.client_id:
            return self._error("invalid_grant", "unknown or used authorization code")
        if self.clock() >= code.expires_at:
            return self._error("invalid_grant", "authorization code expired")
        if form.get("redirect_uri") != code.redirect_uri:
            return self._error("invalid_grant", "redirect_uri differs from the authorization request")
        verifier = form.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128 or not _same(pkce_challenge(verifier), code.challenge):
            return self._error("invalid_grant", "PKCE verification failed")
        return self._token_response(
            client.client_id, code.scope, self._new_refresh(client.client_id, code.scope)
        )

    def _authorize(self, request: Request) -> Response:
        args = request.args
        client = self.clients.get(args.get("client_id", ""))
        redirect_uri = args.get("redirect_uri", "")
        if client is None or not self._redirect_allowed(client, redirect_uri):
            return _json(
                {"error": "invalid_request", "error_description": "unknown client or redirect_uri"}, 400
            )
        params: dict[str, str] = {}
        if args.get("response_type") != "code":
            params["error"] = "unsupported_response_type"
        elif args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            params["error"] = "invalid_request"
            params["error_description"] = "PKCE with S256 is required"
        else:
            self.consents += 1
            code = "code-" + secrets.token_urlsafe(16)
            with self._lock:
                self._codes[code] = _Code(
                    client.client_id,
                    redirect_uri,
                    args["code_challenge"],
                    self.clock() + 600,
                    args.get("scope"),
                )
            params["code"] = code
            self.issued.append(code)
        if "state" in args:
            params["state"] = args["state"]
        parts = urlsplit(redirect_uri)
        query = urlencode([*parse_qsl(parts.query), *params.items()])
        return Response(
            status=302, headers={"Location": urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))}
        )

    @staticmethod
    def _redirect_allowed(client: OAuth2Client, uri: str) -> bool:
        if uri in client.redirect_uris:
            return True
        parts = urlsplit(uri)
        return (
            client.loopback_redirects
            and parts.scheme == "http"
            and parts.hostname in ("127.0.0.1", "localhost")
        )

    def _api(self, request: Request) -> Response:
        self.api_requests += 1
        token = _bearer(request)
        with self._lock:
            grant = self._access.get(token or "")
            valid = grant is not None and self.clock() < (grant.expires_at or 0)
        if not valid:
            self.api_rejections += 1
            return _json(
                {"error": "invalid_token"}, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return _json({"data": [{"id": 1}, {"id": 2}]})

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == "/token" and request.method == "POST":
            response = self._token(request)
        elif request.path == "/authorize" and request.method == "GET":
            response = self._authorize(request)
        elif request.path.startswith("/api/"):
            response = self._api(request)
        else:
            response = _json({"error": "not found"}, 404)
        return response(environ, start_response)


def all_strings(values: Iterable[Any]) -> list[str]:
    """The non-empty strings among ``values`` (secrets a test then looks for in logs and messages)."""
    return [v for v in values if isinstance(v, str) and v]
