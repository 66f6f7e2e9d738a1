"""What every part of a conversion shares: the resolved manifest and the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector_core.cli.importers.airbyte.report import Report, Severity
from connector_core.cli.importers.airbyte.resolve import Resolved
from connector_core.cli.importers.airbyte.templates import Scope, Untranslatable, translate


@dataclass
class Conversion:
    resolved: Resolved
    report: Report

    def where(self, node: Any, fallback: str) -> str:
        """The manifest path of a component, for the report."""
        return self.resolved.origin(node) or fallback

    def lost(self, at: str, what: str, todo: str, severity: Severity = "lost") -> None:
        self.report.add(self.resolved.locate(at), what, todo, severity)

    def template(self, value: Any, scope: Scope, at: str, what: str) -> Any:
        """``value`` in our template names, or None (reported) when it cannot be said in them."""
        try:
            return translate(value, scope)
        except Untranslatable as exc:
            self.lost(at, f"{what} {_short(value)} was left out: {exc}", "write it by hand in the spec (docs/tutorial.md#templates)")
            return None


def _short(value: Any, limit: int = 90) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def custom_class(node: Any) -> str | None:
    """The Python class a custom component names (``class_name``), if it is one."""
    if isinstance(node, dict) and (str(node.get("type", "")).startswith("Custom") or "class_name" in node):
        return str(node.get("class_name") or node.get("type"))
    return None


__all__ = ["Conversion", "custom_class"]
