"""The test kit (connector_core.testing): scrubbing, matching, recording and replaying cassettes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import vcr.errors
from vcr.request import Request as VcrRequest

import connectors.example.plugin as example_plugin
from connector_core.engine.connector import Connector
from connector_core.engine.redaction import MASK, Redactor
from connector_core.plugins import build_registry, make_plugin_manager
from connector_core.testing import (
    CassetteScrubber,
    SerialSession,
    assert_cassette_has_no_secrets,
    make_vcr,
    match_body,
    match_query,
    read_stream,
)
from connectors.example.server import ShopServer

pytest_plugins = ["pytester"]

API_KEY = "shop-key-5f1c2a9e"


def _request(
    uri: str, body: Any = None, headers: dict[str, str] | None = None, method: str = "GET"
) -> VcrRequest:
    return VcrRequest(method, uri, body, headers or {})


def _response(body: Any, headers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    content = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": headers or {"Content-Type": ["application/json"]},
        "body": {"string": content},
    }


class TestScrubber:
    def test_secret_headers_are_masked_and_the_scheme_kept(self) -> None:
        scrubber = CassetteScrubber()
        request = scrubber.request(
            _request(
                "https://api.test/v1/x",
                headers={
                    "Authorization": "Bearer abc.def.ghi",
                    "X-API-Key": "k-123456",
                    "X-Client-Secret": "s3cr3t-value",
                    "Accept": "application/json",
                },
            )
        )
        assert request.headers["Authorization"] == f"Bearer {MASK}"
        assert request.headers["X-API-Key"] == MASK
        assert request.headers["X-Client-Secret"] == MASK
        assert request.headers["Accept"] == "application/json"

    def test_oauth1_header_keeps_realm_and_method_but_masks_the_rest(self) -> None:
        header = (
            'OAuth realm="1234567_SB1", oauth_nonce="n0nce123", oauth_timestamp="1700000000", '
            'oauth_version="1.0", oauth_signature_method="HMAC-SHA256", oauth_consumer_key="ck-abcdef", '
            'oauth_token="tk-abcdef", oauth_signature="c2lnbmF0dXJl%3D"'
        )
        scrubbed = CassetteScrubber().request(_request("https://x.test/", headers={"Authorization": header}))
        value = scrubbed.headers["Authorization"]
        assert 'realm="1234567_SB1"' in value and 'oauth_signature_method="HMAC-SHA256"' in value
        for secret in ("n0nce123", "1700000000", "ck-abcdef", "tk-abcdef", "c2lnbmF0dXJl"):
            assert secret not in value
        assert f'oauth_signature="{MASK}"' in value

    def test_header_values_as_bytes_are_scrubbed_as_text(self) -> None:
        # requests-oauthlib (TBA) hands every signed header back as bytes
        header = b'OAuth realm="1234567_SB1", oauth_consumer_key="ck-abcdef", oauth_signature="c2ln"'
        scrubber = CassetteScrubber(["secret-in-a-header"])
        scrubbed = scrubber.request(
            _request("https://x.test/", headers={"Authorization": header, "X-Echo": b"v=secret-in-a-header", "Accept": b"*/*"})
        )
        assert scrubbed.headers["Authorization"] == f'OAuth realm="1234567_SB1", oauth_consumer_key="{MASK}", oauth_signature="{MASK}"'
        assert scrubbed.headers["X-Echo"] == f"v={MASK}" and scrubbed.headers["Accept"] == "*/*"

    def test_query_parameters_with_secret_names_are_masked(self) -> None:
        scrubbed = CassetteScrubber().request(
            _request("https://x.test/a?api_key=zzz-999&oauth_nonce=n1&oauth_token=tok-1&q=keep")
        )
        assert "zzz-999" not in scrubbed.uri and "tok-1" not in scrubbed.uri and "n1" not in scrubbed.uri
        assert "q=keep" in scrubbed.uri

    def test_token_request_form_fields_are_masked(self) -> None:
        body = "grant_type=client_credentials&client_id=app&client_secret=very-secret&client_assertion=eyJ.x.y&code_verifier=pkce-verifier"
        scrubbed = CassetteScrubber().request(
            _request(
                "https://x.test/token",
                body,
                {"Content-Type": "application/x-www-form-urlencoded"},
                "POST",
            )
        )
        text = scrubbed.body.decode()
        assert "grant_type=client_credentials" in text and "client_id=app" in text
        for secret in ("very-secret", "eyJ.x.y", "pkce-verifier"):
            assert secret not in text

    def test_json_request_body_is_masked_by_field_and_by_registered_value(self) -> None:
        scrubber = CassetteScrubber()
        scrubber.add("customer-ssn-1234")
        body = json.dumps(
            {"q": "SELECT id FROM customer", "refresh_token": "rt-1", "note": "customer-ssn-1234"}
        )
        scrubbed = scrubber.request(
            _request("https://x.test/query", body, {"Content-Type": "application/json"}, "POST")
        )
        data = json.loads(scrubbed.body)
        assert data == {"q": "SELECT id FROM customer", "refresh_token": MASK, "note": MASK}

    def test_token_response_is_masked_but_expiry_kept(self) -> None:
        response = CassetteScrubber().response(
            _response(
                {"access_token": "at-1", "refresh_token": "rt-2", "id_token": "it-3", "expires_in": 3600}
            )
        )
        assert json.loads(response["body"]["string"]) == {
            "access_token": MASK,
            "refresh_token": MASK,
            "id_token": MASK,
            "expires_in": 3600,
        }

    def test_secrets_learned_later_by_a_watched_redactor_are_masked(self) -> None:
        scrubber = CassetteScrubber()
        redactor = Redactor()
        scrubber.watch(redactor)
        redactor.add("token-learned-at-runtime")
        response = scrubber.response(
            _response(b"hello token-learned-at-runtime", {"Content-Type": ["text/plain"]})
        )
        assert response["body"]["string"] == f"hello {MASK}".encode()

    def test_binary_bodies_are_left_alone(self) -> None:
        content = bytes(range(256))
        response = CassetteScrubber().response(
            _response(content, {"Content-Type": ["application/octet-stream"]})
        )
        assert response["body"]["string"] == content


class TestMatcher:
    def test_oauth_nonce_timestamp_and_signature_do_not_matter(self) -> None:
        r1 = _request("https://x.test/a?b=1&oauth_nonce=1&oauth_timestamp=2&oauth_signature=3")
        r2 = _request("https://other.test:8080/a?oauth_signature=9&oauth_timestamp=8&oauth_nonce=7&b=1")
        match_query(r1, r2)

    def test_other_query_differences_do(self) -> None:
        with pytest.raises(AssertionError):
            match_query(_request("https://x.test/a?offset=0"), _request("https://x.test/a?offset=100"))

    def test_json_bodies_match_by_value(self) -> None:
        headers = {"Content-Type": "application/json"}
        r1 = _request("https://x.test/suiteql", '{"q": "SELECT 1", "limit": 5}', headers, "POST")
        r2 = _request("https://x.test/suiteql", '{"limit":5,"q":"SELECT 1"}', headers, "POST")
        match_body(r1, r2)
        r3 = _request("https://x.test/suiteql", '{"q": "SELECT 2", "limit": 5}', headers, "POST")
        with pytest.raises(AssertionError):
            match_body(r1, r3)


class TestSecretCheck:
    def test_passes_on_a_clean_cassette(self, tmp_path: Path) -> None:
        path = tmp_path / "clean.yaml"
        path.write_text("interactions:\n- request: {uri: 'https://x.test/', headers: {}}\n")
        assert_cassette_has_no_secrets(path, ["secret-value"])

    def test_fails_naming_each_place_without_printing_the_secret(self, tmp_path: Path) -> None:
        path = tmp_path / "leaky.yaml"
        path.write_text(
            textwrap.dedent(
                """\
                interactions:
                - request:
                    uri: https://x.test/a?key=leaky%2Fsecret
                    headers: {X-API-Key: [leaky/secret]}
                  response:
                    body: {string: ok}
                """
            )
        )
        with pytest.raises(AssertionError) as failure:
            assert_cassette_has_no_secrets(path, ["leaky/secret"])
        message = str(failure.value)
        assert "interactions[0].request.uri" in message
        assert "interactions[0].request.headers.X-API-Key[0]" in message
        assert "leaky/secret" not in message


# --- record against the example shop, then replay with it stopped ------------------------------------


def _registry() -> Any:
    return build_registry(make_plugin_manager(entry_points=False, plugins=[example_plugin]))


def _read_and_write(connector: Connector) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
    customers = read_stream(connector, "customers").records
    orders = read_stream(connector, "orders").records
    created = connector.call("create_customer", {"name": "Ada", "country": "GB"})
    return customers, orders, created


def test_cassette_records_scrubbed_and_replays_with_the_server_stopped(tmp_path: Path) -> None:
    registry = _registry()
    scrubber = CassetteScrubber()
    server = ShopServer(customers=230, orders=60, api_key=API_KEY)
    url = server.start()
    config = {"base_url": url, "api_key": API_KEY}
    try:
        recorder = make_vcr(tmp_path, record_mode="once", scrubber=scrubber)
        with (
            recorder.use_cassette("shop.yaml"),
            Connector(_load(registry), config, registry, session=SerialSession()) as live,
        ):
            scrubber.watch(live.redactor)
            recorded = _read_and_write(live)
        assert server.api.requests > 0
    finally:
        server.stop()

    cassette = tmp_path / "shop.yaml"
    assert_cassette_has_no_secrets(cassette, [API_KEY])
    assert "X-API-Key" in cassette.read_text()

    replayer = make_vcr(tmp_path, record_mode="none", scrubber=CassetteScrubber())
    with (
        replayer.use_cassette("shop.yaml") as played,
        Connector(_load(registry), config, registry) as offline,
    ):
        assert _read_and_write(offline) == recorded
        assert played.all_played
    customers, orders, created = recorded
    assert len(customers) == 230 and len(orders) == 60 and str(created["id"]) == "231"


def test_replay_refuses_a_request_that_was_not_recorded(tmp_path: Path) -> None:
    registry = _registry()
    (tmp_path / "empty.yaml").write_text("interactions: []\nversion: 1\n")
    replayer = make_vcr(tmp_path, record_mode="none")
    config = {"base_url": "http://127.0.0.1:9", "api_key": API_KEY}
    with replayer.use_cassette("empty.yaml"), Connector(_load(registry), config, registry) as offline:
        with pytest.raises(vcr.errors.CannotOverwriteExistingCassetteException):
            offline.http.send("GET", "/api/ping", retry=False)


def _load(registry: Any) -> Any:
    from connector_core.engine.loader import load_spec

    return load_spec("example", registry)


# --- the pytest plugin, end to end -------------------------------------------------------------------

PLUGIN_TEST = """
import connectors.example.plugin as example_plugin
from connector_core.testing import assert_cassette_has_no_secrets

URL = {url!r}
KEY = {key!r}


def test_customers(connector_cassette, cassette_path, load_connector, read_stream, call_operation):
    shop = load_connector("example", {{"base_url": URL, "api_key": KEY}}, entry_points=False, plugins=[example_plugin])
    result = read_stream(shop, "customers")
    assert [r["id"] for r in result.records] == list(range(1, 121))
    assert result.state["cursor"] == "2024-01-02T10:00:00Z"
    assert call_operation(shop, "create_customer", {{"name": "Grace"}})["id"] in (121, "121")


def test_cassette_is_clean(request):
    path = request.path.parent / "cassettes" / "test_kit" / "test_customers.yaml"
    assert path.exists()
    assert_cassette_has_no_secrets(path, [KEY])
"""


def test_plugin_records_only_with_the_flag_and_then_replays_offline(pytester: pytest.Pytester) -> None:
    server = ShopServer(customers=120, orders=10, api_key=API_KEY)
    url = server.start()
    try:
        pytester.makepyfile(test_kit=PLUGIN_TEST.format(url=url, key=API_KEY))
        missing = pytester.runpytest("-p", "no:cacheprovider", "-k", "customers")
        missing.assert_outcomes(errors=1)
        missing.stdout.fnmatch_lines(["*cassette*test_customers.yaml does not exist*--record-cassettes*"])
        assert server.api.requests == 0

        recording = pytester.runpytest("-p", "no:cacheprovider", "--record-cassettes")
        recording.assert_outcomes(passed=2)
        assert server.api.requests > 0
    finally:
        server.stop()
    replay = pytester.runpytest("-p", "no:cacheprovider")
    replay.assert_outcomes(passed=2)


def test_record_mode_ini_option_is_validated(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nconnector_record_mode = sometimes\n")
    pytester.makepyfile("def test_x(connector_vcr):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "connector_record_mode = 'sometimes'" in "\n".join(result.outlines + result.errlines)


def test_cassette_marker_names_the_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cassette("shared/orders.yaml")
        def test_named(cassette_path):
            assert cassette_path.parts[-3:] == ("cassettes", "shared", "orders.yaml")

        def test_default(cassette_path):
            assert cassette_path.parts[-3:] == ("cassettes", "test_cassette_marker_names_the_file", "test_default.yaml")
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
