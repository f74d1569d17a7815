"""The 191 center's live feed over Socket.IO, with the real python-socketio client and a real server."""

from __future__ import annotations

import queue
from datetime import timedelta

import pytest
import requests
import socketio

from backend.auth.tokens import TokenKind, encode
from tests.dispatch.conftest import bearer

pytestmark = pytest.mark.slow


def _raise_sos(server, token: str, card_id: str, **extra) -> dict:  # noqa: ANN001, ANN003
    response = requests.post(f"{server.url}/api/v1/dispatch/incidents", headers=bearer(token), timeout=10,
                             json={"card_id": card_id, "kind": "sos", "lat": 7.8961, "lon": 98.2962, **extra})
    assert response.status_code in (200, 201), response.text
    return response.json()


def _step(server, token: str, incident_id: int, action: str, body: dict | None = None) -> requests.Response:  # noqa: ANN001
    return requests.post(f"{server.url}/api/v1/dispatch/incidents/{incident_id}/{action}", headers=bearer(token),
                         json=body or {}, timeout=10)


def test_only_dispatchers_and_admins_may_connect(app, auth, factories, live_server, consoles):
    hotel_id = factories.hotel()
    with app.app_context():
        device_token = encode(TokenKind.DEVICE, "dev-1", ttl_s=None)
        dispatcher = auth.user("dispatcher")
        expired = encode(TokenKind.STAFF_ACCESS, str(dispatcher.id), ttl_s=-5, claims={"role": "dispatcher"})
    refused = [None, "", "not-a-token", device_token, expired, auth.token("immigration"),
               auth.token("hotel_manager", hotel_id=hotel_id)]
    for token in refused:
        with pytest.raises(socketio.exceptions.ConnectionError):
            consoles(live_server.url, token).connect()
    for role in ("dispatcher", "admin"):
        console = consoles(live_server.url, auth.token(role)).connect()
        hello = console.hello.get(timeout=5)
        assert hello["role"] == role and hello["last_seq"] == 0


def test_sos_arrives_within_a_second_and_every_step_has_a_larger_seq(auth, factories, live_server, consoles):
    token = auth.token("dispatcher")
    card_id = factories.card(full_name="Somchai Test", nationality="THA")
    console = consoles(live_server.url, token).connect()
    console.hello.get(timeout=5)

    created = _raise_sos(live_server, token, card_id, note="caller reports a swimmer in trouble")
    event = console.next_incident(timeout=1.0)  # within a second of the SOS being accepted
    assert event["id"] == created["id"] and event["kind"] == "sos" and event["status"] == "new"
    assert event["event"] == "created" and event["tourist"]["full_name"] == "Somchai Test"
    assert event["severity"] == "critical" and event["lat"] == pytest.approx(7.8961)

    seqs = [event["seq"]]
    for action, body, status in (("acknowledge", None, "acknowledged"),
                                 ("dispatch", {"unit": "Patong Police 3"}, "dispatched"),
                                 ("notes", {"note": "unit on scene"}, "dispatched"),
                                 ("resolve", {"resolution": "assisted on scene"}, "resolved")):
        assert _step(live_server, token, created["id"], action, body).status_code == 200
        step = console.next_incident(timeout=2)
        assert step["id"] == created["id"] and step["status"] == status
        assert step["seq"] > seqs[-1]
        seqs.append(step["seq"])
    assert step["resolution"] == "assisted on scene" and step["unit"] == {"name": "Patong Police 3"}

    # a refused step (resolve twice) changes nothing and emits nothing
    again = _step(live_server, token, created["id"], "resolve")
    assert again.status_code == 409
    assert console.drain_incidents(wait=0.7) == []


def test_resume_after_a_disconnect_delivers_exactly_the_missed_events_in_order(auth, factories, live_server, consoles):
    token = auth.token("dispatcher")
    first_card, second_card = factories.card(), factories.card(full_name="Li Wei", nationality="CHN")
    console = consoles(live_server.url, token).connect()
    seen = _raise_sos(live_server, token, first_card)
    last_seen = console.next_incident()["seq"]
    console.close()

    # while the console is away: a new SOS, and the first one worked on
    missed = _raise_sos(live_server, token, second_card, category="medical")
    _step(live_server, token, seen["id"], "acknowledge")
    _step(live_server, token, missed["id"], "dispatch", {"unit": "Vachira ambulance 2"})

    back = consoles(live_server.url, token).connect()
    ack = back.call("resume", {"after_seq": last_seen})
    replayed = back.drain_incidents()
    assert [(e["id"], e["event"]) for e in replayed] == [
        (missed["id"], "created"), (seen["id"], "acknowledged"), (missed["id"], "dispatched")]
    assert [e["seq"] for e in replayed] == sorted(e["seq"] for e in replayed)
    assert all(e["seq"] > last_seen for e in replayed)
    assert ack == {"replayed": 3, "last_seq": replayed[-1]["seq"]}
    assert replayed[0]["category"] == "medical" and replayed[0]["tourist"]["full_name"] == "Li Wei"

    # nothing is replayed twice, and from 0 everything comes back
    assert back.call("resume", {"after_seq": replayed[-1]["seq"]}) == {"replayed": 0, "last_seq": replayed[-1]["seq"]}
    assert back.call("resume", {"after_seq": 0})["replayed"] == 4
    assert len(back.drain_incidents()) == 4
    for bad in ({}, {"after_seq": -1}, {"after_seq": "5"}, {"after_seq": True}, None, [1]):
        assert "error" in back.call("resume", bad)


def test_position_feed_sends_the_viewport_then_only_its_changes(app, auth, factories, live_server, consoles):
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.models_base import utcnow
    from backend.tracking.service import PingInput, record_pings

    patong, phi_phi = factories.card(full_name="In Patong"), factories.card(full_name="Far Away")

    def ping(card_id: str, lat: float, lon: float, minutes_ago: float) -> None:
        with app.app_context():
            card = db.session.get(Card, card_id)
            record_pings(card=card, device_id=None, source="app", pings=[PingInput(
                client_id=f"{card_id}-{lat}-{lon}", lat=lat, lon=lon,
                recorded_at=utcnow() - timedelta(minutes=minutes_ago))])
            db.session.commit()

    ping(patong, 7.8961, 98.2962, 10)
    ping(phi_phi, 7.7407, 98.7784, 10)
    console = consoles(live_server.url, auth.token("dispatcher")).connect()
    ack = console.call("viewport", {"bbox": "98.25,7.75,98.45,8.2"})
    assert ack == {"ok": True, "count": 1, "truncated": False}
    snapshot = console.positions.get(timeout=5)
    assert snapshot["reset"] is True
    assert [(i["card_id"], i["full_name"], i["status"]) for i in snapshot["items"]] == [(patong, "In Patong", "ok")]

    ping(patong, 7.8980, 98.2990, 1)  # moved inside the viewport
    ping(phi_phi, 7.7410, 98.7790, 1)  # moved, but outside it
    update = console.positions.get(timeout=8)
    assert update["reset"] is False
    assert [(i["card_id"], i["lat"], i["lon"]) for i in update["items"]] == [(patong, 7.8980, 98.2990)]
    with pytest.raises(queue.Empty):  # the same position is not sent again
        console.positions.get(timeout=5)

    for bad in ({"bbox": "1,2,3"}, {"bbox": "98.4,7.7,98.2,8.1"}, {"bbox": [0, 0, 200, 10]}, {}, "x"):
        assert "error" in console.call("viewport", bad)
