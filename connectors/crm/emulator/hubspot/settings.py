"""Configuration of the HubSpot emulator."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

#: Documented per-app 10-second budgets and daily budgets by account tier (usage guidelines, H8).
TIERS: dict[str, tuple[int, int]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
}


@dataclass
class HubSpotSettings:
    """Everything the emulator can be tuned with. Defaults follow the fact sheet."""

    # --- auth -------------------------------------------------------------------------------
    private_app_tokens: list[str] = field(default_factory=lambda: ["pat-na1-emulator-0000-0000"])
    client_id: str = "emulator-client-id"
    client_secret: str = "emulator-client-secret"
    refresh_tokens: list[str] = field(default_factory=lambda: ["emulator-refresh-token"])
    authorization_codes: list[str] = field(default_factory=lambda: ["emulator-auth-code"])
    redirect_uri: str | None = None  # when set, authorization_code grants must send it
    access_token_ttl: int = 1800
    portal_id: int = 24681357

    # --- rate limits ------------------------------------------------------------------------
    tier: str = "free"
    rate_limit_per_10s: int | None = None  # None = from tier
    daily_limit: int | None = None  # None = from tier
    secondly_limit: int | None = None  # header value; None = max/10
    enforce_secondly: bool = False
    retry_after_seconds: float | None = None  # send Retry-After on 429s when set
    search_per_second: int = 5
    search_ratelimit_headers: bool = False  # UNCONFIRMED whether search replies carry them

    # --- search -----------------------------------------------------------------------------
    search_result_cap: int = 10_000
    search_max_limit: int = 200
    search_default_limit: int = 10
    search_lag_seconds: float = 0.0
    max_filter_groups: int = 5
    max_filters_per_group: int = 10
    max_filters_total: int = 25

    # --- objects / batch / properties -------------------------------------------------------
    list_max_limit: int = 100
    list_default_limit: int = 10
    batch_max_inputs: int = 100
    association_page_max: int = 500
    max_unique_properties: int = 10
    unique_conflict_status: int = 409  # UNCONFIRMED (custom unique property clash)
    missing_get_body: str = "empty"  # "empty" | "html"

    # --- seeding ----------------------------------------------------------------------------
    seed: int = 42
    companies: int = 100
    contacts: int = 200
    deals: int = 50
    seed_same_timestamp: int = 0  # this many seeded companies share one hs_lastmodifieddate
    seed_epoch: float = 1_704_067_200.0  # 2024-01-01T00:00:00Z; seeded timestamps go back 2 years

    # --- clock --------------------------------------------------------------------------------
    start_time: float | None = None  # epoch seconds; None = now
    frozen_clock: bool = False

    @property
    def ten_second_limit(self) -> int:
        return self.rate_limit_per_10s if self.rate_limit_per_10s is not None else TIERS[self.tier][0]

    @property
    def day_limit(self) -> int:
        return self.daily_limit if self.daily_limit is not None else TIERS[self.tier][1]

    @property
    def secondly_header(self) -> int:
        if self.secondly_limit is not None:
            return self.secondly_limit
        return max(self.ten_second_limit // 10, 1)

    @classmethod
    def for_tier(cls, tier: str, **overrides: Any) -> HubSpotSettings:
        """Settings for one account tier (free, starter, professional, enterprise)."""
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; expected one of {sorted(TIERS)}")
        return cls(tier=tier, **overrides)

    def with_overrides(self, **overrides: Any) -> HubSpotSettings:
        return replace(self, **overrides)
