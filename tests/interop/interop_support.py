"""Helpers for the Airbyte and Singer tests: the real console scripts, Airbyte's own protocol models, and
a real Singer target in a virtual environment of its own.

A uniquely named module: several `conftest` modules clash under one name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any, NoReturn

import pytest

BIN = Path(sys.executable).parent
CLI = [str(BIN / "connector-core")] if (BIN / "connector-core").exists() else [sys.executable, "-m", "connector_core.cli"]
TAP = BIN / "connector-core-tap"
EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "connectors" / "example" / "example.yaml"
#: target-jsonl pins jsonschema 2.6 and an old singer-python, which clash with ours: it gets its own venv
TARGET = "target-jsonl==0.1.4"


def service_missing(service: str, reason: str) -> NoReturn:
    """Skip the test because ``service`` is missing, or fail it when CONNECTOR_CORE_REQUIRE_SERVICES=1
    (the rule of ``tests/conftest.py``, repeated here: two ``conftest`` modules clash under one name)."""
    if os.environ.get("CONNECTOR_CORE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{service} is required here (CONNECTOR_CORE_REQUIRE_SERVICES=1) but {reason}", pytrace=False)
    pytest.skip(f"{service}: {reason} (CI sets CONNECTOR_CORE_REQUIRE_SERVICES=1, which makes this a failure)")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None, command: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """A console script (``connector-core`` unless ``command``), as a platform runs it."""
    return subprocess.run(
        [*(command or CLI), *args], cwd=cwd, env={**os.environ, **(env or {})}, input=stdin,
        capture_output=True, text=True, timeout=120, check=False,
    )


def airbyte_messages(stdout: str) -> list[Any]:
    """Every stdout line parsed with Airbyte's published protocol models; a line that is not a valid
    AirbyteMessage, or that carries a key the protocol does not define, fails the test."""
    from airbyte_protocol.models import AirbyteMessage

    messages = []
    for number, line in enumerate(stdout.splitlines(), 1):
        message = AirbyteMessage.model_validate_json(line)
        stray = _undefined_keys(message)
        assert not stray, f"stdout line {number} has keys the Airbyte protocol does not define: {stray}\n{line}"
        messages.append(message)
    return messages


def _undefined_keys(model: Any, at: str = "") -> list[str]:
    """The models allow extra keys (a typo would pass them): list any, except in a state blob, whose keys
    are the source's own."""
    from airbyte_protocol.models import AirbyteStateBlob
    from pydantic import BaseModel

    if isinstance(model, AirbyteStateBlob) or not isinstance(model, BaseModel):
        return []
    found = [f"{at}.{key}" for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            found += _undefined_keys(item, f"{at}.{name}")
    return found


def of_type(messages: list[Any], kind: str) -> list[Any]:
    return [message for message in messages if message.type.value == kind]


def singer_lines(stdout: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    for line in lines:
        assert line["type"] in ("SCHEMA", "RECORD", "STATE"), line
    return lines


def singer_target(cache: Path) -> Path:
    """The ``target-jsonl`` executable, installed from PyPI into a venv of its own (kept between runs)."""
    home = cache / f"target-jsonl-py{sys.version_info.major}{sys.version_info.minor}"
    executable = home / "bin" / "target-jsonl"
    if executable.exists():
        return executable
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        installed = subprocess.run(
            [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", TARGET],
            capture_output=True, text=True, timeout=300, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        service_missing("target-jsonl", f"its virtual environment could not be made: {exc}")
    if installed.returncode != 0 or not executable.exists():
        service_missing("target-jsonl", f"`pip install {TARGET}` failed: {installed.stderr.strip()[-400:]}")
    return executable


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "connector-core-tests"


__all__ = [
    "CLI", "EXAMPLE_SPEC", "TAP", "airbyte_messages", "cache_dir", "of_type", "run", "service_missing", "singer_lines", "singer_target",
]
