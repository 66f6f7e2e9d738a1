"""``check`` over several streams (``check.streams``), and the spec's hints on a failed check.

Every listed stream is tried, even after one fails: a user fixing permissions wants the whole list of
what their role lacks at once, each failure with the hint the connector's author wrote for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connector_core.engine.reader import StreamReader
from connector_core.errors import ConnectorError, HTTPError

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession
    from connector_core.engine.spec import CheckSpec


@dataclass(frozen=True)
class StreamOutcome:
    """How one stream of the check went."""

    stream: str
    ok: bool
    records: int = 0
    error: str | None = None
    hint: str | None = None
    api: bool = False  # the failure came from the API or the network (not from the spec or config)

    def as_dict(self) -> dict[str, Any]:
        return {"stream": self.stream, "ok": self.ok, "records": self.records, "error": self.error, "hint": self.hint, "api": self.api}


def check_streams(connector: ConnectorSession, check: CheckSpec) -> tuple[bool, str, dict[str, Any]]:
    """Read the first page of each of ``check.streams``; ``(ok, message, details)``."""
    outcomes = [_try_stream(connector, item, check.hint, index) for index, item in enumerate(check.streams)]
    failed = [o for o in outcomes if not o.ok]
    lines = []
    for outcome in outcomes:
        if outcome.ok:
            lines.append(f"  ok      {outcome.stream}: answered, {outcome.records} record(s) on its first page")
        else:
            lines.append(f"  FAILED  {outcome.stream}: {outcome.error}")
            if outcome.hint:
                lines.append(f"          hint: {outcome.hint}")
    total = len(outcomes)
    if failed:
        head = f"{connector.name}: {len(failed)} of {total} check stream{'s' if total != 1 else ''} failed"
    else:
        head = f"{connector.name}: connection works ({total} stream{'s' if total != 1 else ''} answered)"
    return not failed, "\n".join([head, *lines]), {"streams": [o.as_dict() for o in outcomes]}


def _try_stream(connector: ConnectorSession, item: Any, default_hint: str | None, index: int) -> StreamOutcome:
    name = item if isinstance(item, str) else item.stream
    hint_template = default_hint if isinstance(item, str) or item.hint is None else item.hint
    where = f"check.streams[{index}].hint" if not isinstance(item, str) and item.hint is not None else "check.hint"
    try:
        count = sum(1 for _ in StreamReader(connector, name, None, limit=1, internal=True).records())
    except ConnectorError as exc:
        hint = render_hint(connector, hint_template, where)
        error = exc.message
        if exc.hint and not hint:
            hint = exc.hint
        elif exc.hint:
            error = f"{error} ({exc.hint})"
        return StreamOutcome(name, False, error=connector.redactor.text(error), hint=hint, api=isinstance(exc, HTTPError))
    return StreamOutcome(name, True, records=count)


def render_hint(connector: ConnectorSession, template: str | None, where: str) -> str | None:
    """A check hint, rendered over the config with its secrets masked."""
    if template is None:
        return None
    return str(connector.render_visible(template, {}, where))


def with_check_hint(connector: ConnectorSession, check: CheckSpec, exc: ConnectorError) -> ConnectorError:
    """The error of a failed single check with the spec's ``check.hint`` added to the error's own."""
    hint = render_hint(connector, check.hint, "check.hint")
    if hint:
        exc.hint = f"{hint}; {exc.hint}" if exc.hint else hint
    return exc


__all__ = ["StreamOutcome", "check_streams", "render_hint", "with_check_hint"]
