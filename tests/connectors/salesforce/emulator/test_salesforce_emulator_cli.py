"""``python -m connectors.crm.salesforce_emulator``: one JSON line to connect with, then serve until stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests


def test_the_command_prints_how_to_connect_and_cleans_up_its_key() -> None:
    command = [sys.executable, "-m", "connectors.crm.salesforce_emulator", "--port", "0", "--accounts", "5",
               "--contacts", "0", "--opportunities", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert info["emulator"] == "salesforce" and info["url"].startswith("http://127.0.0.1:")
        key = Path(info["private_key_path"])
        assert "BEGIN PRIVATE KEY" in key.read_text()
        assert "private_key_pem" not in info
        token = requests.post(info["control"] + "tokens").json()["access_token"]
        reply = requests.get(f"{info['url']}/services/data/v59.0/query", params={"q": "SELECT COUNT() FROM Account"},
                             headers={"Authorization": f"Bearer {token}"})
        assert reply.json()["totalSize"] == 5
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0
    assert not key.exists()
