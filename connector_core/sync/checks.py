"""The checks of a connection file that need both connectors' specs.

Streams and operations exist, mapped fields exist in the operation's input schema, constants have the
declared type, templates compile; every problem is collected with its location, none stops the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from connector_core.engine.documents import Document, PathKey, format_path
from connector_core.engine.interpolation import Interpolator
from connector_core.engine.loader import LoadedSpec, load_spec
from connector_core.engine.registry import Registry
from connector_core.engine.validation import suggest
from connector_core.errors import SpecError
from connector_core.sync.models import Connection, Endpoint, Flow, MappingRule, Rule


class ConnectionChecker:
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
        for side in ("source", "destination"):
            self.check_secret_files((side, "config"), getattr(self.connection, side).config, base)
        if self.connection.state and "://" not in self.connection.state:
            state = Path(self.connection.state).expanduser()
            if (state if state.is_absolute() else base / state).is_dir():
                example = f"{self.connection.state.rstrip('/')}/{self.connection.name}.sqlite"
                self.problem(("state",), f"{self.connection.state!r} is a directory; `state` names the SQLite file, e.g. {example!r}")
        return self.problems

    def check_secret_files(self, at: PathKey, value: Any, base: Path) -> None:
        """A ``{file: PATH}`` value naming a directory, device or FIFO can never hold a secret (reading
        /dev/zero never ends): refused here, located. A missing file is left to the run (it may be
        mounted only where the sync runs)."""
        import stat

        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("file"), str):
            path = Path(value["file"]).expanduser()
            path = path if path.is_absolute() else base / path
            try:
                mode = path.stat().st_mode
            except OSError:
                return
            if not stat.S_ISREG(mode):
                kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
                self.problem((*at, "file"), f"secret file {value['file']!r} is {kind}; secrets are read from files")
        elif isinstance(value, dict):
            for key, child in value.items():
                self.check_secret_files((*at, key), child, base)
        elif isinstance(value, list):
            for index, child in enumerate(value):
                self.check_secret_files((*at, index), child, base)

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
            write_back = flow.to.write_back
            back_operation = None
            if read_spec is not None:
                back_operation = self.check_operation((*at, "to", "write_back", "operation"), read_spec, write_back.operation, ("update", "upsert", "batch", "action"))
            for name, value in write_back.input.items():
                self.check_template((*at, "to", "write_back", "input", name), value)
            if back_operation is not None and back_operation.kind == "batch":
                self.check_batch_input((*at, "to", "write_back", "batch_input"), write_back.operation, back_operation, write_back.batch_input)
            elif write_back.batch_input and back_operation is not None:
                self.problem(
                    (*at, "to", "write_back", "batch_input"),
                    f"batch_input is for a batch operation; '{write_back.operation}' is of kind {back_operation.kind}: put its values in write_back.input",
                )
        if flow.filter:
            self.check_template((*at, "filter"), flow.filter)
        if not flow.to.batch:
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
                    # each mapped record is one entry of the batch's `records`; to.input is the rest of the call's input
                    items = ((batch_operation.input or {}).get("properties") or {}).get("records", {}).get("items")
                    input_schema = items if isinstance(items, dict) else None
                    self.check_batch_input((*at, "to", "input"), flow.to.batch.operation, batch_operation, flow.to.input)
                    if flow.to.batch.result_key is None and not _answers_by_record(batch_operation):
                        self.problem(
                            (*at, "to", "batch"),
                            f"operation '{flow.to.batch.operation}' does not answer record by record (its spec has no batch.ok, nor batch.key with "
                            "batch.result_key): set to.batch.result_key, the path in one result of the external id it answers",
                        )
                self.check_batch_update(at, flow, write_spec)
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
            if flow.conflict.policy == "owner" and write_spec is not None and flow.match.lookup is None:
                self.check_owned_fields_survive_upserts(at, flow, write_spec)
            if flow.conflict.policy == "newest_wins" and read_spec is not None and not _modified_path(flow, read_spec):
                self.problem((*at, "conflict", "policy"), "newest_wins needs the record's modified time: set from.modified (the stream has no cursor field)")

    def check_owned_fields_survive_upserts(self, at: PathKey, flow: Flow, write_spec: LoadedSpec) -> None:
        """An upsert (or a batch, which may upsert) can land on a record that already exists even when this
        connection has never paired it (another connection, or a person, made it). The fields the other
        side owns are then written only if the runner can tell: it needs match.lookup."""
        assert flow.conflict is not None
        operation = write_spec.spec.operations.get(flow.to.operation)
        read_role = self.roles.get(flow.from_.side)
        others = sorted(field for field, owner in flow.conflict.owners.items() if owner != read_role)
        if operation is None or operation.kind not in ("upsert", "batch") or not others:
            return
        self.problem(
            (*at, "match"),
            f"to.operation '{flow.to.operation}' ({operation.kind}) can write onto a {flow.to.side} record that already exists, and "
            f"conflict.owners gives {', '.join(others)} to the other side: add match.lookup (the {flow.to.side} stream to look the "
            "external id up in) so an existing record is updated without those fields instead of overwritten",
        )

    def check_batch_update(self, at: PathKey, flow: Flow, write_spec: LoadedSpec) -> None:
        """to.batch.update: a batch operation that answers record by record, its fixed input, and entries (the mapped
        fields, the external id and the destination id at to.id) that fit its records."""
        batch = flow.to.batch
        assert batch is not None
        to: PathKey = (*at, "to")
        if batch.update is None:
            if batch.update_input is not None:
                message = "update_input is the input of to.batch.update's call: set to.batch.update too, or leave it out"
                self.problem((*to, "batch", "update_input"), message, key=True)
            return
        where: PathKey = (*to, "batch", "update")
        operation = self.check_operation(where, write_spec, batch.update, ("batch",))
        if not flow.to.id:
            self.problem(
                where,
                "to.batch.update sends each paired record by its destination id: set to.id, the path in one entry of `records` "
                "that receives it (e.g. Id)",
            )
        if operation is None or operation.kind != "batch":
            return
        if batch.update_input is not None:
            self.check_batch_input((*to, "batch", "update_input"), batch.update, operation, batch.update_input)
        else:
            hint = "to.batch.update_input gives that call its own input"
            self.check_batch_input((*to, "input"), batch.update, operation, flow.to.input, hint=hint)
        if not _answers_by_record(operation):
            self.problem(
                where,
                f"operation '{batch.update}' does not answer record by record (its spec has no batch.ok, nor batch.key with batch.result_key), "
                "so no paired record could be acknowledged",
            )
        items = ((operation.input or {}).get("properties") or {}).get("records", {}).get("items")
        if not isinstance(items, dict):
            return
        for key in ("id", "external_id"):
            path = getattr(flow.to, key)
            problem = unknown_field(items, path) if path else None
            if problem:
                self.problem((*to, key), f"{problem} (an entry of to.batch.update '{batch.update}')")
        for field in flow.mapping:
            problem = unknown_field(items, ".".join(p for p in (flow.to.into, field) if p))
            if problem:
                self.problem((*at, "mapping", field), f"{problem} (an entry of to.batch.update '{batch.update}')", key=True)

    def check_batch_input(self, at: PathKey, name: str, operation: Any, values: dict[str, Any], *, hint: str | None = None) -> None:
        """The fixed input of a batch call (besides `records`): known to the operation, what it requires given, no record in templates.
        ``hint`` ends the message about a key the operation does not take."""
        schema = operation.input or {}
        properties = schema.get("properties") or {}
        for key, value in values.items():
            if key == "records":
                self.problem((*at, key), "`records` is what the runner sends (the mapped records); leave it out", key=True)
            elif properties and key not in properties and schema.get("additionalProperties") is not True:
                guess = suggest(key, [k for k in properties if k != "records"])
                known = ", ".join(k for k in properties if k != "records") or "none besides records"
                message = f"operation '{name}' takes no input '{key}'" + (f"; did you mean '{guess}'?" if guess else f" (it takes: {known})")
                self.problem((*at, key), message + (f"; {hint}" if hint else ""), key=True)
            self.check_template((*at, key), value)
            if isinstance(value, str) and _mentions_record(value):
                self.problem((*at, key), "a batch call's input is the same for all its records: a template here sees no `record` (map per-record values instead)")
        missing = [key for key in schema.get("required") or [] if key != "records" and key not in values and "default" not in properties.get(key, {})]
        if missing:
            self.problem(at, f"operation '{name}' requires {', '.join(repr(k) for k in missing)} besides records: add {'it' if len(missing) == 1 else 'them'} here", key=True)

    def check_stream(self, at: PathKey, loaded: LoadedSpec, stream: str) -> None:
        streams = loaded.spec.streams
        if stream not in streams:
            guess = suggest(stream, list(streams))
            hint = f"did you mean '{guess}'?" if guess else f"streams: {', '.join(streams) or '(none)'}"
            self.problem(at, f"connector '{loaded.spec.name}' has no stream '{stream}'; {hint}")
        elif streams[stream].hidden:
            self.problem(at, f"stream '{stream}' of connector '{loaded.spec.name}' is hidden: it only feeds other streams' partitions, so no flow can read it")

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
            if rule.each.template is not None:
                self.check_template((*at, "each", "template"), rule.each.template)
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


def _answers_by_record(operation: Any) -> bool:
    """The batch operation's spec judges each record: `batch.ok`, or `batch.key` with `batch.result_key`."""
    spec_batch = operation.batch
    return spec_batch is not None and (spec_batch.ok is not None or (spec_batch.key is not None and spec_batch.result_key is not None))


def _mentions_record(source: str) -> bool:
    """The template reads `record` (a syntax error is reported by check_template, not here)."""
    try:
        return "record" in meta.find_undeclared_variables(jinja2.Environment().parse(source))
    except jinja2.TemplateSyntaxError:
        return False


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


__all__ = ["ConnectionChecker", "modified_path", "node_at", "unknown_field"]
