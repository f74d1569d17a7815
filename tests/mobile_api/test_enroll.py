"""Enrollment with card id + code, device tokens, device limit, throttling."""

from __future__ import annotations

import pytest

from backend.auth.tokens import TokenKind, encode
from tests.mobile_api.conftest import ping

ENROLL = "/api/v1/mobile/enroll"


def test_enroll_returns_a_device_token_and_osmand_id(client, mobile, app):
    card_id, code = mobile.card()
    response = client.post(ENROLL, json={"card_id": card_id, "enrollment_code": code, "platform": "ios",
                                         "push_token": "fcm-token-1", "language": "de"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["device_id"] and body["device_token"]
    assert len(body["osmand_id"]) >= 24  # long and random: Traccar Client sends no secret
    assert body["ping_interval_s"] == app.config["PING_INTERVAL_S"]
    assert [d["device_id"] for d in body["devices"]] == [body["device_id"]]
    me = client.get("/api/v1/mobile/me", headers={"Authorization": f"Bearer {body['device_token']}"})
    assert me.status_code == 200
    assert me.get_json()["card"]["card_id"] == card_id


def test_code_is_forgiving_about_case_and_dashes(client, mobile):
    card_id, code = mobile.card()
    sloppy = code.lower().replace("-", " ")
    response = client.post(ENROLL, json={"card_id": card_id, "enrollment_code": sloppy, "platform": "android"})
    assert response.status_code == 201


def test_wrong_code_and_unknown_card_are_401(client, mobile):
    card_id, code = mobile.card()
    wrong = client.post(ENROLL, json={"card_id": card_id, "enrollment_code": "AAAA-AAAA", "platform": "android"})
    assert wrong.status_code == 401
    assert wrong.get_json()["code"] == 401 and wrong.get_json()["message"]
    unknown = client.post(ENROLL, json={"card_id": "NOPE0000", "enrollment_code": code, "platform": "android"})
    assert unknown.status_code == 401
    assert "device_token" not in wrong.get_json() and "device_token" not in unknown.get_json()


def test_repeated_wrong_codes_lock_the_card_from_that_address_only(client, mobile, app):
    app.config["THROTTLE_SLOW_MAX_S"] = 1
    card_id, code = mobile.card()
    attacker = {"REMOTE_ADDR": "203.0.113.66"}
    codes = [client.post(ENROLL, json={"card_id": card_id, "enrollment_code": f"BAD{i}-CODE", "platform": "android"},
                         environ_base=attacker).status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2
    locked = client.post(ENROLL, json={"card_id": card_id, "enrollment_code": code, "platform": "android"},
                         environ_base=attacker)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    # the tourist, on another network, still gets in with the right code (the card is only slowed)
    owner = client.post(ENROLL, json={"card_id": card_id, "enrollment_code": code, "platform": "android"},
                        environ_base={"REMOTE_ADDR": "198.51.100.20"})
    assert owner.status_code == 201
    # another card is not affected, even from the attacker's address
    other_id, other_code = mobile.card()
    assert client.post(ENROLL, json={"card_id": other_id, "enrollment_code": other_code, "platform": "android"},
                       environ_base={"REMOTE_ADDR": "198.51.100.21"}).status_code == 201


def test_wrong_codes_from_many_addresses_slow_the_card_but_never_lock_it(client, mobile, app):
    import time

    app.config["THROTTLE_SLOW_MAX_S"] = 1
    card_id, code = mobile.card()
    codes = [client.post(ENROLL, json={"card_id": card_id, "enrollment_code": f"BAD{i}-CODE", "platform": "android"},
                         environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code for i in range(8)]
    assert codes == [401] * 8
    started = time.monotonic()
    owner = client.post(ENROLL, json={"card_id": card_id, "enrollment_code": code, "platform": "android"},
                        environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert owner.status_code == 201
    assert time.monotonic() - started >= 0.9  # slowed, not locked


def test_repeated_wrong_codes_are_throttled_per_address(client, mobile, app):
    app.config["ENROLL_MAX_FAILURES_PER_ADDR"] = 4
    cards = [mobile.card() for _ in range(5)]
    addr = {"REMOTE_ADDR": "203.0.113.7"}
    codes = [client.post(ENROLL, json={"card_id": card_id, "enrollment_code": "ZZZZ-ZZZZ", "platform": "other"},
                         environ_base=addr).status_code for card_id, _ in cards[:4]]
    assert codes == [401] * 4
    card_id, code = cards[4]
    assert client.post(ENROLL, json={"card_id": card_id, "enrollment_code": code, "platform": "other"},
                       environ_base=addr).status_code == 429
    assert client.post(ENROLL, json={"card_id": card_id, "enrollment_code": code, "platform": "other"},
                       environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 201


@pytest.mark.parametrize("status", ["closed", "revoked"])
def test_ended_card_cannot_enroll(client, mobile, status):
    card_id, code = mobile.card(status=status)
    response = client.post(ENROLL, json={"card_id": card_id, "enrollment_code": code, "platform": "android"})
    assert response.status_code == 403
    assert status in response.get_json()["message"]


def test_expired_card_cannot_enroll(client, mobile):
    card_id, code = mobile.card(days=-1)
    response = client.post(ENROLL, json={"card_id": card_id, "enrollment_code": code, "platform": "android"})
    assert response.status_code == 403


def test_enrolling_again_keeps_three_devices_and_revokes_the_oldest(client, mobile):
    card_id, code = mobile.card()
    phones = [mobile.enroll(card_id, code) for _ in range(3)]
    for phone in phones:  # all three work
        assert client.get("/api/v1/mobile/me", headers=phone.headers).status_code == 200
    # the first phone pings, so the second is now the least recently seen
    assert client.post("/api/v1/mobile/pings", json={"pings": [ping(7.8804, 98.3923)]},
                       headers=phones[0].headers).status_code == 200
    response = client.post(ENROLL, json={"card_id": card_id, "enrollment_code": code, "platform": "android"})
    assert response.status_code == 201
    body = response.get_json()
    assert len(body["devices"]) == 3
    assert body["revoked_device_ids"]
    revoked = body["revoked_device_ids"][0]
    assert revoked in {phones[1].device_id, phones[2].device_id}
    assert revoked not in {d["device_id"] for d in body["devices"]}
    by_id = {p.device_id: p for p in phones}
    assert client.get("/api/v1/mobile/me", headers=by_id[revoked].headers).status_code == 401
    assert client.get("/api/v1/mobile/me", headers=phones[0].headers).status_code == 200


@pytest.mark.parametrize("payload", [
    {},
    {"card_id": "X", "enrollment_code": "Y"},
    {"card_id": "X", "enrollment_code": "Y", "platform": "windows-phone"},
    {"card_id": 5, "enrollment_code": "Y", "platform": "ios"},
    {"card_id": "X", "enrollment_code": None, "platform": "ios"},
    {"card_id": "X" * 200, "enrollment_code": "Y", "platform": "ios"},
    {"card_id": "X", "enrollment_code": "Y", "platform": "ios", "language": "not a language!"},
    {"card_id": "X", "enrollment_code": "Y", "platform": "ios", "admin": True},
])
def test_enroll_validation_is_422(client, payload):
    response = client.post(ENROLL, json=payload)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == 422 and isinstance(body["errors"], dict)


def test_tokens_are_never_accepted_in_each_others_place(client, mobile, auth, app):
    phone = mobile.enroll()
    # a device token is not a staff token
    assert client.get("/api/v1/auth/me", headers=phone.headers).status_code == 401
    # a staff token is not a device token
    assert client.get("/api/v1/mobile/me", headers=auth.headers("admin")).status_code == 401
    # a well-signed device token for a device that does not exist / was never issued
    with app.app_context():
        forged = encode(TokenKind.DEVICE, phone.device_id, ttl_s=None)
    assert client.get("/api/v1/mobile/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert client.get("/api/v1/mobile/me").status_code == 401
    assert client.get("/api/v1/mobile/me", headers={"Authorization": "Bearer garbage"}).status_code == 401
