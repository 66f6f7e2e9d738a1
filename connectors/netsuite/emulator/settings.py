"""Emulator configuration; its clock is the emulator kit's :class:`~connector_core.testing.emulator.Clock`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from connector_core.testing.emulator import Clock

DEFAULT_TBA = {
    "consumer_key": "c0nsumerkey" + "0" * 53,
    "consumer_secret": "c0nsumersecret" + "1" * 50,
    "token_id": "t0kenid" + "2" * 57,
    "token_secret": "t0kensecret" + "3" * 53,
}


@dataclass
class EmulatorSettings:
    """Everything that shapes the emulated NetSuite account.

    Defaults follow the protocol fact sheet; settings for facts marked UNCONFIRMED there are
    documented in the package README.
    """

    account_id: str = "1234567_SB1"

    # --- Token-based authentication (OAuth 1.0a, HMAC-SHA256) ---
    consumer_key: str = DEFAULT_TBA["consumer_key"]
    consumer_secret: str = DEFAULT_TBA["consumer_secret"]
    token_id: str = DEFAULT_TBA["token_id"]
    token_secret: str = DEFAULT_TBA["token_secret"]
    timestamp_skew_seconds: int = 300

    # --- OAuth 2.0 client credentials (M2M, JWT assertion) ---
    m2m_client_id: str = "m2mclientid" + "4" * 53
    certificate_id: str = "custcertificate_emulator1"
    #: PEM public key or X.509 certificate used to verify assertions; ``None`` disables M2M.
    m2m_public_key_pem: str | None = None

    # --- OAuth 2.0 authorization code ---
    oauth2_client_id: str = "authcodeclientid" + "5" * 48
    oauth2_client_secret: str = "authcodesecret" + "6" * 50
    #: Allowed redirect URIs; empty means any URI is accepted.
    redirect_uris: tuple[str, ...] = ()

    access_token_ttl: int = 3600
    refresh_token_ttl: int = 7 * 24 * 3600
    authorization_code_ttl: int = 600
    #: Token replies send ``expires_in`` as a string ("3600") when True (UNCONFIRMED).
    expires_in_as_string: bool = True

    # --- Limits and governance ---
    page_cap: int = 1000
    row_cap: int = 100_000
    #: What SuiteQL/list does when ``offset >= row_cap`` (UNCONFIRMED): "error" = 400
    #: INVALID_PARAMETER, "empty" = 200 with no items.
    row_cap_offset_behavior: Literal["error", "empty"] = "error"
    concurrency_limit: int = 5
    #: Send ``Retry-After`` with concurrency 429s (UNCONFIRMED; none observed).
    concurrency_retry_after: int | None = None
    #: Reject SuiteQL calls lacking ``Prefer: transient`` (UNCONFIRMED).
    require_prefer_transient: bool = False

    # --- Account preferences ---
    #: Date preference used for raw SuiteQL date columns and q-filter date values.
    date_format: str = "M/D/YYYY"
    #: Accept body field names case-insensitively (UNCONFIRMED).
    case_insensitive_fields: bool = True
    #: Generate ``entityId`` when omitted (auto-numbering on); otherwise it is required.
    auto_entity_id: bool = False
    #: Record types the integration role may not access (403 INSUFFICIENT_PERMISSION).
    denied_record_types: frozenset[str] = field(default_factory=frozenset)
    #: A missing transaction id answers 400 USER_ERROR "Transaction type specified is incorrect."
    #: (evidence #8, seen live for vendorBill/expenseReport) instead of 404 NONEXISTENT_ID.
    missing_transaction_as_400: bool = True
    #: Number of polls an async job reports as pending before completing.
    async_pending_polls: int = 1

    # --- Seed data ---
    seed: int = 42
    subsidiaries: int = 3
    customers: int = 100
    items: int = 20
    sales_orders: int = 30
    invoices: int = 60

    clock: Clock = field(default_factory=Clock)

    @property
    def realm(self) -> str:
        """The TBA realm NetSuite expects: account id, upper case, underscore."""
        return self.account_id.upper().replace("-", "_")

    @property
    def host_prefix(self) -> str:
        """Account id as it appears in host names: lower case, hyphen."""
        return self.account_id.lower().replace("_", "-")
