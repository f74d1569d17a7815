"""The boat operator's page ``/marine`` in real headless Chromium against ``python wsgi.py``.

One walk through a trip: register it, board passengers by pasted QR code, by card id + passport
number, by a photo of the QR (decoded in the page by the pinned jsQR) and by the (fake) camera, a revoked card refused
with its reason, departure, scans ashore, the return with the one who is missing highlighted; a
departure held by a marine warning, which only an admin overrides; and another operator's account that sees none of it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import shared_playwright
from tests.hotels.test_page import _camera_video
from tests.marine.helpers_ui import CHROMIUM_ARGS, login, operator_account, watch_problems

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "pier-side-pass-1"


def test_the_page_is_served_with_a_strict_policy_and_the_camera(client):
    response = client.get("/marine")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    html = response.get_data(as_text=True)
    assert "/vendor/jsqr/jsQR.js" in html and "ผู้โดยสาร" in html and "<script>" not in html


def _qr_png(url: str, admin: dict[str, str], card_id: str, path: Path) -> Path:
    response = requests.get(f"{url}/api/v1/cards/{card_id}/qr.png", headers=admin, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    path.write_bytes(response.content)
    return path


def test_operator_boards_departs_lands_and_sees_who_is_missing(app, runner, auth, factories, start_server,
                                                               artifacts_dir, database_url, tmp_path):
    from sqlalchemy import select

    from backend.cards.service import get_card, revoke_card
    from backend.dispatch.models import Incident
    from backend.extensions import db
    from backend.marine.conditions import create_station

    with app.app_context():  # the piers' positions come with the seed
        assert runner.invoke(args=["seed"]).exit_code == 0
    operator_account(app, name="Andaman Sea Tours", username="skipper", password=PASSWORD)
    operator_account(app, name="Racha Divers", username="rival", password=PASSWORD)
    auth.user("admin", username="harbour.admin", password=PASSWORD)
    anna = factories.issued_card(full_name="Anna Schmidt", nationality="DEU")
    ben = factories.issued_card(full_name="Ben Carter", nationality="GBR", passport_number="GB5550123")
    carl = factories.issued_card(full_name="Carl Jensen", nationality="DNK")
    dora = factories.issued_card(full_name="Dora Nagy", nationality="HUN")
    revoked = factories.issued_card(full_name="Rita Revoked", nationality="USA")
    with app.app_context():
        revoke_card(card=get_card(card_id=revoked["card_id"]), reason="reported stolen")
        db.session.commit()
    server = start_server()
    url = server.url
    admin = login(url, "harbour.admin", PASSWORD)
    png = _qr_png(url, admin, carl["card_id"], tmp_path / "carl.png")
    # a fake camera that films Dora's card: the live scanning path runs headless too
    video = _camera_video(_qr_png(url, admin, dora["card_id"], tmp_path / "dora.png"), tmp_path / "camera.y4m")
    label = "postgis" if database_url.startswith("postgresql") else "spatialite"

    expect.set_options(timeout=15_000)  # a machine busy with the parallel suite answers slowly at times
    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            context.grant_permissions(["camera"], origin=url)
            page = context.new_page()
            problems = watch_problems(page)
            page.goto(f"{url}/marine")
            page.fill("#username", "skipper")
            page.fill("#password", PASSWORD)
            page.click("#signin-button")
            expect(page.locator("#app")).to_be_visible()
            expect(page.locator("#no-trips")).to_be_visible()

            # register the trip at the pier (the times are prefilled: now and six hours later)
            page.click("#new-trip")
            page.fill("#t-vessel", "Andaman Explorer")
            page.fill("#t-registration", "PKT-1234-S")
            page.fill("#t-pier", "RASSADA")
            page.fill("#t-destination", "Koh Phi Phi")
            page.fill("#t-capacity", "30")
            page.click("#trip-create")
            expect(page.locator("#trip-title")).to_contain_text("Andaman Explorer")
            expect(page.locator("#trip-status")).to_contain_text("boarding")
            trip_id = int(page.locator(".trip-item.selected").get_attribute("data-trip-id"))

            # board: the pasted QR code, then the card id as typed with the passport number
            page.fill("#card-token", anna["card_token"])
            page.click("#token-button")
            expect(page.locator("#scan-ok")).to_contain_text("Aboard: Anna Schmidt")
            typed = ben["card_id"].lower()
            page.fill("#card-id", typed[:3] + " " + typed[3:])
            page.fill("#passport", "gb 5550123")
            page.click("#id-button")
            expect(page.locator("#scan-ok")).to_contain_text("Aboard: Ben Carter")

            # a revoked card is refused, with the reason in English and Thai
            page.fill("#card-token", revoked["card_token"])
            page.click("#token-button")
            expect(page.locator("#refused")).to_be_visible()
            expect(page.locator("#refused")).to_have_attribute("data-reason", "revoked")
            expect(page.locator("#refusal-en")).to_contain_text("revoked")
            expect(page.locator("#refusal-th")).to_contain_text("เพิกถอน")
            page.screenshot(path=str(artifacts_dir / f"marine-refused-{label}.png"), full_page=True)

            # a photo of the card's QR, decoded in the page
            page.set_input_files("#qr-file", str(png))
            expect(page.locator("#scan-ok")).to_contain_text("Aboard: Carl Jensen", timeout=15_000)
            # the camera: frames go through BarcodeDetector or jsQR until the card is read, then it is released
            page.click("#scan-start")
            expect(page.locator("#scan-ok")).to_contain_text("Aboard: Dora Nagy", timeout=20_000)
            expect(page.locator("#camera")).to_be_hidden()
            expect(page.locator("tr.passenger")).to_have_count(4)

            # depart: the scans are now the ones ashore
            page.click("#depart")
            expect(page.locator("#trip-status")).to_contain_text("At sea")
            expect(page.locator("#scan-title")).to_contain_text("ashore")
            expect(page.locator("#return")).to_be_visible()
            page.fill("#card-token", anna["card_token"])
            page.click("#token-button")
            expect(page.locator("#scan-ok")).to_contain_text("Ashore: Anna Schmidt")
            page.locator("tr.passenger", has_text="Carl Jensen").locator("button.ashore").click()
            expect(page.locator("tr.passenger", has_text="Carl Jensen")).to_have_class("passenger landed")
            page.click("#scan-start")  # Dora steps off in front of the camera
            expect(page.locator("#scan-ok")).to_contain_text("Ashore: Dora Nagy", timeout=20_000)

            # back at the pier without Ben: he is highlighted as missing
            page.click("#return")
            expect(page.locator("#trip-status")).to_contain_text("Returned")
            missing = page.locator("tr.passenger.missing")
            expect(missing).to_have_count(1)
            expect(missing).to_contain_text("Ben Carter")
            expect(missing.locator("td.ashore-at")).to_contain_text("MISSING")
            expect(page.locator("#missing")).to_contain_text("Ben Carter")
            expect(page.locator('[data-count="missing"] strong')).to_have_text("1")
            page.screenshot(path=str(artifacts_dir / f"marine-missing-{label}.png"), full_page=True)
            with app.app_context():
                kinds = db.session.execute(select(Incident.kind, Incident.card_id)).all()
            assert ("passenger_unaccounted", ben["card_id"]) in [tuple(k) for k in kinds]
            # Ben turns up at the pier after all: scanned ashore, he is missing no more
            missing.locator("button.ashore").click()
            expect(page.locator("tr.passenger.missing")).to_have_count(0)
            expect(page.locator("#missing")).to_be_hidden()

            # a red flag near Rassada: the next trip's departure is held, and the page says why
            with app.app_context():
                _, station_token = create_station(name="Rassada harbour mast", lat=7.8560, lon=98.4000)
                db.session.commit()
            observed = requests.post(f"{url}/api/v1/marine/observations", timeout=10,
                                     headers={"Authorization": f"Bearer {station_token}"},
                                     json={"observed_at": datetime.now(UTC).isoformat(), "flag": "red"})
            assert observed.status_code == 201, observed.text
            skipper = login(url, "skipper", PASSWORD)
            second = requests.post(f"{url}/api/v1/marine/trips", headers=skipper, timeout=10, json={
                "vessel_name": "Phi Phi Cruiser", "vessel_registration": "PKT-7777-S", "pier": "RASSADA",
                "destination": "Koh Phi Phi", "departs_at": datetime.now(UTC).isoformat(),
                "returns_by": datetime.now(UTC).replace(hour=23, minute=59).isoformat()})
            assert second.status_code == 201, second.text
            page.click("#refresh")
            page.click(f'.trip-item[data-trip-id="{second.json()["id"]}"]')
            expect(page.locator("#trip-title")).to_contain_text("Phi Phi Cruiser")
            page.click("#depart")
            expect(page.locator("#hold")).to_be_visible()
            expect(page.locator("#hold-message")).not_to_be_empty()
            expect(page.locator("#override-form")).to_be_hidden()  # only an admin may override
            expect(page.locator("#trip-status")).to_contain_text("boarding")
            page.screenshot(path=str(artifacts_dir / f"marine-hold-{label}.png"), full_page=True)

            # an admin may override the hold, with a reason (audited)
            page.click("#sign-out")
            page.fill("#username", "harbour.admin")
            page.fill("#password", PASSWORD)
            page.click("#signin-button")
            expect(page.locator("#trip")).to_be_hidden()  # nothing of the last account's trip is left
            page.click(f'.trip-item[data-trip-id="{second.json()["id"]}"]')
            expect(page.locator("#trip-title")).to_contain_text("Phi Phi Cruiser")
            page.click("#depart")
            expect(page.locator("#override-form")).to_be_visible()
            page.fill("#override-reason", "harbour master cleared the ferry route")
            page.click("#override-button")
            expect(page.locator("#trip-status")).to_contain_text("At sea")
            expect(page.locator("#hold")).to_be_hidden()
            with app.app_context():
                from backend.audit.models import AuditEntry

                actions = [a for (a,) in db.session.execute(select(AuditEntry.action))]
            assert "trip.depart_override" in actions, actions

            # another operator's account sees none of these trips
            page.click("#sign-out")
            page.fill("#username", "rival")
            page.fill("#password", PASSWORD)
            page.click("#signin-button")
            expect(page.locator("#no-trips")).to_be_visible()
            expect(page.locator(".trip-item")).to_have_count(0)
            expect(page.locator("#trip")).to_be_hidden()
            assert "Ben Carter" not in page.locator("main").inner_text()

            expected = [m for m in problems if "Failed to load resource" not in m
                        and not (m.startswith("422 ") and m.endswith(f"/trips/{trip_id}/passengers"))
                        and not (m.startswith("409 ") and m.endswith("/depart"))]
            assert expected == [], problems
        finally:
            expect.set_options(timeout=5_000)  # Playwright's default, for the other tests of this worker
            browser.close()

    rival = login(url, "rival", PASSWORD)
    assert requests.get(f"{url}/api/v1/marine/trips/{trip_id}", headers=rival, timeout=10).status_code == 403
