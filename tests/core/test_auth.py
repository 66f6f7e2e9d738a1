"""Every E3 auth type end to end: a YAML spec, a Connector, real HTTP to a loopback server that checks
the credentials on its own (oauthlib server-side signatures, pyjwt with the public key, PKCE)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from authservers import (
    FakeClock,
    OAuth1Server,
    OAuth2Client,
    OAuth2Server,
    StaticCredentialsServer,
    generate_private_key,
)

from connector_core.engine.auth import MemoryTokenStore
from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.errors import AuthError, ConfigError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

ITEMS = [{"id": 1}, {"id": 2}]

CONFIG_SCHEMA = """
config:
  type: object
  properties:
    base_url: {type: string}
    token_url: {type: string}
    api_key: {type: string, secret: true}
    user: {type: string}
    password: {type: string, secret: true}
    token: {type: string, secret: true}
    client_id: {type: string}
    client_secret: {type: string, secret: true}
    private_key: {type: string, secret: true}
    key_id: {type: string}
    algorithm: {type: string}
    refresh_token: {type: string, secret: true}
    consumer_key: {type: string, secret: true}
    consumer_secret: {type: string, secret: true}
    token_id: {type: string, secret: true}
    token_secret: {type: string, secret: true}
    account: {type: string}
    access_token: {type: string, secret: true}
    expires_at: {type: number}
    refresh_expires_at: {type: number}
"""


def spec_yaml(name: str, auth: str, path: str = "/api/items", extra: str = "") -> str:
    """A one-stream spec whose auth block is ``auth`` (YAML, indented under ``auth:``)."""
    return f"""
name: {name}
base_url: "{{{{ config.base_url }}}}"
{CONFIG_SCHEMA}
auth:
{auth}
defaults:
  retries: {{attempts: 3, backoff: 0}}
streams:
  items:
    request:
      path: {path}
    records: data
{extra}
"""


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class Opener:
    def __init__(self, tmp_path: Path, registry: Registry) -> None:
        self.tmp_path, self.registry = tmp_path, registry

    def __call__(self, text: str, config: dict[str, Any], **kwargs: Any) -> Connector:
        name = text.split("name:", 1)[1].split()[0]
        path = self.tmp_path / f"{name}.yaml"
        path.write_text(text)
        kwargs.setdefault("sleep", lambda seconds: None)
        return Connector(load_spec(path, self.registry), config, self.registry, **kwargs)


@pytest.fixture
def open_connector(tmp_path: Path, registry: Registry) -> Opener:
    return Opener(tmp_path, registry)


def read(connector: Connector, stream: str = "items") -> list[dict[str, Any]]:
    return list(connector.read(stream))


# --- static credentials ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def static_server() -> Iterator[StaticCredentialsServer]:
    with StaticCredentialsServer(api_key="k-3f9a8b7c6d5e", user="ada", password="pw-lovelace-1815") as server:
        yield server


class TestStaticCredentials:
    def test_api_key_in_header(self, static_server: StaticCredentialsServer, open_connector: Opener) -> None:
        spec = spec_yaml(
            "key_header", "  {type: api_key, name: X-API-Key, value: '{{ config.api_key }}'}", "/key/header"
        )
        with open_connector(spec, {"base_url": static_server.url, "api_key": "k-3f9a8b7c6d5e"}) as connector:
            assert read(connector) == ITEMS
        assert "api_key" not in static_server.requests[-1]["query"]

    def test_api_key_in_query(self, static_server: StaticCredentialsServer, open_connector: Opener) -> None:
        spec = spec_yaml(
            "key_query",
            "  {type: api_key, in: query, name: api_key, value: '{{ config.api_key }}'}",
            "/key/query",
        )
        with open_connector(spec, {"base_url": static_server.url, "api_key": "k-3f9a8b7c6d5e"}) as connector:
            assert read(connector) == ITEMS
        assert "X-API-Key" not in static_server.requests[-1]["headers"]

    def test_wrong_api_key_is_an_auth_error_without_the_key(
        self, static_server: StaticCredentialsServer, open_connector: Opener
    ) -> None:
        spec = spec_yaml(
            "key_wrong",
            "  {type: api_key, in: query, name: api_key, value: '{{ config.api_key }}'}",
            "/key/query",
        )
        with open_connector(spec, {"base_url": static_server.url, "api_key": "k-wrong-key-000"}) as connector:
            with pytest.raises(AuthError) as caught:
                read(connector)
        assert caught.value.status == 401
        assert "k-wrong-key-000" not in str(caught.value)

    def test_basic(self, static_server: StaticCredentialsServer, open_connector: Opener) -> None:
        spec = spec_yaml(
            "basic",
            "  {type: basic, username: '{{ config.user }}', password: '{{ config.password }}'}",
            "/basic",
        )
        with open_connector(
            spec, {"base_url": static_server.url, "user": "ada", "password": "pw-lovelace-1815"}
        ) as connector:
            assert read(connector) == ITEMS

    def test_static_bearer(self, clock: FakeClock, open_connector: Opener) -> None:
        with OAuth2Server(clock) as server:
            server.add_client(OAuth2Client("app", secret="s-app-secret-1"))
            token = OAuth2ClientTokenHelper.fetch(server, "app", "s-app-secret-1")
            spec = spec_yaml("bearer", "  {type: bearer, token: '{{ config.token }}'}")
            with open_connector(spec, {"base_url": server.url, "token": token}) as connector:
                assert read(connector) == ITEMS
            assert server.api_rejections == 0


class OAuth2ClientTokenHelper:
    @staticmethod
    def fetch(server: OAuth2Server, client_id: str, secret: str) -> str:
        import requests

        response = requests.post(
            server.token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


# --- OAuth 1.0a ----------------------------------------------------------------------------------

OAUTH1 = {
    "consumer_key": "ck4f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "consumer_secret": "cs9a8b7c6d5e4f30211203f4e5d6c7b8a9",
    "token_id": "tk0a1b2c3d4e5f66554433221100ffeedd",
    "token_secret": "ts1f2e3d4c5b6a77889900aabbccddeeff",
}
OAUTH1_AUTH = """  type: oauth1
  consumer_key: "{{ config.consumer_key }}"
  consumer_secret: "{{ config.consumer_secret }}"
  token: "{{ config.token_id }}"
  token_secret: "{{ config.token_secret }}"
  realm: "{{ config.account }}"
"""
OAUTH1_EXTRA = """
  search:
    request:
      path: /api/search
      query: {q: "name is 'a b'&c=d", limit: 5, tags: [x, y]}
    records: data
operations:
  create:
    kind: create
    input: {type: object}
    request: {method: POST, path: /api/records, json: "{{ input }}"}
    retry: true
"""


@pytest.fixture
def oauth1_server() -> Iterator[OAuth1Server]:
    with OAuth1Server(
        consumer_key=OAUTH1["consumer_key"],
        consumer_secret=OAUTH1["consumer_secret"],
        token=OAUTH1["token_id"],
        token_secret=OAUTH1["token_secret"],
        realm="1234567_SB1",
    ) as server:
        yield server


class TestOAuth1:
    def config(self, server: OAuth1Server, **overrides: str) -> dict[str, Any]:
        return {"base_url": server.url, "account": "1234567_SB1", **OAUTH1, **overrides}

    def test_signature_verified_by_oauthlib_server(
        self, oauth1_server: OAuth1Server, open_connector: Opener
    ) -> None:
        with open_connector(
            spec_yaml("tba", OAUTH1_AUTH, extra=OAUTH1_EXTRA), self.config(oauth1_server)
        ) as connector:
            assert read(connector) == [{"id": 1, "query": {}}]
        assert oauth1_server.signature_methods == ["HMAC-SHA256"]
        assert oauth1_server.rejected == 0

    def test_query_parameters_are_signed(self, oauth1_server: OAuth1Server, open_connector: Opener) -> None:
        with open_connector(
            spec_yaml("tba", OAUTH1_AUTH, extra=OAUTH1_EXTRA), self.config(oauth1_server)
        ) as connector:
            (record,) = read(connector, "search")
        assert record["query"]["q"] == "name is 'a b'&c=d"
        assert oauth1_server.rejected == 0

    def test_json_body_is_sent_but_not_signed(
        self, oauth1_server: OAuth1Server, open_connector: Opener
    ) -> None:
        with open_connector(
            spec_yaml("tba", OAUTH1_AUTH, extra=OAUTH1_EXTRA), self.config(oauth1_server)
        ) as connector:
            result = connector.call("create", {"name": "Acme", "note": "a=b&c"})
        assert oauth1_server.rejected == 0
        assert (
            '"note": "a=b&c"' in oauth1_server.received[-1]["body"]
            or '"note":"a=b&c"' in oauth1_server.received[-1]["body"]
        )
        assert result is not None

    def test_wrong_secret_is_refused_by_the_server(
        self, oauth1_server: OAuth1Server, open_connector: Opener
    ) -> None:
        config = self.config(oauth1_server, token_secret="ts-not-the-right-one-0000")
        with open_connector(spec_yaml("tba", OAUTH1_AUTH), config) as connector:
            with pytest.raises(AuthError) as caught:
                read(connector)
        assert oauth1_server.rejected == 1
        assert "ts-not-the-right-one-0000" not in str(caught.value)

    def test_wrong_realm_is_refused_by_the_server(
        self, oauth1_server: OAuth1Server, open_connector: Opener
    ) -> None:
        with open_connector(
            spec_yaml("tba", OAUTH1_AUTH), self.config(oauth1_server, account="7654321")
        ) as connector:
            with pytest.raises(AuthError):
                read(connector)
        assert oauth1_server.rejected == 1

    def test_every_retry_is_signed_with_a_fresh_nonce(
        self, oauth1_server: OAuth1Server, open_connector: Opener
    ) -> None:
        oauth1_server.fail_next = 1
        with open_connector(spec_yaml("tba", OAUTH1_AUTH), self.config(oauth1_server)) as connector:
            assert read(connector) == [{"id": 1, "query": {}}]
        assert len(oauth1_server.nonces) == 2
        assert oauth1_server.nonces[0] != oauth1_server.nonces[1]
        assert oauth1_server.replays == 0 and oauth1_server.rejected == 0


# --- OAuth 2.0 client credentials ------------------------------------------------------------------

SECRET_AUTH = """  type: oauth2_client_credentials
  token_url: "{{ config.token_url }}"
  client_id: "{{ config.client_id }}"
  client_secret: "{{ config.client_secret }}"
  client_auth: CLIENT_AUTH
  scopes: [read, write]
"""
ASSERTION_AUTH = """  type: oauth2_client_credentials
  token_url: "{{ config.token_url }}"
  client_id: "{{ config.client_id }}"
  assertion:
    private_key: "{{ config.private_key }}"
    key_id: "{{ config.key_id }}"
    algorithm: "{{ config.algorithm }}"
    claims: {scope: [restlets, rest_webservices]}
    ALLOWED
"""


@pytest.fixture
def oauth2_server(clock: FakeClock) -> Iterator[OAuth2Server]:
    with OAuth2Server(clock, access_ttl=3600) as server:
        server.add_client(OAuth2Client("machine", secret="s-machine-7d1c0a"))
        yield server


class TestClientCredentials:
    @pytest.mark.parametrize("client_auth", ["body", "basic"])
    def test_with_secret(
        self, client_auth: str, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock
    ) -> None:
        spec = spec_yaml("cc", SECRET_AUTH.replace("CLIENT_AUTH", client_auth))
        config = {
            "base_url": oauth2_server.url,
            "token_url": oauth2_server.token_url,
            "client_id": "machine",
            "client_secret": "s-machine-7d1c0a",
        }
        with open_connector(spec, config, clock=clock) as connector:
            assert read(connector) == ITEMS
        assert oauth2_server.client_auth_methods == [client_auth]
        assert oauth2_server.token_requests["client_credentials"] == 1

    def test_wrong_secret_is_an_auth_error_naming_the_token_endpoint(
        self, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock
    ) -> None:
        spec = spec_yaml("cc", SECRET_AUTH.replace("CLIENT_AUTH", "basic"))
        config = {
            "base_url": oauth2_server.url,
            "token_url": oauth2_server.token_url,
            "client_id": "machine",
            "client_secret": "s-wrong-secret-99",
        }
        with open_connector(spec, config, clock=clock) as connector:
            with pytest.raises(AuthError) as caught:
                read(connector)
        message = str(caught.value)
        assert oauth2_server.token_url in message and "invalid_client" in message
        assert "s-wrong-secret-99" not in message
        assert oauth2_server.api_requests == 0

    @pytest.mark.parametrize("algorithm", ["PS256", "RS256", "ES256"])
    def test_with_jwt_assertion(
        self, algorithm: str, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock
    ) -> None:
        private, public = generate_private_key(algorithm)
        oauth2_server.add_client(
            OAuth2Client("m2m", public_key=public, key_id="cert-1", algorithms=(algorithm,))
        )
        spec = spec_yaml("jwt", ASSERTION_AUTH.replace("ALLOWED", ""))
        config = {
            "base_url": oauth2_server.url,
            "token_url": oauth2_server.token_url,
            "client_id": "m2m",
            "private_key": private,
            "key_id": "cert-1",
            "algorithm": algorithm,
        }
        with open_connector(spec, config, clock=clock) as connector:
            assert read(connector) == ITEMS
        assert oauth2_server.client_auth_methods == ["jwt"]
        assert oauth2_server.assertion_headers == [{"alg": algorithm, "kid": "cert-1", "typ": "JWT"}]

    def test_assertion_with_an_unknown_key_id_is_refused(
        self, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock
    ) -> None:
        private, public = generate_private_key("PS256")
        oauth2_server.add_client(
            OAuth2Client("m2m", public_key=public, key_id="cert-1", algorithms=("PS256",))
        )
        spec = spec_yaml("jwt", ASSERTION_AUTH.replace("ALLOWED", ""))
        config = {
            "base_url": oauth2_server.url,
            "token_url": oauth2_server.token_url,
            "client_id": "m2m",
            "private_key": private,
            "key_id": "cert-2",
            "algorithm": "PS256",
        }
        with open_connector(spec, config, clock=clock) as connector:
            with pytest.raises(AuthError, match="unknown key id"):
                read(connector)

    def test_disallowed_algorithm_is_refused_before_any_request(
        self, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock
    ) -> None:
        private, _ = generate_private_key("RS256")
        spec = spec_yaml("jwt", ASSERTION_AUTH.replace("ALLOWED", "allowed_algorithms: [PS256, ES256]"))
        config = {
            "base_url": oauth2_server.url,
            "token_url": oauth2_server.token_url,
            "client_id": "m2m",
            "private_key": private,
            "key_id": "cert-1",
            "algorithm": "RS256",
        }
        with pytest.raises(ConfigError) as caught:
            with open_connector(spec, config, clock=clock) as connector:
                read(connector)
        message = str(caught.value)
        assert "RS256" in message and "PS256, ES256" in message and "auth.assertion.algorithm" in message
        assert oauth2_server.token_request_count == 0 and oauth2_server.api_requests == 0

    def test_key_that_does_not_fit_the_algorithm_is_a_config_error(
        self, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock
    ) -> None:
        private, _ = generate_private_key("RS256")
        spec = spec_yaml("jwt", ASSERTION_AUTH.replace("ALLOWED", ""))
        config = {
            "base_url": oauth2_server.url,
            "token_url": oauth2_server.token_url,
            "client_id": "m2m",
            "private_key": private,
            "key_id": "cert-1",
            "algorithm": "ES256",
        }
        with pytest.raises(ConfigError) as caught:
            open_connector(spec, config, clock=clock)
        assert "ES256" in str(caught.value) and "PRIVATE KEY" not in str(caught.value)
        assert oauth2_server.token_request_count == 0

    def test_token_is_cached_and_renewed_shortly_before_expiry(
        self, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock
    ) -> None:
        spec = spec_yaml("cc", SECRET_AUTH.replace("CLIENT_AUTH", "body"))
        config = {
            "base_url": oauth2_server.url,
            "token_url": oauth2_server.token_url,
            "client_id": "machine",
            "client_secret": "s-machine-7d1c0a",
        }
        with open_connector(spec, config, clock=clock) as connector:
            for _ in range(20):
                assert read(connector) == ITEMS
            assert oauth2_server.token_request_count == 1
            clock.advance(3600 - 61)  # still outside the 60 s renewal margin
            read(connector)
            assert oauth2_server.token_request_count == 1
            clock.advance(2)  # 59 s before expiry: renewed before the server would refuse it
            read(connector)
            assert oauth2_server.token_request_count == 2
            for _ in range(5):
                read(connector)
        assert oauth2_server.token_request_count == 2
        assert oauth2_server.api_rejections == 0

    def test_401_on_a_cached_token_renews_once_and_retries(
        self, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock
    ) -> None:
        spec = spec_yaml("cc", SECRET_AUTH.replace("CLIENT_AUTH", "body"))
        config = {
            "base_url": oauth2_server.url,
            "token_url": oauth2_server.token_url,
            "client_id": "machine",
            "client_secret": "s-machine-7d1c0a",
        }
        with open_connector(spec, config, clock=clock) as connector:
            read(connector)
            oauth2_server.revoke_access_tokens()
            assert read(connector) == ITEMS
            assert oauth2_server.token_request_count == 2
            assert oauth2_server.api_rejections == 1
            read(connector)
        assert oauth2_server.token_request_count == 2

    def test_401_for_a_fresh_token_too_is_an_auth_error_after_one_renewal(
        self, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock
    ) -> None:
        oauth2_server.access_ttl = 0  # every token the server issues is already dead for its API
        spec = spec_yaml("cc", SECRET_AUTH.replace("CLIENT_AUTH", "body"))
        config = {
            "base_url": oauth2_server.url,
            "token_url": oauth2_server.token_url,
            "client_id": "machine",
            "client_secret": "s-machine-7d1c0a",
        }
        with open_connector(spec, config, clock=clock) as connector:
            with pytest.raises(AuthError) as caught:
                read(connector)
        assert caught.value.status == 401
        assert oauth2_server.token_request_count == 2 and oauth2_server.api_rejections == 2


    def test_a_short_lived_token_is_still_reused(self, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock) -> None:
        oauth2_server.access_ttl = 30  # shorter than the 60 s renewal margin: renew at half its life
        spec = spec_yaml("cc", SECRET_AUTH.replace("CLIENT_AUTH", "body"))
        config = {"base_url": oauth2_server.url, "token_url": oauth2_server.token_url, "client_id": "machine", "client_secret": "s-machine-7d1c0a"}
        with open_connector(spec, config, clock=clock) as connector:
            for _ in range(5):
                read(connector)
            clock.advance(14)
            read(connector)
            assert oauth2_server.token_request_count == 1
            clock.advance(1)
            read(connector)
        assert oauth2_server.token_request_count == 2 and oauth2_server.api_rejections == 0

    def test_401_renewal_also_happens_when_the_spec_maps_401(self, oauth2_server: OAuth2Server, open_connector: Opener, clock: FakeClock) -> None:
        extra = 'errors:\n  - {status: 401, message: "The API refused the token."}\n'
        spec = spec_yaml("cc", SECRET_AUTH.replace("CLIENT_AUTH", "body"), extra=extra)
        config = {"base_url": oauth2_server.url, "token_url": oauth2_server.token_url, "client_id": "machine", "client_secret": "s-machine-7d1c0a"}
        with open_connector(spec, config, clock=clock) as connector:
            read(connector)
            oauth2_server.revoke_access_tokens()
            assert read(connector) == ITEMS
        assert oauth2_server.token_request_count == 2


class TestTokenAuthUnit:
    """TokenAuth on prepared requests, with a counting fetch (no HTTP)."""

    def make(self, clock: FakeClock) -> tuple[Any, list[int]]:
        from connector_core.engine.auth import AuthContext, TokenAuth
        from connector_core.engine.redaction import Redactor

        calls: list[int] = []

        def fetch() -> dict[str, Any]:
            calls.append(1)
            return {"access_token": f"token-{len(calls)}", "expires_in": 3600}

        ctx = AuthContext(render=lambda v: v, redactor=Redactor(), session=None, check_url=lambda url: None, now=clock)  # type: ignore[arg-type]
        return TokenAuth(fetch, ctx), calls

    def prepared(self, auth: Any) -> Any:
        import requests

        return requests.Request("GET", "https://api.example.com/x", auth=auth).prepare()

    def test_invalidate_with_the_refused_request_renews_once_for_many(self, clock: FakeClock) -> None:
        auth, calls = self.make(clock)
        refused = [self.prepared(auth) for _ in range(3)]  # three requests sent with token-1, all refused
        for request in refused:
            auth.invalidate(request)
            assert self.prepared(auth).headers["Authorization"] == "Bearer token-2"
        assert len(calls) == 2

    def test_invalidate_without_a_request_always_renews(self, clock: FakeClock) -> None:
        auth, calls = self.make(clock)
        self.prepared(auth)
        auth.invalidate()
        self.prepared(auth)
        assert len(calls) == 2


def assert_absent(secrets: list[str], *texts: str) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"a secret ({secret[:4]}…) leaked"


# --- OAuth 2.0 refresh token ------------------------------------------------------------------------

REFRESH_AUTH = """  type: oauth2_refresh
  token_url: "{{ config.token_url }}"
  client_id: "{{ config.client_id }}"
  client_secret: "{{ config.client_secret }}"
  refresh_token: "{{ config.refresh_token }}"
"""


class TestRefreshToken:
    def test_rotating_refresh_tokens_are_followed_and_kept(self, clock: FakeClock, open_connector: Opener) -> None:
        with OAuth2Server(clock, access_ttl=600, rotate_refresh=True) as server:
            server.add_client(OAuth2Client("app", secret="s-app-secret-1"))
            first = server.issue_refresh_token("app")
            config = {"base_url": server.url, "token_url": server.token_url, "client_id": "app", "client_secret": "s-app-secret-1", "refresh_token": first}
            store = MemoryTokenStore()
            with open_connector(spec_yaml("rt", REFRESH_AUTH), config, clock=clock, tokens=store) as connector:
                assert read(connector) == ITEMS
                clock.advance(600)
                assert read(connector) == ITEMS  # renewed with the rotated refresh token
            assert server.token_requests["refresh_token"] == 2
            assert server.refused == []
            # A later run starts from the stored chain: the configured token was used up long ago.
            with open_connector(spec_yaml("rt", REFRESH_AUTH), config, clock=clock, tokens=store) as connector:
                assert read(connector) == ITEMS  # the stored access token is still valid
                assert server.token_requests["refresh_token"] == 2
                clock.advance(600)
                assert read(connector) == ITEMS
            assert server.token_requests["refresh_token"] == 3 and server.refused == []

    def test_a_used_up_refresh_token_is_an_auth_error_with_a_hint(self, clock: FakeClock, open_connector: Opener) -> None:
        with OAuth2Server(clock, access_ttl=600, rotate_refresh=True) as server:
            server.add_client(OAuth2Client("app", secret="s-app-secret-1"))
            token = server.issue_refresh_token("app")
            config = {"base_url": server.url, "token_url": server.token_url, "client_id": "app", "client_secret": "s-app-secret-1", "refresh_token": token}
            with open_connector(spec_yaml("rt", REFRESH_AUTH), config, clock=clock) as connector:
                read(connector)
            with open_connector(spec_yaml("rt", REFRESH_AUTH), config, clock=clock) as connector:  # no token store
                with pytest.raises(AuthError) as caught:
                    read(connector)
        assert "invalid_grant" in caught.value.message and "put a new one in the config" in str(caught.value)
        assert token not in str(caught.value)


# --- OAuth 2.0 authorization code -------------------------------------------------------------------

CODE_AUTH = """  type: oauth2_authorization_code
  authorize_url: "{{ config.base_url }}/authorize"
  token_url: "{{ config.token_url }}"
  client_id: "{{ config.client_id }}"
  client_secret: "{{ config.client_secret }}"
  access_token: "{{ config.access_token | default(None) }}"
  refresh_token: "{{ config.refresh_token | default(None) }}"
  expires_at: "{{ config.expires_at | default(None) }}"
  refresh_expires_at: "{{ config.refresh_expires_at | default(None) }}"
  REFRESH_LIFETIME
"""
WEEK = 7 * 86400


def consent_outside_connector_core(server: OAuth2Server, client_id: str, secret: str) -> dict[str, Any]:
    """Tokens obtained with plain requests (no connector_core code): consent, then code exchange."""
    import secrets as random

    import requests
    from authservers import pkce_challenge

    verifier = random.token_urlsafe(40)
    redirect = "http://127.0.0.1:9/callback"
    consent = requests.get(
        server.authorize_url,
        params={"response_type": "code", "client_id": client_id, "redirect_uri": redirect, "state": "s1", "code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"},
        allow_redirects=False,
        timeout=10,
    )
    code = dict(__import__("urllib.parse").parse.parse_qsl(consent.headers["Location"].split("?", 1)[1]))["code"]
    token = requests.post(server.token_url, data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "code_verifier": verifier}, auth=(client_id, secret), timeout=10)
    token.raise_for_status()
    body = token.json()
    return {"access_token": body["access_token"], "refresh_token": body["refresh_token"], "expires_at": server.clock() + body["expires_in"]}


class TestAuthorizationCode:
    def open(self, open_connector: Opener, server: OAuth2Server, clock: FakeClock, lifetime: str, **tokens: Any) -> Connector:
        spec = spec_yaml("netsuite_code", CODE_AUTH.replace("REFRESH_LIFETIME", lifetime))
        config = {"base_url": server.url, "token_url": server.token_url, "client_id": "web", "client_secret": "s-web-secret-2", **tokens}
        return open_connector(spec, config, clock=clock)

    def test_refreshes_while_the_refresh_token_lives_then_asks_to_reauthorize(self, clock: FakeClock, open_connector: Opener) -> None:
        with OAuth2Server(clock, access_ttl=3600, refresh_ttl=WEEK) as server:
            server.add_client(OAuth2Client("web", secret="s-web-secret-2"))
            tokens = consent_outside_connector_core(server, "web", "s-web-secret-2")
            with self.open(open_connector, server, clock, "refresh_token_lifetime: 7d", **tokens, refresh_expires_at=clock() + WEEK) as connector:
                assert read(connector) == ITEMS
                assert server.token_requests["refresh_token"] == 0
                clock.advance(3600)
                assert read(connector) == ITEMS
                clock.advance(6 * 86400)
                assert read(connector) == ITEMS
                assert server.token_requests["refresh_token"] == 2
                clock.advance(86400)  # the week is over: the refresh token is dead
                with pytest.raises(AuthError) as caught:
                    read(connector)
            assert server.token_requests["refresh_token"] == 2  # detected locally, nothing sent
            message = str(caught.value)
            assert "expired and cannot be renewed" in message and "refresh token expired" in message
            assert "connector-core authorize netsuite_code --config" in message

    def test_a_refused_refresh_token_asks_to_reauthorize(self, clock: FakeClock, open_connector: Opener) -> None:
        with OAuth2Server(clock, access_ttl=3600, refresh_ttl=WEEK) as server:
            server.add_client(OAuth2Client("web", secret="s-web-secret-2"))
            tokens = consent_outside_connector_core(server, "web", "s-web-secret-2")
            with self.open(open_connector, server, clock, "", **tokens) as connector:  # lifetime unknown to the spec
                clock.advance(WEEK + 1)
                with pytest.raises(AuthError) as caught:
                    read(connector)
            assert server.refused == ["invalid_grant: refresh token expired"]
            assert "connector-core authorize netsuite_code" in str(caught.value)
            assert tokens["refresh_token"] not in str(caught.value)

    def test_without_tokens_the_error_says_authorize_first(self, clock: FakeClock, open_connector: Opener) -> None:
        with OAuth2Server(clock) as server:
            server.add_client(OAuth2Client("web", secret="s-web-secret-2"))
            with self.open(open_connector, server, clock, "") as connector:
                with pytest.raises(AuthError) as caught:
                    read(connector)
            assert server.token_request_count == 0 and server.api_requests == 0
        assert "is not authorized yet" in str(caught.value) and "connector-core authorize" in str(caught.value)


# --- secrets stay out of logs and messages -----------------------------------------------------------


class TestNoSecretsLeak:
    def test_debug_logs_and_errors_carry_no_credentials(self, caplog: pytest.LogCaptureFixture, clock: FakeClock, open_connector: Opener, oauth1_server: OAuth1Server, static_server: StaticCredentialsServer) -> None:
        caplog.set_level(logging.DEBUG)
        for noisy in ("urllib3", "werkzeug"):  # as `connector-core --debug` sets them (cli.main)
            logging.getLogger(noisy).setLevel(logging.WARNING)
        errors: list[str] = []
        secrets = [*OAUTH1.values(), "k-3f9a8b7c6d5e", "pw-lovelace-1815", "s-machine-7d1c0a", "s-app-secret-1"]

        with open_connector(spec_yaml("tba", OAUTH1_AUTH, extra=OAUTH1_EXTRA), {"base_url": oauth1_server.url, "account": "1234567_SB1", **OAUTH1}) as connector:
            read(connector, "search")
            connector.call("create", {"name": "Acme"})
        with open_connector(spec_yaml("key_query", "  {type: api_key, in: query, name: api_key, value: '{{ config.api_key }}'}", "/key/query"), {"base_url": static_server.url, "api_key": "k-3f9a8b7c6d5e"}) as connector:
            read(connector)
        with open_connector(spec_yaml("basic", "  {type: basic, username: '{{ config.user }}', password: '{{ config.password }}'}", "/basic"), {"base_url": static_server.url, "user": "ada", "password": "pw-lovelace-1815"}) as connector:
            read(connector)
        with OAuth2Server(clock, access_ttl=600, rotate_refresh=True) as server:
            server.add_client(OAuth2Client("machine", secret="s-machine-7d1c0a"))
            server.add_client(OAuth2Client("app", secret="s-app-secret-1"))
            private, public = generate_private_key("PS256")
            server.add_client(OAuth2Client("m2m", public_key=public, key_id="cert-1", algorithms=("PS256",)))
            secrets.append(private.splitlines()[1])
            base = {"base_url": server.url, "token_url": server.token_url}
            with open_connector(spec_yaml("cc", SECRET_AUTH.replace("CLIENT_AUTH", "basic")), {**base, "client_id": "machine", "client_secret": "s-machine-7d1c0a"}, clock=clock) as connector:
                read(connector)
                server.revoke_access_tokens()
                read(connector)
            config = {**base, "client_id": "m2m", "private_key": private, "key_id": "cert-1", "algorithm": "PS256"}
            with open_connector(spec_yaml("jwt", ASSERTION_AUTH.replace("ALLOWED", "")), config, clock=clock) as connector:
                read(connector)
            refresh = server.issue_refresh_token("app")
            config = {**base, "client_id": "app", "client_secret": "s-app-secret-1", "refresh_token": refresh}
            with open_connector(spec_yaml("rt", REFRESH_AUTH), config, clock=clock) as connector:
                read(connector)
                clock.advance(600)
                read(connector)
                server.access_ttl = 0  # from now on every token is refused by the API
                server.revoke_access_tokens()
                with pytest.raises(AuthError) as caught:
                    read(connector)
                errors.append(str(caught.value))
            with open_connector(spec_yaml("rt", REFRESH_AUTH), config, clock=clock) as connector:  # a used-up token
                with pytest.raises(AuthError) as caught:
                    read(connector)
                errors.append(str(caught.value))
            secrets += server.issued
        assert "Authorization" in caplog.text or "request GET" in caplog.text  # debug logging did run
        assert_absent(secrets, caplog.text, *errors)
