"""The URL map: each REST resource the emulator serves, by endpoint name, and its handler."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.routing import BaseConverter, Map, Rule

from . import api_bulk, api_composite, api_org, api_query, api_sobjects
from .call import Reply


class VersionConverter(BaseConverter):
    """``59.0`` in ``/services/data/v59.0/``."""

    regex = r"\d{2}\.\d"


Handler = Callable[..., Reply]

_DATA = "/services/data/v<version:version>"

#: Authenticated API endpoints: (rule, methods, endpoint name, handler).
API_ROUTES: list[tuple[str, list[str], str, Handler]] = [
    ("", ["GET"], "resources", api_org.resources),
    ("/limits", ["GET"], "limits", api_org.limits),
    ("/sobjects", ["GET"], "sobjects.global_describe", api_sobjects.global_describe),
    ("/sobjects/<sobject_name>", ["GET"], "sobjects.info", api_sobjects.sobject_info),
    ("/sobjects/<sobject_name>", ["POST"], "sobjects.create", api_sobjects.create),
    ("/sobjects/<sobject_name>/describe", ["GET"], "sobjects.describe", api_sobjects.describe),
    ("/sobjects/<sobject_name>/updated", ["GET"], "sobjects.updated", api_sobjects.updated),
    ("/sobjects/<sobject_name>/deleted", ["GET"], "sobjects.deleted", api_sobjects.deleted),
    ("/sobjects/<sobject_name>/<record_id>", ["GET"], "sobjects.read", api_sobjects.read),
    ("/sobjects/<sobject_name>/<record_id>", ["PATCH"], "sobjects.update", api_sobjects.update),
    ("/sobjects/<sobject_name>/<record_id>", ["DELETE"], "sobjects.delete", api_sobjects.delete),
    ("/sobjects/<sobject_name>/<field_name>/<value>", ["GET"], "sobjects.read_by_external_id",
     api_sobjects.read_by_external_id),
    ("/sobjects/<sobject_name>/<field_name>/<value>", ["PATCH"], "sobjects.upsert", api_sobjects.upsert),
    ("/query", ["GET"], "query", api_query.query),
    ("/query/<locator>", ["GET"], "query.next", api_query.next_page),
    ("/queryAll", ["GET"], "queryAll", api_query.query_all),
    ("/queryAll/<locator>", ["GET"], "queryAll.next", api_query.next_page),
    ("/composite/sobjects", ["POST"], "composite.create", api_composite.create),
    ("/composite/sobjects", ["PATCH"], "composite.update", api_composite.update),
    ("/composite/sobjects", ["DELETE"], "composite.delete", api_composite.delete),
    ("/composite/sobjects/<sobject_name>", ["GET"], "composite.retrieve", api_composite.retrieve),
    ("/composite/sobjects/<sobject_name>/<field_name>", ["PATCH"], "composite.upsert", api_composite.upsert),
    ("/jobs/query", ["POST"], "bulk.create", api_bulk.create_job),
    ("/jobs/query", ["GET"], "bulk.list", api_bulk.list_jobs),
    ("/jobs/query/<job_id>", ["GET"], "bulk.status", api_bulk.job_status),
    ("/jobs/query/<job_id>", ["PATCH"], "bulk.abort", api_bulk.abort_job),
    ("/jobs/query/<job_id>", ["DELETE"], "bulk.delete", api_bulk.delete_job),
    ("/jobs/query/<job_id>/results", ["GET"], "bulk.results", api_bulk.job_results),
]

API_HANDLERS: dict[str, Handler] = {name: handler for _, _, name, handler in API_ROUTES}

#: Endpoints answered without a session.
OPEN_ENDPOINTS = ("versions", "oauth.token", "oauth.authorize", "oauth.revoke")


def _rules() -> list[Rule]:
    rules = [Rule(_DATA + rule, methods=methods, endpoint=name) for rule, methods, name, _ in API_ROUTES]
    rules += [
        Rule("/services/data", methods=["GET"], endpoint="versions"),
        Rule("/services/data/", methods=["GET"], endpoint="versions"),
        Rule("/services/oauth2/token", methods=["POST", "GET"], endpoint="oauth.token"),
        Rule("/services/oauth2/authorize", methods=["GET"], endpoint="oauth.authorize"),
        Rule("/services/oauth2/revoke", methods=["POST", "GET"], endpoint="oauth.revoke"),
    ]
    return rules


URL_MAP = Map(_rules(), converters={"version": VersionConverter}, strict_slashes=False, merge_slashes=False)


def endpoint_args(args: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split the matched rule's variables into the API version and the handler's arguments."""
    rest = dict(args)
    return str(rest.pop("version", "")), rest
