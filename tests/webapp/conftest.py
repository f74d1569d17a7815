"""Helpers for the companion web app's tests: an enrolled phone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests


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


ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app, tmp_path):
    """``python wsgi.py`` on the test's database; yields its base URL.

    Map tiles point at the server itself (they 404): there is no internet here, and the app
    must work without its background map.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
           "HOST": "127.0.0.1", "PORT": str(port), "RUN_PERIODIC_JOBS": "0", "THREADS": "16", "LOG_LEVEL": "WARNING",
           "INSTANCE_PATH": str(tmp_path / "instance-server"), "CARD_KEYS_DIR": app.config["CARD_KEYS_DIR"],
           "SOCKETIO_CHANNEL": f"pts-webapp-test-{uuid.uuid4().hex}", "TILE_URL": url + "/no-tiles/{z}/{x}/{y}.png"}
    env.pop("SOCKETIO_MESSAGE_QUEUE", None)
    env.pop("PUBLIC_BASE_URL", None)
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    if requests.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def chromium():
    """Headless Chromium (Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
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
