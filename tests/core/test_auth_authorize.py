"""`connector-core authorize` end to end against the loopback authorization server, and the JSON token store.

The consent is driven like a person would: a "browser" fetches the printed URL, the server consents
and redirects, and the redirect lands on the one-shot loopback server, or its address is pasted back.
PKCE, state, client authentication and the code exchange are all checked by the server.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from authservers import FakeClock, OAuth2Client, OAuth2Server

from connector_core.engine.auth.authorize import code_from_redirect, run_authorization
from connector_core.engine.auth.tokenstore import TOKENS_ENV, JsonFileTokenStore, default_token_path
from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.errors import AuthError, ConfigError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

SECRET = "s-web-secret-2"
WEEK = 7 * 86400
SPEC = """
name: webapp
base_url: "{{ config.base_url }}"
config:
  type: object
  required: [base_url, client_id, client_secret]
  properties:
    base_url: {type: string}
    client_id: {type: string}
    client_secret: {type: string, secret: true}
auth:
  type: oauth2_authorization_code
  authorize_url: "{{ config.base_url }}/authorize"
  token_url: "{{ config.base_url }}/token"
  client_id: "{{ config.client_id }}"
  client_secret: "{{ config.client_secret }}"
  scopes: [rest_webservices]
  refresh_token_lifetime: 7d
defaults:
  retries: {attempts: 2, backoff: 0}
streams:
  items:
    request: {path: /api/items}
    records: data
"""
ITEMS = [{"id": 1}, {"id": 2}]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[OAuth2Server]:
    with OAuth2Server(clock, access_ttl=3600, refresh_ttl=WEEK) as auth_server:
        auth_server.add_client(OAuth2Client("web", secret=SECRET))
        yield auth_server


@pytest.fixture
def files(tmp_path: Path, server: OAuth2Server) -> dict[str, Path]:
    spec = tmp_path / "webapp.yaml"
    spec.write_text(SPEC)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"base_url": server.url, "client_id": "web", "client_secret": SECRET}))
    return {"spec": spec, "config": config, "tokens": tmp_path / ".connector-core" / "tokens.json"}


def open_connector(files: dict[str, Path], registry: Registry, clock: FakeClock, **kwargs: Any) -> Connector:
    store = JsonFileTokenStore(files["tokens"])
    return Connector(load_spec(files["spec"], registry), files["config"], registry, tokens=store, clock=clock, sleep=lambda s: None, **kwargs)


def browser(url: str) -> None:
    """A person who opens the consent URL and agrees: follows the redirect to the loopback server."""
    requests.get(url, timeout=10)


def redirect_location(url: str) -> str:
    """Where the consent sends the browser, without going there (as when nothing listens)."""
    return requests.get(url, allow_redirects=False, timeout=10).headers["Location"]


def consent_url(printed: list[str]) -> str:
    return next(line.strip() for text in printed for line in text.splitlines() if line.strip().startswith("http"))


class TestAuthorizeFlow:
    def test_loopback_redirect_saves_tokens_a_second_connector_uses(self, files: dict[str, Path], registry: Registry, server: OAuth2Server, clock: FakeClock) -> None:
        printed: list[str] = []
        with open_connector(files, registry, clock) as connector:
            saved = run_authorization(connector, JsonFileTokenStore(files["tokens"]), port=0, open_browser=browser, echo=printed.append, clock=clock, timeout=20)
        assert server.consents == 1 and server.token_requests == {"authorization_code": 1}
        assert server.client_auth_methods == ["basic"] and server.refused == []
        url = consent_url(printed)
        assert "code_challenge_method=S256" in url and "scope=rest_webservices" in url
        assert saved["expires_at"] == clock() + 3600 and saved["refresh_expires_at"] == clock() + WEEK
        assert stat.S_IMODE(os.stat(files["tokens"]).st_mode) == 0o600

        # A later run (a new Connector on the same token file) needs no consent.
        with open_connector(files, registry, clock) as connector:
            assert list(connector.read("items")) == ITEMS
            clock.advance(3600)
            assert list(connector.read("items")) == ITEMS  # refreshed
        assert server.consents == 1 and server.token_requests["refresh_token"] == 1
        with open_connector(files, registry, clock) as connector:
            clock.advance(WEEK)
            with pytest.raises(AuthError, match="connector-core authorize webapp"):
                list(connector.read("items"))
        assert server.token_requests["refresh_token"] == 1

    def test_pasted_redirect_address(self, files: dict[str, Path], registry: Registry, server: OAuth2Server, clock: FakeClock) -> None:
        printed: list[str] = []
        with open_connector(files, registry, clock) as connector:
            run_authorization(connector, JsonFileTokenStore(files["tokens"]), paste=True, echo=printed.append, read_line=lambda prompt: redirect_location(consent_url(printed)), clock=clock)
        assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback" in consent_url(printed)
        with open_connector(files, registry, clock) as connector:
            assert list(connector.read("items")) == ITEMS
        assert server.token_requests == {"authorization_code": 1}

    def test_a_redirect_for_another_request_is_refused(self, files: dict[str, Path], registry: Registry, server: OAuth2Server, clock: FakeClock) -> None:
        printed: list[str] = []
        with open_connector(files, registry, clock) as connector:
            with pytest.raises(AuthError, match="state does not match"):
                run_authorization(
                    connector, JsonFileTokenStore(files["tokens"]), paste=True, echo=printed.append, clock=clock,
                    read_line=lambda prompt: redirect_location(consent_url(printed).replace("state=", "state=forged")),
                )
        assert server.token_request_count == 0 and not files["tokens"].exists()

    def test_refused_consent_and_bare_codes(self) -> None:
        with pytest.raises(AuthError, match="access_denied"):
            code_from_redirect("http://127.0.0.1:8765/callback?error=access_denied&state=s", "s")
        assert code_from_redirect("  abc123  ", "s") == "abc123"
        assert code_from_redirect("?code=c1&state=s", "s") == "c1"

    def test_a_code_used_before_is_refused_with_a_hint(self, files: dict[str, Path], registry: Registry, server: OAuth2Server, clock: FakeClock) -> None:
        printed: list[str] = []
        locations: list[str] = []

        def paste(prompt: str) -> str:
            locations.append(redirect_location(consent_url(printed)))
            return locations[-1]

        with open_connector(files, registry, clock) as connector:
            run_authorization(connector, JsonFileTokenStore(files["tokens"]), paste=True, echo=printed.append, read_line=paste, clock=clock)
            used_code = code_from_redirect(locations[0], locations[0].split("state=")[1])
            with pytest.raises(AuthError) as caught:  # the bare code of the first run, pasted again
                run_authorization(connector, JsonFileTokenStore(files["tokens"]), paste=True, echo=printed.append, read_line=lambda p: used_code, clock=clock)
        assert "invalid_grant" in caught.value.message and "only once" in str(caught.value)
        assert used_code not in str(caught.value)

    def test_other_auth_types_are_refused_clearly(self, tmp_path: Path, registry: Registry) -> None:
        spec = tmp_path / "keyed.yaml"
        spec.write_text('name: keyed\nbase_url: "https://api.example.com"\nauth: {type: api_key, value: "abcd1234"}\n')
        with Connector(load_spec(spec, registry), {}, registry) as connector:
            with pytest.raises(ConfigError, match="uses auth type 'api_key'"):
                run_authorization(connector, JsonFileTokenStore(tmp_path / "t.json"), paste=True)


def _run_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    code = "import sys; from connector_core.cli.auth_verbs import authorize; authorize(sys.argv[1:], prog_name='connector-core authorize')"
    return subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TOKENS_ENV}
    env.update(extra)
    return env


class TestAuthorizeCommand:
    def test_no_browser_paste_then_read(self, files: dict[str, Path], registry: Registry, server: OAuth2Server, clock: FakeClock) -> None:
        process = _run_cli([str(files["spec"]), "--config", str(files["config"]), "--no-browser"], _cli_env())
        assert process.stderr is not None and process.stdin is not None
        url = ""
        for line in process.stderr:
            if line.strip().startswith("http"):
                url = line.strip()
                break
        assert url, "no consent URL printed"
        process.stdin.write(redirect_location(url) + "\n")
        process.stdin.flush()
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "Authorized webapp: tokens saved to" in err and str(files["tokens"]) in err
        assert stat.S_IMODE(os.stat(files["tokens"]).st_mode) == 0o600
        with open_connector(files, registry, clock) as connector:
            assert list(connector.read("items")) == ITEMS
        assert server.consents == 1 and server.token_requests == {"authorization_code": 1}

    def test_browser_and_loopback_redirect(self, tmp_path: Path, files: dict[str, Path], registry: Registry, server: OAuth2Server, clock: FakeClock) -> None:
        fake_browser = tmp_path / "browser.py"
        fake_browser.write_text("import sys, urllib.request\nurllib.request.urlopen(sys.argv[1], timeout=10).read()\n")
        tokens = tmp_path / "elsewhere" / "tokens.json"
        env = _cli_env(BROWSER=f"{sys.executable} {fake_browser} %s", **{TOKENS_ENV: str(tokens)})
        process = _run_cli([str(files["spec"]), "-c", str(files["config"]), "--port", "0", "--timeout", "30"], env)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert tokens.exists() and not files["tokens"].exists()
        with Connector(load_spec(files["spec"], registry), files["config"], registry, tokens=JsonFileTokenStore(tokens), clock=clock) as connector:
            assert list(connector.read("items")) == ITEMS
        assert server.consents == 1 and server.token_requests == {"authorization_code": 1}

    def test_errors_exit_with_a_message(self, files: dict[str, Path]) -> None:
        files["config"].write_text(json.dumps({"base_url": "http://example.com", "client_id": "web", "client_secret": SECRET}))
        process = _run_cli([str(files["spec"]), "--config", str(files["config"]), "--no-browser"], _cli_env())
        _, err = process.communicate(timeout=60)
        assert process.returncode == 1
        assert err.startswith("error: ") and "plain http to a non-loopback host" in err and SECRET not in err


class TestJsonFileTokenStore:
    def test_round_trip_keeps_other_keys_and_is_private(self, tmp_path: Path) -> None:
        path = tmp_path / "d" / "tokens.json"
        store = JsonFileTokenStore(path)
        assert store.load_token("a") is None
        store.save_token("a", {"access_token": "x", "expires_at": float("inf")})
        JsonFileTokenStore(path).save_token("b", {"access_token": "y"})
        assert store.load_token("a") == {"access_token": "x", "expires_at": None}
        assert store.load_token("b") == {"access_token": "y"}
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temp file left behind

    def test_concurrent_saves_lose_nothing(self, tmp_path: Path) -> None:
        store = JsonFileTokenStore(tmp_path / "tokens.json")
        threads = [threading.Thread(target=store.save_token, args=(f"k{i}", {"access_token": str(i)})) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(store.load_token(f"k{i}") == {"access_token": str(i)} for i in range(20))

    def test_default_path(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(TOKENS_ENV, raising=False)
        assert default_token_path(tmp_path / "conf" / "prod.yaml") == (tmp_path / "conf" / ".connector-core" / "tokens.json").resolve()
        monkeypatch.setenv(TOKENS_ENV, str(tmp_path / "t.json"))
        assert default_token_path(tmp_path / "conf" / "prod.yaml") == tmp_path / "t.json"

    def test_corrupt_file_is_a_config_error(self, tmp_path: Path) -> None:
        path = tmp_path / "tokens.json"
        path.write_text("{not json")
        with pytest.raises(ConfigError, match="not valid JSON"):
            JsonFileTokenStore(path).load_token("a")
