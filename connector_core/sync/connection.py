"""Connection files: which two connectors a sync joins, its flows, field mappings and policies.

A connection file (YAML or JSON) names a ``source`` and a ``destination`` connector with their configs,
and a list of ``flows``. Each flow reads one stream of one side and writes each record, mapped, through
a write operation of the other side. ``specs/connection.schema.json`` is generated from the models here.

:func:`load_connection` validates the file against the models, then checks what the models cannot
(streams and operations exist, mapped fields exist in the operation's input schema, constants have the
declared type, templates compile) and reports every problem at once with ``file:line:col``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from connector_core.engine.documents import Document, PathKey, format_path, load_document
from connector_core.errors import SpecError
from connector_core.engine.interpolation import Interpolator
from connector_core.engine.loader import LoadedSpec, load_spec
from connector_core.plugins import Registry
from connector_core.engine.spec import SpecModel
from connector_core.engine.timeparse import parse_duration
from connector_core.engine.validation import suggest, validate_document

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


class SetupCall(SpecModel):
    """An idempotent call made at the start of every run, before the flows (e.g. create custom properties)."""

    side: Side = Field(..., description="Which side's connector.")
    operation: str = Field(..., description="Operation of that connector.")
    input: dict[str, Any] = Field(default_factory=dict, description="The operation's input.")


class BatchTarget(SpecModel):
    """Write records through a batch operation, `size` records per call."""

    operation: str = Field(..., description="A write operation of kind `batch` taking {records: [...]}.")
    size: int = Field(100, ge=1, le=10000, description="Records per call.")
    result_key: str = Field(
        ..., description="Dotted path in one batch result of the value that identifies its input record (its external id, e.g. `properties.crm_id`)."
    )
    result_id: str = Field("id", description="Dotted path of the destination id in one batch result.")
    error_key: str | None = Field(
        None, description="Dotted path in one batch error of the external id (or list of them) it concerns; unacknowledged records fail either way."
    )


class Target(SpecModel):
    """Where a flow writes: an operation of the other side, and where ids go in its input."""

    side: Side = Field("destination", description="Which side to write to.")
    operation: str = Field(..., description="Write operation for records not written before (create or upsert).")
    update: str | None = Field(None, description="Operation for records the ID map already knows (default: `operation`).")
    into: str = Field("", description="Input path the mapped fields go under (e.g. `payload`); '' puts them at the top of the input.")
    external_id: str | None = Field(None, description="Input path that receives the record's external id (e.g. `external_id`).")
    id: str | None = Field(None, description="Input path that receives the known destination id on updates and deletes (e.g. `record_id`).")
    input: dict[str, Any] = Field(
        default_factory=dict, description="Further input values (templates over `record`, `source`, `target`), e.g. {record_type: customer}."
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


class EachRule(SpecModel):
    """Build a list: one element per item of a list in the source record, each mapped by its own rules."""

    from_: str = Field(..., alias="from", description="Dotted path of a list in the source record, e.g. `line_items`.")
    mapping: dict[str, MappingRule] = Field(
        ..., description="Element field path → rule. `from` paths read the item; templates see `item`, `index` and the whole `record`."
    )
    filter: str | None = Field(None, description="Template over `item` (and `index`, `record`); items for which it is false are left out.")


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
    state: str | None = Field(None, description="SQLite state file (default: .state/<name>.sqlite beside this file).")
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


# -- schedules ---------------------------------------------------------------------------------------


def parse_schedule(text: str) -> Any:
    """An interval (``every 15m``) as a timedelta, or a validated cron expression string."""
    stripped = text.strip()
    if stripped.lower().startswith("every "):
        try:
            interval = parse_duration(stripped[6:].strip())
        except ValueError as exc:
            raise ValueError(f"{stripped!r}: {exc}") from None
        if interval.total_seconds() < 1:
            raise ValueError(f"{stripped!r}: the interval must be at least one second")
        return interval
    from croniter import croniter

    if not croniter.is_valid(stripped):
        raise ValueError(f"{stripped!r} is neither a cron expression ('*/15 * * * *') nor an interval ('every 15m')")
    return stripped


def next_due(schedule: str, last_start: dt.datetime | None) -> dt.datetime | None:
    """When a connection last started at ``last_start`` is next due (None: never ran, due now)."""
    if last_start is None:
        return None
    parsed = parse_schedule(schedule)
    if isinstance(parsed, dt.timedelta):
        return last_start + parsed
    from croniter import croniter

    result: dt.datetime = croniter(parsed, last_start).get_next(dt.datetime)
    return result


# -- loading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedConnection:
    """A validated connection with the specs of both sides and where its files are."""

    connection: Connection
    document: Document
    specs: dict[str, LoadedSpec]
    roles: dict[str, str]

    @property
    def path(self) -> Path:
        return self.document.path

    @property
    def name(self) -> str:
        return self.connection.name

    def state_path(self) -> Path:
        if self.connection.state:
            state = Path(self.connection.state).expanduser()
            return state if state.is_absolute() else self.path.parent / state
        return self.path.parent / ".state" / f"{self.connection.name}.sqlite"

    def endpoint(self, side: str) -> Endpoint:
        return self.connection.source if side == "source" else self.connection.destination

    def config_for(self, side: str) -> dict[str, Any] | Path | None:
        """The side's config, with relative paths (the file, or {file: ...} values) resolved beside this file."""
        config = self.endpoint(side).config
        base = self.path.parent
        if isinstance(config, str):
            path = Path(config).expanduser()
            return path if path.is_absolute() else base / path
        if config is None:
            return None
        return _absolute_file_refs(config, base)


def _absolute_file_refs(value: Any, base: Path) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "file" in value and isinstance(value["file"], str):
            path = Path(value["file"]).expanduser()
            return {"file": str(path if path.is_absolute() else base / path)}
        return {k: _absolute_file_refs(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_absolute_file_refs(v, base) for v in value]
    return value


def is_connection_document(doc: Document) -> bool:
    return isinstance(doc.data, dict) and bool({"source", "destination", "flows"} & set(doc.data))


def load_connection(path: str | Path, registry: Registry) -> LoadedConnection:
    """Load and fully check a connection file; raise SpecError listing every located problem."""
    doc = load_document(path)
    try:
        connection: Connection = validate_document(Connection, doc, "connection")
    except SpecError as exc:
        raise _without_shape_noise(exc) from None
    checker = _ConnectionChecker(doc, connection, registry)
    problems = checker.run()
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        raise SpecError(f"{doc.path}: invalid connection ({len(problems)} {noun})", problems=problems, spec_path=str(doc.path))
    return LoadedConnection(connection, doc, checker.specs, checker.roles)


def _without_shape_noise(exc: SpecError) -> SpecError:
    """A rule mapping with a problem also fails the plain-string form of the rule: report only the former."""
    located = [p.split(": expected a string, got a mapping", 1)[0] for p in exc.problems if ": expected a string, got a mapping" in p]
    noise = {prefix for prefix in located if sum(p.startswith(prefix + ": ") for p in exc.problems) > 1}
    kept = [p for p in exc.problems if not any(p.startswith(prefix + ": expected a string") for prefix in noise)]
    if len(kept) == len(exc.problems):
        return exc
    noun = "problem" if len(kept) == 1 else "problems"
    return SpecError(f"{exc.spec_path}: invalid connection ({len(kept)} {noun})", problems=kept, spec_path=exc.spec_path, hint=exc.hint)


def connection_schema() -> dict[str, Any]:
    from connector_core.engine.schema import SCHEMA_DIALECT, json_schema

    schema = json_schema(Connection)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://connector-core.dev/schemas/connection.schema.json",
        "title": "connector-core connection",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def other_side(side: str) -> str:
    return "destination" if side == "source" else "source"


class _ConnectionChecker:
    """The checks that need both connectors' specs."""

    def __init__(self, doc: Document, connection: Connection, registry: Registry) -> None:
        self.doc = doc
        self.connection = connection
        self.registry = registry
        self.problems: list[str] = []
        self.specs: dict[str, LoadedSpec] = {}
        self.roles: dict[str, str] = {}
        self.interpolator = Interpolator(registry.filters)

    def problem(self, at: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append(f"{self.doc.where(at, key=key)}: {format_path(at)}: {message}")

    def run(self) -> list[str]:
        base = self.doc.path.parent
        for side in ("source", "destination"):
            endpoint: Endpoint = getattr(self.connection, side)
            target = endpoint.connector
            if target not in self.registry.connectors and not Path(target).is_absolute():
                candidate = base / target
                if candidate.exists():
                    target = str(candidate)
            try:
                self.specs[side] = load_spec(target, self.registry)
            except SpecError as exc:
                detail = "; ".join([exc.message, *exc.problems[:3]]) + (f" ({exc.hint})" if exc.hint else "")
                self.problem((side, "connector"), f"cannot load connector {endpoint.connector!r}: {detail}")
                continue
            self.roles[side] = endpoint.role or ("netsuite" if self.specs[side].spec.name == "netsuite" else "crm")
        if len(self.specs) == 2 and self.roles["source"] == self.roles["destination"] and self.connection.direction.startswith(("crm", "netsuite")):
            self.problem(("direction",), f"both sides have role {self.roles['source']}; set `role` on one of them to use direction {self.connection.direction}")
        names: dict[str, int] = {}
        for index, flow in enumerate(self.connection.flows):
            if flow.name in names:
                self.problem(("flows", index, "name"), f"flow name '{flow.name}' is used twice (first by flows[{names[flow.name]}])")
            names.setdefault(flow.name, index)
            self.check_flow(("flows", index), flow)
        for index, call in enumerate(self.connection.setup):
            if call.side in self.specs:
                self.check_operation(("setup", index, "operation"), self.specs[call.side], call.operation, ("create", "upsert", "update", "batch", "action"))
        return self.problems

    # -- one flow ------------------------------------------------------------------------------------

    def check_flow(self, at: PathKey, flow: Flow) -> None:
        read_side, write_side = flow.from_.side, flow.to.side
        if read_side == write_side:
            self.problem((*at, "to", "side"), f"a flow must write to the other side than it reads (both are {read_side})")
            return
        direction = self.connection.direction
        if direction != "bidirectional" and self.roles.keys() >= {"source", "destination"}:
            allowed_from = direction.split("→")[0]
            role = self.roles[read_side] if allowed_from in ("crm", "netsuite") else read_side
            if role != allowed_from:
                self.problem((*at, "from", "side"), f"the connection's direction is {direction}, but this flow reads {read_side} ({self.roles[read_side]})")
        read_spec = self.specs.get(read_side)
        write_spec = self.specs.get(write_side)
        if read_spec is not None:
            self.check_stream((*at, "from", "stream"), read_spec, flow.from_.stream)
            if flow.delete and flow.delete.stream:
                self.check_stream((*at, "delete", "stream"), read_spec, flow.delete.stream)
        self.check_template((*at, "match", "external_id"), flow.match.external_id)
        if flow.match.id:
            self.check_template((*at, "match", "id"), flow.match.id)
        if flow.from_.group_by and read_spec is not None:
            grouped = read_spec.spec.streams.get(flow.from_.stream)
            if grouped is not None and grouped.cursor is not None:
                self.problem((*at, "from", "group_by"), f"group_by needs a stream read in full; '{flow.from_.stream}' is incremental (a group would hold only the changed records)")
        if flow.to.write_back is not None:
            if read_spec is not None:
                self.check_operation((*at, "to", "write_back", "operation"), read_spec, flow.to.write_back.operation, ("update", "upsert", "batch", "action"))
            for name, value in flow.to.write_back.input.items():
                self.check_template((*at, "to", "write_back", "input", name), value)
        if flow.filter:
            self.check_template((*at, "filter"), flow.filter)
        for name, value in flow.to.input.items():
            self.check_template((*at, "to", "input", name), value)
        input_schema: dict[str, Any] | None = None
        if write_spec is not None:
            kinds = ("create", "upsert", "update", "batch") if flow.to.batch else ("create", "upsert", "update")
            operation = self.check_operation((*at, "to", "operation"), write_spec, flow.to.operation, kinds)
            if operation is not None:
                input_schema = operation.input
            if flow.to.update:
                self.check_operation((*at, "to", "update"), write_spec, flow.to.update, ("update", "upsert", "action"))
            if flow.to.batch:
                batch_operation = self.check_operation((*at, "to", "batch", "operation"), write_spec, flow.to.batch.operation, ("batch",))
                if batch_operation is not None:
                    # each mapped record is one entry of the batch's `records`
                    items = ((batch_operation.input or {}).get("properties") or {}).get("records", {}).get("items")
                    input_schema = items if isinstance(items, dict) else None
            if flow.match.lookup:
                self.check_stream((*at, "match", "lookup", "stream"), write_spec, flow.match.lookup.stream)
        for field, rule in flow.mapping.items():
            self.check_rule((*at, "mapping", field), field, rule, input_schema, flow)
        for name, rule in flow.let.items():
            self.check_rule((*at, "let", name), name, rule, None, None)
        for index, check in enumerate(flow.checks):
            self.check_template((*at, "checks", index, "that"), check.that)
            self.check_template((*at, "checks", index, "message"), check.message)
        if flow.match.target is not None:
            self.check_rule((*at, "match", "target"), "target", flow.match.target, None, None)
        if flow.delete:
            self.check_delete((*at, "delete"), flow, write_spec, input_schema)
        if flow.conflict:
            if flow.conflict.policy == "owner" and not flow.conflict.owners:
                self.problem((*at, "conflict", "owners"), "policy owner needs `owners`: destination field → crm or netsuite")
            for field in flow.conflict.owners:
                if field not in flow.mapping:
                    guess = suggest(field, list(flow.mapping))
                    self.problem((*at, "conflict", "owners", field), f"'{field}' is not a mapped field" + (f"; did you mean '{guess}'?" if guess else ""), key=True)
            if flow.conflict.policy == "newest_wins" and read_spec is not None and not _modified_path(flow, read_spec):
                self.problem((*at, "conflict", "policy"), "newest_wins needs the record's modified time: set from.modified (the stream has no cursor field)")

    def check_stream(self, at: PathKey, loaded: LoadedSpec, stream: str) -> None:
        streams = loaded.spec.streams
        if stream not in streams:
            guess = suggest(stream, list(streams))
            hint = f"did you mean '{guess}'?" if guess else f"streams: {', '.join(streams) or '(none)'}"
            self.problem(at, f"connector '{loaded.spec.name}' has no stream '{stream}'; {hint}")

    def check_operation(self, at: PathKey, loaded: LoadedSpec, name: str, kinds: tuple[str, ...]) -> Any:
        operations = loaded.spec.operations
        if name not in operations:
            guess = suggest(name, list(operations))
            hint = f"did you mean '{guess}'?" if guess else f"operations: {', '.join(operations) or '(none)'}"
            self.problem(at, f"connector '{loaded.spec.name}' has no operation '{name}'; {hint}")
            return None
        operation = operations[name]
        if operation.kind not in kinds:
            self.problem(at, f"operation '{name}' is of kind {operation.kind}; expected {' or '.join(kinds)}")
        return operation

    def check_template(self, at: PathKey, value: Any) -> None:
        if isinstance(value, str):
            try:
                self.interpolator.compile(value, format_path(at))
            except SpecError as exc:
                self.problem(at, exc.message)

    def check_rule(
        self, at: PathKey, field: str, rule: MappingRule, input_schema: dict[str, Any] | None, flow: Flow | None, *, within: dict[str, Any] | None = None
    ) -> None:
        """Check one rule. ``within`` is the schema of a list element the field belongs to (for `each`/`items` rules)."""
        node: dict[str, Any] | None = None
        if input_schema is not None and (flow is not None or within is not None):
            if within is not None:
                problem = unknown_field(within, field, root=input_schema)
                node = None if problem else node_at(within, field, root=input_schema)
            else:
                assert flow is not None
                path = ".".join(p for p in (flow.to.into, field) if p)
                problem = unknown_field(input_schema, path)
                node = None if problem else node_at(input_schema, path)
            if problem:
                self.problem(at, problem, key=True)
        if isinstance(rule, str):
            return
        if rule.template is not None:
            self.check_template((*at, "template"), rule.template)
        if rule.each is not None or rule.items is not None:
            self.check_list_rule(at, field, rule, input_schema, node)
        if rule.type is not None:
            from connector_core.sync.mapping import CoercionError, coerce

            for key in ("const", "default"):
                if key in rule.model_fields_set and getattr(rule, key) is not None:
                    try:
                        coerce(getattr(rule, key), rule.type)
                    except CoercionError as exc:
                        self.problem((*at, key), f"{exc} (the rule's type)")
            for key, value in (rule.map or {}).items():
                try:
                    coerce(value, rule.type) if value is not None else None
                except CoercionError as exc:
                    self.problem((*at, "map", key), f"{exc} (the rule's type)")
        for index, lookup in enumerate(rule.lookups):
            where: PathKey = (*at, "lookup", index) if isinstance(rule.lookup, list) else (*at, "lookup")
            side, _, stream = lookup.stream.partition(".")
            if side not in ("source", "destination") or not stream:
                self.problem((*where, "stream"), f"{lookup.stream!r} must be side.stream, e.g. destination.subsidiaries")
            elif side in self.specs:
                self.check_stream((*where, "stream"), self.specs[side], stream)
            if lookup.filter:
                self.check_template((*where, "filter"), lookup.filter)
        if rule.fallback is not None:
            self.check_rule((*at, "fallback"), field, rule.fallback, None, None)

    def check_list_rule(self, at: PathKey, field: str, rule: Rule, input_schema: dict[str, Any] | None, node: dict[str, Any] | None) -> None:
        """A list rule: the destination field must take an array, and its element rules must fit the array's items."""
        element: dict[str, Any] | None = None
        if node is not None and input_schema is not None:
            types = node.get("type")
            kinds = set(types) if isinstance(types, list) else {types} if isinstance(types, str) else set()
            if kinds and "array" not in kinds:
                self.problem(at, f"field '{field}' is {' or '.join(sorted(kinds))} in the operation's input, but a list rule builds a list", key=True)
            items = node.get("items")
            element = _resolve_local(items, input_schema) if isinstance(items, dict) else None
        if rule.each is not None:
            if rule.each.filter:
                self.check_template((*at, "each", "filter"), rule.each.filter)
            for sub, sub_rule in rule.each.mapping.items():
                self.check_rule((*at, "each", "mapping", sub), sub, sub_rule, input_schema if element is not None else None, None, within=element)
        for index, entry in enumerate(rule.items or []):
            for sub, sub_rule in entry.items():
                self.check_rule((*at, "items", index, sub), sub, sub_rule, input_schema if element is not None else None, None, within=element)

    def check_delete(self, at: PathKey, flow: Flow, write_spec: LoadedSpec | None, input_schema: dict[str, Any] | None) -> None:
        delete = flow.delete
        assert delete is not None
        if delete.detect == "tombstone-stream" and not delete.stream:
            self.problem((*at, "detect"), "detect tombstone-stream needs `stream`: the read side's stream of deletions")
        if delete.filter:
            self.check_template((*at, "filter"), delete.filter)
        if delete.policy == "delete":
            if not delete.operation:
                self.problem((*at, "policy"), "policy delete needs `operation`: a delete operation of the written side")
            elif write_spec is not None:
                self.check_operation((*at, "operation"), write_spec, delete.operation, ("delete",))
        if delete.policy == "inactivate":
            if not delete.inactivate_mapping:
                self.problem((*at, "policy"), "policy inactivate needs `inactivate_mapping`, e.g. {isInactive: {const: true}}")
            if delete.operation and write_spec is not None:
                self.check_operation((*at, "operation"), write_spec, delete.operation, ("update", "upsert", "action"))
            for field, rule in delete.inactivate_mapping.items():
                self.check_rule((*at, "inactivate_mapping", field), field, rule, input_schema, flow)
        if delete.policy != "ignore" and not flow.to.id and not flow.to.external_id:
            self.problem((*at, "policy"), f"policy {delete.policy} needs to.id (or to.external_id) to say which record to change")


def _modified_path(flow: Flow, loaded: LoadedSpec) -> str | None:
    if flow.from_.modified:
        return flow.from_.modified
    stream = loaded.spec.streams.get(flow.from_.stream)
    cursor = stream.cursor if stream is not None else None
    if cursor is None:
        return None
    return cursor if isinstance(cursor, str) else cursor.field


def modified_path(flow: Flow, loaded: LoadedSpec) -> str | None:
    """The dotted path of a read record's last-modified time (from.modified, else the stream's cursor)."""
    return _modified_path(flow, loaded)


def unknown_field(schema: dict[str, Any], path: str, *, root: dict[str, Any] | None = None) -> str | None:
    """A message when ``path`` leaves an input JSON Schema that lists its properties; None when it fits.

    Objects that declare no ``properties`` (an opaque ``payload: {type: object}``) accept any field.
    ``root`` is the document local ``$ref``s resolve against (default: ``schema``).
    """
    root = schema if root is None else root
    node: Any = schema
    walked: list[str] = []
    for part in [p for p in path.split(".") if p]:
        if not isinstance(node, dict):
            return None
        node = _resolve_local(node, root)
        properties = node.get("properties")
        if part in (properties or {}):
            node = properties[part]
            walked.append(part)
            continue
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            node = extra
            walked.append(part)
            continue
        if not properties or extra is True:
            return None  # an opaque object, or one that explicitly takes any field
        where = ".".join(walked) or "the input"
        guess = suggest(part, list(properties))
        known = f"did you mean '{guess}'?" if guess else f"known: {', '.join(sorted(properties))}"
        return f"the operation's input has no field '{part}' in {where}; {known}"
    return None


def node_at(schema: dict[str, Any], path: str, *, root: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The schema of the field at ``path`` when the schema declares it; None inside opaque objects."""
    root = schema if root is None else root
    node: Any = _resolve_local(schema, root)
    for part in [p for p in path.split(".") if p]:
        if not isinstance(node, dict):
            return None
        properties = node.get("properties") or {}
        if part in properties:
            node = properties[part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
        node = _resolve_local(node, root) if isinstance(node, dict) else node
    return node if isinstance(node, dict) else None


def _resolve_local(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    for _ in range(10):
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node


__all__ = [
    "BatchTarget",
    "Check",
    "ConflictPolicy",
    "Connection",
    "DeletePolicy",
    "DestinationLookup",
    "EachRule",
    "Endpoint",
    "Flow",
    "LoadedConnection",
    "Lookup",
    "Match",
    "Rule",
    "SetupCall",
    "StreamRef",
    "Target",
    "WriteBack",
    "connection_schema",
    "is_connection_document",
    "load_connection",
    "modified_path",
    "next_due",
    "node_at",
    "other_side",
    "parse_schedule",
    "unknown_field",
]
