"""URL map of the emulated HubSpot API."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Map, Rule

from .api import associations_api, batch, oauth_api, objects, pipelines_api, properties_api, search_api
from .api.context import Reply

#: endpoint name -> handler, called with the request context and the URL rule's arguments
HANDLERS: dict[str, Callable[..., Reply]] = {
    "objects.list": objects.list_objects,
    "objects.create": objects.create_object,
    "objects.get": objects.get_object,
    "objects.update": objects.update_object,
    "objects.archive": objects.archive_object,
    "objects.batch": batch.batch,
    "objects.search": search_api.search,
    "assoc.list": associations_api.list_associations,
    "assoc.put_default": associations_api.put_default,
    "assoc.put": associations_api.put_labelled,
    "assoc.delete": associations_api.delete_association,
    "assoc.batch": associations_api.batch,
    "assoc.labels": associations_api.labels,
    "properties.list": properties_api.list_properties,
    "properties.create": properties_api.create_property,
    "properties.get": properties_api.get_property,
    "properties.update": properties_api.update_property,
    "properties.delete": properties_api.delete_property,
    "properties.batch_read": properties_api.batch_read_properties,
    "properties.groups": properties_api.list_groups,
    "properties.group_create": properties_api.create_group,
    "pipelines.list": pipelines_api.list_pipelines,
    "pipelines.get": pipelines_api.get_pipeline,
    "pipelines.stages": pipelines_api.list_stages,
    "pipelines.stage": pipelines_api.get_stage,
}

#: Endpoints served without a bearer token.
OAUTH_HANDLERS: dict[str, Callable[..., Reply]] = {
    "oauth.token": oauth_api.token,
    "oauth.token_info": oauth_api.access_token_info,
}

_O = "/crm/v3/objects/<otype>"
_A = "/crm/v4/objects/<ft>/<fid>/associations"
_P = "/crm/v3/properties/<otype>"
_PL = "/crm/v3/pipelines/<otype>"

URL_MAP = Map(
    [
        Rule("/oauth/v1/token", endpoint="oauth.token", methods=["POST"]),
        Rule("/oauth/v3/token", endpoint="oauth.token", methods=["POST"]),
        Rule("/oauth/v1/access-tokens/<token_value>", endpoint="oauth.token_info", methods=["GET"]),
        Rule(_O, endpoint="objects.list", methods=["GET"]),
        Rule(_O, endpoint="objects.create", methods=["POST"]),
        Rule(f"{_O}/search", endpoint="objects.search", methods=["POST"]),
        Rule(f"{_O}/batch/<op>", endpoint="objects.batch", methods=["POST"]),
        Rule(f"{_O}/<oid>", endpoint="objects.get", methods=["GET"]),
        Rule(f"{_O}/<oid>", endpoint="objects.update", methods=["PATCH"]),
        Rule(f"{_O}/<oid>", endpoint="objects.archive", methods=["DELETE"]),
        Rule(f"{_A}/<tt>", endpoint="assoc.list", methods=["GET"]),
        Rule(f"{_A}/default/<tt>/<tid>", endpoint="assoc.put_default", methods=["PUT"]),
        Rule(f"{_A}/<tt>/<tid>", endpoint="assoc.put", methods=["PUT"]),
        Rule(f"{_A}/<tt>/<tid>", endpoint="assoc.delete", methods=["DELETE"]),
        Rule("/crm/v4/associations/<ft>/<tt>/batch/<path:op>", endpoint="assoc.batch", methods=["POST"]),
        Rule("/crm/v4/associations/<ft>/<tt>/labels", endpoint="assoc.labels", methods=["GET"]),
        Rule(_P, endpoint="properties.list", methods=["GET"]),
        Rule(_P, endpoint="properties.create", methods=["POST"]),
        Rule(f"{_P}/groups", endpoint="properties.groups", methods=["GET"]),
        Rule(f"{_P}/groups", endpoint="properties.group_create", methods=["POST"]),
        Rule(f"{_P}/batch/read", endpoint="properties.batch_read", methods=["POST"]),
        Rule(f"{_P}/<name>", endpoint="properties.get", methods=["GET"]),
        Rule(f"{_P}/<name>", endpoint="properties.update", methods=["PATCH"]),
        Rule(f"{_P}/<name>", endpoint="properties.delete", methods=["DELETE"]),
        Rule(_PL, endpoint="pipelines.list", methods=["GET"]),
        Rule(f"{_PL}/<pid>", endpoint="pipelines.get", methods=["GET"]),
        Rule(f"{_PL}/<pid>/stages", endpoint="pipelines.stages", methods=["GET"]),
        Rule(f"{_PL}/<pid>/stages/<sid>", endpoint="pipelines.stage", methods=["GET"]),
    ],
    strict_slashes=False,
    merge_slashes=False,
)
