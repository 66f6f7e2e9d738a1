"""docs/operations.md stays true to the CLI: every `connector-core ...` command line in it parses (its
commands, options and arguments exist), its exit codes are README's, and its metrics are the ones written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from connector_core.cli import main
from connector_core.cli.metrics import ConnectionMetrics, build_registry

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "operations.md").read_text()
README = (ROOT / "README.md").read_text()
_OPERATORS = set("();<>|&")


def _snippets(text: str) -> list[str]:
    """Code blocks (continuation lines joined) and inline code spans."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    outside = re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return lines + re.findall(r"`([^`\n]+)`", outside)


def command_lines(text: str) -> list[list[str]]:
    """The arguments after each `connector-core` (or `.../bin/connector-core`) that starts a command,
    up to the first shell operator."""
    commands = sorted(main.list_commands(click.Context(main)))
    found = []
    for snippet in _snippets(text):
        lexer = shlex.shlex(snippet, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:  # an unbalanced quote in prose
            continue
        for index, token in enumerate(tokens):
            program = token.rpartition("=")[2]
            if program != "connector-core" and not program.endswith("/bin/connector-core"):
                continue
            rest = []
            for arg in tokens[index + 1 :]:
                if set(arg) <= _OPERATORS:
                    break
                rest.append(arg)
            if rest and (rest[0].startswith("-") or rest[0] in commands):  # not the user field of a cron line
                found.append(rest)
    return found


def parse(args: list[str]) -> None:
    """Parse ``args`` as the CLI would, down to the leaf command, invoking nothing."""
    command: click.Command = main
    ctx = main.make_context("connector-core", list(args))
    while isinstance(command, click.Group):
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if not rest:
            return
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        command = sub
        ctx = sub.make_context(name, rest, parent=ctx)


GUIDE_COMMANDS = command_lines(GUIDE)


def test_the_guide_has_its_commands() -> None:
    verbs = {next(a for a in args if not a.startswith("-") and a not in ("json", "info")) for args in GUIDE_COMMANDS}
    assert len(GUIDE_COMMANDS) >= 15
    assert {"run-due", "state", "status", "check", "validate", "run"} <= verbs


def assert_parses(args: list[str]) -> None:
    """``connector-core ARGS`` names commands, options and arguments that exist."""
    try:
        parse(args)
    except click.MissingParameter:
        if not all(re.fullmatch(r"[a-z-]+", arg) for arg in args):  # a command named in prose: `connector-core authorize`
            raise
    except click.BadParameter as exc:
        if "does not exist" not in exc.format_message():  # paths of the guide's host, absent here
            raise


@pytest.mark.parametrize("args", GUIDE_COMMANDS, ids=[" ".join(a)[:60] for a in GUIDE_COMMANDS])
def test_each_command_line_of_the_guide_parses(args: list[str]) -> None:
    assert_parses(args)


def test_the_parser_would_catch_a_wrong_option() -> None:
    with pytest.raises(click.UsageError):
        parse(["run-due", "/srv/connector-core/syncs", "--metric-file", "x.prom"])
    assert command_lines("```sh\nconnector-core state backup --state a.sqlite b/\n```") == [["state", "backup", "--state", "a.sqlite", "b/"]]


def _codes(text: str, heading: str) -> set[str]:
    section = text.split(heading, 1)[1]
    return set(re.findall(r"^\| (\d+) \|", section.split("\n\n", 2)[1], re.M))


def test_the_exit_codes_are_readmes() -> None:
    readme = _codes(README, "Exit codes, for scripts and schedulers:")
    assert readme == {"0", "1", "2", "3", "4", "5", "6", "7", "130", "141", "143"}
    assert _codes(GUIDE, "### Exit codes") == readme


def test_the_metrics_table_lists_what_is_written() -> None:
    from prometheus_client import generate_latest

    exposition = generate_latest(
        build_registry([ConnectionMetrics("c", "ok", 1.0, 2.0, {"f": {"read": 1}}, 3.0, 0, 0)])
    ).decode()
    written = set(re.findall(r"^# TYPE (\S+) gauge$", exposition, re.M))
    documented = set(re.findall(r"^\| `(connector_core_\w+)` \|", GUIDE, re.M))
    assert written == documented
