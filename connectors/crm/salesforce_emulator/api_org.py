"""Org-level resources: API versions, the version's resource list, and ``limits``."""

from __future__ import annotations

from werkzeug.wrappers import Request

from .call import Call, Reply

#: API versions served (Spring '14 to Winter '26), as ``/services/data/`` lists them.
VERSIONS = tuple(f"{major}.0" for major in range(30, 66))
_SEASONS = ("Winter", "Spring", "Summer")


def version_label(version: str) -> str:
    major = int(float(version))
    offset = major - 30  # v30.0 was Spring '14
    season = _SEASONS[(offset + 1) % 3]
    year = 14 + (offset + 1) // 3
    return f"{season} '{year:02d}"


def versions(request: Request) -> Reply:
    return Reply(
        200, [{"label": version_label(v), "url": f"/services/data/v{v}", "version": v} for v in VERSIONS]
    )


def resources(call: Call) -> Reply:
    base = call.data_path
    names = ["sobjects", "query", "queryAll", "limits", "composite", "jobs"]
    return Reply(200, {name: f"{base}/{name}" for name in names})


def limits(call: Call) -> Reply:
    usage = call.org.usage
    return Reply(200, {"DailyApiRequests": {"Max": usage.limit, "Remaining": usage.limit - usage.used()}})
