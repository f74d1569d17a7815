"""Simultaneous check-ins of one card against a real server: never two open stays."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from backend.extensions import db
from backend.hotels.models import Stay

PASSWORD = "front-desk-pass-1"


def _login(url: str, username: str) -> dict[str, str]:
    body = requests.post(f"{url}/api/v1/auth/login", json={"username": username, "password": PASSWORD},
                         timeout=10).json()
    return {"Authorization": f"Bearer {body['access_token']}"}


@pytest.mark.slow
def test_concurrent_checkins_of_one_card_leave_one_open_stay(app, auth, factories, server):
    a, b = factories.hotel(), factories.hotel(name="Kata Beach Resort", lat=7.8205, lon=98.2990)
    auth.user("hotel_manager", hotel_id=a, username="desk.a", password=PASSWORD)
    auth.user("hotel_manager", hotel_id=b, username="desk.b", password=PASSWORD)
    headers = {a: _login(server, "desk.a"), b: _login(server, "desk.b")}
    card = factories.issued_card()

    def attempt(hotel_id: int) -> int:
        return requests.post(f"{server}/api/v1/hotels/{hotel_id}/checkins", headers=headers[hotel_id],
                             json={"card_token": card["card_token"], "room": str(hotel_id)}, timeout=60).status_code

    # a double-tapped "confirm" at one desk: one stay, every answer a success
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(attempt, [a] * 6))
    assert sorted(codes) == [200] * 5 + [201]
    # two desks at once: whatever the order, at most one stay stays open and nobody gets a 500
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(attempt, [a, b] * 3))
    assert set(codes) <= {200, 201, 409}, codes
    with app.app_context():
        stays = list(db.session.scalars(select(Stay).where(Stay.card_id == card["card_id"])))
    assert len([s for s in stays if s.checked_out_at is None]) == 1
    assert all(s.end_reason == "checked_in_elsewhere" for s in stays if s.checked_out_at is not None)
