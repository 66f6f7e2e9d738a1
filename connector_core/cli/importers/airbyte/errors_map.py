"""Airbyte error handlers as connector-core retries (`defaults.retries`) and error rules (`errors`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector_core.cli.importers.airbyte.context import Conversion, custom_class
from connector_core.cli.importers.airbyte.templates import RESPONSE, Scope

HOOK = "write an error interpreter plugin (docs/plugins.md#an-error-interpreter)"
_ACTIONS = {"IGNORE": "ignore", "FAIL": "fail", "RETRY": "retry", "RATE_LIMITED": "retry"}


@dataclass
class ErrorHandling:
    """Retry settings and error rules gathered from every requester's error handler."""

    retries: dict[str, Any] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)

    def add(self, node: Any, conv: Conversion, fallback: str) -> None:
        if not isinstance(node, dict):
            return
        at = conv.where(node, fallback)
        if custom_class(node):
            conv.lost(at, f"custom error handler {custom_class(node)} is not converted: connector-core's default retries apply", HOOK)
            return
        if node.get("type") == "CompositeErrorHandler":
            for i, inner in enumerate(node.get("error_handlers") or []):
                self.add(inner, conv, f"{at}.error_handlers[{i}]")
            return
        self._retries(node, conv, at)
        for i, response_filter in enumerate(node.get("response_filters") or []):
            self._rule(response_filter, conv, conv.where(response_filter, f"{at}.response_filters[{i}]"))

    def _set(self, key: str, value: Any, conv: Conversion, at: str) -> None:
        if key in self.retries and self.retries[key] != value:
            conv.lost(at, f"{key} {value!r} differs from another requester's ({self.retries[key]!r}); connector-core has one retry "
                      "policy per connector, the first is kept", "choose one in defaults.retries", "changed")
            return
        self.retries[key] = value

    def _retries(self, node: dict[str, Any], conv: Conversion, at: str) -> None:
        retries = node.get("max_retries")
        if isinstance(retries, int):
            self._set("attempts", max(1, min(retries + 1, 20)), conv, at)
        elif retries is not None:
            conv.lost(f"{at}.max_retries", f"max_retries {retries!r} is a template; the default of 5 attempts is used",
                      "set defaults.retries.attempts", "changed")
        for i, strategy in enumerate(node.get("backoff_strategies") or []):
            s_at = conv.where(strategy, f"{at}.backoff_strategies[{i}]")
            kind = strategy.get("type") if isinstance(strategy, dict) else None
            if kind == "ExponentialBackoffStrategy" and isinstance(strategy.get("factor", 5), int | float):
                self._set("backoff", float(strategy.get("factor", 5)), conv, s_at)
            elif kind == "ConstantBackoffStrategy" and isinstance(strategy.get("backoff_time_in_seconds"), int | float):
                seconds = float(strategy["backoff_time_in_seconds"])
                self._set("backoff", seconds, conv, s_at)
                self._set("max_backoff", seconds, conv, s_at)
            elif kind in ("WaitTimeFromHeader", "WaitUntilTimeFromHeader") and not strategy.get("regex"):
                header = str(strategy.get("header", ""))
                if header.lower() != "retry-after":
                    unit = "seconds" if kind == "WaitTimeFromHeader" else "epoch"
                    self._set("reset", {"header": header, "unit": unit}, conv, s_at)
                if isinstance(strategy.get("max_waiting_time_in_seconds"), int | float):
                    self._set("max_wait", float(strategy["max_waiting_time_in_seconds"]), conv, s_at)
            else:
                conv.lost(s_at, f"backoff strategy {kind or custom_class(strategy)!r} is not converted: connector-core's exponential backoff applies",
                          "set defaults.retries by hand (docs/spec-reference.md#retrypolicy)", "changed")

    def _rule(self, node: Any, conv: Conversion, at: str) -> None:
        if not isinstance(node, dict):
            return
        action = str(node.get("action", "")).upper()
        codes = [int(c) for c in node.get("http_codes") or []]
        scope = Scope(allowed=RESPONSE, params=conv.resolved.params(node), response_body=True)
        rule: dict[str, Any] = {}
        if codes:
            rule["status"] = codes if len(codes) > 1 else codes[0]
        if node.get("error_message_contains"):
            rule["contains"] = str(node["error_message_contains"])
        if node.get("predicate"):
            when = conv.template(node["predicate"], scope, f"{at}.predicate", "predicate")
            if when is None:
                return
            rule["when"] = when
        if not rule:
            conv.lost(at, "a response filter that matches nothing in particular is left out", "nothing to do", "note")
            return
        if action in ("RETRY", "RATE_LIMITED") and set(rule) == {"status"}:
            statuses = self.retries.setdefault("statuses", [429, 500, 502, 503, 504])
            statuses.extend(c for c in codes if c not in statuses)
            return
        if action not in _ACTIONS:
            conv.lost(at, f"response filter action {action!r} has no connector-core equivalent", HOOK)
            return
        rule["action"] = _ACTIONS[action]
        if node.get("error_message"):
            message = conv.template(node["error_message"], scope, f"{at}.error_message", "error_message")
            if message is not None:
                rule["message"] = message
        if node.get("failure_type") == "config_error":
            rule["hint"] = "check the connector's settings (config)"
        if rule not in self.rules:
            self.rules.append(rule)


__all__ = ["ErrorHandling"]
