"""The companion app when the server answers 503 (its database is away): it waits as told, and says to call.

Real headless Chromium against ``python wsgi.py``; only the network boundary is faked: Playwright
answers the SOS (and ping) requests with ``503`` + ``Retry-After`` for a while, as the service does
during a database outage, then lets them through to the real server.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from tests.webapp.conftest import PATONG

pytestmark = pytest.mark.browser

RETRY_AFTER_S = 4  # longer than the app's own first back-off (2 s): the gap shows which one it used
UNAVAILABLE = json.dumps({"code": 503, "status": "Service Unavailable",
                          "message": "the database is not available right now; try again in 4 s"})


def _count_signals(app, card_id: str) -> int:  # noqa: ANN001
    from backend.dispatch.models import SosSignal
    from backend.extensions import db

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(SosSignal).where(SosSignal.card_id == card_id))
        db.session.remove()
        return count


def test_sos_screen_says_call_191_or_1155_while_it_retries_a_503_as_told(app, factories, server, chromium,
                                                                         screenshot):
    card = factories.issued_card(full_name="Emma Johnson", nationality="GBR", language="en")
    context = chromium.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                   has_touch=True, locale="en-US", geolocation=PATONG, permissions=["geolocation"],
                                   bypass_csp=True, service_workers="block")
    context.set_default_timeout(20000)
    page = context.new_page()
    sos_attempts: list[tuple[float, str]] = []
    ping_attempts: list[float] = []
    outage = {"sos": True}

    def answer_sos(route) -> None:  # noqa: ANN001
        sos_attempts.append((time.monotonic(), route.request.post_data_json["id"]))
        if outage["sos"]:
            route.fulfill(status=503, headers={"Retry-After": str(RETRY_AFTER_S)},
                          content_type="application/json", body=UNAVAILABLE)
        else:
            route.continue_()

    def answer_pings(route) -> None:  # noqa: ANN001
        ping_attempts.append(time.monotonic())
        route.fulfill(status=503, headers={"Retry-After": "60"}, content_type="application/json", body=UNAVAILABLE)

    page.route("**/api/v1/mobile/sos", answer_sos)
    page.route("**/api/v1/mobile/pings", answer_pings)
    try:
        page.goto(f"{server}/app#card_id={card['card_id']}&code={card['enrollment_code']}")
        page.click("#enroll-confirm-yes")
        page.locator("#screen-home").wait_for(state="visible")
        page.locator("#card-name", has_text="Emma Johnson").wait_for()

        page.click("#sos-button")
        page.locator("#screen-sos").wait_for(state="visible")
        page.click("[data-category=crime]")
        page.click("#sos-send")
        page.locator("#sos-status-title", has_text="emergency server is busy").wait_for()
        # what the tourist sees while the app retries: call the police or the tourist police, one tap each
        call = page.locator("#sos-call")
        assert call.is_visible()
        assert "call now" in call.inner_text()
        assert page.locator("#sos-call-191").get_attribute("href") == "tel:191"
        assert page.locator("#sos-call-1155").get_attribute("href") == "tel:1155"
        assert page.locator("#sos-call-191").is_visible() and page.locator("#sos-call-1155").is_visible()
        assert "1155 (Tourist Police)" in page.locator("#sos-status-detail").inner_text()
        screenshot(page, "en-sos-server-unavailable")

        # it comes back when told (Retry-After), not sooner, with the same id
        deadline = time.monotonic() + 20
        while len(sos_attempts) < 2:
            assert time.monotonic() < deadline, "the SOS was not retried"
            page.wait_for_timeout(100)  # (not time.sleep: the route handlers run while Playwright waits)
        gap = sos_attempts[1][0] - sos_attempts[0][0]
        assert gap >= RETRY_AFTER_S - 0.3, f"retried after {gap:.1f} s, told {RETRY_AFTER_S} s"
        assert sos_attempts[1][1] == sos_attempts[0][1]
        assert _count_signals(app, card["card_id"]) == 0

        outage["sos"] = False  # the database is back
        page.locator("#sos-status[data-state=new]").wait_for(timeout=30000)
        assert page.locator("#sos-call").is_hidden()  # with the 191 centre now: no more "call now"
        assert {sos_id for _, sos_id in sos_attempts} == {sos_attempts[0][1]}
        assert _count_signals(app, card["card_id"]) == 1

        # the first ping met a 503 with Retry-After: 60, and the app has not sent it again since
        assert len(ping_attempts) == 1, ping_attempts
        assert page.evaluate("JSON.parse(localStorage.getItem('pts.pings') || '[]').length") == 1
    finally:
        context.close()
