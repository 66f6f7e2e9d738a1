"""Reading a stream through an asynchronous export job: create, poll, download, decode as it arrives.

The stream's ``request`` creates the job; ``export.poll`` is repeated (waits growing by ``backoff`` up to
``max_interval``, the whole bounded by ``timeout``) until the job's status is ``done``, or fails with the
API's message when it is ``failed``; then each result file (``download.files``, or the one
``download.request``) is fetched as a streamed response and its records decoded one by one
(:func:`~connector_core.engine.decoders.stream_records`), page after page while ``download.next`` finds
a token; ``export.cast`` types their values by the stream's schema (:mod:`~connector_core.engine.export_cast`).
A ``download.url`` on a host ``download.hosts`` lists (pre-signed links, e.g. on S3) is fetched
by a plain client of that host: no auth, no connector headers, query or cookies. The reader gets the
records in small batches, as from pages, so cursors, partitions, filters and transforms apply unchanged;
at most one batch and one network buffer are in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from http.client import IncompleteRead
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import requests
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from connector_core.engine.decoders import as_decoder, stream_records
from connector_core.engine.export_cast import export_cast
from connector_core.engine.governance import Governor
from connector_core.engine.http import HttpClient, effective_policy, network_reason, response_body
from connector_core.engine.paths import get_path
from connector_core.engine.spec import Decoder, ExportDownload, ExportJob, ExportPoll, ExportSize, IdFrom
from connector_core.engine.urls import (
    check_transport,
    host_listed,
    host_pattern_problem,
    redact_url,
    same_origin,
)
from connector_core.errors import (
    ConfigError,
    ConnectorError,
    HTTPError,
    PaginationLoopError,
    RetriableHTTPError,
)

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession, RequestArgs

log = logging.getLogger("connector_core.engine.exports")

#: Records handed to the reader at a time: small enough that the first arrive while the file downloads.
BATCH = 500


def export_pages(
    connector: ConnectorSession, stream_name: str, stream: Any, values: dict[str, Any], records_path: str, *, spread: bool = False
) -> Iterator[list[Any]]:
    """The records of one export (one partition's), in batches; ``values`` are the request's template names.
    ``records_path`` is the records path up to a wildcard, if any (``spread``: there is one)."""
    export: ExportJob = stream.export
    where = f"streams.{stream_name}"
    cast = export_cast(connector, stream_name, stream)  # first: a schema that cannot be fetched starts no job
    if export.create is not None:
        job = _create(connector, where, export.create, f"{where}.export.create", values, export.id)
    else:
        job = _create(connector, where, stream.request, f"{where}.request", values, export.id)
    job["status"] = _poll(connector, f"{where}.export.poll", export.poll, {**values, "job": job}, job["id"])
    decoder = as_decoder(export.decoder if export.decoder is not None else stream.decoder)
    context = {**values, "job": job}
    hosts = _Hosts(connector, ("streams", stream_name, "export", "download"), export.download)
    try:
        for file in _files(export.download, job):
            batch: list[Any] = []
            for download in _downloads(connector, hosts, {**context, "file": file}):
                for record in download.records(decoder, records_path, spread):
                    batch.append(record if cast is None else cast(record))
                    if len(batch) >= BATCH:
                        yield _enriched(connector, stream_name, stream, batch, values)
                        batch = []
            if batch:
                yield _enriched(connector, stream_name, stream, batch, values)
    finally:
        hosts.close()


def uses_export(connector: ConnectorSession, stream_name: str, export: ExportJob, values: dict[str, Any]) -> bool:
    """Whether this read goes through the export job (``when`` true; else a count above ``size.above``;
    always when neither is set) or reads the stream's pages."""
    where = f"streams.{stream_name}.export"
    if export.when is None and export.size is None:
        return True
    if export.when is not None and _yes(connector.render(export.when, values, f"{where}.when")):
        log.info("%s: reading through the export job (export.when)", where)
        return True
    if export.size is not None:
        count, above = _count(connector, where, export.size, values)
        if count is not None and above is not None and count > above:
            log.info("%s: %d records to read, above %d: reading through the export job", where, count, above)
            return True
    return False


def _yes(chosen: Any) -> bool:
    if isinstance(chosen, str):  # a template's text: "False", "0", "" and "none" mean no
        return chosen.strip().lower() not in ("", "false", "0", "no", "none", "null")
    return bool(chosen)


def _count(connector: ConnectorSession, where: str, size: ExportSize, values: dict[str, Any]) -> tuple[int | None, int | None]:
    """The count the size request gives, and the threshold (None: no count asked for)."""
    above = connector.render(size.above, values, f"{where}.size.above") if isinstance(size.above, str) else size.above
    if above in (None, "", "None", "none"):
        return None, None
    try:
        threshold = int(above)
    except (TypeError, ValueError):
        raise ConnectorError(f"{where}.size.above gave {above!r}, not a whole number", hint=f"make {where}.size.above a number, or a template giving one") from None
    args = connector.build_request(size.request, {**values, "page": {}}, f"{where}.size.request")
    body = response_body(connector.send(args))
    found = get_path(body, size.path)
    try:
        return int(found), threshold
    except (TypeError, ValueError):
        raise ConnectorError(
            f"{where}.size: the count request's reply has no whole number at '{size.path}': {_excerpt(connector, body)}",
            hint=f"check {where}.size.path against the reply",
        ) from None


def _enriched(connector: ConnectorSession, stream_name: str, stream: Any, batch: list[Any], values: dict[str, Any]) -> list[Any]:
    """A batch with the stream's enrichments applied, as a page of a paged stream gets them."""
    if stream.enrich:
        from connector_core.engine.enrich import enrich_records

        enrich_records(connector, stream_name, stream.enrich, batch, {**values, "page": {}})
    return batch


def _create(connector: ConnectorSession, where: str, request: Any, request_at: str, values: dict[str, Any], id_from: IdFrom) -> dict[str, Any]:
    """Send the create request (declared at ``request_at``); retried only when the API refused it, e.g.
    429: a job is not idempotent."""
    args = connector.build_request(request, {**values, "page": {}}, request_at)
    response = connector.send(args, retry=False)
    body = response_body(response)
    job_id: Any = None
    if id_from.header:
        location = response.headers.get(id_from.header) or ""
        job_id = location.rstrip("/").rsplit("/", 1)[-1] or None
    elif id_from.path:
        job_id = get_path(body, id_from.path)
    if job_id in (None, ""):
        source = f"header {id_from.header}" if id_from.header else f"'{id_from.path}' in the body"
        raise ConnectorError(
            f"{where}: the export job was created ({args.method} {redact_url(response.url, connector.redactor)}, HTTP {response.status_code}) "
            f"but its reply has no job id at {source}: {_excerpt(connector, body)}",
            hint=f"check {where}.export.id against the API's reply",
        )
    log.info("%s: export job %s created", where, job_id)
    return {"id": job_id, "created": body, "status": None}


def _poll(connector: ConnectorSession, where: str, poll: ExportPoll, values: dict[str, Any], job_id: Any) -> Any:
    """Poll until the status is done; the last reply. Waits go through the connection's sleep (tests pin it)."""
    waited = 0.0
    wait = poll.interval
    polls = 0
    while True:
        connector.http.sleep(wait)
        waited += wait
        polls += 1
        args = connector.build_request(poll.request, {**values, "page": {}}, f"{where}.request")
        body = response_body(connector.send(args))
        status = get_path(body, poll.status)
        if _listed(status, poll.done):
            log.info("%s: export job %s is %r after %d poll(s)", where, job_id, status, polls)
            return body
        if _listed(status, poll.failed):
            message = get_path(body, poll.message) if poll.message else None
            detail = f": {connector.redactor.text(str(message))}" if message not in (None, "") else ""
            raise ConnectorError(
                f"{where}: export job {job_id} ended with status {status!r}{detail}",
                hint="the API refused or abandoned the job; fix what its message names (often the query) and read again",
            )
        if status is None:  # a wrong path would otherwise poll until the timeout
            raise ConnectorError(f"{where}: the poll reply has no status at '{poll.status}': {_excerpt(connector, body)}", hint=f"check {where}.status")
        if waited >= poll.timeout:
            raise ConnectorError(
                f"{where}: export job {job_id} is not done after {waited:g} s and {polls} polls (last status {status!r})",
                hint=f"raise {where}.timeout if the API needs longer, or read a smaller range",
            )
        wait = min(poll.max_interval, max(wait, 0.001) * poll.backoff, poll.timeout - waited)


def _listed(value: Any, values: list[Any]) -> bool:
    """Whether a status is one of ``values``: equal, or equal as text (``true`` and "true", 1 and "1")."""
    return value is not None and any(value == v or _text(value) == _text(v) for v in values)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _files(download: ExportDownload, job: dict[str, Any]) -> list[Any]:
    """The result files the last poll reply lists (``[None]``: one download, from the request alone)."""
    if download.files is None:
        return [None]
    found = get_path(job["status"], download.files)
    if found is None:
        return []  # a job with no results
    return found if isinstance(found, list) else [found]


def _downloads(connector: ConnectorSession, hosts: _Hosts, values: dict[str, Any]) -> Iterator[_Download]:
    """The pages of one download: the first, then one per token in ``download.next`` (read once the page's records are)."""
    download, where = hosts.download, hosts.where
    args = connector.build_request(download.request, {**values, "page": {}}, f"{where}.request")
    send = _own_host(connector)
    if download.url is not None:
        url = connector.render(download.url, values, f"{where}.url")
        if not isinstance(url, str) or not url.strip() or url == "None":
            raise ConnectorError(
                f"{where}.url gave {url!r}, not a URL (file: {connector.redactor.text(str(values.get('file')))[:200]})",
                hint=f"check {where}.url against the poll reply",
            )
        args.path = url.strip()
        plain = hosts.plain_client(args.path)
        if plain is not None:  # only the link itself: the request's query and headers are the API's
            args = replace(args, method="GET", params={}, headers={}, json=None, data=None, files=None, has_json=False, bucket=None)
            send = _other_host(plain, where)
    paging = download.next
    seen: set[str] = set()
    while True:
        page = _Download(connector, where, args, send)
        yield page
        if paging is None or page.headers is None:
            return
        token = page.headers.get(paging.header)
        if token is None or token in paging.stop:
            return
        if token in seen:
            raise PaginationLoopError(f"{where}: the API returned the page token {token[:40]!r} twice; stopping to avoid a loop")
        seen.add(token)
        args = replace(args, params={**args.params, paging.param: token})


#: What a body read cut short raises (the socket, urllib3 or requests): the download is made again.
_DROPPED = (ProtocolError, ReadTimeoutError, IncompleteRead, requests.exceptions.ChunkedEncodingError, requests.ConnectionError, ConnectionError, TimeoutError)


@dataclass
class _Download:
    """One page of a download: its records as the body arrives, and the headers it came with."""

    connector: ConnectorSession
    where: str
    args: RequestArgs
    send: Callable[[RequestArgs], requests.Response]
    headers: Any = None

    def records(self, decoder: Decoder, records_path: str, spread: bool) -> Iterator[Any]:
        """The records; when the connection drops mid-body the page is downloaded again (a job's results
        do not change) and the records already handed on are skipped, up to the retry policy's attempts."""
        connector = self.connector
        policy = effective_policy(connector.spec.defaults.retries)
        done = 0
        attempt = 1
        while True:
            response = self.send(self.args)
            self.headers = response.headers
            name = redact_url(response.url, connector.redactor)
            try:
                with closing(response):
                    response.raw.decode_content = True  # a Content-Encoding is undone by urllib3; a .gz file by the decoder
                    content_type = response.headers.get("Content-Type")
                    records = stream_records(response.raw, decoder, content_type=content_type, name=name, records_path=records_path, spread=spread)
                    for index, record in enumerate(records):
                        if index >= done:
                            done += 1
                            yield record
                return
            except _DROPPED as exc:
                reason = connector.redactor.text(network_reason(exc))
                if attempt >= policy.attempts:
                    raise RetriableHTTPError(
                        f"{self.where}: the download of {name} broke off {attempt} times, the last after {done:,} records: {reason}",
                        method=self.args.method,
                        url=name,
                        attempts=attempt,
                        hint="the API or the network kept dropping the connection; read again later",
                    ) from None
                log.warning("%s: the download of %s broke off after %d records (%s); downloading it again (attempt %d of %d)", self.where, name, done, reason, attempt + 1, policy.attempts)
                attempt += 1
                connector.http.sleep(policy.backoff)


def _own_host(connector: ConnectorSession) -> Callable[[RequestArgs], requests.Response]:
    def send(args: RequestArgs) -> requests.Response:
        return connector.send(args, stream=True)

    return send


def _other_host(client: HttpClient, where: str) -> Callable[[RequestArgs], requests.Response]:
    """Sends through ``client`` (a plain one), with a hint fit for a link that needs no credentials."""

    def send(args: RequestArgs) -> requests.Response:
        try:
            return client.send(args.method, args.path, params=args.params, headers={}, timeout=args.timeout, stream=True)
        except HTTPError as exc:
            if exc.status in (400, 401, 403, 404, 410):
                exc.hint = (
                    f"the link comes from the API's reply ({where}.url) and is sent without credentials; "
                    "a refused or missing file usually means the link expired: read again to start a new job"
                )
            raise

    return send


class _Hosts:
    """Which client each download URL goes through: the connector's own (with its credentials) on its host,
    a plain one (no auth, headers, query or cookies of the connector) on a host ``download.hosts`` lists,
    none elsewhere. Plain clients are made once per origin and closed with the export."""

    def __init__(self, connector: ConnectorSession, at: tuple[str, ...], download: ExportDownload) -> None:
        self.connector = connector
        self.at = at
        self.where = ".".join(at)
        self.download = download
        self._patterns: list[str] | None = None
        self._clients: dict[str, HttpClient] = {}

    def plain_client(self, url: str) -> HttpClient | None:
        """The plain client for ``url``, or None when it is on the connector's own host; refuses other hosts."""
        connector = self.connector
        base = connector.http.effective_base_url()
        parts = urlsplit(url)
        if not parts.hostname or same_origin(url, base):
            return None  # a path, or the connector's host: joined to base_url, which refuses anything odd
        self._hide_signature(url)
        host = parts.hostname
        if not host_listed(host, self.patterns()):
            located = f"{connector.loaded.document.where((*self.at, 'url'))}: "
            raise ConnectorError(
                f"{located}{self.where}.url gave a link to {redact_url(url, connector.redactor)}: host {host!r} is not on the connector's host "
                f"({urlsplit(base).hostname}) and not listed in {self.where}.hosts",
                hint=f"credentials never go to another host; if the API hands out links there that need none (pre-signed), add to the spec: "
                f"{self.where}.hosts: [{_suggested(host)!r}]",
            )
        check_transport(url, f"{self.where}.url")
        origin = f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2].lower()}"
        client = self._clients.get(origin)
        if client is None:
            client = self._clients[origin] = self._plain(origin)
        return client

    def patterns(self) -> list[str]:
        """The host patterns, templates rendered over `config` (an empty result is left out)."""
        if self._patterns is None:
            patterns: list[str] = []
            for index, item in enumerate(self.download.hosts):
                value = self.connector.render(item, {}, f"{self.where}.hosts[{index}]")
                text = "" if value is None else str(value).strip()
                if text in ("", "None"):
                    continue
                reason = host_pattern_problem(text)
                if reason is not None:
                    raise ConfigError(f"{self.where}.hosts[{index}] gave {text!r}: {reason}", hint="check the config value this host pattern is made from")
                patterns.append(text)
            self._patterns = patterns
        return self._patterns

    def _hide_signature(self, url: str) -> None:
        """A pre-signed link is a credential of its own: its query values are masked wherever it is named."""
        for _, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            if len(value) >= 8:
                self.connector.redactor.add(value)

    def _plain(self, origin: str) -> HttpClient:
        connector = self.connector
        defaults = connector.spec.defaults
        sleep = connector.http.sleep
        return HttpClient(
            base_url=origin,
            auth=None,
            redactor=connector.redactor,
            governor=Governor(connector.governor.concurrency, sleep=sleep),
            retry=defaults.retries,
            timeout=defaults.timeout,
            session=requests.Session(),  # its own cookie jar and headers: nothing of the connector's session
            sleep=sleep,
        )

    def close(self) -> None:
        for client in self._clients.values():
            client.session.close()
        self._clients.clear()


def _suggested(host: str) -> str:
    """A pattern for ``host``: its parent domain with a wildcard when it has four labels or more (a bucket under a storage domain)."""
    labels = host.split(".")
    return "*." + ".".join(labels[1:]) if len(labels) >= 4 and not host.replace(".", "").isdigit() else host


def _excerpt(connector: ConnectorSession, body: Any) -> str:
    return connector.redactor.text(str(body))[:200]


__all__ = ["BATCH", "export_pages", "uses_export"]
