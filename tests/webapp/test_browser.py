"""The companion app in real headless Chromium against ``python wsgi.py``, with a faked location.

Screenshots of every screen, in English and Thai, go to ``test-artifacts/webapp-<db>-*.png``.
"""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import func, select

pytestmark = pytest.mark.browser

SCREENS = ("home", "sos", "map", "inbox", "settings")


def _count(app, model, **where) -> int:
    from backend.extensions import db

    with app.app_context():
        query = select(func.count()).select_from(model).filter_by(**where)
        count = db.session.scalar(query)
        db.session.remove()
        return count


def _wait_for(predicate, *, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def _pings(app, card_id: str) -> list[tuple[float, float]]:
    from backend.extensions import db
    from backend.tracking.models import Ping

    with app.app_context():
        rows = db.session.execute(select(Ping.lat, Ping.lon).where(Ping.card_id == card_id)).all()
        db.session.remove()
        return [(round(lat, 4), round(lon, 4)) for lat, lon in rows]


def _sos_signal(app, card_id: str):
    from backend.dispatch.models import SosSignal
    from backend.extensions import db

    with app.app_context():
        signal = db.session.scalars(select(SosSignal).where(SosSignal.card_id == card_id)).one()
        db.session.expunge(signal)
        db.session.remove()
        return signal


def _enroll_from_card_link(page, base: str, card: dict[str, str]) -> None:
    """Open the card's enrollment QR link, confirm, and wait for the home screen."""
    page.goto(f"{base}/app#card_id={card['card_id']}&code={card['enrollment_code']}")
    page.locator("#enroll-confirm").wait_for(state="visible")
    assert page.locator("#enroll-confirm-card").inner_text() == card["card_id"]
    assert "code=" not in page.url  # the code does not stay in the address bar or history
    page.click("#enroll-confirm-yes")
    page.locator("#screen-home:visible, #enroll-error:visible").first.wait_for()
    assert page.locator("#screen-home").is_visible(), page.locator("#enroll-error").inner_text()
    page.wait_for_function("document.getElementById('card-name').textContent.length > 0")


def _go(page, screen: str) -> None:
    if screen == "sos":
        page.click("#tab-home")
        page.click("#sos-button")
    else:
        page.click(f"#tab-{screen}")
    page.locator(f"#screen-{screen}").wait_for(state="visible")
    if screen == "map":
        page.locator("#zones-list .item.danger").first.wait_for()
        page.locator("#facilities .item").first.wait_for()
    if screen == "settings":
        page.locator("#setup-traccar").wait_for(state="visible")
    if screen == "inbox":
        page.locator("#inbox-state:not(:empty), #inbox-list .item").first.wait_for()


def test_enroll_by_code_see_the_card_and_pings_reach_the_server(app, factories, seeded, server, phone_context,
                                                                   screenshot):
    card = factories.issued_card(full_name="Anna Schmidt", nationality="DEU", language="en")
    context = phone_context(locale="en-US", bypass_csp=False)  # the page's own CSP stays on
    page = context.new_page()
    csp_violations: list[str] = []
    page.on("console", lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server}/app")
    page.locator("#screen-enroll").wait_for(state="visible")
    assert page.locator("#tabs").is_hidden()
    for number in ("191", "1155", "1669"):
        assert page.locator(f"#call-{number}").get_attribute("href") == f"tel:{number}"
    screenshot(page, "en-enroll")

    # a wrong code is refused in plain words
    page.fill("#enroll-card-id", card["card_id"])
    page.fill("#enroll-code", "ZZZZ-ZZZZ")
    page.click("#enroll-submit")
    page.locator("#enroll-error").wait_for(state="visible")
    assert "not right" in page.locator("#enroll-error").inner_text()

    # the card number typed as printed on the card (groups of three with hyphens), in lower case
    printed = "-".join(card["card_id"][i:i + 3] for i in range(0, len(card["card_id"]), 3))
    page.fill("#enroll-card-id", printed.lower())
    page.fill("#enroll-code", card["enrollment_code"])
    page.click("#enroll-submit")
    page.locator("#screen-home").wait_for(state="visible")
    page.locator("#card-name", has_text="Anna Schmidt").wait_for()
    assert page.locator("#card-id").inner_text() == card["card_id"]
    assert page.locator("#card-nationality").inner_text() == "DEU"
    assert page.locator("#card-status").text_content() == "Active"
    assert page.locator("#stay-none").is_visible()
    # the emergency numbers stay on every screen
    assert page.locator("#call-191").is_visible()
    # large touch targets: nothing to tap is under 48 CSS pixels high
    too_small = page.evaluate("""[...document.querySelectorAll('button, a.btn, a.call, input, textarea')]
        .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 48)
        .map((e) => e.id || e.textContent.trim())""")
    assert too_small == []

    # the page's first ping reaches the server with the faked position
    _wait_for(lambda: _pings(app, card["card_id"]), what="a ping from the page")
    # (every ping at that position: inside the Patong rip zone the server asks for one every 5 min,
    # and a test on a loaded machine may last that long)
    assert set(_pings(app, card["card_id"])) == {(7.8961, 98.2969)}
    page.locator("#last-sent", has_text="Last shared").wait_for()
    assert "cannot" in page.locator("#screen-home .notice").inner_text()  # honest about background limits

    for screen in SCREENS:
        _go(page, screen)
        screenshot(page, f"en-{screen}")
    # the map explains danger zones in plain words and gives directions to help
    assert page.locator("#facilities [data-facility-kind=hospital]").count() == 1
    assert page.locator("#facilities [data-facility-kind=police]").count() == 1
    assert page.locator("#facilities [data-facility-kind=tourist_police]").count() == 1
    directions = page.locator("#facilities [data-facility-kind=hospital] a").first.get_attribute("href")
    assert directions.startswith("https://www.openstreetmap.org/directions?") and "7.8961%2C98.2969" in directions
    assert page.locator("#facilities [data-facility-kind=hospital] a[href^='geo:']").count() == 1
    first_zone = page.locator("#zones-list .item.danger").first
    assert len(first_zone.locator("p").last.inner_text()) > 20

    # Thai, switched in the settings: every screen again
    _go(page, "settings")
    page.click("#screen-settings [data-lang=th]")
    page.locator("html[lang=th]").wait_for(state="attached")
    assert page.locator("#tab-home [data-i18n]").inner_text() == "หน้าหลัก"
    for screen in SCREENS:
        _go(page, screen)
        screenshot(page, f"th-{screen}")
    page.reload()
    page.locator("#screen-home").wait_for(state="visible")
    assert page.locator("#tab-home [data-i18n]").inner_text() == "หน้าหลัก"  # the choice is kept

    # a Thai phone that has not enrolled yet starts in Thai
    thai = phone_context(locale="th-TH").new_page()
    thai.goto(f"{server}/app")
    thai.locator("html[lang=th]").wait_for(state="attached")
    thai.locator("#enroll-submit", has_text="เชื่อมโทรศัพท์เครื่องนี้").wait_for()
    screenshot(thai, "th-enroll")
    assert csp_violations == []


def _login(server: str, auth, role: str) -> dict[str, str]:
    auth.user(role, username=f"{role}.webapp", password="dispatch-pass-123")
    response = requests.post(f"{server}/api/v1/auth/login",
                             json={"username": f"{role}.webapp", "password": "dispatch-pass-123"}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _open_incident(server: str, headers: dict[str, str], card_id: str) -> dict:
    items = requests.get(f"{server}/api/v1/dispatch/incidents", params={"status": "open"}, headers=headers,
                         timeout=10).json()["items"]
    mine = [i for i in items if i["card_id"] == card_id and i["kind"] == "sos"]
    assert len(mine) == 1, items
    return mine[0]


def test_sos_is_acknowledged_and_dispatched_in_the_cards_language(app, factories, auth, seeded, server,
                                                                    phone_context, screenshot):
    card = factories.issued_card(full_name="Ivan Petrov", nationality="RUS", language="th")
    page = phone_context(locale="en-US").new_page()
    _enroll_from_card_link(page, server, card)
    # the card's language wins over the browser's
    page.wait_for_function("document.documentElement.lang === 'th'")

    page.click("#sos-button")
    page.locator("#screen-sos").wait_for(state="visible")
    page.wait_for_function("!document.getElementById('sos-position').textContent.includes('…')")
    assert "± 15" in page.locator("#sos-position").inner_text()
    page.click("[data-category=medical]")
    page.fill("#sos-note", "Jellyfish sting, cannot walk")
    page.click("#sos-send")
    page.locator("#sos-status[data-state=new]").wait_for()
    assert page.locator("#sos-status-title").inner_text() == "ส่ง SOS แล้ว"
    screenshot(page, "th-sos-sent")

    dispatcher = _login(server, auth, "dispatcher")
    incident = _open_incident(server, dispatcher, card["card_id"])
    assert incident["category"] == "medical" and "Jellyfish" in incident["note"]
    assert (round(incident["lat"], 4), round(incident["lon"], 4)) == (7.8961, 98.2969)

    response = requests.post(f"{server}/api/v1/dispatch/incidents/{incident['id']}/acknowledge", json={},
                             headers=dispatcher, timeout=10)
    assert response.status_code == 200, response.text
    page.locator("#sos-status[data-state=acknowledged]").wait_for()
    assert page.locator("#sos-status-title").inner_text() == "รับทราบ SOS แล้ว"
    screenshot(page, "th-sos-acknowledged")

    response = requests.post(f"{server}/api/v1/dispatch/incidents/{incident['id']}/dispatch",
                             json={"unit": "Patong Rescue 1"}, headers=dispatcher, timeout=10)
    assert response.status_code == 200, response.text
    page.locator("#sos-status[data-state=dispatched]").wait_for()
    assert "Patong Rescue 1" in page.locator("#sos-status-detail").inner_text()
    screenshot(page, "th-sos-dispatched")

    # the same updates wait in the inbox, in the card's language
    page.click("#tab-inbox")
    page.locator("#inbox-list .item").nth(2).wait_for()
    titles = page.locator("#inbox-list .item h3").all_inner_texts()
    assert len(titles) >= 3 and all(titles)
    assert any("SOS" in title for title in titles)
    screenshot(page, "th-inbox-sos-updates")


def test_sos_pressed_offline_arrives_exactly_once_with_buffered_pings(app, factories, seeded, server,
                                                                       phone_context, screenshot):
    from backend.dispatch.models import Incident, SosSignal
    from backend.tracking.models import Ping

    card = factories.issued_card(full_name="Li Wei", nationality="CHN", language="zh")
    context = phone_context(locale="zh-CN")
    page = context.new_page()
    sos_ids: list[str] = []
    page.on("request", lambda r: sos_ids.append(r.post_data_json["id"])
            if r.method == "POST" and r.url.endswith("/api/v1/mobile/sos") else None)
    _enroll_from_card_link(page, server, card)
    _wait_for(lambda: len(_pings(app, card["card_id"])) >= 1, what="the first ping")

    context.set_offline(True)
    page.locator("#net-status.offline").wait_for()
    # on a boat out of reach: the phone moves, a ping is due, the tourist presses SOS
    context.set_geolocation({"latitude": 7.7650, "longitude": 98.3100, "accuracy": 40})
    page.evaluate("window.PTS.maybePing(true)")
    page.wait_for_function("JSON.parse(localStorage.getItem('pts.pings') || '[]').length === 1")
    buffered = page.evaluate("JSON.parse(localStorage.getItem('pts.pings'))[0]")
    assert (buffered["lat"], buffered["lon"]) == (7.765, 98.31)
    page.click("#sos-button")
    page.click("[data-category=marine]")
    page.click("#sos-send")
    page.locator("#sos-status[data-state=queued]").wait_for()
    time.sleep(3)  # a few failed attempts
    assert _count(app, Incident, card_id=card["card_id"], kind="sos") == 0
    screenshot(page, "zh-sos-offline-queued")

    context.set_offline(False)
    page.locator("#sos-status[data-state=new]").wait_for()
    time.sleep(4)  # give any duplicate a chance to arrive
    assert _count(app, Incident, card_id=card["card_id"], kind="sos") == 1
    assert _count(app, SosSignal, card_id=card["card_id"]) == 1
    stored = page.evaluate("JSON.parse(localStorage.getItem('pts.sos'))")
    assert len(stored) == 1 and stored[0]["state"] == "sent"
    assert set(sos_ids) == {stored[0]["id"]}  # every attempt carried the same id
    assert len(sos_ids) >= 2  # it was retried
    # the ping buffered offline arrived too, once
    _wait_for(lambda: _count(app, Ping, card_id=card["card_id"], client_id=buffered["id"]) == 1,
              what="the buffered ping")
    assert (7.765, 98.31) in _pings(app, card["card_id"])
    signal = _sos_signal(app, card["card_id"])
    assert (round(signal.lat, 4), round(signal.lon, 4), signal.category) == (7.765, 98.31, "marine")
    page.wait_for_function("JSON.parse(localStorage.getItem('pts.pings') || '[]').length === 0")
    screenshot(page, "zh-sos-sent-after-offline")


def test_service_worker_serves_the_app_and_zones_offline(app, factories, seeded, server, phone_context,
                                                         screenshot):
    from geo.models import Zone

    card = factories.issued_card(full_name="Anna Schmidt", language="en")
    context = phone_context()
    page = context.new_page()
    _enroll_from_card_link(page, server, card)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function("caches.open('pts-api').then((c) => c.match('/api/v1/zones')).then(Boolean)")
    _go(page, "map")  # facilities near the tourist are kept on the phone too

    context.set_offline(True)
    page.reload()
    page.locator("#screen-home").wait_for(state="visible")
    page.wait_for_function("document.getElementById('card-name').textContent === 'Anna Schmidt'")
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.evaluate("navigator.onLine") is False
    assert page.locator("#net-status").inner_text() == "Offline"

    zones = page.evaluate("fetch('/api/v1/zones').then((r) => r.json())")
    assert len(zones["features"]) == _count(app, Zone)
    _go(page, "map")
    assert page.locator("#zones-list .item.danger").count() == _count(app, Zone, kind="danger")
    screenshot(page, "en-map-offline")
    # a fresh tab opened offline works as well
    second = context.new_page()
    second.goto(f"{server}/app")
    second.locator("#screen-home").wait_for(state="visible")
    assert second.locator("#call-191").is_visible()


def _y4m_of(image, path) -> None:
    """Write ``image`` as a one-frame YUV4MPEG2 (4:2:0) file: Chromium's fake camera plays it in a loop."""
    frame = image.convert("YCbCr")
    y, cb, cr = frame.split()
    half = (frame.width // 2, frame.height // 2)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{frame.width} H{frame.height} F10:1 Ip A1:1 C420jpeg\n".encode())
        out.write(b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes())


def test_camera_scan_of_the_cards_enrollment_qr_enrolls(app, factories, server, screenshot, tmp_path):
    """The in-app scanner reads the card's enrollment QR from the camera (a fake camera here)."""
    import qrcode
    from PIL import Image

    from tests.browser import shared_playwright
    from tests.webapp.conftest import CHROMIUM_ARGS, PATONG

    card = factories.issued_card(full_name="Maria Garcia", nationality="ESP", language="en")
    link = f"{server}/app#card_id={card['card_id']}&code={card['enrollment_code']}"
    code = qrcode.make(link, box_size=6, border=4).convert("RGB")
    picture = Image.new("RGB", (640, 480), "white")
    picture.paste(code.resize((400, 400)), (120, 40))
    video = tmp_path / "card-qr.y4m"
    _y4m_of(picture, video)
    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        try:
            context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, geolocation=PATONG,
                                          permissions=["geolocation", "camera"])
            context.set_default_timeout(30000)
            page = context.new_page()
            page.goto(f"{server}/app")
            page.click("#scan-start")
            page.locator("#screen-home").wait_for(state="visible")
            page.locator("#card-name", has_text="Maria Garcia").wait_for()
            assert page.locator("#card-id").inner_text() == card["card_id"]
            # the camera is released once the card is read
            assert page.evaluate("document.getElementById('scanner-video').srcObject === null"
                                 " || document.getElementById('scanner-video').srcObject.active === false")
            screenshot(page, "en-home-after-camera-scan")
        finally:
            browser.close()
