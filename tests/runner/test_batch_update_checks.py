"""`validate` on `to.batch.update` (paired records sent by id through a batch operation): the operation exists and is a
batch answered record by record, its fixed input (`to.batch.update_input`, else `to.input`) fits it, each entry carries
the destination id (`to.id`) and fits its records; every mistake located at file:line:column.

The runs are in test_sync_batch_update.py and test_flow_salesforce_pairs.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector_core.errors import SpecError
from connector_core.plugins import Registry
from connector_core.sync.connection import load_connection

SALESFORCE = """\
name: accounts
source: {{connector: salesforce, config: {{auth_method: jwt_bearer, consumer_key: k, username: u, private_key: p}}}}
destination: {{connector: netsuite, config: {{account_id: "1234567_SB1"}}}}
direction: netsuite->crm
flows:
  - name: customers-to-accounts
    from: {{side: destination, stream: customers}}
    to:
      side: source
      operation: upsert_records
      external_id: NetSuite_Id__c
{id}      input: {{type: Account, external_id_field: NetSuite_Id__c}}
      batch:
        operation: upsert_records
        update: {update}
{update_input}    match: {{external_id: "{{{{ record.id }}}}"}}
    mapping:
      Name: companyname
"""

HUBSPOT = """\
name: companies
source: {{connector: hubspot, config: {{access_token: t}}}}
destination: {{connector: netsuite, config: {{account_id: "1234567_SB1"}}}}
direction: netsuite->crm
flows:
  - name: customers-to-companies
    from: {{side: destination, stream: customers}}
    to:
      side: source
      operation: upsert_companies
      external_id: netsuite_customer_id
      id: id
      batch: {{operation: upsert_companies, result_key: properties.netsuite_customer_id, update: {update}}}
    match: {{external_id: "{{{{ record.id }}}}"}}
    mapping:
      name: companyname
"""

ID = "      id: Id\n"
UPDATE_INPUT = "        update_input: {type: Account}\n"


def problems(tmp_path: Path, registry: Registry, text: str) -> list[str]:
    path = tmp_path / "conn.yaml"
    path.write_text(text)
    try:
        load_connection(path, registry)
    except SpecError as exc:
        return [problem.removeprefix(f"{tmp_path}/") for problem in exc.problems]
    return []


def salesforce(id: str = ID, update: str = "update_records", update_input: str = UPDATE_INPUT) -> str:
    return SALESFORCE.format(id=id, update=update, update_input=update_input)


def test_the_salesforce_update_by_id_is_accepted(tmp_path: Path, registry: Registry) -> None:
    assert problems(tmp_path, registry, salesforce()) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            salesforce(update_input=""),
            "conn.yaml:13:30: flows[0].to.input.external_id_field: operation 'update_records' takes no input "
            "'external_id_field' (it takes: type); to.batch.update_input gives that call its own input",
        ),
        (
            salesforce(id=""),
            "conn.yaml:15:17: flows[0].to.batch.update: to.batch.update sends each paired record by its destination id: "
            "set to.id, the path in one entry of `records` that receives it (e.g. Id)",
        ),
        (
            salesforce(update="update_recrds"),
            "conn.yaml:16:17: flows[0].to.batch.update: connector 'salesforce' has no operation 'update_recrds'; "
            "did you mean 'update_records'?",
        ),
        (
            salesforce(update="update_record"),
            "conn.yaml:16:17: flows[0].to.batch.update: operation 'update_record' is of kind update; expected batch",
        ),
        (
            salesforce(update_input='        update_input: {type: "{{ record.type }}"}\n'),
            "conn.yaml:17:30: flows[0].to.batch.update_input.type: a batch call's input is the same for all its records",
        ),
        (
            salesforce(update="null"),
            "conn.yaml:17:9: flows[0].to.batch.update_input: update_input is the input of to.batch.update's call: "
            "set to.batch.update too, or leave it out",
        ),
    ],
    ids=[
        "to.input-unfit",
        "no-to.id",
        "unknown",
        "not-a-batch",
        "record-in-update_input",
        "input-without-update",
    ],
)
def test_mistakes_are_located(tmp_path: Path, registry: Registry, text: str, expected: str) -> None:
    found = problems(tmp_path, registry, text)
    assert any(problem.startswith(expected) for problem in found), found


def test_entries_that_do_not_fit_the_update_operations_records_are_located(
    tmp_path: Path, registry: Registry
) -> None:
    # HubSpot's batch upsert takes flat property maps, its batch update {id, properties}: one entry cannot fit both
    found = problems(tmp_path, registry, HUBSPOT.format(update="update_companies"))
    assert sorted(found) == [
        "conn.yaml:11:20: flows[0].to.external_id: the operation's input has no field 'netsuite_customer_id' in the input; "
        "known: id, properties (an entry of to.batch.update 'update_companies')",
        "conn.yaml:16:7: flows[0].mapping.name: the operation's input has no field 'name' in the input; known: id, properties "
        "(an entry of to.batch.update 'update_companies')",
    ]


def test_an_update_operation_that_does_not_answer_record_by_record_is_refused(
    tmp_path: Path, registry: Registry
) -> None:
    found = problems(tmp_path, registry, HUBSPOT.format(update="associate_deals_companies"))
    expected = "conn.yaml:13:97: flows[0].to.batch.update: operation 'associate_deals_companies' does not answer record by record"
    assert any(problem.startswith(expected) for problem in found), found
