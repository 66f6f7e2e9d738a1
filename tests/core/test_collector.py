"""The executable tunes the garbage collector for one command; in-process callers keep theirs."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector_core.cli import collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    collector._usual = None


def test_start_up_collects_rarely_then_freezes_and_restores(restored_collector: None) -> None:
    usual = gc.get_threshold()
    collector.start_up()
    assert gc.get_threshold() == (collector.START_UP_THRESHOLD, *usual[1:])
    collector.started()
    assert gc.get_threshold() == usual
    assert gc.get_freeze_count() > 0


def test_without_start_up_nothing_changes(restored_collector: None) -> None:
    usual, frozen = gc.get_threshold(), gc.get_freeze_count()
    collector.started()  # an in-process caller (a test, a script) that opened a connector
    assert gc.get_threshold() == usual and gc.get_freeze_count() == frozen


SPEC = """\
name: nowhere
base_url: http://127.0.0.1:9
streams:
  items: {request: {path: /items}, records: data}
"""


def probe(argv: list[str]) -> list[str]:
    script = textwrap.dedent(
        f"""
        import gc, sys
        from connector_core.cli import run
        sys.argv = {["connector-core", *argv]!r}
        try:
            run()
        except SystemExit:
            pass
        print(gc.get_threshold()[0], gc.get_freeze_count() > 0)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    return result.stdout.split()[-2:]


def test_the_executable_tunes_the_collector_until_a_connector_is_open(tmp_path: Path) -> None:
    """Through run(), as the console script calls it: `validate` never opens a connector (the start-up
    threshold stays, nothing frozen); `read` opens one (usual thresholds, start-up objects frozen) even
    when the API then cannot be reached."""
    spec = tmp_path / "nowhere.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    assert probe(["validate", str(spec)]) == [str(collector.START_UP_THRESHOLD), "False"]
    assert probe(["read", str(spec), "--stream", "items"]) == [str(gc.get_threshold()[0]), "True"]


SERVING_PROBE = """
import gc, sys
import werkzeug.serving
import connector_core.engine.emulators as emulators
from connector_core.cli import run

def report(*args, **kwargs):
    print(gc.get_threshold()[0], gc.get_freeze_count() > 0)

werkzeug.serving.BaseWSGIServer.serve_forever = report  # the dashboard serves no further
emulators.serve = report  # nor do the emulators
sys.argv = ["connector-core", *sys.argv[1:]]
try:
    run()
except SystemExit:
    pass
"""


@pytest.mark.parametrize("argv", [["ui", "{tmp}", "--port", "0"], ["sandbox", "--config-dir", "{tmp}/sandbox"]], ids=["ui", "sandbox"])
def test_a_long_running_command_collects_as_usual_once_it_serves(tmp_path: Path, argv: list[str]) -> None:
    """`ui` and `sandbox` open no connector but run until stopped: the start-up threshold must not stay."""
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    result = subprocess.run([sys.executable, "-c", SERVING_PROBE, *args], capture_output=True, text=True, timeout=120)
    assert result.stdout.split()[-2:] == [str(gc.get_threshold()[0]), "True"], result.stderr[-2000:]
