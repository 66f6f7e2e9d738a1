"""Connector config: secret references, validation against the spec's schema, defaults, redaction."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from connector_core.engine.config import load_config_file, prepare_config, validate_config
from connector_core.engine.redaction import Redactor
from connector_core.errors import ConfigError

API_KEY = "sk_live_7f3a9c2e1b"
PASSWORD = "hunter2-correct-horse"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["account_id", "api_key"],
    "properties": {
        "account_id": {"type": "string", "pattern": "^[0-9]+(_SB[0-9]+)?$", "description": "NetSuite account ID."},
        "api_key": {"type": "string", "secret": True, "pattern": "^sk_", "minLength": 12},
        "base_url": {"type": "string", "format": "uri", "default": "https://api.example.test"},
        "start_date": {"type": "string", "format": "date-time"},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        "region": {"enum": ["eu", "us"], "default": "eu"},
        "retry": {
            "type": "object",
            "default": {},
            "properties": {"attempts": {"type": "integer", "default": 3}, "backoff": {"type": "number", "default": 0.5}},
        },
        "login": {
            "type": "object",
            "properties": {"user": {"type": "string"}, "password": {"type": "string", "secret": True, "minLength": 30}},
        },
        "subsidiaries": {"type": "array", "items": {"type": "integer"}},
    },
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(excinfo: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return list(excinfo.value.problems)


class TestReferences:
    def test_env_reference_resolves(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SHOP_API_KEY", API_KEY)
        cfg = write(tmp_path / "conn.yaml", "account_id: '1234567'\napi_key: {env: SHOP_API_KEY}\n")
        config = prepare_config(SCHEMA, cfg, Redactor())
        assert config["api_key"] == API_KEY

    def test_file_reference_is_relative_to_the_config_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        write(tmp_path / "conf" / "secrets" / "api_key.txt", API_KEY + "\n")
        cfg = write(tmp_path / "conf" / "conn.yaml", "account_id: '1234567'\napi_key: {file: secrets/api_key.txt}\n")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)  # the working directory must not matter
        config = prepare_config(SCHEMA, cfg, Redactor())
        assert config["api_key"] == API_KEY  # trailing newline stripped

    def test_absolute_file_reference(self, tmp_path: Path) -> None:
        secret = write(tmp_path / "key", API_KEY)
        cfg = write(tmp_path / "c" / "conn.json", f'{{"account_id": "1", "api_key": {{"file": "{secret}"}}}}')
        assert prepare_config(SCHEMA, cfg, Redactor())["api_key"] == API_KEY

    def test_references_nested_in_objects_and_lists(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NS_PASSWORD", PASSWORD * 2)
        monkeypatch.setenv("SHOP_API_KEY", API_KEY)
        cfg = write(
            tmp_path / "conn.yaml",
            "account_id: '1'\napi_key: {env: SHOP_API_KEY}\nlogin: {user: ada, password: {env: NS_PASSWORD}}\n",
        )
        config = prepare_config(SCHEMA, cfg, Redactor())
        assert config["login"] == {"user": "ada", "password": PASSWORD * 2}

    def test_missing_env_var_is_located(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
        cfg = write(tmp_path / "conn.yaml", "account_id: '1'\napi_key: {env: NOT_SET_ANYWHERE}\n")
        with pytest.raises(ConfigError) as caught:
            prepare_config(SCHEMA, cfg, Redactor())
        assert problems_of(caught) == [f"{cfg}:2:10: api_key: environment variable NOT_SET_ANYWHERE is not set"]
        assert str(caught.value).startswith(f"{cfg}: cannot resolve secret references")

    def test_missing_file_is_located(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "conn.yaml", "account_id: '1'\nlogin:\n  password: {file: nope/password.txt}\n")
        with pytest.raises(ConfigError) as caught:
            prepare_config(SCHEMA, cfg, Redactor())
        [problem] = problems_of(caught)
        assert problem.startswith(f"{cfg}:3:13: login.password: cannot read secret file ")
        assert str(tmp_path / "nope" / "password.txt") in problem and "No such file or directory" in problem

    def test_every_unresolved_reference_is_reported_at_once(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("A_MISSING", raising=False)
        monkeypatch.delenv("B_MISSING", raising=False)
        cfg = write(tmp_path / "conn.yaml", "account_id: {env: A_MISSING}\napi_key: {env: B_MISSING}\nx: {file: gone}\n")
        with pytest.raises(ConfigError) as caught:
            prepare_config(SCHEMA, cfg, Redactor())
        assert [p.split(": ", 2)[1] for p in problems_of(caught)] == ["account_id", "api_key", "x"]

    def test_references_in_a_mapping_config(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SHOP_API_KEY", API_KEY)
        redactor = Redactor()
        config = prepare_config(SCHEMA, {"account_id": "1", "api_key": {"env": "SHOP_API_KEY"}}, redactor)
        assert config["api_key"] == API_KEY
        assert redactor.text(f"key={API_KEY}") == "key=***"

    def test_a_mapping_with_other_keys_is_not_a_reference(self) -> None:
        config = prepare_config({"type": "object"}, {"deploy": {"env": "production", "region": "eu"}}, Redactor())
        assert config["deploy"] == {"env": "production", "region": "eu"}


class TestValidation:
    def test_defaults_are_applied(self) -> None:
        config = prepare_config(SCHEMA, {"account_id": "1", "api_key": API_KEY, "retry": {"attempts": 7}}, Redactor())
        assert config["base_url"] == "https://api.example.test"
        assert config["page_size"] == 100
        assert config["region"] == "eu"
        assert config["retry"] == {"attempts": 7, "backoff": 0.5}

    def test_nested_default_objects_get_their_defaults(self) -> None:
        config = prepare_config(SCHEMA, {"account_id": "1", "api_key": API_KEY}, Redactor())
        assert config["retry"] == {"attempts": 3, "backoff": 0.5}

    def test_defaults_are_not_shared_between_configs(self) -> None:
        first = prepare_config(SCHEMA, {"account_id": "1", "api_key": API_KEY}, Redactor())
        first["retry"]["attempts"] = 99
        second = prepare_config(SCHEMA, {"account_id": "1", "api_key": API_KEY}, Redactor())
        assert second["retry"]["attempts"] == 3

    def test_every_problem_is_listed_with_its_path_and_position(self, tmp_path: Path) -> None:
        cfg = write(
            tmp_path / "conn.yaml",
            "\n".join(
                [
                    "account_id: ACME",
                    f"api_key: {API_KEY}",
                    "page_size: 5000",
                    "region: use",
                    "start_date: yesterday",
                    "base_url: not a url",
                    "subsidiaries: [1, two, 3]",
                    "retry: {attempts: many}",
                    "",
                ]
            ),
        )
        with pytest.raises(ConfigError) as caught:
            prepare_config(SCHEMA, cfg, Redactor())
        name = cfg.name
        got = [p.replace(str(cfg), name) for p in problems_of(caught)]
        assert got == [
            f"{name}:1:13: account_id: 'ACME' does not match the pattern ^[0-9]+(_SB[0-9]+)?$ (NetSuite account ID.)",
            f"{name}:6:11: base_url: 'not a url' is not a valid uri (a URI needs a scheme, e.g. https://)",
            f"{name}:3:12: page_size: must be <= 1000, got 5000",
            f"{name}:4:9: region: 'use' is not one of 'eu', 'us'; did you mean 'us'?",
            f"{name}:8:19: retry.attempts: expected an integer, got 'many'",
            f"{name}:5:13: start_date: 'yesterday' is not a valid date-time (a date-time needs a date and a time)",
            f"{name}:7:19: subsidiaries[1]: expected an integer, got 'two'",
        ]
        assert str(caught.value).startswith(f"{cfg}: invalid settings (7 problems)")

    def test_missing_required_setting_suggests_a_misspelt_one(self) -> None:
        with pytest.raises(ConfigError) as caught:
            validate_config(SCHEMA, {"acount_id": "1", "api_key": API_KEY})
        assert problems_of(caught) == ["(document root): 'account_id' is required but missing; is 'acount_id' a misspelling of it?"]

    def test_unknown_settings_are_named_when_the_schema_is_closed(self) -> None:
        schema = {"type": "object", "additionalProperties": False, "properties": {"api_key": {"type": "string", "secret": True}}}
        with pytest.raises(ConfigError) as caught:
            validate_config(schema, {"api_kye": API_KEY})
        assert problems_of(caught) == ["(document root): unknown setting 'api_kye' (did you mean 'api_key'?)"]
        assert API_KEY not in str(caught.value)

    def test_yaml_dates_stay_text(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "conn.yaml", f"account_id: '1'\napi_key: {API_KEY}\nstart_date: 2024-01-01T00:00:00Z\n")
        assert prepare_config(SCHEMA, cfg, Redactor())["start_date"] == "2024-01-01T00:00:00Z"

    def test_syntax_error_in_a_config_file_is_located(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "conn.yaml", "account_id: '1'\napi_key: [unclosed\n")
        with pytest.raises(ConfigError, match=rf"^{re.escape(str(cfg))}:3:1: api_key: invalid YAML"):
            load_config_file(cfg)

    def test_duplicate_settings_are_refused(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "conn.yaml", f"api_key: {API_KEY}\naccount_id: '1'\napi_key: other\n")
        with pytest.raises(ConfigError) as caught:
            load_config_file(cfg)
        assert problems_of(caught) == [f"{cfg}:3:1: api_key: key 'api_key' appears twice (first on line 1)"]

    def test_a_config_must_be_a_mapping(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="a config file must be a mapping"):
            load_config_file(write(tmp_path / "conn.yaml", "- a\n- b\n"))

    def test_an_empty_config_file_is_an_empty_config(self, tmp_path: Path) -> None:
        data, secrets, _doc = load_config_file(write(tmp_path / "conn.yaml", ""))
        assert data == {} and secrets == []

    def test_missing_config_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="file not found"):
            prepare_config(SCHEMA, tmp_path / "absent.yaml", Redactor())


class TestSecrets:
    def test_secret_fields_and_references_are_registered(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NS_ACCOUNT", "7654321")
        write(tmp_path / "pw.txt", PASSWORD * 2)
        cfg = write(
            tmp_path / "conn.yaml",
            f"account_id: {{env: NS_ACCOUNT}}\napi_key: {API_KEY}\nlogin: {{user: ada, password: {{file: pw.txt}}}}\n",
        )
        redactor = Redactor()
        prepare_config(SCHEMA, cfg, redactor)
        # api_key is `secret: true`; the account id is secret because it came from the environment
        assert {API_KEY, "7654321", PASSWORD * 2} <= redactor.secrets
        assert "ada" not in redactor.secrets
        assert redactor.text(f"GET /x?key={API_KEY}&acct=7654321") == "GET /x?key=***&acct=***"

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("pk_test_0123456789", "api_key: a secret value (hidden) does not match the pattern ^sk_"),
            ("sk_short", "api_key: must be at least 12 characters long"),
            (12345678901234, "api_key: expected a string, got a secret value (hidden)"),
        ],
    )
    def test_secret_field_problems_never_show_the_value(self, value: object, expected: str) -> None:
        with pytest.raises(ConfigError) as caught:
            validate_config(SCHEMA, {"account_id": "1", "api_key": value})
        message = str(caught.value)
        assert expected in message
        assert str(value) not in message

    def test_values_from_env_are_hidden_even_in_plain_fields(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        # account_id is not flagged secret, but a value read from the environment may be anything
        monkeypatch.setenv("NS_ACCOUNT", "ACCT-prod-do-not-leak")
        monkeypatch.setenv("REGION_FROM_ENV", "apac-do-not-leak")
        monkeypatch.setenv("START_FROM_ENV", "last-tuesday-do-not-leak")
        cfg = write(
            tmp_path / "conn.yaml",
            f"account_id: {{env: NS_ACCOUNT}}\napi_key: {API_KEY}\nregion: {{env: REGION_FROM_ENV}}\nstart_date: {{env: START_FROM_ENV}}\n",
        )
        with pytest.raises(ConfigError) as caught:
            prepare_config(SCHEMA, cfg, Redactor())
        message = str(caught.value)
        assert len(caught.value.problems) == 3
        assert "do-not-leak" not in message
        assert "account_id: a secret value (hidden) does not match the pattern" in message
        assert "region: a secret value (hidden) is not one of 'eu', 'us'" in message

    def test_secrets_inside_objects_are_not_dumped(self, monkeypatch: pytest.MonkeyPatch) -> None:
        schema = {
            "type": "object",
            "properties": {
                "auth": {
                    "oneOf": [
                        {"type": "object", "required": ["token"], "properties": {"token": {"type": "string", "secret": True}}},
                        {"type": "object", "required": ["user", "password"]},
                    ]
                }
            },
        }
        with pytest.raises(ConfigError) as caught:
            validate_config(schema, {"auth": {"token": PASSWORD, "user": "ada", "password": PASSWORD}}, secrets=[PASSWORD])
        assert problems_of(caught) == ["auth: matches more than one of the 2 allowed forms; it must match exactly one"]
        with pytest.raises(ConfigError) as caught:
            validate_config(schema, {"auth": {"token": 5, "user": PASSWORD}}, secrets=[PASSWORD])
        assert PASSWORD not in str(caught.value)
        assert problems_of(caught)[0].startswith("auth: matches none of the 2 allowed forms; closest: ")

    def test_short_secrets_are_hidden_too(self) -> None:
        schema = {"type": "object", "properties": {"pin": {"type": "integer", "secret": True}}}
        with pytest.raises(ConfigError) as caught:
            validate_config(schema, {"pin": "4711"})
        assert "4711" not in str(caught.value)
        with pytest.raises(ConfigError) as caught:
            validate_config({"type": "object", "properties": {"n": {"type": "integer"}}}, {"n": "42"}, secrets=["42"])
        assert "42" not in str(caught.value)

    def test_nested_secret_fields(self) -> None:
        with pytest.raises(ConfigError) as caught:
            validate_config(SCHEMA, {"account_id": "1", "api_key": API_KEY, "login": {"user": "ada", "password": PASSWORD}})
        assert problems_of(caught) == ["login.password: must be at least 30 characters long"]
        assert PASSWORD not in str(caught.value)
