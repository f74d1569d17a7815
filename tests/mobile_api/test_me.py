"""The tourist's own view, push-token registration, and the API's documentation."""

from __future__ import annotations

from openapi_spec_validator import validate

from backend.extensions import db
from backend.tracking.models import Device
from tests.mobile_api.conftest import PHUKET_TOWN, ping


def test_me_shows_card_stay_and_last_position(client, mobile, app, factories):
    phone = mobile.enroll(full_name="Yuki Tanaka", nationality="JPN")
    me = client.get("/api/v1/mobile/me", headers=phone.headers).get_json()
    assert me["card"]["card_id"] == phone.card_id and me["card"]["full_name"] == "Yuki Tanaka"
    assert me["card"]["nationality"] == "JPN" and me["card"]["status"] == "active" and me["card"]["expires_at"]
    assert me["stay"] is None and me["last_position"] is None

    hotel_id = factories.hotel(name="Kata Palm Resort")
    with app.app_context():
        from backend.hotels.models import Stay

        db.session.add(Stay(hotel_id=hotel_id, card_id=phone.card_id, room="214"))
        db.session.commit()
    newest = ping(*PHUKET_TOWN, delta_s=-30)
    client.post("/api/v1/mobile/pings", json={"pings": [ping(7.82, 98.30, delta_s=-900), newest]},
                headers=phone.headers)
    me = client.get("/api/v1/mobile/me", headers=phone.headers).get_json()
    assert me["stay"]["hotel"] == "Kata Palm Resort" and me["stay"]["room"] == "214" and me["stay"]["checked_in_at"]
    assert (me["last_position"]["lat"], me["last_position"]["lon"]) == PHUKET_TOWN
    assert me["last_position"]["recorded_at"].startswith(newest["recorded_at"][:19])


def test_me_still_answers_after_the_card_is_closed(client, mobile):
    phone = mobile.enroll()
    mobile.set_card(phone.card_id, status="closed")
    me = client.get("/api/v1/mobile/me", headers=phone.headers)
    assert me.status_code == 200 and me.get_json()["card"]["status"] == "closed"


def test_push_token_is_registered_and_cleared(client, mobile, app):
    phone = mobile.enroll()
    response = client.put("/api/v1/mobile/push-token", json={"push_token": "fcm:abc123"}, headers=phone.headers)
    assert response.status_code == 200 and response.get_json()["push_enabled"] is True
    with app.app_context():
        assert db.session.get(Device, phone.device_id).push_token == "fcm:abc123"
    assert client.put("/api/v1/mobile/push-token", json={"push_token": None},
                      headers=phone.headers).get_json()["push_enabled"] is False
    for bad in ({}, {"push_token": ""}, {"push_token": 5}, {"push_token": "x" * 5000}):
        assert client.put("/api/v1/mobile/push-token", json=bad, headers=phone.headers).status_code == 422
    assert client.put("/api/v1/mobile/push-token", json={"push_token": "t"}).status_code == 401


def test_push_token_of_an_ended_card_is_403(client, mobile):
    phone = mobile.enroll()
    mobile.set_card(phone.card_id, status="revoked")
    assert client.put("/api/v1/mobile/push-token", json={"push_token": "fcm:x"},
                      headers=phone.headers).status_code == 403


def test_openapi_documents_the_mobile_api(client):
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    for path in ("/api/v1/mobile/enroll", "/api/v1/mobile/pings", "/api/v1/mobile/sos",
                 "/api/v1/mobile/sos/{incident_id}", "/api/v1/mobile/sos/{incident_id}/cancel",
                 "/api/v1/mobile/push-token", "/api/v1/mobile/me", "/api/v1/mobile/owntracks",
                 "/api/v1/mobile/osmand"):
        assert path in spec["paths"], path
    pings = spec["paths"]["/api/v1/mobile/pings"]["post"]
    assert pings["security"] == [{"deviceToken": []}]
    assert "ownTracksBasic" in spec["components"]["securitySchemes"]
