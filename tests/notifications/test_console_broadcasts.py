"""The broadcast composer in the real 191 console (headless Chromium, real server): draw an area
on the map, send, see it listed and drawn, cancel it; REST agrees."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import shared_playwright
from tests.live_server import LiveServer
from tests.notifications.conftest import outbox_rows

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def server(start_server) -> LiveServer:
    """``python wsgi.py`` on the test's database."""
    return start_server("broadcasts")


def test_a_dispatcher_draws_an_area_on_the_console_map_and_broadcasts(app, runner, auth, tourists, server,
                                                                      artifacts_dir):
    with app.app_context():
        assert runner.invoke(args=["seed"]).exit_code == 0
    auth.user("dispatcher", username="malee", password="191-phuket-safe")

    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{server.url}/console")
        page.fill("#username", "malee")
        page.fill("#password", "191-phuket-safe")
        page.click("#signin-form button[type=submit]")
        page.click("#broadcast-open")  # the composer lives in its own dialog
        panel = page.locator("#broadcasts .ptsb")
        expect(panel).to_be_visible(timeout=10000)
        # the zones of `flask seed` can be picked as the area
        expect(panel.locator("select[name=zone] option")).not_to_have_count(1, timeout=10000)

        center = page.evaluate("(() => { const c = PTSBroadcasts.current().map.getCenter(); "
                               "return [c.lat, c.lng]; })()")
        inside = tourists.add(lat=center[0], lon=center[1], language="th")
        outside = tourists.add(lat=center[0] + 0.3, lon=center[1], language="en")

        box = page.locator("#map").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        panel.get_by_role("button", name="Draw area").click()
        for dx, dy in ((-120, -120), (120, -120), (120, 120), (-120, 120)):
            page.mouse.click(cx + dx, cy + dy)
        expect(panel.locator(".ptsb-area-info")).to_contain_text("Polygon of 4 points")
        panel.locator("input[name=headline]").fill("Tsunami watch: move away from the beach")
        panel.locator("textarea[name=message]").fill("A tsunami watch is in force for the west coast.")
        panel.locator("textarea[name=instruction]").fill("Move to high ground and follow officials' instructions.")
        panel.locator("summary").click()
        panel.locator("input[name=headline_th]").fill("เฝ้าระวังสึนามิ: ออกห่างจากชายหาด")
        panel.locator("textarea[name=message_th]").fill("ประกาศเฝ้าระวังสึนามิสำหรับชายฝั่งตะวันตก")
        panel.locator("select[name=severity]").select_option("Extreme")
        panel.get_by_role("button", name="Send broadcast").click()

        expect(panel.locator(".ptsb-status")).to_contain_text("Sent to 1 tourist(s)", timeout=10000)
        item = panel.locator(".ptsb-list li[data-broadcast-id]")
        expect(item).to_have_count(1)
        expect(item).to_contain_text("Tsunami watch: move away from the beach")
        expect(item).to_contain_text("Extreme")
        page.screenshot(path=str(artifacts_dir / "console-broadcast.png"))
        item.scroll_into_view_if_needed()
        page.locator("#broadcasts").screenshot(path=str(artifacts_dir / "console-broadcast-panel.png"))

        # REST agrees: one broadcast, one recipient (the tourist inside), in Thai
        token = requests.post(f"{server.url}/api/v1/auth/login", timeout=10,
                              json={"username": "malee", "password": "191-phuket-safe"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        [broadcast] = requests.get(f"{server.url}/api/v1/broadcasts", headers=headers, timeout=10).json()["items"]
        assert broadcast["recipients"] == 1 and broadcast["severity"] == "Extreme"
        assert broadcast["translations"]["th"]["headline"] == "เฝ้าระวังสึนามิ: ออกห่างจากชายหาด"
        [row] = outbox_rows(app, broadcast_id=broadcast["id"])
        assert row.card_id == inside["card_id"] and row.title == "เฝ้าระวังสึนามิ: ออกห่างจากชายหาด"
        assert outbox_rows(app, card_id=outside["card_id"]) == []
        assert requests.get(f"{server.url}{broadcast['cap_url']}", timeout=10).status_code == 200

        # cancel from the page
        item.get_by_role("button", name="Cancel").click()
        expect(panel.locator(".ptsb-list li[data-broadcast-id]")).to_have_count(0, timeout=10000)
        assert requests.get(f"{server.url}/api/v1/broadcasts/active", timeout=10).json()["items"] == []
        assert errors == []
        browser.close()
