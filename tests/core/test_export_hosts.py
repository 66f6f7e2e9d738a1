"""Export downloads from another host (`download.hosts`): pre-signed links fetched without any credentials.

The API listens on 127.0.0.1 and the file host on 127.0.0.2 (loopback on Linux, and another host by name);
one case reaches the API's own server as `localhost`, which the engine must treat as another host too."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, FakeTime, open_connector
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from connector_core.engine.connector import Connector
from connector_core.errors import ConfigError, ConnectorError, FatalHTTPError, SpecError

TOKEN = "tok-8c1f0e5a9d2b4e7f"
SIGNATURE = "f3a9c2e1d4b5a6978877665544332211"
PRESIGNED = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature={SIGNATURE}"
CSV = b"id,email\n1,ada@example.com\n2,bo@example.com\n"


class FileHost(FakeAPI):
    """The storage of the export files: the same fake, listening on 127.0.0.2."""

    def start(self) -> FileHost:
        import threading

        from fakeapi import _QuietHandler

        self._server = make_server("127.0.0.2", 0, self, threaded=True, request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.2:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


@pytest.fixture
def files() -> Iterator[FileHost]:
    with FileHost() as server:
        yield server


def serve_job(api: FakeAPI, urls: list[str]) -> None:
    """An export job whose finished status lists ``urls``; the create reply sets a session cookie."""
    api.route("/exports", lambda r: Response('{"id": "e1"}', mimetype="application/json", headers={"Set-Cookie": "session=s3cr3t-cookie; Path=/"}), method="POST")
    api.json("/exports/e1", {"status": "ready", "urls": urls})


def export_stream(hosts: list[str] | None = None) -> dict[str, Any]:
    download: dict[str, Any] = {"files": "urls", "url": "{{ file }}"}
    if hosts is not None:
        download["hosts"] = hosts
    return {
        "request": {"method": "POST", "path": "/exports"},
        "decoder": "csv",
        "export": {"id": {"path": "id"}, "poll": {"request": {"path": "/exports/{{ job.id }}"}, "status": "status", "done": ["ready"], "interval": 0}, "download": download},
    }


def open_exports(tmp_path: Path, api: FakeAPI, stream: dict[str, Any], auth: dict[str, Any] | None = None, **config: Any) -> Connector:
    spec = {
        "name": "exports",
        "config": {"type": "object", "properties": {"token": {"type": "string", "secret": True}, "files_host": {"type": "string", "default": ""}}},
        "base_url": api.url,
        "auth": auth or {"type": "bearer", "token": "{{ config.token }}"},
        "defaults": {"retries": {"attempts": 3, "backoff": 0}, "headers": {"X-Account": "{{ config.token }}"}, "query": {"account_key": "{{ config.token }}"}},
        "streams": {"contacts": stream},
    }
    time = FakeTime()
    return open_connector(tmp_path, spec, {"token": TOKEN, **config}, sleep=time.sleep, clock=time.clock)


def no_credentials(seen: Any) -> None:
    """What the other host received carries nothing of the connector's: no auth, headers, query or cookies."""
    headers = {name.lower(): value for name, value in seen.headers.items()}
    assert "authorization" not in headers and "x-account" not in headers and "cookie" not in headers, headers
    assert TOKEN not in seen.query_string and TOKEN not in str(seen.headers)
    assert "account_key" not in seen.query and "key" not in seen.query


class TestAcceptedHost:
    @pytest.mark.parametrize(
        "auth",
        [{"type": "bearer", "token": "{{ config.token }}"}, {"type": "api_key", "name": "key", "value": "{{ config.token }}", "in": "query"}],
        ids=["bearer-header", "api-key-query"],
    )
    def test_a_listed_host_is_downloaded_without_any_credentials(self, tmp_path: Path, api: FakeAPI, files: FileHost, auth: dict[str, Any]) -> None:
        files.route("/bucket/part-1.csv.gz", lambda r: Response(gzip.compress(CSV), mimetype="application/octet-stream"))
        files.route("/bucket/part-2.csv", lambda r: Response(b"id,email\n3,cy@example.com\n", mimetype="text/csv"))
        serve_job(api, [f"{files.url}/bucket/part-1.csv.gz?{PRESIGNED}", f"{files.url}/bucket/part-2.csv?{PRESIGNED}"])
        with open_exports(tmp_path, api, export_stream(["127.0.0.2"]), auth) as c:
            assert [r["email"] for r in c.read("contacts")] == ["ada@example.com", "bo@example.com", "cy@example.com"]
        create = api.received("/exports", "POST")[0]
        assert create.header("X-Account") == TOKEN and (create.header("Authorization") or create.query.get("key"))  # the API gets them
        assert api.received("/exports/e1")[0].header("Cookie") == "session=s3cr3t-cookie"  # the connector's session holds a cookie
        downloads = files.received()
        assert [r.path for r in downloads] == ["/bucket/part-1.csv.gz", "/bucket/part-2.csv"]
        for seen in downloads:
            no_credentials(seen)
            assert seen.query == {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Expires": "3600", "X-Amz-Signature": SIGNATURE}

    def test_localhost_is_another_host_than_127_0_0_1_even_on_the_same_server(self, tmp_path: Path, api: FakeAPI) -> None:
        port = api.url.rsplit(":", 1)[1]
        api.route("/files/1.csv", lambda r: Response(CSV, mimetype="text/csv"))
        serve_job(api, [f"http://localhost:{port}/files/1.csv"])
        with open_exports(tmp_path, api, export_stream()) as c, pytest.raises(ConnectorError) as refused:
            list(c.read("contacts"))
        assert "host 'localhost' is not on the connector's host (127.0.0.1)" in refused.value.message
        assert not api.received("/files/1.csv")
        with open_exports(tmp_path, api, export_stream(["localhost"])) as c:
            assert [r["id"] for r in c.read("contacts")] == ["1", "2"]
        [download] = api.received("/files/1.csv")
        assert download.header("Host") == f"localhost:{port}"
        no_credentials(download)

    def test_a_link_on_the_connectors_own_host_keeps_its_credentials(self, tmp_path: Path, api: FakeAPI) -> None:
        api.route("/files/1.csv", lambda r: Response(CSV, mimetype="text/csv"))
        serve_job(api, [f"{api.url}/files/1.csv"])
        with open_exports(tmp_path, api, export_stream(["127.0.0.2"])) as c:
            assert len(list(c.read("contacts"))) == 2
        assert api.received("/files/1.csv")[0].header("Authorization") == f"Bearer {TOKEN}"

    def test_a_pattern_from_the_config(self, tmp_path: Path, api: FakeAPI, files: FileHost) -> None:
        files.route("/f.csv", lambda r: Response(CSV, mimetype="text/csv"))
        serve_job(api, [f"{files.url}/f.csv"])
        stream = export_stream(["*.s3.amazonaws.com", "{{ config.files_host }}"])
        with open_exports(tmp_path, api, stream, files_host="127.0.0.2") as c:
            assert len(list(c.read("contacts"))) == 2
        with open_exports(tmp_path, api, stream) as c, pytest.raises(ConnectorError, match="not listed in streams.contacts.export.download.hosts"):
            list(c.read("contacts"))  # an empty config value adds no host
        with open_exports(tmp_path, api, stream, files_host="*") as c, pytest.raises(ConfigError, match=r"hosts\[1\] gave '\*': '\*' would accept every host"):
            list(c.read("contacts"))


class TestRefusedHost:
    def test_an_unlisted_host_is_refused_naming_the_host_and_the_key(self, tmp_path: Path, api: FakeAPI, files: FileHost) -> None:
        files.route("/f.csv", lambda r: Response(CSV, mimetype="text/csv"))
        serve_job(api, [f"{files.url}/f.csv?{PRESIGNED}"])
        with open_exports(tmp_path, api, export_stream(["*.s3.amazonaws.com"])) as c, pytest.raises(ConnectorError) as refused:
            list(c.read("contacts"))
        error = refused.value
        assert error.message.startswith(f"{tmp_path / 'exports.json'}:1:")
        assert "streams.contacts.export.download.url gave a link to http://127.0.0.2:" in error.message
        assert "host '127.0.0.2' is not on the connector's host (127.0.0.1) and not listed in streams.contacts.export.download.hosts" in error.message
        assert error.hint is not None and "streams.contacts.export.download.hosts: ['127.0.0.2']" in error.hint
        assert SIGNATURE not in str(error)  # a pre-signed link is a credential of its own
        assert not files.received()

    def test_a_redirect_to_an_unlisted_host_is_not_followed(self, tmp_path: Path, api: FakeAPI, files: FileHost) -> None:
        files.redirect("/moved.csv", "/f.csv")  # on the same host: followed
        files.route("/f.csv", lambda r: Response(CSV, mimetype="text/csv"))
        files.redirect("/away.csv", f"{api.url}/files/1.csv")  # to the API's host, which is not listed
        api.route("/files/1.csv", lambda r: Response(CSV, mimetype="text/csv"))
        serve_job(api, [f"{files.url}/moved.csv"])
        with open_exports(tmp_path, api, export_stream(["127.0.0.2"])) as c:
            assert len(list(c.read("contacts"))) == 2
        serve_job(api, [f"{files.url}/away.csv"])
        with open_exports(tmp_path, api, export_stream(["127.0.0.2"])) as c, pytest.raises(FatalHTTPError, match="refusing to send a request to http://127.0.0.1"):
            list(c.read("contacts"))
        assert not api.received("/files/1.csv")

    def test_plain_http_is_refused_to_a_host_that_is_not_loopback(self, tmp_path: Path, api: FakeAPI) -> None:
        serve_job(api, ["http://exports.files.example.com/f.csv"])
        with open_exports(tmp_path, api, export_stream(["*.files.example.com"])) as c, pytest.raises(ConfigError, match="uses plain http to a non-loopback host"):
            list(c.read("contacts"))


class TestDownloadBehaviour:
    def test_a_failing_file_host_is_retried_and_an_expired_link_explained(self, tmp_path: Path, api: FakeAPI, files: FileHost) -> None:
        files.route("/f.csv", lambda r: Response(CSV, mimetype="text/csv"))
        files.fail("/f.csv", 503)
        serve_job(api, [f"{files.url}/f.csv?{PRESIGNED}"])
        with open_exports(tmp_path, api, export_stream(["127.0.0.2"])) as c:
            assert len(list(c.read("contacts"))) == 2
        assert len(files.received("/f.csv")) == 2
        files.fail("/f.csv", 403, body="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
        with open_exports(tmp_path, api, export_stream(["127.0.0.2"])) as c, pytest.raises(ConnectorError) as expired:
            list(c.read("contacts"))
        assert "HTTP 403" in expired.value.message and SIGNATURE not in str(expired.value)
        assert expired.value.hint is not None and "link expired" in expired.value.hint

    def test_a_download_cut_off_midway_is_made_again(self, tmp_path: Path, api: FakeAPI, files: FileHost) -> None:
        calls: list[int] = []

        def body(cut: bool) -> Iterator[bytes]:
            yield b"id,email\n" + b"".join(b"%d,a@example.com\n" % i for i in range(500))
            if cut:
                raise ConnectionAbortedError("the storage went away")
            yield b"".join(b"%d,a@example.com\n" % i for i in range(500, 1000))

        def file(request: Request) -> Response:
            calls.append(1)
            return Response(body(cut=len(calls) == 1), mimetype="text/csv")

        files.route("/big.csv", file)
        serve_job(api, [f"{files.url}/big.csv"])
        with open_exports(tmp_path, api, export_stream(["127.0.0.2"])) as c:
            assert [r["id"] for r in c.read("contacts")] == [str(i) for i in range(1000)]
        assert len(calls) == 2


class TestValidate:
    def test_host_patterns_are_checked_where_they_are_written(self, tmp_path: Path, api: FakeAPI) -> None:
        stream = export_stream(["*", "https://bucket.s3.amazonaws.com/exports", "", "files.example.com:443", "*.com", "*.s3.amazonaws.com", "{{ job.id }}"])
        with pytest.raises(SpecError) as caught:
            open_exports(tmp_path, api, stream)
        problems = "\n".join(caught.value.problems)
        at = "streams.contacts.export.download.hosts"
        for expected in (
            f"{at}[0]: '*' would accept every host",
            f"{at}[1]: 'https://bucket.s3.amazonaws.com/exports' has a scheme: give the host name only, e.g. 'bucket.s3.amazonaws.com'",
            f"{at}[2]: an empty host pattern names no host",
            f"{at}[3]: 'files.example.com:443' has a port",
            f"{at}[4]: '*.com' would accept hosts anywhere under a top-level domain",
            f"{at}[6]: template uses 'job', which a host pattern does not see",
        ):
            assert expected in problems
        assert f"{at}[5]" not in problems
        assert all(p.startswith(f"{tmp_path / 'exports.json'}:1:") for p in caught.value.problems)

    def test_hosts_without_a_url_are_reported(self, tmp_path: Path, api: FakeAPI) -> None:
        stream = export_stream(["*.s3.amazonaws.com"])
        stream["export"]["download"] = {"request": {"path": "/exports/{{ job.id }}/file"}, "hosts": ["*.s3.amazonaws.com"]}
        with pytest.raises(SpecError) as caught:
            open_exports(tmp_path, api, stream)
        [problem] = caught.value.problems
        assert "streams.contacts.export.download.hosts: hosts are only used for a `url`" in problem
