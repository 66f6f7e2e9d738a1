"""Reading a stream: partitions, pages (concurrently when the total is known), records and cursors.

Records flow through generators, one page at a time (a few pages when fetched concurrently), so memory
stays flat however long the stream. Cursor state advances only for partitions (or, for streams declared
``sorted``, pages) whose records have all been handed to the caller, and is never replaced by an empty
value. The cursor and primary key are read from records as the API returns them, before the record
filter and transforms. With a primary key, the state also remembers which records at the cursor (or
inside the lookback window) were emitted, so the re-read overlap is not emitted twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import orjson
import requests

from connector_core.engine.cursors import OUT_OF_BOUNDS, CursorTracker
from connector_core.engine.extraction import Extraction
from connector_core.engine.pagination import Page, PageRequest, PageResult, Paginator, SinglePagePaginator
from connector_core.engine.paths import delete_path, get_path, set_path
from connector_core.engine.read_ahead import wait_to_parse
from connector_core.engine.spec import Incremental, RecordSelector, Stream
from connector_core.engine.urls import redact_url
from connector_core.errors import ConnectorError

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession

Checkpoint = Callable[[dict[str, Any]], None]


class StreamReader:
    """One read of one stream."""

    def __init__(
        self,
        connector: ConnectorSession,
        stream_name: str,
        state: dict[str, Any] | None,
        *,
        on_checkpoint: Checkpoint | None = None,
        limit: int | None = None,
        internal: bool = False,
    ) -> None:
        streams = connector.spec.streams
        if stream_name not in streams or (streams[stream_name].hidden and not internal):
            from connector_core.engine.validation import no_such

            if stream_name not in streams:
                raise no_such("stream", stream_name, streams, f"connector '{connector.name}'")
            from connector_core.engine.partitions import hidden_stream

            raise hidden_stream(connector.spec, stream_name)
        self.connector = connector
        self.name = stream_name
        self.stream: Stream[Any, Any, Any, Any] = streams[stream_name]
        self.state: dict[str, Any] = _copy_state(state or {})  # deep: never mutate the caller's state
        self.on_checkpoint = on_checkpoint
        self.limit = limit
        cursor = self.stream.cursor
        self.incremental: Incremental[Any] | None = Incremental(field=cursor) if isinstance(cursor, str) else cursor
        records = self.stream.records
        self.selector = RecordSelector(path=records) if isinstance(records, str) else records
        self.extraction = Extraction(stream_name, self.selector)
        self.current_partition: Any = None  # the partition the last record came from (a child's `parent_partition`)
        self.paginator_model = self.stream.paginate or connector.spec.paginate or SinglePagePaginator()
        key = self.stream.primary_key
        self.primary_key: list[str] = [key] if isinstance(key, str) else list(key or [])
        self.emitted = 0
        self.pages = 0

    # -- entry point -------------------------------------------------------------------------------

    def records(self) -> Iterator[dict[str, Any]]:
        if self.limit is not None and self.limit <= 0:
            return
        partitions = self.stream.partitions
        if partitions is None:
            yield from self._read_partition(None, None)
            return
        from connector_core.engine.read_ahead import read_ahead

        for (partition, key, planned), pages in read_ahead(self._partition_jobs(), self.read_ahead_width(sliced=False)):
            self.current_partition = partition
            yield from self._read_partition(partition, key, planned, pages)
            if self.limit is not None and self.emitted >= self.limit:
                return

    def read_ahead_width(self, *, sliced: bool) -> int:
        """How many partitions (``sliced``: time windows or slices of one partition) are fetched at once.

        The concurrency when the spec sets ``defaults.concurrency`` itself: a spec that leaves it at its
        default keeps the order in which its requests reach the API (cassettes recorded before, APIs that
        expect ascending windows). Never with a record limit (a sequential read stops making requests at
        the limit) nor for exports (a job per partition on the API's side). A sliced stream reads its
        slices concurrently and its partitions one after another."""
        inc = self.incremental
        is_sliced = inc is not None and (inc.slicer is not None or inc.window is not None)
        chosen = "concurrency" in self.connector.spec.defaults.model_fields_set
        if not chosen or self.limit is not None or self.stream.export is not None or is_sliced != sliced:
            return 1
        return self.connector.governor.concurrency

    def _partition_jobs(self) -> Iterator[tuple[tuple[Any, str, Any], Callable[[], Iterator[list[Any]]] | None]]:
        """Each partition with its cursor and template values planned, and how to fetch its pages ahead.
        A partition whose state key repeats one already planned is not fetched ahead: its plan must see
        the state the earlier one saves."""
        planned_keys: set[str] = set()
        ahead = self.read_ahead_width(sliced=False) > 1
        for partition, key in self._partitions():
            if not ahead or key in planned_keys:
                yield (partition, key, None), None
                continue
            planned_keys.add(key)
            plan = self._plan_partition(partition, key)
            yield (partition, key, plan), self.fetcher(plan[1])

    def fetcher(self, values: dict[str, Any]) -> Callable[[], Iterator[list[Any]]]:
        """Starts fetching the pages these template values ask for (in a read-ahead thread)."""
        return lambda: self.read_pages(values)

    def _partitions(self) -> Iterator[tuple[Any, str]]:
        from connector_core.engine.partitions import partitions_of

        spec = self.stream.partitions
        assert spec is not None
        return partitions_of(self.connector, self.name, spec, self.child_reader)

    def child_reader(self, stream: str) -> StreamReader:
        """A reader of another stream of the connector whose records feed this one (a hidden one too)."""
        return StreamReader(self.connector, stream, None, internal=True)

    # -- one partition -------------------------------------------------------------------------------

    def _partition_state(self, key: str | None) -> dict[str, Any]:
        if key is None:
            return self.state
        return dict(self.state.get("partitions", {}).get(key, {}))

    def save(self, key: str | None, partition_state: dict[str, Any]) -> None:
        """Checkpoint a partition's cursor (``key``; None for a stream without partitions)."""
        if partition_state.get("cursor") in (None, ""):
            return  # never overwrite a saved cursor with nothing
        if key is None:
            self.state.update(partition_state)
            if "seen" not in partition_state:
                self.state.pop("seen", None)
        else:
            self.state.setdefault("partitions", {})[key] = partition_state
        if self.on_checkpoint is not None:
            self.on_checkpoint(_copy_state(self.state))

    def _plan_partition(self, partition: Any, key: str | None) -> tuple[CursorTracker | None, dict[str, Any]]:
        """The partition's cursor (from its saved state) and the values its requests' templates see."""
        inc = self.incremental
        saved = self._partition_state(key)
        cursor = (
            CursorTracker(inc, saved.get("cursor"), self.connector, self.name, saved.get("seen") if self.primary_key else None, partition)
            if inc
            else None
        )
        template_state = {"cursor": saved.get("cursor")}
        if cursor is not None:
            template_state.update(since=cursor.lower, until=cursor.upper)
        return cursor, {"state": template_state, "partition": partition, "stream": self.name}

    def _read_partition(
        self,
        partition: Any,
        key: str | None,
        planned: tuple[CursorTracker | None, dict[str, Any]] | None = None,
        fetched: Iterator[list[Any]] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The partition's records; ``planned`` and ``fetched`` when they were prepared ahead of it."""
        inc = self.incremental
        cursor, values = planned if planned is not None else self._plan_partition(partition, key)
        pipeline = self._pipeline(cursor, partition)
        for records in self._emitted_pages(values, cursor, key, fetched):
            if pipeline is None and self.limit is None:
                self.emitted += len(records)
                yield from records
                continue
            for record in records:
                kept = pipeline(record) if pipeline else record
                if kept is None:
                    continue
                self.emitted += 1
                yield kept
                if self.limit is not None and self.emitted >= self.limit:
                    return
            if cursor is not None and inc is not None and inc.sorted and cursor.changed:
                self.save(key, cursor.state())
        if cursor is not None and cursor.changed:
            self.save(key, cursor.state())

    def _emitted_pages(
        self, values: dict[str, Any], cursor: CursorTracker | None, key: str | None, fetched: Iterator[list[Any]] | None = None
    ) -> Iterator[list[Any]]:
        """The pages of one partition (slice by slice when a slicer divides it), as the stream emits them."""
        from connector_core.engine.slicing import sliced_pages

        pages = fetched if fetched is not None else sliced_pages(self, values, cursor, key)
        return self.extraction.emitted(pages) if self.extraction.changes_records else pages

    # -- records -------------------------------------------------------------------------------------

    def _pipeline(self, cursor: CursorTracker | None, partition: Any = None) -> Callable[[Any], dict[str, Any] | None] | None:
        """Cursor bounds, record filter, transforms and plugin hooks; templates see record and partition."""
        steps: list[Callable[[dict[str, Any]], dict[str, Any] | None]] = []
        connector = self.connector
        if cursor is not None:
            # First: the cursor field and primary key are those of the record as the API sent it.
            steps.append(self._incremental_step(cursor))
        if self.selector.filter:
            expression = self.selector.filter
            where = f"streams.{self.name}.records.filter"

            def keep(record: dict[str, Any]) -> dict[str, Any] | None:
                return record if connector.render_visible(expression, {"record": record, "partition": partition}, where) else None

            steps.append(keep)
        for index, transform in enumerate(self.stream.transforms):
            steps.append(self._transform(index, transform, partition))
        if connector.registry.has_record_hooks:
            hook = connector.registry.pm.hook.connector_transform_record

            def plugins(record: dict[str, Any]) -> dict[str, Any] | None:
                for replacement in hook(connector=connector.name, stream=self.name, record=record):
                    if isinstance(replacement, dict):
                        record = replacement
                return record

            steps.append(plugins)
        if not steps:
            return None

        def run(record: Any) -> dict[str, Any] | None:
            current: dict[str, Any] = record
            for step in steps:
                result = step(current)
                if result is None:
                    return None
                current = result
            return current

        return run

    def _transform(self, index: int, transform: Any, partition: Any = None) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
        connector = self.connector
        where = f"streams.{self.name}.transforms[{index}]"
        if transform.set is not None:
            assignments = transform.set

            def set_fields(record: dict[str, Any]) -> dict[str, Any]:
                for path, value in assignments.items():
                    context = {"record": record, "partition": partition}
                    set_path(record, path, connector.render_visible(value, context, f"{where}.set.{path}"))
                return record

            return set_fields
        if transform.drop is not None:
            drops = transform.drop

            def drop_fields(record: dict[str, Any]) -> dict[str, Any]:
                for path in drops:
                    delete_path(record, path)
                return record

            return drop_fields
        if transform.rename is not None:
            renames = transform.rename

            def rename_fields(record: dict[str, Any]) -> dict[str, Any]:
                for old, new in renames.items():
                    if old in record:
                        record[new] = record.pop(old)
                return record

            return rename_fields
        if transform.plugin is None:
            from connector_core.engine.transforms import build_transform

            return build_transform(connector, where, transform, partition)
        return connector.registry.transforms[transform.plugin]

    def _incremental_step(self, cursor: CursorTracker) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
        primary_key = self.primary_key
        dedupe = bool(primary_key)

        def step(record: dict[str, Any]) -> dict[str, Any] | None:
            value = cursor.observe(record)
            if value is OUT_OF_BOUNDS:
                return None
            if dedupe and value is not None and cursor.tracks(value):
                if not cursor.first_sighting([get_path(record, k) for k in primary_key], value):
                    return None
            return record

        return step

    # -- pages ---------------------------------------------------------------------------------------

    def read_pages(self, values: dict[str, Any]) -> Iterator[list[Any]]:
        """Pages in order. When a response tells how many pages follow, they are fetched concurrently;
        after them the paginator is asked for a next page again (a paginator that restarts past an
        API's cap begins a new window there)."""
        if self.stream.export is not None:
            from connector_core.engine.exports import export_pages, uses_export

            if uses_export(self.connector, self.name, self.stream.export, values):
                head = self.extraction.head if self.stream.export.records is None else self.stream.export.records
                yield from export_pages(self.connector, self.name, self.stream, values, head, spread=self.extraction.rest is not None)
                return
        paginator = self.paginator_model.start()
        page = paginator.first_page()
        result = self._fetch(paginator, page, values)
        yield result.records
        while True:
            remaining = paginator.remaining_pages(page, result) if result.records else None
            if remaining:
                for page, result in self._fetch_many(paginator, remaining, values):  # noqa: B007 - the last page is used below
                    yield result.records
            next_page = paginator.next_page(page, result)
            if next_page is None:
                return
            page = next_page
            result = self._fetch(paginator, page, values)
            yield result.records

    def _fetch_many(self, paginator: Paginator, pages: list[Page], values: dict[str, Any]) -> Iterator[tuple[Page, PageResult]]:
        """Fetch planned pages with up to `concurrency` in flight, yielding them in order."""
        concurrency = self.connector.governor.concurrency
        if concurrency <= 1 or len(pages) <= 1:
            for page in pages:
                yield page, self._fetch(paginator, page, values)
            return
        executor = self.connector.executor
        window: deque[tuple[Page, Future[requests.Response]]] = deque()
        queue = iter(pages)
        try:
            for page in queue:
                window.append((page, executor.submit(self._request, paginator, page, values)))
                if len(window) >= concurrency:
                    break
            while window:
                page, future = window.popleft()
                result = self._page_result(future.result(), page, values)
                following = next(queue, None)
                if following is not None:
                    window.append((following, executor.submit(self._request, paginator, following, values)))
                yield page, result
        finally:
            for _, pending in window:
                pending.cancel()

    def _fetch(self, paginator: Paginator, page: Page, values: dict[str, Any]) -> PageResult:
        return self._page_result(self._request(paginator, page, values), page, values)

    def _request(self, paginator: Paginator, page: Page, values: dict[str, Any]) -> requests.Response:
        connector = self.connector
        args = connector.build_request(self.stream.request, {**values, "page": page}, f"streams.{self.name}.request")
        request = PageRequest(url=args.path, params=args.params, json=args.json, headers=args.headers)
        paginator.apply(page, request)
        args.path, args.params, args.json, args.headers = request.url, request.params, request.json, request.headers
        if request.json is not None:
            args.has_json = True
        response = connector.send(args)
        self.pages += 1
        return response

    def _page_result(self, response: requests.Response, page: Page, values: dict[str, Any]) -> PageResult:
        """Parse a page. Done by the consumer, not the fetching threads: parsing holds the GIL anyway,
        and a window of raw bodies takes a fraction of the memory of parsed ones."""
        wait_to_parse()  # a partition or window fetched ahead parses only when its turn is near
        connector = self.connector
        body = None
        if self.stream.decoder is not None and response.content and response.status_code < 400:
            from connector_core.engine.decoders import as_decoder, decode_page

            name = redact_url(response.url, connector.redactor)
            content_type = response.headers.get("Content-Type")
            body = decode_page(response.content, as_decoder(self.stream.decoder), content_type=content_type, name=name, records_path=self.extraction.head)
        elif self.extraction.extractor is not None and response.content and response.status_code < 400:
            body = _json_or_none(response.content)  # a plugin's extractor may read other bodies from the response
        elif response.content and response.status_code < 400:
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                kind = response.headers.get("Content-Type") or "no content type"
                raise ConnectorError(
                    f"stream '{self.name}': {response.request.method} {redact_url(response.url, connector.redactor)} "
                    f"returned a body that is not JSON ({kind}): {connector.redactor.text(response.text[:200])!r}",
                    hint="streams read JSON responses; check the request path and the API's Accept header",
                ) from None
        records = self.extraction.page_records(response, body)
        if self.stream.enrich and records:
            from connector_core.engine.enrich import enrich_records

            enrich_records(connector, self.name, self.stream.enrich, records, {**values, "page": page})
        return PageResult(body=body, records=records, headers=response.headers, links=response.links, url=response.url)


def extract_records(body: Any, path: str) -> list[Any]:
    found = get_path(body, path)
    if found is None:
        return []
    if isinstance(found, list):
        return found
    return [found]


def _json_or_none(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(state))
    return copied


__all__ = ["StreamReader", "extract_records"]
