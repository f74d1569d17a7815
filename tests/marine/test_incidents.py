"""The sea watches itself: passengers' pings feed their trip, overdue boats, unaccounted passengers."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from backend.dispatch.models import Incident
from backend.extensions import db
from backend.models_base import utcnow
from tests.marine.conftest import act, board, enrolled_phone, iso, new_trip

AT_SEA = (7.7420, 98.7680)  # between Rassada and Phi Phi


def _incidents(app, kind: str) -> list[Incident]:  # noqa: ANN001
    with app.app_context():
        rows = list(db.session.scalars(select(Incident).where(Incident.kind == kind).order_by(Incident.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _aboard(client, marine, trip_id: int, factories, **card) -> dict:  # noqa: ANN001
    issued = factories.issued_card(**card)
    response = board(client, trip_id, marine.crew_a, card_token=issued["card_token"])
    assert response.status_code == 201, response.get_json()
    return issued


def _ping(client, headers, lat: float, lon: float, delta_s: float) -> None:  # noqa: ANN001
    response = client.post("/api/v1/mobile/pings", headers=headers, json={"pings": [
        {"id": str(uuid.uuid4()), "lat": lat, "lon": lon, "recorded_at": iso(delta_s)}]})
    assert response.status_code == 200 and response.get_json()["accepted"] == 1, response.get_json()


def test_return_raises_passenger_unaccounted_for_each_not_scanned_ashore(app, client, marine, factories):
    trip = new_trip(client, marine.crew_a, vessel_name="Phi Phi Cruiser")
    home = _aboard(client, marine, trip["id"], factories, full_name="Anna Schmidt")
    stays = _aboard(client, marine, trip["id"], factories, full_name="Li Wei", nationality="CHN")
    also = _aboard(client, marine, trip["id"], factories, full_name="Kim Min-jun", nationality="KOR")
    assert act(client, trip["id"], "depart", marine.crew_a).status_code == 200
    ashore = client.post(f"/api/v1/marine/trips/{trip['id']}/passengers/{home['card_id']}/ashore",
                         headers=marine.crew_a)
    assert ashore.status_code == 200
    assert _incidents(app, "passenger_unaccounted") == []
    back = act(client, trip["id"], "return", marine.crew_a)
    assert back.status_code == 200 and back.get_json()["passengers_ashore"] == 1
    raised = _incidents(app, "passenger_unaccounted")
    assert sorted(i.card_id for i in raised) == sorted([stays["card_id"], also["card_id"]])
    assert {i.severity for i in raised} == {"critical"} and {i.trip_id for i in raised} == {trip["id"]}
    # returning again raises nothing more
    assert act(client, trip["id"], "return", marine.crew_a).status_code == 200
    assert len(_incidents(app, "passenger_unaccounted")) == 2

    listed = client.get("/api/v1/dispatch/incidents?kind=passenger_unaccounted&status=open",
                        headers=marine.dispatcher).get_json()["items"]
    assert len(listed) == 2
    assert listed[0]["trip"]["id"] == trip["id"] and listed[0]["trip"]["vessel_name"] == "Phi Phi Cruiser"
    assert listed[0]["trip"]["pier"] == "RASSADA" and listed[0]["trip"]["destination"] == "Phi Phi Islands"
    assert "returns_by" in listed[0]["trip"] and "passengers_aboard" in listed[0]["trip"]
    incident_id = next(i.id for i in raised if i.card_id == stays["card_id"])
    detail = client.get(f"/api/v1/dispatch/incidents/{incident_id}", headers=marine.dispatcher).get_json()
    assert {p["full_name"] for p in detail["manifest"]} == {"Anna Schmidt", "Li Wei", "Kim Min-jun"}
    # found later and scanned ashore: the incident's timeline says so (it stays for the 191 center to close)
    late = client.post(f"/api/v1/marine/trips/{trip['id']}/passengers/{stays['card_id']}/ashore",
                       headers=marine.crew_a)
    assert late.status_code == 200
    detail = client.get(f"/api/v1/dispatch/incidents/{incident_id}", headers=marine.dispatcher).get_json()
    assert [e["kind"] for e in detail["timeline"]][-1] == "returned"


def test_other_incidents_carry_no_trip(app, client, marine, factories):
    card = factories.issued_card()
    response = client.post("/api/v1/dispatch/incidents", headers=marine.dispatcher,
                           json={"card_id": card["card_id"], "kind": "sos"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["trip"] is None
    detail = client.get(f"/api/v1/dispatch/incidents/{response.get_json()['id']}", headers=marine.dispatcher)
    assert detail.get_json()["manifest"] is None


def _overdue_trip(client, marine, factories, *, back_s: float) -> tuple[dict, list[dict]]:  # noqa: ANN001
    """A trip that left five hours ago and was due back ``back_s`` seconds from now, two passengers aboard."""
    trip = new_trip(client, marine.crew_a, vessel_name="Racha Runner", pier="AO_CHALONG", destination="Racha Yai",
                    departs_at=iso(-5 * 3600), returns_by=iso(back_s))
    people = [_aboard(client, marine, trip["id"], factories, full_name="Olga Petrova", nationality="RUS",
                      phone="+7 912 345 6789"),
              _aboard(client, marine, trip["id"], factories, full_name="Hans Meier", nationality="DEU")]
    assert act(client, trip["id"], "depart", marine.crew_a).status_code == 200
    return trip, people


def test_the_sweep_raises_one_boat_overdue_with_the_manifest(app, client, runner, marine, factories):
    from backend.marine import service

    trip, people = _overdue_trip(client, marine, factories, back_s=-3600)  # past returns_by + 30 min grace
    within, _ = _overdue_trip(client, marine, factories, back_s=-600)  # still within the grace
    with app.app_context():  # a fix at sea of the first passenger
        service.record_positions({people[0]["card_id"]: (AT_SEA[0], AT_SEA[1], utcnow() - timedelta(minutes=20))})
        db.session.commit()
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0 and "boat_overdue: 1 boats overdue" in result.output, result.output
    assert runner.invoke(args=["sweep"]).exit_code == 0  # a second pass raises nothing more
    [incident] = _incidents(app, "boat_overdue")
    assert incident.trip_id == trip["id"] and incident.severity == "critical" and incident.status == "new"
    assert incident.card_id is None  # the trip's incident, not a passenger's
    assert (incident.lat, incident.lon) == AT_SEA

    detail = client.get(f"/api/v1/dispatch/incidents/{incident.id}", headers=marine.dispatcher).get_json()
    assert detail["kind"] == "boat_overdue" and detail["trip"]["vessel_name"] == "Racha Runner"
    assert detail["trip"]["passengers_aboard"] == 2
    by_name = {p["full_name"]: p for p in detail["manifest"]}
    assert set(by_name) == {"Olga Petrova", "Hans Meier"}
    olga = by_name["Olga Petrova"]
    assert olga["nationality"] == "RUS" and olga["phone"] == "+7 912 345 6789"
    assert (olga["last_position"]["lat"], olga["last_position"]["lon"]) == AT_SEA
    assert by_name["Hans Meier"]["last_position"] is None
    listed = client.get("/api/v1/marine/trips?status=at_sea", headers=marine.dispatcher).get_json()["items"]
    assert {t["id"]: t["overdue"] for t in listed} == {trip["id"]: True, within["id"]: False}

    # the server's schedule runs the same job; later, the boat comes back: the timeline says so
    with app.app_context():
        assert service.raise_overdue_boats(now=utcnow() + timedelta(hours=2)) == 1  # the other trip, now late
        db.session.commit()
    assert len(_incidents(app, "boat_overdue")) == 2
    assert act(client, trip["id"], "return", marine.crew_a).status_code == 200
    detail = client.get(f"/api/v1/dispatch/incidents/{incident.id}", headers=marine.dispatcher).get_json()
    assert detail["timeline"][-1]["kind"] == "returned"


def test_pings_at_sea_feed_the_trip_and_the_passengers(app, client, marine, factories):
    trip = new_trip(client, marine.crew_a)
    first, second = (_aboard(client, marine, trip["id"], factories) for _ in range(2))
    phones = [enrolled_phone(client, first), enrolled_phone(client, second)]
    _ping(client, phones[0], 7.8590, 98.4055, -900)  # at the pier, before departure: not the trip's
    detail = client.get(f"/api/v1/marine/trips/{trip['id']}", headers=marine.crew_a).get_json()
    assert detail["last_position"] is None
    assert act(client, trip["id"], "depart", marine.crew_a).status_code == 200
    _ping(client, phones[0], 7.80, 98.55, -600)
    _ping(client, phones[1], AT_SEA[0], AT_SEA[1], -300)
    _ping(client, phones[0], 7.78, 98.60, -400)  # newer for this passenger, older than the trip's newest
    detail = client.get(f"/api/v1/marine/trips/{trip['id']}", headers=marine.dispatcher).get_json()
    assert (detail["last_position"]["lat"], detail["last_position"]["lon"]) == AT_SEA
    fixes = {p["card_id"]: p["last_position"] for p in detail["passengers"]}
    assert (fixes[first["card_id"]]["lat"], fixes[first["card_id"]]["lon"]) == (7.78, 98.60)
    assert (fixes[second["card_id"]]["lat"], fixes[second["card_id"]]["lon"]) == AT_SEA

    boats = client.get("/api/v1/marine/trips.geojson?status=at_sea", headers=marine.dispatcher).get_json()
    [feature] = boats["features"]
    assert boats["type"] == "FeatureCollection" and feature["geometry"]["coordinates"] == [AT_SEA[1], AT_SEA[0]]
    assert feature["properties"]["passengers_aboard"] == 2 and feature["properties"]["position_source"] == "passenger"
    # an operator's map holds only its own boats
    assert client.get("/api/v1/marine/trips.geojson?status=at_sea", headers=marine.crew_b).get_json()["features"] == []
    assert client.get("/api/v1/marine/trips.geojson?status=bad", headers=marine.dispatcher).status_code == 422

    # ashore: that passenger's pings no longer move the trip
    client.post(f"/api/v1/marine/trips/{trip['id']}/passengers/{second['card_id']}/ashore", headers=marine.crew_a)
    _ping(client, phones[1], 7.70, 98.77, -60)
    detail = client.get(f"/api/v1/marine/trips/{trip['id']}", headers=marine.dispatcher).get_json()
    assert (detail["last_position"]["lat"], detail["last_position"]["lon"]) == AT_SEA


def test_manifests_go_with_the_ping_retention(app, client, marine, factories):
    from backend.cards.models import Card
    from backend.marine.jobs import purge_manifests
    from backend.marine.models import Passenger

    old = new_trip(client, marine.crew_a)
    kept = new_trip(client, marine.crew_a, vessel_name="Open Case")
    gone = _aboard(client, marine, old["id"], factories)
    evidence = factories.issued_card()
    assert board(client, kept["id"], marine.crew_a, card_token=evidence["card_token"]).status_code == 201
    recent = _aboard(client, marine, kept["id"], factories)
    for trip in (old, kept):
        assert act(client, trip["id"], "depart", marine.crew_a).status_code == 200
    assert act(client, kept["id"], "return", marine.crew_a).status_code == 200  # two unaccounted: open incidents
    with app.app_context():
        for card_id in (gone["card_id"], evidence["card_id"]):  # tracking ended 40 days ago
            card = db.session.get(Card, card_id)
            card.status, card.closed_at = "closed", utcnow() - timedelta(days=40)
            card.tracking_ended_at = utcnow() - timedelta(days=40)
        db.session.commit()
        assert purge_manifests() == 1  # the trip with open incidents keeps its manifest (evidence)
        db.session.commit()
        left = {p.card_id for p in db.session.scalars(select(Passenger))}
    assert left == {evidence["card_id"], recent["card_id"]}


def test_the_ping_path_pays_one_query_per_group_and_none_while_no_boat_is_out(app, client, marine, factories):
    from sqlalchemy import event

    from backend.marine import service

    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN002
        statements.append(statement)

    fixes = {f"CARD{i:03d}": (7.8, 98.3, utcnow()) for i in range(50)}
    trip = new_trip(client, marine.crew_a)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            service.record_positions(fixes)  # asks once whether any boat is out
            statements.clear()
            service.record_positions(fixes)
            assert statements == []  # no boat at sea: nothing at all
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.rollback()
    assert act(client, trip["id"], "depart", marine.crew_a).status_code == 200
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            statements.clear()
            assert service.record_positions(fixes) == 0  # none of these cards aboard
            assert len(statements) == 1  # one query for the whole group
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.rollback()


def test_a_ping_group_of_cards_aboard_no_boat_costs_the_same_statements_however_many_boats_are_out(
        app, client, marine, factories, seeded, monkeypatch):
    """The whole group commit (tracking.record_groups with its positions_recorded receiver): a fixed number
    of statements per group whatever its size, and at most one more while boats are out, however many."""
    from sqlalchemy import event

    from backend.cards.models import Card
    from backend.marine import service
    from backend.tracking.service import CardPings, PingInput, record_groups
    from tests.geo.helpers import fix, minutes_ago, send

    monkeypatch.setattr(service, "AT_SEA_RECHECK_S", 3600.0)  # "no boat out" is asked once, not by the clock
    town = (7.8804, 98.3923)
    ashore = [factories.card(full_name=f"Ashore {i}") for i in range(10)]
    for card_id in ashore:  # a previous fix each: the group's fixes raise nothing (no first position)
        send(app, card_id, fix(*town, minutes_ago(30)))

    def group_statements(cards: list[str]) -> int:
        statements: list[str] = []

        def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN002
            statements.append(statement)

        with app.app_context():
            groups = [CardPings(db.session.get(Card, card_id), None,
                                [PingInput(client_id=str(uuid.uuid4()), lat=town[0], lon=town[1],
                                           recorded_at=minutes_ago(1))]) for card_id in cards]
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                results = record_groups(groups)
                db.session.flush()  # what the commit would write (SQLite's latest positions go by the ORM)
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
            assert [r.accepted for r in results] == [1] * len(cards) and not any(r.incidents for r in results)
            db.session.rollback()
        return len(statements)

    group_statements(ashore)  # learns that no boat is out
    none_out = group_statements(ashore)
    assert group_statements(ashore[:3]) == none_out  # independent of the group's size

    trips = [new_trip(client, marine.crew_a, vessel_name=f"Sea Star {i}") for i in range(4)]
    for trip in trips:
        _aboard(client, marine, trip["id"], factories, full_name=f"Aboard {trip['id']}")
    assert act(client, trips[0]["id"], "depart", marine.crew_a).status_code == 200
    one_out = group_statements(ashore)
    assert one_out == none_out + 1  # the one query: which of the group's cards are aboard a boat at sea
    for trip in trips[1:]:
        assert act(client, trip["id"], "depart", marine.crew_a).status_code == 200
    assert group_statements(ashore) == one_out  # four boats out: the same one query
    assert group_statements(ashore[:3]) == one_out
