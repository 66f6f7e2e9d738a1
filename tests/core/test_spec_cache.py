"""A spec that passed every check is kept (signed) and restored on the next load of the same bytes: the
same model, no YAML parsed, no validator built; anything changed, tampered with or run from a plugin file
beside the spec is loaded and checked in full again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from connector_core.engine import document_parser
from connector_core.engine.loader import load_spec
from connector_core.engine.spec_cache import KIND
from connector_core.errors import ConfigError, SpecError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

SPEC = """\
name: cached
base_url: "{{ config.base_url }}"
config:
  type: object
  required: [base_url]
  properties:
    base_url: {type: string}
    page_size: {type: integer, default: 50}
defaults:
  timeout: 30s
streams:
  items:
    request: {path: /items, query: {per_page: "{{ config.page_size }}"}}
    paginate: {type: offset, limit: 50}
    records: data
    primary_key: id
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CONNECTOR_CORE_CACHE", str(folder))
    monkeypatch.delenv("CONNECTOR_CORE_NO_CACHE", raising=False)
    return folder


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(make_plugin_manager())


def write_spec(folder: Path, text: str = SPEC) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cached.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def kept_files(cache: Path) -> list[Path]:
    return sorted(cache.glob(f"{KIND}-*")) if cache.exists() else []


def refuse_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse_document(*args: object, **kwargs: object) -> None:
        raise AssertionError("the kept spec should have been restored without parsing the file")

    monkeypatch.setattr(document_parser, "parse_document", parse_document)


def test_a_checked_spec_is_kept_and_restored_without_parsing(cache: Path, tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_spec(tmp_path / "spec")
    first = load_spec(path, registry)
    assert len(kept_files(cache)) == 1

    refuse_parsing(monkeypatch)
    second = load_spec(path, registry)
    assert second.spec.model_dump() == first.spec.model_dump()
    assert second.document.data == first.document.data
    assert second.document.positions == first.document.positions
    assert second.spec.streams["items"].paginate.type == "offset"
    assert second.spec.defaults.timeout == 30.0


def test_a_copy_elsewhere_is_restored_located_at_its_own_path(cache: Path, tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    load_spec(write_spec(tmp_path / "one"), registry)
    other = write_spec(tmp_path / "two")
    refuse_parsing(monkeypatch)
    restored = load_spec(other, registry)
    assert restored.path == other
    assert restored.document.where(("streams", "items", "records")) == f"{other}:15:14"


def test_an_edited_spec_is_checked_again(cache: Path, tmp_path: Path, registry: Registry) -> None:
    path = write_spec(tmp_path / "spec")
    load_spec(path, registry)
    path.write_text(SPEC.replace("records: data", "records: data\n    primary_keys: id"), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec(path, registry)
    assert any("primary_keys" in problem and f"{path}:16:" in problem for problem in raised.value.problems)


def test_a_tampered_file_is_not_used(cache: Path, tmp_path: Path, registry: Registry) -> None:
    path = write_spec(tmp_path / "spec")
    first = load_spec(path, registry)
    (kept,) = kept_files(cache)
    content = bytearray(kept.read_bytes())
    content[-5] ^= 0x01
    kept.write_bytes(bytes(content))
    again = load_spec(path, registry)  # the signature fails: parsed and checked again, and kept anew
    assert again.spec.model_dump() == first.spec.model_dump()
    assert kept.read_bytes() != bytes(content)


def test_a_file_the_key_did_not_sign_is_not_unpickled(cache: Path, tmp_path: Path, registry: Registry) -> None:
    path = write_spec(tmp_path / "spec")
    load_spec(path, registry)
    (kept,) = kept_files(cache)
    marker = tmp_path / "unpickled"
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()  # a pickle that runs a command when loaded
    kept.write_bytes(b"\0" * 32 + payload)
    load_spec(path, registry)
    assert not marker.exists()


def test_a_spec_with_its_own_plugins_is_not_kept(cache: Path, tmp_path: Path, registry: Registry) -> None:
    folder = tmp_path / "spec"
    path = write_spec(folder, SPEC.replace("base_url: \"{{", "plugins: [./hooks.py]\nbase_url: \"{{"))
    hooks = 'from connector_core.hookspecs import hookimpl\n\n\n@hookimpl\ndef connector_register_jinja_filters():\n    return {"shout": str.upper}\n'
    (folder / "hooks.py").write_text(hooks, encoding="utf-8")
    load_spec(path, registry)
    assert kept_files(cache) == []


def test_no_cache_keeps_nothing(cache: Path, tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_CORE_NO_CACHE", "1")
    path = write_spec(tmp_path / "spec")
    load_spec(path, registry)
    load_spec(path, registry)
    assert kept_files(cache) == []


def test_a_second_command_neither_parses_yaml_nor_builds_validators(cache: Path, tmp_path: Path) -> None:
    """In a fresh process, as a command starts: the kept spec and a JSON config need no YAML parser,
    and the spec model's validators are never built."""
    path = write_spec(tmp_path / "spec")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"base_url": "https://api.example.com"}), encoding="utf-8")
    probe = textwrap.dedent(
        f"""
        import sys
        from connector_core.engine.connector import Connector
        from connector_core.engine.spec import ConnectorSpec
        connector = Connector.open({str(path)!r}, {str(config)!r})
        assert connector.config["page_size"] == 50, connector.config
        built = [name for name, model in sys.modules["connector_core.engine.spec"].__dict__.items()
                 if isinstance(model, type) and issubclass(model, ConnectorSpec) and model.__pydantic_complete__]
        print(json.dumps({{"yaml": "yaml" in sys.modules, "built": built}}) if (json := __import__("json")) else "")
        """
    )
    env = {**os.environ, "CONNECTOR_CORE_CACHE": str(cache)}
    env.pop("CONNECTOR_CORE_NO_CACHE", None)
    first = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["yaml"] is True
    second = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {"yaml": False, "built": []}


def test_a_json_config_read_without_positions_still_locates_its_problems(cache: Path, tmp_path: Path, registry: Registry) -> None:
    from connector_core.engine.connector import Connector

    path = write_spec(tmp_path / "spec")
    config = tmp_path / "config.json"
    config.write_text('{\n  "base_url": "https://api.example.com",\n  "page_size": "fifty"\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        Connector.open(path, config, registry)
    assert any(problem.startswith(f"{config}:3:16: page_size") for problem in raised.value.problems), raised.value.problems

    config.write_text('{"base_url": "https://a.example.com",\n "base_url": "https://b.example.com"}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as duplicate:
        Connector.open(path, config, registry)
    assert "duplicate key" in duplicate.value.message
    assert any(f"{config}:2:" in problem for problem in duplicate.value.problems), duplicate.value.problems


def test_only_the_newest_kept_specs_stay(cache: Path, tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector_core.engine import validation_cache

    monkeypatch.setattr(validation_cache, "KEEP_AT_MOST", 3)
    for timeout in range(1, 7):  # six edits of one spec, each kept
        load_spec(write_spec(tmp_path / "spec", SPEC.replace("timeout: 30s", f"timeout: {timeout}s")), registry)
    assert len(kept_files(cache)) == 3
    newest = load_spec(tmp_path / "spec" / "cached.yaml", registry)
    assert newest.spec.defaults.timeout == 6.0
