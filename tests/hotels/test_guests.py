"""The guest list: each guest's last contact, status and open incidents — never a position."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.dispatch.models import Incident, IncidentKind, IncidentStatus, Severity
from backend.dispatch.service import raise_incident, transition
from backend.extensions import db
from backend.geometry import point
from backend.models_base import utcnow
from backend.tracking.models import LatestPosition
from tests.hotels.conftest import checkin, guest_list


def _guest(client, hotels, factories, **card):  # noqa: ANN001, ANN003
    """Issue a card and check its holder in at hotel A; returns the card."""
    issued = factories.issued_card(**card)
    assert checkin(client, hotels.a, hotels.manager_a, issued["card_token"]).status_code == 201
    return issued


def _position(app, card_id: str, *, ago_s: int = 60, in_service_area: bool = True,  # noqa: ANN001
              danger_zone_id: int | None = None, at_sea: bool = False) -> None:
    """The card's latest position as the tracking rules leave it."""
    with app.app_context():
        at = utcnow() - timedelta(seconds=ago_s)
        db.session.merge(LatestPosition(card_id=card_id, lat=7.8935, lon=98.2975, geom=point(7.8935, 98.2975),
                                        recorded_at=at, received_at=at, last_contact_at=at, at_sea=at_sea,
                                        in_service_area=in_service_area, danger_zone_id=danger_zone_id))
        db.session.commit()


def _raise(app, card_id: str, kind: IncidentKind, severity: Severity = Severity.HIGH) -> int:  # noqa: ANN001
    with app.app_context():
        incident, _ = raise_incident(card_id=card_id, kind=kind, severity=severity, lat=7.90, lon=98.29)
        db.session.commit()
        return incident.id


def _by_card(client, hotels) -> dict[str, dict]:  # noqa: ANN001
    return {g["card_id"]: g for g in guest_list(client, hotels.a, hotels.manager_a)}


def test_a_guests_sos_shows_on_the_hotels_list_while_open(app, client, factories, hotels):
    guest = _guest(client, hotels, factories, full_name="Mia Jensen", nationality="DNK")
    _position(app, guest["card_id"])
    assert _by_card(client, hotels)[guest["card_id"]]["status"] == "ok"

    incident_id = _raise(app, guest["card_id"], IncidentKind.SOS, Severity.CRITICAL)
    listed = _by_card(client, hotels)[guest["card_id"]]
    assert listed["status"] == "sos"
    assert listed["open_incidents"] == [{"id": incident_id, "kind": "sos", "status": "new", "severity": "critical",
                                         "created_at": listed["open_incidents"][0]["created_at"]}]

    with app.app_context():  # the 191 center works the incident: it stays on the list until resolved
        incident = db.session.get(Incident, incident_id)
        transition(incident, IncidentStatus.DISPATCHED, actor="dispatcher", unit="Patong rescue")
        db.session.commit()
    listed = _by_card(client, hotels)[guest["card_id"]]
    assert listed["status"] == "sos" and listed["open_incidents"][0]["status"] == "dispatched"

    with app.app_context():
        transition(db.session.get(Incident, incident_id), IncidentStatus.RESOLVED, actor="dispatcher")
        db.session.commit()
    listed = _by_card(client, hotels)[guest["card_id"]]
    assert listed["status"] == "ok" and listed["open_incidents"] == []


def test_sos_of_another_hotels_guest_is_not_on_this_list(app, client, factories, hotels):
    elsewhere = factories.issued_card()
    assert checkin(client, hotels.b, hotels.manager_b, elsewhere["card_token"]).status_code == 201
    _raise(app, elsewhere["card_id"], IncidentKind.SOS, Severity.CRITICAL)
    assert guest_list(client, hotels.a, hotels.manager_a) == []
    assert [g["status"] for g in guest_list(client, hotels.b, hotels.manager_b)] == ["sos"]


def test_statuses_and_the_worst_wins(app, client, factories, hotels):
    overdue_after = app.config["OVERDUE_AFTER_S"]
    fine = _guest(client, hotels, factories, full_name="Fine Guest")
    _position(app, fine["card_id"], ago_s=120)
    silent = _guest(client, hotels, factories, full_name="Silent Guest")
    _position(app, silent["card_id"], ago_s=overdue_after + 600)
    flagged = _guest(client, hotels, factories, full_name="Flagged Overdue")
    _position(app, flagged["card_id"], ago_s=120)
    _raise(app, flagged["card_id"], IncidentKind.OVERDUE)
    away = _guest(client, hotels, factories, full_name="Away Guest")
    _position(app, away["card_id"], in_service_area=False)
    swimmer = _guest(client, hotels, factories, full_name="Swimmer")
    _position(app, swimmer["card_id"], danger_zone_id=1, at_sea=True)
    lost = _guest(client, hotels, factories, full_name="Lost At Sea")  # outside, silent, and pressed SOS
    _position(app, lost["card_id"], ago_s=overdue_after + 600, in_service_area=False, at_sea=True)
    _raise(app, lost["card_id"], IncidentKind.SOS, Severity.CRITICAL)
    new = _guest(client, hotels, factories, full_name="No App Yet")

    guests = _by_card(client, hotels)
    assert guests[fine["card_id"]]["status"] == "ok" and guests[fine["card_id"]]["tracked"] is True
    assert guests[silent["card_id"]]["status"] == "overdue"
    assert guests[flagged["card_id"]]["status"] == "overdue"
    assert guests[away["card_id"]]["status"] == "outside_area"
    assert guests[swimmer["card_id"]]["status"] == "in_danger"
    assert guests[lost["card_id"]]["status"] == "sos"
    assert guests[new["card_id"]]["status"] == "ok" and guests[new["card_id"]]["tracked"] is False
    assert guests[new["card_id"]]["last_seen_at"] is None
    assert guests[silent["card_id"]]["last_seen_at"] is not None
    # most serious first
    order = [g["status"] for g in guest_list(client, hotels.a, hotels.manager_a)]
    assert order[:4] == ["sos", "in_danger", "overdue", "overdue"]
    counts = client.get(f"/api/v1/hotels/{hotels.a}/guests", headers=hotels.manager_a).get_json()["counts"]
    assert counts == {"ok": 2, "outside_area": 1, "overdue": 2, "in_danger": 1, "sos": 1}


def test_at_sea_a_shorter_silence_is_overdue(app, client, factories, hotels):
    app.config.update(OVERDUE_AFTER_S=3600, OVERDUE_AT_SEA_AFTER_S=1800)
    boat = _guest(client, hotels, factories)
    _position(app, boat["card_id"], ago_s=2400, at_sea=True)
    land = _guest(client, hotels, factories)
    _position(app, land["card_id"], ago_s=2400)
    guests = _by_card(client, hotels)
    assert guests[boat["card_id"]]["status"] == "overdue" and guests[land["card_id"]]["status"] == "ok"


def test_the_list_never_holds_a_position(app, client, factories, hotels):
    guest = _guest(client, hotels, factories)
    _position(app, guest["card_id"])
    _raise(app, guest["card_id"], IncidentKind.DANGER_ZONE)
    response = client.get(f"/api/v1/hotels/{hotels.a}/guests", headers=hotels.manager_a)

    def keys(value) -> set[str]:  # noqa: ANN001
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    assert not keys(response.get_json()) & {"lat", "lon", "geometry", "coordinates", "accuracy_m", "zone", "track"}
    assert "98.29" not in json.dumps(response.get_json())


def test_reading_the_list_is_audited(app, client, factories, hotels):
    guest = _guest(client, hotels, factories)
    guest_list(client, hotels.a, hotels.manager_a)
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "hotel.guests_read"))
        assert entry.subject_id == str(hotels.a) and entry.actor_role == "hotel_manager"
        assert entry.detail["card_ids"] == [guest["card_id"]]
