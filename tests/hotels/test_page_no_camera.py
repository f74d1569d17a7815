"""The hotel page without a camera (card id + passport number), on a PC in Bangkok, in real Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "front-desk-pass-1"


@pytest.mark.browser
def test_check_in_without_a_camera_and_the_printed_date_in_bangkok(app, auth, factories, server, artifacts_dir,
                                                                   database_url):
    from playwright.sync_api import expect

    from backend.cards.service import today_in_phuket
    from tests.browser import shared_playwright

    hotel_id = factories.hotel(name="Kata Beach Resort")
    auth.user("hotel_manager", hotel_id=hotel_id, username="kata.desk", password=PASSWORD)
    stay_until = today_in_phuket() + timedelta(days=9)
    printed = stay_until.strftime("%d/%m/%Y")  # what the card says: "valid until"
    guest = factories.issued_card(full_name="Ольга Иванова", nationality="RUS", passport_number="751234567",
                                  latin_name="IVANOVA<<OLGA", stay_until=stay_until)
    scanned = factories.issued_card(full_name="Lena Fischer", nationality="AUT", stay_until=stay_until)
    label = "postgis" if database_url.startswith("postgresql") else "spatialite"
    typed = f"{guest['card_id'][:3].lower()}-{guest['card_id'][3:6].lower()} {guest['card_id'][6:]}"

    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            # the front desk PC runs on Bangkok time: the card's date must not become the next day
            context = browser.new_context(viewport={"width": 1200, "height": 1000}, timezone_id="Asia/Bangkok")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server}/hotel")
            assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Bangkok"
            page.fill("#username", "kata.desk")
            page.fill("#password", PASSWORD)
            page.click("#signin-button")
            expect(page.locator("#passport-form")).to_be_visible()

            # a passport number that does not go with the card: refused, in English and Thai
            page.fill("#np-card-id", typed)
            page.fill("#np-passport", "751234568")
            page.click("#passport-button")
            expect(page.locator("#result-refused")).to_be_visible()
            expect(page.locator("#refusal-en")).to_contain_text("do not belong together")
            expect(page.locator("#refusal-th")).to_contain_text("ไม่ตรงกัน")
            expect(page.locator("tr.guest")).to_have_count(0)

            # the right one, typed loosely: checked in, with the Latin name and the printed date
            page.fill("#np-passport", "75 1234 567")
            page.fill("#np-room", "808")
            page.click("#passport-button")
            expect(page.locator("#checkin-message")).to_contain_text("Checked in: Ольга Иванова (IVANOVA, OLGA)")
            expect(page.locator("#checkin-message")).to_contain_text(f"valid until {printed}")
            row = page.locator("tr.guest", has_text="Ольга Иванова")
            expect(row).to_be_visible()
            expect(row.locator(".latin")).to_have_text("IVANOVA, OLGA")
            expect(row).to_contain_text(f"valid until {printed}")
            expect(row.locator("td.room")).to_have_text("808")
            assert page.input_value("#np-passport") == ""  # the passport number does not linger on screen
            page.screenshot(path=str(artifacts_dir / f"hotel-no-camera-{label}.png"), full_page=True)

            # the scanned path shows the same printed date before check-in
            page.fill("#card-token", scanned["card_token"])
            page.click("#verify-button")
            expect(page.locator("#r-name")).to_have_text("Lena Fischer")
            expect(page.locator("#r-valid")).to_have_text(printed)
            expect(page.locator("#r-latin")).to_have_text("LENA FISCHER")
            assert errors == []
        finally:
            browser.close()

    from tests.hotels.conftest import guest_list

    items = guest_list(app.test_client(), hotel_id, auth.headers("hotel_manager", hotel_id=hotel_id))
    assert [(g["card_id"], g["room"], g["latin_name"], g["stay_until"]) for g in items] == [
        (guest["card_id"], "808", "IVANOVA, OLGA", stay_until.isoformat())]
