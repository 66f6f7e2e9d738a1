"""Decoders: JSON, JSON lines, CSV, XML and zip bodies (gzip or not) into records, as whole pages over
real HTTP and as streams read chunk by chunk."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector
from werkzeug.wrappers import Response

from connector_core.engine.connector import Connector
from connector_core.engine.decoders import decode_page, resolve_format, stream_records
from connector_core.engine.spec import Decoder
from connector_core.errors import ConnectorError, SpecError


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


def connector(tmp_path: Path, api: FakeAPI, stream: dict[str, Any]) -> Connector:
    spec = {"name": "decoders", "base_url": api.url, "defaults": {"retries": {"attempts": 1}}, "streams": {"items": stream}}
    return open_connector(tmp_path, spec)


def serve(api: FakeAPI, path: str, body: bytes, content_type: str) -> None:
    api.route(path, lambda request: Response(body, mimetype=content_type))


def streamed(body: bytes, decoder: Decoder, path: str = "", content_type: str | None = None, name: str = "") -> list[Any]:
    return list(stream_records(io.BytesIO(body), decoder, content_type=content_type, name=name, records_path=path))


CSV = b"id,name,city\n1,Ada,London\n2,\"Grace, Rear Admiral\",Arlington\n"
XML = b"""<?xml version="1.0"?>
<response xmlns="urn:example">
  <items>
    <item id="1"><name>Ada</name><tag>a</tag><tag>b</tag></item>
    <item id="2"><name lang="en">Grace</name></item>
  </items>
  <next>token-2</next>
</response>"""


class TestStreamsOverHttp:
    def test_csv_rows_are_the_records_keyed_by_the_header_row(self, tmp_path: Path, api: FakeAPI) -> None:
        serve(api, "/items.csv", CSV, "text/csv")
        with connector(tmp_path, api, {"request": {"path": "/items.csv"}, "decoder": "csv"}) as c:
            assert list(c.read("items")) == [
                {"id": "1", "name": "Ada", "city": "London"},
                {"id": "2", "name": "Grace, Rear Admiral", "city": "Arlington"},
            ]

    def test_gzipped_json_lines_are_unpacked_by_their_first_bytes(self, tmp_path: Path, api: FakeAPI) -> None:
        lines = b"".join(json.dumps({"id": i}).encode() + b"\n" for i in range(3)) + b"\n"
        serve(api, "/export", gzip.compress(lines), "application/octet-stream")
        with connector(tmp_path, api, {"request": {"path": "/export"}, "decoder": "jsonl"}) as c:
            assert [r["id"] for r in c.read("items")] == [0, 1, 2]

    def test_xml_records_path_starts_at_the_root_and_a_paginator_reads_the_body(self, tmp_path: Path, api: FakeAPI) -> None:
        second = b"<response><items><item id='3'><name>Edsger</name></item></items></response>"
        api.route("/feed", lambda request: Response(second if request.args.get("cursor") else XML, mimetype="application/xml"))
        stream = {
            "request": {"path": "/feed"},
            "decoder": "xml",
            "records": "response.items.item",
            "paginate": {"type": "cursor", "path": "response.next"},
        }
        with connector(tmp_path, api, stream) as c:
            got = list(c.read("items"))
        assert got == [
            {"@id": "1", "name": "Ada", "tag": ["a", "b"]},
            {"@id": "2", "name": {"@lang": "en", "#text": "Grace"}},
            {"@id": "3", "name": "Edsger"},
        ]
        assert [r.query.get("cursor") for r in api.received("/feed")] == [None, "token-2"]

    def test_auto_picks_the_format_from_the_content_type(self, tmp_path: Path, api: FakeAPI) -> None:
        serve(api, "/items", CSV, "text/csv; charset=utf-8")
        with connector(tmp_path, api, {"request": {"path": "/items"}, "decoder": "auto"}) as c:
            assert [r["name"] for r in c.read("items")] == ["Ada", "Grace, Rear Admiral"]

    def test_zip_files_are_read_in_turn_by_their_extension(self, tmp_path: Path, api: FakeAPI) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("a.csv", CSV)
            archive.writestr("b.jsonl", b'{"id": "3", "name": "Edsger"}\n')
        serve(api, "/archive", buffer.getvalue(), "application/zip")
        with connector(tmp_path, api, {"request": {"path": "/archive"}, "decoder": {"format": "auto"}}) as c:
            assert [r["id"] for r in c.read("items")] == ["1", "2", "3"]

    def test_semicolon_csv_in_latin_1(self, tmp_path: Path, api: FakeAPI) -> None:
        serve(api, "/items", "id;name\n1;Zoë\n".encode("latin-1"), "text/csv")
        stream = {"request": {"path": "/items"}, "decoder": {"format": "csv", "delimiter": ";", "encoding": "latin-1"}}
        with connector(tmp_path, api, stream) as c:
            assert list(c.read("items")) == [{"id": "1", "name": "Zoë"}]

    def test_empty_csv_fields_may_be_nulls_and_extra_fields_are_kept(self, tmp_path: Path, api: FakeAPI) -> None:
        serve(api, "/items", b"id,name,city\n1,,London\n2,Grace,,Arlington\n", "text/csv")
        stream = {"request": {"path": "/items"}, "decoder": {"format": "csv", "nulls": [""]}}
        with connector(tmp_path, api, stream) as c:
            assert list(c.read("items")) == [
                {"id": "1", "name": None, "city": "London"},
                {"id": "2", "name": "Grace", "city": None, "_extra": ["Arlington"]},
            ]

    def test_a_body_that_is_not_what_the_decoder_says_is_one_clear_error(self, tmp_path: Path, api: FakeAPI) -> None:
        serve(api, "/items", b'{"id": 1}\nnot json\n', "application/x-ndjson")
        with connector(tmp_path, api, {"request": {"path": "/items"}, "decoder": "jsonl"}) as c, pytest.raises(ConnectorError) as caught:
            list(c.read("items"))
        assert "as jsonl" in str(caught.value) and "line 2 is not JSON" in str(caught.value)
        assert "decoder" in (caught.value.hint or "")


class TestStreamedDecoding:
    def test_json_items_at_a_path_one_by_one(self) -> None:
        body = json.dumps({"meta": {"n": 2}, "data": [{"id": 1, "x": 1.5}, {"id": 2, "tags": [1, {"a": None}]}]}).encode()
        assert streamed(body, Decoder(), "data") == [{"id": 1, "x": 1.5}, {"id": 2, "tags": [1, {"a": None}]}]

    def test_json_object_at_the_path_is_one_record_and_a_missing_path_none(self) -> None:
        body = b'{"data": {"id": 7}}'
        assert streamed(body, Decoder(), "data") == [{"id": 7}]
        assert streamed(body, Decoder(), "nothing") == []

    def test_json_top_level_list(self) -> None:
        assert streamed(b'[{"id": 1}, {"id": 2}]', Decoder()) == [{"id": 1}, {"id": 2}]

    def test_xml_elements_at_the_path_without_the_rest(self) -> None:
        assert streamed(XML, Decoder(format="xml"), "response.items.item")[0] == {"@id": "1", "name": "Ada", "tag": ["a", "b"]}

    def test_an_xml_records_path_that_skips_the_root_says_so(self) -> None:
        with pytest.raises(ConnectorError, match="root element is 'response'") as caught:
            streamed(XML, Decoder(format="xml"), "items.item")
        assert "'response.items.item'" in (caught.value.hint or "")
        with pytest.raises(ConnectorError, match="root element is 'response'"):
            decode_page(XML, Decoder(format="xml"), content_type=None, name="", records_path="items.item")

    def test_xml_entity_expansion_is_refused(self) -> None:
        bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><r><i>&b;</i></r>'
        with pytest.raises(ConnectorError, match="as xml"):
            streamed(bomb, Decoder(format="xml"), "r.i", name="bomb.xml")

    def test_gzip_declared_and_csv_by_the_file_name(self) -> None:
        assert streamed(gzip.compress(CSV), Decoder(format="auto", compression="gzip"), name="https://x/result.csv.gz")[0]["name"] == "Ada"

    def test_auto_without_a_clue_asks_for_the_format(self) -> None:
        with pytest.raises(ConnectorError, match="cannot tell the format") as caught:
            resolve_format("auto", "application/octet-stream", "/download")
        assert "decoder: json, jsonl, csv, xml or zip" in (caught.value.hint or "")

    def test_page_decoding_puts_rows_at_the_records_path(self) -> None:
        assert decode_page(CSV, Decoder(format="csv"), content_type=None, name="", records_path="rows")["rows"][0]["id"] == "1"


class TestValidate:
    def test_a_paginator_reading_a_body_of_rows_is_reported(self, tmp_path: Path, api: FakeAPI) -> None:
        with pytest.raises(SpecError) as caught:
            connector(tmp_path, api, {"request": {"path": "/items"}, "decoder": "csv", "paginate": {"type": "offset", "total": "total"}})
        [problem] = caught.value.problems
        assert "streams.items.paginate.total: with decoder csv the body is a list of rows, so total 'total' is never found" in problem

    def test_a_cursor_paginator_needs_its_header_with_json_lines(self, tmp_path: Path, api: FakeAPI) -> None:
        with pytest.raises(SpecError) as caught:
            connector(tmp_path, api, {"request": {"path": "/items"}, "decoder": "jsonl", "paginate": {"type": "cursor"}})
        assert "a cursor paginator without `header`" in caught.value.problems[0]
        serve(api, "/items", b'{"id": 1}\n', "application/x-ndjson")
        stream = {"request": {"path": "/items"}, "decoder": "jsonl", "paginate": {"type": "cursor", "header": "X-Next"}}
        with connector(tmp_path, api, stream) as c:
            assert list(c.read("items")) == [{"id": 1}]


class _Generated(io.RawIOBase):
    """A body made as it is read, so the test itself holds none of it."""

    def __init__(self, head: bytes, item: Any, count: int, tail: bytes) -> None:
        self.parts = itertools.chain([head], (item(i) for i in range(count)), [tail])
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            self.pending = next(self.parts, b"")
            if not self.pending:
                return 0
        taken, self.pending = self.pending[: len(buffer)], self.pending[len(buffer) :]
        buffer[: len(taken)] = taken
        return len(taken)


class TestMemory:
    """50,000 records (about 4 MB of body) read with a peak far below the body's size."""

    @pytest.mark.parametrize(
        "decoder, path, head, item, tail",
        [
            (Decoder(), "data", b'{"data": [', lambda i: b'%s{"id": %d, "name": "record number %d"}' % (b"," if i else b"", i, i), b'], "n": 1}'),
            (Decoder(format="xml"), "feed.entry", b"<feed>", lambda i: b"<entry id='%d'><name>record number %d</name></entry>" % (i, i), b"</feed>"),
            (Decoder(format="jsonl"), "", b"", lambda i: b'{"id": %d, "name": "record number %d"}\n' % (i, i), b""),
        ],
        ids=["json", "xml", "jsonl"],
    )
    def test_streamed_formats_hold_one_record_at_a_time(self, decoder: Decoder, path: str, head: bytes, item: Any, tail: bytes) -> None:
        import tracemalloc

        list(stream_records(_Generated(head, item, 3, tail), decoder, content_type=None, name="warm-up", records_path=path))  # imports
        source = _Generated(head, item, 50_000, tail)
        tracemalloc.start()
        try:
            count = sum(1 for _ in stream_records(source, decoder, content_type=None, name="big", records_path=path))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert count == 50_000
        assert peak < 1_000_000, f"peak {peak:,} bytes"
