"""Per-record outcomes of batch writes: which input record succeeded, which failed, and why.

A batch API answers one request for many records, often with a partial success (HTTP 207): a list of
results and a list of errors, neither in input order once some inputs fail. A sync runner needs the
answer per input record (to save ids, to dead-letter rejections). :func:`match_outcomes` matches the
results and errors of one chunk to its records by key, from the templates of a
:class:`~connector_core.engine.spec.BatchSpec` (``key``, ``result_key``, ``error_keys``); without keys it
matches by position when the API answered every record, and otherwise leaves records unreported
(``ok`` None) rather than guess. :func:`positional_outcomes` serves APIs that answer every record in
input order, each entry with its own success flag (``BatchSpec.ok``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector_core.engine.spec import BatchSpec

Render = Callable[[Any, dict[str, Any], str], Any]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def record_keys(
    batch: BatchSpec, render: Render, records: list[Any], input_: dict[str, Any], where: str
) -> list[str | None]:
    """The key of each input record (None without ``batch.key``)."""
    if not batch.key:
        return [None] * len(records)
    keys: list[str | None] = []
    for record in records:
        value = render(batch.key, {"record": record, "input": input_}, f"{where}.key")
        keys.append(None if value in (None, "") else _text(value))
    return keys


def match_outcomes(
    batch: BatchSpec,
    render: Render,
    *,
    start: int,
    keys: list[str | None],
    status: int,
    results: list[Any],
    errors: list[tuple[Any, str]],
    input_: dict[str, Any],
    where: str,
) -> list[dict[str, Any]]:
    """Outcomes of one chunk's records (``start``: index of its first record in the whole input).

    Each outcome is ``{index, key, ok, status}`` plus ``result`` (success), or ``error`` and ``message``
    (failure); ``ok`` is None when the API said nothing about the record.
    """
    outcomes: list[dict[str, Any]] = [{"index": start + i, "key": key, "ok": None, "status": status} for i, key in enumerate(keys)]
    by_key: dict[str, list[dict[str, Any]]] = {}
    for outcome in outcomes:
        if outcome["key"] is not None:
            by_key.setdefault(outcome["key"], []).append(outcome)
    keyed = bool(by_key) and (batch.result_key or batch.error_keys)
    if keyed:
        if batch.result_key:
            for result in results:
                value = render(batch.result_key, {"result": result, "input": input_}, f"{where}.result_key")
                for outcome in by_key.get(_text(value), []) if value not in (None, "") else []:
                    outcome.update(ok=True, result=result)
        if batch.error_keys:
            for error, message in errors:
                found = render(batch.error_keys, {"error": error, "input": input_}, f"{where}.error_keys")
                for value in found if isinstance(found, list) else [found]:
                    for outcome in by_key.get(_text(value), []) if value not in (None, "") else []:
                        outcome.update(ok=False, error=error, message=message)
                        outcome.pop("result", None)
        unconfirmed = [o for o in outcomes if o["ok"] is None]
        if batch.result_key and not batch.error_keys and unconfirmed and errors:
            # The errors do not name their inputs. Paired in order when the counts agree (APIs report
            # errors in input order); otherwise every unconfirmed record carries all the messages.
            if len(unconfirmed) == len(errors):
                for outcome, (error, message) in zip(unconfirmed, errors, strict=True):
                    outcome.update(ok=False, error=error, message=message)
            else:
                joined = "; ".join(dict.fromkeys(message for _, message in errors))
                for outcome in unconfirmed:
                    outcome.update(ok=False, error=[error for error, _ in errors], message=joined)
    elif not errors and len(results) == len(outcomes):
        for outcome, result in zip(outcomes, results, strict=True):
            outcome.update(ok=True, result=result)
    elif not errors and not results and status < 300:
        for outcome in outcomes:
            outcome["ok"] = True
    elif len(errors) == 1 and not results and len(outcomes) == 1:
        outcomes[0].update(ok=False, error=errors[0][0], message=errors[0][1])
    return outcomes


def positional_outcomes(
    *, start: int, keys: list[str | None], status: int, entries: list[tuple[bool, Any, str | None]]
) -> list[dict[str, Any]]:
    """Outcomes of a chunk whose answer has one entry per record, in input order: ``(ok, entry, message)``.

    An answer with another number of entries than records is left unreported (``ok`` None): which entry
    belongs to which record could only be guessed.
    """
    outcomes: list[dict[str, Any]] = [{"index": start + i, "key": key, "ok": None, "status": status} for i, key in enumerate(keys)]
    if len(entries) != len(outcomes):
        return outcomes
    for outcome, (ok, entry, message) in zip(outcomes, entries, strict=True):
        if ok:
            outcome.update(ok=True, result=entry)
        else:
            outcome.update(ok=False, error=entry, message=message)
    return outcomes


def failed_chunk(
    start: int, keys: list[str | None], status: int | None, message: str, error: Any
) -> list[dict[str, Any]]:
    """Outcomes of a chunk the API rejected as a whole (``whole_chunk``: no record was judged on its own)."""
    return [
        {"index": start + i, "key": key, "ok": False, "status": status, "error": error, "message": message, "whole_chunk": True}
        for i, key in enumerate(keys)
    ]


__all__ = ["failed_chunk", "match_outcomes", "positional_outcomes", "record_keys"]
