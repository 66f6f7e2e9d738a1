"""NetSuite error bodies (``o:errorDetails``) turned into messages that say what to do."""

from __future__ import annotations

import re
from typing import Any

import requests

from connector_core.errors import AuthError, ConnectorError, FatalHTTPError, RetriableHTTPError

LOGIN_AUDIT_TRAIL = "Setup > Users/Roles > User Management > View Login Audit Trail"

#: Role permission that each record type needs (Setup > Users/Roles > Manage Roles > Permissions).
PERMISSIONS = {
    "customer": "Lists > Customers",
    "contact": "Lists > Contacts",
    "subsidiary": "Lists > Subsidiaries",
    "item": "Lists > Items",
    "inventoryitem": "Lists > Items",
    "noninventorysaleitem": "Lists > Items",
    "serviceitem": "Lists > Items",
    "currency": "Lists > Currency",
    "invoice": "Transactions > Invoice",
    "salesorder": "Transactions > Sales Order",
    "customerpayment": "Transactions > Customer Payment",
    "creditmemo": "Transactions > Credit Memo",
    "vendorbill": "Transactions > Bills",
    "journalentry": "Transactions > Make Journal Entry",
}


def error_details(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("o:errorDetails"), list):
        return [d for d in body["o:errorDetails"] if isinstance(d, dict)]
    return []


def record_type_from(url: str) -> str | None:
    match = re.search(r"/record/v1/([A-Za-z]+)", url or "")
    return match.group(1) if match else None


def _invalid_login(response: requests.Response, detail: str) -> AuthError:
    authorization: str | bytes = (response.request.headers.get("Authorization") or "") if response.request is not None else ""
    if isinstance(authorization, bytes):  # requests-oauthlib sets the OAuth 1.0a header as bytes
        authorization = authorization.decode("latin-1")
    if authorization.startswith("OAuth"):
        realm = re.search(r'realm="([^"]*)"', authorization)
        causes = [
            "Token-Based Authentication is not enabled: Setup > Company > Enable Features > SuiteCloud > "
            "Token-Based Authentication",
            f"the account ID does not match the account, or the realm has the wrong form (sent "
            f"{realm.group(1) if realm else '?'!r}; it must be the account ID in upper case with an underscore, "
            "e.g. 1234567_SB1)",
            "the token was revoked, or wiped by a sandbox refresh: create a new access token",
            "the machine's clock is more than 5 minutes off (the timestamp is checked)",
            "the integration role lacks the 'Log in using Access Tokens' and 'REST Web Services' permissions",
        ]
    else:
        causes = [
            "the access token expired or was revoked (tokens last 60 minutes)",
            "the OAuth 2.0 client (M2M) mapping was removed or wiped by a sandbox refresh",
            "the role lacks the 'REST Web Services' and 'OAuth 2.0 Access Tokens' permissions",
        ]
    listed = "\n".join(f"    {i}. {cause}" for i, cause in enumerate(causes, 1))
    return AuthError(
        f"NetSuite refused the login (INVALID_LOGIN): {detail or 'Invalid login attempt.'}\n  Usual causes, most likely first:\n{listed}",
        status=response.status_code,
        hint=f"NetSuite records the exact reason in the Login Audit Trail: {LOGIN_AUDIT_TRAIL}",
    )


def interpret(response: requests.Response, body: Any) -> ConnectorError | None:
    """Map a NetSuite error response to an actionable error; None for bodies this does not know."""
    details = error_details(body)
    first = details[0] if details else {}
    code = str(first.get("o:errorCode") or "")
    detail = str(first.get("detail") or "")
    status = response.status_code
    record_type = record_type_from(response.url)
    if status == 429 or code in ("CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED", "WS_REQUEST_BLOCKED"):
        # Left to the engine's own 429 handling: it retries even writes that are not idempotent (a 429
        # was not applied) and honours Retry-After for the whole connection. An interpreted error
        # would lose both (see docs/connectors/netsuite.md, "Concurrency and governance").
        return None
    if code == "INVALID_LOGIN" or (status == 401 and "Invalid login attempt" in detail):
        return _invalid_login(response, detail)
    if code == "INSUFFICIENT_PERMISSION" or status == 403:
        kind = record_type or "this record type"
        permission = PERMISSIONS.get((record_type or "").lower(), f"the permission for {kind}")
        if "/query/v1/suiteql" in response.url:
            permission = "the view permission of every record type the query reads, and 'SuiteAnalytics Workbook'"
        return AuthError(
            f"NetSuite: the integration role may not access {kind} (INSUFFICIENT_PERMISSION): {detail}".rstrip(": "),
            status=status,
            hint=f"add {permission} to the role (Setup > Users/Roles > Manage Roles > Permissions)",
        )
    path = first.get("o:errorPath") or first.get("o:errorQueryParam")
    where = f" at field '{path}'" if path else ""
    if code in ("INVALID_CONTENT", "NONEXISTENT_FIELD", "USER_ERROR", "INVALID_PARAMETER", "INVALID_KEY_OR_REF"):
        subject = f" {record_type}" if record_type else ""
        hint = None
        if code == "NONEXISTENT_FIELD" or "Unknown identifier" in detail:
            hint = "check the field name against the record's metadata: GET /services/rest/record/v1/metadata-catalog/<type>"
        elif "Invalid search type" in detail:
            hint = "check the table name in FROM/JOIN (customer, transaction, transactionline, subsidiary…)"
        elif code == "INVALID_CONTENT":
            hint = "check the value's type and, for references, that the referenced record exists in this account"
        elif "Transaction type specified is incorrect" in detail:
            hint = (f"no {record_type or 'transaction'} has this id: NetSuite answers so for a transaction id that does "
                    "not exist or belongs to another transaction type (it may have been deleted: see deleted_records)")
        elif "enter value(s) for" in detail:
            hint = "the record type requires these fields: add them to the payload (or to the field mapping)"
        return FatalHTTPError(f"NetSuite rejected the{subject} request ({code}){where}: {detail}", status=status, hint=hint)
    if code == "NONEXISTENT_ID" or (status == 404 and "does not exist" in detail):
        if detail.startswith("Record type"):
            return FatalHTTPError(
                f"NetSuite: {detail}",
                status=status,
                hint="record types are camelCase ids such as customer, salesOrder, invoice; the account's types are "
                "listed at GET /services/rest/record/v1/metadata-catalog",
            )
        return FatalHTTPError(
            f"NetSuite: {detail or 'the record does not exist'} ({record_type or 'record'})",
            status=status,
            hint="the record may have been deleted in NetSuite; its deletion appears in the deleted_records stream",
        )
    if code == "IDEMPOTENCY_ERROR":
        return FatalHTTPError(
            f"NetSuite: this idempotency key was already used ({detail})",
            status=status,
            hint="the first request with this key already ran; read its job instead of sending it again",
        )
    if code == "UNEXPECTED_ERROR" or status >= 500:
        return RetriableHTTPError(f"NetSuite answered {status} {code or ''}: {detail}".strip(), status=status)
    if code:
        return FatalHTTPError(f"NetSuite error {code}{where}: {detail}", status=status)
    return None


__all__ = ["PERMISSIONS", "error_details", "interpret"]
