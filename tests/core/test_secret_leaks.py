"""No secret leaks, whatever the auth method and whatever goes wrong.

Every auth method the engine has is configured with freshly generated random secrets against local
servers: API key in a header and in the query, bearer, basic, OAuth 2.0 client credentials with a
secret and with a JWT assertion, refresh token, authorization code (consented through
`connector-core authorize`), OAuth 1.0a, NetSuite TBA and M2M, HubSpot's private-app token and OAuth.
Over thirty `connector-core --debug` commands then run as subprocesses, forced errors included (wrong
credentials, an unreachable host with a secret in its userinfo, 4xx and 5xx from fault injection, an
API that echoes the credentials it received), plus a sync run between the emulators. The specs'
transforms, filters and outputs render `{{ config }}` and each secret directly.

Then everything written is scanned for each secret in its plain, URL-encoded, base64 and base64url
forms (and JSON-escaped, for PEM keys): every command's stdout and stderr, every file the commands
wrote (the sync's state database and its WAL, `read --state` files, token files) and cassettes
recorded with the test kit. Token files may hold the tokens they exist for (access and refresh
tokens); every other secret (API keys, passwords, client secrets, private keys, TBA credentials)
must be absent from them too. A failure names the secret and the place, never the value.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests
import yaml
from authservers import (
    FakeClock,
    OAuth1Server,
    OAuth2Client,
    OAuth2Server,
    StaticCredentialsServer,
    generate_private_key,
)
from fakeapi import FakeAPI

from connector_core.cli.demo import EXAMPLES, point_at_emulators
from connector_core.engine.connector import Connector
from connector_core.testing import CassetteScrubber, SerialSession, make_vcr
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.crm.plugin import HUBSPOT_SPEC
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NETSUITE_SPEC = ROOT / "connectors" / "netsuite" / "netsuite.yaml"
SCRIPT = Path(sys.executable).with_name("connector-core")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "connector_core.cli"]
QUICK_RETRIES = {"attempts": 2, "backoff": 0.05, "max_backoff": 0.1}
OK, USER, API, DEAD_LETTERS = 0, 1, 3, 5
SYNCED = (OK, DEAD_LETTERS)  # a sync run may dead-letter records the mapping refuses: their reasons are stored too


def _codes(expected: int | tuple[int, ...]) -> tuple[int, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


# --- secrets --------------------------------------------------------------------------------------


def random_secret(safe: bool = False) -> str:
    """A fresh secret. ``safe``: letters and digits only (OAuth 1.0a keys, URL userinfo); otherwise it
    carries characters that URL encoding and base64 change, so every form of it differs."""
    if safe:
        return "k" + secrets.token_hex(31)
    return secrets.token_urlsafe(18) + "+/=" + secrets.token_hex(4)


def forms(secret: str) -> dict[str, str]:
    """The forms a secret is looked for in, by name."""
    raw = secret.encode()
    found = {
        "plain": secret,
        "url-quoted": quote(secret, safe=""),
        "url-quoted+": quote_plus(secret),
        "base64": base64.b64encode(raw).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "json-escaped": json.dumps(secret)[1:-1],
    }
    return found


@dataclass(repr=False)  # pytest shows a failing test's fixtures by their repr
class Secrets:
    """Every secret of the test by name; ``tokens`` name those a token file may hold."""

    values: dict[str, str] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)

    def __repr__(self) -> str:
        return f"<{len(self.values)} secrets>"

    def scrub(self, text: str) -> str:
        """``text`` with every form of every secret replaced by its name: safe in an assertion message."""
        for name, secret in sorted(self.values.items(), key=lambda item: -len(item[1])):
            for form in forms(secret).values():
                text = text.replace(form, f"<{name}>")
        return text

    def new(self, name: str, *, safe: bool = False, token: bool = False) -> str:
        return self.add(name, random_secret(safe), token=token)

    def add(self, name: str, value: str, *, token: bool = False) -> str:
        assert len(value) >= 8, name
        self.values[name] = value
        if token:
            self.tokens.add(name)
        return value

    def add_key(self, name: str, pem: str) -> str:
        """A PEM private key: the whole key and its base64 body (as one line and line by line)."""
        self.add(name, pem)
        lines = pem.strip().splitlines()[1:-1]
        self.add(f"{name} (body)", "".join(lines))
        for index, line in enumerate(lines[:-1]):  # the last line may be short
            self.add(f"{name} (line {index + 1})", line)
        return pem


def leaks(blob: bytes, where: str, wanted: dict[str, str]) -> list[str]:
    """Each (secret, form) of ``wanted`` found in ``blob``, named without the value."""
    found = []
    for name, secret in wanted.items():
        for form, text in forms(secret).items():
            if text.encode() in blob:
                found.append(f"{where}: {name} ({form}, {len(secret)} chars)")
                break
    return found


# --- specs ------------------------------------------------------------------------------------------

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "base_url": {"type": "string"},
        "path": {"type": "string"},
        "note": {"type": "string", "description": "not flagged secret: its value comes from the environment"},
        "api_key": {"type": "string", "secret": True},
        "username": {"type": "string"},
        "password": {"type": "string", "secret": True},
        "token": {"type": "string", "secret": True},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string", "secret": True},
        "refresh_token": {"type": "string", "secret": True},
        "private_key": {"type": "string", "secret": True},
        "key_id": {"type": "string"},
        "consumer_key": {"type": "string", "secret": True},
        "consumer_secret": {"type": "string", "secret": True},
        "token_secret": {"type": "string", "secret": True},
        "realm": {"type": "string"},
    },
}

AUTHS: dict[str, dict[str, Any]] = {
    "api_key_header": {"type": "api_key", "name": "X-API-Key", "value": "{{ config.api_key }}"},
    "api_key_query": {"type": "api_key", "name": "api_key", "in": "query", "value": "{{ config.api_key }}"},
    "basic": {"type": "basic", "username": "{{ config.username }}", "password": "{{ config.password }}"},
    "bearer": {"type": "bearer", "token": "{{ config.token }}"},
    "client_secret": {
        "type": "oauth2_client_credentials",
        "token_url": "{{ config.base_url }}/token",
        "client_id": "{{ config.client_id }}",
        "client_secret": "{{ config.client_secret }}",
    },
    "client_jwt": {
        "type": "oauth2_client_credentials",
        "token_url": "{{ config.base_url }}/token",
        "client_id": "{{ config.client_id }}",
        "assertion": {"private_key": "{{ config.private_key }}", "key_id": "{{ config.key_id }}", "algorithm": "RS256"},
    },
    "refresh": {
        "type": "oauth2_refresh",
        "token_url": "{{ config.base_url }}/token",
        "client_id": "{{ config.client_id }}",
        "client_secret": "{{ config.client_secret }}",
        "refresh_token": "{{ config.refresh_token }}",
    },
    "auth_code": {
        "type": "oauth2_authorization_code",
        "authorize_url": "{{ config.base_url }}/authorize",
        "token_url": "{{ config.base_url }}/token",
        "client_id": "{{ config.client_id }}",
        "client_secret": "{{ config.client_secret }}",
    },
    "oauth1": {
        "type": "oauth1",
        "consumer_key": "{{ config.consumer_key }}",
        "consumer_secret": "{{ config.consumer_secret }}",
        "token": "{{ config.token }}",
        "token_secret": "{{ config.token_secret }}",
        "realm": "{{ config.realm }}",
    },
}

# Templates that do not go to the wire, each trying to put secrets into what is printed.
LEAKY_SET = {
    "everything": "{{ config }}",
    "as_json": "{{ config | tojson }}",
    "encoded": "{{ config | tojson | b64encode }}",
    "direct": "{{ config.api_key | default('-') }}|{{ config.password | default('-') }}|{{ config.token | default('-') }}|{{ config.client_secret | default('-') }}",
    "more": "{{ [config.private_key | default('-'), config.consumer_secret | default('-'), config.refresh_token | default('-'), config.note | default('-')] }}",
    "where": "{{ config.base_url }}",
}


def spec(method: str) -> dict[str, Any]:
    return {
        "name": f"leaky_{method}",
        "base_url": "{{ config.base_url }}",
        "config": CONFIG_SCHEMA,
        "auth": AUTHS[method],
        "defaults": {"retries": QUICK_RETRIES},
        "streams": {
            "items": {
                "request": {"path": "{{ config.path }}"},
                "records": {"path": "data", "filter": "{{ config.api_key | default('-') != 'x' and config.password | default('-') != 'x' }}"},
                "transforms": [{"set": LEAKY_SET}],
            }
        },
        "operations": {
            "probe": {
                "kind": "action",
                "request": {"method": "POST", "path": "{{ config.path }}", "json": {"hello": "world"}},
                "output": {"config": "{{ config }}", "secrets": LEAKY_SET["direct"], "encoded": LEAKY_SET["encoded"]},
            }
        },
        "errors": [
            {"status": 401, "message": "refused by {{ config.base_url }}", "hint": "check the credentials ({{ config | tojson }})"}
        ],
    }


def quick(spec_path: Path, dest: Path) -> Path:
    """A copy of a shipped spec that retries twice, quickly (so a dead host fails in a second)."""
    data = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    data["defaults"]["retries"] = QUICK_RETRIES
    dest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return dest


# --- the world --------------------------------------------------------------------------------------


@dataclass(repr=False)
class World:
    """Servers, secrets and the files the commands read (``inputs``: not scanned)."""

    dir: Path
    secrets: Secrets
    env: dict[str, str]
    inputs: set[Path] = field(default_factory=set)
    servers: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # the servers' and the environment's reprs hold secrets
        return f"<world in {self.dir}>"

    def write(self, relative: str, data: Any) -> Path:
        path = self.dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = data if isinstance(data, str) else json.dumps(data, indent=2)
        path.write_text(text, encoding="utf-8")
        self.inputs.add(path)
        return path

    def config(self, name: str, spec_name: str, data: dict[str, Any]) -> str:
        """Write ``in/<name>/config.json`` (and its secret files); return its path relative to the dir."""
        self.write(f"in/{name}/spec.yaml", yaml.safe_dump(spec(spec_name), sort_keys=False))
        files = {k: v for k, v in data.items() if isinstance(v, dict) and "file" in v}
        for key, value in files.items():
            self.write(f"in/{name}/{value['file']}", value.pop("content"))
            data[key] = {"file": value["file"]}
        self.write(f"in/{name}/config.json", data)
        return f"in/{name}/config.json"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("leaks")
    s = Secrets()
    env = {"LEAK_NOTE": s.new("note from env"), "LEAK_CLIENT_SECRET": s.new("client secret (env)")}
    w = World(directory, s, env)
    clock = FakeClock()
    s.new("api key (header)")
    s.new("api key (query)")
    s.new("basic password")
    s.new("wrong api key")
    s.new("wrong password")
    static_header = StaticCredentialsServer(api_key=s.values["api key (header)"], user="leak-user", password=s.values["basic password"])
    static_query = StaticCredentialsServer(api_key=s.values["api key (query)"])
    oauth2 = OAuth2Server(clock=clock)
    private, public = generate_private_key("RS256")
    s.add_key("JWT private key", private)
    s.add_key("wrong JWT private key", generate_private_key("RS256")[0])
    oauth2.add_client(OAuth2Client("leak-secret-client", secret=env["LEAK_CLIENT_SECRET"]))
    oauth2.add_client(OAuth2Client("leak-jwt-client", public_key=public, key_id="leak-kid", algorithms=("RS256",)))
    oauth2.add_client(OAuth2Client("leak-web-client", secret=s.new("auth-code client secret")))
    s.add("refresh token (issued)", oauth2.issue_refresh_token("leak-secret-client"), token=True)
    s.new("wrong client secret")
    s.new("wrong refresh token", token=True)
    bearer = requests.post(
        oauth2.token_url, data={"grant_type": "client_credentials", "client_id": "leak-secret-client", "client_secret": env["LEAK_CLIENT_SECRET"]}, timeout=10
    ).json()["access_token"]
    s.add("static bearer token", bearer)
    s.new("wrong bearer token")
    oauth1 = OAuth1Server(
        consumer_key=s.new("OAuth1 consumer key", safe=True),
        consumer_secret=s.new("OAuth1 consumer secret"),
        token=s.new("OAuth1 token", safe=True),
        token_secret=s.new("OAuth1 token secret"),
        realm="LEAKREALM",
    )
    s.new("wrong OAuth1 token secret")
    s.new("userinfo password", safe=True)
    echo = FakeAPI().start()
    echo.route("/echo", lambda r: ({"you sent": dict(r.headers), "query": dict(r.args)}, 400))
    echo.fail("/flaky", 503, times=10)
    netsuite_settings = {
        "consumer_key": s.new("NetSuite consumer key", safe=True),
        "consumer_secret": s.new("NetSuite consumer secret", safe=True),
        "token_id": s.new("NetSuite token id", safe=True),
        "token_secret": s.new("NetSuite token secret", safe=True),
        "m2m_client_id": s.new("NetSuite M2M client id", safe=True),
    }
    ns_private, ns_public = generate_private_key("PS256")
    s.add_key("NetSuite M2M private key", ns_private)
    s.new("wrong NetSuite token secret", safe=True)
    seed = {"customers": 12, "items": 3, "sales_orders": 1, "invoices": 3}
    netsuite = NetSuiteEmulator(EmulatorSettings(**seed, **netsuite_settings, m2m_public_key_pem=ns_public))
    netsuite_faulty = NetSuiteEmulator(EmulatorSettings(**seed, **netsuite_settings, m2m_public_key_pem=ns_public))
    hubspot_settings = {
        "private_app_tokens": [s.new("HubSpot private app token")],
        "client_secret": s.new("HubSpot client secret"),
        "refresh_tokens": [s.new("HubSpot refresh token", token=True)],
        "companies": 25,
        "contacts": 5,
        "deals": 5,
    }
    s.new("wrong HubSpot token")
    hubspot = HubSpotEmulator(HubSpotSettings(**hubspot_settings))
    hubspot_faulty = HubSpotEmulator(HubSpotSettings(**hubspot_settings))
    for emulator in (netsuite, netsuite_faulty, hubspot, hubspot_faulty):
        emulator.start("127.0.0.1", 0)
    w.servers = {
        "static": static_header, "static_query": static_query, "oauth2": oauth2, "oauth1": oauth1, "echo": echo,
        "netsuite": netsuite, "netsuite_faulty": netsuite_faulty, "hubspot": hubspot, "hubspot_faulty": hubspot_faulty,
    }
    try:
        yield w
    finally:
        for server in (static_header, static_query, oauth2, oauth1):
            server.close()
        echo.stop()
        for emulator in (netsuite, netsuite_faulty, hubspot, hubspot_faulty):
            emulator.stop()


# --- commands -----------------------------------------------------------------------------------------


@dataclass
class Ran:
    args: tuple[str, ...]
    code: int
    stdout: str = field(repr=False)  # pytest shows reprs in failures: they must not carry a leak further
    stderr: str = field(repr=False)


def run(world: World, *args: str, stdin: str | None = None) -> Ran:
    environment = {**os.environ, **world.env, "NO_COLOR": "1"}
    environment.pop("CONNECTOR_CORE_TOKENS", None)
    done = subprocess.run(
        [*COMMAND, "--debug", *args], cwd=world.dir, env=environment, input=stdin,
        capture_output=True, text=True, timeout=120, check=False,
    )
    return Ran(args, done.returncode, done.stdout, done.stderr)


def run_all(world: World, commands: dict[str, tuple[str, ...]]) -> dict[str, Ran]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {name: pool.submit(run, world, *args) for name, args in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def authorize(world: World, config: str) -> Ran:
    """`connector-core authorize --no-browser`: consent as a browser would, paste the redirect back."""
    environment = {**os.environ, **world.env, "NO_COLOR": "1"}
    environment.pop("CONNECTOR_CORE_TOKENS", None)
    args = ("authorize", str(world.dir / config.replace("config.json", "spec.yaml")), "-c", config, "--no-browser")
    process = subprocess.Popen(
        [*COMMAND, "--debug", *args], cwd=world.dir, env=environment,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None and process.stdin is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.strip().startswith("http") and "/authorize?" in line:
            consent = requests.get(line.strip(), allow_redirects=False, timeout=10)
            process.stdin.write(consent.headers["Location"] + "\n")
            process.stdin.flush()
            break
    out, err = process.communicate(timeout=60)
    return Ran(args, process.returncode, out, "".join(seen) + err)


def generic_commands(world: World) -> tuple[dict[str, tuple[str, ...]], dict[str, int | tuple[int, ...]]]:
    """The engine's own auth methods against the loopback servers: (commands, expected exit codes)."""
    s, servers = world.secrets.values, world.servers
    static, query, oauth2, oauth1, echo = (servers[k] for k in ("static", "static_query", "oauth2", "oauth1", "echo"))
    note = {"env": "LEAK_NOTE"}
    key_file = {"file": "api_key.txt", "content": s["api key (header)"] + "\n"}
    configs = {
        "api_key_header": ("api_key_header", {"base_url": static.url, "path": "/key/header", "api_key": key_file, "note": note}),
        "api_key_header_wrong": ("api_key_header", {"base_url": static.url, "path": "/key/header", "api_key": s["wrong api key"]}),
        "api_key_query": ("api_key_query", {"base_url": query.url, "path": "/key/query", "api_key": s["api key (query)"], "note": note}),
        "basic": ("basic", {"base_url": static.url, "path": "/basic", "username": "leak-user", "password": s["basic password"]}),
        "basic_wrong": ("basic", {"base_url": static.url, "path": "/basic", "username": "leak-user", "password": s["wrong password"]}),
        "bearer": ("bearer", {"base_url": oauth2.url, "path": "/api/items", "token": s["static bearer token"]}),
        "bearer_wrong": ("bearer", {"base_url": oauth2.url, "path": "/api/items", "token": s["wrong bearer token"]}),
        "client_secret": ("client_secret", {"base_url": oauth2.url, "path": "/api/items", "client_id": "leak-secret-client", "client_secret": {"env": "LEAK_CLIENT_SECRET"}}),
        "client_secret_wrong": ("client_secret", {"base_url": oauth2.url, "path": "/api/items", "client_id": "leak-secret-client", "client_secret": s["wrong client secret"]}),
        "client_jwt": ("client_jwt", {"base_url": oauth2.url, "path": "/api/items", "client_id": "leak-jwt-client", "key_id": "leak-kid", "private_key": {"file": "key.pem", "content": s["JWT private key"]}}),
        "client_jwt_wrong": ("client_jwt", {"base_url": oauth2.url, "path": "/api/items", "client_id": "leak-jwt-client", "key_id": "leak-kid", "private_key": s["wrong JWT private key"]}),
        "refresh": ("refresh", {"base_url": oauth2.url, "path": "/api/items", "client_id": "leak-secret-client", "client_secret": {"env": "LEAK_CLIENT_SECRET"}, "refresh_token": s["refresh token (issued)"]}),
        "refresh_wrong": ("refresh", {"base_url": oauth2.url, "path": "/api/items", "client_id": "leak-secret-client", "client_secret": {"env": "LEAK_CLIENT_SECRET"}, "refresh_token": s["wrong refresh token"]}),
        "auth_code": ("auth_code", {"base_url": oauth2.url, "path": "/api/items", "client_id": "leak-web-client", "client_secret": s["auth-code client secret"]}),
        "oauth1": ("oauth1", {"base_url": oauth1.url, "path": "/api/items", "realm": "LEAKREALM", "consumer_key": s["OAuth1 consumer key"], "consumer_secret": s["OAuth1 consumer secret"], "token": s["OAuth1 token"], "token_secret": s["OAuth1 token secret"]}),
        "oauth1_wrong": ("oauth1", {"base_url": oauth1.url, "path": "/api/items", "realm": "LEAKREALM", "consumer_key": s["OAuth1 consumer key"], "consumer_secret": s["OAuth1 consumer secret"], "token": s["OAuth1 token"], "token_secret": s["wrong OAuth1 token secret"]}),
        "unreachable": ("api_key_header", {"base_url": f"http://leak-user:{s['userinfo password']}@127.0.0.1:1", "path": "/key/header", "api_key": s["api key (header)"]}),
        "echo": ("api_key_query", {"base_url": echo.url, "path": "/echo", "api_key": s["api key (query)"], "note": note}),
        "flaky": ("basic", {"base_url": echo.url, "path": "/flaky", "username": "leak-user", "password": s["basic password"]}),
    }
    paths = {name: world.config(name, method, dict(data)) for name, (method, data) in configs.items()}

    def spec_of(name: str) -> str:
        return paths[name].replace("config.json", "spec.yaml")

    def read(name: str, *extra: str) -> tuple[str, ...]:
        return ("read", spec_of(name), "-c", paths[name], "-s", "items", *extra)

    commands: dict[str, tuple[str, ...]] = {}
    expected: dict[str, int | tuple[int, ...]] = {}
    for name in configs:
        if name == "auth_code":
            continue  # needs the consent first (see the test)
        wrong = name.endswith("_wrong") or name in ("unreachable", "echo", "flaky")
        commands[f"read {name}"] = read(name, "--state", f"out/{name}.state.json")
        expected[f"read {name}"] = API if wrong else OK
    for name in ("api_key_header", "basic", "client_jwt", "oauth1", "unreachable"):
        commands[f"check {name}"] = ("check", spec_of(name), "-c", paths[name])
        expected[f"check {name}"] = API if name == "unreachable" else OK
    for name in ("api_key_query", "refresh", "oauth1_wrong"):
        commands[f"call {name}"] = ("call", spec_of(name), "probe", "-c", paths[name])
        expected[f"call {name}"] = API if name.endswith("_wrong") else OK
    commands["validate a spec"] = ("validate", spec_of("basic"))
    expected["validate a spec"] = OK
    return commands, expected


def netsuite_configs(world: World) -> dict[str, str]:
    s, servers = world.secrets.values, world.servers
    ns, faulty = servers["netsuite"], servers["netsuite_faulty"]
    tba = {
        "account_id": ns.settings.account_id,
        "consumer_key": s["NetSuite consumer key"],
        "consumer_secret": s["NetSuite consumer secret"],
        "token_id": s["NetSuite token id"],
        "token_secret": s["NetSuite token secret"],
    }
    m2m = {
        "account_id": ns.settings.account_id,
        "consumer_key": s["NetSuite M2M client id"],
        "certificate_id": ns.settings.certificate_id,
        "private_key": s["NetSuite M2M private key"],
    }
    return {
        "tba": str(world.write("in/ns/tba.json", {**tba, "base_url": ns.url})),
        "tba_wrong": str(world.write("in/ns/tba_wrong.json", {**tba, "base_url": ns.url, "token_secret": s["wrong NetSuite token secret"]})),
        "tba_faulty": str(world.write("in/ns/tba_faulty.json", {**tba, "base_url": faulty.url})),
        # the report: the token secret in the userinfo of a base URL nothing answers at
        "tba_unreachable": str(world.write("in/ns/tba_unreachable.json", {**tba, "base_url": f"http://user:{s['NetSuite token secret']}@127.0.0.1:1"})),
        "m2m": str(world.write("in/ns_m2m/m2m.json", {**m2m, "base_url": ns.url})),
        "m2m_wrong": str(world.write("in/ns_m2m_wrong/m2m.json", {**m2m, "base_url": ns.url, "private_key": s["wrong JWT private key"]})),
    }


def hubspot_configs(world: World) -> dict[str, str]:
    s, hs, faulty = world.secrets.values, world.servers["hubspot"], world.servers["hubspot_faulty"]
    oauth = {"client_id": hs.settings.client_id, "client_secret": s["HubSpot client secret"], "refresh_token": s["HubSpot refresh token"]}
    return {
        "token": str(world.write("in/hs/token.json", {"base_url": hs.url, "access_token": s["HubSpot private app token"]})),
        "token_wrong": str(world.write("in/hs/token_wrong.json", {"base_url": hs.url, "access_token": s["wrong HubSpot token"]})),
        "oauth": str(world.write("in/hs_oauth/oauth.json", {"base_url": hs.url, **oauth})),
        "oauth_wrong": str(world.write("in/hs_oauth_wrong/oauth.json", {"base_url": hs.url, **oauth, "refresh_token": s["wrong refresh token"]})),
        "faulty": str(world.write("in/hs_faulty/oauth.json", {"base_url": faulty.url, **oauth})),
    }


def emulator_commands(world: World) -> tuple[dict[str, tuple[str, ...]], dict[str, int | tuple[int, ...]]]:
    ns, hs = netsuite_configs(world), hubspot_configs(world)
    quick_ns = str(quick(NETSUITE_SPEC, world.write("in/netsuite_quick.yaml", "")))
    quick_hs = str(quick(HUBSPOT_SPEC, world.write("in/hubspot_quick.yaml", "")))
    commands = {
        "netsuite check tba": ("check", "netsuite", "-c", ns["tba"]),
        "netsuite read tba": ("read", "netsuite", "-c", ns["tba"], "-s", "customers", "--state", "out/ns.state.json", "--envelope"),
        "netsuite call tba": ("call", "netsuite", "create_record", "-c", ns["tba"], "-i", json.dumps({"record_type": "customer", "payload": {"entityId": "LEAK-1", "companyName": "Leak Ltd", "subsidiary": {"id": "1"}}})),
        "netsuite 404": ("call", "netsuite", "get_record", "-c", ns["tba"], "-i", '{"record_type": "customer", "record_id": "999999"}'),
        "netsuite wrong tba": ("read", "netsuite", "-c", ns["tba_wrong"], "-s", "subsidiaries"),
        "netsuite unreachable": ("read", quick_ns, "-c", ns["tba_unreachable"], "-s", "subsidiaries"),
        "netsuite check m2m": ("check", "netsuite", "-c", ns["m2m"]),
        "netsuite read m2m": ("read", "netsuite", "-c", ns["m2m"], "-s", "subsidiaries"),
        "netsuite wrong m2m": ("read", "netsuite", "-c", ns["m2m_wrong"], "-s", "subsidiaries"),
        "netsuite 5xx": ("read", quick_ns, "-c", ns["tba_faulty"], "-s", "subsidiaries"),
        "hubspot check token": ("check", "hubspot", "-c", hs["token"]),
        "hubspot read token": ("read", "hubspot", "-c", hs["token"], "-s", "companies", "--limit", "5"),
        "hubspot wrong token": ("read", "hubspot", "-c", hs["token_wrong"], "-s", "companies"),
        "hubspot read oauth": ("read", "hubspot", "-c", hs["oauth"], "-s", "deals"),
        "hubspot wrong refresh token": ("check", "hubspot", "-c", hs["oauth_wrong"]),
        "hubspot 403": ("read", quick_hs, "-c", hs["faulty"], "-s", "companies"),
    }
    expected: dict[str, int | tuple[int, ...]] = {
        name: API if any(w in name for w in ("wrong", "unreachable", "404", "5xx", "403")) else OK for name in commands
    }
    return commands, expected


# --- the test ------------------------------------------------------------------------------------------


def record_cassettes(world: World) -> int:
    """The test kit records a read of each auth method's connection into a cassette under out/cassettes."""
    directory = world.dir / "out" / "cassettes"
    recorded = 0
    targets = [(world.dir / f"in/{n}/spec.yaml", world.dir / f"in/{n}/config.json", "items") for n in ("api_key_header", "api_key_query", "basic", "bearer", "client_secret", "client_jwt", "refresh", "oauth1")]
    targets += [("netsuite", world.dir / "in/ns/tba.json", "customers"), ("netsuite", world.dir / "in/ns_m2m/m2m.json", "subsidiaries"), ("hubspot", world.dir / "in/hs_oauth/oauth.json", "companies")]
    previous = {k: os.environ.get(k) for k in world.env}
    os.environ.update(world.env)
    try:
        for index, (spec_path, config, stream) in enumerate(targets):
            scrubber = CassetteScrubber()
            with Connector.open(spec_path, config, session=SerialSession()) as connector:
                scrubber.watch(connector.redactor)
                with make_vcr(directory, record_mode="all", scrubber=scrubber).use_cassette(f"{index}-{connector.name}.yaml"):
                    assert list(connector.read(stream, limit=5))
            recorded += 1
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return recorded


def sync_commands(world: World) -> tuple[Path, Path]:
    """customers_both_ways.yaml pointed at the emulators; and a copy whose NetSuite base URL is dead."""
    s, ns, hs = world.secrets.values, world.servers["netsuite"], world.servers["hubspot"]
    configs = {
        "hubspot": {"base_url": hs.url, "access_token": {"env": "LEAK_HS_TOKEN"}},
        "netsuite": {
            "account_id": ns.settings.account_id, "base_url": ns.url, "consumer_key": s["NetSuite consumer key"],
            "consumer_secret": s["NetSuite consumer secret"], "token_id": s["NetSuite token id"], "token_secret": {"env": "LEAK_NS_TOKEN_SECRET"},
        },
    }
    world.env.update({"LEAK_HS_TOKEN": s["HubSpot private app token"], "LEAK_NS_TOKEN_SECRET": s["NetSuite token secret"]})
    before = set((world.dir / "sync").rglob("*")) if (world.dir / "sync").exists() else set()
    [good] = point_at_emulators([EXAMPLES / "customers_both_ways.yaml"], world.dir / "sync", configs)
    dead_configs = {**configs, "netsuite": {**configs["netsuite"], "base_url": f"http://user:{s['NetSuite token secret']}@127.0.0.1:1"}}
    [dead] = point_at_emulators([EXAMPLES / "customers_both_ways.yaml"], world.dir / "sync_dead", dead_configs)
    data = yaml.safe_load(dead.read_text(encoding="utf-8"))
    data["destination"]["connector"] = str(world.dir / "in/netsuite_quick.yaml")
    dead.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for path in [*(world.dir / "sync").rglob("*"), *(world.dir / "sync_dead").rglob("*")]:
        if path.is_file() and path not in before:
            world.inputs.add(path)
    return good, dead


def test_no_secret_leaks_from_any_command_or_file(world: World) -> None:
    servers = world.servers
    servers["netsuite_faulty"].faults.add(kind="status", status=503, count=None, path_prefix="/services/rest/query")
    servers["hubspot_faulty"].faults.add(kind="status", status=403, count=None, path_prefix="/crm/")
    commands, expected = generic_commands(world)
    more, more_expected = emulator_commands(world)
    commands.update(more)
    expected.update(more_expected)
    good, dead = sync_commands(world)
    results = run_all(world, commands)
    cassettes = record_cassettes(world)  # before the access tokens are revoked below

    # in order: the consent then a read with its tokens; a sync run, its status, a dead run
    results["authorize"] = authorize(world, "in/auth_code/config.json")
    results["read auth_code"] = run(world, "read", "in/auth_code/spec.yaml", "-c", "in/auth_code/config.json", "-s", "items")
    servers["oauth2"].revoke_access_tokens()  # the next read gets a 401, renews with the refresh token
    results["read auth_code renewed"] = run(world, "read", "in/auth_code/spec.yaml", "-c", "in/auth_code/config.json", "-s", "items")
    results["run sync dry"] = run(world, "run", str(good), "--dry-run")
    results["run sync"] = run(world, "run", str(good))
    servers["netsuite"].faults.add(kind="status", status=400, count=None, path_prefix="/services/rest/record/v1/customer", method="PUT")
    servers["hubspot"].insert("companies", {"name": "Changed Co", "lifecyclestage": "customer", "country": "Canada"})
    results["run sync with rejections"] = run(world, "run", str(good))
    results["status"] = run(world, "status", str(good), "--failed")
    results["status json"] = run(world, "status", str(good), "--json")
    results["run sync dead host"] = run(world, "run", str(dead))
    results["status dead host"] = run(world, "status", str(dead), "--json")
    expected.update({"authorize": OK, "read auth_code": OK, "read auth_code renewed": OK, "status": OK, "status json": OK, "status dead host": OK})
    expected.update({"run sync dry": SYNCED, "run sync": SYNCED, "run sync with rejections": DEAD_LETTERS, "run sync dead host": API})

    # the commands did what they were meant to (a leak test of commands that all failed early proves little)
    # (every text shown in a failure goes through scrub: no assertion message may carry a secret)
    scrub = world.secrets.scrub
    wrong = {name: (r.code, expected[name], scrub(r.stderr[-600:])) for name, r in results.items() if r.code not in _codes(expected[name])}
    assert not wrong, "unexpected exit codes:\n" + "\n".join(f"{k}: {v}" for k, v in wrong.items())
    assert len(results) >= 30, len(results)
    assert not [name for name, r in results.items() if "internal error" in r.stderr]
    records = [json.loads(line) for line in results["read api_key_header"].stdout.splitlines()]
    masked = bool(records) and all(r["direct"].startswith("***|") and r["everything"]["api_key"] == r["everything"]["note"] == "***" for r in records)
    assert masked, f"{len(records)} records, not all showing the config's secrets as ***"  # (contents not shown: they may be the leak)
    unreachable, ns_unreachable = scrub(results["read unreachable"].stderr), scrub(results["netsuite unreachable"].stderr)
    assert "http://***@127.0.0.1:1" in unreachable, unreachable[-800:]
    assert "nothing answered at http://***@127.0.0.1:1" in ns_unreachable, ns_unreachable[-800:]
    assert servers["oauth1"].rejected >= 1 and servers["oauth2"].consents == 1 and servers["oauth2"].api_rejections >= 2

    # tokens the servers issued are secrets too (allowed in token files)
    for token in servers["oauth2"].issued:
        world.secrets.add(f"issued token #{len(world.secrets.values)}", token, token=True)
    for token in list(servers["hubspot"].app.tokens.access_tokens):
        world.secrets.add(f"HubSpot access token #{len(world.secrets.values)}", token, token=True)
    for token in list(getattr(servers["netsuite"].app.oauth2, "_access", {})):
        world.secrets.add(f"NetSuite access token #{len(world.secrets.values)}", token, token=True)

    wanted = world.secrets.values
    not_tokens = {k: v for k, v in wanted.items() if k not in world.secrets.tokens}
    found: list[str] = []
    for name, result in results.items():
        found += leaks(result.stdout.encode(), f"`{name}` stdout", wanted)
        found += leaks(result.stderr.encode(), f"`{name}` stderr", wanted)
    scanned = []
    for path in sorted(p for p in world.dir.rglob("*") if p.is_file() and p not in world.inputs):
        scanned.append(path)
        token_file = path.parent.name == ".connector-core" and path.name.startswith("tokens")
        found += leaks(path.read_bytes(), str(path.relative_to(world.dir)), not_tokens if token_file else wanted)
    kinds = {p.suffix for p in scanned}
    assert {".sqlite", ".yaml"} <= kinds and any(p.name == "tokens.json" for p in scanned), sorted(kinds)
    assert cassettes == 11
    assert not found, f"{len(found)} leaks:\n" + "\n".join(found)
    print(f"\n{len(results)} commands, {len(wanted)} secrets x {len(forms('x'))} forms, {len(scanned)} files scanned: 0 leaks")
