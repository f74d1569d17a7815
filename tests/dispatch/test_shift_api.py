"""The 191 center for a whole shift: search and paging, the representation, statement counts, units,
measured response, zone mutes, a readable timeline with the track, and phone intake (both databases)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from backend.audit.service import entries
from backend.dispatch.models import IncidentKind, Severity

BASE = "/api/v1/dispatch"


@pytest.fixture
def dispatcher(auth) -> dict[str, str]:
    """Headers of a signed-in dispatcher (username ``dispatcher1``)."""
    return auth.headers("dispatcher")


def raise_incident(app, card_id: str, kind: IncidentKind = IncidentKind.SOS, severity: Severity = Severity.CRITICAL,
                   **kwargs) -> int:  # noqa: ANN001, ANN003
    """An incident raised through the dispatch service; returns its id."""
    from backend.dispatch.service import raise_incident as raise_
    from backend.extensions import db

    with app.app_context():
        incident, _ = raise_(card_id=card_id, kind=kind, severity=severity, lat=kwargs.pop("lat", 7.8961),
                             lon=kwargs.pop("lon", 98.2962), **kwargs)
        db.session.commit()
        return incident.id


def set_holder(app, card_id: str, **values) -> None:  # noqa: ANN001, ANN003
    """Change the card holder's row (latin name, passport, emergency contact …)."""
    from backend.cards.models import Card
    from backend.extensions import db

    with app.app_context():
        tourist = db.session.get(Card, card_id).tourist
        for key, value in values.items():
            setattr(tourist, key, value)
        db.session.commit()


def ping(app, card_id: str, lat: float, lon: float, minutes_ago: float = 5) -> None:  # noqa: ANN001
    """Store one fix for the card through the real tracking path (rules included)."""
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.models_base import utcnow
    from backend.tracking.service import PingInput, record_pings

    with app.app_context():
        record_pings(card=db.session.get(Card, card_id), device_id=None, source="app", pings=[PingInput(
            client_id=str(uuid.uuid4()), lat=lat, lon=lon, recorded_at=utcnow() - timedelta(minutes=minutes_ago))])
        db.session.commit()


def ids(client, headers, **query) -> list[int]:  # noqa: ANN001, ANN003
    response = client.get(f"{BASE}/incidents", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [i["id"] for i in response.get_json()["items"]]


def seed(app, runner) -> None:  # noqa: ANN001
    with app.app_context():
        result = runner.invoke(args=["seed"])
        assert result.exit_code == 0, result.output


def zone_id(app, slug: str) -> int:  # noqa: ANN001
    from sqlalchemy import select

    from backend.extensions import db
    from geo.models import Zone

    with app.app_context():
        return db.session.scalar(select(Zone.id).where(Zone.slug == slug))


# --- search ----------------------------------------------------------------------------------

def test_q_finds_names_in_any_script_card_ids_passports_and_phones(client, dispatcher, factories, app):
    ivan = factories.card(full_name="Иван Петров", nationality="RUS", phone="+7 912 345-67-89")
    set_holder(app, ivan, latin_name="PETROV IVAN", passport_number="753123456")
    taro = factories.card(full_name="山田太郎", nationality="JPN", phone=None)
    set_holder(app, taro, latin_name="YAMADA TARO")
    somchai = factories.card(full_name="Somchai Jaidee", nationality="THA", phone="081 234 5678")
    anna = factories.card(full_name="Anna MÜLLER", nationality="DEU", phone="+66 81 999 8888")
    incidents = {name: raise_incident(app, card) for name, card in
                 (("ivan", ivan), ("taro", taro), ("somchai", somchai), ("anna", anna))}

    def found(q: str) -> set[str]:
        hits = set(ids(client, dispatcher, q=q))
        return {name for name, incident in incidents.items() if incident in hits}

    assert found("иван") == found("ИВАН") == found("петров") == {"ivan"}
    assert found("petrov") == found("Ivan") == {"ivan"}  # the passport's Latin-script name
    assert found("山田") == found("yamada taro") == {"taro"}
    assert found("müller") == found("MÜLLER") == found("Müll") == {"anna"}
    display = f"{anna[:3]}-{anna[3:6]}-{anna[6:]}".lower()
    assert found(display) == found(f" {anna.lower()} ") == {"anna"}  # card id as typed
    assert found("753 123 456") == found("753123456") == {"ivan"}  # passport, spaces ignored
    assert found("+66 81 234 5678") == found("0812345678") == found("081-234-5678") == {"somchai"}
    assert found("081 999 8888") == found("+66819998888") == {"anna"}  # national ⇄ +66
    assert found("+7 912 345 67 89") == {"ivan"}
    assert found("nobody at all") == found("%") == found("_") == set()  # no wildcards
    with app.app_context():
        assert entries(action="incident.list", limit=1)[0].detail["filters"] == {"q": "_"}  # the search is audited


def test_filters_combine(client, dispatcher, factories, app):
    a, b, c = (factories.card(full_name=n) for n in ("Alice Walker", "Bob Stone", "Carol Alice"))
    sos_a = raise_incident(app, a)
    danger_b = raise_incident(app, b, IncidentKind.DANGER_ZONE, Severity.HIGH)
    overdue_c = raise_incident(app, c, IncidentKind.OVERDUE, Severity.MEDIUM)
    left_a = raise_incident(app, a, IncidentKind.LEFT_AREA, Severity.HIGH)
    assert client.post(f"{BASE}/incidents/{danger_b}/acknowledge", headers=dispatcher).status_code == 200
    assert client.post(f"{BASE}/incidents/{left_a}/resolve", headers=dispatcher).status_code == 200
    with app.app_context():
        from backend.dispatch.models import IncidentStatus
        from backend.dispatch.service import change_status
        from backend.extensions import db

        change_status(incident_id=overdue_c, to=IncidentStatus.CANCELLED, actor="system")
        db.session.commit()

    assert ids(client, dispatcher, status="open") == [danger_b, sos_a]
    assert ids(client, dispatcher, status="closed") == [left_a, overdue_c]
    assert ids(client, dispatcher, status="any") == ids(client, dispatcher) == [left_a, overdue_c, danger_b, sos_a]
    assert ids(client, dispatcher, status="new,cancelled") == [overdue_c, sos_a]
    assert ids(client, dispatcher, status="acknowledged,resolved") == [left_a, danger_b]
    assert ids(client, dispatcher, kind="sos,left_area") == [left_a, sos_a]
    assert ids(client, dispatcher, severity="high") == [left_a, danger_b]
    assert ids(client, dispatcher, severity="critical,medium") == [overdue_c, sos_a]
    assert ids(client, dispatcher, q="alice") == [left_a, overdue_c, sos_a]
    assert ids(client, dispatcher, q="alice", status="open") == [sos_a]
    assert ids(client, dispatcher, q="alice", kind="overdue,danger_zone", status="closed") == [overdue_c]
    assert ids(client, dispatcher, q="alice", severity="high", status="any") == [left_a]

    with app.app_context():
        from backend.dispatch.models import Incident

        times = {i: db.session.get(Incident, i).created_at for i in (sos_a, danger_b, overdue_c, left_a)}
    after_first = (times[sos_a] + timedelta(microseconds=1)).isoformat()
    assert ids(client, dispatcher, since=times[danger_b].isoformat()) == [left_a, overdue_c, danger_b]
    assert ids(client, dispatcher, until=times[overdue_c].isoformat()) == [danger_b, sos_a]  # until is exclusive
    assert ids(client, dispatcher, since=after_first, until=times[left_a].isoformat(), q="alice") == [overdue_c]
    bangkok = times[danger_b].astimezone(__import__("zoneinfo").ZoneInfo("Asia/Bangkok")).isoformat()
    assert ids(client, dispatcher, since=bangkok) == [left_a, overdue_c, danger_b]  # any offset


def test_bad_filters_are_422_and_change_nothing(client, dispatcher, factories, app):
    raise_incident(app, factories.card())
    junk_cursor = base64.urlsafe_b64encode(json.dumps(["yesterday", 1]).encode()).decode()
    naive_cursor = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00", 1]).encode()).decode()
    negative_cursor = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00+00:00", -1]).encode()).decode()
    for bad in ({"limit": 0}, {"limit": 201}, {"limit": -5}, {"limit": "ten"}, {"limit": "1e3"},
                {"status": "opened"}, {"status": "open,nope"}, {"status": ","}, {"kind": "fire"},
                {"kind": "sos,fire"}, {"severity": "extreme"}, {"severity": "High"},
                {"cursor": "abc"}, {"cursor": "!!!"}, {"cursor": junk_cursor}, {"cursor": naive_cursor},
                {"cursor": negative_cursor}, {"cursor": "x" * 500},
                {"since": "yesterday"}, {"since": "2026-01-01T00:00:00"}, {"until": "2026-13-01T00:00:00Z"},
                {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, {"q": "x" * 101}, {"q": ""}, {"q": "   "}):
        response = client.get(f"{BASE}/incidents", query_string=bad, headers=dispatcher)
        body = response.get_json()
        assert response.status_code == 422 and body["code"] == 422 and body["errors"]["query"], (bad, body)
    assert client.get(f"{BASE}/incidents", headers={}).status_code == 401


def _bulk_incidents(app, card_id: str, count: int, *, start: datetime) -> list[tuple[datetime, int]]:  # noqa: ANN001
    """``count`` closed incidents, several sharing a created_at (ties broken by id); returns (created_at, id)."""
    from backend.dispatch.models import Incident
    from backend.extensions import db

    with app.app_context():
        rows = [Incident(card_id=card_id, kind="sos", status="resolved", severity="critical", lat=7.9, lon=98.3,
                         created_at=start + timedelta(seconds=i // 3), updated_at=start, resolved_at=start)
                for i in range(count)]
        db.session.add_all(rows)
        db.session.commit()
        return [(r.created_at, r.id) for r in rows]


def test_paging_through_120_incidents_newest_first_without_duplicates_or_gaps(client, dispatcher, factories, app):
    card_id = factories.card()
    made = _bulk_incidents(app, card_id, 120, start=datetime.now(UTC) - timedelta(hours=3))
    expected = [i for _, i in sorted(made, key=lambda t: (t[0], t[1]), reverse=True)]

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": 25, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{BASE}/incidents", query_string=query, headers=dispatcher).get_json()
        seen.extend(i["id"] for i in body["items"])
        pages += 1
        if pages == 2:  # new incidents arrive while the dispatcher pages back: later pages do not shift
            raise_incident(app, factories.card())
            _bulk_incidents(app, card_id, 3, start=datetime.now(UTC))
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["items"]) == 25
    assert pages == 5
    assert seen == expected  # every one once, in order: no duplicates, no gaps
    whole = client.get(f"{BASE}/incidents", query_string={"limit": 200}, headers=dispatcher).get_json()
    assert len(whole["items"]) == 124 and whole["next_cursor"] is None
    exact = client.get(f"{BASE}/incidents", query_string={"limit": 124}, headers=dispatcher).get_json()
    assert exact["next_cursor"] is None
    default = client.get(f"{BASE}/incidents", headers=dispatcher).get_json()
    assert len(default["items"]) == 50 and default["next_cursor"]
    filtered = client.get(f"{BASE}/incidents", query_string={"status": "closed", "limit": 100,
                                                             "cursor": default["next_cursor"]},
                          headers=dispatcher).get_json()
    assert [i["id"] for i in filtered["items"]] == [i["id"] for i in whole["items"][50:150]
                                                    if i["status"] == "resolved"][:100]


# --- the representation and statement counts ------------------------------------------------

def test_the_representation_carries_unit_who_and_when_muted_and_the_holder(client, dispatcher, factories, app,
                                                                           runner):
    seed(app, runner)
    card_id = factories.card(full_name="Ольга Смирнова", nationality="RUS", phone="+7 999 000 11 22")
    set_holder(app, card_id, latin_name="SMIRNOVA OLGA", emergency_contact="Pavel +7 999 000 33 44")
    incident_id = raise_incident(app, card_id)
    client.post(f"{BASE}/incidents/{incident_id}/acknowledge", headers=dispatcher)
    units = client.get(f"{BASE}/units", headers=dispatcher).get_json()["items"]
    unit = next(u for u in units if u["name"] == "Patong Hospital")
    body = client.post(f"{BASE}/incidents/{incident_id}/dispatch", json={"unit_id": unit["id"]},
                       headers=dispatcher).get_json()
    assert body["unit"] == {"id": unit["id"], "name": "Patong Hospital", "agency": "hospital"}
    assert body["acknowledged_by"] == body["dispatched_by"] == "dispatcher1" and body["resolved_by"] is None
    assert body["acknowledged_at"] and body["dispatched_at"] and body["resolved_at"] is None
    assert body["muted"] is False
    assert body["tourist"] == {"full_name": "Ольга Смирнова", "latin_name": "SMIRNOVA OLGA", "nationality": "RUS",
                               "phone": "+7 999 000 11 22", "emergency_contact": "Pavel +7 999 000 33 44",
                               "language": "en"}
    done = client.post(f"{BASE}/incidents/{incident_id}/resolve", json={"resolution": "treated"},
                       headers=dispatcher).get_json()
    assert done["resolved_by"] == "dispatcher1" and done["resolved_at"]
    listed = client.get(f"{BASE}/incidents", query_string={"q": "olga"}, headers=dispatcher).get_json()["items"][0]
    detail = client.get(f"{BASE}/incidents/{incident_id}", headers=dispatcher).get_json()
    assert listed == done == {k: detail[k] for k in listed}


class StatementCounter:
    """Counts the SQL statements the engine runs while active."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine, self.count = engine, 0

    def _count(self, *_args) -> None:  # noqa: ANN002
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc) -> None:  # noqa: ANN002
        event.remove(self.engine, "before_cursor_execute", self._count)


def _mixed_incidents(app, factories, count: int, zone: int, unit_id: int) -> list[int]:  # noqa: ANN001
    """``count`` open incidents of every kind, with zones, listed and free-text units."""
    from backend.dispatch.models import IncidentStatus
    from backend.dispatch.service import change_status
    from backend.extensions import db

    made = []
    kinds = [(IncidentKind.SOS, {}), (IncidentKind.DANGER_ZONE, {"zone_id": zone}), (IncidentKind.OVERDUE, {}),
             (IncidentKind.LEFT_AREA, {}), (IncidentKind.DANGER_ZONE, {"zone_id": zone})]
    for n in range(count):
        kind, extra = kinds[n % len(kinds)]
        incident_id = raise_incident(app, factories.card(full_name=f"Tourist {n}"), kind, Severity.HIGH, **extra)
        with app.app_context():
            if n % 5 == 1:
                change_status(incident_id=incident_id, to=IncidentStatus.DISPATCHED, actor="d", unit_id=unit_id)
            elif n % 5 == 2:
                change_status(incident_id=incident_id, to=IncidentStatus.DISPATCHED, actor="d", unit="Boat 7")
            db.session.commit()
        made.append(incident_id)
    return made


def test_listing_5_or_50_open_incidents_costs_the_same_few_statements(client, dispatcher, factories, app, runner):
    from backend.extensions import db

    seed(app, runner)
    zone = zone_id(app, "rip-patong")
    units = client.get(f"{BASE}/units", headers=dispatcher).get_json()["items"]
    client.post(f"{BASE}/zones/{zone}/mute", json={"minutes": 30, "reason": "red flags"}, headers=dispatcher)
    counts = []
    for total in (5, 50):
        _mixed_incidents(app, factories, 5 if not counts else 45, zone, units[0]["id"])
        with app.app_context():
            engine = db.engine
        with StatementCounter(engine) as counter:
            response = client.get(f"{BASE}/incidents", query_string={"status": "open", "limit": 200},
                                  headers=dispatcher)
        assert response.status_code == 200
        items = response.get_json()["items"]
        assert len(items) == total
        assert all(i["tourist"]["full_name"].startswith("Tourist") for i in items)
        assert {i["muted"] for i in items if i["kind"] == "danger_zone"} == {True}
        assert {i["muted"] for i in items if i["kind"] != "danger_zone"} == {False}
        assert any(i["unit"] == {"name": "Boat 7"} for i in items) and any(i["unit"] and "id" in i["unit"]
                                                                           for i in items)
        assert all(i["zone"]["name"] == "Patong Beach rip currents" for i in items if i["kind"] == "danger_zone")
        counts.append(counter.count)
    assert counts[0] == counts[1] and counts[0] <= 10, counts


def test_a_boats_many_unaccounted_passengers_cost_no_more_statements_than_a_few(client, dispatcher, factories, app):
    from backend.extensions import db
    from backend.marine.models import Operator, Trip

    with app.app_context():
        operator = Operator(name="Andaman Test Tours")
        now = datetime.now(UTC)
        trip = Trip(operator=operator, vessel_name="Sea Star 2", vessel_registration="PKT-0042", pier="RASSADA",
                    destination="Phi Phi", departs_at=now - timedelta(hours=8), returns_by=now - timedelta(hours=1),
                    status="returned")
        db.session.add(trip)
        db.session.commit()
        trip_id = trip.id
    counts = []
    for more in (3, 27):
        for _ in range(more):
            raise_incident(app, factories.card(), IncidentKind("passenger_unaccounted"), Severity.CRITICAL,
                           trip_id=trip_id)
        with app.app_context():
            engine = db.engine
        with StatementCounter(engine) as counter:
            items = client.get(f"{BASE}/incidents", query_string={"limit": 200}, headers=dispatcher).get_json()["items"]
        assert len(items) == (3 if not counts else 30)
        assert {i["trip"]["vessel_name"] for i in items} == {"Sea Star 2"}
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_the_detail_costs_the_same_statements_however_long_its_timeline_and_track(client, dispatcher, factories,
                                                                                 app):
    from backend.extensions import db

    counts = []
    for notes in (5, 50):
        card_id = factories.card()
        incident_id = raise_incident(app, card_id)
        for n in range(notes):
            client.post(f"{BASE}/incidents/{incident_id}/notes", json={"note": f"call {n}"}, headers=dispatcher)
            ping(app, card_id, 7.89 + n / 10_000, 98.29, minutes_ago=notes - n)
        with app.app_context():
            engine = db.engine
        with StatementCounter(engine) as counter:
            body = client.get(f"{BASE}/incidents/{incident_id}", headers=dispatcher).get_json()
        assert len(body["timeline"]) == notes + 1 and len(body["track"]) == notes
        counts.append(counter.count)
    assert counts[0] == counts[1] and counts[0] <= 12, counts


# --- units ------------------------------------------------------------------------------------

def test_units_are_seeded_listed_nearest_first_and_added_by_admins(client, dispatcher, auth, factories, app, runner):
    seed(app, runner)
    with app.app_context():
        again = runner.invoke(args=["seed"])
    assert "units: 0 created, 0 updated" in again.output  # idempotent
    everything = client.get(f"{BASE}/units", headers=dispatcher).get_json()["items"]
    names = {u["name"] for u in everything}
    assert {"Tourist Police Phuket", "Marine Police Phuket (Rassada)", "Vachira Phuket Hospital", "Patong Hospital",
            "Bangkok Hospital Phuket", "Kusoldharm Foundation rescue Phuket",
            "Thai Maritime Enforcement Command Center Region 3", "Royal Thai Police 191 Phuket"} <= names
    assert {u["agency"] for u in everything} == {"police", "tourist_police", "marine_police", "hospital", "rescue",
                                                 "maritime_enforcement"}
    assert all(u["distance_km"] is None for u in everything)

    near = client.get(f"{BASE}/units", query_string={"near": "7.8961,98.2962"}, headers=dispatcher).get_json()["items"]
    based = [u for u in near if u["base"] is not None]
    assert near[:len(based)] == based and all(u["distance_km"] is None for u in near[len(based):])
    distances = [u["distance_km"] for u in based]
    assert distances == sorted(distances) and distances[0] < 1.0  # Patong's police, 200 m from the beach
    assert near[0]["name"] in {"Patong Police Station", "Patong Tourist Police"}
    assert {u["name"] for u in near[:4]} >= {"Patong Hospital"}
    hospitals = client.get(f"{BASE}/units", query_string={"near": "7.8938,98.3882", "agency": "hospital"},
                           headers=dispatcher).get_json()["items"]
    assert hospitals[0]["name"] == "Vachira Phuket Hospital" and hospitals[0]["distance_km"] == 0.0
    assert {u["agency"] for u in hospitals} == {"hospital"}

    admin = auth.headers("admin")
    body = {"name": "Kamala rescue boat", "agency": "rescue", "phone": "+66 76 123 456",
            "base": {"lat": 7.9560, "lon": 98.2820}}
    created = client.post(f"{BASE}/units", json=body, headers=admin)
    assert created.status_code == 201, created.get_json()
    unit = created.get_json()
    assert unit == {"id": unit["id"], "name": "Kamala rescue boat", "agency": "rescue", "phone": "+66 76 123 456",
                    "base": {"lat": 7.956, "lon": 98.282}, "distance_km": None}
    assert client.post(f"{BASE}/units", json={**body, "name": "KAMALA RESCUE BOAT"}, headers=admin).status_code == 409
    with app.app_context():
        assert entries(action="unit.create", limit=5)[0].subject_id == str(unit["id"])
    for bad in ({}, {"name": "x"}, {"agency": "rescue"}, {"name": "", "agency": "rescue"},
                {"name": "n" * 121, "agency": "rescue"}, {"name": "x", "agency": "army"},
                {"name": "x", "agency": "rescue", "phone": "call me"}, {"name": 5, "agency": "rescue"},
                {"name": "x", "agency": "rescue", "base": {"lat": 91, "lon": 98}},
                {"name": "x", "agency": "rescue", "base": {"lat": 7.9}},
                {"name": "x", "agency": "rescue", "base": "Patong"}, {"name": "x" * 200_000, "agency": "rescue"}):
        response = client.post(f"{BASE}/units", json=bad, headers=admin)
        assert response.status_code in (413, 422) and response.get_json()["code"] == response.status_code, bad
    for near_bad in ("7.9", "7.9,98.3,1", "north,east", "91,98", "7.9,181", "nan,98", "inf,98"):
        response = client.get(f"{BASE}/units", query_string={"near": near_bad}, headers=dispatcher)
        assert response.status_code == 422 and response.get_json()["errors"]["query"]["near"], near_bad
    assert client.get(f"{BASE}/units", query_string={"agency": "army"}, headers=dispatcher).status_code == 422
    assert len(client.get(f"{BASE}/units", headers=dispatcher).get_json()["items"]) == len(everything) + 1

    hotel_id = factories.hotel()
    for headers in (dispatcher, auth.headers("immigration"), auth.headers("hotel_manager", hotel_id=hotel_id)):
        assert client.post(f"{BASE}/units", json=body | {"name": "other"}, headers=headers).status_code == 403
    for headers in (auth.headers("immigration"), auth.headers("hotel_manager", hotel_id=hotel_id)):
        assert client.get(f"{BASE}/units", headers=headers).status_code == 403
    assert client.get(f"{BASE}/units").status_code == 401


def test_admins_change_and_remove_units_and_incidents_keep_the_name(client, dispatcher, auth, factories, app):
    admin = auth.headers("admin")
    made = client.post(f"{BASE}/units", json={"name": "Rawai rescue", "agency": "rescue", "phone": "1669",
                                              "base": {"lat": 7.78, "lon": 98.33}}, headers=admin).get_json()
    other = client.post(f"{BASE}/units", json={"name": "Kata rescue", "agency": "rescue"}, headers=admin).get_json()
    url = f"{BASE}/units/{made['id']}"
    changed = client.patch(url, json={"name": "Rawai rescue team", "phone": None, "base": {"lat": 7.779, "lon": 98.325}},
                           headers=admin)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json() == {"id": made["id"], "name": "Rawai rescue team", "agency": "rescue", "phone": None,
                                  "base": {"lat": 7.779, "lon": 98.325}, "distance_km": None}
    assert client.patch(url, json={"base": None}, headers=admin).get_json()["base"] is None
    for bad in ({}, {"name": ""}, {"agency": "navy"}, {"phone": "x"}, {"base": {"lat": 7.9, "lon": 200}},
                {"name": "n" * 121}):
        response = client.patch(url, json=bad, headers=admin)
        assert response.status_code == 422 and response.get_json()["errors"], bad
    assert client.patch(url, json={"name": "kata RESCUE"}, headers=admin).status_code == 409
    assert client.patch(f"{BASE}/units/999999", json={"name": "x"}, headers=admin).status_code == 404
    assert client.patch(url, json={"name": "x"}, headers=dispatcher).status_code == 403
    assert client.delete(url, headers=dispatcher).status_code == 403

    incident_id = raise_incident(app, factories.card())
    client.post(f"{BASE}/incidents/{incident_id}/dispatch", json={"unit_id": made["id"]}, headers=dispatcher)
    assert client.delete(url, headers=admin).status_code == 204
    assert client.delete(url, headers=admin).status_code == 404
    assert [u["id"] for u in client.get(f"{BASE}/units", headers=dispatcher).get_json()["items"]] == [other["id"]]
    again = client.post(f"{BASE}/units", json={"name": "Patong rescue", "agency": "rescue"}, headers=admin).get_json()
    detail = client.get(f"{BASE}/incidents/{incident_id}", headers=dispatcher).get_json()
    assert detail["unit"] == {"name": "Rawai rescue team"}  # not the unit that came after it
    assert again["id"] != other["id"]
    with app.app_context():
        assert [e.action for e in entries(limit=10) if e.action.startswith("unit.")][:3] == [
            "unit.create", "unit.delete", "unit.update"]


def test_dispatch_by_unit_id_or_free_text(client, dispatcher, factories, app, runner):
    seed(app, runner)
    units = {u["name"]: u for u in client.get(f"{BASE}/units", headers=dispatcher).get_json()["items"]}
    tourist_police = units["Tourist Police Phuket"]
    incident_id = raise_incident(app, factories.card())
    url = f"{BASE}/incidents/{incident_id}/dispatch"
    for bad in ({"unit_id": 999_999}, {"unit_id": "1"}, {"unit_id": 0}, {"unit_id": -3}, {"unit_id": 2**31},
                {"unit_id": True}, {"unit_id": tourist_police["id"], "unit": "also text"}, {}, {"note": "x"}):
        response = client.post(url, json=bad, headers=dispatcher)
        assert response.status_code == 422 and response.get_json()["errors"], bad
    unknown = client.post(url, json={"unit_id": 999_999}, headers=dispatcher).get_json()
    assert unknown["errors"] == {"json": {"unit_id": ["no unit has this id"]}}
    unchanged = client.get(f"{BASE}/incidents/{incident_id}", headers=dispatcher).get_json()
    assert unchanged["status"] == "new" and unchanged["unit"] is None and len(unchanged["timeline"]) == 1

    sent = client.post(url, json={"unit_id": tourist_police["id"], "note": "two officers"}, headers=dispatcher)
    assert sent.status_code == 200
    assert sent.get_json()["unit"] == {"id": tourist_police["id"], "name": "Tourist Police Phuket",
                                       "agency": "tourist_police"}
    detail = client.get(f"{BASE}/incidents/{incident_id}", headers=dispatcher).get_json()
    assert detail["timeline"][-1]["text"] == "Dispatched Tourist Police Phuket by dispatcher1: two officers"
    assert client.post(f"{BASE}/incidents/424242/dispatch", json={"unit_id": tourist_police["id"]},
                       headers=dispatcher).status_code == 404
    other = raise_incident(app, factories.card())
    free = client.post(f"{BASE}/incidents/{other}/dispatch", json={"unit": "Kata lifeguards"}, headers=dispatcher)
    assert free.get_json()["unit"] == {"name": "Kata lifeguards"}


# --- measured response ------------------------------------------------------------------------

def _timed_incident(app, card_id: str, *, created: datetime, kind: str = "sos", ack_s: float | None = None,  # noqa: ANN001
                    dispatch_s: float | None = None, resolve_s: float | None = None) -> int:
    from backend.dispatch.models import Incident
    from backend.extensions import db

    status = "resolved" if resolve_s is not None else "dispatched" if dispatch_s is not None else \
        "acknowledged" if ack_s is not None else "new"
    with app.app_context():
        row = Incident(card_id=card_id, kind=kind, status=status, severity="high", created_at=created,
                       updated_at=created,
                       acknowledged_at=None if ack_s is None else created + timedelta(seconds=ack_s),
                       dispatched_at=None if dispatch_s is None else created + timedelta(seconds=dispatch_s),
                       resolved_at=None if resolve_s is None else created + timedelta(seconds=resolve_s))
        db.session.add(row)
        db.session.commit()
        return row.id


def test_stats_are_the_hand_computed_percentiles_of_the_window(client, dispatcher, auth, factories, app):
    now = datetime.now(UTC).replace(microsecond=0)
    # ten incidents in the last 24 h; ack after 1..10 s for eight of them, dispatch and resolve for some
    acks = [4, 1, 9, 2, 7, 3, 10, 5]
    for n, ack in enumerate(acks):
        _timed_incident(app, factories.card(), created=now - timedelta(hours=1, minutes=n), ack_s=ack,
                        dispatch_s=ack * 10 if n < 5 else None, resolve_s=ack * 100 if n < 3 else None)
    _timed_incident(app, factories.card(), created=now - timedelta(hours=2), kind="danger_zone")
    _timed_incident(app, factories.card(), created=now - timedelta(hours=2), kind="overdue", dispatch_s=30)  # no ack
    _timed_incident(app, factories.card(), created=now - timedelta(hours=30), ack_s=999)  # outside the default window

    body = client.get(f"{BASE}/stats", headers=dispatcher).get_json()
    assert body["incidents"] == {"total": 10, "by_kind": {"sos": 8, "danger_zone": 1, "overdue": 1},
                                 "by_status": {"resolved": 3, "dispatched": 3, "acknowledged": 3, "new": 1}}
    # acks sorted: 1 2 3 4 5 7 9 10 -> nearest rank p50 = 4th = 4, p90 = ceil(7.2) = 8th = 10
    assert body["time_to_acknowledge_s"] == {"p50": 4.0, "p90": 10.0, "max": 10.0}
    # dispatch: 40 10 90 20 70 and 30 -> sorted 10 20 30 40 70 90: p50 = 3rd = 30, p90 = ceil(5.4) = 6th = 90
    assert body["time_to_dispatch_s"] == {"p50": 30.0, "p90": 90.0, "max": 90.0}
    # resolve: 400 100 900 -> sorted 100 400 900: p50 = 2nd = 400, p90 = 3rd = 900
    assert body["time_to_resolve_s"] == {"p50": 400.0, "p90": 900.0, "max": 900.0}

    window = {"since": (now - timedelta(hours=31)).isoformat(), "until": (now - timedelta(hours=29)).isoformat()}
    old = client.get(f"{BASE}/stats", query_string=window, headers=dispatcher).get_json()
    assert old["incidents"]["total"] == 1 and old["time_to_acknowledge_s"] == {"p50": 999.0, "p90": 999.0,
                                                                                "max": 999.0}
    assert old["time_to_dispatch_s"] == {"p50": None, "p90": None, "max": None}
    empty = client.get(f"{BASE}/stats", query_string={"since": "2020-01-01T00:00:00Z",
                                                        "until": "2020-01-02T00:00:00+07:00"},
                       headers=dispatcher).get_json()
    assert empty["incidents"] == {"total": 0, "by_kind": {}, "by_status": {}}
    assert empty["time_to_resolve_s"] == {"p50": None, "p90": None, "max": None}
    since_only = client.get(f"{BASE}/stats", query_string={"since": (now - timedelta(hours=1, minutes=3)).isoformat()},
                            headers=dispatcher).get_json()
    assert since_only["incidents"]["total"] == 4  # since + 24 h, capped by nothing newer
    for bad in ({"since": "today"}, {"until": "2026-01-01T00:00:00"}, {"since": "2026-01-02T00:00:00Z",
                                                                       "until": "2026-01-01T00:00:00Z"},
                {"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}):
        response = client.get(f"{BASE}/stats", query_string=bad, headers=dispatcher)
        assert response.status_code == 422 and response.get_json()["errors"], bad
    hotel_id = factories.hotel()
    assert client.get(f"{BASE}/stats", headers=auth.headers("hotel_manager", hotel_id=hotel_id)).status_code == 403
    assert client.get(f"{BASE}/stats").status_code == 401


# --- zone mutes -------------------------------------------------------------------------------

def test_a_muted_zones_danger_alerts_are_still_raised_and_marked_muted_never_sos(client, dispatcher, auth,
                                                                                 factories, app, runner):
    seed(app, runner)
    patong, kata = zone_id(app, "rip-patong"), zone_id(app, "rip-kata")
    swimmer = factories.card(full_name="Swimmer One")
    response = client.post(f"{BASE}/zones/{patong}/mute", json={"minutes": 30, "reason": "red flags, lifeguards on"},
                           headers=dispatcher)
    assert response.status_code == 201, response.get_json()
    mute = response.get_json()
    assert (mute["zone_id"], mute["zone_name"], mute["by"], mute["reason"]) == (
        patong, "Patong Beach rip currents", "dispatcher1", "red flags, lifeguards on")
    until = datetime.fromisoformat(mute["until"])
    assert timedelta(minutes=29) < until - datetime.now(UTC) <= timedelta(minutes=30)
    with app.app_context():
        audit = entries(action="zone.mute", limit=1)[0]
        assert audit.subject_id == str(patong) and audit.actor_name == "dispatcher1"
        assert audit.detail["minutes"] == 30 and audit.detail["reason"] == "red flags, lifeguards on"

    ping(app, swimmer, 7.8961, 98.2962, minutes_ago=20)  # on the beach
    ping(app, swimmer, 7.89693, 98.29098, minutes_ago=10)  # into the Patong rip zone: still raised
    danger = client.get(f"{BASE}/incidents", query_string={"kind": "danger_zone"}, headers=dispatcher).get_json()
    assert len(danger["items"]) == 1
    assert danger["items"][0]["muted"] is True and danger["items"][0]["zone"]["id"] == patong
    sos = raise_incident(app, swimmer, zone_id=patong)  # an SOS from inside the muted zone: never muted
    assert client.get(f"{BASE}/incidents/{sos}", headers=dispatcher).get_json()["muted"] is False
    elsewhere = raise_incident(app, factories.card(), IncidentKind.DANGER_ZONE, Severity.HIGH, zone_id=kata)
    assert client.get(f"{BASE}/incidents/{elsewhere}", headers=dispatcher).get_json()["muted"] is False
    assert client.get(f"{BASE}/incidents/{danger['items'][0]['id']}", headers=dispatcher).get_json()["muted"] is True

    listed = client.get(f"{BASE}/mutes", headers=dispatcher).get_json()["items"]
    assert [(m["zone_id"], m["by"]) for m in listed] == [(patong, "dispatcher1")]
    longer = client.post(f"{BASE}/zones/{patong}/mute", json={"minutes": 720, "reason": "storm"}, headers=dispatcher)
    assert longer.status_code == 201
    assert [m["reason"] for m in client.get(f"{BASE}/mutes", headers=dispatcher).get_json()["items"]] == ["storm"]

    for bad in ({"minutes": 4, "reason": "x"}, {"minutes": 721, "reason": "x"}, {"minutes": "10", "reason": "x"},
                {"minutes": 10.5, "reason": "x"}, {"minutes": 10}, {"minutes": 10, "reason": " "},
                {"minutes": 10, "reason": "r" * 301}, {"reason": "x"}, {"minutes": 10, "reason": "x" * 200_000}):
        response = client.post(f"{BASE}/zones/{kata}/mute", json=bad, headers=dispatcher)
        assert response.status_code in (413, 422) and response.get_json()["code"] == response.status_code, bad
    assert client.post(f"{BASE}/zones/999999/mute", json={"minutes": 10, "reason": "x"},
                       headers=dispatcher).status_code == 404
    caution = zone_id(app, "caution-patong-boat-lane")
    assert client.post(f"{BASE}/zones/{caution}/mute", json={"minutes": 10, "reason": "x"},
                       headers=dispatcher).status_code == 422
    assert client.delete(f"{BASE}/zones/999999/mute", headers=dispatcher).status_code == 404
    hotel_id = factories.hotel()
    for headers in (auth.headers("immigration"), auth.headers("hotel_manager", hotel_id=hotel_id)):
        assert client.post(f"{BASE}/zones/{kata}/mute", json={"minutes": 10, "reason": "x"},
                           headers=headers).status_code == 403
        assert client.delete(f"{BASE}/zones/{patong}/mute", headers=headers).status_code == 403
        assert client.get(f"{BASE}/mutes", headers=headers).status_code == 403
    assert [m["zone_id"] for m in client.get(f"{BASE}/mutes", headers=dispatcher).get_json()["items"]] == [patong]

    assert client.delete(f"{BASE}/zones/{patong}/mute", headers=dispatcher).status_code == 204
    assert client.get(f"{BASE}/mutes", headers=dispatcher).get_json()["items"] == []
    assert client.get(f"{BASE}/incidents/{danger['items'][0]['id']}", headers=dispatcher).get_json()["muted"] is False
    assert client.delete(f"{BASE}/zones/{patong}/mute", headers=dispatcher).status_code == 204  # nothing in force
    with app.app_context():
        assert [e.action for e in entries(limit=50) if e.action.startswith("zone.")].count("zone.unmute") == 1


def test_a_mute_ends_by_itself_when_its_time_is_up(client, dispatcher, factories, app, runner):
    from backend.dispatch.models import ZoneMute
    from backend.extensions import db

    seed(app, runner)
    patong = zone_id(app, "rip-patong")
    incident = raise_incident(app, factories.card(), IncidentKind.DANGER_ZONE, Severity.HIGH, zone_id=patong)
    assert client.post(f"{BASE}/zones/{patong}/mute", json={"minutes": 5, "reason": "x"},
                       headers=dispatcher).status_code == 201
    assert client.get(f"{BASE}/incidents/{incident}", headers=dispatcher).get_json()["muted"] is True
    with app.app_context():  # five minutes later
        for row in db.session.query(ZoneMute):
            row.until = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert client.get(f"{BASE}/incidents/{incident}", headers=dispatcher).get_json()["muted"] is False
    assert client.get(f"{BASE}/mutes", headers=dispatcher).get_json()["items"] == []


# --- a timeline people read, the track, phone intake -----------------------------------------

def _enrolled(app, client, factories, **card) -> dict:  # noqa: ANN001, ANN003
    from backend.cards import enrollment
    from backend.cards.models import Card
    from backend.extensions import db

    card_id = factories.card(**card)
    code, code_hash = enrollment.new_code()
    with app.app_context():
        db.session.get(Card, card_id).enrollment_code_hash = code_hash
        db.session.commit()
    response = client.post("/api/v1/mobile/enroll", json={"card_id": card_id, "enrollment_code": code,
                                                          "platform": "android"})
    assert response.status_code == 201, response.get_json()
    return {"card_id": card_id, **response.get_json()}


def test_the_timeline_reads_as_sentences_without_device_or_client_ids(client, dispatcher, factories, app):
    phone = _enrolled(app, client, factories, full_name="Lena Fischer")
    device = {"Authorization": f"Bearer {phone['device_token']}"}
    now = datetime.now(UTC)
    pings = [{"id": str(uuid.uuid4()), "lat": 7.80 + n / 1000, "lon": 98.30,
              "recorded_at": (now - timedelta(minutes=m)).isoformat()} for n, m in enumerate((120, 50, 20))]
    assert client.post("/api/v1/mobile/pings", json={"pings": pings}, headers=device).status_code == 200
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    sos = client.post("/api/v1/mobile/sos", json={"id": first, "lat": 7.8961, "lon": 98.2962, "category": "medical",
                                                  "recorded_at": (now - timedelta(seconds=60)).isoformat()},
                      headers=device)
    assert sos.status_code == 201, sos.get_json()
    incident_id = sos.get_json()["incident_id"]
    client.post("/api/v1/mobile/sos", json={"id": second, "lat": 7.8965, "lon": 98.2965,
                                            "recorded_at": (now - timedelta(seconds=30)).isoformat()}, headers=device)
    client.post(f"{BASE}/incidents/{incident_id}/acknowledge", headers=dispatcher)
    client.post(f"{BASE}/incidents/{incident_id}/dispatch", json={"unit": "Patong Hospital ambulance"},
                headers=dispatcher)
    client.post(f"{BASE}/incidents/{incident_id}/resolve", json={"resolution": "taken to hospital"},
                headers=dispatcher)

    response = client.get(f"{BASE}/incidents/{incident_id}", headers=dispatcher)
    body = response.get_json()
    assert [(e["kind"], e["text"], e["actor"]) for e in body["timeline"]] == [
        ("created", "Enrolled phone sent SOS (medical)", None),
        ("updated", "SOS position updated", None),
        ("acknowledged", "Acknowledged by dispatcher1", "dispatcher1"),
        ("dispatched", "Dispatched Patong Hospital ambulance by dispatcher1", "dispatcher1"),
        ("resolved", "Resolved by dispatcher1: taken to hospital", "dispatcher1"),
    ]
    assert all(set(e) == {"at", "kind", "text", "actor"} for e in body["timeline"])
    # the track: an hour before the SOS until it was resolved, oldest first (the 120-minute-old fix is out)
    assert [round(p["lat"], 4) for p in body["track"]] == [7.801, 7.802, 7.8961, 7.8965]
    assert [p["recorded_at"] for p in body["track"]] == sorted(p["recorded_at"] for p in body["track"])
    listed = client.get(f"{BASE}/incidents", query_string={"status": "any"}, headers=dispatcher)
    for text in (response.get_data(as_text=True), listed.get_data(as_text=True)):
        for secret in (phone["device_id"], phone["device_token"], first, second, "device:", "client_id"):
            assert secret not in text


def test_the_readable_timeline_of_rule_incidents(client, dispatcher, factories, app, runner):
    seed(app, runner)
    card_id = factories.card()
    ping(app, card_id, 7.8961, 98.2962, minutes_ago=20)
    ping(app, card_id, 7.89693, 98.29098, minutes_ago=10)
    ping(app, card_id, 7.8961, 98.2962, minutes_ago=5)
    danger = ids(client, dispatcher, kind="danger_zone")[0]
    texts = [e["text"] for e in client.get(f"{BASE}/incidents/{danger}", headers=dispatcher).get_json()["timeline"]]
    assert texts == ["Entered Patong Beach rip currents", "Left Patong Beach rip currents"]
    with app.app_context():
        from backend.dispatch.service import raise_incident as raise_
        from backend.extensions import db

        raise_(card_id=card_id, kind=IncidentKind.OVERDUE, severity=Severity.HIGH, detail={
            "rule": "no_contact", "last_contact_at": (datetime.now(UTC) - timedelta(minutes=95)).isoformat()})
        db.session.commit()
    overdue = ids(client, dispatcher, kind="overdue")[0]
    texts = [e["text"] for e in client.get(f"{BASE}/incidents/{overdue}", headers=dispatcher).get_json()["timeline"]]
    assert texts == ["Phone silent for 1 h 35 min"]


def test_a_phone_call_is_logged_for_a_card_found_by_search(client, dispatcher, factories, app):
    card_id = factories.card(full_name="Mei Chen", nationality="CHN", phone="+86 138 0000 1111")
    set_holder(app, card_id, latin_name="CHEN MEI")
    raise_incident(app, card_id, IncidentKind.LEFT_AREA, Severity.HIGH)
    found = client.get(f"{BASE}/incidents", query_string={"q": "chen mei", "status": "any"},
                       headers=dispatcher).get_json()["items"]
    assert [i["card_id"] for i in found] == [card_id]
    typed = f"{card_id[:3]}-{card_id[3:6]} {card_id[6:]}".lower()
    created = client.post(f"{BASE}/incidents", json={"card_id": typed, "kind": "sos", "category": "lost",
                                                     "note": "friend calls: lost on the hike"}, headers=dispatcher)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["card_id"] == card_id and created.get_json()["tourist"]["latin_name"] == "CHEN MEI"
    detail = client.get(f"{BASE}/incidents/{created.get_json()['id']}", headers=dispatcher).get_json()
    assert [(e["text"], e["actor"]) for e in detail["timeline"]] == [("Phone call logged by dispatcher1 (SOS)",
                                                                       "dispatcher1")]
    joined = client.post(f"{BASE}/incidents", json={"card_id": card_id, "note": "second call"}, headers=dispatcher)
    assert joined.status_code == 200
    detail = client.get(f"{BASE}/incidents/{created.get_json()['id']}", headers=dispatcher).get_json()
    assert detail["timeline"][-1]["text"] == "Phone call logged by dispatcher1 (SOS)"
