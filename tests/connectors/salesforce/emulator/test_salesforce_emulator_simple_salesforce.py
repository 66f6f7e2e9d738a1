"""simple-salesforce, a widely used client from PyPI, run unchanged against the emulator.

simple-salesforce only speaks ``https://``, so the emulator serves TLS here with a throwaway
certificate the test trusts through ``REQUESTS_CA_BUNDLE`` (requests' own setting). Its login helpers
post to ``https://login.salesforce.com`` and ``https://<domain>.salesforce.com``; for those the session
handed to the client (a documented argument) resolves ``*.salesforce.com`` to the emulator, as a hosts
file entry would, and the client code runs as shipped.
"""

from __future__ import annotations

import csv
import io
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from salesforce_emulator_support import SMALL_ORG
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
)

from connectors.crm.salesforce_emulator import SalesforceEmulator, SalesforceSettings
from connectors.crm.salesforce_emulator.keys import generate_keypair

_HOSTS = ("localhost", "login.salesforce.com", "test.salesforce.com", "emulator.my.salesforce.com")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    pair = generate_keypair("salesforce-emulator-tls", hosts=_HOSTS)
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_text(pair.certificate_pem)
    (folder / "key.pem").write_text(pair.private_pem)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def emulator(tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceEmulator]:
    cert, key = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    emu = SalesforceEmulator(SalesforceSettings(**{**SMALL_ORG, "accounts": 2300}))
    emu.start_tls(context)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def sf(emulator: SalesforceEmulator) -> Salesforce:
    return Salesforce(instance_url=emulator.url, session_id=emulator.issue_access_token())


class LoopbackDNS(HTTPAdapter):
    """Sends requests for ``*.salesforce.com`` to the emulator's address, keeping the Host header."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        if parts.hostname and parts.hostname.endswith(".salesforce.com"):
            request.headers["Host"] = parts.netloc
            request.url = urlunsplit((parts.scheme, self.address, parts.path, parts.query, parts.fragment))
        return super().send(request, *args, **kwargs)


def _resolving_session(emulator: SalesforceEmulator) -> requests.Session:
    session = requests.Session()
    session.mount("https://", LoopbackDNS(urlsplit(emulator.url or "").netloc))
    return session


def test_query_all_follows_next_records_url(sf: Salesforce) -> None:
    result = sf.query_all("SELECT Id, Name, Owner.Username FROM Account ORDER BY Name")
    assert result["totalSize"] == 2300 and result["done"] is True
    records = result["records"]
    assert len(records) == 2300 and len({r["Id"] for r in records}) == 2300
    assert records[0]["Owner"]["Username"].endswith("example.com")
    assert sf.api_usage["api-usage"].used >= 2  # parsed from Sforce-Limit-Info


def test_sobject_create_get_update_upsert_delete(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    created = sf.Account.create({"Name": "Client Co", "NetSuite_Id__c": "SS-1"})
    assert created["success"] is True
    assert sf.Account.get(created["id"])["Name"] == "Client Co"
    assert sf.Account.get_by_custom_id("NetSuite_Id__c", "SS-1")["Id"] == created["id"]
    assert sf.Account.update(created["id"], {"Industry": "Energy"}) == 204
    assert sf.Account.upsert("NetSuite_Id__c/SS-1", {"Name": "Client Co 2"}) == 200
    assert sf.Account.upsert("NetSuite_Id__c/SS-2", {"Name": "Fresh Co"}) == 201
    assert sf.Account.delete(created["id"]) == 204
    deleted = sf.query_all(f"SELECT Id FROM Account WHERE Id = '{created['id']}'", include_deleted=True)
    assert deleted["totalSize"] == 1
    emulator.advance_time(120)  # a window covers whole minutes up to now
    window = sf.Account.deleted(datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(minutes=5))
    assert [d["id"] for d in window["deletedRecords"]] == [created["id"]]
    fields = {f["name"] for f in sf.Account.describe()["fields"]}
    assert {"NetSuite_Id__c", "SystemModstamp"} <= fields


def test_errors_arrive_as_the_clients_exceptions(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.query("SELECT Id FROM Account WHERE")
    assert bad.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    sf.Account.create({"Name": "A", "NetSuite_Id__c": "TWIN"})
    sf.Account.create({"Name": "B", "NetSuite_Id__c": "TWIN"})
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Account.upsert("NetSuite_Id__c/TWIN", {"Name": "which"})
    emulator.app.usage.set_used(emulator.app.usage.limit)
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT Id FROM Account LIMIT 1")
    assert refused.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    emulator.app.tokens.expire_all()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account LIMIT 1")


def test_bulk2_query_returns_every_row_as_csv(sf: Salesforce) -> None:
    chunks = list(sf.bulk2.Account.query("SELECT Id, Name FROM Account", max_records=1000, wait=0))
    rows = [row for chunk in chunks for row in csv.DictReader(io.StringIO(chunk))]
    assert len(chunks) == 3 and len(rows) == 2300 and set(rows[0]) == {"Id", "Name"}


def test_jwt_bearer_login_with_the_clients_own_signer(emulator: SalesforceEmulator) -> None:
    creds = emulator.credentials
    sf = Salesforce(username=creds["username"], consumer_key=creds["consumer_key"],
                    privatekey=creds["private_key_pem"], session=_resolving_session(emulator))
    assert sf.sf_instance == "login.salesforce.com"  # the instance_url the token reply named
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == SMALL_ORG["users"]


def test_client_credentials_login_on_a_my_domain(emulator: SalesforceEmulator) -> None:
    creds = emulator.credentials
    sf = Salesforce(consumer_key=creds["consumer_key"], consumer_secret=creds["consumer_secret"],
                    domain="emulator.my", session=_resolving_session(emulator))
    assert sf.query("SELECT Id FROM Contact LIMIT 2")["totalSize"] == 2
