"""Configuration of the Salesforce emulator; defaults follow Salesforce's documented behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SalesforceSettings:
    """Everything the emulator can be tuned with.

    The connected app's certificate (``jwt_public_key_pem``) verifies JWT bearer assertions; when it is
    None the emulator makes a throwaway RSA key pair and keeps the private half for the caller
    (:attr:`SalesforceApp.jwt_private_key_pem`), as a user would upload a certificate and keep the key.
    """

    # --- the org and its connected app ----------------------------------------------------------
    api_version: str = "59.0"
    org_id: str = "00D5g000004ZrQbEAK"
    username: str = "integration@emulator.example.com"
    consumer_key: str = "3MVG9emulator.consumer.key"
    consumer_secret: str = "emulator-consumer-secret"
    jwt_public_key_pem: str | None = None
    #: ``aud`` values a JWT assertion may carry, besides the emulator's own URL.
    jwt_audiences: tuple[str, ...] = ("https://login.salesforce.com", "https://test.salesforce.com")
    #: An assertion's ``exp`` may lie at most this far ahead (Salesforce asks for about three minutes).
    jwt_max_lifetime: int = 300
    refresh_tokens: list[str] = field(default_factory=lambda: ["5Aep861emulator.refresh.token"])
    redirect_uris: tuple[str, ...] = ()  # empty: any loopback redirect URI is accepted
    session_ttl: int = 7200  # seconds a session (access token) lives: the org's session timeout

    # --- limits -----------------------------------------------------------------------------------
    daily_api_limit: int = 15_000  # rolling 24 hours, shown as api-usage=N/M
    max_page_size: int = 2000  # rows per query page (Sforce-Query-Options batchSize can lower it)
    min_page_size: int = 200
    collection_max: int = 200
    query_locator_ttl: int = 900  # an idle query cursor expires after 15 minutes
    #: Concurrent requests allowed in flight (the "long-running requests" limit); None: unlimited.
    concurrent_request_limit: int | None = None
    bulk_polls_to_complete: int = 2  # status polls a Bulk 2.0 query job takes to reach JobComplete
    bulk_max_records: int = 50_000  # rows per results page when maxRecords is not given

    # --- seeding ----------------------------------------------------------------------------------
    seed: int = 7
    users: int = 5
    accounts: int = 200
    contacts: int = 400
    opportunities: int = 150
    seed_epoch: float = 1_704_067_200.0  # 2024-01-01T00:00:00Z; seeded timestamps fall in the year after

    # --- clock ------------------------------------------------------------------------------------
    start_time: float | None = None  # epoch seconds; None = now
    frozen_clock: bool = False
