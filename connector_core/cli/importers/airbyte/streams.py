"""One Airbyte ``DeclarativeStream`` as a connector-core stream, with its partitions and parent streams.

A ``SubstreamPartitionRouter`` becomes ``partitions: {parent, field}``: the parent's ``parent_key`` is
``partition.id``, which is what the child's ``stream_partition.<partition_field>`` becomes. A parent
stream that the manifest does not list among its streams becomes a hidden helper stream. A
``ListPartitionRouter`` becomes ``partitions: {values}`` and its ``stream_partition.<cursor_field>`` is
``partition``. What belongs to the whole connector in connector-core (the base URL, the auth, the error
handling) is collected for :mod:`~connector_core.cli.importers.airbyte.convert` to settle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector_core.cli.importers.airbyte.asyncjob import ExportParts, convert_async
from connector_core.cli.importers.airbyte.context import Conversion, custom_class
from connector_core.cli.importers.airbyte.errors_map import ErrorHandling
from connector_core.cli.importers.airbyte.incremental import Cursor, convert_cursor
from connector_core.cli.importers.airbyte.paging import Paging, convert_paginator
from connector_core.cli.importers.airbyte.records import (
    convert_decoder,
    convert_schema,
    convert_selector,
    convert_transformations,
)
from connector_core.cli.importers.airbyte.templates import CONFIG_ONLY, RECORD, REQUEST, Scope

ROUTER_HOOK = ("write a partition router plugin (docs/plugins.md#stream-components-an-extractor-a-partition-router-a-slicer) "
               "and set partitions.router")


@dataclass
class Requester:
    """What a stream's requester says that connector-core keeps at the connector level."""

    url_base: str | None
    auth: Any
    auth_at: str


@dataclass
class Partitioning:
    spec: dict[str, Any] | None = None
    slice_fields: dict[str, str] = field(default_factory=dict)
    inject: list[tuple[dict[str, Any], str]] = field(default_factory=list)


class StreamConverter:
    """Converts streams one by one into ``streams``; parents first met inside a child become hidden streams."""

    def __init__(self, conv: Conversion, listed: dict[str, Any], manifest_dir: Path | None) -> None:
        self.conv = conv
        self.listed = listed  # name -> resolved stream node, as the manifest lists them
        self.manifest_dir = manifest_dir
        self.streams: dict[str, dict[str, Any]] = {}
        self.requesters: dict[str, Requester] = {}
        self.errors = ErrorHandling()
        self._hidden: set[str] = set()

    def convert(self, name: str, node: dict[str, Any], *, hidden: bool = False) -> None:
        if name in self.streams:
            return
        conv = self.conv
        at = conv.where(node, f"streams.{name}")
        retriever = conv.resolved.field(node, "retriever") or {}
        r_at = conv.where(retriever, f"{at}.retriever")
        job: ExportParts | None = None
        if retriever.get("type") == "AsyncRetriever" and not custom_class(retriever):
            job = convert_async(retriever, conv, r_at)
            if job is None:
                return
        elif retriever.get("type") != "SimpleRetriever" or custom_class(retriever):
            what = custom_class(retriever) or retriever.get("type")
            conv.lost(r_at, f"stream '{name}' uses a {what} retriever, which is not converted: the stream is left out",
                      "write the stream by hand (docs/spec-reference.md#stream)")
            return
        self.streams[name] = {}  # claimed before its parents, so a cycle stops here
        requester = job.creation if job else (retriever.get("requester") or {})
        q_at = conv.where(requester, f"{r_at}.creation_requester" if job else f"{r_at}.requester")
        cursor = convert_cursor(node.get("incremental_sync"), conv, f"{at}.incremental_sync")
        partitioning = Partitioning() if job else self._partitions(retriever, r_at)
        paging = Paging() if job else convert_paginator(retriever.get("paginator"), conv, f"{r_at}.paginator")
        scope = Scope(allowed=REQUEST, params=conv.resolved.params(requester),
                      slice_fields={**cursor.slice_fields, **partitioning.slice_fields}, page_expr=paging.page_expr)
        stream: dict[str, Any] = {}
        if hidden:
            stream["hidden"] = True
        stream["request"], self.requesters[name] = self._request(requester, q_at, scope, cursor, partitioning)
        for key, value in (paging.first_query or {}).items():
            stream["request"].setdefault("query", {}).setdefault(key, value)
        _token_from_parameters(paging.spec, retriever.get("paginator"), requester, stream["request"])
        if paging.spec is not None:
            stream["paginate"] = paging.spec
        record_scope = Scope(allowed=RECORD, params=conv.resolved.params(retriever), slice_fields=partitioning.slice_fields)
        cursor_field = (cursor.spec or {}).get("field")
        records = convert_selector(retriever.get("record_selector"), conv, f"{r_at}.record_selector", record_scope, cursor_field)
        if records:
            stream["records"] = records
        primary_key = _primary_key(conv.resolved.field(node, "primary_key"))
        if primary_key:
            stream["primary_key"] = primary_key
        if cursor.spec:
            stream["cursor"] = cursor.spec
        if partitioning.spec:
            stream["partitions"] = partitioning.spec
        schema = convert_schema(node.get("schema_loader"), conv, f"{at}.schema_loader", self.manifest_dir)
        if schema:
            stream["schema"] = schema
        transforms = convert_transformations(node.get("transformations"), conv, f"{at}.transformations", partitioning.slice_fields)
        if transforms:
            stream["transforms"] = transforms
        if job:
            stream["export"] = job.export
        decoder_node = job.decoder if job else (retriever.get("decoder") or requester.get("decoder"))
        decoder = convert_decoder(decoder_node, conv, f"{r_at}.download_decoder" if job else f"{r_at}.decoder")
        if decoder:
            stream["decoder"] = decoder
        for key_name in ("state_migrations", "file_uploader"):
            if node.get(key_name):
                conv.lost(f"{at}.{key_name}", f"{key_name} is not converted", "nothing in connector-core needs it; drop it", "note")
        self.errors.add(requester.get("error_handler"), conv, f"{q_at}.error_handler")
        self.streams[name] = stream

    # -- request ---------------------------------------------------------------------------------------

    def _request(
        self, requester: dict[str, Any], at: str, scope: Scope, cursor: Cursor, partitioning: Partitioning
    ) -> tuple[dict[str, Any], Requester]:
        conv = self.conv
        if custom_class(requester):
            conv.lost(at, f"custom requester {custom_class(requester)}: only its url_base and path are read",
                      "write the request by hand (docs/spec-reference.md#requestspec)")
        config_scope = Scope(allowed=CONFIG_ONLY, params=scope.params)
        url = conv.resolved.field(requester, "url")
        url_base = conv.resolved.field(requester, "url_base")
        path = conv.resolved.field(requester, "path")
        if url and not url_base:
            match = re.match(r"^(\w+://[^/]+)(.*)$", str(url))
            url_base, path = (match.group(1), match.group(2)) if match else (url, "")
        base = conv.template(url_base, config_scope, f"{at}.url_base", "url_base") if url_base else None
        request: dict[str, Any] = {}
        if str(requester.get("http_method", "GET")).upper() != "GET":
            request["method"] = str(requester["http_method"]).upper()
        path_text = conv.template(str(path), scope, f"{at}.path", "path") if path else ""
        request["path"] = "/" + str(path_text or "").lstrip("/")
        query = self._mapping(requester.get("request_parameters"), scope, f"{at}.request_parameters")
        headers = self._mapping(requester.get("request_headers"), scope, f"{at}.request_headers")
        body = self._body(requester, scope, at)
        for option, template in [*cursor.inject, *partitioning.inject]:
            place = option.get("inject_into", "request_parameter")
            name = option.get("field_name") or ".".join(option.get("field_path") or [])
            target = {"request_parameter": query, "header": headers}.get(place)
            if target is None:
                target = body.setdefault("json" if place == "body_json" else "form", {})
            if isinstance(target, dict) and name:
                target[name] = template
        if query:
            request["query"] = query
        if headers:
            request["headers"] = {k: str(v) for k, v in headers.items()}
        request.update({k: v for k, v in body.items() if v not in (None, {}, "")})
        auth = requester.get("authenticator")
        return request, Requester(base, auth, conv.where(auth, f"{at}.authenticator"))

    def _mapping(self, value: Any, scope: Scope, at: str) -> dict[str, Any]:
        if value in (None, {}, ""):
            return {}
        if not isinstance(value, dict):
            self.conv.lost(at, f"{value!r} is one template for the whole mapping: left out", "write the parameters by hand")
            return {}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(item, str | int | float | bool):
                self.conv.lost(f"{at}.{key}", f"{item!r} is not a plain value: left out", "write it by hand")
                continue
            converted = self.conv.template(item, scope, f"{at}.{key}", f"'{key}'")
            if converted is not None:  # None: left out (reported), or a parameter nothing sets
                out[str(key)] = converted
        return out

    def _body(self, requester: dict[str, Any], scope: Scope, at: str) -> dict[str, Any]:
        body = requester.get("request_body")
        if isinstance(body, dict) and "type" in body:
            kind, value = body.get("type"), body.get("value")
            key = {"RequestBodyJsonObject": "json", "RequestBodyUrlEncodedForm": "form", "RequestBodyPlainText": "body",
                   "RequestBodyGraphQL": "json"}.get(str(kind))
            if key is None:
                self.conv.lost(f"{at}.request_body", f"request body {kind!r} is not converted", "write the body by hand")
                return {}
            converted = self.conv.template(value, scope, f"{at}.request_body", "request body")
            return {key: converted} if converted not in (None, {}) else {}
        out: dict[str, Any] = {}
        for key, ours in (("request_body_json", "json"), ("request_body_data", "form")):
            value = requester.get(key)
            if value in (None, {}, ""):
                continue
            converted = self.conv.template(value, scope, f"{at}.{key}", key.replace("_", " "))
            if converted is not None:
                out["body" if ours == "form" and isinstance(converted, str) else ours] = converted
        return out

    # -- partitions ------------------------------------------------------------------------------------

    def _partitions(self, retriever: dict[str, Any], at: str) -> Partitioning:
        routers = retriever.get("partition_router", retriever.get("stream_slicer"))
        routers = [r for r in (routers if isinstance(routers, list) else [routers]) if isinstance(r, dict)]
        if not routers:
            return Partitioning()
        if len(routers) > 1:
            self.conv.lost(f"{at}.partition_router", f"{len(routers)} partition routers combined: only the first is converted", ROUTER_HOOK)
        router = routers[0]
        r_at = self.conv.where(router, f"{at}.partition_router")
        kind = router.get("type")
        if custom_class(router):
            self.conv.lost(r_at, f"custom partition router {custom_class(router)}: the stream is read once, unpartitioned", ROUTER_HOOK)
            return Partitioning()
        if kind == "ListPartitionRouter":
            return self._list(router, r_at)
        if kind == "SubstreamPartitionRouter":
            return self._substream(router, r_at)
        self.conv.lost(r_at, f"partition router {kind!r} is not converted: the stream is read once, unpartitioned", ROUTER_HOOK)
        return Partitioning()

    def _list(self, router: dict[str, Any], at: str) -> Partitioning:
        values = router.get("values")
        scope = Scope(allowed=CONFIG_ONLY, params=self.conv.resolved.params(router))
        converted = self.conv.template(values, scope, f"{at}.values", "values")
        if converted is None:
            return Partitioning()
        name = str(router.get("cursor_field") or "value")
        part = Partitioning({"values": converted}, {name: "partition"})
        if isinstance(router.get("request_option"), dict):
            part.inject.append((router["request_option"], "{{ partition }}"))
        return part

    def _substream(self, router: dict[str, Any], at: str) -> Partitioning:
        configs = [c for c in router.get("parent_stream_configs") or [] if isinstance(c, dict)]
        if not configs:
            return Partitioning()
        if len(configs) > 1:
            self.conv.lost(f"{at}.parent_stream_configs", f"{len(configs)} parent streams: only the first is converted", ROUTER_HOOK)
        config = configs[0]
        c_at = self.conv.where(config, f"{at}.parent_stream_configs[0]")
        parent = config.get("stream")
        if not isinstance(parent, dict):
            self.conv.lost(c_at, "the parent stream could not be found: the stream is read once, unpartitioned", ROUTER_HOOK)
            return Partitioning()
        parent_name = self._parent_name(parent, c_at)
        if parent_name is None:
            return Partitioning()
        parent_key = str(config.get("parent_key") or "id")
        partition_field = str(config.get("partition_field") or "parent_id")
        spec: dict[str, Any] = {"parent": parent_name}
        if parent_key != "id":
            spec["field"] = parent_key
        fields = {partition_field: "partition.id"}
        if "parent" in (self.streams.get(parent_name, {}).get("partitions") or {}):
            fields["parent_slice"] = "partition.parent_partition"  # the grandparent's partition, as Airbyte's parent_slice
        for path in config.get("extra_fields") or []:
            fields[".".join(map(str, path))] = "partition.parent." + ".".join(map(str, path))
        for key in ("incremental_dependency", "lazy_read_pointer"):
            if config.get(key):
                self.conv.lost(f"{c_at}.{key}", f"{key} is not converted: the parent stream is read in full for each read",
                               ROUTER_HOOK, "changed")
        part = Partitioning(spec, fields)
        if isinstance(config.get("request_option"), dict):
            part.inject.append((config["request_option"], "{{ partition.id }}"))
        return part

    def _parent_name(self, parent: dict[str, Any], at: str) -> str | None:
        name = self.conv.resolved.field(parent, "name")
        if isinstance(name, str) and name in self.listed:
            if name not in self.streams:
                self.convert(name, self.listed[name])
            return name
        hidden_name = f"{name}" if isinstance(name, str) and name else f"parent_of_{len(self._hidden) + 1}"
        if hidden_name in self.listed:
            hidden_name = f"{hidden_name}_parent"
        if hidden_name not in self.streams:
            self._hidden.add(hidden_name)
            self.convert(hidden_name, parent, hidden=True)
        return hidden_name if self.streams.get(hidden_name) else None


_PAGE_PARAMS = {"cursor": "param", "offset": "offset_param", "page": "page_param"}


def _token_from_parameters(spec: dict[str, Any] | None, paginator: Any, requester: dict[str, Any], request: dict[str, Any]) -> None:
    """A manifest without a ``page_token_option`` sends the token itself, as a request parameter naming
    ``next_page_token``: that parameter becomes the paginator's, so the token is not sent twice."""
    if spec is None or spec.get("type") not in _PAGE_PARAMS or not isinstance(paginator, dict) or paginator.get("page_token_option"):
        return
    parameters = requester.get("request_parameters")
    if not isinstance(parameters, dict):
        return
    for key, value in parameters.items():
        if isinstance(value, str) and "next_page_token" in value and key in request.get("query", {}):
            spec[_PAGE_PARAMS[spec["type"]]] = key
            del request["query"][key]
            if not request["query"]:
                del request["query"]
            return


def _primary_key(value: Any) -> str | list[str] | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, list):
        keys = [".".join(map(str, k)) if isinstance(k, list) else str(k) for k in value]
        keys = [k for k in keys if k]
        if not keys:
            return None
        return keys[0] if len(keys) == 1 else keys
    return None


__all__ = ["Requester", "StreamConverter"]
