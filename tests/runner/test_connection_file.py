"""Connection files: the models, located problems found with both connectors' specs, schedules, schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from connector_core.engine.schema import render
from connector_core.errors import SpecError
from connector_core.plugins import Registry
from connector_core.sync.connection import connection_schema, load_connection
from connector_core.sync.models import Connection
from connector_core.sync.schedule import next_due, parse_schedule

ROOT = Path(__file__).resolve().parents[2]

VALID = """\
name: shop-to-netsuite
source: {connector: example, config: {api_key: demo-key}}
destination:
  connector: netsuite
  config: {account_id: "1234567_SB1"}
direction: crm->netsuite
schedule: "*/15 * * * *"
flows:
  - name: customers
    from: {stream: customers}
    to: {operation: upsert_customer, into: payload, external_id: external_id}
    match: {external_id: "shop-{{ record.id }}"}
    mapping:
      companyName: name
      email: {from: email, required: true}
      creditLimit: {const: "5000", type: number}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conn.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str, registry: Registry) -> list[str]:
    with pytest.raises(SpecError) as raised:
        load_connection(write(tmp_path, text), registry)
    return raised.value.problems


class TestLoad:
    def test_valid_file(self, tmp_path: Path, registry: Registry) -> None:
        loaded = load_connection(write(tmp_path, VALID), registry)
        assert loaded.connection.direction == "crm→netsuite"
        assert loaded.roles == {"source": "crm", "destination": "netsuite"}
        assert loaded.state_path() == tmp_path / ".state" / "shop-to-netsuite.sqlite"
        flow = loaded.connection.flows[0]
        assert flow.from_.stream == "customers" and flow.to.into == "payload"

    def test_config_paths_resolve_beside_the_file(self, tmp_path: Path, registry: Registry) -> None:
        text = VALID.replace("config: {api_key: demo-key}", "config: shop.yaml").replace(
            'config: {account_id: "1234567_SB1"}', "config: {account_id: {file: secrets/account}}"
        )
        loaded = load_connection(write(tmp_path, text), registry)
        assert loaded.config_for("source") == tmp_path / "shop.yaml"
        assert loaded.config_for("destination") == {"account_id": {"file": str(tmp_path / "secrets" / "account")}}

    def test_unknown_destination_field_is_located_with_a_suggestion(self, tmp_path: Path, registry: Registry) -> None:
        text = VALID.replace("upsert_customer, into: payload, external_id: external_id", "upsert_customer").replace("companyName: name", "payload: {const: {}}\n      extrnal_id: name")
        found = problems(tmp_path, text, registry)
        assert found[0] == (
            f"{tmp_path / 'conn.yaml'}:15:7: flows[0].mapping.extrnal_id: the operation's input has no field 'extrnal_id' "
            "in the input; did you mean 'external_id'?"
        )
        assert found[1].endswith("flows[0].mapping.email: the operation's input has no field 'email' in the input; known: external_id, payload")

    def test_fields_of_a_declared_input_schema_are_checked(self, tmp_path: Path, registry: Registry) -> None:
        text = """\
name: netsuite-to-shop
source: {connector: netsuite, config: {account_id: "1"}}
destination: {connector: example, config: {api_key: k}}
direction: netsuite->crm
flows:
  - name: customers
    from: {stream: customers}
    to: {operation: create_customer, update: update_customer, id: id}
    match: {external_id: "ns-{{ record.id }}"}
    mapping:
      nmae: companyname
      country: {const: 7, type: boolean}
"""
        found = problems(tmp_path, text, registry)
        assert any(p.endswith("flows[0].mapping.nmae: the operation's input has no field 'nmae' in the input; did you mean 'name'?") and ":11:7:" in p for p in found), found
        assert any(":12:" in p and "flows[0].mapping.country.const: 7 is not a boolean" in p for p in found), found

    def test_streams_operations_and_kinds(self, tmp_path: Path, registry: Registry) -> None:
        text = VALID.replace("from: {stream: customers}", "from: {stream: custmers}").replace("operation: upsert_customer", "operation: get_record")
        found = problems(tmp_path, text, registry)
        assert any("flows[0].from.stream: connector 'example' has no stream 'custmers'; did you mean 'customers'?" in p for p in found), found
        assert any("flows[0].to.operation: operation 'get_record' is of kind action; expected create or upsert or update" in p for p in found), found

    def test_model_problems_are_located(self, tmp_path: Path, registry: Registry) -> None:
        text = VALID.replace("direction: crm->netsuite", "direction: sideways").replace('"*/15 * * * *"', "every fortnight").replace(
            "email: {from: email, required: true}", "email: {from: email, const: x}"
        )
        found = problems(tmp_path, text, registry)
        joined = "\n".join(found)
        assert ":6:12: direction: 'sideways' is not a direction" in joined
        assert ":7:11: schedule:" in joined and "'every fortnight'" in joined
        assert ":15:14: flows[0].mapping.email: a rule needs exactly one of from, template, const, each or items, got from, const" in joined
        assert "expected a string" not in joined
        assert len(found) == 3

    def test_direction_must_match_the_flows(self, tmp_path: Path, registry: Registry) -> None:
        found = problems(tmp_path, VALID.replace("crm->netsuite", "netsuite→crm"), registry)
        assert any("flows[0].from.side: the connection's direction is netsuite→crm, but this flow reads source (crm)" in p for p in found)

    def test_bad_template_and_lookup_reference(self, tmp_path: Path, registry: Registry) -> None:
        text = VALID.replace('"shop-{{ record.id }}"', '"shop-{{ record.id | nope }}"').replace(
            "companyName: name", "companyName: {from: name, lookup: {stream: destination.subsidiary, key: name, value: id}}"
        )
        found = "\n".join(problems(tmp_path, text, registry))
        assert "flows[0].match.external_id: template at flows[0].match.external_id uses unknown filter 'nope'" in found
        assert "flows[0].mapping.companyName.lookup.stream: connector 'netsuite' has no stream 'subsidiary'; did you mean 'subsidiaries'?" in found

    def test_delete_policy_needs_its_settings(self, tmp_path: Path, registry: Registry) -> None:
        text = VALID + "    delete: {policy: delete, detect: tombstone-stream}\n"
        found = "\n".join(problems(tmp_path, text, registry))
        assert "flows[0].delete.detect: detect tombstone-stream needs `stream`" in found
        assert "flows[0].delete.policy: policy delete needs `operation`" in found


class TestSchedule:
    def test_interval_and_cron(self) -> None:
        assert parse_schedule("every 15m") == dt.timedelta(minutes=15)
        start = dt.datetime(2024, 5, 1, 10, 7, tzinfo=dt.UTC)
        assert next_due("every 15m", start) == dt.datetime(2024, 5, 1, 10, 22, tzinfo=dt.UTC)
        assert next_due("*/15 * * * *", start) == dt.datetime(2024, 5, 1, 10, 15, tzinfo=dt.UTC)
        assert next_due("*/15 * * * *", None) is None

    def test_invalid(self) -> None:
        with pytest.raises(ValueError, match="neither a cron expression"):
            parse_schedule("*/15 * *")


def test_published_schema_is_current() -> None:
    committed = (ROOT / "specs" / "connection.schema.json").read_text()
    assert committed == render(connection_schema())
    schema = json.loads(committed)
    assert schema["title"] == "connector-core connection"
    assert "from" in schema["$defs"]["Rule"]["properties"]


def test_every_field_has_a_description() -> None:
    schema = connection_schema()
    missing = [
        f"{name}.{key}"
        for name, node in [("Connection", schema), *schema["$defs"].items()]
        for key, prop in node.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert missing == []
    assert Connection.model_config["extra"] == "forbid"


class TestListRulesAndMatching:
    ORDER_OPERATION = """operations:
  create_order:
    kind: create
    input:
      type: object
      properties:
        customer: {type: string}
        note: {type: string}
        lines:
          type: array
          items: {type: object, properties: {sku: {type: string}, qty: {type: number}}}
    request: {method: POST, path: /api/orders, json: "{{ input }}"}
"""

    def shop_with_orders(self, tmp_path: Path) -> None:
        text = (ROOT / "connectors" / "example" / "example.yaml").read_text()
        (tmp_path / "orders.yaml").write_text(text.replace("operations:\n", self.ORDER_OPERATION, 1))

    def connection(self, mapping: str, extra: str = "") -> str:
        return f"""\
name: ns-to-orders
source: {{connector: netsuite, config: {{account_id: "1"}}}}
destination: {{connector: orders.yaml, config: {{api_key: k}}}}
direction: netsuite->crm
flows:
  - name: orders
    from: {{stream: invoices}}
    to: {{operation: create_order}}
    match: {{external_id: "ns-{{{{ record.id }}}}"}}
{extra}    mapping:
{mapping}"""

    def test_a_list_rule_fits_the_declared_array(self, tmp_path: Path, registry: Registry) -> None:
        self.shop_with_orders(tmp_path)
        text = self.connection(
            "      lines:\n        each:\n          from: lines\n          mapping: {sku: item, qty: {from: quantity, type: number}}\n"
            "      customer: {items: [{sku: {const: x}}]}\n"
        )
        path = tmp_path / "conn.yaml"
        path.write_text(text)
        (tmp_path / "ok.yaml").write_text(text.replace("      customer: {items: [{sku: {const: x}}]}\n", ""))
        assert load_connection(tmp_path / "ok.yaml", registry).connection.flows[0].mapping["lines"].each is not None  # type: ignore[union-attr]
        found = problems(tmp_path, text, registry)
        assert any(":15:7: flows[0].mapping.customer: field 'customer' is string in the operation's input, but a list rule builds a list" in p for p in found), found

    def test_element_fields_are_checked_against_the_array_items(self, tmp_path: Path, registry: Registry) -> None:
        self.shop_with_orders(tmp_path)
        text = self.connection(
            "      lines:\n        each:\n          from: lines\n          mapping:\n            skuu: item\n"
            "            qty: {from: quantity, type: number, const: one}\n"
        )
        found = problems(tmp_path, text, registry)
        assert not any(":15:13: flows[0].mapping.lines.each.mapping.skuu: the operation's input has no field 'skuu' in the input; did you mean 'sku'?" in p for p in found), found
        assert len(found) == 1  # a model error (the qty rule) is reported alone, before the checks that need the specs
        assert "flows[0].mapping.lines.each.mapping.qty: a rule needs exactly one of from, template, const, each or items, got from, const" in found[0]
        found = problems(tmp_path, text.replace(", const: one", ""), registry)
        assert any(":15:13: flows[0].mapping.lines.each.mapping.skuu: the operation's input has no field 'skuu' in the input; did you mean 'sku'?" in p for p in found), found

    def test_let_checks_target_and_lookups_are_checked(self, tmp_path: Path, registry: Registry) -> None:
        self.shop_with_orders(tmp_path)
        extra = (
            "    let:\n      cust: {from: customer, lookup: [{stream: destination.customerz, key: id, value: name}]}\n"
            "    checks: [{that: '{{ let.cust == }}', message: x}]\n"
        )
        text = self.connection("      note: {template: '{{ let.cust }}', fallback: {from: memo, lookup: {stream: nowhere, key: a, value: b}}}\n", extra)
        text = text.replace('match: {external_id: "ns-{{ record.id }}"}', 'match: {external_id: "ns-{{ record.id }}", target: {template: "{{ nope }}"}, missing: fail}')
        found = "\n".join(problems(tmp_path, text, registry))
        assert "flows[0].let.cust.lookup[0].stream: connector 'example' has no stream 'customerz'; did you mean 'customers'?" in found
        assert "flows[0].checks[0].that: template syntax error" in found
        assert "flows[0].mapping.note.fallback.lookup.stream: 'nowhere' must be side.stream" in found
        assert "flows[0].match.target.template: template at flows[0].match.target.template uses unknown name 'nope'" in found
