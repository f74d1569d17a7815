"""The checkpoint page finds a card (passport number, name in any script, card id) and acts on it, in Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "checkpoint-pass-1"


@pytest.fixture
def server(start_server) -> str:
    """``python wsgi.py`` on the test's database and key folder; its base URL."""
    return start_server(THREADS="4").url


@pytest.mark.browser
def test_officer_finds_a_card_and_revokes_it(app, auth, factories, server, artifacts_dir, database_url):
    from playwright.sync_api import expect

    from backend.cards.service import today_in_phuket
    from tests.browser import shared_playwright

    auth.user("immigration", username="officer.find", password=PASSWORD)
    stay_until = today_in_phuket() + timedelta(days=20)
    printed = stay_until.strftime("%d/%m/%Y")
    ivan = factories.issued_card(full_name="Иван Петрович Иванов", nationality="RUS", passport_number="751234567",
                                 latin_name="IVANOV<<IVAN<PETROVICH", stay_until=stay_until)
    somchai = factories.issued_card(full_name="สมชาย ใจดี", nationality="THA", passport_number="AA7654321",
                                    latin_name="JAIDEE<<SOMCHAI", stay_until=stay_until)
    factories.issued_card(full_name="Ivana Novak", nationality="HRV", passport_number="HR1112223")
    label = "postgis" if database_url.startswith("postgresql") else "spatialite"

    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1000}, timezone_id="Asia/Bangkok")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server}/checkpoint")
            page.fill("#username", "officer.find")
            page.fill("#password", PASSWORD)
            page.click("#signin-button")
            expect(page.locator("#find-section")).to_be_visible()

            # a Latin name matching two holders: both listed, the officer picks one
            page.fill("#find-q", "ivan")
            page.click("#find-button")
            expect(page.locator("#find-results .result")).to_have_count(2)
            page.locator("#find-results .result", has_text="IVANOV, IVAN PETROVICH").click()
            expect(page.locator("#c-name")).to_have_text("Иван Петрович Иванов")
            expect(page.locator("#c-latin")).to_have_text("IVANOV, IVAN PETROVICH")
            expect(page.locator("#c-passport")).to_have_text("751234567")
            expect(page.locator("#c-valid")).to_have_text(printed)  # the printed date, on Bangkok time
            page.screenshot(path=str(artifacts_dir / f"checkpoint-find-{label}.png"), full_page=True)

            # revoke needs a reason; then the status shows on the card and in the list
            page.click("#revoke-button")
            expect(page.locator("#manage-message")).to_contain_text("reason")
            page.fill("#manage-reason", "passport reported stolen")
            page.click("#revoke-button")
            expect(page.locator("#c-status")).to_contain_text("revoked")
            expect(page.locator("#manage-message")).to_contain_text("passport reported stolen")
            expect(page.locator("#find-results .result", has_text="IVANOV")).to_contain_text("revoked")
            expect(page.locator("#close-button")).to_be_disabled()
            page.screenshot(path=str(artifacts_dir / f"checkpoint-revoked-{label}.png"), full_page=True)

            # the same card again by its passport number typed loosely: the revocation is on record
            page.fill("#find-q", "75 1234 567")
            page.click("#find-button")
            expect(page.locator("#find-results .result")).to_have_count(1)
            expect(page.locator("#c-status")).to_contain_text("revoked")  # a single result opens at once

            # Thai script, and close at departure
            page.fill("#find-q", "สมชาย")
            page.click("#find-button")
            expect(page.locator("#c-name")).to_have_text("สมชาย ใจดี")
            page.click("#close-button")
            expect(page.locator("#c-status")).to_contain_text("closed")

            # nothing found
            page.fill("#find-q", "Nobody Here")
            page.click("#find-button")
            expect(page.locator("#find-message")).to_contain_text("No card found")
            expect(page.locator("#find-results .result")).to_have_count(0)
            assert errors == []
        finally:
            browser.close()

    headers = auth.headers("immigration")
    for card, status in ((ivan, "revoked"), (somchai, "closed")):
        body = requests.get(f"{server}/api/v1/cards/{card['card_id']}", headers=headers, timeout=10).json()
        assert body["status"] == status
