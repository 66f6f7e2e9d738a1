"""What `validate` says about an export's `cast`: a value other than `schema`, a stream with no schema to
cast by, and a written-out schema that types nothing `cast` could convert; each located in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector_core.cli.validate import validate_file
from connector_core.errors import SpecError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

SPEC = """\
name: typed
base_url: https://api.example.test
streams:
  rows:
    request: {{path: /rows}}
    records: data
{schema}    export:
      when: "{{{{ config.bulk }}}}"
      create: {{method: POST, path: /jobs}}
      decoder: {{format: csv, nulls: [""]}}
      records: ""
      cast: {cast}
      id: {{path: job}}
      poll: {{request: {{path: "/jobs/{{{{ job.id }}}}"}}, status: state, done: [done]}}
      download: {{request: {{path: "/jobs/{{{{ job.id }}}}/file"}}}}
"""
TYPED = "    schema: {type: object, properties: {id: {type: integer}}}\n"
CAST_AT = "typed.yaml:13:13"  # line and column of the value of `cast:`


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False))


def problems(tmp_path: Path, registry: Registry, *, schema: str = TYPED, cast: str = "schema") -> list[str]:
    path = tmp_path / "typed.yaml"
    path.write_text(SPEC.format(schema=schema, cast=cast), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        validate_file(path, registry)
    return [p.replace(str(path), path.name) for p in caught.value.problems]


def test_a_valid_cast_passes(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "typed.yaml"
    path.write_text(SPEC.format(schema=TYPED, cast="schema"), encoding="utf-8")
    validate_file(path, registry)
    path.write_text(SPEC.format(schema="    schema: {from: {request: {path: /describe}}}\n", cast="schema"), encoding="utf-8")
    validate_file(path, registry)  # a schema from the API: what it types is known only when it is fetched


def test_a_value_other_than_schema_is_refused_where_it_is_written(tmp_path: Path, registry: Registry) -> None:
    (found,) = problems(tmp_path, registry, cast="schemas")
    assert found.startswith(f"{CAST_AT}: streams.rows.export.cast: 'schemas' is not allowed; expected 'schema'")
    assert "did you mean 'schema'?" in found
    (found,) = problems(tmp_path, registry, cast="{id: integer}")
    assert found.startswith(f"{CAST_AT}: streams.rows.export.cast:")


def test_cast_needs_a_schema(tmp_path: Path, registry: Registry) -> None:
    (found,) = problems(tmp_path, registry, schema="")
    assert found == (
        "typed.yaml:12:13: streams.rows.export.cast: the stream has no `schema` to convert the downloads' values by: "
        "add one (written out, or `from` the API), or remove cast"
    )


def test_a_schema_that_types_nothing_castable_is_reported(tmp_path: Path, registry: Registry) -> None:
    (found,) = problems(tmp_path, registry, schema="    schema: {type: object, properties: {id: {type: string}, at: {type: [string, 'null']}}}\n")
    assert found.startswith(f"{CAST_AT}: streams.rows.export.cast: the stream's schema types no top-level property as integer, number or boolean")
