"""`connector-core discover salesforce -c CONFIG` against the emulator: each record stream's JSON Schema is
built from `/sobjects/<Type>/describe` (types, picklist enums, required, updateable and external-id flags,
custom `__c` fields), narrowed to the fields the stream reads, one describe per object type per run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from salesforce_connector_support import jwt_config, route_counts

from connectors.crm.salesforce_emulator import SalesforceEmulator

COMMAND = [str(Path(sys.executable).with_name("connector-core"))]
RECORD_STREAMS = {"accounts": "Account", "contacts": "Contact", "opportunities": "Opportunity", "won_opportunities": "Opportunity",
                  "opportunity_line_items": "OpportunityLineItem", "users": "User"}


def discover(tmp_path: Path, config: dict[str, Any] | None) -> subprocess.CompletedProcess[str]:
    args = [*COMMAND, "discover", "salesforce"]
    if config is not None:
        path = tmp_path / "salesforce.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        args += ["-c", str(path)]
    environment = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(args, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120, check=False)


def test_discover_builds_each_record_streams_schema_from_describe(tmp_path: Path, emu: SalesforceEmulator) -> None:
    fields = ["Name", "Industry", "Type", "NetSuite_Id__c", "Sync_Status__c"]
    done = discover(tmp_path, jwt_config(emu, account_fields=fields))
    assert done.returncode == 0, done.stderr
    streams = {s["name"]: s for s in json.loads(done.stdout)["streams"]}
    for name in RECORD_STREAMS:
        assert streams[name]["schema_from_api"] is True, name
        assert streams[name]["json_schema"]["title"] == RECORD_STREAMS[name]
    account = streams["accounts"]["json_schema"]
    assert list(account["properties"]) == ["Id", "SystemModstamp", *fields]  # what the stream reads, nothing more
    ext = account["properties"]["NetSuite_Id__c"]
    assert ext["x-salesforce"] == {"type": "string", "createable": True, "updateable": True, "externalId": True, "unique": False, "custom": True}
    assert ext["maxLength"] == 40
    status = account["properties"]["Sync_Status__c"]  # a restricted picklist: an enum
    assert status["x-salesforce"]["custom"] is True and "enum" in status and None in status["enum"]
    assert "enum" not in account["properties"]["Industry"] and "Banking" in account["properties"]["Industry"]["examples"]
    assert account["properties"]["SystemModstamp"]["x-salesforce"]["updateable"] is False
    assert account["properties"]["SystemModstamp"]["readOnly"] is True
    assert account["required"] == ["Name"]
    opportunity = streams["opportunities"]["json_schema"]
    assert "Closed Won" in opportunity["properties"]["StageName"]["enum"]
    assert {"Name", "StageName", "CloseDate"} <= set(opportunity["required"])
    assert opportunity["properties"]["Amount"]["type"] == ["number", "null"]
    assert opportunity["properties"]["CloseDate"]["format"] == "date"
    assert streams["users"]["json_schema"]["properties"]["IsActive"]["type"] == "boolean"
    counts = route_counts(emu)
    assert counts["sobjects.describe"] == 5  # opportunities and won_opportunities share Opportunity's describe
    assert not {"query", "query.next", "bulk.create"} & set(counts)  # discover reads no records


def test_deleted_flag_joins_the_schema_with_include_deleted(tmp_path: Path, emu: SalesforceEmulator) -> None:
    done = discover(tmp_path, jwt_config(emu, include_deleted=True))
    assert done.returncode == 0, done.stderr
    streams = {s["name"]: s for s in json.loads(done.stdout)["streams"]}
    assert streams["contacts"]["json_schema"]["properties"]["IsDeleted"]["type"] == "boolean"
    assert "IsDeleted" not in streams["users"]["json_schema"]["properties"]  # users are never deleted


def test_without_a_config_discover_says_where_the_schemas_come_from(tmp_path: Path) -> None:
    done = discover(tmp_path, None)
    assert done.returncode == 0, done.stderr
    accounts = next(s for s in json.loads(done.stdout)["streams"] if s["name"] == "accounts")
    assert accounts["json_schema"] == {"type": "object"} and accounts["schema_from_api"] is False
    assert "the API describes the records of accounts, contacts" in done.stderr and "-c CONFIG" in done.stderr


def test_a_failing_describe_is_a_located_error_without_a_traceback(tmp_path: Path, emu: SalesforceEmulator) -> None:
    emu.faults.add("status", status=404, count=None, path_prefix="/services/data/v59.0/sobjects/Contact/describe",
                   code="NOT_FOUND", detail="The requested resource does not exist")
    done = discover(tmp_path, jwt_config(emu))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "stream 'contacts': its schema could not be fetched (streams.contacts.schema.from.request, GET" in done.stderr
    assert "NOT_FOUND" in done.stderr
    assert emu.credentials["private_key_pem"].splitlines()[1] not in done.stderr
