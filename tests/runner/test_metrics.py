"""Run metrics: `run`/`run-due --metrics-file` (Prometheus textfile) and `--pushgateway`, after real runs
against the shop API and the NetSuite emulator; the textfile and the pushed body are read back with
prometheus_client's own parser."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from runner_support import Sync, customer_flow

from connector_core.cli import main


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(name, sorted labels): value} of every sample in a Prometheus text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


class PushRecorder:
    """A Pushgateway stand-in on 127.0.0.1: records each request's method, path and body; answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                recorder.requests.append((self.command, self.path, body))
                self.send_response(200)
                self.end_headers()

            do_POST = do_PUT

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PushRecorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[PushRecorder]:
    with PushRecorder() as recorder:
        yield recorder


class TestTextfile:
    def test_a_run_writes_its_metrics(self, sync: Sync, tmp_path: Path) -> None:
        metrics = tmp_path / "sync.prom"
        before = time.time()
        code, err = invoke("run", str(sync.write()), "--metrics-file", str(metrics))
        assert code == 0, err
        found = samples(metrics.read_text())
        connection = "shop-to-netsuite"
        assert value(found, "connector_core_up", connection=connection) == 1
        assert value(found, "connector_core_last_run_result", connection=connection, result="ok") == 1
        assert value(found, "connector_core_last_run_result", connection=connection, result="api_error") == 0
        assert value(found, "connector_core_last_run_records_read", connection=connection, flow="customers") == 40
        assert value(found, "connector_core_last_run_records_written", connection=connection, flow="customers", action="created") == 40
        assert value(found, "connector_core_last_run_records_written", connection=connection, flow="customers", action="updated") == 0
        assert value(found, "connector_core_last_run_records_failed", connection=connection, flow="customers") == 0
        assert value(found, "connector_core_dead_letters", connection=connection) == 0
        assert value(found, "connector_core_write_backs_owed", connection=connection) == 0
        assert 0 < value(found, "connector_core_last_run_duration_seconds", connection=connection) < 60
        assert before <= value(found, "connector_core_last_success_timestamp_seconds", connection=connection) <= time.time()
        assert {labels for name, labels in found if name == "connector_core_up"} == {(("connection", connection),)}  # one connection
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("sync.prom")) == ["sync.prom"]  # no temporary left

    def test_dead_letters_and_the_failed_records_result(self, sync: Sync, tmp_path: Path) -> None:
        flow = customer_flow()
        flow["mapping"]["entityId"] = {"from": "id", "type": "boolean"}
        metrics = tmp_path / "sync.prom"
        code, _ = invoke("run", str(sync.write([flow])), "--metrics-file", str(metrics))
        assert code == 5
        found = samples(metrics.read_text())
        assert value(found, "connector_core_last_run_result", connection="shop-to-netsuite", result="failed_records") == 1
        assert value(found, "connector_core_up", connection="shop-to-netsuite") == 1
        assert value(found, "connector_core_last_run_records_failed", connection="shop-to-netsuite", flow="customers") == 40
        assert value(found, "connector_core_dead_letters", connection="shop-to-netsuite") == 40
        assert ("connector_core_last_success_timestamp_seconds", (("connection", "shop-to-netsuite"),)) in found

    def test_a_failing_api_is_down_and_keeps_the_last_success(self, sync: Sync, tmp_path: Path) -> None:
        path = sync.write()
        metrics = tmp_path / "sync.prom"
        assert invoke("run", str(path), "--metrics-file", str(metrics))[0] == 0
        success = value(samples(metrics.read_text()), "connector_core_last_success_timestamp_seconds", connection="shop-to-netsuite")
        sync.shop.api.api_key = "rotated"  # the source now refuses our key: an auth failure stops the run (exit 3)
        code, _ = invoke("run", str(path), "--full-refresh", "--metrics-file", str(metrics))
        assert code == 3
        found = samples(metrics.read_text())
        assert value(found, "connector_core_up", connection="shop-to-netsuite") == 0
        assert value(found, "connector_core_last_run_result", connection="shop-to-netsuite", result="api_error") == 1
        assert value(found, "connector_core_last_success_timestamp_seconds", connection="shop-to-netsuite") == success

    def test_a_file_that_does_not_load_is_an_error_under_its_name(self, sync: Sync, tmp_path: Path) -> None:
        flow = customer_flow()
        flow["from"]["stream"] = "custmers"
        metrics = tmp_path / "bad.prom"
        code, _ = invoke("run", str(sync.write([flow])), "--metrics-file", str(metrics))
        assert code == 1
        found = samples(metrics.read_text())
        assert value(found, "connector_core_up", connection="shop-to-netsuite") == 0
        assert value(found, "connector_core_last_run_result", connection="shop-to-netsuite", result="error") == 1

    def test_run_due_describes_every_scheduled_connection_also_when_not_due(self, sync: Sync, tmp_path: Path) -> None:
        syncs = sync.dir / "syncs"
        syncs.mkdir()
        sync.write(name="syncs/hourly.yaml")
        metrics = tmp_path / "due.prom"
        assert invoke("run-due", str(syncs), "--metrics-file", str(metrics))[0] == 0
        first = samples(metrics.read_text())
        code, err = invoke("run-due", str(syncs), "--metrics-file", str(metrics))
        assert code == 0 and "hourly.yaml: not due" in err
        again = samples(metrics.read_text())
        assert value(again, "connector_core_last_run_records_written", connection="shop-to-netsuite", flow="customers", action="created") == 40
        assert value(again, "connector_core_last_run_result", connection="shop-to-netsuite", result="ok") == 1
        assert again == first  # the run log's last run, not a run of nothing

    def test_a_missing_directory_is_a_usage_error_before_the_run(self, sync: Sync, tmp_path: Path) -> None:
        code, err = invoke("run", str(sync.write()), "--metrics-file", str(tmp_path / "nowhere" / "x.prom"))
        assert code == 2 and "--metrics-file" in err and "does not exist" in err
        assert sync.ns_count() == 0


class TestPushgateway:
    def test_a_run_pushes_its_metrics_grouped_by_connection(self, sync: Sync, gateway: PushRecorder) -> None:
        code, err = invoke("run", str(sync.write()), "--pushgateway", gateway.url)
        assert code == 0, err
        assert len(gateway.requests) == 1
        method, path, body = gateway.requests[0]
        assert method == "PUT" and path == "/metrics/job/connector_core/connection/shop-to-netsuite"
        found = samples(body)
        assert value(found, "connector_core_last_run_records_written", connection="shop-to-netsuite", flow="customers", action="created") == 40
        assert value(found, "connector_core_up", connection="shop-to-netsuite") == 1

    def test_an_unreachable_gateway_is_a_warning_and_keeps_the_exit_code(self, sync: Sync) -> None:
        code, err = invoke("run", str(sync.write()), "--pushgateway", "http://127.0.0.1:9")
        assert code == 0
        assert "warning: metrics: push of shop-to-netsuite to http://127.0.0.1:9 failed" in err
