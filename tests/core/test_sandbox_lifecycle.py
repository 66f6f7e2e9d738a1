"""`connector-core sandbox` in the situations issue 11 found: a busy port is named with the emulator and
the option that changes it; run in the background it says how to stop it (not Ctrl-C); on exit, SIGTERM
included, the config files it wrote are gone (or back as they were)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector_core.cli import sandbox_verbs

COMMAND = [sys.executable, "-m", "connector_core", "sandbox", "--only", "example"]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def start(config_dir: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """The sandbox in the background (stdin not a terminal), and its lines up to the stop hint."""
    process = subprocess.Popen(
        [*COMMAND, "--port", "example=0", "--config-dir", str(config_dir)],
        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1", "CONNECTOR_CORE_LOG_FORMAT": "text"},
    )
    assert process.stderr is not None
    lines: list[str] = []
    while not lines or "test data only" not in lines[-1]:
        line = process.stderr.readline()
        assert line, f"the sandbox ended early: {lines}"
        lines.append(line.rstrip("\n"))
    return process, lines


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=20)


def test_a_busy_port_names_the_emulator_the_port_and_the_option(busy_port: int, tmp_path: Path) -> None:
    done = subprocess.run(
        [*COMMAND, "--port", f"example={busy_port}", "--config-dir", str(tmp_path / "configs")],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert f"error: the example emulator cannot listen on port {busy_port}: the port is in use" in done.stderr
    assert "hint: start it on another port: --port example=PORT (--port example=0 picks a free one)" in done.stderr
    assert "Either identify and stop that program" not in done.stderr  # werkzeug's own lines are not shown as well
    assert not (tmp_path / "configs").exists()


def test_in_the_background_it_says_kill_and_sigterm_removes_the_files_it_wrote(tmp_path: Path) -> None:
    config_dir = tmp_path / "fresh" / ".sandbox"
    process, lines = start(config_dir)
    try:
        assert lines[-1] == f"the emulators hold test data only; stop them with `kill {process.pid}`"
        assert "Ctrl-C" not in "\n".join(lines)
        assert json.loads((config_dir / "example.json").read_text())["base_url"].startswith("http://127.0.0.1:")
    finally:
        code = stop(process)
    assert code == 0
    assert not config_dir.exists()  # its file removed, and the directory it made


def test_a_config_file_that_was_there_gets_its_content_back(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    mine = '{"api_key": {"env": "SHOP_API_KEY"}, "region": "eu"}\n'
    (config_dir / "example.json").write_text(mine)
    process, _ = start(config_dir)
    try:
        pointed = json.loads((config_dir / "example.json").read_text())
        assert pointed["region"] == "eu" and pointed["base_url"].startswith("http://127.0.0.1:")
    finally:
        assert stop(process) == 0
    assert (config_dir / "example.json").read_text() == mine and sorted(p.name for p in config_dir.iterdir()) == ["example.json"]


class TestStopHint:
    def test_ctrl_c_only_in_the_foreground_of_a_terminal(self, monkeypatch: pytest.MonkeyPatch) -> None:
        class Terminal:
            def isatty(self) -> bool:
                return True

            def fileno(self) -> int:
                return 0

        monkeypatch.setattr(sys, "stdin", Terminal())
        monkeypatch.setattr(os, "tcgetpgrp", lambda fd: os.getpgrp())
        assert sandbox_verbs._stop_hint() == f"press Ctrl-C to stop (or `kill {os.getpid()}`)"
        monkeypatch.setattr(os, "tcgetpgrp", lambda fd: os.getpgrp() + 1)  # a background job of that terminal
        assert sandbox_verbs._stop_hint() == f"stop them with `kill {os.getpid()}`"
