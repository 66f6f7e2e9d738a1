"""Running write operations and actions: input validation, idempotency, ids, batches."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from connector_core.engine.config import apply_defaults
from connector_core.engine.documents import format_path
from connector_core.engine.http import _UNSET, response_body
from connector_core.engine.outcomes import failed_chunk, match_outcomes, positional_outcomes, record_keys
from connector_core.engine.paths import get_path
from connector_core.engine.spec import BatchSpec, Operation, RetryPolicy
from connector_core.engine.timeparse import parse_duration
from connector_core.errors import AuthError, FatalHTTPError, OperationError

if TYPE_CHECKING:
    import requests

    from connector_core.engine.session import ConnectorSession


def _operation(connector: ConnectorSession, name: str) -> Operation:
    operations = connector.spec.operations
    if name not in operations:
        from connector_core.engine.validation import no_such

        raise no_such("operation", name, operations, f"connector '{connector.name}'")
    return operations[name]


def validate_input(operation_name: str, operation: Operation, payload: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """Apply the input schema's defaults and validate; every problem is listed with its path.

    Keys a schema closes out (``additionalProperties: false``) are refused with a did-you-mean; with
    ``strict``, so are keys an object schema listing its ``properties`` does not name, unless it allows
    other keys on purpose (see :func:`~connector_core.engine.validation.unknown_keys`).
    """
    import jsonschema  # imported on use: reads never need it, and it is a fifth of start-up

    from connector_core.engine.validation import unknown_keys

    payload = apply_defaults(operation.input, payload)
    validator = jsonschema.Draft202012Validator(operation.input)
    problems = [
        f"input{'.' + format_path(tuple(e.absolute_path)) if e.absolute_path else ''}: "
        + e.message.replace(" is a required property", " is required")
        for e in sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
        if e.validator != "additionalProperties" or not isinstance(e.schema, dict) or "properties" not in e.schema
    ]
    problems += unknown_keys(operation.input, payload, closed_by_default=strict)  # misspelt keys, with a did-you-mean
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


def repeatable(operation: Operation) -> bool:
    """Sending the write twice leaves the same result as once (upsert, update, delete, or an idempotency key).

    Such writes may run concurrently and be resent after an interrupted run; a plain create may not.
    """
    return operation.idempotency_key is not None or operation.kind in ("update", "upsert", "delete")


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


@contextmanager
def _debug_logging(enabled: bool) -> Iterator[None]:
    """Log this call's requests and responses (the HTTP client redacts them) even without --debug."""
    if not enabled:
        yield
        return
    logger = logging.getLogger("connector_core.engine.http")
    previous = logger.level
    handler: logging.Handler | None = None
    if not logger.hasHandlers():
        handler = logging.StreamHandler()
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.setLevel(previous)
        if handler is not None:
            logger.removeHandler(handler)


def _read_body(kind: str, response: requests.Response) -> Any:
    if kind == "none" or not response.content:
        return None
    if kind == "text":
        return response.text
    if kind == "binary":
        return {
            "content_base64": base64.b64encode(response.content).decode(),
            "content_type": response.headers.get("Content-Type"),
            "size": len(response.content),
        }
    return response_body(response)


def _retry_policy(connector: ConnectorSession, name: str, operation: Operation, values: dict[str, Any]) -> RetryPolicy | None:
    """The operation's own retry settings rendered over its input, or None for the connector's defaults."""
    retries = operation.retries
    if retries is None:
        return None
    rendered = connector.render(retries.model_dump(), values, f"operations.{name}.retries")
    try:
        attempts = max(1, int(rendered["attempts"]))
        delay = max(0.0, parse_duration(rendered["delay"] or 0).total_seconds())  # 2, '500ms', '1s' as everywhere
    except (TypeError, ValueError):
        raise OperationError(
            f"operation '{name}': retry settings need a whole number of attempts and a duration for delay (2, '500ms', '1s'), got {rendered}"
        ) from None
    exponential = _flag(rendered["exponential"])
    statuses = list(range(400, 600)) if _flag(rendered["on_all_errors"]) else list(connector.spec.defaults.retries.statuses)
    base = connector.spec.defaults.retries
    if exponential:
        return base.model_copy(update={"attempts": attempts, "statuses": statuses})
    return base.model_copy(update={"attempts": attempts, "statuses": statuses, "backoff": delay, "max_backoff": delay})


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return bool(value)


def _single(connector: ConnectorSession, name: str, operation: Operation, payload: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"input": payload, **(extra or {})}
    where = f"operations.{name}.request"
    args = connector.build_request(operation.request, values, where)
    if operation.idempotency_key is not None:
        key = connector.render(operation.idempotency_key.value, values, f"operations.{name}.idempotency_key.value")
        args.headers[operation.idempotency_key.header] = str(key)
    policy = _retry_policy(connector, name, operation, values)
    debug = _flag(connector.render(operation.debug, values, f"operations.{name}.debug"))
    with _debug_logging(debug):
        response = connector.http.send(
            args.method,
            args.path,
            params=args.params,
            headers=args.headers,
            json=args.json if args.has_json else _UNSET,
            data=args.data,
            files=args.files,
            timeout=args.timeout,
            retry=policy is not None or _retry_allowed(operation),
            retry_policy=policy,
            bucket=args.bucket,
            interpret=connector.interpreter(operation.errors, f"operations.{name}.errors") if operation.errors else None,
        )
    kind = connector.render(operation.response, values, f"operations.{name}.response")
    if kind not in ("json", "text", "binary", "none"):
        raise OperationError(f"operation '{name}': response type must be json, text, binary or none, got {kind!r}")
    body = _read_body(kind, response)
    result = {"status": response.status_code, "id": record_id(operation, response, body), "body": body}
    if operation.output is not None:
        context = {"input": payload, "response": {"status": response.status_code, "body": body, "headers": dict(response.headers)}, "record": result}
        return {**result, "output": connector.render_visible(operation.output, context, f"operations.{name}.output")}
    return result


def _batch(connector: ConnectorSession, name: str, operation: Operation, payload: dict[str, Any]) -> dict[str, Any]:
    assert operation.batch is not None
    records = payload.get("records")
    if not isinstance(records, list):
        raise OperationError(f"operation '{name}' is a batch: its input needs a 'records' list")
    batch = operation.batch
    size = batch.size
    successes: list[Any] = []
    failures: list[dict[str, Any]] = []
    per_record: list[dict[str, Any]] = []
    where = f"operations.{name}.batch"
    keys = record_keys(batch, connector.render_visible, records, payload, where)
    starts = range(0, len(records), size)

    def send(start: int) -> dict[str, Any] | FatalHTTPError:
        chunk = records[start : start + size]
        items = chunk if batch.item is None else [connector.render(batch.item, {"record": r, "input": payload}, f"{where}.item") for r in chunk]
        try:
            return _single(connector, name, operation, {**payload, "records": chunk}, {"items": items})
        except FatalHTTPError as exc:
            if isinstance(exc, AuthError):
                raise  # every other chunk would be refused too
            return exc

    for start, outcome in zip(starts, _send_chunks(connector, operation, keys, starts, send), strict=True):
        chunk = records[start : start + size]
        chunk_keys = keys[start : start + size]
        if isinstance(outcome, FatalHTTPError):
            # The API rejected the whole chunk: each of its records failed, the other chunks go on.
            failures.extend({"message": outcome.message, "error": outcome.body, "index": start + i, "record": record} for i, record in enumerate(chunk))
            per_record.extend(failed_chunk(start, chunk_keys, outcome.status, outcome.message, outcome.body))
            continue
        body = outcome["body"]
        found = get_path(body, batch.results) if isinstance(body, dict | list) else None
        chunk_results = found if isinstance(found, list) else [] if found is None else [found]
        if batch.ok is not None:
            per_record.extend(_in_order(connector, batch, payload, start, chunk_keys, outcome["status"], chunk_results, successes, failures, where))
            continue
        successes.extend(chunk_results)
        errors = get_path(body, batch.errors) if batch.errors and isinstance(body, dict | list) else None
        chunk_errors: list[tuple[Any, str]] = []
        for error in errors if isinstance(errors, list) else [] if errors is None else [errors]:
            if batch.error_message == _DEFAULT_ERROR_MESSAGE:
                message = _error_text(error)  # the default template, without a render per failure
            else:
                message = connector.render_visible(batch.error_message, {"error": error, "input": payload}, f"{where}.error_message")
            failures.append({"message": str(message), "error": error})
            chunk_errors.append((error, str(message)))
        per_record.extend(
            match_outcomes(
                batch, connector.render_visible, start=start, keys=chunk_keys, status=outcome["status"],
                results=chunk_results, errors=chunk_errors, input_=payload, where=where,
            )
        )
    return {"results": successes, "errors": failures, "requests": len(starts), "records": per_record}


def _in_order(
    connector: ConnectorSession, batch: BatchSpec, payload: dict[str, Any], start: int, keys: list[str | None], status: int,
    entries: list[Any], successes: list[Any], failures: list[dict[str, Any]], where: str,
) -> list[dict[str, Any]]:
    """Outcomes of a chunk answered entry by entry in input order, each judged by ``batch.ok``."""
    judged: list[tuple[bool, Any, str | None]] = []
    for entry in entries:
        ok = connector.render_visible(batch.ok, {"result": entry, "input": payload}, f"{where}.ok")
        if _truthy(ok):
            successes.append(entry)
            judged.append((True, entry, None))
            continue
        if batch.error_message == _DEFAULT_ERROR_MESSAGE:
            message = _error_text(entry)
        else:
            message = str(connector.render_visible(batch.error_message, {"error": entry, "input": payload}, f"{where}.error_message"))
        failures.append({"message": message, "error": entry})
        judged.append((False, entry, message))
    return positional_outcomes(start=start, keys=keys, status=status, entries=judged)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"", "false", "0", "no", "none"}
    return bool(value)


def _send_chunks(
    connector: ConnectorSession,
    operation: Operation,
    keys: list[str | None],
    starts: range,
    send: Callable[[int], dict[str, Any] | FatalHTTPError],
) -> list[dict[str, Any] | FatalHTTPError]:
    """Each chunk's outcome, in input order. The chunks go out together (up to the connector's
    concurrency) when the operation may be resent and no record appears twice by its key, so a chunk
    waiting out a retry holds up none of the others; otherwise one after the other."""
    workers = min(connector.governor.concurrency, len(starts))
    known = [key for key in keys if key is not None]
    if workers < 2 or not _retry_allowed(operation) or len(known) < len(keys) or len(set(known)) < len(known):
        return [send(start) for start in starts]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{connector.name}-chunk") as pool:
        futures = [pool.submit(send, start) for start in starts]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


_DEFAULT_ERROR_MESSAGE = BatchSpec.model_fields["error_message"].default


def _error_text(error: Any) -> str:
    if isinstance(error, dict) and error.get("message") is not None:
        return str(error["message"])
    return str(error)


def run_operation(connector: ConnectorSession, name: str, payload: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """Run one operation; the result holds status, id and body (or results/errors for a batch).
    ``strict``: refuse input keys the input schema does not list (:func:`validate_input`)."""
    operation = _operation(connector, name)
    payload = validate_input(name, operation, payload, strict=strict)
    if operation.kind == "batch":
        return _batch(connector, name, operation, payload)
    return _single(connector, name, operation, payload)


__all__ = ["record_id", "repeatable", "run_operation", "validate_input"]
