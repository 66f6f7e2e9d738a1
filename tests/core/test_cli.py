"""The real ``connector-core`` console script, run as a subprocess against the example shop API.

The shop runs in this process on 127.0.0.1; every command goes through the installed entry point,
so argument parsing, exit codes, stdout/stderr separation and plugin discovery are all exercised.
Start-up dominates a command's time, so commands that do not change the shop run together up front
(``ran``); those that write run after them, and the incremental-read scenario runs last, alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.example.server import ShopServer

API_KEY = "shop-key-5d41402abc4b2a76"  # distinctive, so a leak is easy to spot
EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "connectors" / "example" / "example.yaml"
SCRIPT = Path(sys.executable).with_name("connector-core")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "connector_core.cli"]


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopServer]:
    with ShopServer(customers=230, orders=120, api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, shop: ShopServer) -> Path:
    directory = tmp_path_factory.mktemp("cli")
    (directory / "shop.yaml").write_text(f"base_url: {shop.url}\napi_key: {{env: SHOP_API_KEY}}\n", encoding="utf-8")
    (directory / "wrong-key.yaml").write_text(f"base_url: {shop.url}\napi_key: not-the-key-{API_KEY[::-1]}\n", encoding="utf-8")
    (directory / "bad-config.yaml").write_text("base_url: 5\napi_key: {env: SHOP_API_KEY}\nstart_date: tomorrow\n", encoding="utf-8")
    (directory / "broken.yaml").write_text(
        "name: shop\nbase_url: https://x.test\nstreams:\n  a:\n    request: {path: /a, method: FETCH}\n"
        "    paginate: {type: offset, limt: 10}\n",
        encoding="utf-8",
    )
    (directory / "syntax.json").write_text('{"name": "shop",}\n', encoding="utf-8")
    (directory / "input.yaml").write_text("name: Grace\nemail: grace@example.test\n", encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def ran(workdir: Path, shop: ShopServer) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every command that leaves the shop unchanged, run concurrently before any that writes."""
    before = shop.api.requests
    results = run_all(
        workdir,
        {
            "validate-broken": ("validate", "broken.yaml"),
            "validate-several": ("validate", str(EXAMPLE_SPEC), "syntax.json", "missing.yaml"),
            "spec": ("spec", "example"),
            "discover": ("discover", "example"),
            "plugins": ("plugins",),
            "check": ("check", "example", "--config", "shop.yaml"),
            "check-wrong-key": ("check", "example", "-c", "wrong-key.yaml"),
            "check-no-env": ("check", "example", "-c", "shop.yaml", {"SHOP_API_KEY": None}),
            "check-bad-config": ("check", "example", "-c", "bad-config.yaml", {"SHOP_API_KEY": "k" * 20}),
            "read-customers": ("read", "example", "-c", "shop.yaml", "--stream", "customers"),
            "read-envelope": ("read", "example", "-c", "shop.yaml", "-s", "customers", "--envelope", "--state", "envelope-state.json"),
            "read-debug": ("--debug", "read", "example", "-c", "shop.yaml", "-s", "orders", "--limit", "5"),
            "call-invalid": ("call", "example", "create_customer", "-c", "shop.yaml", "--input", '{"email": "x@example.test"}'),
        },
    )
    results["requests"] = shop.api.requests - before  # type: ignore[assignment]
    return results


@pytest.fixture(scope="module")
def writes(ran: dict[str, Any], workdir: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """The commands that create customers, run after ``ran`` so its record counts stay exact."""
    return run_all(
        workdir,
        {
            "create": ("call", "example", "create_customer", "-c", "shop.yaml", "--input", '{"name": "Ada", "country": "GB"}'),
            "create-debug-from-file": ("--debug", "call", "example", "create_customer", "-c", "shop.yaml", "--input", "@input.yaml"),
        },
    )


def run(workdir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "SHOP_API_KEY": API_KEY, "NO_COLOR": "1", **(env or {})}
    environment = {k: v for k, v in environment.items() if v is not None}
    return subprocess.run(
        [*COMMAND, *args], cwd=workdir, env=environment, capture_output=True, text=True, timeout=90, check=False
    )


def run_all(workdir: Path, commands: dict[str, tuple[Any, ...]]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run named commands concurrently; a trailing dict in a command's tuple is extra environment."""

    def one(command: tuple[Any, ...]) -> subprocess.CompletedProcess[str]:
        env = command[-1] if command and isinstance(command[-1], dict) else None
        args = command[:-1] if env is not None else command
        return run(workdir, *args, env=env)

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {name: pool.submit(one, command) for name, command in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert result.stdout == ""


class TestValidate:
    def test_a_broken_spec_prints_every_located_problem(self, ran: dict[str, Any]) -> None:
        result = ran["validate-broken"]
        assert_clean_failure(result, 1)
        assert result.stderr.splitlines() == [
            "broken.yaml: invalid connector spec (2 problems)",
            "  broken.yaml:5:33: streams.a.request.method: 'FETCH' is not an HTTP method; expected one of GET, POST, PUT, "
            "PATCH, DELETE, HEAD, OPTIONS (did you mean 'PATCH'?)",
            "  broken.yaml:6:30: streams.a.paginate.limt: unknown key 'limt'; did you mean 'limit'?",
        ]

    def test_several_files_report_each(self, ran: dict[str, Any]) -> None:
        result = ran["validate-several"]
        assert_clean_failure(result, 1)
        assert result.stderr.splitlines() == [
            f"{EXAMPLE_SPEC}: valid connector spec",
            "syntax.json:1:17: (document root): invalid JSON: Expecting property name enclosed in double quotes",
            "  hint: JSON does not allow a comma after the last item; remove it",
            "missing.yaml: file not found",
        ]


class TestOffline:
    def test_spec_prints_the_config_schema(self, ran: dict[str, Any]) -> None:
        result = ran["spec"]
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == yaml.safe_load(EXAMPLE_SPEC.read_text(encoding="utf-8"))["config"]

    def test_discover_prints_streams_and_operations(self, ran: dict[str, Any]) -> None:
        result = ran["discover"]
        assert result.returncode == 0, result.stderr
        catalog = json.loads(result.stdout)
        streams = {s["name"]: s for s in catalog["streams"]}
        assert set(streams) == {"customers", "orders"}
        assert streams["customers"]["cursor_field"] == "updated_at"
        assert "incremental" in streams["customers"]["sync_modes"]
        assert streams["orders"]["primary_key"] == ["id"]
        assert {"create_customer", "update_customer", "delete_customer"} <= {o["name"] for o in catalog["operations"]}

    def test_plugins_lists_the_example_connector(self, ran: dict[str, Any]) -> None:
        result = ran["plugins"]
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert "example  (connectors.example.plugin)" in lines
        assert lines[lines.index("example  (connectors.example.plugin)") + 1].strip() == "connector:example"
        assert any(line.startswith("connector_core.engine.builtin") for line in lines)

    def test_commands_that_should_not_call_the_api_did_not(self, ran: dict[str, Any]) -> None:
        # 2 checks (one refused) + 3 customer pages x 2 reads + 1 orders page; validate, spec, discover,
        # plugins, bad configs and invalid input make no request
        assert ran["requests"] == 2 + 2 * 3 + 1


class TestCheck:
    def test_check_ok(self, ran: dict[str, Any]) -> None:
        result = ran["check"]
        assert result.returncode == 0, result.stderr
        assert "example: connection works" in result.stderr

    def test_wrong_key_exits_3_with_the_spec_hint(self, ran: dict[str, Any]) -> None:
        result = ran["check-wrong-key"]
        assert_clean_failure(result, 3)
        assert result.stderr.splitlines() == [
            "error: The shop refused the API key.",
            "  hint: Check api_key in your config (the demo server's key is demo-key).",
        ]
        assert API_KEY[::-1] not in result.stderr

    def test_missing_env_var_is_a_located_config_error(self, ran: dict[str, Any]) -> None:
        result = ran["check-no-env"]
        assert_clean_failure(result, 1)
        assert "shop.yaml:2:10: api_key: environment variable SHOP_API_KEY is not set" in result.stderr

    def test_invalid_config_never_shows_the_secret(self, ran: dict[str, Any]) -> None:
        result = ran["check-bad-config"]
        assert_clean_failure(result, 1)
        assert "bad-config.yaml:1:11: base_url: expected a string, got 5" in result.stderr
        assert "bad-config.yaml:3:13: start_date: 'tomorrow' is not a valid date-time" in result.stderr
        assert "k" * 20 not in result.stderr


class TestRead:
    def test_read_prints_every_record_as_a_json_line(self, ran: dict[str, Any], shop: ShopServer) -> None:
        result = ran["read-customers"]
        assert result.returncode == 0, result.stderr
        records = json_lines(result.stdout)
        assert [r["id"] for r in records] == list(range(1, 231))
        assert result.stderr == "read customers: 230 records in 3 pages; no state kept (--state FILE makes the next read incremental)\n"

    def test_envelope_emits_record_and_state_lines(self, ran: dict[str, Any], workdir: Path) -> None:
        result = ran["read-envelope"]
        assert result.returncode == 0, result.stderr
        lines = json_lines(result.stdout)
        records = [line for line in lines if line["type"] == "RECORD"]
        states = [line for line in lines if line["type"] == "STATE"]
        assert {line["type"] for line in lines} == {"RECORD", "STATE"}
        assert len(records) == 230
        assert all(line["stream"] == "customers" and "id" in line["record"] for line in records)
        assert states and lines[-1]["type"] == "STATE"
        assert states[-1]["state"] == json.loads((workdir / "envelope-state.json").read_text())["streams"]["customers"]

    def test_a_closed_stdout_ends_quietly(self, workdir: Path) -> None:
        environment = {**os.environ, "SHOP_API_KEY": API_KEY}
        with subprocess.Popen(
            [*COMMAND, "read", "example", "-c", "shop.yaml", "-s", "orders"],
            cwd=workdir,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            assert json.loads(process.stdout.readline())["id"] == "o-1"
            process.stdout.close()  # like `| head -1`
            stderr = process.stderr.read().decode()
            code = process.wait(timeout=60)
        assert code in (0, 141)  # 0 when everything fit in the pipe before it closed
        assert stderr == "" if code == 141 else stderr.startswith("read orders: 120 records")  # (the summary only when all was written)

    def test_state_file_makes_the_next_read_incremental(self, writes: dict[str, Any], workdir: Path, shop: ShopServer, tmp_path: Path) -> None:
        state = tmp_path / "state.json"
        first = run(workdir, "read", "example", "-c", "shop.yaml", "-s", "customers", "--state", str(state))
        assert first.returncode == 0, first.stderr
        assert len(json_lines(first.stdout)) == len(shop.api.data.customers)
        newest = max(c["updated_at"] for c in shop.api.data.customers.values())
        assert json.loads(state.read_text())["streams"]["customers"]["cursor"] == newest

        created = run(workdir, "call", "example", "create_customer", "-c", "shop.yaml", "--input", '{"name": "Changed Since"}')
        assert created.returncode == 0, created.stderr
        new_id = int(json.loads(created.stdout)["id"])

        second = run(workdir, "read", "example", "-c", "shop.yaml", "-s", "customers", "--state", str(state))
        assert second.returncode == 0, second.stderr
        ids = [r["id"] for r in json_lines(second.stdout)]
        assert new_id in ids
        # only what changed since the cursor (the bound is inclusive: records stamped the same second repeat)
        changed = {cid for cid, c in shop.api.data.customers.items() if c["updated_at"] >= newest}
        assert set(ids) <= changed and len(ids) < 10, ids
        assert json.loads(state.read_text())["streams"]["customers"]["cursor"] == shop.api.data.customers[new_id]["updated_at"]


class TestCall:
    def test_create_prints_the_new_id(self, writes: dict[str, Any], shop: ShopServer) -> None:
        result = writes["create"]
        assert result.returncode == 0, result.stderr
        output = json.loads(result.stdout)
        new_id = int(output["id"])
        assert shop.api.data.customers[new_id]["name"] == "Ada"
        assert output["status"] == 201

    def test_invalid_input_exits_1(self, ran: dict[str, Any]) -> None:
        result = ran["call-invalid"]
        assert_clean_failure(result, 1)
        assert "invalid input for operation 'create_customer'" in result.stderr
        assert "'name'" in result.stderr

class TestDebug:
    def test_debug_logs_requests_with_the_key_redacted(self, ran: dict[str, Any]) -> None:
        result = ran["read-debug"]
        assert result.returncode == 0, result.stderr
        requests_logged = [line for line in result.stderr.splitlines() if "connector_core.engine.http: request GET" in line]
        assert requests_logged, result.stderr
        assert "/api/orders" in requests_logged[0]
        assert "'X-API-Key': '***'" in requests_logged[0]
        assert API_KEY not in result.stderr
        assert API_KEY not in result.stdout

    def test_debug_call_with_input_from_a_file_never_prints_the_key(self, writes: dict[str, Any], shop: ShopServer) -> None:
        result = writes["create-debug-from-file"]
        assert result.returncode == 0, result.stderr
        assert "request POST" in result.stderr and '"name":"Grace"' in result.stderr.replace(" ", "")
        assert API_KEY not in result.stderr + result.stdout
        assert shop.api.data.customers[int(json.loads(result.stdout)["id"])]["email"] == "grace@example.test"


class TestInProcess:
    """Error paths of the same CLI, run in-process with click's runner (no start-up cost)."""

    @pytest.fixture
    def invoke(self, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
        from click.testing import CliRunner

        from connector_core.cli import main

        monkeypatch.chdir(workdir)
        monkeypatch.setenv("SHOP_API_KEY", API_KEY)

        def invoke(*args: str) -> Any:
            return CliRunner().invoke(main, list(args), catch_exceptions=False)

        return invoke

    def test_unknown_connector_suggests_one(self, invoke: Any) -> None:
        result = invoke("spec", "exampel")
        assert result.exit_code == 1
        assert "no installed connector is called 'exampel'" in result.stderr
        assert "hint: did you mean 'example'?" in result.stderr

    def test_unknown_stream(self, invoke: Any) -> None:
        result = invoke("read", "example", "-c", "shop.yaml", "-s", "custmers")
        assert result.exit_code == 1
        assert "no stream 'custmers'" in result.stderr and "did you mean 'customers'?" in result.stderr

    def test_cursor_pages(self, invoke: Any) -> None:
        result = invoke("read", "example", "-c", "shop.yaml", "-s", "orders", "--limit", "60")
        assert result.exit_code == 0, result.stderr
        assert [r["id"] for r in json_lines(result.stdout)] == [f"o-{i}" for i in range(1, 61)]

    def test_unknown_operation(self, invoke: Any) -> None:
        result = invoke("call", "example", "create_custmer", "-c", "shop.yaml", "--input", "{}")
        assert result.exit_code == 1
        assert "did you mean 'create_customer'?" in result.stderr

    @pytest.mark.parametrize(
        ("value", "message"),
        [("{name: Ada", "--input is not valid JSON"), ("[1, 2]", "--input must be a JSON object"), ("@absent.json", "absent.json: file not found")],
    )
    def test_bad_input(self, invoke: Any, value: str, message: str) -> None:
        result = invoke("call", "example", "create_customer", "-c", "shop.yaml", "--input", value)
        assert result.exit_code == 1
        assert message in result.stderr

    def test_validate_needs_a_path(self, invoke: Any) -> None:
        result = invoke("validate")
        assert result.exit_code == 2
        assert "Missing argument" in result.stderr

    def test_a_corrupt_state_file_is_a_user_error(self, invoke: Any, workdir: Path) -> None:
        (workdir / "corrupt-state.json").write_text('{"streams": {"customers": ', encoding="utf-8")
        result = invoke("read", "example", "-c", "shop.yaml", "-s", "customers", "--state", "corrupt-state.json")
        assert result.exit_code == 1
        assert "corrupt-state.json: cannot read the state file" in result.stderr
        assert "hint: fix or delete the file to start over" in result.stderr
