"""What an import could not carry over, each with where it is in the manifest and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["lost", "changed", "note"]


@dataclass(frozen=True)
class Finding:
    """One thing the converted spec does not do as the manifest did.

    ``lost``: left out of the spec; ``changed``: converted, but it behaves differently; ``note``: worth
    knowing, nothing to fix.
    """

    path: str
    what: str
    todo: str
    severity: Severity = "lost"

    def render(self) -> str:
        return f"  {self.severity}: {self.path}: {self.what}\n    do: {self.todo}"


@dataclass
class Report:
    """The findings of one import, in the order they were made, each reported once."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, path: str, what: str, todo: str, severity: Severity = "lost") -> None:
        finding = Finding(path, what, todo, severity)
        if finding not in self.findings:
            self.findings.append(finding)

    def needing_work(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "note"]

    def render(self) -> str:
        return "\n".join(f.render() for f in self.findings)


__all__ = ["Finding", "Report", "Severity"]
