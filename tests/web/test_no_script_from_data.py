"""No script from data: markup in a broadcast headline, a tourist's name, an SOS note and a hotel's
name is shown as text on every page that shows it (console, hotel desk, printable card), and never
runs — in headless Chromium against ``python wsgi.py``, under the pages' own policy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import requests

from tests.browser import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "no-script-from-data-1"
IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
NAME = f"Eve {IMG}{SCRIPT} Mallory"
HOTEL = f"Hotel {SCRIPT}{IMG} Patong"
NOTE = f"help {IMG} me {SCRIPT}"
HEADLINE = f"Storm {IMG}{SCRIPT} warning"
PATONG = [[98.270, 7.880], [98.310, 7.880], [98.310, 7.910], [98.270, 7.910], [98.270, 7.880]]
# every page records what its policy blocked: nothing should even be tried
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


@pytest.fixture
def stage(app, auth, factories, start_server):  # noqa: ANN001
    """Staff, a hotel, a checked-in tourist with an SOS and a broadcast, all with markup in their text."""
    from backend.extensions import db
    from backend.hotels.models import Hotel
    from backend.hotels.service import check_in

    server = start_server("xss")
    hotel_id = factories.hotel(name=HOTEL)
    auth.user("dispatcher", username="dispatch.xss", password=PASSWORD)
    auth.user("hotel_manager", hotel_id=hotel_id, username="desk.xss", password=PASSWORD)
    auth.user("immigration", username="officer.xss", password=PASSWORD)
    card = factories.issued_card(full_name=NAME, nationality="GBR")
    with app.app_context():
        check_in(hotel=db.session.get(Hotel, hotel_id), card_token=card["card_token"], room="7")
        db.session.commit()
    phone = requests.post(f"{server.url}/api/v1/mobile/enroll", timeout=10, json={
        "card_id": card["card_id"], "enrollment_code": card["enrollment_code"], "platform": "android"})
    assert phone.status_code == 201, phone.text
    sos = requests.post(f"{server.url}/api/v1/mobile/sos", timeout=10,
                        headers={"Authorization": f"Bearer {phone.json()['device_token']}"},
                        json={"id": str(uuid.uuid4()), "lat": 7.8960, "lon": 98.2950, "accuracy_m": 10,
                              "note": NOTE, "recorded_at": datetime.now(UTC).isoformat()})
    assert sos.status_code == 201, sos.text
    token = requests.post(f"{server.url}/api/v1/auth/login", timeout=10, json={
        "username": "dispatch.xss", "password": PASSWORD}).json()["access_token"]
    broadcast = requests.post(f"{server.url}/api/v1/broadcasts", timeout=10,
                              headers={"Authorization": f"Bearer {token}"}, json={
                                  "headline": HEADLINE, "message": f"Stay inside {SCRIPT}", "severity": "Severe",
                                  "urgency": "Immediate", "area": {"type": "Polygon", "coordinates": [PATONG]}})
    assert broadcast.status_code == 201, broadcast.text
    return {"url": server.url, "card_id": card["card_id"], "incident_id": sos.json()["incident_id"]}


def _sign_in(page, username: str, button: str) -> None:  # noqa: ANN001
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click(button)


def _nothing_ran(page) -> None:  # noqa: ANN001
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("window.__csp") == []
    assert page.locator("#pwned-marker, img[src='x']").count() == 0


def test_markup_in_the_data_is_shown_as_text_and_never_runs(stage, artifacts_dir):
    from playwright.sync_api import expect

    from tests.browser import shared_playwright

    url = stage["url"]
    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            # no bypass_csp: the pages run under their own Content-Security-Policy
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.add_init_script(WATCH)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda dialog: dialog.dismiss())

            # the 191 console: the incident in the list, its detail, its marker, the broadcast on the map
            response = page.goto(f"{url}/console")
            assert "script-src 'self'" in response.headers["content-security-policy"]
            _sign_in(page, "dispatch.xss", "#signin-form button[type=submit]")
            expect(page.locator("#conn")).to_contain_text("Live", timeout=15_000)
            row = page.locator(f'#incident-list li[data-id="{stage["incident_id"]}"]')
            expect(row.locator(".title")).to_contain_text(NAME, timeout=10_000)
            row.click()
            expect(page.locator("#detail-tourist")).to_contain_text(NAME)
            expect(page.locator("#detail-tourist")).to_contain_text(HOTEL)
            expect(page.locator("#detail-incident")).to_contain_text(NOTE)
            expect(page.locator("#alarm-text")).to_have_text(NAME)
            page.hover(f'.incident-marker[data-incident="{stage["incident_id"]}"]')
            expect(page.locator(".leaflet-tooltip", has_text=f"SOS · ขอความช่วยเหลือ — {NAME}")).to_be_visible()
            item = page.locator("#broadcasts .ptsb-list li[data-broadcast-id]")
            expect(item.locator("strong")).to_have_text(HEADLINE, timeout=10_000)
            # the broadcast's area and the tourist's dot: their tooltips show the text as text
            page.evaluate("PTSBroadcasts.current().activeLayer.eachLayer((layer) => layer.openTooltip())")
            expect(page.locator(".leaflet-tooltip", has_text=HEADLINE)).to_have_count(1)
            wait_until(page, "Object.keys(window.ptsConsole.state.tourists).length >= 1")
            page.evaluate("Object.values(window.ptsConsole.state.tourists).forEach((m) => m.openTooltip())")
            expect(page.locator(".leaflet-tooltip", has_text=f"{NAME} (GBR)")).to_have_count(1)
            page.screenshot(path=str(artifacts_dir / "no-script-from-data-console.png"))
            _nothing_ran(page)

            # the hotel desk: the hotel's name and the guest list
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{url}/hotel")
            _sign_in(page, "desk.xss", "#signin-button")
            expect(page.locator("#hotel-name")).to_contain_text(HOTEL)
            guest = page.locator("tr.guest")
            expect(guest).to_have_count(1)
            expect(guest).to_contain_text(NAME)
            expect(page.locator("#alert")).to_contain_text(NAME)
            page.screenshot(path=str(artifacts_dir / "no-script-from-data-hotel.png"), full_page=True)
            _nothing_ran(page)

            # the checkpoint: sign in, open the card, the printable card shows the holder's name
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{url}/checkpoint")
            _sign_in(page, "officer.xss", "#signin-button")
            page.fill("#find-q", stage["card_id"])  # the card search lists the holder's name as text too
            page.click("#find-button")
            expect(page.locator("#find-results .result")).to_contain_text(NAME)
            expect(page.locator("#c-name")).to_have_text(NAME)
            page.click("#reprint-button")
            page.wait_for_url("**/cards/*/print")
            page.wait_for_selector("body[data-ready='1']", timeout=20_000)
            expect(page.locator("#f-name")).to_have_text(NAME)
            _nothing_ran(page)

            # the companion app's shell loads under the same policy without a single violation
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{url}/app", wait_until="networkidle")
            page.wait_for_timeout(1000)  # its scripts (deferred) ran: app.js, Leaflet, jsQR, the service worker
            _nothing_ran(page)
            assert errors == []
        finally:
            browser.close()
