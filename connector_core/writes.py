"""Running write operations and actions: input validation, idempotency, ids, batches."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import jsonschema

from connector_core.config import apply_defaults
from connector_core.documents import format_path
from connector_core.errors import OperationError, SpecError
from connector_core.http import response_body
from connector_core.paths import get_path
from connector_core.spec import Operation

if TYPE_CHECKING:
    import requests

    from connector_core.connector import Connector


def _operation(connector: Connector, name: str) -> Operation:
    operations = connector.spec.operations
    if name not in operations:
        from connector_core.validation import suggest

        guess = suggest(name, list(operations))
        raise SpecError(
            f"connector '{connector.name}' has no operation '{name}'",
            hint=f"did you mean '{guess}'?" if guess else f"operations: {', '.join(operations) or '(none)'}",
        )
    return operations[name]


def validate_input(operation_name: str, operation: Operation, payload: dict[str, Any]) -> dict[str, Any]:
    """Apply the input schema's defaults and validate; every problem is listed with its path."""
    payload = apply_defaults(operation.input, payload)
    validator = jsonschema.Draft202012Validator(operation.input)
    problems = [
        f"{format_path(tuple(e.absolute_path))}: {e.message}"
        for e in sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        raise OperationError(f"invalid input for operation '{operation_name}':\n  " + "\n  ".join(problems))
    return payload


def _retry_allowed(operation: Operation) -> bool:
    if operation.retry is not None:
        return operation.retry
    if operation.idempotency_key is not None:
        return True
    if operation.kind in ("update", "upsert", "delete"):
        return True
    if operation.kind == "action":
        return operation.request.method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
    return False


def record_id(operation: Operation, response: requests.Response, body: Any) -> str | None:
    """The id of the written record, from a header (last URL segment) or a body path."""
    if operation.id is None:
        return None
    if operation.id.header:
        value = response.headers.get(operation.id.header)
        if value:
            return value.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if operation.id.path and isinstance(body, dict | list):
        found = get_path(body, operation.id.path)
        return None if found is None else str(found)
    return None


def _read_body(operation: Operation, response: requests.Response) -> Any:
    if operation.response == "none" or not response.content:
        return None
    if operation.response == "text":
        return response.text
    if operation.response == "binary":
        return {
            "content_base64": base64.b64encode(response.content).decode(),
            "content_type": response.headers.get("Content-Type"),
            "size": len(response.content),
        }
    return response_body(response)


def _single(connector: Connector, name: str, operation: Operation, payload: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"input": payload}
    where = f"operations.{name}.request"
    args = connector.build_request(operation.request, values, where)
    if operation.idempotency_key is not None:
        key = connector.render(operation.idempotency_key.value, values, f"operations.{name}.idempotency_key.value")
        args.headers[operation.idempotency_key.header] = str(key)
    response = connector.send(args, retry=_retry_allowed(operation))
    body = _read_body(operation, response)
    result = {"status": response.status_code, "id": record_id(operation, response, body), "body": body}
    if operation.output is not None:
        context = {"input": payload, "response": {"status": response.status_code, "body": body, "headers": dict(response.headers)}, "record": result}
        return {**result, "output": connector.render(operation.output, context, f"operations.{name}.output")}
    return result


def _batch(connector: Connector, name: str, operation: Operation, payload: dict[str, Any]) -> dict[str, Any]:
    assert operation.batch is not None
    records = payload.get("records")
    if not isinstance(records, list):
        raise OperationError(f"operation '{name}' is a batch: its input needs a 'records' list")
    size = operation.batch.size
    successes: list[Any] = []
    failures: list[dict[str, Any]] = []
    requests_made = 0
    for start in range(0, len(records), size):
        chunk = records[start : start + size]
        outcome = _single(connector, name, operation, {**payload, "records": chunk})
        requests_made += 1
        body = outcome["body"]
        successes.extend(get_path(body, operation.batch.results) or [] if isinstance(body, dict) else [])
        errors = get_path(body, operation.batch.errors) if operation.batch.errors and isinstance(body, dict) else None
        for error in errors or []:
            message = connector.render(operation.batch.error_message, {"error": error, "input": payload}, f"operations.{name}.batch.error_message")
            failures.append({"message": str(message), "error": error})
    return {"results": successes, "errors": failures, "requests": requests_made}


def run_operation(connector: Connector, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one operation; the result holds status, id and body (or results/errors for a batch)."""
    operation = _operation(connector, name)
    payload = validate_input(name, operation, payload)
    if operation.kind == "batch":
        return _batch(connector, name, operation, payload)
    return _single(connector, name, operation, payload)


__all__ = ["record_id", "run_operation", "validate_input"]
