"""`connector-core import airbyte`: real public manifests convert into specs that validate, and the
converted specs read from a local fake of the API the records the manifest implies.

The fixtures under manifests/ are real Airbyte manifests (see manifests/LICENSE.md for where each comes
from and its licence). A converted spec keeps the real API's host; the tests point its base_url at the
fake, which serves plain HTTP on 127.0.0.1, and change nothing else.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from werkzeug.wrappers import Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from fakeapi import FakeAPI, reply  # noqa: E402

from connector_core.cli.app import main  # noqa: E402
from connector_core.cli.importers.airbyte import convert_manifest  # noqa: E402
from connector_core.engine.connector import Connector  # noqa: E402
from connector_core.engine.loader import load_spec  # noqa: E402
from connector_core.plugins import build_registry, make_plugin_manager  # noqa: E402

MANIFESTS = Path(__file__).parent / "manifests"
FIXTURES = ["pipedrive", "sentry", "strava", "sendgrid", "greenhouse", "mailchimp"]


def run_import(manifest: Path, output: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["import", "airbyte", str(manifest), "-o", str(output), *extra], catch_exceptions=False)


def imported(tmp_path: Path, fixture: str) -> tuple[dict[str, Any], str]:
    output = tmp_path / f"{fixture}.yaml"
    result = run_import(MANIFESTS / f"source-{fixture}" / "manifest.yaml", output)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(output.read_text(encoding="utf-8")), result.stderr


def open_against(tmp_path: Path, spec: dict[str, Any], base_url: str, config: dict[str, Any]) -> Connector:
    """The converted spec, unchanged but for its base_url, opened against the fake."""
    path = tmp_path / "against-fake.yaml"
    path.write_text(yaml.safe_dump({**spec, "base_url": base_url}, sort_keys=False), encoding="utf-8")
    registry = build_registry(make_plugin_manager(entry_points=False))
    return Connector(load_spec(path, registry), config, registry)


# -- every fixture converts into a valid spec ----------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURES)
def test_each_real_manifest_converts_into_a_spec_that_validates(tmp_path: Path, fixture: str) -> None:
    spec, stderr = imported(tmp_path, fixture)
    assert f"{tmp_path / fixture}.yaml: valid connector spec" in stderr
    assert spec["name"] == fixture
    assert spec["streams"], "no stream was converted"
    validated = CliRunner().invoke(main, ["validate", str(tmp_path / f"{fixture}.yaml")])
    assert validated.exit_code == 0, validated.output


def manifest_has(data: Any, path: str) -> bool:
    node = data
    for step in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if step.startswith("["):
            if not isinstance(node, list) or int(step[1:-1]) >= len(node):
                return False
            node = node[int(step[1:-1])]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return False
    return True


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_finding_names_the_place_in_the_manifest_where_the_piece_is_written(fixture: str) -> None:
    manifest = MANIFESTS / f"source-{fixture}" / "manifest.yaml"
    raw = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    _, report = convert_manifest(manifest)
    for finding in report.findings:
        beside = re.match(r"(\S+) \(beside the manifest\): (.*)", finding.path)
        if beside:
            assert manifest_has(json.loads((manifest.parent / beside.group(1)).read_text(encoding="utf-8")), beside.group(2).split(".properties")[0])
        else:
            assert manifest_has(raw, finding.path), f"{finding.path} is not a path of {manifest}: {finding.what}"
        assert finding.todo


def test_pipedrive_parts_land_where_the_manifest_puts_them(tmp_path: Path) -> None:
    spec, stderr = imported(tmp_path, "pipedrive")
    streams = spec["streams"]
    assert spec["base_url"] == "https://api.pipedrive.com/v1"
    assert spec["config"]["properties"]["api_token"]["secret"] is True
    assert spec["defaults"]["concurrency"] == "{{ (config.num_workers | default(10))}}"
    assert spec["check"] == {"stream": "deals"}
    # $parameters fill the path and the `items` parameter; the cursor's start parameter is formatted as the API wants
    deals = streams["deals"]
    assert deals["request"]["path"] == "/recents"
    assert deals["request"]["query"]["items"] == "deal"
    assert deals["request"]["query"]["since_timestamp"] == "{{ (state.since | format_datetime('%Y-%m-%d %H:%M:%S')) if state.since else none }}"
    assert deals["cursor"] == {"field": "update_time", "type": "datetime", "start": "{{ config.replication_start_date }}"}
    assert deals["paginate"] == {"type": "cursor", "path": "additional_data.pagination.next_start", "param": "start"}
    assert "items" not in streams["leads"]["request"]["query"]  # no $parameters sets it there: Airbyte sends nothing
    assert "paginate" not in streams["lead_labels"]  # NoPagination
    # the parent written inside `mail` is a hidden stream over the list partition router
    assert streams["mailthreads"]["hidden"] is True
    assert streams["mailthreads"]["partitions"] == {"values": ["inbox", "drafts", "sent", "archive"]}
    assert streams["mailthreads"]["request"]["query"]["folder"] == "{{ partition }}"
    assert streams["mail"]["partitions"] == {"parent": "mailthreads"}
    assert streams["mail"]["request"]["path"] == "/mailbox/mailThreads/{{ partition.id }}/mailMessages"
    assert streams["deal_products"]["partitions"] == {"parent": "deals"}
    assert streams["users"]["records"] == "data.*.data.*"
    # the custom extractor is reported, with its manifest path and what to do
    assert "lost: definitions.selector_increment.extractor: custom extractor source_pipedrive.extractor.NullCheckedDpathExtractor" in stderr
    assert "do: write an extractor plugin (docs/plugins.md#stream-components-an-extractor-a-partition-router-a-slicer)" in stderr


def test_strava_oauth_refresh_and_page_numbers(tmp_path: Path) -> None:
    spec, _ = imported(tmp_path, "strava")
    assert spec["auth"] == {
        "type": "oauth2_refresh",
        "token_url": "https://www.strava.com/oauth/token",
        "client_id": "{{ config.client_id }}",
        "client_secret": "{{ config.client_secret }}",
        "scopes": ["read_all", "activity:read_all"],
        "refresh_token": "{{ config.refresh_token }}",
    }
    activities = spec["streams"]["activities"]
    assert activities["paginate"] == {"type": "page", "size": 30, "page_param": "page", "size_param": "per_page", "start": 1}
    assert activities["request"]["query"] == {"after": "{{ (state.since | timestamp) if state.since else none }}"}
    assert activities["schema"]["properties"]["id"]["type"] == "integer"  # the inline schema is kept


def test_sendgrid_next_urls_offsets_and_the_async_stream_reported(tmp_path: Path) -> None:
    spec, stderr = imported(tmp_path, "sendgrid")
    streams = spec["streams"]
    assert spec["auth"] == {"type": "bearer", "token": "{{ config.api_key }}"}
    assert streams["lists"]["paginate"] == {"type": "next_url", "path": "_metadata.next"}
    assert streams["lists"]["request"]["query"] == {"page_size": 1000}  # the first page's size; later pages follow the URL
    assert streams["bounces"]["paginate"] == {"type": "offset", "limit": 500, "offset_param": "offset", "limit_param": "limit"}
    assert streams["bounces"]["request"]["query"]["start_time"] == "{{ (state.since | timestamp) if state.since else none }}"
    assert streams["bounces"]["request"]["query"]["end_time"] == "{{ (state.until | timestamp) if state.until else none }}"
    # the AsyncRetriever stream is an export job: create, poll the status, download the files it lists
    assert streams["contacts"]["request"] == {"method": "POST", "path": "/v3/marketing/contacts/exports"}
    assert streams["contacts"]["export"] == {
        "id": {"path": "id"},
        "poll": {"request": {"path": "/v3/marketing/contacts/exports/{{job.id }}"}, "status": "status", "done": ["ready"],
                 "failed": ["failed", "timeout"]},
        "download": {"files": "urls", "url": "{{ file }}"},
    }
    assert "changed: streams[14].retriever.download_requester: the files are downloaded from the URLs the job lists" in stderr


def test_sendgrid_spec_reads_lists_by_next_url_and_contacts_through_an_export_job(tmp_path: Path) -> None:
    spec, _ = imported(tmp_path, "sendgrid")
    config = {"api_key": "SG.key", "start_date": "2024-01-01T00:00:00Z"}
    lists = [{"id": f"list-{i}", "name": f"List {i}", "contact_count": i} for i in range(5)]
    polls: list[int] = []
    with FakeAPI() as api:

        def list_page(request: Request) -> Any:
            start = int(request.args.get("page_token", "0"))
            size = int(request.args["page_size"])
            more = start + 2 < len(lists)
            metadata = {"next": f"{api.url}/v3/marketing/lists?page_size={size}&page_token={start + 2}"} if more else {}
            return reply({"result": lists[start : start + 2], "_metadata": metadata})

        def poll(request: Request) -> Any:
            polls.append(1)
            if len(polls) < 2:
                return reply({"id": "job-7", "status": "pending"})
            return reply({"id": "job-7", "status": "ready", "urls": [f"{api.url}/files/part-1.json", f"{api.url}/files/part-2.json"]})

        api.route("/v3/marketing/lists", list_page)
        api.json("/v3/marketing/contacts/exports", {"id": "job-7"}, method="POST")
        api.route("/v3/marketing/contacts/exports/job-7", poll)
        api.json("/files/part-1.json", [{"CONTACT_ID": "c1", "EMAIL": "a@example.com"}])
        api.json("/files/part-2.json", [{"CONTACT_ID": "c2", "EMAIL": "b@example.com"}])
        connector = open_against(tmp_path, spec, api.url, config)

        assert list(connector.read("lists")) == lists
        assert [r.query.get("page_token") for r in api.received("/v3/marketing/lists")] == [None, "2", "4"]
        assert all(r.header("Authorization") == "Bearer SG.key" for r in api.received("/v3/marketing/lists"))
        # contacts: the job is created, polled until `ready`, and each listed file is downloaded; keys lower-cased
        contacts = list(connector.read("contacts"))
        assert contacts == [{"contact_id": "c1", "email": "a@example.com"}, {"contact_id": "c2", "email": "b@example.com"}]
        assert len(api.received("/v3/marketing/contacts/exports", method="POST")) == 1
        assert len(polls) == 2


def test_greenhouse_basic_auth_link_headers_and_ignored_403(tmp_path: Path) -> None:
    spec, _ = imported(tmp_path, "greenhouse")
    assert spec["auth"] == {"type": "basic", "username": "{{ config.api_key }}", "password": ""}
    assert spec["errors"] == [{"status": 403, "action": "ignore"}]
    streams = spec["streams"]
    assert streams["applications"]["paginate"] == {"type": "next_url"}
    assert streams["applications"]["request"]["query"]["per_page"] == 100
    # a retriever given through $parameters is used, and the parent is a listed stream
    assert streams["demographics_answers_answer_options"]["partitions"] == {"parent": "demographics_questions"}
    assert "hidden" not in streams["demographics_questions"]


def test_mailchimp_selective_auth_and_grandparent_streams(tmp_path: Path) -> None:
    spec, stderr = imported(tmp_path, "mailchimp")
    assert spec["base_url"] == "https://{{ config.data_center }}.api.mailchimp.com/3.0"
    assert [choice["use"]["type"] for choice in spec["auth"]] == ["bearer", "basic"]
    assert spec["auth"][0]["when"] == "{{ config['credentials']['auth_type'] | default('') == 'oauth2.0' }}"
    streams = spec["streams"]
    assert streams["interests"]["partitions"] == {"parent": "interest_categories"}
    assert streams["interests"]["request"]["path"] == "/lists/{{ partition.parent_partition.id }}/interest-categories/{{ partition.id }}/interests"
    assert streams["lists"]["paginate"] == {"type": "offset", "limit": 1000, "offset_param": "offset", "limit_param": "count"}
    # the API key the basic auth falls back to is read by a template but not in the manifest's spec: declared, and reported
    assert "apikey" in spec["config"]["properties"]
    assert "changed: spec.json (beside the manifest): connectionSpecification.properties: the setting 'apikey' is used but not declared" in stderr


def test_the_interop_guide_shows_the_report_the_command_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "interop.md").read_text(encoding="utf-8")
    [shown] = re.findall(r"```\n(pipedrive\.yaml: .*?)```", guide, re.S)
    (tmp_path / "tests" / "importers").mkdir(parents=True)
    (tmp_path / "tests" / "importers" / "manifests").symlink_to(MANIFESTS)
    monkeypatch.chdir(tmp_path)
    result = run_import(Path("tests/importers/manifests/source-pipedrive/manifest.yaml"), Path("pipedrive.yaml"))
    assert result.exit_code == 0
    assert result.stderr == shown


# -- converted specs against a local fake of the API -------------------------------------------------


def sentry_events(api: FakeAPI, events: list[dict[str, Any]]) -> None:
    """Sentry's events endpoint: newest first, 2 a page, pages chained by the Link header's cursor."""

    def handler(request: Request) -> Any:
        start = int(request.args.get("cursor", "0"))
        page = events[start : start + 2]
        more = start + 2 < len(events)
        base = f"{api.url}{request.path}"
        link = (f'<{base}?cursor={max(start - 2, 0)}>; rel="previous"; results="{str(start > 0).lower()}"; cursor="{max(start - 2, 0)}", '
                f'<{base}?cursor={start + 2}>; rel="next"; results="{str(more).lower()}"; cursor="{start + 2}"')
        return reply(page, headers={"Link": link})

    api.route("/api/0/projects/acme/web/events/", handler)


def test_sentry_spec_reads_events_through_link_cursors_and_resumes(tmp_path: Path) -> None:
    spec, _ = imported(tmp_path, "sentry")
    config = {"auth_token": "tok-123", "hostname": "unused.example", "organization": "acme", "project": "web"}
    events = [{"id": str(i), "dateCreated": f"2024-05-0{i}T10:00:00Z", "title": f"event {i}"} for i in range(5, 0, -1)]
    with FakeAPI() as api:
        sentry_events(api, events)
        connector = open_against(tmp_path, spec, f"{api.url}/api/0", config)
        states: list[dict[str, Any]] = []
        first = list(connector.read("events", on_checkpoint=states.append))
        # what the manifest implies: every event, each page asked for by the cursor of the Link header's next link,
        # with `full=true` and the bearer token, and no request for the page whose link says results="false"
        assert first == events
        received = api.received("/api/0/projects/acme/web/events/")
        assert [r.query.get("cursor") for r in received] == [None, "2", "4"]
        assert all(r.query["full"] == "true" and r.header("Authorization") == "Bearer tok-123" for r in received)
        # a later read from the saved state: the data feed still answers everything, only the new event is emitted
        events.insert(0, {"id": "6", "dateCreated": "2024-05-06T10:00:00Z", "title": "event 6"})
        again = list(open_against(tmp_path, spec, f"{api.url}/api/0", config).read("events", states[-1]))
        assert again == [events[0]]


def pipedrive_pages(api: FakeAPI, path: str, data: list[dict[str, Any]], size: int = 2) -> None:
    """Pipedrive's list pages: `start` and `limit`, the next start in additional_data.pagination."""

    def handler(request: Request) -> Any:
        assert request.args["api_token"] == "pd-token"
        start = int(request.args.get("start", "0"))
        page = data[start : start + size]
        pagination: dict[str, Any] = {"start": start, "limit": size, "more_items_in_collection": start + size < len(data)}
        if start + size < len(data):
            pagination["next_start"] = start + size
        return reply({"success": True, "data": page, "additional_data": {"pagination": pagination}})

    api.route(path, handler)


def test_pipedrive_spec_reads_pages_and_mail_through_a_hidden_parent(tmp_path: Path) -> None:
    spec, _ = imported(tmp_path, "pipedrive")
    config = {"api_token": "pd-token", "replication_start_date": "2024-01-01T00:00:00Z"}
    leads = [{"id": f"lead-{i}", "title": f"Lead {i}"} for i in range(5)]
    threads = {"inbox": [{"id": 1}, {"id": 2}], "drafts": [], "sent": [{"id": 3}], "archive": []}
    with FakeAPI() as api:
        pipedrive_pages(api, "/v1/leads", leads)
        api.route("/v1/mailbox/mailThreads", lambda request: reply({"success": True, "data": threads[request.args["folder"]]}))
        for thread in (1, 2, 3):
            messages = [{"id": thread * 10 + k, "thread_id": thread} for k in range(2)]
            pipedrive_pages(api, f"/v1/mailbox/mailThreads/{thread}/mailMessages", messages, size=1)
        connector = open_against(tmp_path, spec, f"{api.url}/v1", config)

        assert list(connector.read("leads")) == leads
        assert [r.query.get("start") for r in api.received("/v1/leads")] == [None, "2", "4"]
        assert {r.query["limit"] for r in api.received("/v1/leads")} == {"50"}

        # mail: the threads of every folder (the hidden parent, once per listed folder), then each thread's messages
        mail = list(connector.read("mail"))
        assert sorted(m["id"] for m in mail) == [10, 11, 20, 21, 30, 31]
        assert sorted(r.query["folder"] for r in api.received("/v1/mailbox/mailThreads")) == ["archive", "drafts", "inbox", "sent"]
        with pytest.raises(Exception, match="mailthreads"):  # the helper stream itself is not readable
            list(connector.read("mailthreads"))


def test_strava_spec_refreshes_its_token_and_pages_by_number_from_the_start_date(tmp_path: Path) -> None:
    spec, _ = imported(tmp_path, "strava")
    config = {"client_id": "123", "client_secret": "c5e1", "refresh_token": "abc123", "athlete_id": 42, "start_date": "2024-01-01T00:00:00Z"}
    activities = [{"id": i, "name": f"Run {i}", "start_date": f"2024-02-{1 + i // 2:02d}T0{i % 2}:00:00Z"} for i in range(35)]
    with FakeAPI() as api:
        api.json("/oauth/token", {"access_token": "at-1", "token_type": "Bearer", "expires_in": 21600, "refresh_token": "abc123"}, method="POST")

        def pages(request: Request) -> Any:
            page, size = int(request.args["page"]), int(request.args["per_page"])
            return reply(activities[(page - 1) * size : page * size])

        api.route("/api/v3/athlete/activities", pages)
        api.json("/api/v3/athletes/42/stats", {"biggest_ride_distance": 120.5, "all_run_totals": {"count": 35}})
        # the token endpoint is an absolute URL in the manifest: it moves to the fake with the base URL
        spec["auth"]["token_url"] = f"{api.url}/oauth/token"
        connector = open_against(tmp_path, spec, f"{api.url}/api/v3", config)
        read = list(connector.read("activities"))
        stats = list(connector.read("athlete_stats"))
        token_requests = api.received("/oauth/token")
        received = api.received("/api/v3/athlete/activities")
    assert read == activities
    assert stats == [{"biggest_ride_distance": 120.5, "all_run_totals": {"count": 35}}]
    # pages 1 and 2 of 30 (the second is short: the last), from the start date as epoch seconds, with the refreshed token
    assert [(r.query["page"], r.query["per_page"], r.query["after"]) for r in received] == [("1", "30", "1704067200"), ("2", "30", "1704067200")]
    assert all(r.header("Authorization") == "Bearer at-1" for r in received)
    assert len(token_requests) == 1
    form = dict(pair.split("=", 1) for pair in token_requests[0].body.decode().split("&"))
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "abc123" and form["client_id"] == "123"


# -- the report ----------------------------------------------------------------------------------------

UNCONVERTIBLE = """
version: 6.0.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [tickets]}
definitions:
  requester:
    type: HttpRequester
    url_base: "https://api.example.com/v2"
    authenticator: {type: CustomAuthenticator, class_name: source_example.components.SignedAuth}
  tickets:
    type: DeclarativeStream
    name: tickets
    primary_key: id
    retriever:
      type: SimpleRetriever
      requester: {$ref: "#/definitions/requester", path: /tickets}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [tickets]}}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: after}
        pagination_strategy: {type: CursorPagination, cursor_value: "{{ last_record['id'] }}"}
      partition_router: {type: CustomPartitionRouter, class_name: source_example.components.Regions}
    transformations:
      - {type: AddFields, fields: [{path: [region], value: "{{ stream_partition.region }}"}]}
streams:
  - $ref: "#/definitions/tickets"
spec:
  type: Spec
  connection_specification:
    type: object
    properties: {api_key: {type: string, airbyte_secret: true}}
"""


def test_the_report_names_each_unconvertible_component_with_its_path_and_what_to_do(tmp_path: Path) -> None:
    manifest = tmp_path / "source-example" / "manifest.yaml"
    manifest.parent.mkdir()
    manifest.write_text(UNCONVERTIBLE, encoding="utf-8")
    output = tmp_path / "example.yaml"
    result = run_import(manifest, output)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"{output}: 1 stream imported from {manifest}; 4 findings need a look"
    expected = [
        ("  lost: definitions.requester.authenticator: custom authenticator source_example.components.SignedAuth: requests go out unauthenticated",
         "    do: write an auth plugin (docs/plugins.md#an-auth-type) and set `auth` to it"),
        ("  lost: definitions.tickets.retriever.partition_router: custom partition router source_example.components.Regions: the stream is read once, unpartitioned",
         "    do: write a partition router plugin (docs/plugins.md#stream-components-an-extractor-a-partition-router-a-slicer) and set partitions.router"),
        ("  lost: definitions.tickets.retriever.paginator.pagination_strategy: cursor_value \"{{ last_record['id'] }}\" (e.g. a token from last_record) "
         "has no connector-core paginator: the stream reads one page",
         "    do: write a paginator plugin (docs/plugins.md#a-paginator) and set the stream's `paginate` to it"),
    ]
    for finding, todo in expected:
        assert finding in lines, result.stderr
        assert lines[lines.index(finding) + 1] == todo
    assert any(line.startswith("  lost: definitions.tickets.transformations[0].fields[0].value: added field value") for line in lines)
    assert lines[-1] == f"{output}: valid connector spec"
    spec = yaml.safe_load(output.read_text(encoding="utf-8"))
    assert "auth" not in spec and "partitions" not in spec["streams"]["tickets"]
    assert spec["config"]["properties"]["api_key"] == {"type": "string", "secret": True}
    assert output.read_text(encoding="utf-8").startswith("# Imported from an Airbyte manifest")


def test_a_file_that_is_not_a_manifest_is_refused_with_a_located_message(tmp_path: Path) -> None:
    not_manifest = tmp_path / "spec.yaml"
    not_manifest.write_text("name: shop\nbase_url: http://x\n", encoding="utf-8")
    result = run_import(not_manifest, tmp_path / "out.yaml")
    assert result.exit_code == 1
    assert f"error: {not_manifest}: not an Airbyte declarative manifest" in result.stderr
    assert "Traceback" not in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("type: DeclarativeSource\nstreams: [\n", encoding="utf-8")
    result = run_import(broken, tmp_path / "out.yaml")
    assert result.exit_code == 1
    assert f"error: {broken}:3:1: the manifest is not valid YAML" in result.stderr


def test_an_output_that_cannot_be_written_is_a_user_error(tmp_path: Path) -> None:
    manifest = MANIFESTS / "source-sentry" / "manifest.yaml"
    result = run_import(manifest, tmp_path / "missing-folder" / "sentry.yaml")
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'missing-folder' / 'sentry.yaml'}: cannot write the spec" in result.stderr
    copy = tmp_path / "manifest.yaml"
    copy.write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_import(copy, copy)
    assert result.exit_code == 1 and "would overwrite the manifest" in result.stderr
    assert copy.read_text(encoding="utf-8") == manifest.read_text(encoding="utf-8")


def test_a_reference_cycle_is_a_located_error(tmp_path: Path) -> None:
    manifest = tmp_path / "cycle.yaml"
    manifest.write_text("type: DeclarativeSource\ndefinitions:\n  a: {$ref: '#/definitions/b'}\n  b: {$ref: '#/definitions/a'}\nstreams: []\n",
                        encoding="utf-8")
    result = run_import(manifest, tmp_path / "out.yaml")
    assert result.exit_code == 1
    assert "reference cycle" in result.stderr
