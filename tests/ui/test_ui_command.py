"""``connector-core ui``: what it refuses, what it prints, and the server it starts."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner
from ui_support import ShopSync

from connector_core.cli.app import main

CLI = str(Path(sys.executable).parent / "connector-core")


def test_listening_beyond_loopback_without_a_password_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ui", str(tmp_path), "--host", "0.0.0.0"], env={"CONNECTOR_CORE_UI_PASSWORD": ""})
    assert result.exit_code == 1
    assert "--host 0.0.0.0: the dashboard listens beyond this machine only with a password" in result.output
    assert "CONNECTOR_CORE_UI_PASSWORD" in result.output


def test_a_short_password_is_refused_naming_where_it_came_from(tmp_path: Path) -> None:
    secret = tmp_path / "password.txt"
    secret.write_text("Qx7-pass\n")
    result = CliRunner().invoke(main, ["ui", str(tmp_path), "--password-file", str(secret)])
    assert result.exit_code == 1
    assert f"--password-file {secret}: the dashboard's password is 8 characters long; it needs at least 12" in result.output
    assert "Qx7-pass" not in result.output


def test_a_port_in_use_is_a_located_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["ui", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 1
    assert f"--host 127.0.0.1 --port {port}: cannot listen there" in result.output and "--port" in result.output


def test_it_serves_the_directory_prints_a_sign_in_url_and_logs_no_token(shop_sync: ShopSync) -> None:
    process = subprocess.Popen(
        [CLI, "--log-level", "info", "ui", str(shop_sync.dir), "--port", "0"], stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert f"the connections of {shop_sync.dir.resolve()} on http://127.0.0.1:" in first
        url = re.search(r"open (http://127\.0\.0\.1:\d+/login\?token=(\S+))", process.stderr.readline())
        assert url is not None
        token = url.group(2)
        with requests.Session() as browser:
            page = browser.get(url.group(1), timeout=30)
            assert page.status_code == 200 and "shop-to-netsuite" in page.text and "failed_records" in page.text
            assert browser.get(url.group(1).split("/login")[0] + "/", timeout=30).url.endswith("/")
    finally:
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
    assert "connector-core ui: stopped" in rest
    assert "GET /login 303" in rest  # the request log names the path, never its query
    assert token not in rest
