"""Fixtures of the companion app tests: cards with a known enrollment code, enrolled phones."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


@dataclass
class Phone:
    """An enrolled phone as the app holds it."""

    card_id: str
    device_id: str
    device_token: str
    osmand_id: str

    @property
    def headers(self) -> dict[str, str]:
        """Bearer authorization with the device token."""
        return {"Authorization": f"Bearer {self.device_token}"}


def now_iso(delta_s: float = 0) -> str:
    """An RFC 3339 time ``delta_s`` seconds from now."""
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat().replace("+00:00", "Z")


def ping(lat: float = 7.8961, lon: float = 98.2960, *, delta_s: float = -60, **extra: Any) -> dict[str, Any]:
    """A valid ping (Patong by default) recorded ``delta_s`` seconds from now."""
    return {"id": str(uuid.uuid4()), "lat": lat, "lon": lon, "recorded_at": now_iso(delta_s), **extra}


class MobileActions:
    """Cards with known enrollment codes, and phones enrolled through the API."""

    def __init__(self, app, client, factories) -> None:  # noqa: ANN001
        self.app, self.client, self.factories = app, client, factories

    def card(self, **kwargs: Any) -> tuple[str, str]:
        """A card and its enrollment code."""
        from backend.cards import enrollment
        from backend.cards.models import Card
        from backend.extensions import db

        card_id = self.factories.card(**kwargs)
        code, code_hash = enrollment.new_code()
        with self.app.app_context():
            db.session.get(Card, card_id).enrollment_code_hash = code_hash
            db.session.commit()
        return card_id, code

    def enroll(self, card_id: str | None = None, code: str | None = None, **kwargs: Any) -> Phone:
        """Enroll a phone (with a new card unless one is given)."""
        if card_id is None:
            card_id, code = self.card(**kwargs)
        response = self.client.post("/api/v1/mobile/enroll",
                                    json={"card_id": card_id, "enrollment_code": code, "platform": "android"})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        return Phone(card_id, body["device_id"], body["device_token"], body["osmand_id"])

    def set_card(self, card_id: str, **values: Any) -> None:
        """Change a card row directly (e.g. close it, as the cards service would)."""
        from backend.cards.models import Card
        from backend.extensions import db

        with self.app.app_context():
            card = db.session.get(Card, card_id)
            for key, value in values.items():
                setattr(card, key, value)
            db.session.commit()

    def count(self, model: Any, **where: Any) -> int:
        """How many rows of ``model`` match ``where``."""
        from sqlalchemy import func, select

        from backend.extensions import db

        with self.app.app_context():
            query = select(func.count()).select_from(model)
            for key, value in where.items():
                query = query.where(getattr(model, key) == value)
            return db.session.scalar(query)


@pytest.fixture
def mobile(app, client, factories) -> MobileActions:
    """Enrollment helpers."""
    return MobileActions(app, client, factories)


# Places in Phuket (lat, lon), checked against geo/data/zones.geojson.
PHUKET_TOWN = (7.8804, 98.3923)  # on the island
PATONG_RIP = (7.896926, 98.290983)  # inside the Patong rip-current danger zone
CHALONG_BAY = (7.80, 98.37)  # at sea, inside the province's waters
PHI_PHI = (7.74, 98.77)  # Krabi province: outside the service area


@pytest.fixture
def seeded(app, runner) -> None:
    """Phuket's zones and facilities, through the real ``flask seed``."""
    with app.app_context():
        result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def live_server(start_server) -> str:
    """A real ``python wsgi.py`` process on the test database (the same secret as ``app``); its base URL."""
    return start_server().url
