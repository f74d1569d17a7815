"""The 191 center's REST API: incident list, detail, workflow, the map's positions, tracks, help nearby."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest

from backend.audit.service import entries
from backend.dispatch.models import IncidentKind, Severity

BASE = "/api/v1/dispatch"


@pytest.fixture
def dispatcher(auth) -> dict[str, str]:
    """Headers of a signed-in dispatcher (username ``dispatcher1``)."""
    return auth.headers("dispatcher")


def raise_incident(app, card_id: str, kind: IncidentKind = IncidentKind.SOS, severity: Severity = Severity.CRITICAL,
                   **kwargs) -> int:  # noqa: ANN001, ANN003
    """An incident raised the way the rules and the app raise them; returns its id."""
    from backend.dispatch.service import raise_incident as raise_
    from backend.extensions import db

    with app.app_context():
        incident, _ = raise_(card_id=card_id, kind=kind, severity=severity, lat=kwargs.pop("lat", 7.8961),
                             lon=kwargs.pop("lon", 98.2962), **kwargs)
        db.session.commit()
        return incident.id


def ping(app, card_id: str, lat: float, lon: float, minutes_ago: float = 5) -> None:  # noqa: ANN001
    """Store one fix for the card through the real tracking path."""
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.models_base import utcnow
    from backend.tracking.service import PingInput, record_pings

    with app.app_context():
        record_pings(card=db.session.get(Card, card_id), device_id=None, source="app", pings=[PingInput(
            client_id=str(uuid.uuid4()), lat=lat, lon=lon, recorded_at=utcnow() - timedelta(minutes=minutes_ago))])
        db.session.commit()


def audit_actions(app, card_id: str | None = None) -> list[str]:  # noqa: ANN001
    with app.app_context():
        return [e.action for e in entries(card_id=card_id, limit=500)][::-1]


URLS = [("get", f"{BASE}/incidents"), ("post", f"{BASE}/incidents"), ("get", f"{BASE}/incidents/1"),
        ("post", f"{BASE}/incidents/1/acknowledge"), ("post", f"{BASE}/incidents/1/dispatch"),
        ("post", f"{BASE}/incidents/1/resolve"), ("post", f"{BASE}/incidents/1/notes"),
        ("get", f"{BASE}/incidents/1/nearby"), ("get", f"{BASE}/positions?bbox=98,7,99,8.5"),
        ("get", f"{BASE}/cards/X/track")]


def test_only_dispatchers_and_admins(client, auth, factories, app):
    card_id = factories.card()
    raise_incident(app, card_id)
    hotel_id = factories.hotel()
    others = [auth.headers("immigration"), auth.headers("hotel_manager", hotel_id=hotel_id)]
    for method, url in URLS:
        assert getattr(client, method)(url, json={}).status_code == 401
        for headers in others:
            response = getattr(client, method)(url, json={"note": "x", "unit": "y"}, headers=headers)
            assert response.status_code == 403, (url, response.get_json())
    admin = auth.headers("admin")
    assert client.get(f"{BASE}/incidents/1", headers=admin).status_code == 200
    assert client.post(f"{BASE}/incidents/1/acknowledge", headers=admin).status_code == 200


def test_list_is_filtered_and_newest_first(client, dispatcher, factories, app):
    a, b, c, d = (factories.card() for _ in range(4))
    overdue = raise_incident(app, a, IncidentKind.OVERDUE, Severity.HIGH)
    danger = raise_incident(app, b, IncidentKind.DANGER_ZONE, Severity.HIGH)
    first_sos = raise_incident(app, c)
    second_sos = raise_incident(app, d)
    assert client.post(f"{BASE}/incidents/{danger}/resolve", headers=dispatcher).status_code == 200

    body = client.get(f"{BASE}/incidents", query_string={"status": "open"}, headers=dispatcher).get_json()
    assert [i["id"] for i in body["items"]] == [second_sos, first_sos, overdue]
    assert body["last_seq"] == 5 and body["next_cursor"] is None
    item = body["items"][0]
    assert {"id", "kind", "status", "severity", "card_id", "tourist", "lat", "lon", "created_at", "updated_at"} <= set(item)
    assert item["tourist"] == {"full_name": "Anna Schmidt", "latin_name": None, "nationality": "DEU",
                               "phone": "+49 30 1234567", "emergency_contact": None, "language": "en"}

    def ids(**query) -> list[int]:  # noqa: ANN003
        return [i["id"] for i in client.get(f"{BASE}/incidents", query_string=query, headers=dispatcher).get_json()["items"]]

    assert ids(status="closed") == ids(status="resolved") == [danger]
    assert ids(kind="overdue") == [overdue]
    assert ids(severity="high") == [danger, overdue]
    assert ids(status="open", kind="sos", limit=1) == [second_sos]
    assert ids(card_id=d) == [second_sos]
    assert ids() == [second_sos, first_sos, danger, overdue]
    for bad in ({"status": "opened"}, {"kind": "fire"}, {"severity": "extreme"}, {"limit": 0}, {"limit": 5000},
                {"limit": 201}, {"limit": "many"}):
        response = client.get(f"{BASE}/incidents", query_string=bad, headers=dispatcher)
        assert response.status_code == 422 and response.get_json()["errors"], bad
    assert "incident.list" in audit_actions(app)


def test_detail_has_timeline_holder_card_stay_and_last_position(client, dispatcher, factories, app):
    card_id = factories.card(full_name="Kenji Sato", nationality="JPN", phone="+81 90 1234 5678")
    hotel_id = factories.hotel(name="Kata Sea Breeze")
    with app.app_context():
        from backend.extensions import db
        from backend.hotels.models import Stay

        db.session.add(Stay(hotel_id=hotel_id, card_id=card_id, room="214"))
        db.session.commit()
    ping(app, card_id, 7.8200, 98.2980)
    incident_id = raise_incident(app, card_id, category="medical", note="chest pain")
    client.post(f"{BASE}/incidents/{incident_id}/notes", json={"note": "ambulance asked for"}, headers=dispatcher)

    response = client.get(f"{BASE}/incidents/{incident_id}", headers=dispatcher)
    assert response.status_code == 200
    body = response.get_json()
    assert body["holder"]["full_name"] == "Kenji Sato" and body["holder"]["phone"] == "+81 90 1234 5678"
    assert body["card"]["status"] == "active" and body["card"]["card_id"] == card_id
    assert body["stay"]["hotel"] == "Kata Sea Breeze" and body["stay"]["room"] == "214"
    assert body["last_position"]["lat"] == pytest.approx(7.82)
    assert [(e["kind"], e["actor"]) for e in body["timeline"]] == [("created", None), ("note", "dispatcher1")]
    assert body["timeline"][1]["text"] == "Note by dispatcher1: ambulance asked for"
    assert body["category"] == "medical" and body["note"] == "chest pain"
    assert audit_actions(app, card_id)[-2:] == ["incident.note", "incident.read"]
    assert client.get(f"{BASE}/incidents/999999", headers=dispatcher).status_code == 404


def test_workflow_steps_are_validated_audited_and_logged(client, dispatcher, factories, app):
    card_id = factories.card()
    incident_id = raise_incident(app, card_id)
    url = f"{BASE}/incidents/{incident_id}"

    for bad in ({}, {"unit": ""}, {"unit": "   "}, {"unit": "u" * 121}, {"unit": 5}, {"unit": "ok", "note": "n" * 2001}):
        response = client.post(f"{url}/dispatch", json=bad, headers=dispatcher)
        assert response.status_code == 422 and response.get_json()["errors"], bad
    assert client.post(f"{url}/notes", json={"note": " "}, headers=dispatcher).status_code == 422
    assert client.post(f"{url}/resolve", json={"resolution": "r" * 121}, headers=dispatcher).status_code == 422
    assert client.get(url, headers=dispatcher).get_json()["status"] == "new"  # refused requests changed nothing

    ack = client.post(f"{url}/acknowledge", json={"note": "calling the tourist"}, headers=dispatcher)
    assert ack.status_code == 200 and ack.get_json()["status"] == "acknowledged"
    assert ack.get_json()["acknowledged_at"]
    again = client.post(f"{url}/acknowledge", headers=dispatcher)
    assert again.status_code == 409 and "acknowledged" in again.get_json()["message"]
    sent = client.post(f"{url}/dispatch", json={"unit": "  Karon Police 1 "}, headers=dispatcher)
    assert sent.status_code == 200 and sent.get_json()["unit"] == {"name": "Karon Police 1"}
    done = client.post(f"{url}/resolve", json={"resolution": "found safe", "note": "at the hotel"}, headers=dispatcher)
    assert done.status_code == 200
    assert (done.get_json()["status"], done.get_json()["resolution"]) == ("resolved", "found safe")
    for step, body in (("resolve", {}), ("acknowledge", {}), ("dispatch", {"unit": "x"})):
        response = client.post(f"{url}/{step}", json=body, headers=dispatcher)
        assert response.status_code == 409, step
        assert response.get_json()["code"] == 409 and "resolved" in response.get_json()["message"]
    assert client.post(f"{BASE}/incidents/424242/resolve", headers=dispatcher).status_code == 404
    assert client.post(f"{BASE}/incidents/424242/notes", json={"note": "x"}, headers=dispatcher).status_code == 404

    timeline = client.get(url, headers=dispatcher).get_json()["timeline"]
    assert [e["kind"] for e in timeline] == ["created", "acknowledged", "dispatched", "resolved"]
    assert [e["text"] for e in timeline[1:]] == [
        "Acknowledged by dispatcher1: calling the tourist", "Dispatched Karon Police 1 by dispatcher1",
        "Resolved by dispatcher1: found safe (at the hotel)"]
    assert [a for a in audit_actions(app, card_id) if a != "incident.read"] == [
        "incident.acknowledged", "incident.dispatched", "incident.resolved"]


def test_two_dispatchers_acknowledging_at_once_one_wins(app, auth, factories):
    incident_id = raise_incident(app, factories.card())
    headers = [auth.headers("dispatcher"), auth.headers("dispatcher")]
    codes: list[int] = []
    barrier = threading.Barrier(2)

    def acknowledge(h: dict) -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(client.post(f"{BASE}/incidents/{incident_id}/acknowledge", headers=h).status_code)

    threads = [threading.Thread(target=acknowledge, args=(h,)) for h in headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]
    timeline = app.test_client().get(f"{BASE}/incidents/{incident_id}", headers=headers[0]).get_json()["timeline"]
    assert [e["kind"] for e in timeline] == ["created", "acknowledged"]


def test_events_commit_in_seq_order_so_a_resume_never_skips_one(app, factories):
    """A writer that takes a seq first commits first: a later seq is never visible before an earlier one."""
    from backend.dispatch.service import events_after
    from backend.dispatch.service import raise_incident as raise_
    from backend.extensions import db

    first_card, second_card = factories.card(), factories.card()
    first_has_seq = threading.Event()
    committed: list[tuple[str, int, float]] = []
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with app.app_context():
                incident, _ = raise_(card_id=first_card, kind=IncidentKind.SOS, severity=Severity.CRITICAL)
                seq = db.session.info["pts_incident_events"][-1]["seq"]
                first_has_seq.set()
                time.sleep(1.0)  # still open: a dispatcher resuming now must not see a later seq
                db.session.commit()
                committed.append(("slow", seq, time.monotonic()))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            first_has_seq.set()

    def fast_writer() -> None:
        try:
            with app.app_context():
                first_has_seq.wait()
                incident, _ = raise_(card_id=second_card, kind=IncidentKind.SOS, severity=Severity.CRITICAL)
                seq = db.session.info["pts_incident_events"][-1]["seq"]
                db.session.commit()
                committed.append(("fast", seq, time.monotonic()))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    slow, fast = threading.Thread(target=slow_writer), threading.Thread(target=fast_writer)
    slow.start()
    fast.start()
    time.sleep(0.5)  # the fast writer is waiting now; what a resuming dispatcher would see:
    with app.app_context():
        assert events_after(0) == []
        db.session.remove()
    slow.join()
    fast.join()
    assert errors == []
    assert [name for name, _, _ in committed] == ["slow", "fast"]
    assert committed[0][1] < committed[1][1]


def test_a_dispatcher_opens_an_incident_from_a_call(client, dispatcher, factories, app):
    card_id = factories.card()
    body = {"card_id": card_id, "kind": "sos", "lat": 7.7736, "lon": 98.3253, "category": "crime",
            "note": "caller reports a robbery"}
    created = client.post(f"{BASE}/incidents", json=body, headers=dispatcher)
    assert created.status_code == 201
    assert (created.get_json()["status"], created.get_json()["severity"]) == ("new", "critical")
    joined = client.post(f"{BASE}/incidents", json={"card_id": card_id, "note": "second call"}, headers=dispatcher)
    assert joined.status_code == 200 and joined.get_json()["id"] == created.get_json()["id"]
    assert joined.get_json()["note"] == "caller reports a robbery\nsecond call"
    overdue = client.post(f"{BASE}/incidents", json={"card_id": card_id, "kind": "overdue"}, headers=dispatcher)
    assert overdue.status_code == 201 and overdue.get_json()["severity"] == "high"
    for bad in ({"card_id": "NOPE"}, {}, {"card_id": card_id, "lat": 7.9}, {"card_id": card_id, "lat": 91, "lon": 98},
                {"card_id": card_id, "lat": 7.9, "lon": 181}, {"card_id": card_id, "kind": "fire"},
                {"card_id": card_id, "note": "x" * 2001}, {"card_id": card_id, "lat": "north", "lon": 98}):
        response = client.post(f"{BASE}/incidents", json=bad, headers=dispatcher)
        assert response.status_code == 422 and response.get_json()["errors"], bad
    assert len(client.get(f"{BASE}/incidents", headers=dispatcher).get_json()["items"]) == 2


def test_positions_in_the_viewport_with_each_tourists_status(client, dispatcher, factories, app):
    calm, in_trouble, offshore, closed = (factories.card(full_name=n) for n in ("Calm", "Trouble", "Offshore", "Left"))
    ping(app, calm, 7.8961, 98.2962)
    ping(app, in_trouble, 7.8200, 98.2980)
    ping(app, offshore, 7.7407, 98.7784)  # Phi Phi: outside the box below
    ping(app, closed, 7.8900, 98.3000)
    raise_incident(app, in_trouble)
    with app.app_context():
        from backend.cards.models import Card
        from backend.extensions import db

        db.session.get(Card, closed).status = "closed"  # tracking has stopped for this card
        db.session.commit()

    response = client.get(f"{BASE}/positions", query_string={"bbox": "98.25,7.75,98.45,8.2"}, headers=dispatcher)
    assert response.status_code == 200
    fc = response.get_json()
    assert fc["type"] == "FeatureCollection" and fc["truncated"] is False
    found = {f["properties"]["card_id"]: f for f in fc["features"]}
    assert set(found) == {calm, in_trouble}
    assert found[calm]["geometry"] == {"type": "Point", "coordinates": [98.2962, 7.8961]}
    assert found[calm]["properties"]["status"] == "ok" and found[in_trouble]["properties"]["status"] == "sos"
    assert found[calm]["properties"]["full_name"] == "Calm" and found[calm]["properties"]["recorded_at"]
    capped = client.get(f"{BASE}/positions", query_string={"bbox": "98.25,7.75,98.45,8.2", "limit": 1},
                        headers=dispatcher).get_json()
    assert len(capped["features"]) == 1 and capped["truncated"] is True
    for bad in ("", "98,7,99", "98,7,99,8,1", "a,b,c,d", "99,7,98,8", "98,8,99,7", "98,-91,99,8", "-181,7,99,8",
                "nan,7,99,8", "98,7,inf,8"):
        response = client.get(f"{BASE}/positions", query_string={"bbox": bad}, headers=dispatcher)
        assert response.status_code == 422 and response.get_json()["errors"]["query"]["bbox"], bad
    assert client.get(f"{BASE}/positions", headers=dispatcher).status_code == 422
    assert "positions.read" in audit_actions(app)


def test_a_tourists_recent_track(client, dispatcher, factories, app):
    card_id = factories.card()
    for minutes, lat in ((200, 7.80), (90, 7.81), (30, 7.82)):
        ping(app, card_id, lat, 98.30, minutes_ago=minutes)
    response = client.get(f"{BASE}/cards/{card_id}/track", query_string={"hours": 2}, headers=dispatcher)
    assert response.status_code == 200
    body = response.get_json()
    assert body["card_id"] == card_id
    assert [f["geometry"]["coordinates"] for f in body["features"]] == [[98.30, 7.81], [98.30, 7.82]]
    assert len(client.get(f"{BASE}/cards/{card_id}/track", headers=dispatcher).get_json()["features"]) == 3
    assert client.get(f"{BASE}/cards/NOPE/track", headers=dispatcher).status_code == 404
    for hours in (0, -1, 1000, "x"):
        assert client.get(f"{BASE}/cards/{card_id}/track", query_string={"hours": hours},
                          headers=dispatcher).status_code == 422
    assert audit_actions(app, card_id)[-1] == "card.track.read"


def test_help_nearest_to_the_incident(client, dispatcher, factories, app, runner):
    with app.app_context():
        assert runner.invoke(args=["seed"]).exit_code == 0
    card_id = factories.card()
    patong = raise_incident(app, card_id, lat=7.8961, lon=98.2962)
    items = client.get(f"{BASE}/incidents/{patong}/nearby", headers=dispatcher).get_json()["items"]
    kinds = [i["kind"] for i in items]
    assert sorted(kinds) == ["hospital", "hospital", "marine_police", "police", "tourist_police"]
    distances = [i["distance_m"] for i in items]
    assert distances == sorted(distances) and distances[0] < 5_000
    assert all(i["name"] and -90 <= i["lat"] <= 90 for i in items)
    nowhere = raise_incident(app, factories.card(), IncidentKind.OVERDUE, Severity.HIGH, lat=None, lon=None)
    assert client.get(f"{BASE}/incidents/{nowhere}/nearby", headers=dispatcher).get_json() == {"items": []}


def test_console_page_is_served_with_the_tile_url(client, app):
    response = client.get("/console")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert app.config["TILE_URL"] in html
    assert "/vendor/socket.io/socket.io.min.js" in html and "/static/notifications/broadcasts.js" in html
    for path in ("/static/dispatch/console.js", "/static/dispatch/console.css"):
        with client.get(path) as asset:
            assert asset.status_code == 200 and asset.get_data()
