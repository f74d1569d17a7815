"""Fixtures of the marine tests: two operators with their staff, admin, dispatcher, and helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.dispatch.conftest import consoles, live_server  # noqa: F401 (the 191 center's real server and clients)

PASSWORD = "correct horse battery"


def iso(delta_s: float = 0) -> str:
    """An RFC 3339 time ``delta_s`` seconds from now."""
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat().replace("+00:00", "Z")


@dataclass
class Marine:
    """Operator A and B with one staff account each, an admin and a dispatcher (Authorization headers)."""

    a: int
    b: int
    crew_a: dict[str, str]
    crew_b: dict[str, str]
    admin: dict[str, str]
    dispatcher: dict[str, str]


def operator_headers(app, client, operator_id: int, username: str) -> dict[str, str]:  # noqa: ANN001
    """Create a marine_operator account bound to ``operator_id`` and sign it in."""
    from backend.auth import service
    from backend.auth.models import Role
    from backend.extensions import db

    with app.app_context():
        service.create_user(username=username, password=PASSWORD, role=Role.MARINE_OPERATOR, operator_id=operator_id)
        db.session.commit()
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["operator_id"] == operator_id
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def make_operator(app, name: str) -> int:  # noqa: ANN001
    """An operator row; its id."""
    from backend.extensions import db
    from backend.marine.service import create_operator

    with app.app_context():
        operator = create_operator(name=name, licence="TAT 34/01234")
        db.session.commit()
        return operator.id


@pytest.fixture
def marine(app, client, auth) -> Marine:
    """Two operators with their crews, an admin and a dispatcher."""
    a = make_operator(app, "Andaman Sea Tours")
    b = make_operator(app, "Phi Phi Speedboat Co.")
    return Marine(a=a, b=b, crew_a=operator_headers(app, client, a, "crew-a"),
                  crew_b=operator_headers(app, client, b, "crew-b"), admin=auth.headers("admin"),
                  dispatcher=auth.headers("dispatcher"))


def trip_body(**overrides: Any) -> dict[str, Any]:
    """A valid trip: Rassada to Phi Phi, leaving now, back in 8 hours."""
    return {"vessel_name": "Sea Star 3", "vessel_registration": "PKT-1234", "pier": "RASSADA",
            "destination": "Phi Phi Islands", "departs_at": iso(0), "returns_by": iso(8 * 3600),
            "crew_phone": "+66 81 234 5678", **overrides}


def new_trip(client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:  # noqa: ANN001
    """POST a trip (asserting 201) and return it."""
    response = client.post("/api/v1/marine/trips", headers=headers, json=trip_body(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def board(client, trip_id: int, headers: dict[str, str], **body: Any):  # noqa: ANN001
    """POST a boarding scan."""
    return client.post(f"/api/v1/marine/trips/{trip_id}/passengers", headers=headers, json=body)


def act(client, trip_id: int, what: str, headers: dict[str, str], json: Any = None):  # noqa: ANN001
    """POST depart or return."""
    return client.post(f"/api/v1/marine/trips/{trip_id}/{what}", headers=headers, json=json if json is not None else {})


@pytest.fixture
def seeded(app) -> None:
    """Phuket's zones, facilities and the three piers (``flask seed``)."""
    from backend.extensions import db
    from geo.seed import seed

    with app.app_context():
        seed()
        db.session.commit()


def enrolled_phone(client, issued: dict[str, str]) -> dict[str, str]:  # noqa: ANN001
    """Enroll a phone for an issued card through the API; its Authorization header."""
    response = client.post("/api/v1/mobile/enroll", json={"card_id": issued["card_id"],
                                                           "enrollment_code": issued["enrollment_code"],
                                                           "platform": "android"})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['device_token']}"}
