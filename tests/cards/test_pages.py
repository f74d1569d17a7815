"""The checkpoint page and the printable card in real headless Chromium against ``python wsgi.py``."""

from __future__ import annotations

import re

import pytest
import requests

from tests.qr import read_qr_codes

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def server(start_server) -> str:
    """``python wsgi.py`` on the test's database and key folder; its base URL."""
    return start_server(THREADS="8").url


@pytest.mark.browser
def test_officer_issues_and_prints_a_card(app, auth, server, artifacts_dir, database_url):
    from playwright.sync_api import expect

    from backend.cards.models import Card
    from backend.extensions import db
    from tests.browser import shared_playwright

    auth.user("immigration", username="officer.hkt", password="checkpoint-pass-1")
    label = "postgis" if database_url.startswith("postgresql") else "spatialite"
    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            # no bypass_csp: the pages must work under their own Content-Security-Policy
            context = browser.new_context(viewport={"width": 1100, "height": 900}, device_scale_factor=3)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server + "/checkpoint")
            assert page.locator("#issue-section").is_hidden()

            page.fill("#username", "officer.hkt")
            page.fill("#password", "wrong password")
            page.click("#signin-button")
            expect(page.locator("#signin-error")).to_contain_text("Wrong username or password")

            page.fill("#password", "checkpoint-pass-1")
            page.click("#signin-button")
            page.wait_for_selector("#issue-section", state="visible")
            assert page.evaluate("JSON.parse(sessionStorage.getItem('pts.staff')).role") == "immigration"
            options = page.eval_on_selector_all("#checkpoint option", "els => els.map(e => e.value)")
            assert options == ["HKT", "THA_CHATCHAI", "AO_CHALONG", "RASSADA", "AO_PO"]

            # a mistake first: GER is not an ISO code (Germany is DEU), and the stay is in the past
            page.fill("#full_name", "สมชาย ใจดี Somchai Jaidee")
            page.fill("#nationality", "GER")
            page.fill("#passport_number", "C01X00T47")
            page.fill("#stay_until", "2020-01-01")
            page.select_option("#checkpoint", "RASSADA")
            page.click("#issue-button")
            expect(page.locator(".error[data-for=nationality]")).to_contain_text("ISO 3166-1")
            assert "past" in page.text_content(".error[data-for=stay_until]")
            page.screenshot(path=str(artifacts_dir / f"cards-checkpoint-validation-{label}.png"), full_page=True)
            with app.app_context():
                assert db.session.query(Card).count() == 0

            page.fill("#nationality", "deu")
            page.fill("#latin_name", "Jaidee<<Somchai")  # typed from the passport's machine-readable zone
            stay_until = page.evaluate("document.getElementById('stay_until').min")
            page.fill("#stay_until", stay_until)
            page.fill("#phone", "+49 30 1234567")
            page.select_option("#language", "de")
            page.click("#issue-button")
            page.wait_for_url("**/cards/*/print")
            page.wait_for_selector("body[data-ready='1']", timeout=20000)
            assert errors == []

            card_id = page.url.rstrip("/").split("/")[-2]
            assert "#code" not in page.url  # the enrollment code left the address bar and history
            code = page.text_content("#f-code")
            with app.app_context():
                card = db.session.get(Card, card_id)
                token, display_id = card.token, card_id[:3] + "-" + card_id[3:6] + "-" + card_id[6:]
                assert card.checkpoint == "RASSADA" and card.tourist.nationality == "DEU"

            text = page.text_content(".sheet")
            assert page.text_content("#f-latin") == "JAIDEE, SOMCHAI"
            y, m, d = stay_until.split("-")
            assert page.text_content("#f-valid") == f"{d}/{m}/{y}"  # the stay's last day as printed
            for expected in ("สมชาย ใจดี Somchai Jaidee", "DEU", display_id, "191", "1155", "1669", code):
                assert expected in text, expected
            # credit-card size on screen: 85.6 × 54 mm at 96 CSS px per inch
            box = page.locator(".card.front").bounding_box()
            assert abs(box["width"] - 85.6 / 25.4 * 96) < 1.5 and abs(box["height"] - 54 / 25.4 * 96) < 1.5

            screenshot = page.screenshot(path=str(artifacts_dir / f"cards-print-{label}.png"), full_page=True)
            found = read_qr_codes(screenshot)
            assert token in found  # the printed QR is exactly the issued token
            assert f"{server}/app#card_id={card_id}&code={code}" in found

            page.emulate_media(media="print")
            assert page.locator(".controls").is_hidden()
            page.pdf(path=str(artifacts_dir / f"cards-print-{label}.pdf"), format="A4", print_background=True)
            assert (artifacts_dir / f"cards-print-{label}.pdf").read_bytes().startswith(b"%PDF")

            # a reprint (no code known): the officer issues a fresh one, the old code stops working
            page.emulate_media(media="screen")
            page.goto(f"{server}/checkpoint")
            page.fill("#find-q", display_id.lower())  # the card id as typed finds the card
            page.click("#find-button")
            page.wait_for_selector("#chosen", state="visible")
            page.click("#reprint-button")
            page.wait_for_url(f"**/cards/{card_id}/print")
            page.wait_for_selector("body[data-ready='1']")
            # sessionStorage still holds the code of this tab's issuance: it is printed again
            assert page.text_content("#f-code") == code
            page.evaluate(f"sessionStorage.removeItem('pts.enroll.{card_id}')")
            page.reload()
            page.wait_for_selector("#new-code-button", state="visible")
            page.click("#new-code-button")
            expect(page.locator("#f-code")).not_to_have_text(re.compile(f"^(—|{re.escape(code)})$"))
            fresh = page.text_content("#f-code")
            found = read_qr_codes(page.screenshot())
            assert f"{server}/app#card_id={card_id}&code={fresh}" in found

            # departure: the officer closes the card
            page.goto(f"{server}/checkpoint")
            page.fill("#find-q", card_id)
            page.click("#find-button")
            page.wait_for_selector("#chosen", state="visible")
            page.click("#close-button")
            expect(page.locator("#manage-message")).to_contain_text("closed")
            assert errors == []
        finally:
            browser.close()
    response = requests.post(server + "/api/v1/cards/verify", json={"card_token": token},
                             headers=auth.headers("dispatcher"), timeout=10)
    # the API client of the test process and the server share the database and keys
    assert response.json()["reason"] == "closed"


def test_pages_are_served_to_anyone_without_personal_data(client, issue):
    body = issue()
    page = client.get("/checkpoint")
    assert page.status_code == 200 and b"Issue a card" in page.data
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    printable = client.get(f"/cards/{body['card_id']}/print")
    assert printable.status_code == 200
    assert b"Anna Schmidt" not in printable.data and body["card_token"].encode() not in printable.data
    script = client.get("/static/cards/print.js")
    assert script.status_code == 200
    script.close()
