"""Recorded HTTP for connector tests: vcrpy configured to scrub secrets before anything is written, to
match requests without their volatile parts (OAuth nonces, timestamps, signatures), and to check a
cassette for leaked secrets."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import requests
import vcr
from vcr.request import Request as VcrRequest

from connector_core.engine.redaction import MASK, SENSITIVE_NAMES, Redactor

if TYPE_CHECKING:
    pass

#: Headers whose values are always masked (compared lower-case).
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "x-access-token",
        "x-amz-security-token",
        "cookie",
        "set-cookie",
    }
)
#: Header names that look secret are masked too, e.g. ``X-Client-Secret`` or ``X-Session-Token``.
SECRET_HEADER_PATTERN = re.compile(r"secret|token|password|api[-_]?key|signature|session", re.IGNORECASE)

#: OAuth 1.0a parameters masked wherever they appear (Authorization header, query, form body).
OAUTH1_SECRET_PARAMS = frozenset(
    {"oauth_signature", "oauth_nonce", "oauth_timestamp", "oauth_token", "oauth_consumer_key"}
)

#: Query parameters whose values are masked.
SECRET_QUERY_PARAMS = SENSITIVE_NAMES | OAUTH1_SECRET_PARAMS

#: Fields masked in JSON bodies (requests and responses) and form bodies, at any depth.
SECRET_BODY_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "client_assertion",
        "code_verifier",
        "password",
    }
)
#: Form-body fields that are secret only in requests (token-endpoint grants).
SECRET_FORM_FIELDS = SECRET_BODY_FIELDS | OAUTH1_SECRET_PARAMS | {"assertion", "code"}

#: Parameters left out when requests are matched: they change on every call.
VOLATILE_PARAMS = frozenset({"oauth_nonce", "oauth_timestamp", "oauth_signature", "nonce", "timestamp"})

RECORD_MODES = ("none", "once", "new_episodes", "all")

_OAUTH_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"')


# --- scrubbing ---------------------------------------------------------------------------------------


class CassetteScrubber:
    """Masks secrets in requests and responses before vcrpy stores (or matches) them.

    Known secret values come from the test (:meth:`add`) and from the redactors of open connectors
    (:meth:`watch`), which learn config secrets when a connector opens and tokens when an auth gets them.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._own = Redactor(secrets)
        self._watched: list[Redactor] = []

    def add(self, *secrets: str) -> None:
        """Register secret values to mask wherever they appear (values under 4 characters are ignored)."""
        for secret in secrets:
            self._own.add(secret)

    def watch(self, redactor: Redactor) -> None:
        """Also mask every secret ``redactor`` knows, now and later."""
        self._watched.append(redactor)

    @property
    def secrets(self) -> frozenset[str]:
        values = set(self._own.secrets)
        for redactor in self._watched:
            values |= redactor.secrets
        return frozenset(values)

    def text(self, value: str) -> str:
        for redactor in (self._own, *self._watched):
            value = redactor.text(value)
        return value

    # -- vcrpy hooks ---------------------------------------------------------------------------------

    def request(self, request: VcrRequest) -> VcrRequest:
        """``before_record_request``: vcrpy hands a copy, which is changed in place and returned."""
        request.uri = self._uri(request.uri)
        for name in list(request.headers):
            request.headers[name] = self._header(name, request.headers[name])
        content_type = str(request.headers.get("Content-Type", ""))
        if request.body:
            request.body = self._body(_as_bytes(request.body), content_type, SECRET_FORM_FIELDS)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """``before_record_response``: masks secret headers and token fields of the body."""
        headers = response.get("headers") or {}
        for name, values in list(headers.items()):
            items = values if isinstance(values, list) else [values]
            headers[name] = [self._header(name, str(v)) for v in items]
        body = response.get("body") or {}
        content = body.get("string")
        if content:
            content_type = ""
            for name, values in headers.items():
                if name.lower() == "content-type":
                    content_type = str(values[0] if values else "")
            body["string"] = self._body(_as_bytes(content), content_type, SECRET_BODY_FIELDS)
        return response

    # -- parts ---------------------------------------------------------------------------------------

    def _uri(self, uri: str) -> str:
        parts = urlsplit(uri)
        if parts.query:
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            if any(k.lower() in SECRET_QUERY_PARAMS and v for k, v in pairs):
                masked = [(k, MASK if k.lower() in SECRET_QUERY_PARAMS and v else v) for k, v in pairs]
                uri = urlunsplit(parts._replace(query=urlencode(masked, safe="*")))
        return self.text(uri)

    def _header(self, name: str, value: str | bytes) -> str:
        if isinstance(value, bytes):
            # requests-oauthlib signs with decoding="utf-8" and hands back every header value as bytes
            value = value.decode("latin-1")
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization"):
            return _scrub_authorization(value)
        if lowered in SECRET_HEADERS or SECRET_HEADER_PATTERN.search(name):
            return MASK
        return self.text(value)

    def _body(self, content: bytes, content_type: str, fields: frozenset[str]) -> bytes:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return content  # binary: nothing we can recognise
        kind = _body_kind(text, content_type)
        if kind == "json":
            data = json.loads(text)
            masked = _mask_fields(data, fields)
            if masked != data:
                text = json.dumps(masked)
        elif kind == "form":
            pairs = parse_qsl(text, keep_blank_values=True)
            if any(k.lower() in fields and v for k, v in pairs):
                text = urlencode([(k, MASK if k.lower() in fields and v else v) for k, v in pairs], safe="*")
        return self.text(text).encode("utf-8")


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if hasattr(value, "read"):
        return bytes(value.read())
    return str(value).encode("utf-8")


def _body_kind(text: str, content_type: str) -> str:
    lowered = content_type.lower()
    stripped = text.lstrip()
    if "json" in lowered or (not lowered and stripped[:1] in ("{", "[")):
        try:
            json.loads(text)
        except ValueError:
            return "text"
        return "json"
    if "x-www-form-urlencoded" in lowered:
        return "form"
    return "text"


def _mask_fields(value: Any, fields: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: MASK
            if isinstance(k, str) and k.lower() in fields and v not in (None, "")
            else _mask_fields(v, fields)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_fields(v, fields) for v in value]
    return value


def _scrub_authorization(value: str) -> str:
    """Keep the scheme (and harmless OAuth 1.0a parameters such as realm); mask the credentials."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() == "oauth":
        return "OAuth " + _OAUTH_PARAM.sub(
            lambda m: f'{m.group(1)}="{MASK}"' if m.group(1) in OAUTH1_SECRET_PARAMS else m.group(0), rest
        )
    return f"{scheme} {MASK}" if rest else MASK


# --- matching ----------------------------------------------------------------------------------------


def _stable_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in pairs if k.lower() not in VOLATILE_PARAMS)


def match_query(r1: VcrRequest, r2: VcrRequest) -> None:
    """Query parameters equal, in any order, ignoring nonces, timestamps and signatures."""
    q1 = _stable_pairs(parse_qsl(r1.parsed_uri.query, keep_blank_values=True))
    q2 = _stable_pairs(parse_qsl(r2.parsed_uri.query, keep_blank_values=True))
    assert q1 == q2, f"query {q1} != {q2}"


def _comparable_body(request: VcrRequest) -> Any:
    raw = request.body
    if raw is None or raw == b"":
        return None
    content = _as_bytes(raw)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return content
    kind = _body_kind(text, str(request.headers.get("Content-Type", "")))
    if kind == "json":
        return ("json", json.loads(text))
    if kind == "form":
        return ("form", _stable_pairs(parse_qsl(text, keep_blank_values=True)))
    return ("text", text)


def match_body(r1: VcrRequest, r2: VcrRequest) -> None:
    """Bodies equal: JSON by value (key order ignored), forms without volatile parameters, else exactly."""
    b1, b2 = _comparable_body(r1), _comparable_body(r2)
    assert b1 == b2, f"body {str(b1)[:200]} != {str(b2)[:200]}"


MATCH_ON = ("method", "path", "connector_query", "connector_body")


def make_vcr(
    cassette_dir: str | Path,
    *,
    record_mode: str = "none",
    scrubber: CassetteScrubber | None = None,
    **options: Any,
) -> vcr.VCR:
    """A vcrpy configuration for connector tests; ``options`` override any VCR setting."""
    if record_mode not in RECORD_MODES:
        raise ValueError(f"record mode {record_mode!r} is not one of {', '.join(RECORD_MODES)}")
    scrubber = scrubber or CassetteScrubber()
    settings: dict[str, Any] = {
        "cassette_library_dir": str(cassette_dir),
        "record_mode": record_mode,
        "match_on": MATCH_ON,
        "before_record_request": scrubber.request,
        "before_record_response": scrubber.response,
        "decode_compressed_response": True,
        "record_on_exception": False,
    }
    settings.update(options)
    recorder = vcr.VCR(**settings)
    recorder.register_matcher("connector_query", match_query)
    recorder.register_matcher("connector_body", match_body)
    return recorder


class SerialSession(requests.Session):
    """A session that sends one request at a time, process-wide.

    While vcrpy sets up a connection it removes its patches for the whole process, so a request another
    thread starts at that moment is neither recorded nor replayed: it reaches the network. This happens
    while replaying too (seen with partitions read concurrently), so connectors used under a cassette,
    recording or replaying, use this session.
    """

    _lock = threading.RLock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        with self._lock:
            return super().send(request, **kwargs)


# --- secret check -------------------------------------------------------------------------------------


def assert_cassette_has_no_secrets(path: str | Path, secrets: Iterable[str]) -> None:
    """Fail when any of ``secrets`` (plain or URL-encoded) appears in the cassette at ``path``.

    The message names each place, e.g. ``interactions[0].request.headers.X-API-Key``, and shows only
    the first two characters and the length of the secret.
    """
    cassette = Path(path)
    wanted = [s for s in secrets if s]
    if not wanted:
        raise ValueError("assert_cassette_has_no_secrets needs at least one non-empty secret")
    raw = cassette.read_text(encoding="utf-8")
    if cassette.suffix == ".json":
        data = json.loads(raw)
    else:
        from vcr.serializers.yamlserializer import deserialize

        data = deserialize(raw)
    found: list[str] = []
    for index, secret in enumerate(wanted):
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        label = f"secret #{index + 1} ({secret[:2]}…, {len(secret)} chars)"
        places = [where for where, text in _strings(data, "") if any(form in text for form in forms)]
        if not places and any(form in raw for form in forms):
            places = ["(file text)"]
        found.extend(f"{label} at {where}" for where in places)
    if found:
        raise AssertionError(f"{cassette} holds secrets:\n  " + "\n  ".join(found))


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, f"{where}.<key>")
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")
    elif isinstance(value, bytes):
        yield where, value.decode("utf-8", errors="replace")
    elif hasattr(value, "getvalue"):
        yield where, bytes(value.getvalue()).decode("utf-8", errors="replace")
    elif isinstance(value, str):
        yield where, value


__all__ = [
    "MATCH_ON",
    "OAUTH1_SECRET_PARAMS",
    "RECORD_MODES",
    "SECRET_BODY_FIELDS",
    "SECRET_HEADERS",
    "VOLATILE_PARAMS",
    "CassetteScrubber",
    "SerialSession",
    "assert_cassette_has_no_secrets",
    "make_vcr",
    "match_body",
    "match_query",
]
