"""docs/connections.md, "By hand": every example connection run against `connector-core sandbox` exactly
as the docs say.

The commands are read from the docs' ``sh`` block, so the docs and this test cannot drift, and each runs
as a user types it: through bash, in an empty directory, with the installed `connector-core` script and
`python` of this interpreter's environment first on PATH (what activating the venv does). Two lines are
the shell's job control, done here by hand: the sandbox line (``... &``) is started as a subprocess of
the installed script, with ``--port NAME=0`` added so the test never depends on the default ports being
free; ``kill %1`` stops that subprocess.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connector_core.cli.demo import EXAMPLES, connection_files
from connector_core.engine.emulators import RunningEmulator, write_configs

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "connections.md"
BIN = Path(sys.executable).parent


def by_hand_commands() -> list[str]:
    """The lines of the first ``sh`` block under the docs' "By hand" heading."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("#### By hand") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "docs/connections.md: no ```sh block under 'By hand'"
    return [line for line in block.group(1).splitlines() if line.strip()]


def without_comment(line: str) -> str:
    return re.sub(r"\s+#.*$", "", line).strip()


def expected_exit(line: str) -> int:
    """What the line's comment says it exits with (``# exit 5``); 0 when it says nothing."""
    said = re.search(r"\s#\s*exit (\d+)", line)
    return int(said.group(1)) if said else 0


def test_the_docs_run_every_example_connection() -> None:
    commands = by_hand_commands()
    ran = {Path(without_comment(line).split()[2]).name for line in commands if line.startswith("connector-core run ")}
    assert ran == {path.name for path in connection_files(EXAMPLES)}
    assert [without_comment(line).endswith("&") for line in commands].count(True) == 1
    assert without_comment(commands[-1]) == "kill %1"


def test_the_sandbox_keeps_the_plain_settings_of_a_config_it_points(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "config", tmp_path, dirs_exist_ok=True)
    shipped = json.loads((tmp_path / "hubspot.json").read_text())
    emulator = {"access_token": "pat-emulator", "base_url": "http://127.0.0.1:1"}
    running = [RunningEmulator("hubspot", "hubspot", emulator["base_url"], emulator, stop=lambda: None)]
    (path,) = write_configs(running, tmp_path)
    assert json.loads(path.read_text()) == {"deal_properties": shipped["deal_properties"], **emulator}
    # a file the sandbox does not write is left as it is
    assert json.loads((tmp_path / "netsuite.json").read_text())["token_id"] == {"env": "NETSUITE_TOKEN_ID"}


def test_every_example_uses_the_shared_config_files() -> None:
    import yaml

    for path in connection_files(EXAMPLES):
        document = yaml.safe_load(path.read_text())
        configs = {side: document[side]["config"] for side in ("source", "destination")}
        assert configs["source"] in ("config/hubspot.json", "config/salesforce.json"), path.name
        assert configs["destination"] in ("config/netsuite.json", "config/netsuite-acme-uk.json"), path.name
    names = {json.dumps(value) for f in (EXAMPLES / "config").glob("*.json") for value in json.loads(f.read_text()).values() if isinstance(value, dict)}
    assert names <= {json.dumps({"env": n}) for n in ("HUBSPOT_ACCESS_TOKEN", "NETSUITE_ACCOUNT_ID", "NETSUITE_CONSUMER_KEY", "NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET",
                                                       "SALESFORCE_CONSUMER_KEY", "SALESFORCE_USERNAME", "SALESFORCE_PRIVATE_KEY")}


def _sandbox_ready(config_dir: Path) -> bool:
    """The sandbox has written its configs over the copied ones: each names the emulator's URL."""
    for name in ("hubspot.json", "netsuite.json", "salesforce.json"):
        try:
            if not {"base_url", "login_url"} & set(json.loads((config_dir / name).read_text(encoding="utf-8"))):  # salesforce: login_url
                return False
        except (OSError, ValueError):
            return False  # not there yet, or half written
    return True


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_every_example_runs_by_hand_against_the_sandbox_as_documented(tmp_path: Path) -> None:
    assert shutil.which("connector-core", path=str(BIN)), f"no connector-core script in {BIN}: install the package first"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    sandbox: subprocess.Popen[bytes] | None = None
    sandbox_log = tmp_path / "sandbox.log"
    moved: dict[str, list[str]] = {}
    try:
        for line in by_hand_commands():
            command = without_comment(line)
            if command.endswith("&"):
                argv = [*shlex.split(command[:-1]), *(arg for name in ("netsuite", "hubspot", "salesforce", "example") for arg in ("--port", f"{name}=0"))]
                with sandbox_log.open("wb") as log:
                    sandbox = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=log, stderr=log)
                config_dir = tmp_path / argv[argv.index("--config-dir") + 1]
                deadline = time.monotonic() + 60
                while not _sandbox_ready(config_dir):
                    assert sandbox.poll() is None, f"the sandbox stopped ({sandbox.returncode}):\n{sandbox_log.read_text()}"
                    assert time.monotonic() < deadline, f"the sandbox wrote no configs in 60 s:\n{sandbox_log.read_text()}"
                    time.sleep(0.1)
                continue
            if command == "kill %1":
                assert sandbox is not None and sandbox.poll() is None, "the sandbox is not running at 'kill %1'"
                sandbox.send_signal(signal.SIGTERM)
                sandbox.wait(timeout=30)
                sandbox = None
                continue
            started = time.monotonic()
            done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
            took = time.monotonic() - started
            assert done.returncode == expected_exit(line), f"{line}\nexit {done.returncode} after {took:.1f}s\n{done.stderr[-3000:]}"
            assert "Traceback" not in done.stderr, done.stderr
            if line.startswith("connector-core validate "):
                assert "all valid" in done.stderr, done.stderr
            if line.startswith("connector-core run "):
                counts = re.findall(r"\b(?:created|updated) (\d+)", done.stderr)
                assert any(int(n) > 0 for n in counts), f"{line}: no record moved\n{done.stderr[-3000:]}"
                moved[command.split()[2]] = counts
    finally:
        if sandbox is not None:
            sandbox.kill()
            sandbox.wait(timeout=30)
    assert len(moved) == len(connection_files(EXAMPLES)), moved
    # the runs kept their state beside the copies, as the docs say
    assert len(list((tmp_path / "my-sync" / ".state").glob("*.sqlite"))) == len(moved)
