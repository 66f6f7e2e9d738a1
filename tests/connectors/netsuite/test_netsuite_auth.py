"""The `netsuite` auth type end to end against the emulator: TBA, OAuth 2.0 M2M, authorization code."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from connector_core.engine.auth import AuthContext, MemoryTokenStore, authorization_code_key
from connector_core.engine.auth.authorize import code_from_redirect, consent_request, exchange_code
from connector_core.engine.connector import Connector
from connector_core.engine.urls import check_transport
from connector_core.errors import AuthError, ConfigError

SUITEQL = "/services/rest/query/v1/suiteql"


def _token_requests(env: Any) -> int:
    return int(env.stats()["by_route"].get("token", 0))


class TestTokenBasedAuth:
    @pytest.mark.parametrize("typed", ["1234567-sb1", "1234567_SB1", "1234567_sb1", " 1234567-SB1 "])
    def test_account_id_in_any_pasted_form_signs_with_the_right_realm(self, shared: Any, typed: str) -> None:
        connector = shared.open(shared.tba(account_id=typed))
        assert connector.check().ok
        rows = connector.call("suiteql_query", {"query": "SELECT id FROM customer ORDER BY id", "limit": 5})
        assert [r["id"] for r in rows["body"]["items"]] == ["1", "2", "3", "4", "5"]

    def test_wrong_secret_lists_the_usual_causes_and_the_login_audit_trail(self, shared: Any) -> None:
        connector = shared.open(shared.tba(token_secret="not-the-secret"))
        with pytest.raises(AuthError) as caught:
            connector.check()
        text = str(caught.value)
        assert caught.value.status == 401
        assert "INVALID_LOGIN" in text
        assert "Token-Based Authentication is not enabled" in text
        assert "account ID does not match" in text
        assert "'1234567_SB1'" in text  # the realm that was sent
        assert "Setup > Users/Roles > User Management > View Login Audit Trail" in text
        assert "not-the-secret" not in text

    def test_emulator_refuses_a_lowercase_realm_which_we_never_send(self, shared: Any) -> None:
        tba = shared.emulator.credentials()["tba"]
        url = shared.url + SUITEQL

        def raw(realm: str) -> requests.Response:
            auth = OAuth1(
                tba["consumer_key"], tba["consumer_secret"], tba["token_id"], tba["token_secret"],
                signature_method="HMAC-SHA256", realm=realm,
            )
            return requests.post(url, params={"limit": 1}, json={"q": "SELECT id FROM customer"},
                                 headers={"Prefer": "transient"}, auth=auth, timeout=10)

        refused = raw("1234567_sb1")
        assert refused.status_code == 401
        assert refused.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
        assert raw("1234567_SB1").status_code == 200
        # typed in lower case, ours still sends the upper-case realm and is let in
        connector = shared.open(shared.tba(account_id="1234567_sb1"))
        assert connector.call("suiteql_query", {"query": "SELECT id FROM customer", "limit": 1})["status"] == 200

    def test_not_an_account_id_is_a_config_error(self, shared: Any) -> None:
        with pytest.raises(ConfigError, match="not a NetSuite account ID"):
            shared.open(shared.tba(account_id="https://1234567.app.netsuite.com"))

    def test_missing_credentials_are_named(self, shared: Any) -> None:
        config = shared.tba()
        del config["token_secret"]
        with pytest.raises(ConfigError, match="needs token_secret"):
            shared.open({**config, "auth_method": "tba"})


class TestClientCredentials:
    @pytest.mark.parametrize("algorithm", ["PS256", "ES256"])
    def test_m2m_signs_the_assertion_and_reads(self, make_env: Any, rsa_key: Any, ec_key: Any, algorithm: str) -> None:
        key = rsa_key if algorithm == "PS256" else ec_key
        env = make_env(m2m_public_key_pem=key.public_pem)
        connector = env.open(env.m2m(key.private_pem, algorithm=algorithm))
        assert connector.check().ok
        assert len(list(connector.read("subsidiaries"))) == 3
        assert _token_requests(env) == 1
        assert env.stats()["by_auth"].get("oauth2", 0) >= 2

    def test_ps256_is_the_default(self, make_env: Any, rsa_key: Any) -> None:
        env = make_env(m2m_public_key_pem=rsa_key.public_pem)
        config = env.m2m(rsa_key.private_pem)
        assert "algorithm" not in config
        assert env.open(config).check().ok

    @pytest.mark.parametrize("algorithm", ["RS256", "rs512"])
    def test_rs256_is_refused_before_any_request(self, make_env: Any, rsa_key: Any, algorithm: str) -> None:
        env = make_env(m2m_public_key_pem=rsa_key.public_pem)
        with pytest.raises(ConfigError) as caught:
            env.open(env.m2m(rsa_key.private_pem, algorithm=algorithm))
        assert "NetSuite refuses JWT assertions signed" in caught.value.message
        assert "PS256" in (caught.value.hint or "")
        assert env.stats()["total"] == 0

    def test_ec_key_with_ps256_is_a_config_error(self, make_env: Any, ec_key: Any) -> None:
        env = make_env(m2m_public_key_pem=ec_key.public_pem)
        with pytest.raises(ConfigError, match="needs an RSA key"):
            env.open(env.m2m(ec_key.private_pem, algorithm="PS256"))
        assert env.stats()["total"] == 0

    def test_token_is_cached_and_renewed_before_its_60_minutes(self, make_env: Any, ec_key: Any) -> None:
        env = make_env(m2m_public_key_pem=ec_key.public_pem)
        connector = env.open(env.m2m(ec_key.private_pem, algorithm="ES256"))
        query = {"query": "SELECT id FROM subsidiary", "limit": 10}
        connector.call("suiteql_query", query)
        connector.call("suiteql_query", query)
        assert _token_requests(env) == 1
        env.advance(50 * 60)
        connector.call("suiteql_query", query)
        assert _token_requests(env) == 1  # still the first token
        env.advance(9 * 60 + 30)  # 59.5 minutes after it was issued: inside the renewal margin
        connector.call("suiteql_query", query)
        assert _token_requests(env) == 2
        statuses = env.stats()["by_status"]
        assert "401" not in statuses  # renewed ahead of time, never refused

    def test_a_revoked_token_is_renewed_once(self, make_env: Any, ec_key: Any) -> None:
        env = make_env(m2m_public_key_pem=ec_key.public_pem)
        connector = env.open(env.m2m(ec_key.private_pem, algorithm="ES256"))
        query = {"query": "SELECT id FROM subsidiary", "limit": 10}
        connector.call("suiteql_query", query)
        env.emulator.app.oauth2.reset()  # NetSuite forgot the token (revoked, mapping re-created)
        assert connector.call("suiteql_query", query)["status"] == 200
        assert _token_requests(env) == 2
        assert env.stats()["by_status"].get("401") == 1

    def test_wrong_certificate_id_is_an_auth_error_naming_the_token_endpoint(self, make_env: Any, ec_key: Any) -> None:
        env = make_env(m2m_public_key_pem=ec_key.public_pem)
        connector = env.open(env.m2m(ec_key.private_pem, algorithm="ES256", certificate_id="custcertificate999"))
        with pytest.raises(AuthError) as caught:
            connector.check()
        assert "token endpoint" in caught.value.message
        assert "invalid_client" in caught.value.message


def _authorize(env: Any, connector: Connector, store: MemoryTokenStore) -> dict[str, Any]:
    """The consent as `connector-core authorize` runs it: consent URL, redirect, code exchange."""
    delegate = connector.spec.auth.delegate(_ctx(connector, store, env))  # type: ignore[union-attr]
    ctx = _ctx(connector, store, env)
    consent = consent_request(delegate, ctx, "http://127.0.0.1:9/callback")
    assert consent.url.startswith(env.url + "/app/login/oauth2/authorize.nl?")
    landed = requests.get(consent.url, allow_redirects=False, timeout=10)
    assert landed.status_code == 302
    code = code_from_redirect(landed.headers["Location"], consent.state)
    saved = exchange_code(delegate, ctx, consent, code)
    store.save_token(authorization_code_key("netsuite", env.settings.oauth2_client_id), saved)
    return saved


def _ctx(connector: Connector, store: MemoryTokenStore, env: Any) -> AuthContext:
    return AuthContext(
        render=lambda value: connector.render(value, {}, "auth"),
        redactor=connector.redactor,
        session=connector.session,
        check_url=lambda url: check_transport(url, "auth URL"),
        tokens=store,
        connector=connector.name,
        now=env.clock,
    )


class TestAuthorizationCode:
    def test_not_authorized_yet_says_how_to_authorize(self, env: Any) -> None:
        connector = env.open(env.auth_code(), tokens=MemoryTokenStore())
        with pytest.raises(AuthError) as caught:
            connector.check()
        assert "not authorized yet" in caught.value.message
        assert "connector-core authorize netsuite" in (caught.value.hint or "")
        assert env.stats()["total"] == 0

    def test_consent_refresh_and_the_seven_day_limit(self, env: Any) -> None:
        store = MemoryTokenStore()
        saved = _authorize(env, env.open(env.auth_code(), tokens=store), store)
        assert saved["refresh_token"]
        assert saved["refresh_expires_at"] - saved["authorized_at"] == pytest.approx(7 * 24 * 3600)
        assert _token_requests(env) == 1  # the code exchange

        connector = env.open(env.auth_code(), tokens=store)
        query = {"query": "SELECT id FROM subsidiary", "limit": 10}
        assert connector.call("suiteql_query", query)["status"] == 200
        assert _token_requests(env) == 1  # the stored access token is used

        env.advance(3600)  # the access token expired: refreshed with the refresh token
        assert connector.call("suiteql_query", query)["status"] == 200
        assert _token_requests(env) == 2
        env.advance(6 * 24 * 3600)  # day 6: the refresh token still works
        assert connector.call("suiteql_query", query)["status"] == 200
        assert _token_requests(env) == 3

        env.advance(24 * 3600)  # day 7: it cannot be refreshed any more
        with pytest.raises(AuthError) as caught:
            connector.call("suiteql_query", query)
        assert "has expired and cannot be renewed" in caught.value.message
        assert "connector-core authorize netsuite" in (caught.value.hint or "")
        assert "7 days" in (caught.value.hint or "")
        assert _token_requests(env) == 3  # known expired: no pointless token request

    def test_connector_core_authorize_flow(self, env: Any) -> None:
        """What `connector-core authorize netsuite` runs: loopback redirect catcher, browser, code exchange."""
        from connector_core.engine.auth.authorize import run_authorization

        store = MemoryTokenStore()
        connector = env.open(env.auth_code(), tokens=store)
        browser = lambda url: requests.get(url, timeout=10)  # noqa: E731 - NetSuite consents at once, redirects back
        saved = run_authorization(connector, store, port=0, open_browser=browser, echo=lambda text: None,
                                  clock=env.clock, timeout=20)
        assert saved["refresh_expires_at"] - saved["authorized_at"] == pytest.approx(7 * 24 * 3600)
        assert env.open(env.auth_code(), tokens=store).check().ok

    def test_tokens_in_the_config_are_used_and_refreshed(self, env: Any) -> None:
        store = MemoryTokenStore()
        saved = _authorize(env, env.open(env.auth_code(), tokens=store), store)
        config = env.auth_code(
            access_token=saved["access_token"],
            refresh_token=saved["refresh_token"],
            expires_at=str(int(saved["expires_at"])),
            refresh_expires_at=str(int(saved["refresh_expires_at"])),
        )
        connector = env.open(config, tokens=MemoryTokenStore())
        assert connector.check().ok
        env.advance(2 * 3600)
        assert connector.check().ok
        assert _token_requests(env) == 2
        env.advance(7 * 24 * 3600)
        with pytest.raises(AuthError, match="cannot be renewed"):
            connector.check()

    def test_refresh_refused_by_netsuite_asks_to_reauthorize(self, env: Any) -> None:
        store = MemoryTokenStore()
        saved = _authorize(env, env.open(env.auth_code(), tokens=store), store)
        env.emulator.reset()  # NetSuite forgot the grant (revoked, or a sandbox refresh)
        config = env.auth_code(access_token=saved["access_token"], refresh_token=saved["refresh_token"],
                               expires_at=str(int(env.clock()) - 10))
        connector = env.open(config, tokens=MemoryTokenStore())
        with pytest.raises(AuthError) as caught:
            connector.check()
        assert "refused the refresh token" in caught.value.message
        assert "connector-core authorize" in (caught.value.hint or "")


def test_auth_method_is_inferred_or_named(shared: Any, rsa_key: Any) -> None:
    from connectors.netsuite.auth import NetSuiteAuth

    auth = NetSuiteAuth(account_id="1")
    assert auth.method({"token_id": "t", "token_secret": "s", "consumer_key": "k", "consumer_secret": "c"}) == "tba"
    assert auth.method({"certificate_id": "c", "private_key": "p", "consumer_key": "k"}) == "client_credentials"
    assert auth.method({"consumer_key": "k", "consumer_secret": "c"}) == "authorization_code"
    assert auth.method({"auth_method": "M2M", "certificate_id": "c", "private_key": "p", "consumer_key": "k"}) == "client_credentials"
    with pytest.raises(ConfigError, match="cannot tell which NetSuite auth method"):
        auth.method({})
    with pytest.raises(ConfigError, match="is not one of"):
        auth.method({"auth_method": "password"})
    assert re.search(r"tba", ",".join(["tba"]))
