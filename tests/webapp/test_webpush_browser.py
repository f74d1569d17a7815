"""The companion app in Chromium: alerts by Web Push, and the four fixes seen in the browser.

One phone at 390×844 walks through it against ``python wsgi.py``:
- 730 m from the long Mai Khao rip zone the list says ~730 m (its edge, computed here with
  shapely), not the ~1.3 km of a corner or its centre;
- after enrollment it asks for alerts (a button with a one-line reason), subscribes with the
  server's VAPID key and PUTs the subscription. Chromium's own push service (Google's) is not
  reachable here, so ONLY the browser-side ``PushManager.subscribe`` is stubbed: it hands out a
  subscription whose keys this test holds, at the local stand-in push service;
- the SOS it sends is delivered by the outbox (the real sweep) to the stand-in, which decrypts it
  and checks the VAPID JWT; that very payload is then delivered to the service worker through the
  DevTools Protocol (``ServiceWorker.deliverPushMessage``) and the notification is shown;
- walking into the Patong rip zone, the danger banner shows on the Home tab, and on the Map tab
  the tab bar stays above the map (``elementFromPoint`` at each tab's centre is the tab);
- the 191 center resolves the SOS: the panel says it was closed by a 191 dispatcher, with the outcome;
- a subscription rotated while the app was closed is sent again on the next start.
"""

from __future__ import annotations

import base64
import json
import math
import time

import pytest
import shapely
from shapely.geometry import Point, shape
from sqlalchemy import select

from tests.browser import wait_until
from tests.live_server import free_port
from tests.webapp.conftest import CHROMIUM_ARGS, NOTIFICATIONS_JS, deliver_push
from tests.webpush import STUB_SUBSCRIBE, serving

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 390, "height": 844}



def _seed_zones() -> dict[str, dict]:
    from pathlib import Path

    data = json.loads((Path(__file__).resolve().parents[2] / "geo" / "data" / "zones.geojson").read_text())
    return {f["properties"]["name"]: f for f in data["features"]}


def _local_metres(geometry, lat0: float, lon0: float):
    """The geometry in metres in a plane around (lat0, lon0) (as the app measures)."""
    radius = 6371008.8
    kx = radius * math.pi / 180 * math.cos(math.radians(lat0))
    ky = radius * math.pi / 180
    return shapely.transform(geometry, lambda xy: (xy - (lon0, lat0)) * (kx, ky))


@pytest.fixture
def server(start_server) -> str:
    port = free_port()
    return start_server("webpush", port=port, TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
                        WEBPUSH_ALLOWED_HOSTS="127.0.0.1").url


@pytest.fixture
def app_config():
    """The test's own sweep posts to the local stand-in (the server runs no periodic jobs)."""
    return {"WEBPUSH_ALLOWED_HOSTS": "127.0.0.1"}


def test_alerts_by_web_push_and_the_four_fixes(app, factories, seeded, server, artifacts_dir, database_url):
    from backend.extensions import db
    from notifications.models import WebPushSubscription
    from tests.browser import shared_playwright

    label = "postgis" if database_url.startswith("postgresql") else "spatialite"
    zones = _seed_zones()
    mai_khao = shape(zones["Mai Khao Beach rip currents"]["geometry"])
    patong = shape(zones["Patong Beach rip currents"]["geometry"])
    # 730 m east of the Mai Khao zone's edge, level with its middle (far from its corners)
    lat = 8.15
    east = max(x for x, y in mai_khao.exterior.coords if abs(y - lat) < 0.02)
    lon = east + 730 / (6371008.8 * math.pi / 180 * math.cos(math.radians(lat)))
    expected_m = _local_metres(mai_khao, lat, lon).distance(Point(0, 0))
    centroid_m = _local_metres(mai_khao.centroid, lat, lon).distance(Point(0, 0))
    assert 600 < expected_m < 760 and centroid_m > 1000  # the case of the issue
    inside = patong.representative_point()

    card = factories.issued_card(language="en")
    with serving() as push, shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, is_mobile=True, has_touch=True,
                                      locale="en-US", geolocation={"latitude": lat, "longitude": lon,
                                                                   "accuracy": 10},
                                      # headless Chromium answers a permission prompt "denied":
                                      # granted here is the tourist's "Allow"
                                      permissions=["geolocation", "notifications"])
        context.set_default_timeout(20000)
        phone = push.browser()
        context.add_init_script(STUB_SUBSCRIBE % json.dumps(phone.subscription()))
        page = context.new_page()
        shot = lambda name: page.screenshot(path=str(artifacts_dir / f"webpush-{label}-{name}.png"))  # noqa: E731
        try:
            page.goto(f"{server}/app#card_id={card['card_id']}&code={card['enrollment_code']}")
            page.click("#enroll-confirm-yes")
            page.locator("#screen-home").wait_for(state="visible")

            # (d) distance to the zone's edge
            page.click("#tab-map")
            item = page.locator("#zones-list .item", has_text="Mai Khao Beach").first
            item.wait_for()
            wait_until(page, "document.querySelector('#zones-list .item') && "
                             "/\\d+ m|\\d km/.test(document.getElementById('zones-list').textContent)")
            text = item.inner_text()
            shown = next(w for w in text.replace("·", " ").split("\n") if " away" in w)
            metres = float(shown.split(" m away")[0].split()[-1]) if " m away" in shown else None
            assert metres is not None, shown  # 0.7 km is written in metres
            assert abs(metres - expected_m) <= max(10, expected_m * 0.02), (shown, expected_m)
            shot("distance-to-edge")

            # alerts: the button after enrollment, the server's key, the PUT
            page.click("#tab-home")
            page.locator("#push-panel[data-state=off]").wait_for()
            assert "closed" in page.locator("#push-reason").inner_text()
            page.click("#push-enable")
            page.locator("#push-panel[data-state=on]").wait_for(state="attached")
            assert page.locator("#push-panel").is_hidden()
            key = page.evaluate("fetch('/api/v1/mobile/webpush/key').then((r) => r.json())")["public_key"]
            push.vapid_public_key = key
            assert bytes(page.evaluate("window.__ptsSubscribedWith")) == base64.urlsafe_b64decode(key + "=")
            with app.app_context():
                [stored] = db.session.scalars(select(WebPushSubscription)).all()
                assert stored.endpoint == phone.endpoint
                db.session.remove()

            # an SOS: the outbox sends it to the push service, decrypted and verified there
            page.click("#sos-button")
            page.click("#sos-send")
            page.locator("#sos-status[data-state=new]").wait_for()
            incident_id = page.evaluate("JSON.parse(localStorage.getItem('pts.sos')).slice(-1)[0].incident_id")
            with app.app_context():
                from notifications.outbox import deliver_due

                deliver_due()
                db.session.remove()
            assert not push.errors, push.errors
            [delivered] = push.for_browser(phone)
            assert delivered.payload["kind"] == "sos_received"
            assert delivered.payload["url"] == f"/app#sos-{incident_id}"

            # the same payload, delivered to the service worker: the notification is shown
            deliver_push(context, page, server, delivered.payload, within_s=15)
            deadline = time.monotonic() + 15
            while not (shown_list := page.evaluate(NOTIFICATIONS_JS)):
                assert time.monotonic() < deadline, "no notification shown"
                page.wait_for_timeout(200)
            [notification] = shown_list
            assert notification["title"] == "SOS received" == delivered.payload["title"]
            assert notification["body"] == delivered.payload["body"]
            assert notification["tag"] == f"incident-{incident_id}"
            assert notification["icon"].endswith("/app/icons/icon-192.png")
            assert notification["data"]["url"] == f"/app#sos-{incident_id}"
            # where a tap leads (the worker sends the open app there): the message in the inbox
            message_id = delivered.payload["message_id"]
            page.evaluate(f"location.hash = '#message-{message_id}'")
            page.locator(f"#screen-inbox #inbox-list [data-message-id='{message_id}'].highlight").wait_for()
            page.evaluate(f"location.hash = '#sos-{incident_id}'")
            page.locator("#screen-home").wait_for(state="visible")
            page.locator("#sos-status[data-state=new]").wait_for()

            # (b) the app opened again later, then into the Patong rip zone: the banner shows on Home too
            page.reload()
            page.locator("#screen-home").wait_for(state="visible")
            context.set_geolocation({"latitude": inside.y, "longitude": inside.x, "accuracy": 10})
            page.locator("#danger-alert").wait_for(state="visible")
            assert page.locator("#screen-home").is_visible()
            assert "Patong Beach" in page.locator("#danger-alert").inner_text()
            shot("danger-banner-home")

            # (a) on the map, the tab bar stays above the zone: each tab's centre is the tab
            page.click("#tab-map")
            page.locator("#map path.leaflet-interactive").first.wait_for()
            page.evaluate("(() => { const r = document.getElementById('map').getBoundingClientRect();"
                          " window.scrollBy(0, r.top + r.height / 2 - (innerHeight - 30)); })()")
            page.wait_for_timeout(300)
            for tab in ("home", "map", "inbox", "settings"):
                hit = page.evaluate(f"""(() => {{
                    const b = document.getElementById('tab-{tab}').getBoundingClientRect();
                    const at = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
                    return at && at.closest('button') ? at.closest('button').id : (at ? at.className.baseVal
                      || at.className || at.tagName : null);
                }})()""")
                assert hit == f"tab-{tab}", hit
            # and the map's shape is what lies under the bar: without the fix it would be hit
            under = page.evaluate("""(() => {
                const b = document.getElementById('tab-map').getBoundingClientRect();
                const bar = document.getElementById('tabs'); bar.style.visibility = 'hidden';
                const at = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
                bar.style.visibility = ''; return at ? (at.closest('#map') !== null) : false; })()""")
            assert under, "the map should lie under the tab bar in this test"
            shot("tab-bar-above-map")

            # (c) the 191 center resolves it: the panel says so, and by whom
            from backend.dispatch.models import Incident, IncidentStatus
            from backend.dispatch.service import transition

            with app.app_context():
                incident = db.session.get(Incident, incident_id)
                transition(incident, IncidentStatus.ACKNOWLEDGED, actor="somchai")
                transition(incident, IncidentStatus.RESOLVED, actor="somchai", resolution="Tourist found safe")
                db.session.commit()
                db.session.remove()
            page.click("#tab-home")
            page.locator("#sos-status[data-state=resolved]").wait_for(timeout=30000)
            assert page.locator("#sos-status-title").inner_text() == "SOS closed"
            closed_by = page.locator("#sos-status-closed-by").inner_text()
            assert closed_by.startswith("Closed by a 191 dispatcher") and "somchai" not in closed_by
            assert page.locator("#sos-status-resolution").inner_text() == "Outcome: Tourist found safe"
            assert page.locator("#sos-cancel").is_hidden()
            shot("sos-closed")
            page.click("#sos-dismiss")
            page.locator("#sos-status").wait_for(state="hidden")

            # the browser rotated the subscription while the app was closed: the next start sends it
            rotated = push.browser()
            context.add_init_script(STUB_SUBSCRIBE % json.dumps(rotated.subscription()))  # runs after the first
            page.reload()
            page.locator("#screen-home").wait_for(state="visible")

            def stored_endpoint() -> str | None:
                with app.app_context():
                    found = db.session.scalar(select(WebPushSubscription.endpoint))
                    db.session.remove()
                    return found

            deadline = time.monotonic() + 20
            while stored_endpoint() != rotated.endpoint:
                assert time.monotonic() < deadline, stored_endpoint()
                page.wait_for_timeout(200)
            # the server stores the subscription before its reply reaches the page, which then says "on"
            wait_until(page, "document.querySelector('#push-panel').dataset.state === 'on'")
        finally:
            context.close()
            browser.close()
