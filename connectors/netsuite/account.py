"""NetSuite account IDs in the forms users paste them, and the hosts and URLs derived from them.

Users copy IDs from their browser's address bar (``1234567-sb1``) or from Company Information
(``1234567_SB1``). The TBA realm wants the upper-case underscore form; hosts want lower-case hyphens.
"""

from __future__ import annotations

import re

from connector_core.errors import ConfigError

_ACCOUNT = re.compile(r"^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$")


def normalize_account_id(value: str) -> str:
    """``1234567-sb1`` → ``1234567_SB1`` (the form NetSuite's realm and Company Information use)."""
    text = str(value or "").strip()
    if not text or not _ACCOUNT.match(text):
        raise ConfigError(
            f"account_id {value!r} is not a NetSuite account ID",
            hint="use the ID from Setup > Company > Company Information, e.g. 1234567 or 1234567_SB1",
        )
    return text.upper().replace("-", "_")


def account_host(value: str) -> str:
    """``1234567_SB1`` → ``1234567-sb1`` (the form used in NetSuite host names)."""
    return normalize_account_id(value).lower().replace("_", "-")


def rest_base_url(account_id: str, base_url: str | None = None) -> str:
    """Scheme and host of the REST API: ``base_url`` when given (sandbox proxy, emulator), else the account's."""
    if base_url:
        return base_url.rstrip("/")
    return f"https://{account_host(account_id)}.suitetalk.api.netsuite.com"


def token_url(account_id: str, base_url: str | None = None) -> str:
    return f"{rest_base_url(account_id, base_url)}/services/rest/auth/oauth2/v1/token"


def authorize_url(account_id: str, base_url: str | None = None) -> str:
    if base_url:
        return f"{base_url.rstrip('/')}/app/login/oauth2/authorize.nl"
    return f"https://{account_host(account_id)}.app.netsuite.com/app/login/oauth2/authorize.nl"


__all__ = ["account_host", "authorize_url", "normalize_account_id", "rest_base_url", "token_url"]
