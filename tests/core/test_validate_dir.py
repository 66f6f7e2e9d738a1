"""`connector-core validate DIR`: every connection file of a directory (its config/ folder left alone),
each invalid one with all its located problems, then a one-line summary; exit 1 if any failed."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector_core.cli import main
from connector_core.cli.demo import EXAMPLES, connection_files
from connector_core.cli.sync_verbs import _connection_files
from connector_core.cli.validate import directory_files

Invoke = Callable[..., Any]


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(main, ["validate", *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of the shipped example connections, config/ folder included."""
    return Path(shutil.copytree(EXAMPLES, tmp_path / "my-sync"))


def test_a_directory_of_valid_connections_passes_with_a_summary(invoke: Invoke, examples: Path) -> None:
    result = invoke("my-sync")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    shipped = connection_files(EXAMPLES)
    assert sorted(lines[:-1]) == sorted(f"my-sync/{path.name}: valid connection" for path in shipped)
    assert lines[-1] == f"my-sync: {len(shipped)} connection files, all valid"
    assert "config" not in result.stderr  # the config/ folder and its JSON files are not connections


def test_every_broken_file_is_named_with_its_location(invoke: Invoke, examples: Path) -> None:
    revenue = examples / "revenue_to_crm.yaml"
    revenue.write_text(revenue.read_text().replace("stream: revenue,", "stream: revenu,"))
    (examples / "broken.yaml").write_text("name: broken\nsource: {connector: hubspot\nflows: []\n")
    result = invoke("my-sync")
    assert result.exit_code == 1
    err = result.stderr
    assert "Traceback" not in err and result.stdout == ""
    line = next(n for n, text in enumerate(revenue.read_text().splitlines(), 1) if "stream: revenu," in text)
    assert re.search(rf"^  my-sync/revenue_to_crm\.yaml:{line}:\d+: flows\[0\]\.from\.stream: .*'revenu'", err, re.M), err
    assert re.search(r"^my-sync/broken\.yaml:\d+:\d+: .*invalid YAML", err, re.M), err
    # the valid ones are still checked and reported: every error, not the first
    assert "my-sync/customers_both_ways.yaml: valid connection" in err
    assert err.splitlines()[-1] == f"my-sync: 2 of {len(connection_files(EXAMPLES)) + 1} connection files invalid"


def test_an_empty_directory_says_there_is_nothing_to_validate(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke("empty")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: empty: no connection files to validate (a connection file is a .yaml, .yml or .json file "
        "with `source`, `destination` and `flows`)",
        "  hint: to check connector specs, name them: connector-core validate empty/*.yaml",
    ]


def test_a_directory_of_config_files_only_has_no_connection(invoke: Invoke, examples: Path) -> None:
    result = invoke("my-sync/config")
    assert result.exit_code == 1
    assert "my-sync/config: no connection files to validate" in result.stderr


def test_directories_and_files_mix_and_the_worst_wins(invoke: Invoke, examples: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke("my-sync/revenue_to_crm.yaml", "empty", "my-sync")
    assert result.exit_code == 1
    err = result.stderr
    assert err.startswith("my-sync/revenue_to_crm.yaml: valid connection\nerror: empty: no connection files")
    assert err.splitlines()[-1].endswith("connection files, all valid")


def test_validate_picks_the_files_run_due_runs(examples: Path) -> None:
    (examples / "notes.txt").write_text("not yaml")
    (examples / "spec.yaml").write_text("name: shop\nbase_url: https://x.test\nstreams: {}\n")
    (examples / "unreadable.yaml").write_text("name: [\n")
    assert directory_files(examples) == _connection_files(examples)
    assert "unreadable.yaml" in {p.name for p in directory_files(examples)}  # reported as invalid, not skipped
