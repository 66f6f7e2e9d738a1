"""The daily API allowance: ``Sforce-Limit-Info`` on every reply, ``REQUEST_LIMIT_EXCEEDED`` past it."""

from __future__ import annotations

from salesforce_emulator_support import Org


def test_every_reply_reports_api_usage(org: Org) -> None:
    first = org.get("/limits")
    second = org.query("SELECT Id FROM Account LIMIT 1")
    error = org.query("SELECT nope FROM Account")
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/15000"
    assert error.status_code == 400 and error.headers["Sforce-Limit-Info"] == "api-usage=3/15000"
    assert org.get("/limits").json()["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - 4}


def test_past_the_allowance_calls_are_refused_without_retry_after(org: Org) -> None:
    org.control("POST", "/limits", {"used": 99, "limit": 100})
    last = org.get("/limits")
    assert last.status_code == 200 and last.headers["Sforce-Limit-Info"] == "api-usage=100/100"
    refused = org.get("/limits")
    assert refused.status_code == 403
    assert refused.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert "Retry-After" not in refused.headers
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=100/100"


def test_the_allowance_is_a_rolling_24_hours(org: Org) -> None:
    org.control("POST", "/limits", {"used": 100, "limit": 100})
    assert org.get("/limits").status_code == 403
    org.emulator.advance_time(86_401)
    org.http.headers["Authorization"] = f"Bearer {org.emulator.issue_access_token()}"  # the old session timed out
    reply = org.get("/limits")
    assert reply.status_code == 200 and reply.headers["Sforce-Limit-Info"] == "api-usage=1/100"


def test_a_concurrency_limit_refuses_the_request_over_it(org: Org) -> None:
    org.emulator.settings.concurrent_request_limit = 0
    refused = org.get("/limits")
    assert refused.status_code == 403
    assert refused.json()[0]["message"] == "ConcurrentPerOrgLongTxn Limit exceeded."
