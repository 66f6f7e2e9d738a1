"""An Airbyte ``AsyncRetriever`` as a stream's ``export`` job (docs/exports.md#export-jobs).

The creation request becomes the stream's request; the polling request becomes ``export.poll``, where
Airbyte's reference to the creation reply (``creation_response['id']``, or the older
``stream_slice['create_job_response'].json()['id']``) is the job's id, ``{{ job.id }}``; the status
extractor and ``status_mapping`` give ``poll.status``, ``done`` and ``failed``; the download target
extractor lists the files, each downloaded from ``{{ file }}`` (Airbyte's ``download_target`` /
``stream_slice['url']``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connector_core.cli.importers.airbyte.context import Conversion, custom_class
from connector_core.cli.importers.airbyte.templates import REQUEST, Scope

EXPORT_DOC = "write `export` by hand (docs/exports.md#export-jobs)"
_CREATED = re.compile(
    r"(?:creation_response|stream_slice\s*(?:\[\s*['\"]create_job_response['\"]\s*\]|\.create_job_response)\s*\.json\(\))"
    r"\s*(?:\[\s*['\"](\w+)['\"]\s*\]|\.(\w+))"
)
_POLLED = re.compile(r"polling_response\s*(?:\[\s*['\"](\w+)['\"]\s*\]|\.(\w+))")
_TARGET = re.compile(r"download_target|stream_slice\s*(?:\[\s*['\"]url['\"]\s*\]|\.url)")


@dataclass
class ExportParts:
    """The ``export`` of a stream, the creation requester (the stream's request) and the download decoder."""

    export: dict[str, Any]
    creation: dict[str, Any]
    decoder: Any


def convert_async(retriever: dict[str, Any], conv: Conversion, at: str) -> ExportParts | None:
    creation, polling, download = (retriever.get(k) for k in ("creation_requester", "polling_requester", "download_requester"))
    if not all(isinstance(r, dict) for r in (creation, polling, download)):
        conv.lost(at, "an AsyncRetriever without creation, polling and download requesters: the stream is left out", EXPORT_DOC)
        return None
    assert isinstance(creation, dict) and isinstance(polling, dict) and isinstance(download, dict)
    for key in ("download_target_requester", "download_paginator", "abort_requester", "delete_requester", "partition_router"):
        if retriever.get(key):
            conv.lost(f"{at}.{key}", f"{key} is not converted", EXPORT_DOC, "changed")
    id_keys: set[str] = set()
    poll_path = _job_refs(str(conv.resolved.field(polling, "path") or ""), id_keys)
    scope = Scope(allowed=REQUEST | {"job", "file"}, params=conv.resolved.params(polling))
    poll_request = conv.template(poll_path, scope, f"{conv.where(polling, at + '.polling_requester')}.path", "polling path")
    status = _path(retriever.get("status_extractor"))
    mapping = retriever.get("status_mapping") or {}
    if poll_request is None or not status or not mapping.get("completed"):
        conv.lost(at, "the job's polling request, status path or completed statuses could not be converted: the stream is left out", EXPORT_DOC)
        return None
    if len(id_keys) > 1:
        conv.lost(at, f"the job is named by several fields of the creation reply ({', '.join(sorted(id_keys))}): only the first is used", EXPORT_DOC)
    export: dict[str, Any] = {
        "id": {"path": sorted(id_keys)[0] if id_keys else "id"},
        "poll": {"request": {"path": "/" + str(poll_request).lstrip("/")}, "status": status, "done": list(mapping["completed"])},
        "download": {},
    }
    failed = [*(mapping.get("failed") or []), *(mapping.get("timeout") or [])]
    if failed:
        export["poll"]["failed"] = failed
    if isinstance(retriever.get("polling_job_timeout"), int | float):
        export["poll"]["timeout"] = float(retriever["polling_job_timeout"]) * 60
    files = _path(retriever.get("download_target_extractor") or retriever.get("urls_extractor"))
    if files:
        export["download"]["files"] = files
    download_path = str(conv.resolved.field(download, "path") or conv.resolved.field(download, "url") or "")
    if _TARGET.fullmatch(download_path.replace("{{", "").replace("}}", "").strip()):
        export["download"]["url"] = "{{ file }}"
        conv.lost(f"{at}.download_requester", "the files are downloaded from the URLs the job lists, which must be on the connector's host "
                  "(credentials never go elsewhere), where Airbyte fetches them from anywhere", "check where the API puts its files", "changed")
    else:
        path = conv.template(_job_refs(download_path, id_keys), scope, f"{at}.download_requester.path", "download path")
        if path is None:
            return None
        export["download"]["request"] = {"path": "/" + str(path).lstrip("/")}
    for name, requester in (("polling", polling), ("download", download)):
        if custom_class(requester):
            conv.lost(f"{at}.{name}_requester", f"custom requester {custom_class(requester)}: only its path is read", EXPORT_DOC)
    return ExportParts(export, creation, retriever.get("download_decoder"))


def _job_refs(template: str, id_keys: set[str]) -> str:
    """Airbyte's references to the creation and polling replies, in the names export templates see."""

    def created(match: re.Match[str]) -> str:
        id_keys.add(match.group(1) or match.group(2))
        return "job.id"

    template = _CREATED.sub(created, template)
    template = _POLLED.sub(lambda m: f"job.status.{m.group(1) or m.group(2)}", template)
    return _TARGET.sub("file", template)


def _path(extractor: Any) -> str | None:
    if not isinstance(extractor, dict) or custom_class(extractor):
        return None
    steps = extractor.get("field_path") or []
    return ".".join(str(s) for s in steps) or None


__all__ = ["ExportParts", "convert_async"]
