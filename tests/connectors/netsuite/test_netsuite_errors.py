"""NetSuite errors become actionable messages; 429s never fail a read; debug logs hold no secrets."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from connector_core.errors import AuthError, FatalHTTPError, RetriableHTTPError

CUSTOMER = {"entityId": "ERR-1", "companyName": "Err One", "subsidiary": {"id": "1"}}


class TestErrorMessages:
    """Each NetSuite error code → what our message says (the troubleshooting table in the docs)."""

    def test_invalid_login(self, shared: Any) -> None:
        with pytest.raises(AuthError) as caught:
            shared.open(shared.tba(consumer_secret="wrong")).call("get_record", {"record_type": "customer", "record_id": 1})
        assert "NetSuite refused the login (INVALID_LOGIN)" in caught.value.message
        assert "Token-Based Authentication is not enabled" in caught.value.message
        assert "Login Audit Trail" in (caught.value.hint or "")

    def test_insufficient_permission_names_record_type_and_permission(self, make_env: Any) -> None:
        env = make_env(denied_record_types=frozenset({"invoice", "salesorder"}))
        connector = env.open()
        with pytest.raises(AuthError) as caught:
            connector.call("get_record", {"record_type": "invoice", "record_id": 1})
        assert caught.value.status == 403
        assert "may not access invoice (INSUFFICIENT_PERMISSION)" in caught.value.message
        assert "Transactions > Invoice" in (caught.value.hint or "")
        with pytest.raises(AuthError) as caught:
            connector.call("transform_sales_order", {"sales_order_id": 1})
        assert "salesOrder" in caught.value.message
        assert "Transactions > Sales Order" in (caught.value.hint or "")
        assert connector.call("get_record", {"record_type": "customer", "record_id": 1})["status"] == 200

    def test_invalid_content_names_the_field(self, shared: Any) -> None:
        with pytest.raises(FatalHTTPError) as caught:
            shared.open().call("create_record", {"record_type": "customer", "payload": {**CUSTOMER, "creditLimit": "lots"}})
        assert "(INVALID_CONTENT) at field 'creditLimit'" in caught.value.message
        assert "type" in (caught.value.hint or "")
        with pytest.raises(FatalHTTPError) as caught:
            shared.open().call("create_record", {"record_type": "customer", "payload": {**CUSTOMER, "subsidiary": {"id": "999"}}})
        assert "at field 'subsidiary'" in caught.value.message
        assert "referenced record exists" in (caught.value.hint or "")

    def test_nonexistent_field_names_the_field(self, shared: Any) -> None:
        with pytest.raises(FatalHTTPError) as caught:
            shared.open().call("raw_request", {
                "url": "/customer", "method": "POST", "data": {**CUSTOMER, "favouriteColour": "teal"},
                "headers": {"X-NetSuite-PropertyNameValidation": "Error"},
            })
        assert "(NONEXISTENT_FIELD) at field 'favouriteColour'" in caught.value.message
        assert "metadata-catalog" in (caught.value.hint or "")

    def test_nonexistent_id_points_at_deleted_records(self, shared: Any) -> None:
        with pytest.raises(FatalHTTPError) as caught:
            shared.open().call("get_record", {"record_type": "customer", "record_id": 987654})
        assert caught.value.status == 404
        assert "The record instance does not exist" in caught.value.message
        assert "deleted_records" in (caught.value.hint or "")

    def test_missing_transaction_answered_as_user_error(self, shared: Any) -> None:
        with pytest.raises(FatalHTTPError) as caught:
            shared.open().call("get_record", {"record_type": "salesOrder", "record_id": 987654})
        assert "(USER_ERROR)" in caught.value.message
        assert "does not exist or belongs to another transaction type" in (caught.value.hint or "")

    def test_unknown_record_type(self, shared: Any) -> None:
        with pytest.raises(FatalHTTPError) as caught:
            shared.open().call("get_record", {"record_type": "custmer", "record_id": 1})
        assert "Record type 'custmer' does not exist" in caught.value.message
        assert "metadata-catalog" in (caught.value.hint or "")

    def test_user_error_missing_fields(self, shared: Any) -> None:
        with pytest.raises(FatalHTTPError) as caught:
            shared.open().call("create_record", {"record_type": "customer", "payload": {"companyName": "No Id", "subsidiary": {"id": "1"}}})
        assert "(USER_ERROR)" in caught.value.message and "Customer ID" in caught.value.message
        assert "add them to the payload" in (caught.value.hint or "")

    def test_429_when_retries_run_out(self, env: Any) -> None:
        env.emulator.faults.add("status", status=429, count=3)
        with pytest.raises(RetriableHTTPError) as caught:
            env.open(sleep=lambda s: None).call("raw_request", {"url": "/customer/1", "max_retry_count": 2})
        assert "HTTP 429" in caught.value.message
        assert "Concurrent request limit exceeded" in caught.value.message
        assert "after 3 attempts" in caught.value.message
        assert "throttling" in (caught.value.hint or "")


def _short_sleep(seconds: float) -> None:
    time.sleep(min(seconds, 0.05))  # real backoff, shortened so the test stays quick


class TestGovernance:
    def test_no_429_fails_a_read(self, make_env: Any) -> None:
        env = make_env(customers=6500, concurrency_limit=2)
        env.emulator.faults.add("status", status=429, count=4, path_prefix="/services/rest/query/")
        connector = env.open(env.tba(concurrency=8), sleep=_short_sleep)
        rows = list(connector.read("customers"))
        assert len(rows) == 6500 and len({r["id"] for r in rows}) == 6500
        stats = env.stats()
        assert stats["by_status"].get("429", 0) >= 4  # the injected ones, plus any over the limit of 2
        assert stats["max_in_flight"] <= 2

    def test_429s_on_writes_are_retried(self, make_env: Any) -> None:
        env = make_env()
        env.emulator.faults.add("status", status=429, count=2, path_prefix="/services/rest/record/v1/customer")
        made = env.open(sleep=_short_sleep).call("create_record", {"record_type": "customer", "payload": CUSTOMER})
        assert env.emulator.get_record("customer", made["id"])["entityId"] == "ERR-1"
        assert env.sql_count("SELECT COUNT(*) AS n FROM customer WHERE entityid = 'ERR-1'") == 1

    def test_5xx_on_reads_is_retried(self, make_env: Any) -> None:
        env = make_env(customers=30)
        env.emulator.faults.add("status", status=503, count=2, path_prefix="/services/rest/query/")
        assert len(list(env.open(sleep=_short_sleep).read("customers"))) == 30


def _secrets(env: Any) -> list[str]:
    tba = env.emulator.credentials()["tba"]
    return [tba["consumer_key"], tba["consumer_secret"], tba["token_id"], tba["token_secret"]]


def _assert_clean(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text
    assert "oauth_signature=\"" not in text.replace('oauth_signature="***"', "")
    assert "eyJ" not in text  # no JWT: neither an assertion nor an access or refresh token
    assert "BEGIN PRIVATE KEY" not in text and "Bearer ey" not in text


class TestDebugLogs:
    def test_tba_debug_input_logs_requests_without_secrets(self, shared: Any, caplog: pytest.LogCaptureFixture) -> None:
        connector = shared.open()
        with caplog.at_level(logging.DEBUG):
            connector.call("get_record", {"record_type": "customer", "record_id": 1, "debug": True})
            connector.call("raw_request", {"url": "/customer/1", "debug": True})
            connector.call("suiteql_query", {"query": "SELECT id FROM customer", "limit": 1, "debug": True})
            list(connector.read("subsidiaries"))
        text = caplog.text
        assert "request GET" in text and "/services/rest/record/v1/customer/1" in text
        assert "response 200" in text
        _assert_clean(text, _secrets(shared))

    def test_m2m_and_authorization_code_tokens_never_logged(self, make_env: Any, ec_key: Any, caplog: pytest.LogCaptureFixture) -> None:
        env = make_env(m2m_public_key_pem=ec_key.public_pem)
        with caplog.at_level(logging.DEBUG):
            connector = env.open(env.m2m(ec_key.private_pem, algorithm="ES256"))
            connector.call("suiteql_query", {"query": "SELECT id FROM subsidiary", "debug": True})
            list(connector.read("subsidiaries"))
            token = env.emulator.issue_access_token()
            coded = env.open(env.auth_code(access_token=token, refresh_token="ey" + "J" * 10 + "refresh"))
            coded.call("get_record", {"record_type": "customer", "record_id": 1, "debug": True})
        text = caplog.text
        assert "response 200" in text
        _assert_clean(text, [env.settings.m2m_client_id, token, env.settings.oauth2_client_secret,
                             ec_key.private_pem.splitlines()[1]])

    def test_cli_debug_read_prints_no_secret(self, shared: Any, tmp_path: Path) -> None:
        config = tmp_path / "netsuite.json"
        config.write_text(json.dumps(shared.tba(account_id="1234567-sb1")))
        cli = Path(sys.executable).with_name("connector-core")
        done = subprocess.run(
            [str(cli), "--debug", "read", "netsuite", "--config", str(config), "--stream", "subsidiaries"],
            capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert len(done.stdout.splitlines()) == 3
        assert "/services/rest/query/v1/suiteql" in done.stderr  # the requests were logged
        _assert_clean(done.stdout + done.stderr, _secrets(shared))
