"""Helpers for the companion web app's tests: an enrolled phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.live_server import free_port


class Phone:
    """A phone enrolled with a freshly issued card, talking to ``client``."""

    def __init__(self, client, card: dict[str, str], enrollment: dict[str, Any]) -> None:  # noqa: ANN001
        self.client = client
        self.card = card
        self.enrollment = enrollment

    @property
    def headers(self) -> dict[str, str]:
        """The device's bearer token."""
        return {"Authorization": f"Bearer {self.enrollment['device_token']}"}


@pytest.fixture
def enroll(client, factories):
    """Issue a card (overrides go to the card) and enroll a phone with it through the API."""

    def make(**card_overrides: Any) -> Phone:
        card = factories.issued_card(**card_overrides)
        response = client.post("/api/v1/mobile/enroll", json={
            "card_id": card["card_id"], "enrollment_code": card["enrollment_code"], "platform": "android"})
        assert response.status_code == 201, response.get_json()
        return Phone(client, card, response.get_json())

    return make


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# the notifications the app's service worker shows, as plain data
NOTIFICATIONS_JS = ("navigator.serviceWorker.ready.then((r) => r.getNotifications())"
                    ".then((list) => list.map((n) => ({title: n.title, body: n.body, tag: n.tag,"
                    " icon: n.icon, data: n.data})))")


def deliver_push(context, page, origin: str, payload: dict[str, Any], *, within_s: float) -> None:  # noqa: ANN001
    """Hand ``payload`` to the app's service worker as the push service would (DevTools
    ``ServiceWorker.deliverPushMessage``: the worker's real ``push`` handler runs). The registration of
    scope /app is awaited for at most ``within_s`` seconds, with the page's clock (Playwright's sync API
    hands out DevTools events only while one of its calls runs).
    """
    import json
    import time

    cdp = context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + within_s
    while not any(r["scopeURL"].endswith("/app") and not r["isDeleted"] for r in registrations):
        assert time.monotonic() < deadline, registrations
        page.wait_for_timeout(100)
    registration = next(r for r in registrations if r["scopeURL"].endswith("/app") and not r["isDeleted"])
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": origin, "registrationId": registration["registrationId"],
        "data": json.dumps(payload, ensure_ascii=False)})


@pytest.fixture
def server(start_server) -> str:
    """``python wsgi.py`` on the test's database; its base URL.

    Map tiles point at the server itself (they 404): there is no internet here, and the app
    must work without its background map.
    """
    port = free_port()
    return start_server("webapp", port=port, TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png").url


@pytest.fixture
def chromium():
    """Headless Chromium (Playwright)."""
    from tests.browser import shared_playwright

    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


PATONG = {"latitude": 7.8961, "longitude": 98.2969, "accuracy": 15}


@pytest.fixture
def phone_context(chromium):
    """A phone-sized browser context with location granted at Patong beach."""
    contexts = []

    def make(*, locale: str = "en-US", geolocation: dict[str, float] | None = None, bypass_csp: bool = True):
        # bypass_csp lets Playwright poll with string predicates; one test keeps the page's CSP on
        context = chromium.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                       is_mobile=True, has_touch=True, locale=locale, bypass_csp=bypass_csp,
                                       geolocation=geolocation or PATONG, permissions=["geolocation"])
        context.set_default_timeout(20000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(artifacts_dir, database_url):
    """Save a full-page screenshot as ``test-artifacts/webapp-<db>-<name>.png``."""
    label = "postgis" if database_url.startswith("postgresql") else "spatialite"

    def take(page, name: str) -> Path:
        path = artifacts_dir / f"webapp-{label}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def seeded(app):
    """Phuket's zones and facilities (the real seed)."""
    from backend.extensions import db
    from geo.seed import seed

    with app.app_context():
        seed()
        db.session.commit()
