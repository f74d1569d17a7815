"""Revocation, closure at departure, enrollment codes, audit; card ids with a check character."""

from __future__ import annotations

import itertools
import json

import pytest

from backend import card_ids


def _device(app, card_id: str, n: int = 1) -> str:
    from backend.extensions import db
    from backend.tracking.models import Device

    with app.app_context():
        device = Device(id=f"dev-{card_id}-{n}", card_id=card_id, platform="android", osmand_id=f"osm-{card_id}-{n}")
        db.session.add(device)
        db.session.commit()
        return device.id


def _state(app, card_id: str):
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.tracking.models import Device

    with app.app_context():
        card = db.session.get(Card, card_id)
        devices = db.session.query(Device).filter_by(card_id=card_id).all()
        return card.status, card.tracking_ended_at, [d.revoked_at for d in devices], card.is_trackable()


@pytest.mark.parametrize("action", ["revoke", "close"])
def test_revoke_and_close_stop_tracking_and_sign_devices_out(client, app, officer, auth, issue, action):
    body = issue()
    _device(app, body["card_id"], 1)
    _device(app, body["card_id"], 2)
    url = f"/api/v1/cards/{body['card_id']}/{action}"
    response = client.post(url, json={"reason": "lost card"} if action == "revoke" else None, headers=officer)
    assert response.status_code == 200, response.get_json()
    card = response.get_json()
    expected = "revoked" if action == "revoke" else "closed"
    assert card["status"] == expected and card["tracking_ended_at"]
    status, ended, revoked, trackable = _state(app, body["card_id"])
    assert status == expected and ended is not None and not trackable
    assert len(revoked) == 2 and all(revoked)
    # doing it again changes nothing
    again = client.post(url, json={"reason": "again"} if action == "revoke" else None, headers=officer)
    assert again.status_code == 200 and again.get_json()["tracking_ended_at"] == card["tracking_ended_at"]
    entries = client.get("/api/v1/audit", headers=auth.headers("admin"),
                         query_string={"card_id": body["card_id"], "action": f"card.{action}"}).get_json()["items"]
    assert len(entries) == 1 and entries[0]["actor_role"] == "immigration"


def test_revoke_close_permissions_and_input(client, auth, officer, issue):
    body = issue()
    dispatcher = auth.headers("dispatcher")
    assert client.post(f"/api/v1/cards/{body['card_id']}/revoke", json={"reason": "x"}).status_code == 401
    assert client.post(f"/api/v1/cards/{body['card_id']}/revoke", json={"reason": "x"},
                       headers=dispatcher).status_code == 403
    assert client.post(f"/api/v1/cards/{body['card_id']}/close", headers=dispatcher).status_code == 403
    for bad in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "r" * 301}, {"reason": 7}):
        response = client.post(f"/api/v1/cards/{body['card_id']}/revoke", json=bad, headers=officer)
        assert response.status_code == 422, bad
    assert client.get(f"/api/v1/cards/{body['card_id']}", headers=officer).get_json()["status"] == "active"
    assert client.post("/api/v1/cards/NOSUCHCRD/revoke", json={"reason": "x"}, headers=officer).status_code == 404
    assert client.post("/api/v1/cards/NOSUCHCRD/close", headers=officer).status_code == 404


def test_a_revoked_card_cannot_be_closed(client, officer, issue):
    body = issue()
    client.post(f"/api/v1/cards/{body['card_id']}/revoke", json={"reason": "fraud"}, headers=officer)
    response = client.post(f"/api/v1/cards/{body['card_id']}/close", headers=officer)
    assert response.status_code == 409 and response.get_json()["code"] == 409


def test_fresh_enrollment_code_replaces_the_old_one(client, app, officer, auth, issue):
    from backend.cards import enrollment
    from backend.cards.models import Card
    from backend.extensions import db

    body = issue()
    old = body["enrollment_code"]
    response = client.post(f"/api/v1/cards/{body['card_id']}/enrollment-code", headers=officer)
    assert response.status_code == 201
    fresh = response.get_json()
    assert fresh["enrollment_code"] != old
    assert fresh["enrollment_url"].endswith(f"/app#card_id={body['card_id']}&code={fresh['enrollment_code']}")
    with app.app_context():
        stored = db.session.get(Card, body["card_id"]).enrollment_code_hash
        assert enrollment.check(stored, fresh["enrollment_code"]) and not enrollment.check(stored, old)
    # the printed enrollment QR needs the current code
    qr_url = f"/api/v1/cards/{body['card_id']}/enrollment-qr.svg"
    assert client.post(qr_url, json={"enrollment_code": old}, headers=officer).status_code == 422
    svg = client.post(qr_url, json={"enrollment_code": fresh["enrollment_code"].lower()}, headers=officer)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")
    assert client.post(qr_url, json={"enrollment_code": fresh["enrollment_code"]},
                       headers=auth.headers("dispatcher")).status_code == 403
    assert client.post(f"/api/v1/cards/{body['card_id']}/enrollment-code",
                       headers=auth.headers("dispatcher")).status_code == 403
    # a closed card gets no new code, and its old one stops working
    client.post(f"/api/v1/cards/{body['card_id']}/close", headers=officer)
    assert client.post(f"/api/v1/cards/{body['card_id']}/enrollment-code", headers=officer).status_code == 409
    with app.app_context():
        assert db.session.get(Card, body["card_id"]).enrollment_code_hash is None


def test_public_base_url_is_used_for_enrollment_links(client, app, officer):
    from tests.cards.conftest import payload

    app.config["PUBLIC_BASE_URL"] = "https://safety.phuket.go.th/"
    body = client.post("/api/v1/cards", json=payload(), headers=officer).get_json()
    assert body["enrollment_url"] == (f"https://safety.phuket.go.th/app#card_id={body['card_id']}"
                                      f"&code={body['enrollment_code']}")


def test_revocation_list_forgets_expired_cards(client, app, officer, issue):
    from datetime import timedelta

    from backend.cards.models import Card
    from backend.extensions import db
    from backend.models_base import utcnow

    body = issue()
    client.post(f"/api/v1/cards/{body['card_id']}/revoke", json={"reason": "stolen"}, headers=officer)
    assert len(client.get("/api/v1/cards/revocations").get_json()["revoked"]) == 1
    with app.app_context():
        db.session.get(Card, body["card_id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/cards/revocations").get_json()["revoked"] == []


def test_openapi_documents_the_card_api(client):
    from openapi_spec_validator import validate

    spec = client.get("/openapi.json").get_json()
    validate(spec)
    for path in ("/api/v1/cards", "/api/v1/cards/verify", "/api/v1/cards/revocations", "/api/v1/cards/{card_id}",
                 "/api/v1/cards/{card_id}/qr.png", "/api/v1/cards/{card_id}/qr.svg",
                 "/api/v1/cards/{card_id}/revoke", "/api/v1/cards/{card_id}/close", "/.well-known/jwks.json"):
        assert path in spec["paths"], path
    described = json.dumps(spec["components"]["schemas"]["Verification"])
    for reason in ("bad_signature", "unknown_key", "expired", "revoked", "closed", "wrong_type", "malformed"):
        assert reason in described


# -- card ids (no database) ---------------------------------------------------------------
def test_card_ids_are_well_formed():
    for _ in range(200):
        value = card_ids.new_card_id()
        assert len(value) == 9 and card_ids.is_valid(value)
        assert set(value) <= set(card_ids.ALPHABET) and not set(value) & set("ILOU")
        assert card_ids.canonical(card_ids.display(value).lower()) == value


def test_check_character_catches_every_single_typo_and_neighbour_swap():
    samples = [card_ids.new_card_id() for _ in range(30)] + ["00000000" + card_ids.check_character("00000000")]
    missed_swaps = 0
    for value in samples:
        for i, wrong in itertools.product(range(9), card_ids.ALPHABET):
            if wrong != value[i]:
                assert not card_ids.is_valid(value[:i] + wrong + value[i + 1:])
        for i in range(8):
            if value[i] != value[i + 1]:
                swapped = value[:i] + value[i + 1] + value[i] + value[i + 2:]
                missed_swaps += card_ids.is_valid(swapped)
    assert missed_swaps <= 2  # Luhn mod N misses one pair of characters only (0↔V here)

