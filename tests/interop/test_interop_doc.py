"""docs/interop.md stays true to the CLI: every `connector-core` and `connector-core-tap` command line in
its code blocks parses (the verbs, options and arguments exist), and the meltano.yml snippet names the
executable that is installed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from connector_core.cli import main

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "interop.md").read_text(encoding="utf-8")


def command_lines() -> list[list[str]]:
    """Each command line of the guide's shell blocks as ``connector-core`` arguments (a tap's line gets
    the ``read --format singer`` it stands for); optional ``[...]`` parts, redirections and pipes cut."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", GUIDE, re.S):
        for line in block.splitlines():
            line = re.sub(r"\[[^\]]*\]", "", line.split("#")[0]).strip()
            tokens = shlex.split(re.split(r"\s[>|]", line)[0]) if line else []
            if tokens[:1] == ["connector-core"]:
                lines.append(tokens[1:])
            elif tokens[:1] == ["connector-core-tap"]:
                lines.append(["read", "--format", "singer", *tokens[1:]])
    return lines


def parse(args: list[str]) -> None:
    ctx = main.make_context("connector-core", list(args))
    name, command, rest = main.resolve_command(ctx, [*getattr(ctx, "_protected_args", []), *ctx.args])
    assert command is not None and name is not None
    command.make_context(name, rest, parent=ctx)


def test_the_guide_shows_every_verb_in_both_formats() -> None:
    lines = command_lines()
    assert {args[0] for args in lines} >= {"spec", "check", "discover", "read"}
    assert any("airbyte" in args for args in lines) and any("singer" in args for args in lines)


@pytest.mark.parametrize("args", command_lines(), ids=" ".join)
def test_each_command_line_parses(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_CORE_CONNECTOR", "example")  # as the guide's tap section exports it
    try:
        parse(args)
    except click.ClickException as exc:
        pytest.fail(f"`connector-core {' '.join(args)}` does not parse: {exc.format_message()}")


def test_the_meltano_snippet_runs_the_installed_tap() -> None:
    [snippet] = re.findall(r"```yaml\n(plugins:.*?)```", GUIDE, re.S)
    [extractor] = yaml.safe_load(snippet)["plugins"]["extractors"]
    assert extractor["executable"] == "connector-core-tap"
    assert "CONNECTOR_CORE_CONNECTOR" in extractor["env"]
    scripts = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'connector-core-tap = "connector_core.cli.interop.singer:tap"' in scripts
