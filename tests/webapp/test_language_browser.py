"""Twelve languages in the companion app, in real headless Chromium against ``python wsgi.py``:
switching to Arabic in Settings lays the app out right to left, tells the server, and the next
broadcast reaches the tourist in Arabic. Screenshots at 390×844 go to the artifacts folder."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import select

from tests.browser import wait_until
from tests.webapp.conftest import PATONG

pytestmark = pytest.mark.browser

RED_FLAG_AR = "الراية الحمراء: تيارات ساحبة خطرة"
PATONG_BAY = [[98.270, 7.880], [98.310, 7.880], [98.310, 7.910], [98.270, 7.910], [98.270, 7.880]]


def _wait_for(predicate, *, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def _device_languages(app, card_id: str) -> list[str | None]:
    from backend.extensions import db
    from backend.tracking.models import Device

    with app.app_context():
        languages = list(db.session.scalars(select(Device.language).where(Device.card_id == card_id)))
        db.session.remove()
        return languages


def _has_position(app, card_id: str) -> bool:
    from backend.extensions import db
    from backend.tracking.models import LatestPosition

    with app.app_context():
        found = db.session.get(LatestPosition, card_id) is not None
        db.session.remove()
        return found


def _broadcast_rows(app, broadcast_id: int) -> list[tuple[str, str, str]]:
    from backend.extensions import db
    from notifications.models import OutboxMessage

    with app.app_context():
        rows = db.session.execute(select(OutboxMessage.card_id, OutboxMessage.language, OutboxMessage.title)
                                  .where(OutboxMessage.broadcast_id == broadcast_id)).all()
        db.session.remove()
        return [tuple(r) for r in rows]


def _box(page, selector: str) -> dict[str, float]:
    return page.locator(selector).bounding_box()


def test_arabic_in_settings_is_right_to_left_and_the_next_broadcast_arrives_in_arabic(
        app, factories, auth, seeded, server, chromium, artifacts_dir, database_url):
    label = "postgis" if database_url.startswith("postgresql") else "spatialite"
    card = factories.issued_card(full_name="Omar Haddad", nationality="JOR", language="en")
    context = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                   has_touch=True, locale="en-US", geolocation=PATONG, permissions=["geolocation"])
    context.set_default_timeout(20000)
    try:
        page = context.new_page()
        csp_violations: list[str] = []
        page.on("console", lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{server}/app#card_id={card['card_id']}&code={card['enrollment_code']}")
        page.locator("#enroll-confirm").wait_for(state="visible")
        page.click("#enroll-confirm-yes")
        page.locator("#screen-home").wait_for(state="visible")
        page.locator("#card-name", has_text="Omar Haddad").wait_for()
        assert page.evaluate("document.documentElement.dir") == "ltr"
        _wait_for(lambda: _has_position(app, card["card_id"]), what="the phone's first position")

        # Settings offers the twelve languages, each named in itself
        page.click("#tab-settings")
        page.locator("#screen-settings").wait_for(state="visible")
        box = page.locator("#screen-settings [data-langs]")
        assert box.locator("button").count() == 12
        assert box.locator("[data-lang=he]").inner_text() == "עברית"
        assert box.locator("[data-lang=ja]").inner_text() == "日本語"
        box.locator("[data-lang=ar]").click()

        wait_until(page, "document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar'")
        page.locator("#tab-settings", has_text="الإعدادات").wait_for()
        assert page.locator("#tab-home").inner_text().strip().endswith("الرئيسية")
        assert page.locator("#screen-settings h1").first.inner_text() == "الإعدادات"
        assert box.locator("[data-lang=ar]").get_attribute("aria-pressed") == "true"
        # the tab bar reads from the right: Home is the rightmost tab, Settings the leftmost
        assert _box(page, "#tab-home")["x"] > _box(page, "#tab-settings")["x"]
        # the server writes to this phone in Arabic from now on
        _wait_for(lambda: _device_languages(app, card["card_id"]) == ["ar"], what="PATCH /me with ar")
        page.screenshot(path=str(artifacts_dir / f"webapp-{label}-ar-settings-390x844.png"))

        page.click("#tab-home")
        page.locator("#screen-home").wait_for(state="visible")
        page.locator("#screen-home", has_text="بطاقة السائح الذكية").wait_for()
        page.screenshot(path=str(artifacts_dir / f"webapp-{label}-ar-home-390x844.png"))

        page.click("#tab-map")
        page.locator("#screen-map").wait_for(state="visible")
        page.locator("#zones-list .item.danger").first.wait_for()
        # zone names in Arabic from the seed data; the zoom buttons on the right
        assert "تيارات ساحبة" in page.locator("#zones-list").inner_text()
        assert page.locator(".leaflet-right .leaflet-control-zoom").count() == 1
        page.screenshot(path=str(artifacts_dir / f"webapp-{label}-ar-map-390x844.png"))

        # the 191 center sends the red-flag template to Patong Bay: this tourist reads it in Arabic
        auth.user("dispatcher", username="dispatcher.i18n", password="dispatch-pass-123")
        token = requests.post(f"{server}/api/v1/auth/login", timeout=10,
                              json={"username": "dispatcher.i18n", "password": "dispatch-pass-123"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        preview = requests.post(f"{server}/api/v1/broadcasts/preview", headers=headers, timeout=10,
                                json={"area": {"type": "Polygon", "coordinates": [PATONG_BAY]}})
        assert preview.status_code == 200, preview.text
        assert {"tag": "ar", "name": "العربية", "count": 1} in preview.json()["languages"]
        sent = requests.post(f"{server}/api/v1/broadcasts", headers=headers, timeout=10, json={
            "template": "rip_current_red_flag", "area": {"type": "Polygon", "coordinates": [PATONG_BAY]}})
        assert sent.status_code == 201, sent.text
        rows = _broadcast_rows(app, sent.json()["id"])
        assert (card["card_id"], "ar", RED_FLAG_AR) in rows

        page.click("#tab-inbox")
        page.locator("#screen-inbox").wait_for(state="visible")
        page.locator("#inbox-list .item", has_text=RED_FLAG_AR).wait_for(timeout=30000)
        assert "رفع المنقذون الرايات الحمراء" in page.locator("#inbox-list").inner_text()
        page.screenshot(path=str(artifacts_dir / f"webapp-{label}-ar-inbox-390x844.png"))

        # the choice survives a reload (and stays right to left)
        page.reload()
        wait_until(page, "document.documentElement.dir === 'rtl'")
        assert csp_violations == []
    finally:
        context.close()
