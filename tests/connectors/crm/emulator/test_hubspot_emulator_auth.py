"""Bearer auth: private-app tokens, OAuth token endpoint, expiry and error envelopes."""

from __future__ import annotations

from hubspot_emulator_support import Client, client_for

from connectors.crm.emulator import HubSpotEmulator

PATH = "/crm/v3/objects/companies?limit=1"


def _grant(client: Client, emu: HubSpotEmulator, **form: str) -> dict:
    creds = emu.credentials
    data = {"client_id": creds["client_id"], "client_secret": creds["client_secret"], **form}
    r = client.post("/oauth/v1/token", data=data)
    assert r.status_code == 200, r.text
    return r.json()


def test_private_app_token_accepted(client: Client) -> None:
    r = client.get(PATH)
    assert r.status_code == 200
    assert len(r.json()["results"]) == 1


def test_missing_and_unknown_tokens_are_401_invalid_authentication(emu: HubSpotEmulator) -> None:
    for token in ("", "not-a-token"):
        r = client_for(emu, token).get(PATH) if token else Client(emu.url or "", None).get(PATH)
        assert r.status_code == 401
        body = r.json()
        assert body["status"] == "error"
        assert body["category"] == "INVALID_AUTHENTICATION"
        assert body["correlationId"] and body["message"]
        assert r.headers["x-hubspot-correlation-id"] == body["correlationId"]


def test_refresh_token_grant_issues_working_access_token(emu: HubSpotEmulator) -> None:
    anon = Client(emu.url or "", None)
    reply = _grant(anon, emu, grant_type="refresh_token", refresh_token=emu.credentials["refresh_token"])
    assert set(reply) >= {"access_token", "refresh_token", "expires_in", "token_type"}
    assert reply["expires_in"] == 1800
    assert reply["refresh_token"] == emu.credentials["refresh_token"]
    r = client_for(emu, reply["access_token"]).get(PATH)
    assert r.status_code == 200


def test_access_token_expires_after_ttl(emu: HubSpotEmulator) -> None:
    anon = Client(emu.url or "", None)
    reply = _grant(anon, emu, grant_type="refresh_token", refresh_token=emu.credentials["refresh_token"])
    c = client_for(emu, reply["access_token"])
    emu.advance_time(1799)
    assert c.get(PATH).status_code == 200
    emu.advance_time(8)
    r = c.get(PATH)
    assert r.status_code == 401
    body = r.json()
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    assert body["message"] == "The OAuth token used to make this call expired 7 second(s) ago."
    # Refreshing again yields a fresh, working token.
    again = _grant(anon, emu, grant_type="refresh_token", refresh_token=reply["refresh_token"])
    assert again["access_token"] != reply["access_token"]
    assert client_for(emu, again["access_token"]).get(PATH).status_code == 200


def test_authorization_code_grant_and_single_use_code(emu: HubSpotEmulator) -> None:
    anon = Client(emu.url or "", None)
    code = emu.credentials["authorization_code"]
    reply = _grant(anon, emu, grant_type="authorization_code", code=code, redirect_uri="http://localhost/cb")
    assert reply["refresh_token"].startswith("emu-rt-")
    refreshed = _grant(anon, emu, grant_type="refresh_token", refresh_token=reply["refresh_token"])
    assert client_for(emu, refreshed["access_token"]).get(PATH).status_code == 200
    creds = emu.credentials
    r = anon.post("/oauth/v1/token", data={"grant_type": "authorization_code", "code": code,
                                           "client_id": creds["client_id"], "client_secret": creds["client_secret"]})
    assert r.status_code == 400 and r.json()["status"] == "BAD_AUTH_CODE"


def test_token_endpoint_errors(emu: HubSpotEmulator) -> None:
    anon = Client(emu.url or "", None)
    creds = emu.credentials
    base = {"grant_type": "refresh_token", "client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    r = anon.post("/oauth/v1/token", data={**base, "refresh_token": "nope"})
    assert r.status_code == 400
    assert r.json()["status"] == "BAD_REFRESH_TOKEN" and r.json()["correlationId"]
    r = anon.post("/oauth/v1/token", data={**base, "client_secret": "wrong", "refresh_token": creds["refresh_token"]})
    assert r.status_code == 400 and r.json()["status"] == "BAD_CLIENT_SECRET"
    r = anon.post("/oauth/v1/token", data={**base, "client_id": "x", "refresh_token": creds["refresh_token"]})
    assert r.status_code == 400 and r.json()["status"] == "BAD_CLIENT_ID"
    r = anon.post("/oauth/v1/token", data={**base, "grant_type": "password"})
    assert r.status_code == 400 and r.json()["status"] == "BAD_GRANT_TYPE"


def test_oauth_calls_omit_daily_headers(emu: HubSpotEmulator, client: Client) -> None:
    private = client.get(PATH)
    assert "x-hubspot-ratelimit-daily" in private.headers
    oauth = client_for(emu, emu.issue_access_token()).get(PATH)
    assert oauth.status_code == 200
    assert "x-hubspot-ratelimit-daily" not in oauth.headers
    assert "x-hubspot-ratelimit-remaining" in oauth.headers
