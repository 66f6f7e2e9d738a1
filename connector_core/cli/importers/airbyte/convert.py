"""An Airbyte declarative manifest as a connector-core spec: the whole-connector parts.

Streams are converted one by one (:mod:`.streams`); what connector-core says once per connector is
settled here: the base URL (the ``url_base`` most streams share; a stream under a longer one keeps the
rest in its path), the auth (the most common authenticator), the config schema (the manifest's
``spec``, or a ``spec.json`` / ``spec.yaml`` beside it), the connection check, concurrency, retries
and error rules.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from connector_core.cli.importers.airbyte.auth import convert_auth
from connector_core.cli.importers.airbyte.context import Conversion
from connector_core.cli.importers.airbyte.report import Report
from connector_core.cli.importers.airbyte.resolve import Resolved
from connector_core.cli.importers.airbyte.streams import StreamConverter
from connector_core.cli.importers.airbyte.templates import CONFIG_ONLY, Scope
from connector_core.errors import SpecError

_STREAM_KINDS = ("DeclarativeStream", None)


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest's YAML, or a SpecError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the manifest ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise SpecError(f"{where}: the manifest is not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(data, dict) or not (data.get("type") == "DeclarativeSource" or "streams" in data or "dynamic_streams" in data):
        raise SpecError(
            f"{path}: not an Airbyte declarative manifest (no `type: DeclarativeSource` and no `streams`)",
            hint="give the connector's manifest.yaml (airbyte-integrations/connectors/source-NAME/manifest.yaml)",
        )
    return data


def convert_manifest(path: Path, name: str | None = None) -> tuple[dict[str, Any], Report]:
    """The spec (a mapping ready to write as YAML) and the report of what was not carried over."""
    manifest = read_manifest(path)
    report = Report()
    conv = Conversion(Resolved(manifest, str(path)), report)
    data = conv.resolved.data
    listed = _listed_streams(data, conv)
    converter = StreamConverter(conv, listed, path.parent)
    for stream_name, node in listed.items():
        converter.convert(stream_name, node)
    streams = {k: v for k, v in converter.streams.items() if v}
    spec: dict[str, Any] = {"name": name or default_name(path), "version": "0.1.0"}
    description = data.get("description") or (data.get("spec") or {}).get("documentation_url")
    spec["description"] = f"Imported from an Airbyte manifest ({path.name}). {description or ''}".strip()
    spec["config"], config_at = _config_schema(data, path, conv)
    spec["base_url"] = _settle_base_url(streams, converter, conv)
    auth = _settle_auth(streams, converter, conv)
    if auth is not None:
        spec["auth"] = auth
    defaults = _defaults(data, conv, converter)
    if defaults:
        spec["defaults"] = defaults
    check = _check(data, streams, conv)
    if check:
        spec["check"] = check
    spec["streams"] = streams
    if converter.errors.rules:
        spec["errors"] = converter.errors.rules
    _declare_used_settings(spec, conv, config_at)
    return spec, report


_CONFIG_NAME = re.compile(r"\bconfig(?:\.([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")


def _declare_used_settings(spec: dict[str, Any], conv: Conversion, config_at: str) -> None:
    """Settings the templates name but the manifest's spec leaves out (Airbyte lets a template read any
    key) are declared, so the spec validates, and reported so that someone describes them."""
    properties = spec["config"].setdefault("properties", {})
    if not isinstance(properties, dict):
        return
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            used.update(m.group(1) or m.group(2) for m in _CONFIG_NAME.finditer(node))
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in spec.items() if k != "config"})
    for name in sorted(used - set(properties)):
        properties[name] = {"description": "Read by the imported manifest's templates, not described in its spec."}
        conv.lost(config_at, f"the setting '{name}' is used but not declared: it is added to `config` "
                  "without a type", f"describe config.properties.{name} (type, description, secret)", "changed")


def default_name(path: Path) -> str:
    """``source-pipedrive/manifest.yaml`` is ``pipedrive``; ``stripe.yaml`` is ``stripe``."""
    stem = path.parent.name if path.stem in ("manifest", "manifest.yaml") else path.stem
    stem = re.sub(r"^source[-_]", "", stem.lower())
    stem = re.sub(r"[^a-z0-9_\-]", "-", stem).strip("-_") or "imported"
    return stem if stem[0].isalpha() else f"c-{stem}"


def _listed_streams(data: dict[str, Any], conv: Conversion) -> dict[str, Any]:
    listed: dict[str, Any] = {}
    for i, node in enumerate(data.get("streams") or []):
        at = conv.where(node, f"streams[{i}]")
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "ConditionalStreams":
            conv.lost(at, f"streams available only when {node.get('condition')!r} are always listed", "delete the streams you do not want", "changed")
            nodes = node.get("streams") or []
        elif kind in _STREAM_KINDS:
            nodes = [node]
        elif kind == "StateDelegatingStream" and isinstance(node.get("incremental_stream"), dict):
            conv.lost(at, "a stream that reads differently on its first sync is converted from its incremental_stream "
                      "(whose cursor starts from the start date on a first read)", "check the first read against full_refresh_stream", "changed")
            nodes = [{**node["incremental_stream"], "name": conv.resolved.field(node, "name") or node["incremental_stream"].get("name")}]
        else:
            conv.lost(at, f"a {kind} is not converted: the stream is left out", "write the stream by hand (docs/spec-reference.md#stream)")
            continue
        for inner in nodes:
            stream_name = conv.resolved.field(inner, "name")
            if not isinstance(stream_name, str) or not stream_name:
                conv.lost(conv.where(inner, at), "a stream without a name is left out", "give it a name in the spec")
                continue
            listed[stream_name] = inner
    if data.get("dynamic_streams"):
        conv.lost("dynamic_streams", "streams made at run time from an API's answer are not converted",
                  "list the streams in the spec, or use stream_templates (docs/records.md#stream-templates)")
    return listed


def _config_schema(data: dict[str, Any], path: Path, conv: Conversion) -> tuple[dict[str, Any], str]:
    """The config schema, and where it is written (for findings about it)."""
    spec = data.get("spec") if isinstance(data.get("spec"), dict) else None
    schema = spec.get("connection_specification") if spec else None
    at = "spec.connection_specification.properties"
    if schema is None:
        for candidate in ("spec.json", "spec.yaml", "spec.yml"):
            file = path.parent / candidate
            if file.is_file():
                try:
                    loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
                except (OSError, yaml.YAMLError) as exc:
                    raise SpecError(f"{file}: cannot read the connector's spec beside the manifest ({exc})") from None
                if isinstance(loaded, dict):
                    schema = loaded.get("connectionSpecification") or loaded.get("connection_specification")
                    at = f"{candidate} (beside the manifest): connectionSpecification.properties"
                    break
    if not isinstance(schema, dict):
        conv.lost("spec", "the manifest has no spec: the config schema is left open", "describe the settings in the spec's `config`", "changed")
        return {"type": "object"}, "spec"
    if spec and spec.get("advanced_auth"):
        conv.lost("spec.advanced_auth", "Airbyte's OAuth consent flow is not converted", "run `connector-core authorize` for browser consent", "note")
    return _our_schema(schema), at


def _our_schema(node: Any) -> Any:
    """Airbyte's ``airbyte_secret`` is our ``secret``; its other UI keywords are dropped."""
    if isinstance(node, list):
        return [_our_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "airbyte_secret":
            if value:
                out["secret"] = True
        elif key in ("$schema", "order", "airbyte_hidden", "always_show", "group", "groups"):
            continue
        elif key in ("properties", "definitions", "$defs", "patternProperties"):
            out[key] = {k: _our_schema(v) for k, v in value.items()} if isinstance(value, dict) else value
        else:
            out[key] = _our_schema(value)
    return out


def _settle_base_url(streams: dict[str, dict[str, Any]], converter: StreamConverter, conv: Conversion) -> str:
    bases = Counter(r.url_base.rstrip("/") for n, r in converter.requesters.items() if n in streams and r.url_base)
    if not bases:
        conv.lost("streams", "no stream names a url_base: the base URL is a placeholder", "set base_url in the spec")
        return "https://example.invalid"
    base = bases.most_common(1)[0][0]
    for name in list(streams):
        own = (converter.requesters[name].url_base or base).rstrip("/")
        if own == base:
            continue
        if own.startswith(base + "/"):
            request = streams[name]["request"]
            request["path"] = own[len(base):] + request["path"]
            continue
        conv.lost(f"streams.{name}", f"the stream's url_base {own!r} is not under the connector's {base!r}: the stream is left out",
                  "make it a connector of its own (connector-core has one base URL per connector)")
        del streams[name]
    return base


def _settle_auth(streams: dict[str, dict[str, Any]], converter: StreamConverter, conv: Conversion) -> Any:
    used = [converter.requesters[n] for n in streams]
    kinds = Counter(json.dumps(r.auth, sort_keys=True, default=str) for r in used if r.auth)
    if not kinds:
        return None
    chosen = kinds.most_common(1)[0][0]
    first = next(r for r in used if json.dumps(r.auth, sort_keys=True, default=str) == chosen)
    others = sorted({r.auth_at for r in used if r.auth and json.dumps(r.auth, sort_keys=True, default=str) != chosen})
    for at in others:
        conv.lost(at, f"another authenticator than the connector's ({first.auth_at}): connector-core has one auth per connector, that one is used",
                  "use an auth list with `when` (docs/spec-reference.md#authchoice) if they depend on the config", "changed")
    return convert_auth(first.auth, conv, first.auth_at)


def _defaults(data: dict[str, Any], conv: Conversion, converter: StreamConverter) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    level = data.get("concurrency_level")
    if isinstance(level, dict):
        value = level.get("default_concurrency")
        if isinstance(value, int):
            defaults["concurrency"] = value
        elif isinstance(value, str):
            converted = conv.template(value, Scope(allowed=CONFIG_ONLY), "concurrency_level.default_concurrency", "concurrency")
            if converted is not None:
                defaults["concurrency"] = converted
    if data.get("api_budget"):
        conv.lost("api_budget", "call-rate policies are not converted", "set defaults.rate_limit or rate_limit_headers "
                  "(docs/spec-reference.md#requestdefaults)", "changed")
    if converter.errors.retries:
        defaults["retries"] = converter.errors.retries
    return defaults


def _check(data: dict[str, Any], streams: dict[str, dict[str, Any]], conv: Conversion) -> dict[str, Any] | None:
    check = data.get("check") or {}
    names = [n for n in check.get("stream_names") or [] if n in streams and not streams[n].get("hidden")]
    if names:
        return {"stream": names[0]}
    if check:
        conv.lost(conv.where(check, "check"), "the check's streams were not converted: `connector-core check` has no test call",
                  "set `check` in the spec (docs/spec-reference.md#checkspec)", "changed")
    return None


__all__ = ["convert_manifest", "default_name", "read_manifest"]
