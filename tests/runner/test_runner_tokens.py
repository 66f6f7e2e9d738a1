"""A run uses the tokens `connector-core authorize` saved: NetSuite OAuth 2.0 authorization code against
the emulator, consent given once, then `run` with the connection's config file finds the token file
beside it (before, the runner kept tokens in memory only and every run said "not authorized yet")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from sync_batch_support import CrmSync, companies_to_customers

from connector_core.engine.auth import AuthContext, authorization_code_key
from connector_core.engine.auth.authorize import code_from_redirect, consent_request, exchange_code
from connector_core.engine.auth.tokenstore import JsonFileTokenStore, default_token_path
from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.engine.urls import check_transport
from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator


@pytest.fixture
def hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(HubSpotSettings(companies=5, contacts=0, deals=0)) as emulator:
        yield emulator


@pytest.fixture
def netsuite() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator(EmulatorSettings(customers=0, items=1, sales_orders=0, invoices=0)) as emulator:
        yield emulator


def authorize(config_path: Path, netsuite: NetSuiteEmulator, registry: Registry) -> None:
    """The consent as `connector-core authorize netsuite -c CONFIG` gives it, saved where that command saves it."""
    store = JsonFileTokenStore(default_token_path(config_path))
    connector = Connector(load_spec("netsuite", registry), json.loads(config_path.read_text()), registry, tokens=store)
    ctx = AuthContext(
        render=lambda value: connector.render(value, {}, "auth"), redactor=connector.redactor, session=connector.session,
        check_url=lambda url: check_transport(url, "auth URL"), tokens=store, connector=connector.name,
    )  # fmt: skip
    delegate = connector.spec.auth.delegate(ctx)  # type: ignore[union-attr]
    consent = consent_request(delegate, ctx, "http://127.0.0.1:9/callback")
    landed = requests.get(consent.url, allow_redirects=False, timeout=10)
    saved = exchange_code(delegate, ctx, consent, code_from_redirect(landed.headers["Location"], consent.state))
    store.save_token(authorization_code_key("netsuite", netsuite.settings.oauth2_client_id), saved)


def test_a_run_uses_the_tokens_authorize_saved_beside_the_config_file(
    tmp_path: Path, hubspot: HubSpotEmulator, netsuite: NetSuiteEmulator, registry: Registry
) -> None:
    s = netsuite.settings
    config = {
        "account_id": s.account_id, "base_url": netsuite.url, "auth_method": "authorization_code",
        "consumer_key": s.oauth2_client_id, "consumer_secret": s.oauth2_client_secret, "subsidiary_id": "1",
    }  # fmt: skip
    config_path = tmp_path / "config" / "netsuite.json"
    config_path.parent.mkdir()
    config_path.write_text(json.dumps(config))
    authorize(config_path, netsuite, registry)
    assert netsuite.stats()["by_route"].get("token") == 1  # the code exchange

    sync = CrmSync(tmp_path, hubspot, netsuite, registry)
    sync.write([companies_to_customers()], direction="crm->netsuite")
    _use_config_file(sync.path, "config/netsuite.json")
    run = sync.run()

    assert run.status == "ok", run.errors
    assert run.counts["companies-to-customers"]["created"] == 5
    assert netsuite.stats()["by_route"].get("token") == 1  # the saved access token was used, not a new consent


def _use_config_file(connection: Path, config: str) -> None:
    document = yaml.safe_load(connection.read_text())
    document["destination"]["config"] = config
    connection.write_text(yaml.safe_dump(document, sort_keys=False))
