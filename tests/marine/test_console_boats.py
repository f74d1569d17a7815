"""The 191 console's marine layer (dispatch/static/boats.js) in headless Chromium against ``python wsgi.py``.

A trip at sea whose passengers' phones ping from the water appears on the map at its last position
with its vessel name and head count; the detail of its ``boat_overdue`` incident shows the manifest;
a station's red flag shows a marine-warning banner; the trip's return without one passenger (a live ``trip`` event)
takes the boat off the map and that passenger's ``passenger_unaccounted`` detail highlights them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import shared_playwright, wait_until
from tests.marine.helpers_ui import CHROMIUM_ARGS, login, operator_account, watch_problems

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "console-boats-pass"
AT_SEA = [(7.6400, 98.3640), (7.6420, 98.3660)]  # off Koh Racha Yai


def _phone(url: str, card: dict[str, str]) -> dict[str, str]:
    response = requests.post(f"{url}/api/v1/mobile/enroll", timeout=10, json={
        "card_id": card["card_id"], "enrollment_code": card["enrollment_code"], "platform": "android"})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['device_token']}"}


def _ping(url: str, phone: dict[str, str], lat: float, lon: float) -> None:
    response = requests.post(f"{url}/api/v1/mobile/pings", headers=phone, timeout=10, json={"pings": [{
        "id": str(uuid.uuid4()), "lat": lat, "lon": lon, "recorded_at": datetime.now(UTC).isoformat(),
        "accuracy_m": 12.0}]})
    assert response.status_code == 200, response.text


def test_boats_at_sea_and_the_manifest_of_an_overdue_boat(app, runner, auth, factories, start_server,
                                                        artifacts_dir, database_url):
    from sqlalchemy import select

    from backend.dispatch.models import Incident
    from backend.extensions import db
    from backend.marine.conditions import create_station
    from backend.marine.service import raise_overdue_boats
    from backend.models_base import utcnow

    with app.app_context():
        assert runner.invoke(args=["seed"]).exit_code == 0
    operator_account(app, name="Racha Divers", username="racha.ops", password=PASSWORD)
    auth.user("dispatcher", username="somsak", password=PASSWORD)
    with app.app_context():
        _, station_token = create_station(name="Kata Beach lifeguard tower", lat=7.8206, lon=98.2960)
        db.session.commit()
    cards = [factories.issued_card(full_name="Sophie Müller", nationality="DEU", phone="+49 170 1234567"),
             factories.issued_card(full_name="Kim Min-jun", nationality="KOR", phone="+82 10 2345 6789")]
    server = start_server()
    url = server.url
    operator = login(url, "racha.ops", PASSWORD)
    phones = [_phone(url, card) for card in cards]

    # the boat was due back an hour ago and is still out
    now = datetime.now(UTC)
    trip = requests.post(f"{url}/api/v1/marine/trips", headers=operator, timeout=10, json={
        "vessel_name": "Racha Sea Star", "vessel_registration": "PKT-5678-S", "pier": "AO_CHALONG",
        "destination": "Koh Racha Yai", "departs_at": (now - timedelta(hours=6)).isoformat(),
        "returns_by": (now - timedelta(hours=1)).isoformat(), "crew_phone": "+66 89 876 5432"})
    assert trip.status_code == 201, trip.text
    trip_id = trip.json()["id"]
    for card in cards:
        boarded = requests.post(f"{url}/api/v1/marine/trips/{trip_id}/passengers", headers=operator, timeout=10,
                                json={"card_token": card["card_token"]})
        assert boarded.status_code == 201, boarded.text
    assert requests.post(f"{url}/api/v1/marine/trips/{trip_id}/depart", headers=operator, json={},
                         timeout=10).status_code == 200
    for phone, (lat, lon) in zip(phones, AT_SEA, strict=True):
        _ping(url, phone, lat, lon)
    with app.app_context():  # the sweep, past the grace the server allows
        assert raise_overdue_boats(now=utcnow() + timedelta(hours=1)) == 1
        db.session.commit()
        incident_id, incident_card = db.session.execute(
            select(Incident.id, Incident.card_id).where(Incident.kind == "boat_overdue")).one()
    assert incident_card is None  # the trip's incident, whoever is aboard
    label = "postgis" if database_url.startswith("postgresql") else "spatialite"

    expect.set_options(timeout=15_000)  # a machine busy with the parallel suite answers slowly at times
    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            problems = watch_problems(page)
            page.goto(f"{url}/console")
            page.fill("#username", "somsak")
            page.fill("#password", PASSWORD)
            page.click("#signin-form button[type=submit]")
            expect(page.locator("#signin")).to_be_hidden()

            # the boat at its last position, with its name and head count
            boat = page.locator(f'.boat-label[data-trip-id="{trip_id}"]')
            expect(boat).to_be_visible(timeout=15_000)
            expect(boat.locator(".boat-name")).to_have_text("Racha Sea Star")
            expect(boat.locator(".boat-heads")).to_have_text("2 คน · pax")
            expect(boat).to_have_class("boat-label boat-late")
            expect(page.locator("#boats-count")).to_have_text("1")

            # the overdue incident is the boat's (no card): the list names the vessel, and its detail lists the manifest
            wait_until(page, f"!!window.ptsConsole.state.incidents[{incident_id}]")
            row = page.locator(f'#incident-list li.incident[data-id="{incident_id}"]')
            expect(row).to_have_attribute("data-kind", "boat_overdue")
            expect(row.locator(".title")).to_contain_text("⛴ Racha Sea Star")
            row.click()
            expect(page.locator("#detail-title")).to_contain_text(f"#{incident_id}")
            expect(page.locator("#detail-tourist")).to_contain_text("No card")
            table = page.locator("#manifest-table")
            expect(table).to_be_visible(timeout=15_000)
            expect(table.locator("tbody tr")).to_have_count(2)
            sophie = table.locator("tr", has_text="Sophie Müller")
            expect(sophie).to_contain_text("DEU")
            expect(sophie.locator("a")).to_have_attribute("href", "tel:+491701234567")
            expect(sophie).to_contain_text("7.6400, 98.3640")  # her last fix at sea
            expect(table.locator("tr.manifest-missing")).to_have_count(2)  # nobody is ashore yet
            page.screenshot(path=str(artifacts_dir / f"console-boats-{label}.png"))

            # a red flag at Kata: the dispatchers' marine_warning event becomes a banner with a draft button
            observed = requests.post(f"{url}/api/v1/marine/observations", timeout=10,
                                     headers={"Authorization": f"Bearer {station_token}"},
                                     json={"observed_at": datetime.now(UTC).isoformat(), "flag": "red",
                                           "wave_height_m": 2.9})
            assert observed.status_code == 201, observed.text
            banner = page.locator(".marine-warning")
            expect(banner).to_contain_text("Kata Beach lifeguard tower", timeout=15_000)
            expect(banner.locator("button.marine-draft")).to_be_visible()
            page.screenshot(path=str(artifacts_dir / f"console-marine-warning-{label}.png"))
            # its button opens the broadcast composer with the event's draft (a template for the red flag)
            banner.locator("button.marine-draft").click()
            expect(page.locator("#broadcast-dialog")).to_be_visible()
            wait_until(page, "window.PTSBroadcasts.current().form.template.value !== ''")
            assert page.evaluate("window.PTSBroadcasts.current().form.template.value") in {
                "rip_current_red_flag", "storm_small_boat"}
            page.screenshot(path=str(artifacts_dir / f"console-marine-draft-{label}.png"))

            # back at the pier without Kim: the live `trip` event takes the boat off the map (well before the
            # 30 s refresh), and Kim's passenger_unaccounted detail shows the manifest with Kim highlighted
            for card in cards[:1]:
                assert requests.post(f"{url}/api/v1/marine/trips/{trip_id}/passengers/{card['card_id']}/ashore",
                                     headers=operator, json={}, timeout=10).status_code == 200
            assert requests.post(f"{url}/api/v1/marine/trips/{trip_id}/return", headers=operator, json={},
                                 timeout=10).status_code == 200
            expect(boat).to_have_count(0, timeout=10_000)
            expect(page.locator("#boats-count")).to_have_text("0")
            with app.app_context():
                unaccounted = db.session.scalar(select(Incident.id).where(Incident.kind == "passenger_unaccounted"))
            wait_until(page, f"!!window.ptsConsole.state.incidents[{unaccounted}]")
            page.evaluate(f"window.pts.select({unaccounted})")
            expect(page.locator("#detail-title")).to_contain_text(f"Passenger unaccounted #{unaccounted}")
            expect(page.locator("#marine-detail")).to_contain_text("Racha Sea Star")
            highlighted = page.locator("#manifest-table tr.manifest-missing")
            expect(highlighted).to_have_count(1)
            expect(highlighted).to_contain_text("Kim Min-jun")
            page.screenshot(path=str(artifacts_dir / f"console-unaccounted-{label}.png"))
            assert [m for m in problems if "Failed to load resource" not in m] == [], problems
        finally:
            expect.set_options(timeout=5_000)  # Playwright's default, for the other tests of this worker
            browser.close()
