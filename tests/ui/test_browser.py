"""Clicking through the dashboard in a real browser (Debian's chromium under Playwright): open the page,
see the failed run, retry a dead letter, see it resolved."""

from __future__ import annotations

from typing import Any

import pytest
from ui_support import TOKEN, ShopSync, serving

from connector_core.cli.ui.app import Dashboard

# the first browser test's set-up may install chromium with apt-get (CI): more than the suite's 120 s
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_open_see_the_failed_run_retry_a_dead_letter_and_see_it_resolved(browser: Any, dashboard: Dashboard, shop_sync: ShopSync) -> None:
    from playwright.sync_api import expect

    with serving(dashboard) as base:
        page = browser.new_page()
        try:
            page.goto(f"{base}/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.get_by_label("Token").fill(TOKEN)
            page.get_by_role("button", name="Sign in").click()

            row = page.locator("#conn-shop_to_netsuite")
            expect(row.locator(".badge")).to_have_text("failed_records")
            expect(row).to_contain_text("2 failed")
            row.get_by_role("link", name="shop-to-netsuite").click()

            expect(page.get_by_role("heading", name="shop-to-netsuite")).to_be_visible()
            letter = page.locator('tr.letter[data-record="4"]')
            expect(letter).to_contain_text("record 4: upsert_customer was rejected")
            letter.get_by_role("button", name="Retry").click()

            expect(page.locator("#job-status")).to_have_text("ok", timeout=60_000)  # the job page refreshes until it ends
            expect(page.locator("pre.summary")).to_contain_text("customers: retried 1, created 1")
            page.get_by_role("link", name="Back to shop-to-netsuite").click()

            expect(page.locator('tr.letter[data-record="4"]')).to_have_count(0)
            expect(page.locator('tr.letter[data-record="7"]')).to_have_count(1)
            expect(page.locator("#run-2")).to_contain_text("ok")
            page.get_by_role("link", name="connections").click()
            expect(page.locator("#conn-shop_to_netsuite .badge")).to_have_text("ok")
        finally:
            page.close()
    with shop_sync.store() as store:
        assert [d.source_id for d in store.dead_letters()] == ["7"]
