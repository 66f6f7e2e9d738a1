"""The one mask (engine.redaction): URLs' userinfo, every form of a registered secret, the process-wide
``redact`` the CLI and the state store use, and templates that do not go to the wire seeing secrets
masked while requests still get the real values. (The end-to-end check is test_secret_leaks.py.)"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakeapi import FakeAPI, open_connector

from connector_core.cli import main
from connector_core.engine.config import masked_config
from connector_core.engine.redaction import MASK, RedactingFormatter, Redactor, mask_userinfo, redact
from connector_core.engine.urls import check_transport
from connector_core.errors import ConfigError, RetriableHTTPError

SECRET = "s3cret+/=value-7f3a"
OTHER = "an0ther-secret-91b2"
USERINFO = "pa55-w0rd-in-a-url"  # never registered as a secret


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


class TestUserinfo:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("http://user:pw@127.0.0.1:1/x", "http://***@127.0.0.1:1/x"),
            ("at https://tok@api.test?x=1", "at https://***@api.test?x=1"),
            ("http://u:p@ss@host/path", "http://***@host/path"),  # a raw '@' in the password
            ("'http://u:p@h', 'http://h2'", "'http://***@h', 'http://h2'"),
            ("http://***@h", "http://***@h"),  # idempotent
        ],
    )
    def test_userinfo_is_masked(self, text: str, expected: str) -> None:
        assert mask_userinfo(text) == expected

    @pytest.mark.parametrize(
        "text",
        ["http://host/path?email=a@b.test", "mail a@b.test", '{"u":"http://h","e":"a@b"}', "http://host/a@b", "no url"],
    )
    def test_an_at_sign_outside_the_authority_is_left_alone(self, text: str) -> None:
        assert mask_userinfo(text) == text

    def test_a_redactor_masks_userinfo_it_was_never_told_about(self) -> None:
        assert Redactor().text("GET http://me:hunter22@127.0.0.1:1/") == "GET http://***@127.0.0.1:1/"


class TestRedactor:
    def test_every_form_of_a_secret_is_masked(self) -> None:
        redactor = Redactor([SECRET])
        raw = SECRET.encode()
        for form in (
            SECRET,
            "s3cret%2B%2F%3Dvalue-7f3a",
            "s3cret%2B%2F%3Dvalue-7f3a",
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
        ):
            assert form not in redactor.text(f"before {form} after"), form

    def test_bytes_header_values_are_read_as_text(self) -> None:
        masked = Redactor([SECRET]).headers({"Authorization": b"OAuth x", "X-Echo": f"v={SECRET}".encode()})
        assert masked == {"Authorization": MASK, "X-Echo": f"v={MASK}"}


class TestRedact:
    def test_masks_the_secrets_of_every_live_redactor_and_userinfo(self) -> None:
        first, second = Redactor([SECRET]), Redactor([OTHER])
        text = redact(f"{SECRET} {OTHER} http://u:x@h/")
        assert text == f"{MASK} {MASK} http://***@h/"
        assert redact(None) is None and first and second

    def test_a_formatter_for_embedding_programs(self) -> None:
        keep = Redactor([SECRET])
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s at %s", (SECRET, "http://a:b@h"), None)
        assert RedactingFormatter("%(message)s").format(record) == "token *** at http://***@h"
        assert keep


class TestMaskedConfig:
    SCHEMA = {
        "type": "object",
        "properties": {
            "api_key": {"type": "string", "secret": True},
            "pin": {"type": "integer", "secret": True},
            "nested": {"type": "object", "properties": {"password": {"type": "string", "secret": True}}},
            "keys": {"type": "array", "items": {"type": "string", "secret": True}},
        },
    }

    def test_flagged_values_env_values_and_userinfo_are_masked(self) -> None:
        redactor = Redactor([OTHER])  # e.g. read from {env: ...}
        config = {
            "api_key": SECRET, "pin": 1234, "nested": {"password": "pw-123456", "user": "ada"},
            "keys": ["k1-xxxxx", "k2-yyyyy"], "note": f"from env: {OTHER}", "base_url": "https://u:p@api.test", "empty": "",
        }
        masked = masked_config(self.SCHEMA, config, redactor)
        assert masked == {
            "api_key": MASK, "pin": MASK, "nested": {"password": MASK, "user": "ada"}, "keys": [MASK, MASK],
            "note": f"from env: {MASK}", "base_url": "https://***@api.test", "empty": "",
        }
        assert config["api_key"] == SECRET  # the real config is untouched


def _spec(api: FakeAPI) -> dict[str, Any]:
    return {
        "name": "maskme",
        "config": {"type": "object", "properties": {"api_key": {"type": "string", "secret": True}, "region": {"type": "string"}}},
        "base_url": api.url,
        "auth": {"type": "api_key", "name": "X-API-Key", "value": "{{ config.api_key }}"},
        "defaults": {"retries": {"attempts": 2, "backoff": 0}},
        "streams": {
            "items": {
                "request": {"path": "/items", "query": {"key_copy": "{{ config.api_key }}"}},
                "records": {"path": "data", "filter": "{{ config.api_key != '' }}"},
                "transforms": [{"set": {"all": "{{ config }}", "key": "{{ config.api_key }}", "b64": "{{ config.api_key | b64encode }}"}}],
            }
        },
        "operations": {
            "send": {
                "kind": "action",
                "request": {"method": "POST", "path": "/send", "json": {"key": "{{ config.api_key }}"}},
                "output": "{{ config.api_key }} in {{ config.region }}",
            }
        },
    }


class TestTemplatesThatDoNotGoToTheWire:
    def test_records_and_outputs_see_secrets_masked_requests_get_them(self, tmp_path: Path, api: FakeAPI) -> None:
        api.json("/items", {"data": [{"id": 1}]})
        api.json("/send", {"ok": True}, method="POST")
        connector = open_connector(tmp_path, _spec(api), {"api_key": SECRET, "region": "eu"})
        [record] = list(connector.read("items"))
        output = connector.call("send", {})["output"]
        assert record == {"id": 1, "all": {"api_key": MASK, "region": "eu"}, "key": MASK, "b64": base64.b64encode(b"***").decode()}
        assert output == "*** in eu"
        [read] = api.received("/items")
        [sent] = api.received("/send")
        assert read.header("X-API-Key") == SECRET and read.query["key_copy"] == SECRET
        assert sent.json == {"key": SECRET}


class TestErrorsAndHints:
    def test_the_hint_naming_a_dead_base_url_is_masked(self, tmp_path: Path) -> None:
        spec = {"name": "dead", "base_url": "{{ config.base_url }}", "defaults": {"retries": {"attempts": 2, "backoff": 0}},
                "config": {"type": "object", "properties": {"base_url": {"type": "string"}}},
                "streams": {"items": {"request": {"path": "/items"}}}}
        connector = open_connector(tmp_path, spec, {"base_url": f"http://user:{USERINFO}@127.0.0.1:1"})
        with pytest.raises(RetriableHTTPError) as caught:
            list(connector.read("items"))
        assert USERINFO not in str(caught.value) and "nothing answered at http://***@127.0.0.1:1" in str(caught.value)

    def test_a_refused_base_url_is_shown_without_its_userinfo_even_when_malformed(self) -> None:
        with pytest.raises(ConfigError) as caught:
            check_transport(f"http://user:{SECRET}@api.test/v1")  # the raw '/' in the password breaks the URL
        assert SECRET not in str(caught.value) and "'http://***@api.test/v1'" in str(caught.value)

    def test_an_error_rule_renders_its_message_and_hint_with_secrets_masked(self, tmp_path: Path, api: FakeAPI) -> None:
        spec = _spec(api)
        spec["errors"] = [{"status": 400, "message": "bad {{ config.api_key | b64encode }}", "hint": "key {{ config.api_key }}"}]
        api.route("/items", lambda request: ({"error": "no"}, 400))
        connector = open_connector(tmp_path, spec, {"api_key": SECRET})
        with pytest.raises(Exception) as caught:
            list(connector.read("items"))
        assert str(caught.value) == f"bad {base64.b64encode(b'***').decode()}\n  hint: key ***"


class TestCli:
    def test_stderr_passes_the_mask(self, tmp_path: Path) -> None:
        spec = tmp_path / "dead.yaml"
        spec.write_text(
            "name: dead\nbase_url: '{{ config.base_url }}'\ndefaults: {retries: {attempts: 2, backoff: 0}}\n"
            "config: {type: object, properties: {base_url: {type: string}}}\nstreams: {items: {request: {path: /items}}}\n",
            encoding="utf-8",
        )
        config = tmp_path / "config.yaml"
        config.write_text(f"base_url: http://user:{USERINFO}@127.0.0.1:1\n", encoding="utf-8")
        result = CliRunner().invoke(main, ["--debug", "read", str(spec), "-c", str(config), "-s", "items"])
        assert result.exit_code == 3
        assert USERINFO not in result.stderr and "http://***@127.0.0.1:1" in result.stderr

    def test_a_message_that_quotes_a_secret_is_masked_on_the_way_out(self, tmp_path: Path) -> None:
        # the engine quotes the value it could not use; the CLI's stderr masks it, with its traceback
        spec = tmp_path / "odd.yaml"
        spec.write_text(
            "name: odd\nbase_url: http://127.0.0.1:1\ndefaults: {concurrency: '{{ config.api_key }}'}\n"
            "config: {type: object, properties: {api_key: {type: string, secret: true}}}\n"
            "streams: {items: {request: {path: /items}}}\n",
            encoding="utf-8",
        )
        config = tmp_path / "config.yaml"
        config.write_text(f"api_key: {OTHER}\n", encoding="utf-8")
        result = CliRunner().invoke(main, ["--debug", "check", str(spec), "-c", str(config)])
        assert result.exit_code == 1
        assert "defaults.concurrency must be a whole number from 1 to 256, got '***'" in result.stderr
        assert "Traceback" in result.stderr and OTHER not in result.stderr

