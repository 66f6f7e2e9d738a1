"""Salesforce auth through the `salesforce` spec against the emulator: JWT bearer, client credentials, the
web-server flow through `authorize`, the org's instance_url as the base URL, and INVALID_SESSION_ID."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from salesforce_connector_support import control, grants, jwt_config, secret_config

from connector_core.engine.auth import MemoryTokenStore
from connector_core.engine.auth.authorize import run_authorization
from connector_core.engine.connector import Connector
from connector_core.errors import AuthError, ConfigError
from connectors.crm.salesforce_emulator import SalesforceEmulator

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def test_jwt_bearer_check_and_read(salesforce: Connector, emu: SalesforceEmulator) -> None:
    assert salesforce.check().ok
    assert len(list(salesforce.read("users"))) == emu.settings.users
    assert grants(emu) == {JWT_GRANT: 1}  # one assertion, the session reused


def test_client_credentials_with_basic_client_auth(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    connector = open_salesforce(secret_config(emu, "client_credentials", my_domain_url=emu.url))
    assert connector.check().ok
    assert grants(emu) == {"client_credentials": 1}


def test_a_wrong_client_secret_is_an_auth_error_in_salesforce_words(
    emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]
) -> None:
    connector = open_salesforce(secret_config(emu, "client_credentials", consumer_secret="not-the-secret-42"))
    with pytest.raises(AuthError) as caught:
        connector.check()
    assert "invalid_client" in str(caught.value) and "not-the-secret-42" not in str(caught.value)


def test_an_assertion_signed_with_another_key_is_refused(
    emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    connector = open_salesforce(jwt_config(emu, private_key=other))
    with pytest.raises(AuthError) as caught:
        connector.check()
    assert "invalid_grant" in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value)


def test_jwt_bearer_without_a_username_is_a_config_error(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    config = jwt_config(emu)
    del config["username"]
    with pytest.raises(ConfigError) as caught:
        open_salesforce(config)
    assert "username" in str(caught.value)


def test_an_expired_session_is_renewed_once_with_a_new_assertion(salesforce: Connector, emu: SalesforceEmulator) -> None:
    first = list(salesforce.read("users"))
    control(emu, "POST", "/sessions/expire")
    assert list(salesforce.read("users")) == first
    assert grants(emu) == {JWT_GRANT: 2}
    assert emu.stats.snapshot()["by_error_code"] == {"INVALID_SESSION_ID": 1}


def test_a_session_refused_after_renewal_is_a_clear_auth_error_without_a_storm(salesforce: Connector, emu: SalesforceEmulator) -> None:
    salesforce.check()
    emu.faults.add("status", status=401, count=None, path_prefix="/services/data/")
    with pytest.raises(AuthError) as caught:
        list(salesforce.read("users"))
    message = str(caught.value)
    assert "INVALID_SESSION_ID" in message and "Session expired or invalid" in message
    assert "connected app" in message  # the spec's hint
    assert grants(emu) == {JWT_GRANT: 2}  # the first session, one renewal, nothing more


def test_web_server_flow_through_authorize_then_refresh(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    """The consent as a person gives it: open the printed URL, let the org redirect, paste the address."""
    store = MemoryTokenStore()
    config = secret_config(emu, "web_server")
    opened = open_salesforce(config, tokens=store)
    printed: list[str] = []

    def paste(prompt: str) -> str:
        url = next(line.strip() for text in printed for line in text.splitlines() if "/services/oauth2/authorize" in line)
        answer = requests.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == 302
        return str(answer.headers["Location"])

    saved = run_authorization(opened, store, paste=True, read_line=paste, echo=printed.append)
    assert saved["instance_url"] == emu.url and saved["refresh_token"]
    connector = open_salesforce(config, tokens=store)
    assert len(list(connector.read("users"))) == emu.settings.users
    control(emu, "POST", "/sessions/expire")  # the session times out: the refresh token gets a new one
    assert len(list(connector.read("users"))) == emu.settings.users
    assert grants(emu) == {"authorization_code": 1, "refresh_token": 1}


def test_web_server_flow_before_authorize_says_to_authorize(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    connector = open_salesforce(secret_config(emu, "web_server"))
    with pytest.raises(AuthError) as caught:
        connector.check()
    assert "connector-core authorize salesforce" in str(caught.value)
