"""HubSpot auth (private-app token, OAuth refresh with renewal), error messages, retries and rate limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hubspot_connector_support import endpoint_counts, oauth_config, token_config

from connector_core.engine.connector import Connector
from connector_core.errors import AuthError, ConfigError, FatalHTTPError
from connector_core.testing import read_stream
from connectors.crm.emulator import HubSpotEmulator
from connectors.crm.plugin import HUBSPOT_SPEC

# --- auth ------------------------------------------------------------------------------------------------


def test_the_config_chooses_token_or_oauth(
    emu: HubSpotEmulator, open_hubspot: Callable[..., Connector]
) -> None:
    assert open_hubspot(token_config(emu)).auth_spec.type == "bearer"
    assert open_hubspot(oauth_config(emu)).auth_spec.type == "oauth2_refresh"
    with pytest.raises(ConfigError):
        open_hubspot({"base_url": emu.url, "client_id": "only-an-id"})


def test_oauth_token_is_renewed_from_expires_in_before_it_expires(
    emu: HubSpotEmulator, open_hubspot: Callable[..., Connector]
) -> None:
    connector = open_hubspot(oauth_config(emu), clock=emu.clock.now, sleep=emu.advance_time)
    assert read_stream(connector, "companies_full").records
    assert endpoint_counts(emu)["oauth.token"] == 1
    emu.advance_time(1000)  # 30-minute token, 13 minutes left: kept
    read_stream(connector, "contacts_full")
    assert endpoint_counts(emu)["oauth.token"] == 1
    emu.advance_time(600)  # 3 minutes left: renewed ahead of expiry (renew_before 5m)
    read_stream(connector, "deals_full")
    stats = emu.stats.snapshot()
    assert stats["by_endpoint"]["oauth.token"] == 2 and "401" not in stats["by_status"]


def test_an_expired_token_is_renewed_once_on_401_expired_authentication(
    emu: HubSpotEmulator, open_hubspot: Callable[..., Connector]
) -> None:
    connector = open_hubspot(
        oauth_config(emu)
    )  # the connector's own clock: it cannot see the emulator's jump
    read_stream(connector, "deal_pipelines")
    emu.advance_time(1807)
    records = read_stream(connector, "companies_full").records
    assert len(records) == emu.count("companies")
    stats = emu.stats.snapshot()
    assert stats["by_status"]["401"] == 1 and stats["by_endpoint"]["oauth.token"] == 2


def test_a_401_after_renewal_is_explained(
    emu: HubSpotEmulator, open_hubspot: Callable[..., Connector]
) -> None:
    connector = open_hubspot(oauth_config(emu))
    emu.faults.add(kind="status", status=401, count=None, path_prefix="/crm/v3/objects/companies")
    with pytest.raises(AuthError) as caught:
        read_stream(connector, "companies_full")
    assert "HubSpot refused the credentials (INVALID_AUTHENTICATION)" in str(caught.value)
    assert "refresh_token" in (caught.value.hint or "")
    assert endpoint_counts(emu)["oauth.token"] == 2  # renewed once, not in a loop


def test_an_unknown_private_app_token_is_refused_with_a_hint(
    emu: HubSpotEmulator, open_hubspot: Callable[..., Connector]
) -> None:
    connector = open_hubspot(token_config(emu, access_token="pat-na1-wrong"))
    with pytest.raises(AuthError) as caught:
        connector.check()
    assert "HubSpot refused the credentials (INVALID_AUTHENTICATION)" in str(caught.value)
    assert "private-app token" in (caught.value.hint or "")
    assert "pat-na1-wrong" not in str(caught.value)


def test_missing_scopes_name_the_scopes_to_grant(hubspot: Connector, emu: HubSpotEmulator) -> None:
    emu.faults.add(kind="status", status=403, count=1)
    with pytest.raises(AuthError) as caught:
        read_stream(hubspot, "deal_pipelines")
    assert "MISSING_SCOPES" in str(caught.value) and "crm.objects" in (caught.value.hint or "")


def test_a_404_without_a_body_still_says_what_happened(hubspot: Connector, emu: HubSpotEmulator) -> None:
    emu.faults.add(kind="status", status=404, count=1)
    with pytest.raises(FatalHTTPError, match="HubSpot"):
        read_stream(hubspot, "deal_pipelines")


# --- retries and rate limits ------------------------------------------------------------------------------


def test_server_errors_and_429_without_retry_after_are_retried(
    make_emulator: Callable[..., HubSpotEmulator], open_hubspot: Callable[..., Connector]
) -> None:
    emu = make_emulator()
    connector = open_hubspot(token_config(emu), sleep=lambda seconds: None)
    emu.faults.add(kind="status", status=503, count=2, path_prefix="/crm/v3/objects/companies/search")
    emu.faults.add(kind="status", status=429, count=2, path_prefix="/crm/v3/objects/contacts")
    assert len(read_stream(connector, "companies").records) == emu.count("companies")
    assert len(read_stream(connector, "contacts_full").records) == emu.count("contacts")
    assert emu.stats.snapshot()["rate_limited"] == 2


def test_the_ten_second_budget_from_the_headers_is_respected(
    make_emulator: Callable[..., HubSpotEmulator], open_hubspot: Callable[..., Connector]
) -> None:
    emu = make_emulator(companies=1500, contacts=400, rate_limit_per_10s=12, frozen_clock=True)
    # the connector's clock is the emulator's: waiting advances it, no test time is spent
    connector = open_hubspot(token_config(emu), clock=emu.clock.now, sleep=emu.advance_time)
    assert len(read_stream(connector, "companies_full").records) == 1500
    assert len(read_stream(connector, "contacts_full").records) == 400
    stats = emu.stats.snapshot()
    assert stats["requests"] == 19 and stats["rate_limited"] == 0
    assert connector.governor.waited_seconds >= 10  # it did wait for the window


def test_without_the_header_budget_the_same_read_meets_429s(
    make_emulator: Callable[..., HubSpotEmulator], open_hubspot: Callable[..., Connector], tmp_path: Path
) -> None:
    emu = make_emulator(companies=1500, rate_limit_per_10s=12, frozen_clock=True)
    text = HUBSPOT_SPEC.read_text(encoding="utf-8")
    start = text.index("  rate_limit_headers:")
    end = text.index("  rate_limits:")
    (tmp_path / "hubspot.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    connector = open_hubspot(
        token_config(emu), spec=tmp_path / "hubspot.yaml", clock=emu.clock.now, sleep=emu.advance_time
    )
    assert len(read_stream(connector, "companies_full").records) == 1500  # still complete: 429s are retried
    assert emu.stats.snapshot()["rate_limited"] > 0


def test_search_keeps_to_its_own_lower_limit(
    make_emulator: Callable[..., HubSpotEmulator], open_hubspot: Callable[..., Connector]
) -> None:
    emu = make_emulator(companies=1500, contacts=500, deals=300, search_per_second=5, frozen_clock=True)
    connector = open_hubspot(
        token_config(emu, search_rate_limit=5), clock=emu.clock.now, sleep=emu.advance_time
    )
    for stream in ("companies", "contacts", "deals"):
        assert len(read_stream(connector, stream).records) == emu.count(stream)
    stats = emu.stats.snapshot()
    assert stats["by_endpoint"]["objects.search"] == 8 + 3 + 2
    assert stats["rate_limited"] == 0
