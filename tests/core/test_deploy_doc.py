"""docs/deploy.md stays true to the CLI: every `connector-core ...` command line in it parses (its
commands, options and arguments exist), as test_operations_doc.py checks docs/operations.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_operations_doc import assert_parses, command_lines

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_COMMANDS = command_lines((ROOT / "docs" / "deploy.md").read_text())


def test_the_temporal_commands_are_shown() -> None:
    verbs = {args[0] for args in DEPLOY_COMMANDS}
    assert {"worker", "schedules", "run"} <= verbs
    assert any("--via" in args for args in DEPLOY_COMMANDS)


@pytest.mark.parametrize("args", DEPLOY_COMMANDS, ids=[" ".join(a)[:60] for a in DEPLOY_COMMANDS])
def test_each_command_line_of_the_guide_parses(args: list[str]) -> None:
    assert_parses(args)
