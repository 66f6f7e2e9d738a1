"""``connector-core init-plugin``: the generated package passes its own tests, recording then replaying."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector_core.cli.scaffold import plugin_names, scaffold_plugin
from connector_core.errors import ConfigError
from connector_core.testing import assert_cassette_has_no_secrets

RUFF = Path(sys.executable).with_name("ruff")


def _pytest(package: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scaffold_plugin("acme-notes", tmp_path_factory.mktemp("scaffold") / "acme")


def test_generated_suite_records_then_replays(package: Path) -> None:
    cassette = package / "tests" / "cassettes" / "test_acme_notes" / "test_reads_every_note.yaml"
    assert not cassette.exists()

    recording = _pytest(package)
    assert recording.returncode == 0, recording.stdout + recording.stderr
    assert "3 passed" in recording.stdout
    assert cassette.exists()

    replaying = _pytest(package, "-o", "connector_record_mode=none")
    assert replaying.returncode == 0, replaying.stdout + replaying.stderr
    assert "3 passed" in replaying.stdout

    token = re.search(r'TEST_TOKEN = "([^"]+)"', (package / "tests" / "api_server.py").read_text())
    assert token is not None
    assert_cassette_has_no_secrets(cassette, [token.group(1)])
    assert "Bearer ***" in cassette.read_text()


def test_generated_package_declares_its_plugin(package: Path) -> None:
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["project"]["name"] == "connector-acme-notes"
    assert project["project"]["entry-points"]["connector_core"] == {
        "acme-notes": "connector_acme_notes.plugin"
    }
    assert "pytest>=8.0" in project["project"]["optional-dependencies"]["test"]
    source = package / "src" / "connector_acme_notes"
    assert {p.name for p in source.iterdir()} >= {"__init__.py", "plugin.py", "acme-notes.yaml"}
    assert (package / "README.md").read_text().startswith("# connector-acme-notes")


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is not installed next to the interpreter")
def test_generated_package_is_lint_clean(package: Path) -> None:
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [str(RUFF), *command], cwd=package, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_names_are_derived_from_the_connector_name() -> None:
    assert plugin_names("acme-crm") == {
        "name": "acme-crm",
        "module": "acme_crm",
        "package": "connector_acme_crm",
        "dist": "connector-acme-crm",
        "transform": "acme_crm_word_count",
    }


@pytest.mark.parametrize("name", ["Acme", "1acme", "acme notes", "", "acme.notes"])
def test_invalid_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="not a valid connector name"):
        scaffold_plugin(name, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_non_empty_directory_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not an empty directory"):
        scaffold_plugin("acme", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_cli_init_plugin(tmp_path: Path) -> None:
    from connector_core.cli import main

    target = tmp_path / "shop"
    result = CliRunner().invoke(main, ["init-plugin", "shop", "--directory", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "src" / "connector_shop" / "shop.yaml").exists()


def test_init_plugin_prints_next_steps_any_shell_can_paste(tmp_path: Path) -> None:
    from connector_core.cli import main

    target = tmp_path / "my plugins" / "shop"
    result = CliRunner().invoke(main, ["init-plugin", "shop", "--directory", str(target)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"created {target}; next:"
    steps = [line.strip() for line in lines[1:]]
    # '.[test]' quoted: zsh globs a bare .[test] ("no matches found"); the path quoted as well
    assert steps[-3:] == [f"cd '{target}'", "pip install -e '.[test]'", "pytest"]
    if sys.prefix != sys.base_prefix:  # run from a venv: activate it, so pip installs beside connector-core
        assert steps[0] == f". {Path(sys.executable).parent / 'activate'}"
