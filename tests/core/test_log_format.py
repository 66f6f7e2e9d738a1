"""`--log-format json` and `--log-level`: one JSON object a line on stderr, through the secret mask."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from connector_core.cli import main
from connector_core.cli.logging_setup import json_line
from connector_core.engine.redaction import Redactor

# a quote and a backslash (JSON escapes both) and non-ASCII (escaped as \uXXXX with ensure_ascii)
SECRET = 'pa"ss\\wörd-€-7f3k'
ESCAPED_FORMS = (SECRET, json.dumps(SECRET)[1:-1], json.dumps(SECRET, ensure_ascii=True)[1:-1])


@click.command("log-probe")
@click.option("--fail", is_flag=True)
def log_probe(fail: bool) -> None:
    """Logs at every level with structured extras, prints on stderr, and fails when asked."""
    from connector_core.cli.app import guarded

    @guarded
    def body() -> None:
        log = logging.getLogger("connector_core.probe")
        log.debug("debug detail")
        log.info("info progress", extra={"flow": "customers", "counts": {"read": 3}})
        log.warning("token was %s", SECRET, extra={"connection": "probe", "detail": {"key": SECRET, "list": [SECRET]}})
        click.echo(f"a printed line with {SECRET}", err=True)
        click.echo("line one\nline two", err=True)
        if fail:
            raise RuntimeError(f"boom with {SECRET}")

    body()


@pytest.fixture
def probe() -> Iterator[Redactor]:
    main.add_command(log_probe)
    redactor = Redactor([SECRET])  # the process-wide mask knows it while this object lives
    try:
        yield redactor
    finally:
        main.commands.pop("log-probe", None)


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stderr


def json_lines(text: str) -> list[dict[str, object]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


class TestJsonFormat:
    def test_every_stderr_line_is_a_json_object_with_the_core_keys(self, probe: Redactor) -> None:
        code, err = invoke("--log-format", "json", "--log-level", "info", "log-probe")
        assert code == 0, err
        records = json_lines(err)
        assert [r["message"] for r in records] == ["info progress", "token was ***", "a printed line with ***", "line one\nline two"]
        for record in records:
            assert list(record)[:4] == ["time", "level", "logger", "message"]
            assert str(record["time"]).endswith("Z") and "T" in str(record["time"])
        info, warning, printed, multi = records
        assert (info["level"], info["logger"], info["flow"], info["counts"]) == ("info", "connector_core.probe", "customers", {"read": 3})
        assert (warning["level"], warning["connection"], warning["detail"]) == ("warning", "probe", {"key": "***", "list": ["***"]})
        assert (printed["level"], printed["logger"]) == ("info", "connector_core.cli")
        assert multi["message"] == "line one\nline two"  # one write, one event

    def test_a_secret_with_a_quote_a_backslash_and_non_ascii_is_masked_before_encoding(self, probe: Redactor) -> None:
        code, err = invoke("--log-format", "json", "--log-level", "debug", "log-probe", "--fail")
        assert code == 4
        for form in ESCAPED_FORMS:
            assert form not in err
        records = json_lines(err)
        assert records[-1]["level"] == "error" and records[-1]["message"].startswith("internal error: RuntimeError: boom with ***")
        decoded = json.dumps(records, ensure_ascii=False)
        assert SECRET not in decoded and "***" in decoded

    def test_json_line_masks_values_and_keys(self, probe: Redactor) -> None:
        line = json_line("info", "x", f"m {SECRET}", {"extra": {SECRET: [SECRET, 1, None]}})
        assert all(form not in line for form in ESCAPED_FORMS)
        assert json.loads(line)["extra"] == {"***": ["***", 1, None]}

    def test_the_environment_variable_selects_json(self, probe: Redactor) -> None:
        code, err = invoke("log-probe", env={"CONNECTOR_CORE_LOG_FORMAT": "json"})
        assert code == 0
        assert [r["message"] for r in json_lines(err)] == ["token was ***", "a printed line with ***", "line one\nline two"]

    def test_a_usage_error_of_the_group_is_still_reported(self) -> None:
        code, err = invoke("--log-format", "yaml", "status")
        assert code == 2 and "'yaml' is not one of 'text', 'json'" in err


class TestLevelsAndText:
    def test_text_stays_the_default(self, probe: Redactor) -> None:
        code, err = invoke("log-probe")
        assert code == 0
        assert not err.lstrip().startswith("{")
        assert "a printed line with ***" in err and SECRET not in err

    def test_the_level_filters_log_records_not_printed_output(self, probe: Redactor) -> None:
        _, err = invoke("--log-format", "json", "--log-level", "error", "log-probe")
        assert [r["message"] for r in json_lines(err)] == ["a printed line with ***", "line one\nline two"]
        _, err = invoke("--log-format", "json", "--log-level", "debug", "log-probe")
        assert [r["message"] for r in json_lines(err)][:2] == ["debug detail", "info progress"]

    def test_debug_implies_the_debug_level(self, probe: Redactor) -> None:
        _, err = invoke("--debug", "--log-format", "json", "log-probe")
        assert json_lines(err)[0]["message"] == "debug detail"

    def test_the_json_handler_is_removed_when_the_command_ends(self, probe: Redactor) -> None:
        before = list(logging.getLogger().handlers)
        invoke("--log-format", "json", "log-probe")
        assert logging.getLogger().handlers == before
