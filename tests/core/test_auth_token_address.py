"""The JWT bearer grant (RFC 7523 §2.1) and ``base_url_from`` (the API's address named in the token reply).

A loopback authorization server verifies each assertion with pyjwt and the *public* key, then names an
API on another port (another origin) in its reply, as Salesforce names the org's ``instance_url``.
Every request must reach that API under the spec's base path, and nothing may go to the login host.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from authservers import FakeClock, LoopbackServer, generate_private_key
from werkzeug.wrappers import Request, Response

from connector_core.engine.auth import MemoryTokenStore
from connector_core.engine.auth.authorize import run_authorization
from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.errors import AuthError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ITEMS = [{"id": 1}, {"id": 2}]


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


class ApiServer(LoopbackServer):
    """``/services/data/v1/items`` for a bearer token the login server issued; every path is recorded."""

    def __init__(self) -> None:
        self.valid: set[str] = set()
        self.paths: list[str] = []
        super().__init__(self._app)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.paths.append(request.path)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.valid:
            body = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            return _json(body, 401)(environ, start_response)
        if request.path != "/services/data/v1/items":
            return _json([{"message": "not found", "errorCode": "NOT_FOUND"}], 404)(environ, start_response)
        return _json({"records": ITEMS})(environ, start_response)


class LoginServer(LoopbackServer):
    """A token endpoint for the JWT bearer grant and client credentials; the reply names ``api``."""

    def __init__(self, clock: FakeClock, api: ApiServer, public_key: str, *, name_instance: bool = True) -> None:
        self.clock, self.api, self.public_key, self.name_instance = clock, api, public_key, name_instance
        self.claims: list[dict[str, Any]] = []
        self.grants: list[str] = []
        self.lock = threading.Lock()
        super().__init__(self._app)

    def _issue(self) -> Response:
        token = "00D" + secrets.token_urlsafe(20)
        self.api.valid.add(token)
        body = {"access_token": token, "token_type": "Bearer", "id": f"{self.url}/id/00D/005"}
        if self.name_instance:
            body["instance_url"] = self.api.url
        return _json(body)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path != "/services/oauth2/token":
            return _json({"error": "not_found"}, 404)(environ, start_response)
        grant = request.form.get("grant_type", "")
        with self.lock:
            self.grants.append(grant)
        if grant == GRANT:
            try:
                claims = jwt.decode(
                    request.form.get("assertion", ""), self.public_key, algorithms=["RS256"], audience=self.url,
                    options={"require": ["iss", "sub", "aud", "exp"], "verify_exp": False, "verify_iat": False},
                )
            except jwt.PyJWTError as exc:
                return _json({"error": "invalid_grant", "error_description": str(exc)}, 400)(environ, start_response)
            if not self.clock() < claims["exp"] <= self.clock() + 300:
                return _json({"error": "invalid_grant", "error_description": "expired"}, 400)(environ, start_response)
            self.claims.append(claims)
            return self._issue()(environ, start_response)
        if grant == "client_credentials" and request.authorization and request.authorization.password == "cs-9":
            return self._issue()(environ, start_response)
        return _json({"error": "invalid_client", "error_description": "refused"}, 400)(environ, start_response)


SPEC = """
name: instance_api
base_url: "{{ config.login_url }}/services/data/v1"
config:
  type: object
  properties:
    login_url: {type: string}
    consumer_key: {type: string}
    username: {type: string}
    private_key: {type: string, secret: true}
    consumer_secret: {type: string, secret: true}
auth:
  - when: "{{ config.private_key | default('') }}"
    use:
      type: oauth2_jwt_bearer
      token_url: "{{ config.login_url }}/services/oauth2/token"
      issuer: "{{ config.consumer_key }}"
      subject: "{{ config.username }}"
      audience: "{{ config.login_url }}"
      assertion: {private_key: "{{ config.private_key }}", algorithm: RS256, lifetime: 180}
      base_url_from: instance_url
  - use:
      type: oauth2_client_credentials
      token_url: "{{ config.login_url }}/services/oauth2/token"
      client_id: "{{ config.consumer_key }}"
      client_secret: "{{ config.consumer_secret }}"
      client_auth: basic
      base_url_from: instance_url
defaults:
  retries: {attempts: 2, backoff: 0}
streams:
  items:
    request: {path: /items}
    records: records
"""


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False))


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_private_key("RS256")


@pytest.fixture
def servers(keys: tuple[str, str]) -> Iterator[tuple[LoginServer, ApiServer, FakeClock]]:
    clock = FakeClock()
    with ApiServer() as api, LoginServer(clock, api, keys[1]) as login:
        yield login, api, clock


def open_connector(tmp_path: Path, registry: Registry, config: dict[str, Any], clock: FakeClock, spec: str = SPEC) -> Connector:
    path = tmp_path / "instance_api.yaml"
    path.write_text(spec)
    return Connector(load_spec(path, registry), config, registry, clock=clock, sleep=lambda s: None, tokens=MemoryTokenStore())


class TestJwtBearerGrant:
    def test_assertion_claims_and_requests_go_to_the_named_instance(self, tmp_path: Path, registry: Registry, servers: Any, keys: Any) -> None:
        login, api, clock = servers
        config = {"login_url": login.url, "consumer_key": "3MVG9-key", "username": "ada@example.com", "private_key": keys[0]}
        with open_connector(tmp_path, registry, config, clock) as connector:
            assert list(connector.read("items")) == ITEMS
        assert login.grants == [GRANT]
        claims = login.claims[0]
        assert (claims["iss"], claims["sub"], claims["aud"]) == ("3MVG9-key", "ada@example.com", login.url)
        assert claims["exp"] - clock() == 180
        assert api.paths == ["/services/data/v1/items"]  # the spec's base path, on the instance's origin

    def test_a_refused_session_is_renewed_once_with_a_fresh_assertion_then_is_an_auth_error(self, tmp_path: Path, registry: Registry, servers: Any, keys: Any) -> None:
        login, api, clock = servers
        config = {"login_url": login.url, "consumer_key": "3MVG9-key", "username": "ada@example.com", "private_key": keys[0]}
        with open_connector(tmp_path, registry, config, clock) as connector:
            assert list(connector.read("items")) == ITEMS
            api.valid.clear()  # the session was revoked: the next call answers 401 INVALID_SESSION_ID
            clock.advance(10)
            assert list(connector.read("items")) == ITEMS
            assert login.grants == [GRANT, GRANT]
            assert login.claims[1]["exp"] > login.claims[0]["exp"]  # signed anew, not replayed
            login.api = ApiServer()  # from now on, the tokens it issues are valid nowhere
            api.valid.clear()
            with pytest.raises(AuthError) as caught:
                list(connector.read("items"))
            login.api.close()
        assert "INVALID_SESSION_ID" in str(caught.value)
        assert len(login.grants) == 3  # one renewal for the refused request, no storm

    def test_a_reply_without_the_named_field_is_a_clear_auth_error(self, tmp_path: Path, registry: Registry, keys: Any) -> None:
        clock = FakeClock()
        with ApiServer() as api, LoginServer(clock, api, keys[1], name_instance=False) as login:
            config = {"login_url": login.url, "consumer_key": "k", "username": "u", "private_key": keys[0]}
            with open_connector(tmp_path, registry, config, clock) as connector, pytest.raises(AuthError) as caught:
                list(connector.read("items"))
            assert api.paths == []
        assert "no 'instance_url'" in str(caught.value) and "auth.base_url_from" in str(caught.value)


class TestClientCredentialsWithInstance:
    def test_basic_client_auth_and_the_named_instance(self, tmp_path: Path, registry: Registry, servers: Any) -> None:
        login, api, clock = servers
        config = {"login_url": login.url, "consumer_key": "3MVG9-key", "consumer_secret": "cs-9"}
        with open_connector(tmp_path, registry, config, clock) as connector:
            assert list(connector.read("items")) == ITEMS
        assert login.grants == ["client_credentials"] and api.paths == ["/services/data/v1/items"]


CODE_SPEC = SPEC.replace(
    """  - use:
      type: oauth2_client_credentials""",
    """  - when: "{{ config.web | default(false) }}"
    use:
      type: oauth2_authorization_code
      authorize_url: "{{ config.login_url }}/services/oauth2/authorize"
      token_url: "{{ config.login_url }}/services/oauth2/token"
      client_id: "{{ config.consumer_key }}"
      client_secret: "{{ config.consumer_secret }}"
      client_auth: body
      base_url_from: instance_url
  - use:
      type: oauth2_client_credentials""",
).replace("    consumer_secret: {type: string, secret: true}", "    consumer_secret: {type: string, secret: true}\n    web: {type: boolean}")


class TestAuthorizationCodeChoice:
    def test_authorize_uses_the_chosen_auth_and_keeps_the_instance(self, tmp_path: Path, registry: Registry, servers: Any) -> None:
        login, api, clock = servers

        def consent(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            request = Request(environ)
            if request.path == "/services/oauth2/token" and request.form.get("grant_type") == "authorization_code":
                assert request.form.get("code") == "code-1" and request.form.get("client_secret") == "cs-9"
                token = "00Dcode" + secrets.token_urlsafe(8)
                api.valid.add(token)
                return _json({"access_token": token, "refresh_token": "rt-" + secrets.token_urlsafe(8), "instance_url": api.url})(environ, start_response)
            return login._app(environ, start_response)

        with LoopbackServer(consent) as auth_server:
            config = {"login_url": auth_server.url, "consumer_key": "3MVG9-key", "consumer_secret": "cs-9", "web": True}
            store = MemoryTokenStore()
            path = tmp_path / "instance_api.yaml"
            path.write_text(CODE_SPEC)
            with Connector(load_spec(path, registry), config, registry, clock=clock, tokens=store) as opened:
                urls: list[str] = []

                def paste(prompt: str) -> str:
                    state = urls[0].split("state=")[1].split("&")[0]
                    return f"http://127.0.0.1:1/callback?code=code-1&state={state}"

                saved = run_authorization(opened, store, paste=True, read_line=paste, echo=lambda text: urls.append(text.split()[-1]) if "http" in text else None, clock=clock)
            assert saved["instance_url"] == api.url
            with Connector(load_spec(path, registry), config, registry, clock=clock, tokens=store) as connector:
                assert list(connector.read("items")) == ITEMS
        assert api.paths[-1] == "/services/data/v1/items"
