"""The shared fault kit and the control API on the Salesforce emulator."""

from __future__ import annotations

import pytest
import requests
from salesforce_emulator_support import Org


def test_an_injected_status_answers_in_salesforce_words(org: Org) -> None:
    org.control("POST", "/faults", {"kind": "status", "status": 503, "count": 1, "path_prefix": "/services/data"})
    failed = org.get("/limits")
    assert failed.status_code == 503
    assert failed.json() == [{"message": "Server temporarily unavailable, please try again later",
                              "errorCode": "SERVER_UNAVAILABLE"}]
    assert org.get("/limits").status_code == 200  # count 1: only the first


def test_an_injected_error_code_and_message_are_used(org: Org) -> None:
    org.control("POST", "/faults", {"kind": "status", "status": 400, "code": "UNABLE_TO_LOCK_ROW",
                                    "detail": "unable to obtain exclusive access to this record"})
    assert org.get("/limits").json() == [{"message": "unable to obtain exclusive access to this record",
                                          "errorCode": "UNABLE_TO_LOCK_ROW"}]


def test_a_fault_after_the_handler_applies_the_write_and_loses_the_reply(org: Org) -> None:
    org.control("POST", "/faults", {"kind": "drop", "when": "after", "method": "POST",
                                    "path_prefix": "/services/data/v59.0/sobjects/Account"})
    with pytest.raises(requests.ConnectionError):
        org.post("/sobjects/Account", {"Name": "Written but unanswered"})
    assert len(org.records("SELECT Id FROM Account WHERE Name = 'Written but unanswered'")) == 1


def test_stats_count_routes_error_codes_and_faults(org: Org) -> None:
    org.query("SELECT nope FROM Account")
    org.control("POST", "/faults", {"kind": "status", "status": 500})
    org.get("/limits")
    stats = org.control("GET", "/stats")
    assert stats["by_route"]["query"] == 1
    assert stats["by_error_code"] == {"INVALID_FIELD": 1, "UNKNOWN_EXCEPTION": 1}
    assert stats["faults"] == 1 and stats["faults_by_kind"]["status"] == 1
    assert stats["api_usage"]["used"] == 1  # the faulted call never reached the org
    assert stats["records"]["Account"] == 30


def test_reset_reseeds_and_clears_sessions(org: Org) -> None:
    org.post("/sobjects/Account", {"Name": "Temporary"})
    org.control("POST", "/reset")
    assert org.get("/limits").status_code == 401
    org.http.headers["Authorization"] = "Bearer " + org.control("POST", "/tokens")["access_token"]
    assert org.query("SELECT COUNT() FROM Account").json()["totalSize"] == 30


def test_planting_a_system_change_moves_only_system_modstamp(org: Org) -> None:
    account = org.records("SELECT Id, LastModifiedDate FROM Account LIMIT 1")[0]
    org.control("PATCH", f"/records/Account/{account['Id']}", {"SystemModstamp": "2030-01-01T00:00:00Z"})
    after = org.get(f"/sobjects/Account/{account['Id']}").json()
    assert after["SystemModstamp"] == "2030-01-01T00:00:00.000+0000"
    assert after["LastModifiedDate"] == account["LastModifiedDate"]


def test_credentials_and_time(org: Org) -> None:
    creds = org.control("GET", "/credentials")
    assert creds["instance_url"] == org.url and "BEGIN PRIVATE KEY" in creds["private_key_pem"]
    before = org.control("GET", "/time")["now"]
    assert org.control("POST", "/time", {"seconds": 3600})["now"] >= before + 3600
