"""Bulk API 2.0 query jobs of one org: each job's fixed result rows and its state."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .errors import not_found
from .ids import canonical_id
from .settings import SalesforceSettings


@dataclass
class QueryJob:
    id: str
    operation: str
    object: str
    query: str
    created_by: str
    created: str
    api_version: str
    column_delimiter: str
    line_ending: str
    header: list[str]
    rows: list[list[str]]
    state: str = "UploadComplete"
    polls: int = 0

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.created,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }
        if self.state == "JobComplete":
            out.update({"numberRecordsProcessed": len(self.rows), "retries": 0, "totalProcessingTime": 250})
        return out


class BulkJobs:
    """Query jobs of one org."""

    def __init__(self, settings: SalesforceSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self.jobs: dict[str, QueryJob] = {}

    def add(self, job: QueryJob) -> None:
        with self._lock:
            self.jobs[job.id] = job

    def get(self, job_id: str) -> QueryJob:
        normal = canonical_id(job_id)
        with self._lock:
            job = self.jobs.get(normal) if normal else None
        if job is None:
            raise not_found("The requested resource does not exist")
        return job

    def remove(self, job_id: str) -> None:
        with self._lock:
            self.jobs.pop(job_id, None)

    def clear(self) -> None:
        with self._lock:
            self.jobs.clear()
