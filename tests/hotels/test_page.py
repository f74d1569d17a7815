"""The hotel manager's page ``/hotel`` in real headless Chromium against ``python wsgi.py``.

Camera scanning cannot run headless; the same decoder (jsQR) is exercised by uploading the
card's real QR PNG, as a manager would upload a photo of the card.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.hotels.conftest import edited_payload

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "front-desk-pass-1"


def _qr_png(url: str, admin_password: str, admin_username: str, card_id: str, path: Path) -> Path:
    """The card's real QR PNG, fetched as staff (the endpoint is staff-only)."""
    login = requests.post(f"{url}/api/v1/auth/login", json={"username": admin_username, "password": admin_password},
                          timeout=10)
    assert login.status_code == 200, login.text
    response = requests.get(f"{url}/api/v1/cards/{card_id}/qr.png", timeout=10,
                            headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    path.write_bytes(response.content)
    return path


def _camera_video(png: Path, path: Path, *, width: int = 640, height: int = 480, frames: int = 10) -> Path:
    """A Y4M clip of the card's QR held in front of the camera (Chromium's fake capture device plays it)."""
    from PIL import Image

    qr = Image.open(png).convert("RGB")
    side = min(width, height) - 80
    canvas = Image.new("RGB", (width, height), (235, 230, 220))
    canvas.paste(qr.resize((side, side), Image.NEAREST), ((width - side) // 2, (height - side) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    chroma = (width // 2, height // 2)
    frame = y.tobytes() + cb.resize(chroma).tobytes() + cr.resize(chroma).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + frame)
    return path


def test_the_page_is_served_with_a_strict_policy(client):
    response = client.get("/hotel")
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    html = response.get_data(as_text=True)
    assert "/vendor/jsqr/jsQR.js" in html and "เช็คอิน" in html
    with client.get("/vendor/jsqr/jsQR.js") as script:  # a file response: close it
        assert script.status_code == 200


@pytest.mark.browser
def test_manager_checks_guests_in_and_out_in_the_browser(app, auth, factories, server, artifacts_dir, database_url,
                                                         tmp_path):
    from playwright.sync_api import expect

    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident
    from backend.extensions import db
    from tests.browser import shared_playwright

    hotel_id = factories.hotel(name="Patong Seaview Hotel")
    auth.user("hotel_manager", hotel_id=hotel_id, username="frontdesk", password=PASSWORD)
    auth.user("admin", username="site.admin", password=PASSWORD)
    pasted = factories.issued_card(full_name="Hannah Becker", nationality="DEU")
    photographed = factories.issued_card(full_name="Kenji Watanabe", nationality="JPN")
    png = _qr_png(server, PASSWORD, "site.admin", photographed["card_id"], tmp_path / "card-qr.png")
    scanned = factories.issued_card(full_name="Priya Sharma", nationality="IND")
    video = _camera_video(_qr_png(server, PASSWORD, "site.admin", scanned["card_id"], tmp_path / "scan.png"),
                          tmp_path / "camera.y4m")
    label = "postgis" if database_url.startswith("postgresql") else "spatialite"

    with shared_playwright() as p:
        # a fake camera that films the card's QR: the live scanning path runs headless too
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1000})
            context.grant_permissions(["camera"], origin=server)
            page = context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(f"{server}/hotel")

            # sign in
            page.fill("#username", "frontdesk")
            page.fill("#password", PASSWORD)
            page.click("#signin-button")
            expect(page.locator("#app")).to_be_visible()
            expect(page.locator("#hotel-name")).to_contain_text("Patong Seaview Hotel")
            expect(page.locator("#no-guests")).to_be_visible()

            # a forged card is refused, with the reason in English and Thai
            page.fill("#card-token", edited_payload(pasted["card_token"], name="Someone Else"))
            page.click("#verify-button")
            expect(page.locator("#result-refused")).to_be_visible()
            expect(page.locator("#refusal-en")).to_contain_text("forged")
            expect(page.locator("#refusal-th")).not_to_be_empty()
            page.screenshot(path=str(artifacts_dir / f"hotel-refused-{label}.png"), full_page=True)

            # paste the real token: the card is shown, then checked in with a room
            page.fill("#card-token", pasted["card_token"])
            page.click("#verify-button")
            expect(page.locator("#result-ok")).to_be_visible()
            expect(page.locator("#r-name")).to_have_text("Hannah Becker")
            expect(page.locator("#r-nationality")).to_have_text("DEU")
            page.fill("#room", "1204")
            page.click("#checkin-button")
            row = page.locator("tr.guest", has_text="Hannah Becker")
            expect(row).to_be_visible()
            expect(row.locator("td.room")).to_have_text("1204")
            expect(page.locator("#checkin-message")).to_contain_text("Checked in")

            # upload a photo of the QR: decoded in the page by jsQR
            page.set_input_files("#qr-file", str(png))
            expect(page.locator("#r-name")).to_have_text("Kenji Watanabe", timeout=15000)
            assert page.input_value("#card-token") == photographed["card_token"]
            page.fill("#room", "305")
            page.click("#checkin-button")
            expect(page.locator("tr.guest", has_text="Kenji Watanabe")).to_be_visible()

            # scan with the (fake) camera: frames go through jsQR (or BarcodeDetector) until the QR is read
            page.click("#scan-start")
            expect(page.locator("#r-name")).to_have_text("Priya Sharma", timeout=20000)
            expect(page.locator("#camera")).to_be_hidden()  # the camera is released once the card is read
            page.click("#checkin-cancel")

            # the guest presses SOS: it shows on the list (status colour + text) and in the alert
            with app.app_context():
                raise_incident(card_id=pasted["card_id"], kind=IncidentKind.SOS, severity=Severity.CRITICAL,
                               lat=7.8961, lon=98.2960)
                db.session.commit()
            page.click("#refresh")
            expect(row).to_have_attribute("data-status", "sos")
            expect(row.locator(".badge")).to_contain_text("SOS")
            expect(page.locator("#alert")).to_contain_text("Hannah Becker")
            page.screenshot(path=str(artifacts_dir / f"hotel-guests-{label}.png"), full_page=True)

            # check out (two taps) and the guest is gone
            kenji = page.locator("tr.guest", has_text="Kenji Watanabe")
            kenji.locator("button.checkout").click()
            expect(kenji.locator("button.checkout")).to_contain_text("Confirm")
            kenji.locator("button.checkout").click()
            expect(page.locator("tr.guest", has_text="Kenji Watanabe")).to_have_count(0)
            expect(page.locator("tr.guest")).to_have_count(1)

            # a phone-sized screen
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(artifacts_dir / f"hotel-phone-{label}.png"), full_page=True)
            # any failed request is listed with its URL (the console repeats it without one)
            assert [m for m in problems if "Failed to load resource" not in m] == [], problems
        finally:
            browser.close()

    # what the page did is what the API says
    from tests.hotels.conftest import guest_list

    headers = auth.headers("hotel_manager", hotel_id=hotel_id)
    items = guest_list(app.test_client(), hotel_id, headers)
    assert [(g["full_name"], g["room"], g["status"]) for g in items] == [("Hannah Becker", "1204", "sos")]
