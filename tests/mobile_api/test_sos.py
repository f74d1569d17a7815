"""SOS: committed and idempotent, joins the open SOS, accepted from ended cards, status and cancel."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import select

from backend.dispatch.models import Incident, IncidentEvent, IncidentStatus, SosSignal
from backend.extensions import db
from backend.tracking.models import Ping
from tests.mobile_api.conftest import PHUKET_TOWN, now_iso

SOS = "/api/v1/mobile/sos"


def sos(lat: float = 7.8200, lon: float = 98.2990, **extra) -> dict:  # noqa: ANN003
    """A valid SOS body (Kata by default)."""
    return {"id": str(uuid.uuid4()), "lat": lat, "lon": lon, "recorded_at": now_iso(-5), **extra}


def incidents(app, card_id: str) -> list[Incident]:  # noqa: ANN001
    with app.app_context():
        rows = list(db.session.scalars(select(Incident).where(Incident.card_id == card_id)))
        db.session.expunge_all()
        return rows


def test_sos_raises_a_critical_incident_with_everything_the_dispatcher_needs(client, mobile, app, auth):
    phone = mobile.enroll(full_name="Maria Rossi", nationality="ITA", phone="+39 06 1234567")
    body = sos(accuracy_m=12.0, category="medical", note="my husband collapsed on the beach", battery_pct=35)
    response = client.post(SOS, json=body, headers=phone.headers)
    assert response.status_code == 201
    result = response.get_json()
    assert result["status"] == "new" and result["incident_id"]
    [incident] = incidents(app, phone.card_id)
    assert (incident.kind, incident.severity, incident.status) == ("sos", "critical", "new")
    assert (incident.lat, incident.lon, incident.accuracy_m) == (body["lat"], body["lon"], 12.0)
    assert incident.category == "medical" and "collapsed" in incident.note
    with app.app_context():
        from backend.dispatch.service import representation

        shown = representation(db.session.get(Incident, result["incident_id"]))
        assert shown["tourist"]["full_name"] == "Maria Rossi" and shown["tourist"]["phone"] == "+39 06 1234567"
        # the position is also stored as a ping of the card, linked to the incident
        stored = db.session.scalar(select(Ping).where(Ping.client_id == body["id"]))
        assert stored is not None and stored.incident_id == result["incident_id"]
        signal = db.session.scalar(select(SosSignal).where(SosSignal.client_id == body["id"]))
        assert signal.device_id == phone.device_id and signal.incident_id == result["incident_id"]


def test_the_same_sos_again_is_200_with_the_same_incident(client, mobile, app):
    phone = mobile.enroll()
    body = sos()
    first = client.post(SOS, json=body, headers=phone.headers)
    again = [client.post(SOS, json=body, headers=phone.headers) for _ in range(3)]
    assert first.status_code == 201
    assert [r.status_code for r in again] == [200, 200, 200]
    assert {r.get_json()["incident_id"] for r in again} == {first.get_json()["incident_id"]}
    assert len(incidents(app, phone.card_id)) == 1
    assert mobile.count(SosSignal, card_id=phone.card_id) == 1
    with app.app_context():  # a retry adds nothing to the timeline either
        events = db.session.scalars(select(IncidentEvent.type).where(
            IncidentEvent.incident_id == first.get_json()["incident_id"])).all()
    assert events == ["created"]


def test_a_new_sos_joins_the_open_one_and_updates_it(client, mobile, app):
    card_id, code = mobile.card()
    phone, partner = mobile.enroll(card_id, code), mobile.enroll(card_id, code)
    first = client.post(SOS, json=sos(note="lost on the trail"), headers=phone.headers).get_json()
    second = client.post(SOS, json=sos(7.8300, 98.3000, note="now near the viewpoint", category="lost"),
                         headers=partner.headers)
    assert second.status_code == 200
    assert second.get_json()["incident_id"] == first["incident_id"]
    [incident] = incidents(app, card_id)
    assert (incident.lat, incident.lon, incident.category) == (7.83, 98.30, "lost")
    assert "lost on the trail" in incident.note and "now near the viewpoint" in incident.note
    with app.app_context():
        types = db.session.scalars(select(IncidentEvent.type).where(
            IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.seq)).all()
    assert types == ["created", "updated"]


@pytest.mark.parametrize("change", [
    {"status": "closed"}, {"status": "revoked"}, {"expires_at": datetime(2020, 1, 1, tzinfo=UTC)},
])
def test_sos_is_accepted_even_when_the_card_has_ended(client, mobile, app, change):
    from backend.tracking.models import Device

    phone = mobile.enroll()
    now = datetime.now(UTC)
    mobile.set_card(phone.card_id, **change, tracking_ended_at=now)
    if "status" in change:  # the cards service revokes the card's devices with it
        with app.app_context():
            db.session.get(Device, phone.device_id).revoked_at = now
            db.session.commit()
    response = client.post(SOS, json=sos(), headers=phone.headers)
    assert response.status_code == 201
    assert len(incidents(app, phone.card_id)) == 1
    # safety first, but tracking stays off: no ping is stored for an ended card
    assert mobile.count(Ping, card_id=phone.card_id) == 0
    status = client.get(f"{SOS}/{response.get_json()['incident_id']}", headers=phone.headers)
    assert status.status_code == 200


def test_a_device_replaced_by_newer_enrollments_cannot_sos(client, mobile, app):
    card_id, code = mobile.card()
    phones = [mobile.enroll(card_id, code) for _ in range(4)]  # the first is revoked by the fourth
    assert client.post(SOS, json=sos(), headers=phones[0].headers).status_code == 401
    assert client.post(SOS, json=sos(), headers=phones[3].headers).status_code == 201


def test_a_device_clock_far_off_never_blocks_an_sos(client, mobile, app):
    phone = mobile.enroll()
    response = client.post(SOS, json=sos(recorded_at="1970-01-01T00:00:00Z"), headers=phone.headers)
    assert response.status_code == 201
    [incident] = incidents(app, phone.card_id)
    assert abs((incident.created_at - datetime.now(UTC)).total_seconds()) < 60
    assert mobile.count(Ping, card_id=phone.card_id) == 0  # but the wrong time is not stored as a ping


@pytest.mark.parametrize("bad", [
    {"lat": 200}, {"lon": -181}, {"lat": "7.8"}, {"lat": None}, {"id": "x"}, {"id": None},
    {"category": "fire"}, {"note": "x" * 2001}, {"recorded_at": "soon"}, {"surprise": 1}, {"accuracy_m": -1},
])
def test_bad_sos_is_422_and_raises_nothing(client, mobile, app, bad):
    phone = mobile.enroll()
    response = client.post(SOS, json={**sos(), **bad}, headers=phone.headers)
    assert response.status_code == 422
    assert response.get_json()["code"] == 422
    assert incidents(app, phone.card_id) == []


def test_sos_needs_a_device_token(client):
    assert client.post(SOS, json=sos()).status_code == 401


def test_status_and_cancel(client, mobile, app):
    phone = mobile.enroll()
    incident_id = client.post(SOS, json=sos(), headers=phone.headers).get_json()["incident_id"]
    status = client.get(f"{SOS}/{incident_id}", headers=phone.headers)
    assert status.status_code == 200
    assert status.get_json()["status"] == "new" and status.get_json()["updated_at"]
    with app.app_context():
        from backend.dispatch.service import transition

        transition(db.session.get(Incident, incident_id), IncidentStatus.ACKNOWLEDGED, actor="dispatcher1")
        db.session.commit()
    assert client.get(f"{SOS}/{incident_id}", headers=phone.headers).get_json()["status"] == "acknowledged"
    cancel = client.post(f"{SOS}/{incident_id}/cancel", json={"reason": "found my way back"}, headers=phone.headers)
    assert cancel.status_code == 200
    assert cancel.get_json() | {"incident_id": incident_id, "status": "cancelled"} == cancel.get_json()
    again = client.post(f"{SOS}/{incident_id}/cancel", headers=phone.headers)
    assert again.status_code == 200 and again.get_json()["status"] == "cancelled"
    [incident] = incidents(app, phone.card_id)
    assert incident.status == "cancelled" and "found my way back" in incident.note
    # a new SOS after a cancelled one is a new incident
    assert client.post(SOS, json=sos(), headers=phone.headers).status_code == 201


def test_a_resolved_sos_cannot_be_cancelled(client, mobile, app):
    phone = mobile.enroll()
    incident_id = client.post(SOS, json=sos(), headers=phone.headers).get_json()["incident_id"]
    with app.app_context():
        from backend.dispatch.service import transition

        transition(db.session.get(Incident, incident_id), IncidentStatus.RESOLVED, actor="dispatcher1")
        db.session.commit()
    response = client.post(f"{SOS}/{incident_id}/cancel", headers=phone.headers)
    assert response.status_code == 409
    assert incidents(app, phone.card_id)[0].status == "resolved"


def test_someone_elses_incident_is_404(client, mobile, app, seeded):
    anna, ben = mobile.enroll(), mobile.enroll(full_name="Ben Lee")
    incident_id = client.post(SOS, json=sos(), headers=anna.headers).get_json()["incident_id"]
    assert client.get(f"{SOS}/{incident_id}", headers=ben.headers).status_code == 404
    assert client.post(f"{SOS}/{incident_id}/cancel", headers=ben.headers).status_code == 404
    assert client.get(f"{SOS}/999999", headers=anna.headers).status_code == 404
    assert incidents(app, anna.card_id)[0].status == "new"
    # the card's own incidents of other kinds are not SOS
    client.post("/api/v1/mobile/pings", json={"pings": [{"id": str(uuid.uuid4()), "lat": 7.0, "lon": 98.0,
                                                         "recorded_at": now_iso(-1)}]}, headers=ben.headers)
    [left_area] = incidents(app, ben.card_id)
    assert client.get(f"{SOS}/{left_area.id}", headers=ben.headers).status_code == 404


def test_five_concurrent_retries_make_exactly_one_incident(live_server, mobile, app):
    card_id, code = mobile.card()
    enrolled = requests.post(f"{live_server}/api/v1/mobile/enroll", timeout=30,
                             json={"card_id": card_id, "enrollment_code": code, "platform": "android"})
    assert enrolled.status_code == 201
    headers = {"Authorization": f"Bearer {enrolled.json()['device_token']}"}
    body = sos(*PHUKET_TOWN, category="crime")
    barrier = threading.Barrier(5)
    results: list[requests.Response] = []

    def press() -> None:
        barrier.wait()
        results.append(requests.post(f"{live_server}{SOS}", json=body, headers=headers, timeout=60))

    threads = [threading.Thread(target=press) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 200, 200, 200, 201], [r.text for r in results]
    assert len({r.json()["incident_id"] for r in results}) == 1
    assert len(incidents(app, card_id)) == 1
    assert mobile.count(SosSignal, card_id=card_id) == 1


def test_five_concurrent_presses_from_two_phones_make_one_incident(live_server, mobile, app):
    card_id, code = mobile.card()
    tokens = []
    for _ in range(2):
        enrolled = requests.post(f"{live_server}/api/v1/mobile/enroll", timeout=30,
                                 json={"card_id": card_id, "enrollment_code": code, "platform": "ios"})
        tokens.append(enrolled.json()["device_token"])
    barrier = threading.Barrier(5)
    results: list[requests.Response] = []

    def press(i: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[i % 2]}"}
        barrier.wait()
        results.append(requests.post(f"{live_server}{SOS}", json=sos(note=f"press {i}"), headers=headers, timeout=60))

    threads = [threading.Thread(target=press, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [200, 200, 200, 200, 201], [r.text for r in results]
    assert len({r.json()["incident_id"] for r in results}) == 1
    [incident] = incidents(app, card_id)
    assert all(f"press {i}" in incident.note for i in range(5))
    assert mobile.count(SosSignal, card_id=card_id) == 5


def test_sos_and_pings_of_one_card_at_once_all_succeed(live_server, mobile, app):
    card_id, code = mobile.card()
    tokens = [requests.post(f"{live_server}/api/v1/mobile/enroll", timeout=30, json={
        "card_id": card_id, "enrollment_code": code, "platform": "android"}).json()["device_token"] for _ in range(2)]
    barrier = threading.Barrier(8)
    results: list[requests.Response] = []

    def send(i: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[i % 2]}"}
        barrier.wait()
        if i % 2:
            body = {"pings": [{"id": str(uuid.uuid4()), "lat": PHUKET_TOWN[0], "lon": PHUKET_TOWN[1],
                               "recorded_at": now_iso(-i)}]}
            results.append(requests.post(f"{live_server}/api/v1/mobile/pings", json=body, headers=headers,
                                         timeout=60))
        else:
            results.append(requests.post(f"{live_server}{SOS}", json=sos(), headers=headers, timeout=60))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.status_code in (200, 201) for r in results), [r.text for r in results]
    assert len([i for i in incidents(app, card_id) if i.kind == "sos"]) == 1


def test_an_sos_is_announced_and_its_push_nudged_only_once_it_is_stored(app, client, mobile):
    """Whoever hears of an SOS (the consoles, the push scheduler) can read it from the database.

    The SOS path releases savepoints before it commits; a released savepoint is not a commit
    (tests/foundation/test_after_commit_signals.py).
    """
    from sqlalchemy import func

    from backend import signals
    from notifications.models import OutboxMessage

    seen: list[tuple[str, int, int]] = []

    def look(name: str):  # noqa: ANN202
        def receiver(_sender, items):  # noqa: ANN001, ANN202
            with db.engine.connect() as other:  # a connection of its own sees only what is committed
                seen.append((name, other.scalar(select(func.count()).select_from(Incident)),
                             other.scalar(select(func.count()).select_from(OutboxMessage))))
        return receiver

    heard_events, heard_outbox = look("incident events"), look("outbox")
    signals.incident_events_committed.connect(heard_events)
    signals.outbox_queued.connect(heard_outbox)
    try:
        phone = mobile.enroll()
        response = client.post("/api/v1/mobile/sos", headers=phone.headers, json={
            "id": str(uuid.uuid4()), "lat": 7.8200, "lon": 98.2990, "recorded_at": now_iso(-5),
            "category": "medical"})
        assert response.status_code == 201, response.get_json()
    finally:
        signals.incident_events_committed.disconnect(heard_events)
        signals.outbox_queued.disconnect(heard_outbox)
    assert {name for name, _, _ in seen} == {"incident events", "outbox"}
    assert all(incidents == 1 and messages >= 1 for _, incidents, messages in seen), seen
