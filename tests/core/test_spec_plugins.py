"""A plugin beside the spec (``plugins: [./hooks.py]``): loaded only when the spec names it, used for
validation and reading, seen by no other spec, and every mistake in naming or writing it located."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI

from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.errors import SpecError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

SCRIPT = Path(sys.executable).with_name("connector-core")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "connector_core.cli"]

HOOKS = '''
"""Hooks of the columnar API, tried beside the spec before packaging them."""

from typing import Any, Literal

from connector_core.hookspecs import hookimpl
from connector_core.plugins import ExtractorModel


class ColumnsExtractor(ExtractorModel):
    """{columns: [..], rows: [[..], ..]} -> one mapping per row."""

    type: Literal["columns"] = "columns"

    def extract(self, response: Any, body: Any) -> list[dict[str, Any]]:
        return [dict(zip(body["columns"], row)) for row in body["rows"]]


@hookimpl
def connector_register_extractors() -> list[type[ExtractorModel]]:
    return [ColumnsExtractor]


@hookimpl
def connector_register_jinja_filters() -> dict[str, Any]:
    return {"cents": lambda value: int(round(float(value) * 100))}


@hookimpl
def connector_register_transforms() -> dict[str, Any]:
    def tag(record: dict[str, Any]) -> dict[str, Any]:
        record["source"] = "TAG"
        return record

    return {"tag": tag}
'''


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/prices", {"columns": ["sku", "price"], "rows": [["A", 1.5], ["B", 2.25]]})
        yield server


@pytest.fixture
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False))


def write_spec(folder: Path, base_url: str = "http://127.0.0.1:9", plugins: list[Any] | None = None, hooks: str | None = HOOKS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if hooks is not None:
        (folder / "hooks.py").write_text(textwrap.dedent(hooks), encoding="utf-8")
    spec: dict[str, Any] = {
        "name": "columnar",
        "base_url": base_url,
        "defaults": {"retries": {"attempts": 1, "backoff": 0}},
        "streams": {
            "prices": {
                "request": {"path": "/prices", "query": {"min": "{{ 1.25 | cents }}"}},
                "records": {"extractor": {"type": "columns"}},
                "transforms": [{"plugin": "tag"}],
            }
        },
    }
    if plugins is not None:
        spec["plugins"] = plugins
    path = folder / "columnar.json"
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return path


def problems_of(path: Path, registry: Registry) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(path, registry)
    return caught.value.problems


class TestUse:
    def test_the_spec_reads_with_its_own_extractor_filter_and_transform(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        loaded = load_spec(write_spec(tmp_path, api.url, ["./hooks.py"]), registry)
        rows = list(Connector(loaded, {}, registry).read("prices"))
        assert rows == [{"sku": "A", "price": 1.5, "source": "TAG"}, {"sku": "B", "price": 2.25, "source": "TAG"}]
        assert api.received("/prices")[0].query["min"] == "125"

    def test_other_specs_and_the_given_registry_never_see_it(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        load_spec(write_spec(tmp_path / "with", api.url, ["./hooks.py"]), registry)
        assert registry.extractors == {} and "cents" not in registry.filters
        problems = problems_of(write_spec(tmp_path / "without", api.url, None), registry)  # hooks.py beside it, not named
        assert any("streams.prices.records.extractor" in p for p in problems), problems
        assert any("unknown filter 'cents'" in p for p in problems), problems

    def test_a_changed_module_is_imported_again(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        path = write_spec(tmp_path, api.url, ["./hooks.py"])
        list(Connector(load_spec(path, registry), {}, registry).read("prices"))
        (tmp_path / "hooks.py").write_text(textwrap.dedent(HOOKS).replace('"TAG"', '"TAG2"'), encoding="utf-8")
        rows = list(Connector(load_spec(path, registry), {}, registry).read("prices"))
        assert {r["source"] for r in rows} == {"TAG2"}

    def test_the_command_line_validates_and_reads_with_it(self, api: FakeAPI, tmp_path: Path) -> None:
        path = write_spec(tmp_path, api.url, ["hooks.py"])
        env = dict(os.environ)
        validated = subprocess.run([*COMMAND, "validate", str(path)], capture_output=True, text=True, env=env, timeout=120, check=False)
        assert validated.returncode == 0, validated.stderr
        read = subprocess.run([*COMMAND, "read", str(path), "-s", "prices"], capture_output=True, text=True, env=env, timeout=120, check=False)
        assert read.returncode == 0, read.stderr
        assert [json.loads(line)["source"] for line in read.stdout.splitlines()] == ["TAG", "TAG"]


class TestMistakes:
    @pytest.mark.parametrize(
        ("entry", "says"),
        [
            ("./hook.py", "no file './hook.py' beside the spec; Python files beside the spec: hooks.py"),
            ("/etc/hooks.py", "'/etc/hooks.py' is an absolute path; name the module relative to the spec's folder"),
            ("../hooks.py", "'../hooks.py' is outside the spec's folder"),
            ("./hooks.txt", "'./hooks.txt' is not a Python file (.py)"),
        ],
    )
    def test_a_bad_entry_is_located(self, tmp_path: Path, registry: Registry, entry: str, says: str) -> None:
        problems = problems_of(write_spec(tmp_path / "spec", plugins=["./hooks.py", entry]), registry)
        assert len(problems) == 1 and "columnar.json:" in problems[0] and "plugins[1]: " in problems[0], problems
        assert says in problems[0]

    def test_a_syntax_error_names_the_modules_line(self, tmp_path: Path, registry: Registry) -> None:
        problems = problems_of(write_spec(tmp_path, plugins=["./hooks.py"], hooks="x = 1\ndef broken(:\n"), registry)
        assert "plugins[0]: './hooks.py' does not compile: invalid syntax" in problems[0]
        assert f"{tmp_path.resolve() / 'hooks.py'}:2:" in problems[0]

    def test_an_import_failure_names_the_modules_line(self, tmp_path: Path, registry: Registry) -> None:
        problems = problems_of(write_spec(tmp_path, plugins=["./hooks.py"], hooks="x = 1\nraise RuntimeError('no key')\n"), registry)
        assert "'./hooks.py' failed while importing: RuntimeError: no key" in problems[0]
        assert f"{tmp_path.resolve() / 'hooks.py'}:2" in problems[0]

    def test_a_module_without_hooks_is_refused(self, tmp_path: Path, registry: Registry) -> None:
        problems = problems_of(write_spec(tmp_path, plugins=["./hooks.py"], hooks="def helper():\n    return 1\n"), registry)
        assert "'./hooks.py' defines no hook: mark functions named after the hooks with @hookimpl" in problems[0]

    def test_a_misspelt_hook_is_refused(self, tmp_path: Path, registry: Registry) -> None:
        hooks = "from connector_core.hookspecs import hookimpl\n\n@hookimpl\ndef connector_register_filters():\n    return {}\n"
        problems = problems_of(write_spec(tmp_path, plugins=["./hooks.py"], hooks=hooks), registry)
        assert "'./hooks.py' implements connector_register_filters, which is not a hook (misspelt?)" in problems[0]

    def test_plugins_must_be_a_list_of_paths(self, tmp_path: Path, registry: Registry) -> None:
        problems = problems_of(write_spec(tmp_path, plugins=[3]), registry)
        assert any("plugins[0]" in p for p in problems), problems


def test_the_worked_example_in_the_docs_runs(api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
    import re

    import yaml

    docs = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = docs.split("## A plugin beside the spec", 1)[1].split("\n## ", 1)[0]
    module = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    spec_text = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert module and spec_text
    (tmp_path / "acme_hooks.py").write_text(module.group(1), encoding="utf-8")
    spec = yaml.safe_load(spec_text.group(1))
    spec["base_url"] = api.url
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    api.json("/invoices", {"data": [{"id": 1, "amount_cents": 1250}]})
    rows = list(Connector(load_spec(tmp_path / "acme.yaml", registry), {"min_amount": 2.5}, registry).read("invoices"))
    assert rows == [{"id": 1, "amount": 12.5}]
    assert api.received("/invoices")[0].query["min_amount"] == "250"
