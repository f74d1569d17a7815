"""Check-in without a camera: the card id as typed and the passport number (contract v1.1 "Hotels")."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.extensions import db
from backend.hotels.models import Stay
from tests.hotels.conftest import guest_list
from tests.hotels.test_checkin import _closed, _expired, _revoked


@pytest.fixture
def app_config() -> dict:
    """Short slow-downs (the policy is the production one; only the ceiling of the wait is lower)."""
    return {"THROTTLE_SLOW_MAX_S": 1}


PASSPORT = "XK4471902"


def _stays(app) -> list[Stay]:  # noqa: ANN001
    with app.app_context():
        return list(db.session.scalars(select(Stay).order_by(Stay.id)))


def _audit(app, action: str) -> list[AuditEntry]:  # noqa: ANN001
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def by_passport(client, hotel_id: int, headers: dict, card_id, passport_number, **extra):  # noqa: ANN001
    """POST a check-in by card id + passport number."""
    return client.post(f"/api/v1/hotels/{hotel_id}/checkins", headers=headers,
                       json={"card_id": card_id, "passport_number": passport_number, **extra})


def typed(card_id: str) -> str:
    """The card id as a person types it from the printed card: lower case, a hyphen and a space."""
    low = card_id.lower()
    return f"{low[:3]}-{low[3:6]} {low[6:]}"


def test_check_in_by_card_id_and_passport(app, client, factories, hotels):
    card = factories.issued_card(full_name="Иван Иванов", nationality="RUS", passport_number=PASSPORT,
                                 latin_name="IVANOV<<IVAN")
    response = by_passport(client, hotels.a, hotels.manager_a, typed(card["card_id"]), " xk 4471-902 ", room="310")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["card_id"] == card["card_id"] and body["full_name"] == "Иван Иванов"
    assert body["latin_name"] == "IVANOV, IVAN" and body["nationality"] == "RUS" and body["room"] == "310"
    assert "passport_number" not in body
    [guest] = guest_list(client, hotels.a, hotels.manager_a)
    assert guest["card_id"] == card["card_id"] and guest["latin_name"] == "IVANOV, IVAN"
    [entry] = _audit(app, "stay.checkin")
    assert entry.card_id == card["card_id"] and entry.actor_role == "hotel_manager"
    # the same pair again: the same stay (200), as with a scanned card
    again = by_passport(client, hotels.a, hotels.manager_a, card["card_id"], PASSPORT)
    assert again.status_code == 200 and again.get_json()["stay_id"] == body["stay_id"]


def test_a_pair_that_does_not_belong_together_is_422_and_changes_nothing(app, client, factories, hotels):
    card = factories.issued_card(passport_number=PASSPORT)
    other = factories.issued_card(passport_number="ZZ9988776")
    for card_id, passport in [(card["card_id"], "ZZ9988776"), (other["card_id"], PASSPORT),
                              ("AAAAAAAAA", PASSPORT)]:  # an unknown card: the same answer
        response = by_passport(client, hotels.a, hotels.manager_a, card_id, passport)
        assert response.status_code == 422, response.get_json()
        body = response.get_json()
        assert body["code"] == 422 and body["reason"] == "passport_mismatch" and body["message"]
        assert set(body["errors"]) == {"card_id", "passport_number"}
        assert "Anna" not in response.get_data(as_text=True)
    assert _stays(app) == []
    refusals = _audit(app, "stay.checkin_refused")
    assert [r.detail["reason"] for r in refusals] == ["passport_mismatch"] * 3


def test_guessing_passport_numbers_is_slowed_then_429_and_never_locks_out_another_manager(app, client, factories,
                                                                                          hotels):
    card = factories.issued_card(passport_number=PASSPORT)
    times = []
    for guess in range(5):
        started = time.monotonic()
        response = by_passport(client, hotels.a, hotels.manager_a, card["card_id"], f"GUESS{guess:04d}")
        times.append(time.monotonic() - started)
        assert response.status_code == 422 and response.get_json()["reason"] == "passport_mismatch"
    assert times[3] >= 0.45 and times[4] >= 0.9  # slowed after three wrong guesses (0.5 s, then 1 s)
    locked = by_passport(client, hotels.a, hotels.manager_a, card["card_id"], "GUESS9999")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert locked.get_json()["code"] == 429 and locked.get_json()["message"]
    # locked even with the right passport now: the guesser learns nothing more
    assert by_passport(client, hotels.a, hotels.manager_a, card["card_id"], PASSPORT).status_code == 429
    # another hotel's manager with the right pair checks the guest in (slowed, never locked)
    response = by_passport(client, hotels.b, hotels.manager_b, card["card_id"], PASSPORT)
    assert response.status_code == 201, response.get_json()
    assert [s.hotel_id for s in _stays(app)] == [hotels.b]


def test_another_hotels_manager_is_403_before_anything_is_checked(app, client, factories, hotels):
    card = factories.issued_card(passport_number=PASSPORT)
    response = by_passport(client, hotels.b, hotels.manager_a, card["card_id"], PASSPORT)
    assert response.status_code == 403
    assert by_passport(client, hotels.b, hotels.manager_a, "x", 5).status_code == 403  # no validation leak
    assert _stays(app) == [] and _audit(app, "stay.checkin_refused") == []


@pytest.mark.parametrize(("make", "reason"), [(_revoked, "revoked"), (_closed, "closed"), (_expired, "expired")])
def test_right_pair_of_an_ended_card_is_refused_with_the_reason(app, client, factories, hotels, make, reason):
    make(app, factories)  # the helper issues a card with a generated passport number
    with app.app_context():
        from backend.cards.models import Card

        card = db.session.scalars(select(Card).order_by(Card.issued_at.desc(), Card.id)).first()
        card_id, passport = card.id, card.tourist.passport_number
    response = by_passport(client, hotels.a, hotels.manager_a, card_id, passport.lower())
    assert response.status_code == 422
    body = response.get_json()
    assert body["reason"] == reason and reason in body["errors"]["card_id"][0]
    assert _stays(app) == []


def test_neither_token_nor_card_id_is_422_naming_card_token(client, hotels):
    for payload in [{}, {"room": "12"}, {"card_token": "", "card_id": "", "passport_number": ""}]:
        response = client.post(f"/api/v1/hotels/{hotels.a}/checkins", headers=hotels.manager_a, json=payload)
        assert response.status_code == 422
        assert "card_token" in response.get_json()["errors"]["json"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"card_id": "AKT-VM4-HZJ"}, "passport_number"),
    ({"passport_number": PASSPORT}, "card_id"),
    ({"card_id": 12345, "passport_number": PASSPORT}, "card_id"),
    ({"card_id": "AKT-VM4-HZJ", "passport_number": 4471902}, "passport_number"),
    ({"card_id": "AKT-VM4-HZJ", "passport_number": ["X"]}, "passport_number"),
    ({"card_id": "AKT-VM4-HZJ", "passport_number": "P" * 25}, "passport_number"),
    ({"card_id": "AKT-VM4-HZJ", "passport_number": "ab"}, "passport_number"),
    ({"card_id": "AKT-VM4-HZJ", "passport_number": "AB#12345"}, "passport_number"),
    ({"card_id": "A" * 33, "passport_number": PASSPORT}, "card_id"),
    ({"card_id": "AKT-VM4-HZJ", "passport_number": PASSPORT, "room": "r" * 21}, "room"),
    ({"card_token": "a.b.c", "passport_number": PASSPORT}, "passport_number"),
])
def test_wrong_types_and_sizes_are_422_naming_the_field(app, client, hotels, payload, field):
    response = client.post(f"/api/v1/hotels/{hotels.a}/checkins", headers=hotels.manager_a, json=payload)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    assert _stays(app) == []


def test_an_oversize_body_is_refused_with_the_json_error(client, hotels):
    response = client.post(f"/api/v1/hotels/{hotels.a}/checkins", headers=hotels.manager_a,
                           json={"card_id": "AKT-VM4-HZJ", "passport_number": PASSPORT, "room": "x" * 2_000_000})
    assert response.status_code == 413
    assert response.get_json()["code"] == 413 and response.get_json()["message"]
