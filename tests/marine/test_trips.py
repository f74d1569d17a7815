"""Trips: registration, access by operator, boarding scans and their refusals, capacity, ashore."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditEntry
from backend.extensions import db
from backend.marine.models import Passenger, Trip
from tests.hotels.conftest import edited_payload, signed_with_other_key
from tests.hotels.test_checkin import _closed, _expired, _revoked
from tests.marine.conftest import act, board, iso, new_trip, trip_body

SAME = iso(3600)


def _count(app, model) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _audit(app, action: str) -> list[AuditEntry]:  # noqa: ANN001
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# --- operators and the role -------------------------------------------------------------------

def test_operators_cli_prints_the_id_and_binds_marine_operators(app, runner, client):
    result = runner.invoke(args=["operators", "create", "--name", "Racha Divers", "--licence", "TAT 31/00999"])
    assert result.exit_code == 0, result.output
    operator_id = int(result.output.strip().splitlines()[-1])
    result = runner.invoke(args=["users", "create", "racha", "--role", "marine_operator", "--password",
                                 "correct horse battery", "--operator-id", str(operator_id)])
    assert result.exit_code == 0, result.output
    login = client.post("/api/v1/auth/login", json={"username": "racha", "password": "correct horse battery"})
    assert login.get_json()["role"] == "marine_operator" and login.get_json()["operator_id"] == operator_id
    # a marine_operator needs an operator, and only a marine_operator has one
    result = runner.invoke(args=["users", "create", "lost", "--role", "marine_operator", "--password",
                                 "correct horse battery"])
    assert result.exit_code != 0 and "operator" in result.output
    result = runner.invoke(args=["users", "create", "disp", "--role", "dispatcher", "--password",
                                 "correct horse battery", "--operator-id", str(operator_id)])
    assert result.exit_code != 0


def test_a_marine_operator_reaches_no_dispatch_cards_or_hotels_api_but_verifies_cards(client, marine, factories):
    hotel = factories.hotel()
    for path in ["/api/v1/dispatch/incidents?status=open", f"/api/v1/hotels/{hotel}/guests", "/api/v1/cards/XXX"]:
        assert client.get(path, headers=marine.crew_a).status_code == 403, path
    assert client.post("/api/v1/broadcasts", headers=marine.crew_a, json={}).status_code == 403
    # but, like every staff role (contract), it verifies a card token — what it scans at the pier anyway
    card = factories.issued_card()
    response = client.post("/api/v1/cards/verify", headers=marine.crew_a, json={"card_token": card["card_token"]})
    assert response.status_code == 200 and response.get_json()["valid"] is True


# --- trips ------------------------------------------------------------------------------------

def test_an_operator_registers_a_trip(app, client, marine):
    trip = new_trip(client, marine.crew_a, capacity=12, pier="rassada")
    assert trip["status"] == "planned" and trip["operator"] == {"id": marine.a, "name": "Andaman Sea Tours"}
    assert trip["pier"] == "RASSADA" and trip["passengers_aboard"] == 0 and trip["passengers_ashore"] == 0
    assert trip["vessel_name"] == "Sea Star 3" and trip["vessel_registration"] == "PKT-1234"
    assert trip["destination"] == "Phi Phi Islands" and trip["capacity"] == 12
    assert trip["departs_at"].endswith(("Z", "+00:00")) and trip["last_position"] is None
    # a free-text pier is kept as given; departs_at may lie in the past (registered late)
    late = new_trip(client, marine.crew_a, pier="Chalong  Bay  jetty 2", departs_at=iso(-3600))
    assert late["pier"] == "Chalong Bay jetty 2"
    [entry, _] = _audit(app, "trip.create")
    assert entry.actor_role == "marine_operator"


def test_an_admin_names_the_operator(client, marine):
    trip = new_trip(client, marine.admin, operator_id=marine.b)
    assert trip["operator"]["id"] == marine.b
    response = client.post("/api/v1/marine/trips", headers=marine.admin, json=trip_body())
    assert response.status_code == 422 and "operator_id" in response.get_json()["errors"]["json"]
    response = client.post("/api/v1/marine/trips", headers=marine.admin, json=trip_body(operator_id=999999))
    assert response.status_code == 422
    # an operator's staff may not register trips of another operator
    response = client.post("/api/v1/marine/trips", headers=marine.crew_a, json=trip_body(operator_id=marine.b))
    assert response.status_code == 403


@pytest.mark.parametrize(("changes", "field"), [
    ({"returns_by": iso(-60)}, "returns_by"),  # before departs_at
    ({"departs_at": SAME, "returns_by": SAME}, "returns_by"),
    ({"capacity": "twelve"}, "capacity"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": 12.5}, "capacity"),
    ({"departs_at": "tomorrow"}, "departs_at"),
    ({"departs_at": "2026-12-01T10:00:00"}, "departs_at"),  # no offset
    ({"departs_at": iso(-10 * 86400), "returns_by": iso(-9 * 86400)}, "departs_at"),
    ({"vessel_name": ""}, "vessel_name"),
    ({"vessel_name": "   "}, "vessel_name"),
    ({"vessel_name": 42}, "vessel_name"),
    ({"vessel_registration": "R" * 41}, "vessel_registration"),
    ({"pier": None}, "pier"),
    ({"operator_id": "one"}, "operator_id"),
    ({"unexpected": 1}, "unexpected"),
    ({"vessel_name": "Sea\u0000Star"}, "vessel_name"),  # PostgreSQL cannot store NUL
    ({"destination": "Phi Phi\nIslands"}, "destination"),
])
def test_invalid_trips_are_422_naming_the_field_and_change_nothing(app, client, marine, changes, field):
    response = client.post("/api/v1/marine/trips", headers=marine.crew_a, json=trip_body(**changes))
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == 422 and field in body["errors"]["json"]
    assert _count(app, Trip) == 0


@pytest.mark.parametrize("missing", ["vessel_name", "vessel_registration", "pier", "destination", "departs_at",
                                     "returns_by"])
def test_missing_fields_are_422(client, marine, missing):
    body = trip_body()
    del body[missing]
    response = client.post("/api/v1/marine/trips", headers=marine.crew_a, json=body)
    assert response.status_code == 422 and missing in response.get_json()["errors"]["json"]


def test_bodies_that_are_not_objects_or_too_big_are_refused(app, client, marine):
    assert client.post("/api/v1/marine/trips", headers=marine.crew_a, json=[1, 2]).status_code == 422
    response = client.post("/api/v1/marine/trips", headers=marine.crew_a, data="{", content_type="application/json")
    assert response.status_code in (400, 422) and response.get_json()["code"] == response.status_code
    response = client.post("/api/v1/marine/trips", headers=marine.crew_a,
                           json=trip_body(destination="x" * 2_000_000))
    assert response.status_code == 413 and response.get_json()["code"] == 413
    assert _count(app, Trip) == 0


def test_who_may_register_and_read_trips(client, marine, auth):
    assert client.post("/api/v1/marine/trips", json=trip_body()).status_code == 401
    assert client.post("/api/v1/marine/trips", headers=marine.dispatcher, json=trip_body()).status_code == 403
    assert client.post("/api/v1/marine/trips", headers=auth.headers("immigration"), json=trip_body()).status_code == 403
    assert client.get("/api/v1/marine/trips", headers=auth.headers("immigration")).status_code == 403
    assert client.get("/api/v1/marine/trips").status_code == 401


def test_an_operator_sees_only_its_own_trips(client, marine):
    mine = new_trip(client, marine.crew_a)
    theirs = new_trip(client, marine.crew_b, vessel_name="Phi Phi Cruiser")
    assert [t["id"] for t in client.get("/api/v1/marine/trips", headers=marine.crew_a).get_json()["items"]] == [mine["id"]]
    # asking for another operator's trips by filter still gives only one's own
    listed = client.get(f"/api/v1/marine/trips?operator_id={marine.b}", headers=marine.crew_a).get_json()["items"]
    assert [t["id"] for t in listed] == [mine["id"]]
    everything = client.get("/api/v1/marine/trips", headers=marine.dispatcher).get_json()["items"]
    assert {t["id"] for t in everything} == {mine["id"], theirs["id"]}
    assert client.get(f"/api/v1/marine/trips/{theirs['id']}", headers=marine.crew_a).status_code == 403
    assert client.get(f"/api/v1/marine/trips/{theirs['id']}", headers=marine.dispatcher).status_code == 200
    assert client.get("/api/v1/marine/trips/999999", headers=marine.crew_a).status_code == 404
    # every route of another operator's trip is 403, before the body is read
    for what in ["depart", "return", "passengers", "passengers/TEST0001/ashore"]:
        response = client.post(f"/api/v1/marine/trips/{theirs['id']}/{what}", headers=marine.crew_a, json={})
        assert response.status_code == 403, what
    # dispatchers read but change nothing
    assert act(client, theirs["id"], "depart", marine.dispatcher).status_code == 403


def test_the_status_filter(client, marine):
    planned = new_trip(client, marine.crew_a)
    at_sea = new_trip(client, marine.crew_a, vessel_name="Racha Runner")
    assert act(client, at_sea["id"], "depart", marine.crew_a).status_code == 200
    listed = client.get("/api/v1/marine/trips?status=at_sea", headers=marine.dispatcher).get_json()["items"]
    assert [t["id"] for t in listed] == [at_sea["id"]] and listed[0]["status"] == "at_sea"
    both = client.get("/api/v1/marine/trips?status=planned,at_sea", headers=marine.crew_a).get_json()["items"]
    assert [t["id"] for t in both] == [at_sea["id"], planned["id"]]  # at sea first
    for bad in ["sunk", "", ","]:
        response = client.get(f"/api/v1/marine/trips?status={bad}", headers=marine.dispatcher)
        assert response.status_code == 422 and "status" in response.get_json()["errors"]["query"]


# --- boarding ---------------------------------------------------------------------------------

def test_boarding_by_card_token_once_per_card(app, client, marine, factories):
    trip = new_trip(client, marine.crew_a)
    card = factories.issued_card(full_name="Olga Petrova", nationality="RUS")
    response = board(client, trip["id"], marine.crew_a, card_token=card["card_token"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["card_id"] == card["card_id"] and body["full_name"] == "Olga Petrova"
    assert body["nationality"] == "RUS" and body["boarded_at"].endswith(("Z", "+00:00"))
    again = board(client, trip["id"], marine.crew_a, card_token=card["card_token"])
    assert again.status_code == 200 and again.get_json()["boarded_at"] == body["boarded_at"]
    assert _count(app, Passenger) == 1
    detail = client.get(f"/api/v1/marine/trips/{trip['id']}", headers=marine.crew_a).get_json()
    assert detail["passengers_aboard"] == 1
    assert [p["card_id"] for p in detail["passengers"]] == [card["card_id"]]
    assert detail["passengers"][0]["phone"] == "+49 30 1234567" and detail["passengers"][0]["ashore_at"] is None
    [entry] = _audit(app, "trip.board")
    assert entry.card_id == card["card_id"]


def test_boarding_by_card_id_and_passport(client, marine, factories):
    trip = new_trip(client, marine.crew_a)
    card = factories.issued_card(passport_number="X1234567")
    typed = card["card_id"].lower().replace("-", " ")
    response = board(client, trip["id"], marine.crew_a, card_id=typed, passport_number="x123-4567")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["card_id"] == card["card_id"]
    wrong = board(client, trip["id"], marine.crew_a, card_id=card["card_id"], passport_number="Y7654321")
    assert wrong.status_code == 422 and wrong.get_json()["reason"] == "passport_mismatch"
    unknown = board(client, trip["id"], marine.crew_a, card_id="ZZZ-ZZZ-ZZZ", passport_number="Y7654321")
    assert unknown.status_code == 422 and unknown.get_json()["reason"] == "passport_mismatch"


def test_guessing_passports_is_throttled_then_429(app, client, marine, factories):
    app.config["MARINE_BOARD_MAX_FAILURES"] = 3
    app.config["THROTTLE_SLOW_MAX_S"] = 0
    trip = new_trip(client, marine.crew_a)
    card = factories.issued_card(passport_number="G1234567")
    for guess in range(3):
        response = board(client, trip["id"], marine.crew_a, card_id=card["card_id"], passport_number=f"GUESS{guess}")
        assert response.status_code == 422
    locked = board(client, trip["id"], marine.crew_a, card_id=card["card_id"], passport_number="G1234567")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert locked.get_json()["code"] == 429
    # another operator's crew with the right pair boards the card on its own trip
    other = new_trip(client, marine.crew_b)
    response = board(client, other["id"], marine.crew_b, card_id=card["card_id"], passport_number="G1234567")
    assert response.status_code == 201, response.get_json()


def _staff_token(app, factories) -> str:  # noqa: ANN001
    from backend.auth.tokens import TokenKind, encode

    with app.app_context():
        return encode(TokenKind.STAFF_ACCESS, "1", ttl_s=600, claims={"role": "admin"})


REFUSALS = {
    "edited payload": (lambda app, f: edited_payload(f.issued_card()["card_token"], name="Someone Else"),
                       "bad_signature"),
    "another key": (lambda app, f: signed_with_other_key(f.issued_card()["card_token"]), "bad_signature"),
    "unknown key": (lambda app, f: signed_with_other_key(f.issued_card()["card_token"], kid="nope"), "unknown_key"),
    "not a token": (lambda app, f: "hello there", "malformed"),
    "a staff token": (_staff_token, "wrong_type"),
    "revoked": (_revoked, "revoked"),
    "closed": (_closed, "closed"),
    "expired": (_expired, "expired"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_every_refused_card_is_422_with_its_reason(app, client, marine, factories, case):
    trip = new_trip(client, marine.crew_a)
    make, reason = REFUSALS[case]
    response = board(client, trip["id"], marine.crew_a, card_token=make(app, factories))
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["reason"] == reason and body["message"] and body["code"] == 422
    assert _count(app, Passenger) == 0


@pytest.mark.parametrize("make", [_revoked, _closed, _expired])
def test_a_right_pair_of_an_ended_card_is_refused_with_the_reason(app, client, marine, factories, make):
    from backend.cards.models import Card

    token = make(app, factories)
    with app.app_context():
        card = db.session.scalar(select(Card).where(Card.token == token)) or db.session.scalars(
            select(Card).order_by(Card.issued_at.desc())).first()
        card_id, passport = card.id, card.tourist.passport_number
        status = card.effective_status()
    trip = new_trip(client, marine.crew_a)
    response = board(client, trip["id"], marine.crew_a, card_id=card_id, passport_number=passport)
    assert response.status_code == 422 and response.get_json()["reason"] == status


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "card_token"),
    ({"card_token": "", "card_id": "", "passport_number": ""}, "card_token"),
    ({"card_id": "AKT-VM4-HZJ"}, "passport_number"),
    ({"passport_number": "X1234567"}, "card_id"),
    ({"card_token": 123}, "card_token"),
    ({"card_id": 12345, "passport_number": "X1234567"}, "card_id"),
    ({"card_id": "AKT-VM4-HZJ", "passport_number": ["X"]}, "passport_number"),
    ({"card_id": "AKT-VM4-HZJ", "passport_number": "AB#12345"}, "passport_number"),
    ({"card_token": "a.b.c", "passport_number": "X1234567"}, "passport_number"),
    ({"card_token": "t" * 5000}, "card_token"),
    ({"card_id": "AKT\u0000VM4HZJ", "passport_number": "X1234567"}, "card_id"),
    ({"card_id": "AKT-VM4-HZJ", "passport_number": "X123\u00004567"}, "passport_number"),
])
def test_wrong_boarding_bodies_are_422_naming_the_field(app, client, marine, payload, field):
    trip = new_trip(client, marine.crew_a)
    response = board(client, trip["id"], marine.crew_a, **payload)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    assert _count(app, Passenger) == 0


def test_capacity_is_enforced_with_409(app, client, marine, factories):
    trip = new_trip(client, marine.crew_a, capacity=2)
    cards = [factories.issued_card() for _ in range(3)]
    assert board(client, trip["id"], marine.crew_a, card_token=cards[0]["card_token"]).status_code == 201
    assert board(client, trip["id"], marine.crew_a, card_token=cards[1]["card_token"]).status_code == 201
    full = board(client, trip["id"], marine.crew_a, card_token=cards[2]["card_token"])
    assert full.status_code == 409 and "full" in full.get_json()["message"]
    # the same card again is no new passenger: 200 even when full
    assert board(client, trip["id"], marine.crew_a, card_token=cards[1]["card_token"]).status_code == 200
    # one goes ashore before departure: a seat is free again
    ashore = client.post(f"/api/v1/marine/trips/{trip['id']}/passengers/{cards[0]['card_id']}/ashore",
                         headers=marine.crew_a)
    assert ashore.status_code == 200 and ashore.get_json()["ashore_at"]
    assert board(client, trip["id"], marine.crew_a, card_token=cards[2]["card_token"]).status_code == 201
    assert _count(app, Passenger) == 3


def test_boarding_after_departure_is_409_and_unknown_trip_404(client, marine, factories):
    trip = new_trip(client, marine.crew_a)
    assert act(client, trip["id"], "depart", marine.crew_a).status_code == 200
    response = board(client, trip["id"], marine.crew_a, card_token=factories.issued_card()["card_token"])
    assert response.status_code == 409
    assert board(client, 999999, marine.crew_a, card_token="x").status_code == 404


def test_ashore_of_a_card_not_aboard_is_404(client, marine, factories):
    trip = new_trip(client, marine.crew_a)
    card = factories.issued_card()
    response = client.post(f"/api/v1/marine/trips/{trip['id']}/passengers/{card['card_id']}/ashore",
                           headers=marine.crew_a)
    assert response.status_code == 404 and response.get_json()["code"] == 404
    for odd in ("AB%00CD", "x" * 300, "%E2%80%94"):  # never a 500, whatever the path holds
        response = client.post(f"/api/v1/marine/trips/{trip['id']}/passengers/{odd}/ashore", headers=marine.crew_a)
        assert response.status_code in (404, 422), (odd, response.status_code)


def test_depart_and_return_follow_the_lifecycle(client, marine):
    trip = new_trip(client, marine.crew_a)
    assert act(client, trip["id"], "return", marine.crew_a).status_code == 409  # never left
    departed = act(client, trip["id"], "depart", marine.crew_a)
    assert departed.status_code == 200 and departed.get_json()["status"] == "at_sea"
    assert departed.get_json()["departed_at"]
    assert act(client, trip["id"], "depart", marine.crew_a).status_code == 200  # again: unchanged
    back = act(client, trip["id"], "return", marine.crew_a)
    assert back.status_code == 200 and back.get_json()["status"] == "returned"
    assert act(client, trip["id"], "return", marine.crew_a).status_code == 200
    assert act(client, trip["id"], "depart", marine.crew_a).status_code == 409
    bad = act(client, trip["id"], "depart", marine.crew_a, json={"override_reason": 5})
    assert bad.status_code == 422 and "override_reason" in bad.get_json()["errors"]["json"]


def test_a_staff_read_of_the_manifest_is_audited(app, client, marine, factories):
    trip = new_trip(client, marine.crew_a)
    card = factories.issued_card()
    board(client, trip["id"], marine.crew_a, card_token=card["card_token"])
    assert client.get(f"/api/v1/marine/trips/{trip['id']}", headers=marine.dispatcher).status_code == 200
    [entry] = _audit(app, "trip.manifest_read")
    assert entry.actor_role == "dispatcher" and entry.subject_id == str(trip["id"])
    assert entry.detail["card_ids"] == [card["card_id"]]


def test_every_post_route_refuses_an_oversize_body_with_the_json_error(app, client, marine):
    trip = new_trip(client, marine.crew_a)
    huge = {"card_token": "x" * 2_000_000, "override_reason": "x" * 2_000_000}
    for path, headers in [(f"/api/v1/marine/trips/{trip['id']}/passengers", marine.crew_a),
                          (f"/api/v1/marine/trips/{trip['id']}/depart", marine.crew_a),
                          ("/api/v1/marine/observations", {"Authorization": "Bearer pts_station_x"}),
                          ("/api/v1/marine/operators", marine.admin)]:
        response = client.post(path, headers=headers, json=huge)
        assert response.status_code == 413, path
        assert response.get_json()["code"] == 413 and response.get_json()["message"]
    assert client.get(f"/api/v1/marine/trips/{trip['id']}", headers=marine.crew_a).get_json()["status"] == "planned"
    assert _count(app, Passenger) == 0


def test_operators_api(client, marine):
    created = client.post("/api/v1/marine/operators", headers=marine.admin, json={"name": "Racha Divers"})
    assert created.status_code == 201 and created.get_json()["name"] == "Racha Divers"
    names = {o["name"] for o in client.get("/api/v1/marine/operators", headers=marine.admin).get_json()["items"]}
    assert names == {"Andaman Sea Tours", "Phi Phi Speedboat Co.", "Racha Divers"}
    own = client.get("/api/v1/marine/operators", headers=marine.crew_a).get_json()["items"]
    assert [o["id"] for o in own] == [marine.a]
    assert client.post("/api/v1/marine/operators", headers=marine.crew_a, json={"name": "Mine"}).status_code == 403
    assert client.get("/api/v1/marine/operators", headers=marine.dispatcher).status_code == 403
    for body in ({}, {"name": ""}, {"name": 7}, {"name": "x", "licence": "L" * 65}):
        response = client.post("/api/v1/marine/operators", headers=marine.admin, json=body)
        assert response.status_code == 422, body


def test_a_card_aboard_a_boat_at_sea_boards_no_other_until_ashore(client, marine, factories):
    card = factories.issued_card()
    first = new_trip(client, marine.crew_a)
    assert board(client, first["id"], marine.crew_a, card_token=card["card_token"]).status_code == 201
    assert act(client, first["id"], "depart", marine.crew_a).status_code == 200
    second = new_trip(client, marine.crew_b, vessel_name="Phi Phi Cruiser")
    response = board(client, second["id"], marine.crew_b, card_token=card["card_token"])
    assert response.status_code == 409 and "Sea Star 3" in response.get_json()["message"]
    ashore = client.post(f"/api/v1/marine/trips/{first['id']}/passengers/{card['card_id']}/ashore",
                         headers=marine.crew_a)
    assert ashore.status_code == 200
    assert board(client, second["id"], marine.crew_b, card_token=card["card_token"]).status_code == 201
