"""Check-in by card: full verification, refusals with their reason, one open stay per card."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.auth.tokens import TokenKind, encode
from backend.extensions import db
from backend.hotels.models import Stay
from tests.hotels.conftest import checkin, edited_payload, guest_list, signed_with_other_key


def _stays(app) -> list[Stay]:  # noqa: ANN001
    with app.app_context():
        return list(db.session.scalars(select(Stay).order_by(Stay.id)))


def _audit(app, action: str) -> list[AuditEntry]:  # noqa: ANN001
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_valid_checkin(app, client, factories, hotels):
    card = factories.issued_card(full_name="Somchai Müller", nationality="CHE")
    response = checkin(client, hotels.a, hotels.manager_a, card["card_token"], room="1204")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["card_id"] == card["card_id"]
    assert body["full_name"] == "Somchai Müller" and body["nationality"] == "CHE"
    assert body["room"] == "1204" and body["stay_id"] and body["checked_in_at"].endswith(("Z", "+00:00"))
    assert body["previous_stay_ended"] is False

    items = guest_list(client, hotels.a, hotels.manager_a)
    assert [(g["stay_id"], g["card_id"], g["room"]) for g in items] == [(body["stay_id"], card["card_id"], "1204")]
    [entry] = _audit(app, "stay.checkin")
    assert entry.card_id == card["card_id"] and entry.actor_role == "hotel_manager"


def test_admin_may_check_in_at_any_hotel(client, factories, hotels):
    card = factories.issued_card()
    assert checkin(client, hotels.b, hotels.admin, card["card_token"]).status_code == 201


def _expired(app, factories) -> str:  # noqa: ANN001
    """A card whose validity has passed: its token's exp and its record both say so."""
    from backend.cards.models import Card
    from backend.cards.service import sign_card_token

    card = factories.issued_card()
    with app.app_context():
        row = db.session.get(Card, card["card_id"])
        row.issued_at = row.issued_at - timedelta(days=20)
        row.expires_at = row.issued_at + timedelta(days=10)
        row.token = sign_card_token(row)
        db.session.commit()
        return row.token


def _revoked(app, factories) -> str:  # noqa: ANN001
    from backend.cards.models import Card
    from backend.cards.service import revoke_card

    card = factories.issued_card()
    with app.app_context():
        revoke_card(card=db.session.get(Card, card["card_id"]), reason="reported stolen")
        db.session.commit()
    return card["card_token"]


def _closed(app, factories) -> str:  # noqa: ANN001
    from backend.cards.models import Card
    from backend.cards.service import close_card

    card = factories.issued_card()
    with app.app_context():
        close_card(card=db.session.get(Card, card["card_id"]))
        db.session.commit()
    return card["card_token"]


def _staff_token(app, factories) -> str:  # noqa: ANN001
    with app.app_context():
        return encode(TokenKind.STAFF_ACCESS, "1", ttl_s=600, claims={"role": "admin"})


def _alg_none(app, factories) -> str:  # noqa: ANN001
    token = factories.issued_card()["card_token"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, None, algorithm="none", headers={"kid": header["kid"], "typ": header["typ"]})


REFUSALS = {
    "edited payload": (lambda app, f: edited_payload(f.issued_card()["card_token"], name="Someone Else"),
                       "bad_signature"),
    "other key, our kid": (lambda app, f: signed_with_other_key(f.issued_card()["card_token"]), "bad_signature"),
    "other key, its own kid": (lambda app, f: signed_with_other_key(f.issued_card()["card_token"], kid="attacker-1"),
                               "unknown_key"),
    "alg none": (_alg_none, "bad_algorithm"),
    "expired": (_expired, "expired"),
    "revoked": (_revoked, "revoked"),
    "closed": (_closed, "closed"),
    "staff token": (_staff_token, "wrong_type"),
    "not a token": (lambda app, f: "https://example.com/not-a-card", "malformed"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_bad_cards_are_refused_with_their_reason(app, client, factories, hotels, case):
    make, reason = REFUSALS[case]
    token = make(app, factories)
    response = checkin(client, hotels.a, hotels.manager_a, token, room="12")
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == 422 and body["reason"] == reason
    assert body["message"] and reason in body["errors"]["card_token"][0]
    assert _stays(app) == []  # nothing checked in
    assert guest_list(client, hotels.a, hotels.manager_a) == []
    [refusal] = _audit(app, "stay.checkin_refused")
    assert refusal.detail["reason"] == reason


def test_refused_forgery_does_not_reveal_the_card_it_names(client, factories, hotels):
    forged = edited_payload(factories.issued_card(full_name="Real Holder")["card_token"], name="X")
    response = client.post(f"/api/v1/hotels/{hotels.a}/checkins/verify", headers=hotels.manager_a,
                           json={"card_token": forged})
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is False and body["reason"] == "bad_signature" and body["card"] is None
    assert "Real Holder" not in response.get_data(as_text=True)


def test_verify_shows_the_card_before_check_in(app, client, factories, hotels):
    card = factories.issued_card(full_name="Olga Ivanova", nationality="RUS")
    url = f"/api/v1/hotels/{hotels.a}/checkins/verify"
    body = client.post(url, headers=hotels.manager_a, json={"card_token": card["card_token"]}).get_json()
    assert body["valid"] is True and body["reason"] is None
    assert body["card"]["full_name"] == "Olga Ivanova" and body["card"]["nationality"] == "RUS"
    assert body["card"]["status"] == "active" and body["stay"] is None and body["staying_elsewhere"] is False
    assert _stays(app) == []  # verifying checks nobody in

    revoked = _revoked(app, factories)
    body = client.post(url, headers=hotels.manager_a, json={"card_token": revoked}).get_json()
    assert body["valid"] is False and body["reason"] == "revoked" and body["card"]["status"] == "revoked"
    assert "revoked" in body["message"]


def test_same_card_twice_at_the_same_hotel_returns_the_stay(app, client, factories, hotels):
    card = factories.issued_card()
    first = checkin(client, hotels.a, hotels.manager_a, card["card_token"], room="101")
    assert first.status_code == 201
    again = checkin(client, hotels.a, hotels.manager_a, card["card_token"])
    assert again.status_code == 200
    assert again.get_json()["stay_id"] == first.get_json()["stay_id"] and again.get_json()["room"] == "101"
    moved = checkin(client, hotels.a, hotels.manager_a, card["card_token"], room="202")
    assert moved.status_code == 200 and moved.get_json()["room"] == "202"
    assert len(_stays(app)) == 1
    assert [g["room"] for g in guest_list(client, hotels.a, hotels.manager_a)] == ["202"]


def test_check_in_elsewhere_ends_the_previous_stay(app, client, factories, hotels):
    card = factories.issued_card()
    first = checkin(client, hotels.a, hotels.manager_a, card["card_token"], room="1").get_json()
    second = checkin(client, hotels.b, hotels.manager_b, card["card_token"], room="2")
    assert second.status_code == 201 and second.get_json()["previous_stay_ended"] is True
    assert guest_list(client, hotels.a, hotels.manager_a) == []
    assert [g["card_id"] for g in guest_list(client, hotels.b, hotels.manager_b)] == [card["card_id"]]
    stays = {s.id: s for s in _stays(app)}
    assert stays[first["stay_id"]].checked_out_at is not None
    assert stays[first["stay_id"]].end_reason == "checked_in_elsewhere"
    assert stays[second.get_json()["stay_id"]].checked_out_at is None
    [ended] = _audit(app, "stay.end")
    assert ended.subject_id == str(first["stay_id"]) and ended.card_id == card["card_id"]
    assert ended.detail["new_hotel_id"] == hotels.b


def test_typed_card_id_must_match_the_scanned_card(app, client, factories, hotels):
    card, other = factories.issued_card(), factories.issued_card()
    refused = checkin(client, hotels.a, hotels.manager_a, card["card_token"], card_id=other["card_id"])
    assert refused.status_code == 422 and refused.get_json()["reason"] == "card_mismatch"
    typed = card["card_id"].lower()
    typed = f"{typed[:3]}-{typed[3:6]} {typed[6:]}"  # as read off the printed card
    assert checkin(client, hotels.a, hotels.manager_a, card["card_token"], card_id=typed).status_code == 201


@pytest.mark.parametrize("payload", [
    {}, {"room": "1"}, {"card_token": 5}, {"card_token": ""}, {"card_token": ["a"]},
    {"card_token": "x" * 5000}, {"card_token": "a.b.c", "room": "r" * 21}, {"card_token": "a.b.c", "room": 7},
    {"card_token": "a.b.c", "unknown": 1},
])
def test_bad_checkin_input_is_422_and_changes_nothing(app, client, hotels, payload):
    response = client.post(f"/api/v1/hotels/{hotels.a}/checkins", headers=hotels.manager_a, json=payload)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == 422 and body["message"] and body["errors"]
    assert _stays(app) == []


def test_checkout(app, client, factories, hotels):
    card = factories.issued_card(full_name="Lucía García", nationality="ESP")
    stay_id = checkin(client, hotels.a, hotels.manager_a, card["card_token"], room="7").get_json()["stay_id"]
    url = f"/api/v1/hotels/{hotels.a}/stays/{stay_id}/checkout"
    response = client.post(url, headers=hotels.manager_a)
    assert response.status_code == 200
    body = response.get_json()
    assert body["stay_id"] == stay_id and body["checked_out_at"] and body["end_reason"] == "checked_out"
    assert body["full_name"] == "Lucía García"
    assert guest_list(client, hotels.a, hotels.manager_a) == []
    again = client.post(url, headers=hotels.manager_a)  # a double tap changes nothing
    assert again.status_code == 200 and again.get_json()["checked_out_at"] == body["checked_out_at"]
    assert len(_audit(app, "stay.checkout")) == 1
    # the guest may come back: a new stay
    assert checkin(client, hotels.a, hotels.manager_a, card["card_token"]).status_code == 201
    assert client.post(f"/api/v1/hotels/{hotels.a}/stays/999999/checkout", headers=hotels.manager_a).status_code == 404
