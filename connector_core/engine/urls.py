"""URL rules that keep credentials where they belong.

* Credentials travel over TLS; plain ``http://`` is accepted only for loopback hosts (local emulators).
* A request path is joined to the base URL and must stay under it: no other scheme, host or port, and
  no ``.`` or ``..`` segments at all (a value such as ``..`` in an id must not change which resource is
  called, even when the result would stay under the base path).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import posixpath
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from connector_core.engine.redaction import MASK, SENSITIVE_NAMES, Redactor, mask_userinfo
from connector_core.errors import ConfigError, FatalHTTPError

_ABSOLUTE = re.compile(r"^https?://", re.IGNORECASE)
_DOT_SEGMENT = re.compile(r"^(\.|%2e){1,2}$", re.IGNORECASE)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _shown(url: str) -> str:
    """A configured URL fit for a message: everything before its last '@' masked, so a password with
    a raw '/' or '?' (which breaks the URL, and is why it is refused) is hidden too."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        return f"{scheme}://{MASK}@{rest.rpartition('@')[2]}"
    return mask_userinfo(url)


def check_transport(url: str, what: str = "base_url") -> None:
    """Refuse URLs that would send credentials in clear text or to a malformed host."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"{what} {_shown(url)!r} is not an http(s) URL with a host")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{what} {_shown(url)!r} uses plain http to a non-loopback host",
            hint="use https; plain http is accepted only for 127.0.0.1/localhost (local emulators)",
        )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def same_origin(url: str, other: str) -> bool:
    """Whether two URLs share scheme, host and port (where credentials may go)."""
    return _origin(url) == _origin(other)


def host_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot name hosts that downloads without credentials may come from (None: it can).

    A pattern is a host name with ``*`` or ``?`` wildcards (``*.s3.amazonaws.com``): no scheme, port or path,
    and, with a wildcard, at least two labels without one, so it never opens a whole top-level domain."""
    if not pattern.strip():
        return "an empty host pattern names no host"
    if "://" in pattern:
        return f"{pattern!r} has a scheme: give the host name only, e.g. {pattern.split('://', 1)[1].split('/', 1)[0]!r}"
    if any(c in pattern for c in "/#@\\ "):
        return f"{pattern!r} is not a host name: give the host only (no path, query, user or spaces), e.g. '*.s3.amazonaws.com'"
    if ":" in pattern:
        return f"{pattern!r} has a port: give the host name only (any port of a listed host is accepted)"
    if pattern.strip("*.") == "":
        return f"{pattern!r} would accept every host: list the hosts the API's links point to, e.g. '*.s3.amazonaws.com'"
    labels = [label for label in pattern.lower().split(".") if label.strip("*?")]
    if ("*" in pattern or "?" in pattern) and len(labels) < 2:
        return f"{pattern!r} would accept hosts anywhere under a top-level domain: name the storage's own domain, e.g. '*.s3.amazonaws.com'"
    return None


def host_listed(host: str, patterns: list[str]) -> bool:
    """Whether ``host`` matches one of ``patterns`` (``*`` and ``?`` wildcards, case ignored)."""
    name = host.lower().rstrip(".")
    return any(fnmatch.fnmatchcase(name, pattern.lower().rstrip(".")) for pattern in patterns)


def join_url(base_url: str, path: str) -> str:
    """``base_url`` + ``path``, refusing any result that leaves the base URL's origin and path."""
    # Only http(s) and scheme-relative URLs are absolute; "items:search" stays a path under the base.
    if _ABSOLUTE.match(path) or path.startswith("//") or "\\" in path:
        if _origin(path) != _origin(base_url):
            raise FatalHTTPError(
                f"refusing to send a request to {redact_url(path, None)}: it is not on {redact_url(base_url, None)}",
                hint="request paths are relative to the connector's base_url; credentials never go to another host",
            )
        target = path
    else:
        base = base_url.rstrip("/")
        target = base + "/" + path.lstrip("/") if path else base
    parts = urlsplit(target)
    if any(_DOT_SEGMENT.match(segment) for segment in parts.path.split("/")):
        raise FatalHTTPError(
            f"request path {redact_url(path, None)!r} contains a '.' or '..' segment",
            hint="paths are relative to base_url and may not climb out of it; check the ids used in the path",
        )
    base_path = urlsplit(base_url).path.rstrip("/")
    normalised = posixpath.normpath(parts.path) if parts.path else ""
    if parts.path.endswith("/") and not normalised.endswith("/"):
        normalised += "/"
    if normalised == ".":
        normalised = ""
    if base_path and not (normalised == base_path or normalised.startswith(base_path + "/")):
        raise FatalHTTPError(f"request path {redact_url(path, None)!r} leaves the base path {base_path!r}")
    return urlunsplit((parts.scheme, parts.netloc, normalised, parts.query, ""))


def redact_url(url: str, redactor: Redactor | None) -> str:
    """The URL with its userinfo, secret query values and (given a redactor) known secrets masked."""
    parts = urlsplit(url)
    if parts.query:
        pairs = [(k, MASK if k.lower() in SENSITIVE_NAMES else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs, safe="*"), ""))
    return redactor.text(url) if redactor else mask_userinfo(url)


__all__ = ["check_transport", "host_listed", "host_pattern_problem", "is_loopback", "join_url", "redact_url", "same_origin"]
