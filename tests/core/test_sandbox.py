"""`connector-core sandbox`: every registered emulator starts, and the config it prints connects."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from connector_core.engine.connector import Connector
from connector_core.engine.emulators import running_emulators, write_configs
from connector_core.errors import ConfigError
from connector_core.plugins import build_registry, make_plugin_manager


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return build_registry(make_plugin_manager())


def test_each_emulator_config_passes_its_connectors_check(registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    names = sorted(registry.emulators)
    assert {"example", "netsuite"} <= set(names)
    with running_emulators(registry, names, {name: 0 for name in names}) as emulators:
        paths = write_configs(emulators, tmp_path)
        for emulator, path in zip(emulators, paths, strict=True):
            assert json.loads(path.read_text()) == emulator.config
            with Connector.open(emulator.connector, str(path), registry=registry) as connector:
                assert connector.check().ok


def test_an_unknown_emulator_is_named(registry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="no emulator called nosuch"), running_emulators(registry, ["nosuch"]):
        pass


def test_the_command_prints_configs_and_stops_on_interrupt(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "connector_core", "sandbox", "--only", "example", "--port", "example=0", "--config-dir", str(tmp_path)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.startswith("example: http://127.0.0.1:")
        assert (tmp_path / "example.json").exists()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
