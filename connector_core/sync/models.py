"""The connection file format as pydantic models: sides, flows, targets, matching, rules and policies.

``specs/connection.schema.json`` is generated from these models (``python -m connector_core.cli.schemas``);
every ``description=`` here is what an editor shows a connection author.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from connector_core.engine.spec import SpecModel
from connector_core.sync.schedule import parse_schedule

Side = Literal["source", "destination"]
Role = Literal["crm", "netsuite"]
ValueType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
DIRECTIONS = ("crm→netsuite", "netsuite→crm", "source→destination", "destination→source", "bidirectional")


class Endpoint(SpecModel):
    """One side of the connection: a connector and its config."""

    connector: str = Field(..., description="Installed connector name (e.g. netsuite) or a spec file path, relative to this file.")
    config: dict[str, Any] | str | None = Field(
        None,
        description="The connector's settings: a mapping (values may be {env: NAME} or {file: PATH}) or a config file path, relative to this file.",
    )
    role: Role | None = Field(
        None, description="Which system this side is, for `direction` and conflict owners: crm or netsuite (default: netsuite for the netsuite connector, else crm)."
    )


class StreamRef(SpecModel):
    """Where a flow reads its records."""

    side: Side = Field("source", description="Which side to read from.")
    stream: str = Field(..., description="Stream of that side's connector.")
    state_key: str | None = Field(None, description="Name under which the stream's cursor is saved (default: the flow name).")
    id: str | None = Field(None, description="Dotted path of the record id (default: the stream's primary key, else `id`).")
    modified: str | None = Field(
        None, description="Dotted path of the record's last-modified time, for echo suppression and conflicts (default: the stream's cursor field)."
    )
    group_by: str | None = Field(
        None,
        description="Dotted path: records with equal values become ONE record {key, records: [...]} (e.g. monthly rows summed per customer in the mapping). The stream must be read in full (no cursor).",
    )


class WriteBack(SpecModel):
    """After the written side acknowledges a new pairing, write its id back to the read side (ID writeback)."""

    operation: str = Field(..., description="Operation of the READ side; a batch operation gets {records: [input, ...]}, any other one call per record.")
    input: dict[str, Any] = Field(
        ..., description="Input (one entry of `records` for a batch operation); templates over `record`, `source` and `target` (target.id: the new id)."
    )
    batch_input: dict[str, Any] = Field(
        default_factory=dict,
        description="With a batch operation: the call's further input besides `records`, the same for every call (e.g. {type: Account}); "
        "templates see no record.",
    )


class SetupCall(SpecModel):
    """An idempotent call made at the start of every run, before the flows (e.g. create custom properties)."""

    side: Side = Field(..., description="Which side's connector.")
    operation: str = Field(..., description="Operation of that connector.")
    input: dict[str, Any] = Field(default_factory=dict, description="The operation's input.")


class BatchTarget(SpecModel):
    """Write records through a batch operation, `size` records per call."""

    operation: str = Field(..., description="A write operation of kind `batch` taking {records: [...]}.")
    size: int = Field(100, ge=1, le=10000, description="Records per call.")
    result_key: str | None = Field(
        None,
        description="Dotted path in one batch result of the value that identifies its input record (its external id, e.g. `properties.crm_id`). "
        "Not needed when the operation answers record by record (its spec's `batch.ok`, e.g. Salesforce's sObject Collections).",
    )
    result_id: str = Field("id", description="Dotted path of the destination id in one batch result.")
    result_new: str | None = Field(
        None,
        description="Dotted path in one batch result that is true when the record was created and false when an existing one was "
        "updated (HubSpot's upsert: `new`); the run's created/updated counts then follow what the destination says.",
    )
    error_key: str | None = Field(
        None, description="Dotted path in one batch error of the external id (or list of them) it concerns; unacknowledged records fail either way."
    )
    update: str | None = Field(
        None,
        description="A batch operation for the records already paired (the ID map, match.id or match.lookup knows their counterpart): "
        "they are sent by their destination id (at `to.id`), `size` records per call, e.g. Salesforce's update_records; the others go "
        "through `operation`. It must answer record by record (its spec's `batch.ok`, or `batch.key` with `batch.result_key`). "
        "Default: every record goes through `operation`.",
    )
    update_input: dict[str, Any] | None = Field(
        None,
        description="With `update`: that call's input besides `records`, the same for every call (e.g. {type: Account}); default: `to.input`.",
    )


class Target(SpecModel):
    """Where a flow writes: an operation of the other side, and where ids go in its input."""

    side: Side = Field("destination", description="Which side to write to.")
    operation: str = Field(..., description="Write operation for records not written before (create or upsert).")
    update: str | None = Field(
        None,
        description="Operation for records the ID map already knows (default: `operation`). With `batch`, records go through `batch.operation` "
        "(paired ones through `batch.update` when set); this one then serves only `delete.policy: inactivate`.",
    )
    into: str = Field("", description="Input path the mapped fields go under (e.g. `payload`); '' puts them at the top of the input.")
    external_id: str | None = Field(None, description="Input path that receives the record's external id (e.g. `external_id`).")
    id: str | None = Field(
        None, description="Input path that receives the known destination id on updates and deletes (e.g. `record_id`; `Id` in an entry of `batch.update`)."
    )
    input: dict[str, Any] = Field(
        default_factory=dict,
        description="The operation's further input: merged into each call's input (templates over `record`, `source`, `target`), e.g. "
        "{record_type: customer}. With `batch`, the batch call's input besides `records`, the same for every call (e.g. "
        "{type: Account, external_id_field: NetSuite_Id__c}; templates see no record).",
    )
    modified: str | None = Field(None, description="Dotted path in a write result's body of the destination's new last-modified time, when it returns one.")
    batch: BatchTarget | None = Field(None, description="Write through a batch operation instead of one call per record.")
    write_back: WriteBack | None = Field(
        None, description="Write the new id back to the read side once a record is first paired (e.g. a netsuite_customer_id property on the CRM company)."
    )


class DestinationLookup(SpecModel):
    """Find records that already exist on the written side by their external id (first sync, interrupted creates)."""

    stream: str = Field(..., description="Stream of the written side, read once per run.")
    key: str = Field(..., description="Dotted path in its records of the external id.")
    id: str = Field("id", description="Dotted path in its records of the id to write to.")


class Match(SpecModel):
    """How a record finds its counterpart: the ID map first, then its external id, then `target`."""

    external_id: str = Field(
        ..., description="Template over `record` giving the external id written to the other side, derived from the source id (e.g. 'crm-{{ record.id }}')."
    )
    lookup: DestinationLookup | None = Field(None, description="Look existing records up on the written side by external id.")
    target: MappingRule | None = Field(
        None,
        description="A rule giving the id of the counterpart on the written side when the ID map does not know it, e.g. a deal id carried on an "
        "invoice, with a `fallback` rule (the customer's company's latest deal). Problems of the rule are the reason a record has no counterpart.",
    )
    id: str | None = Field(
        None,
        description="Template over `record` giving the counterpart's id on the written side when the record carries it (an id written back earlier, e.g. '{{ record.properties.netsuite_customer_id }}'); empty means unknown.",
    )
    missing: Literal["create", "skip", "fail"] = Field(
        "create",
        description="Records without a counterpart: create it; skip them (counted `skipped`), for flows that only update existing records; or fail "
        "them (dead letter with the reason, e.g. what `target` tried; retried each run). A flow whose operation can only update never creates: "
        "`create` then fails the record too.",
    )


class Lookup(SpecModel):
    """Replace a value by a field of the matching record of a stream (read once per run and cached)."""

    stream: str = Field(..., description="`side.stream`, e.g. `destination.subsidiaries`.")
    key: str = Field(..., description="Dotted path in the stream's records compared with the value; a list there (e.g. company_ids) matches each of its items.")
    value: str = Field(..., description="Dotted path in the matching record of the result ('' = the whole record).")
    filter: str | None = Field(None, description="Template over `record` (a record of the stream); records for which it is false are not candidates.")
    sort_by: str | None = Field(None, description="When several records match one key, take the one that comes first by this dotted path (see `order`); default the first read.")
    order: Literal["asc", "desc"] = Field("desc", description="With sort_by: desc takes the greatest (e.g. the most recent date), asc the smallest. Missing values come last.")
    all: bool = Field(
        False,
        description="Every matching record's value, as a list (read order, or by sort_by and order), instead of one: e.g. the line items of an "
        "Opportunity, for an `each` rule over `let`. Only the last lookup of a chain; a key without a match finds nothing.",
    )


class EachRule(SpecModel):
    """Build a list: one element per item of a list in the source record, each mapped by its own rules."""

    from_: str | None = Field(None, alias="from", description="Dotted path of a list in the source record, e.g. `line_items`.")
    template: str | None = Field(
        None, description="Instead of `from`: a template giving the list, e.g. \"{{ let.line_items }}\" (a `let` rule with a lookup `all: true`)."
    )
    mapping: dict[str, MappingRule] = Field(
        ..., description="Element field path → rule. `from` paths read the item; templates see `item`, `index` and the whole `record`."
    )
    filter: str | None = Field(None, description="Template over `item` (and `index`, `record`); items for which it is false are left out.")

    @model_validator(mode="after")
    def _one_list(self) -> EachRule:
        given = [name for name in ("from_", "template") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("`each` needs exactly one of from (a list in the record) or template (e.g. \"{{ let.lines }}\")")
        return self


class Rule(SpecModel):
    """How one destination field is computed. Exactly one of `from`, `template`, `const`, `each` or `items`."""

    from_: str | None = Field(None, alias="from", description="Dotted path in the source record.")
    template: str | None = Field(
        None, description="Template over `record`, `source`, `target` and `let`, e.g. \"{{ record.first ~ ' ' ~ record.last }}\"."
    )
    const: Any = Field(None, description="A constant value.")
    each: EachRule | None = Field(None, description="A list built from a list of the source record: one element per item, mapped by `each.mapping`.")
    items: list[dict[str, MappingRule]] | None = Field(
        None, description="A list of fixed length: one element per entry, each a mapping (field path → rule) over the record."
    )
    map: dict[str, Any] | None = Field(None, description="Value map applied to the value (keys compared as text); unmapped values fail unless `default` is set.")
    lookup: Lookup | list[Lookup] | None = Field(
        None, description="Replace the value by a field of a stream's matching record; a list of lookups is applied in turn (a chain)."
    )
    fallback: MappingRule | None = Field(
        None, description="Another rule, used when this one finds nothing: a missing, null or empty value, or a value not in `map` or `lookup`."
    )
    default: Any = Field(None, description="Used when the value is missing or null, or not in `map`.")
    type: ValueType | None = Field(None, description="Coerce the value to this type; a value that cannot be converted fails the record.")
    required: bool = Field(False, description="Fail the record when the final value is missing, null, empty text or an empty list.")

    @model_validator(mode="after")
    def _one_source(self) -> Rule:
        given = [name for name in ("from_", "template", "const", "each", "items") if name in self.model_fields_set]
        if len(given) != 1:
            names = ", ".join("from" if g == "from_" else g for g in given)
            raise ValueError(f"a rule needs exactly one of from, template, const, each or items, got {names or 'none'}")
        if given[0] in ("each", "items"):
            extra = [name for name in ("map", "lookup", "type") if name in self.model_fields_set]
            if extra:
                raise ValueError(f"a list rule ({given[0]}) builds a list: it cannot have {', '.join(extra)} (put them on the element rules)")
        lookups = self.lookups
        if any(lookup.all for lookup in lookups[:-1]):
            raise ValueError("only the last lookup of a chain may have `all: true` (a list of values is no key for the next one)")
        if lookups and lookups[-1].all and self.type is not None:
            raise ValueError("a lookup with `all: true` gives a list: the rule cannot have `type` (iterate it with `each` and type the element rules)")
        return self

    @property
    def lookups(self) -> list[Lookup]:
        """The rule's lookups in the order they apply."""
        if self.lookup is None:
            return []
        return list(self.lookup) if isinstance(self.lookup, list) else [self.lookup]


MappingRule = str | Rule


class Check(SpecModel):
    """A condition every mapped record must meet, else it fails with `message`."""

    that: str = Field(..., description="Template over `record`, `source`, `target`, `let` and `mapped` (the mapped fields); false fails the record.")
    message: str = Field(..., description="Template giving the reason recorded with the failed record (same values as `that`).")


class DeletePolicy(SpecModel):
    """What happens on the written side when a record disappears from the read side."""

    policy: Literal["ignore", "inactivate", "delete"] = Field("ignore", description="ignore: only count it; inactivate: write `inactivate_mapping`; delete: call `operation`.")
    detect: Literal["tombstone-stream", "missing"] = Field(
        ..., description="tombstone-stream: read deletions from `stream`; missing: ids absent from a full read of the flow's stream."
    )
    stream: str | None = Field(None, description="With tombstone-stream: the stream of deletions on the read side (e.g. deleted_records).")
    id: str = Field("id", description="Dotted path in a tombstone of the deleted record's id.")
    filter: str | None = Field(None, description="Template over `record` (a tombstone) that must be true, e.g. \"{{ record.recordtypeid == 'customer' }}\".")
    operation: str | None = Field(None, description="Operation of the written side for policy delete (kind delete), or for inactivate (default: the update operation).")
    inactivate_mapping: dict[str, MappingRule] = Field(default_factory=dict, description="Fields written to inactivate, e.g. {isInactive: {const: true}}.")
    max_share: float = Field(0.2, gt=0, le=1, description="Stop the run, deleting nothing, when more than this share of the mapped records would be deleted.")


class ConflictPolicy(SpecModel):
    """What wins when both sides changed a record."""

    policy: Literal["newest_wins", "owner"] = Field(..., description="newest_wins: the later modification wins; owner: each field is written only by its owner.")
    owners: dict[str, Literal["crm", "netsuite"]] = Field(
        default_factory=dict, description="With owner: destination field path → the system that owns it; fields not listed are written by both."
    )


class Flow(SpecModel):
    """One stream of one side written, record by record, to the other side."""

    name: str = Field(..., pattern=r"^[a-z][a-z0-9_\-]*$", description="Flow name, unique in the connection (used in state and status).")
    description: str | None = Field(None, description="What the flow is for.")
    from_: StreamRef = Field(..., alias="from", description="The stream read.")
    to: Target = Field(..., description="The operation written.")
    match: Match = Field(..., description="How records are matched with the other side.")
    mapping: dict[str, MappingRule] = Field(..., description="Destination field path (under `to.into`) → rule: a source path, or a rule mapping.")
    filter: str | None = Field(None, description="Template over `record`; records for which it is false are skipped.")
    let: dict[str, MappingRule] = Field(
        default_factory=dict,
        description="Named values computed per record before the mapping (rules, in order; each sees the earlier ones), not written; "
        "templates see them as `let.NAME`.",
    )
    checks: list[Check] = Field(default_factory=list, description="Conditions on the record and its mapped fields; a record that fails one is dead-lettered with the message.")
    skip_echoes: bool = Field(
        True,
        description="In bidirectional connections, skip records that are only our own write of the reverse flow (echoes). Set false for a flow "
        "that writes back fields the reverse flow never writes (e.g. the invoice number onto the deal that created the invoice).",
    )
    delete: DeletePolicy | None = Field(None, description="How deletions on the read side are handled (default: not detected).")
    conflict: ConflictPolicy | None = Field(None, description="Conflict policy for bidirectional syncs.")


class Connection(SpecModel):
    """A sync between two connectors."""

    name: str = Field(..., pattern=r"^[a-z][a-z0-9_\-]*$", description="Connection name, lower-case.")
    description: str | None = Field(None, description="What the connection is for.")
    source: Endpoint = Field(..., description="The first side (by convention the CRM).")
    destination: Endpoint = Field(..., description="The second side (by convention NetSuite).")
    direction: str = Field(
        "source→destination",
        description="crm→netsuite, netsuite→crm, source→destination, destination→source or bidirectional ('->' works too); flows must agree.",
    )
    schedule: str | None = Field(None, description="When `run-due` runs it: a cron expression ('*/15 * * * *') or 'every 15m'.")
    state: str | None = Field(None, description="Where the state lives: a SQLite file (relative to this file), sqlite:///PATH, or postgresql://USER@HOST:PORT/DATABASE (default: $CONNECTOR_CORE_STATE_URL, else .state/<name>.sqlite beside this file).")
    setup: list[SetupCall] = Field(default_factory=list, description="Idempotent calls made before the flows on every run (not in a dry run), e.g. ensure_properties.")
    flows: list[Flow] = Field(..., min_length=1, description="The flows, run in order.")

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip().lower().replace("->", "→").replace(" ", "")
        if text not in DIRECTIONS:
            raise ValueError(f"{value!r} is not a direction; expected one of {', '.join(DIRECTIONS)}")
        return text

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schedule(value)
        return value


__all__ = ["BatchTarget", "Check", "ConflictPolicy", "Connection", "DIRECTIONS", "DeletePolicy", "DestinationLookup", "EachRule", "Endpoint", "Flow", "Lookup", "MappingRule", "Match", "Role", "Rule", "SetupCall", "Side", "StreamRef", "Target", "ValueType", "WriteBack"]
