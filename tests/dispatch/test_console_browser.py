"""The 191 console in headless Chromium against a real server: sign in, a live SOS with its alarm,
acknowledge and resolve from the page, and a screenshot with zones, tourists and an incident."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import shared_playwright, wait_until
from tests.dispatch.conftest import bearer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--autoplay-policy=no-user-gesture-required"]
# tourists around the west-coast beaches (Patong, Karon, Kata) and Phuket Town
TOURISTS = [
    ("Emma Wilson", "GBR", 7.8960, 98.2955), ("Lukas Becker", "DEU", 7.8925, 98.2968),
    ("Chen Jing", "CHN", 7.8990, 98.2980), ("Ivan Petrov", "RUS", 7.8460, 98.2940),
    ("Aiko Tanaka", "JPN", 7.8200, 98.2980), ("Noa Levi", "ISR", 7.8850, 98.3880),
    ("Marie Dubois", "FRA", 7.8945, 98.2990), ("Arjun Mehta", "IND", 7.8430, 98.2970),
]


def _place_tourists(app, factories) -> None:  # noqa: ANN001
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.models_base import utcnow
    from backend.tracking.service import PingInput, record_pings

    for name, nationality, lat, lon in TOURISTS:
        card_id = factories.card(full_name=name, nationality=nationality)
        with app.app_context():
            record_pings(card=db.session.get(Card, card_id), device_id=None, source="app", pings=[
                PingInput(client_id=str(uuid.uuid4()), lat=lat, lon=lon, recorded_at=utcnow() - timedelta(minutes=5))])
            db.session.commit()


def _enrolled_phone(server, factories) -> tuple[str, str]:  # noqa: ANN001
    card = factories.issued_card(full_name="Sofia Rossi", nationality="ITA", language="it", phone="+39 333 1234567")
    response = requests.post(f"{server.url}/api/v1/mobile/enroll", timeout=10, json={
        "card_id": card["card_id"], "enrollment_code": card["enrollment_code"], "platform": "android"})
    assert response.status_code == 201, response.text
    return card["card_id"], response.json()["device_token"]


def test_dispatcher_sees_a_live_sos_and_works_it_from_the_console(app, runner, auth, factories, live_server,
                                                                  artifacts_dir):
    with app.app_context():  # `flask seed`: Phuket's zones and facilities
        assert runner.invoke(args=["seed"]).exit_code == 0
    _place_tourists(app, factories)
    auth.user("dispatcher", username="somsak", password="191-phuket-safe")
    card_id, device_token = _enrolled_phone(live_server, factories)
    phone = {"Authorization": f"Bearer {device_token}"}

    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/console")

        page.fill("#username", "somsak")
        page.fill("#password", "wrong password")
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#signin-error")).not_to_be_empty()
        page.fill("#password", "191-phuket-safe")
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#signin")).to_be_hidden()
        expect(page.locator("#conn")).to_contain_text("Live", timeout=15_000)
        expect(page.locator("#who")).to_contain_text("somsak")
        # no tile server is reachable: the island outline and zones are drawn from /api/v1/zones
        expect(page.locator(".leaflet-zones-pane path").first).to_be_visible(timeout=15_000)
        assert page.locator(".leaflet-zones-pane path").count() >= 10
        wait_until(page, "Object.keys(window.ptsConsole.state.tourists).length === 8")
        expect(page.locator("#incident-empty")).to_be_visible()
        expect(page.locator("#alarm-banner")).to_be_hidden()

        # the tourist presses SOS in the app while the console is open
        sos = requests.post(f"{live_server.url}/api/v1/mobile/sos", headers=phone, timeout=10, json={
            "id": str(uuid.uuid4()), "lat": 7.8990, "lon": 98.2930, "accuracy_m": 12, "category": "marine",
            "note": "caught in a rip current", "recorded_at": datetime.now(UTC).isoformat()})
        assert sos.status_code == 201, sos.text
        incident_id = sos.json()["incident_id"]
        row = page.locator(f'#incident-list li[data-id="{incident_id}"]')
        expect(row).to_be_visible(timeout=5_000)
        expect(row).to_contain_text("Sofia Rossi")
        expect(row).to_have_class(re.compile(r"\balarming\b"))
        expect(page.locator("#alarm-banner")).to_be_visible()
        expect(page.locator("#alarm-text")).to_have_text("Sofia Rossi")
        expect(page.locator("body")).to_have_class(re.compile(r"\balarm\b"))
        assert page.evaluate("window.ptsConsole.beeping") is True
        expect(page.locator(f'.incident-marker.kind-sos[data-incident="{incident_id}"]')).to_be_visible()
        page.screenshot(path=str(artifacts_dir / "dispatch-console-sos.png"))

        # open it: tourist details, nearest help, timeline
        row.click()
        expect(page.locator("#detail")).to_be_visible()
        expect(page.locator("#detail-tourist")).to_contain_text("+39 333 1234567")
        expect(page.locator("#detail-nearby li").first).to_contain_text("km")
        expect(page.locator("#detail-timeline li").first).to_contain_text("Enrolled phone sent SOS (marine)")
        expect(page.locator('#detail-tourist a[data-call="tourist"]')).to_have_attribute("href", "tel:+393331234567")

        page.click('[data-action="acknowledge"]')
        expect(page.locator("#alarm-banner")).to_be_hidden(timeout=5_000)
        expect(row).to_have_attribute("data-status", "acknowledged")
        assert page.evaluate("window.ptsConsole.beeping") is False

        page.fill("#unit", "Patong marine rescue 2")
        page.click('[data-action="dispatch"]')
        expect(row).to_have_attribute("data-status", "dispatched")
        page.fill("#resolution", "rescued, taken to Patong Hospital")
        page.click('[data-action="resolve"]')
        expect(row).to_be_hidden(timeout=5_000)
        expect(page.locator("#detail-incident")).to_contain_text("rescued, taken to Patong Hospital")
        browser.close()
    assert errors == []

    token = auth.token("dispatcher")
    detail = requests.get(f"{live_server.url}/api/v1/dispatch/incidents/{incident_id}", headers=bearer(token),
                          timeout=10).json()
    assert detail["status"] == "resolved"
    assert detail["unit"] == {"name": "Patong marine rescue 2"}
    assert detail["resolution"] == "rescued, taken to Patong Hospital"
    assert [e["kind"] for e in detail["timeline"]][-3:] == ["acknowledged", "dispatched", "resolved"]
    assert {e["actor"] for e in detail["timeline"][-3:]} == {"somsak"}
    assert card_id == detail["card_id"]


def test_the_console_reconnects_after_a_server_crash_and_shows_what_it_missed(app, auth, factories, start_server,
                                                                              artifacts_dir):
    """The console's Socket.IO server dies; meanwhile another worker takes an SOS; the page comes back by itself."""
    auth.user("dispatcher", username="kanya", password="191-phuket-safe")
    console_server = start_server("console")
    other_worker = start_server("worker")  # another web worker on the same database
    card_id, device_token = _enrolled_phone(other_worker, factories)

    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{console_server.url}/console")
        page.fill("#username", "kanya")
        page.fill("#password", "191-phuket-safe")
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#conn")).to_contain_text("Live", timeout=15_000)
        expect(page.locator("#incident-empty")).to_be_visible()

        console_server.kill()
        expect(page.locator("#conn")).not_to_contain_text("Live", timeout=10_000)

        sos = requests.post(f"{other_worker.url}/api/v1/mobile/sos", timeout=10,
                            headers={"Authorization": f"Bearer {device_token}"},
                            json={"id": str(uuid.uuid4()), "lat": 7.8990, "lon": 98.2930, "accuracy_m": 12,
                                  "category": "medical", "recorded_at": datetime.now(UTC).isoformat()})
        assert sos.status_code == 201, sos.text
        incident_id = sos.json()["incident_id"]
        page.wait_for_timeout(1_000)  # the page keeps trying while the server is down
        expect(page.locator(f'#incident-list li[data-id="{incident_id}"]')).to_have_count(0)

        console_server.start_again()  # same address; the page was not touched
        expect(page.locator("#conn")).to_contain_text("Live", timeout=20_000)
        row = page.locator(f'#incident-list li[data-id="{incident_id}"]')
        expect(row).to_be_visible(timeout=10_000)
        expect(row).to_contain_text("Sofia Rossi")
        expect(row).to_have_class(re.compile(r"\balarming\b"))
        expect(page.locator("#alarm-banner")).to_be_visible()
        page.screenshot(path=str(artifacts_dir / "dispatch-console-after-reconnect.png"))
        browser.close()
    assert card_id
