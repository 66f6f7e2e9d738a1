"""A batch call's fixed input: `to.input` (with `to.batch`) and `to.write_back.batch_input` go beside `records`,
once per call; `validate` checks them against the batch operation's input schema, with located errors.

The runs of these options against the Salesforce emulator are in test_flow_salesforce_*.py (sObject Collections).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector_core.errors import SpecError
from connector_core.plugins import Registry
from connector_core.sync.connection import load_connection

CONNECTION = """\
name: accounts
source: {{connector: salesforce, config: {{auth_method: jwt_bearer, consumer_key: k, username: u, private_key: p}}}}
destination: {{connector: netsuite, config: {{account_id: "1234567_SB1"}}}}
direction: bidirectional
flows:
  - name: customers-to-accounts
    from: {{side: destination, stream: customers}}
    to:
      side: source
      operation: upsert_records
      external_id: NetSuite_Id__c
      input: {to_input}
      batch: {batch}
{write_back}    match: {{external_id: "{{{{ record.id }}}}"}}
    mapping:
      Name: companyname
"""

UPSERTS = "{operation: upsert_records, size: 200, result_new: created}"


def load(tmp_path: Path, registry: Registry, to_input: str, batch: str = UPSERTS, write_back: str = "") -> list[str]:
    path = tmp_path / "conn.yaml"
    path.write_text(CONNECTION.format(to_input=to_input, batch=batch, write_back=write_back))
    try:
        load_connection(path, registry)
    except SpecError as exc:
        return exc.problems
    return []


def test_the_batch_operations_fixed_input_is_accepted(tmp_path: Path, registry: Registry) -> None:
    assert load(tmp_path, registry, "{type: Account, external_id_field: NetSuite_Id__c}") == []


@pytest.mark.parametrize(
    ("to_input", "expected"),
    [
        (
            "{type: Account}",
            "flows[0].to.input: operation 'upsert_records' requires 'external_id_field' besides records: add it here",
        ),
        (
            "{type: Account, external_id_field: NetSuite_Id__c, extrnal: x}",
            "flows[0].to.input.extrnal: operation 'upsert_records' takes no input 'extrnal'",
        ),
        (
            "{type: Account, external_id_field: NetSuite_Id__c, records: []}",
            "flows[0].to.input.records: `records` is what the runner sends (the mapped records); leave it out",
        ),
        (
            "{type: \"{{ record.type }}\", external_id_field: NetSuite_Id__c}",
            "flows[0].to.input.type: a batch call's input is the same for all its records: a template here sees no `record`",
        ),
    ],
)
def test_mistakes_in_the_fixed_input_are_located(tmp_path: Path, registry: Registry, to_input: str, expected: str) -> None:
    found = load(tmp_path, registry, to_input)
    assert any(expected in problem for problem in found), found


def test_a_batch_answering_record_by_record_needs_no_result_key(tmp_path: Path, registry: Registry) -> None:
    # Salesforce's collections answer entry by entry in input order (the spec's batch.ok)
    assert load(tmp_path, registry, "{type: Account, external_id_field: NetSuite_Id__c}", batch="{operation: upsert_records}") == []


def test_write_back_batch_input(tmp_path: Path, registry: Registry) -> None:
    fixed = "{type: Account, external_id_field: NetSuite_Id__c}"
    back = "      write_back: {{operation: {op}, {extra}input: {{Id: x}}}}\n"
    # a write-back of customers-to-accounts goes to NetSuite: update_record is single, so batch_input is refused there
    found = load(tmp_path, registry, fixed, write_back=back.format(op="update_record", extra="batch_input: {record_type: customer}, "))
    assert any("to.write_back.batch_input: batch_input is for a batch operation; 'update_record' is of kind update" in p for p in found), found


ACCOUNTS_TO_CUSTOMERS = """\
name: accounts
source: {{connector: salesforce, config: {{auth_method: jwt_bearer, consumer_key: k, username: u, private_key: p}}}}
destination: {{connector: netsuite, config: {{account_id: "1234567_SB1"}}}}
direction: bidirectional
flows:
  - name: accounts-to-customers
    from: {{stream: accounts}}
    to:
      operation: upsert_customer
      into: payload
      external_id: external_id
      write_back:
        operation: update_records
        {batch_input}input: {{Id: "{{{{ source.id }}}}", NetSuite_Id__c: "{{{{ target.id }}}}"}}
    match: {{external_id: "sf-{{{{ record.Id }}}}"}}
    mapping:
      companyName: Name
"""


@pytest.mark.parametrize(
    ("batch_input", "expected"),
    [
        ("batch_input: {type: Account}\n        ", None),
        ("", "flows[0].to.write_back.batch_input: operation 'update_records' requires 'type' besides records: add it here"),
        ("batch_input: {type: Account, id: x}\n        ", "flows[0].to.write_back.batch_input.id: operation 'update_records' takes no input 'id'"),
    ],
)
def test_a_batch_write_back_takes_its_fixed_input_from_batch_input(tmp_path: Path, registry: Registry, batch_input: str, expected: str | None) -> None:
    path = tmp_path / "conn.yaml"
    path.write_text(ACCOUNTS_TO_CUSTOMERS.format(batch_input=batch_input))
    try:
        load_connection(path, registry)
        found: list[str] = []
    except SpecError as exc:
        found = exc.problems
    if expected is None:
        assert found == []
    else:
        assert any(expected in problem for problem in found), found
