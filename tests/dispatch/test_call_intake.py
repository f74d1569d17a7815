"""191 phone-call intake: incidents about someone without a card (caller + place), beside carded ones."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.audit.service import entries
from backend.dispatch.models import Incident, IncidentEvent
from backend.extensions import db
from notifications.models import OutboxMessage
from tests.dispatch.conftest import bearer
from tests.dispatch.test_incidents_api import BASE, raise_incident

PATONG = {"lat": 7.8961, "lon": 98.2962}
CALL = {"kind": "sos", **PATONG, "category": "medical", "note": "man collapsed on Bangla Road",
        "caller": {"name": "Somchai (bar staff)", "phone": "081 234 5678"}}


@pytest.fixture
def dispatcher(auth) -> dict[str, str]:
    """Headers of a signed-in dispatcher (username ``dispatcher1``)."""
    return auth.headers("dispatcher")


def counts(app) -> tuple[int, int, int]:  # noqa: ANN001
    """Incidents, incident events and outbox messages stored."""
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Incident)),
                db.session.scalar(select(func.count()).select_from(IncidentEvent)),
                db.session.scalar(select(func.count()).select_from(OutboxMessage)))


def test_a_call_without_a_card_is_logged_with_the_caller_and_the_place(client, dispatcher, app):
    response = client.post(f"{BASE}/incidents", json=CALL, headers=dispatcher)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["card_id"] is None and body["tourist"] is None
    assert body["caller"] == {"name": "Somchai (bar staff)", "phone": "081 234 5678"}
    assert (body["kind"], body["status"], body["severity"], body["category"]) == ("sos", "new", "critical", "medical")
    assert (body["lat"], body["lon"]) == (PATONG["lat"], PATONG["lon"])
    with app.app_context():
        stored = db.session.get(Incident, body["id"])
        assert (stored.card_id, stored.caller_name, stored.caller_phone) == (None, "Somchai (bar staff)",
                                                                             "081 234 5678")
        created = [e for e in entries(limit=50) if e.action == "incident.create"]
        assert len(created) == 1 and created[0].subject_id == str(body["id"]) and created[0].card_id is None
    # nobody's phone to tell: no outbox message for a card-less incident, at creation or dispatch
    assert counts(app)[2] == 0

    detail = client.get(f"{BASE}/incidents/{body['id']}", headers=dispatcher)
    assert detail.status_code == 200, detail.get_json()
    detail = detail.get_json()
    assert (detail["holder"], detail["card"], detail["stay"], detail["last_position"]) == (None, None, None, None)
    assert detail["track"] == [] and detail["tourist"] is None and detail["caller"] == body["caller"]
    assert [(e["kind"], e["text"], e["actor"]) for e in detail["timeline"]] == [
        ("created", "Phone call logged by dispatcher1 (SOS, no card)", "dispatcher1")]

    url = f"{BASE}/incidents/{body['id']}"
    assert client.post(f"{url}/acknowledge", headers=dispatcher).status_code == 200
    assert client.post(f"{url}/dispatch", json={"unit": "Patong Hospital ambulance 2"},
                       headers=dispatcher).status_code == 200
    resolved = client.post(f"{url}/resolve", json={"resolution": "taken to hospital"}, headers=dispatcher)
    assert resolved.status_code == 200 and resolved.get_json()["caller"] == body["caller"]
    assert counts(app)[2] == 0


def test_a_carded_call_may_note_its_caller_and_keeps_the_tourist(client, dispatcher, factories, app):
    card_id = factories.card(full_name="Kenji Sato")
    body = client.post(f"{BASE}/incidents", json={"card_id": card_id, "caller": {"name": "his wife"}},
                       headers=dispatcher).get_json()
    assert body["card_id"] == card_id and body["tourist"]["full_name"] == "Kenji Sato"
    assert body["caller"] == {"name": "his wife", "phone": None}
    with app.app_context():  # the consoles' live feed carries it from the first event
        created = db.session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == body["id"])).one()
        assert created.snapshot["caller"] == {"name": "his wife", "phone": None}
    plain = client.post(f"{BASE}/incidents", json={"card_id": card_id, "kind": "overdue"}, headers=dispatcher)
    assert plain.status_code == 201 and plain.get_json()["caller"] is None


def test_card_less_calls_need_a_place_and_valid_fields_and_bad_ones_change_nothing(client, dispatcher, app, auth,
                                                                                    factories):
    before = counts(app)
    for bad in ({}, {"kind": "sos"}, {"caller": {"name": "x"}}, {"caller": {"phone": "0812345678"}, "lat": 7.9},
                {**PATONG, "caller": "Somchai"}, {**PATONG, "caller": {"name": ""}},
                {**PATONG, "caller": {"name": "x" * 121}}, {**PATONG, "caller": {"phone": "call me"}},
                {**PATONG, "caller": {"phone": 812345678}}, {**PATONG, "caller": {"phone": "1" * 41}},
                {**PATONG, "caller": {"email": "a@b.c"}}, {**PATONG, "card_id": None},
                {"lat": 91, "lon": 98.3}, {"lat": 7.9, "lon": -181}, {"lat": "north", "lon": 98.3},
                {**PATONG, "kind": "fire"}, {**PATONG, "note": "x" * 2001}):
        response = client.post(f"{BASE}/incidents", json=bad, headers=dispatcher)
        assert response.status_code == 422, (bad, response.get_json())
        assert response.get_json()["code"] == 422 and response.get_json()["errors"], bad
    missing_place = client.post(f"{BASE}/incidents", json={"caller": {"name": "x"}}, headers=dispatcher).get_json()
    assert "lat" in missing_place["errors"]["json"]
    oversize = client.post(f"{BASE}/incidents", json={**CALL, "note": "x" * (2 * 1024 * 1024)}, headers=dispatcher)
    assert oversize.status_code == 413 and oversize.get_json()["code"] == 413
    # other roles may not log calls
    for headers in (auth.headers("immigration"), auth.headers("hotel_manager", hotel_id=factories.hotel())):
        assert client.post(f"{BASE}/incidents", json=CALL, headers=headers).status_code == 403
    assert client.post(f"{BASE}/incidents", json=CALL).status_code == 401
    assert counts(app) == before


def test_card_less_calls_are_never_merged_while_carded_ones_still_are(client, dispatcher, factories, app):
    first = client.post(f"{BASE}/incidents", json=CALL, headers=dispatcher)
    second = client.post(f"{BASE}/incidents", json={**CALL, "caller": {"phone": "+66 76 123 456"}},
                         headers=dispatcher)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]
    card_id = factories.card()
    carded = client.post(f"{BASE}/incidents", json={"card_id": card_id, **PATONG}, headers=dispatcher)
    joined = client.post(f"{BASE}/incidents", json={"card_id": card_id, "note": "again"}, headers=dispatcher)
    assert (carded.status_code, joined.status_code) == (201, 200)
    assert joined.get_json()["id"] == carded.get_json()["id"]
    listed = client.get(f"{BASE}/incidents", query_string={"status": "open", "kind": "sos"},
                        headers=dispatcher).get_json()["items"]
    assert len(listed) == 3
    # the partial unique index itself: still one open incident per card and kind, any number card-less
    with app.app_context():
        db.session.add(Incident(card_id=None, kind="sos", status="new", severity="high", **PATONG))
        db.session.commit()
        db.session.add(Incident(card_id=card_id, kind="sos", status="acknowledged", severity="high"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(Incident(card_id=card_id, kind="sos", status="resolved", severity="high"))
        db.session.commit()  # closed incidents of the card are not counted


def test_search_finds_card_less_calls_by_caller_phone_and_name(client, dispatcher, factories, app):
    call = client.post(f"{BASE}/incidents", json={**CALL, "caller": {"name": "Ольга Петрова",
                                                                     "phone": "+66 81 234 5678"}},
                       headers=dispatcher).get_json()
    carded = raise_incident(app, factories.card(full_name="Anna Schmidt", phone="+49 30 1234567"))

    def ids(q: str) -> list[int]:
        response = client.get(f"{BASE}/incidents", query_string={"q": q}, headers=dispatcher)
        assert response.status_code == 200, response.get_json()
        return [i["id"] for i in response.get_json()["items"]]

    assert ids("081 234 5678") == [call["id"]]          # typed nationally, stored as +66
    assert ids("+66812345678") == [call["id"]]
    assert ids("ольга") == [call["id"]]                  # the caller's name, any case, any script
    assert ids("Schmidt") == [carded]
    assert ids("+49 30 1234567") == [carded]
    assert ids("nobody") == []


def test_list_stats_positions_and_socket_snapshot_with_card_less_incidents(client, dispatcher, factories, app):
    card_id = factories.card()
    raise_incident(app, card_id)
    call = client.post(f"{BASE}/incidents", json=CALL, headers=dispatcher).get_json()
    client.post(f"{BASE}/incidents/{call['id']}/acknowledge", headers=dispatcher)

    listed = client.get(f"{BASE}/incidents", headers=dispatcher)
    assert listed.status_code == 200
    items = {i["id"]: i for i in listed.get_json()["items"]}
    assert items[call["id"]]["tourist"] is None and items[call["id"]]["caller"]["phone"] == "081 234 5678"
    assert len(items) == 2
    stats = client.get(f"{BASE}/stats", headers=dispatcher)
    assert stats.status_code == 200 and stats.get_json()["incidents"]["total"] == 2
    assert stats.get_json()["time_to_acknowledge_s"]["p50"] is not None
    positions = client.get(f"{BASE}/positions", query_string={"bbox": "98.2,7.7,98.5,8.2"}, headers=dispatcher)
    assert positions.status_code == 200
    with app.app_context():  # what the realtime relay emits: the stored snapshot of each event
        snapshots = [e.snapshot for e in db.session.scalars(
            select(IncidentEvent).where(IncidentEvent.incident_id == call["id"]).order_by(IncidentEvent.seq))]
        assert [s["status"] for s in snapshots] == ["new", "acknowledged"]
        assert all(s["card_id"] is None and s["caller"]["name"] == "Somchai (bar staff)" for s in snapshots)


def test_the_openapi_document_shows_the_optional_card_and_the_caller(client):
    spec = client.get("/openapi.json").get_json()
    create = spec["components"]["schemas"]["IncidentCreate"]
    assert "card_id" not in create.get("required", []) and "caller" in create["properties"]
    incident = spec["components"]["schemas"]["Incident"]["properties"]
    assert incident["card_id"].get("nullable") is True and "caller" in incident


def test_a_hotels_guest_list_is_unmoved_by_card_less_incidents(client, dispatcher, auth, factories, app):
    hotel_id = factories.hotel()
    guest = factories.card(full_name="Guest In House")
    with app.app_context():
        from backend.hotels.models import Stay

        db.session.add(Stay(hotel_id=hotel_id, card_id=guest, room="12"))
        db.session.commit()
    raise_incident(app, guest)
    assert client.post(f"{BASE}/incidents", json=CALL, headers=dispatcher).status_code == 201
    response = client.get(f"/api/v1/hotels/{hotel_id}/guests",
                          headers=auth.headers("hotel_manager", hotel_id=hotel_id))
    assert response.status_code == 200, response.get_json()
    [item] = response.get_json()["items"]
    assert item["card_id"] == guest and [i["kind"] for i in item["open_incidents"]] == ["sos"]


@pytest.mark.slow
def test_a_card_less_call_reaches_the_consoles_live(auth, live_server, consoles):
    token = auth.token("dispatcher")
    console = consoles(live_server.url, token).connect()
    console.hello.get(timeout=5)
    response = requests.post(f"{live_server.url}{BASE}/incidents", headers=bearer(token), json=CALL, timeout=10)
    assert response.status_code == 201, response.text
    event = console.next_incident(timeout=5)
    assert (event["id"], event["event"], event["card_id"], event["tourist"]) == (response.json()["id"], "created",
                                                                                  None, None)
    assert event["caller"] == CALL["caller"] and event["seq"] >= 1



def test_no_caller_on_what_no_one_called_in(app):
    from backend.dispatch.schemas import IncidentSchema

    with app.app_context():  # a trip's card-less boat_overdue (raised by the sweep) is no call
        sweep = Incident(id=1, card_id=None, trip_id=999, kind="boat_overdue", status="new", severity="critical")
        assert IncidentSchema().dump(sweep)["caller"] is None
        call = Incident(id=2, card_id=None, kind="sos", status="new", severity="critical", **PATONG)
        assert IncidentSchema().dump(call)["caller"] == {"name": None, "phone": None}
