"""Web Push (RFC 8030/8291/8292) through the outbox, against a local stand-in push service.

The stand-in decrypts every message with the subscription's own private key (RFC 8291
aes128gcm, http_ece) and verifies the VAPID JWT (RFC 8292: ES256 with the key the server
serves, ``aud`` = the endpoint's origin, ``exp`` within 24 h, ``sub``) before it answers 201.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select, update

from tests.notifications.conftest import outbox_rows
from tests.notifications.test_broadcasts import ON_THE_BEACH, rip_current
from tests.webpush import b64url, serving, unb64url


@pytest.fixture
def push_service():
    """The local stand-in push service (decrypts and verifies every message)."""
    with serving() as state:
        yield state


@pytest.fixture
def app_config(fcm_config):
    """FCM through its stand-in (for phones with a token), Web Push allowed to the local stand-in."""
    return {**fcm_config, "WEBPUSH_ALLOWED_HOSTS": "127.0.0.1,fcm.googleapis.com,*.notify.windows.com"}


@pytest.fixture
def web(app, client, tourists, push_service):
    """Web-companion tourists: a device without an FCM token and a browser subscribed to the stand-in."""
    push_service.vapid_public_key = client.get("/api/v1/mobile/webpush/key").get_json()["public_key"]

    class Web:
        def add(self, *, language: str = "en", fcm: bool = False, subscribe: bool = True,
                **kwargs: Any) -> dict[str, Any]:
            tourist = tourists.add(language=language, push_token="auto" if fcm else None, **kwargs)
            tourist["token"] = tourists.device_token(tourist["device_ids"][0])
            tourist["headers"] = {"Authorization": f"Bearer {tourist['token']}"}
            tourist["browser"] = push_service.browser()
            if subscribe:
                response = client.put("/api/v1/mobile/webpush", json=tourist["browser"].subscription(),
                                      headers=tourist["headers"])
                assert response.status_code == 200, response.get_json()
            return tourist

    return Web()


def raise_sos(app, card_id: str) -> int:
    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident
    from backend.extensions import db

    with app.app_context():
        incident, _ = raise_incident(card_id=card_id, kind=IncidentKind.SOS, severity=Severity.CRITICAL,
                                     lat=7.8961, lon=98.2966, category="medical")
        db.session.commit()
        return incident.id


def sweep(runner) -> str:
    with runner.app.app_context():
        result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    return result.output


def deliveries(app) -> list[Any]:
    from backend.extensions import db
    from notifications.models import OutboxDelivery

    with app.app_context():
        rows = list(db.session.scalars(select(OutboxDelivery).order_by(OutboxDelivery.id)))
        db.session.expunge_all()
        return rows


def subscription_of(app, device_id: str) -> Any:
    from backend.extensions import db
    from notifications.models import WebPushSubscription

    with app.app_context():
        found = db.session.get(WebPushSubscription, device_id)
        if found is not None:
            db.session.expunge(found)
        return found


# --- the key ---------------------------------------------------------------------------------

def test_the_vapid_key_is_an_uncompressed_p256_point_kept_in_the_key_folder(app, client):
    first = client.get("/api/v1/mobile/webpush/key")
    assert first.status_code == 200  # public: no token
    key = first.get_json()["public_key"]
    raw = unb64url(key)
    assert len(raw) == 65 and raw[0] == 4 and "=" not in key
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    assert client.get("/api/v1/mobile/webpush/key").get_json()["public_key"] == key
    folder = os.path.join(app.config["CARD_KEYS_DIR"], "webpush")
    pems = [name for name in os.listdir(folder) if name.endswith(".pem")]
    assert len(pems) == 1 and os.stat(os.path.join(folder, pems[0])).st_mode & 0o077 == 0
    assert b"ENCRYPTED PRIVATE KEY" in Path(folder, pems[0]).read_bytes()
    assert "/api/v1/mobile/webpush/key" in client.get("/openapi.json").get_json()["paths"]


# --- delivery ----------------------------------------------------------------------------------

def test_an_sos_update_reaches_a_web_companion_without_an_fcm_token(app, runner, web, push_service, fcm):
    tourist = web.add(language="ru", lat=7.8961, lon=98.2966)
    incident_id = raise_sos(app, tourist["card_id"])
    [row] = outbox_rows(app, card_id=tourist["card_id"])

    output = sweep(runner)
    assert "webpush sent 1" in output, output
    assert not push_service.errors
    [got] = push_service.for_browser(tourist["browser"])
    assert got.payload == {"title": "Сигнал SOS получен", "body": row.body, "kind": "sos_received",
                           "incident_id": incident_id, "url": f"/app#sos-{incident_id}",
                           "message_id": str(row.id), "language": "ru"}
    assert got.claims["aud"] == push_service.base
    assert got.headers["urgency"] == "high" and int(got.headers["ttl"]) > 0
    assert not fcm.sends()  # no FCM token: nothing went to FCM
    [delivery] = deliveries(app)
    assert delivery.status == "sent" and delivery.attempts == 1 and delivery.provider_message_id.startswith(
        push_service.base)
    assert outbox_rows(app, card_id=tourist["card_id"])[0].status == "held"  # FCM's own state

    # acknowledged by the 191 center: one more message, and nothing sent twice across sweeps
    from backend.dispatch.models import Incident, IncidentStatus
    from backend.dispatch.service import transition
    from backend.extensions import db

    with app.app_context():
        transition(db.session.get(Incident, incident_id), IncidentStatus.ACKNOWLEDGED, actor="somchai")
        db.session.commit()
    sweep(runner)
    sweep(runner)
    titles = [d.payload["title"] for d in push_service.for_browser(tourist["browser"])]
    assert titles == ["Сигнал SOS получен", "Ваш SOS обрабатывается"]
    assert len(push_service.posts) == 2


def test_a_broadcast_reaches_the_subscribed_browser_in_its_language(app, client, auth, runner, web, push_service):
    tourist = web.add(language="th", lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1])
    created = client.post("/api/v1/broadcasts", json=rip_current(severity="Extreme"),
                          headers=auth.headers("dispatcher")).get_json()
    sweep(runner)
    [got] = push_service.for_browser(tourist["browser"])
    [row] = outbox_rows(app, card_id=tourist["card_id"])
    assert got.payload["title"] == "กระแสน้ำย้อนกลับที่ป่าตอง ห้ามลงเล่นน้ำ"
    assert got.payload["body"] == row.body
    assert got.payload["kind"] == "broadcast" and got.payload["broadcast_id"] == created["id"]
    assert got.payload["url"] == f"/app#message-{row.id}" and got.payload["severity"] == "Extreme"
    assert "incident_id" not in got.payload


def test_a_phone_with_both_channels_gets_each_message_once_on_each(app, runner, web, push_service, fcm):
    tourist = web.add(fcm=True)
    raise_sos(app, tourist["card_id"])
    sweep(runner)
    sweep(runner)
    assert len(fcm.sends()) == 1 and len(push_service.for_browser(tourist["browser"])) == 1
    [row] = outbox_rows(app, card_id=tourist["card_id"])
    assert row.status == "sent"


def test_gone_410_removes_the_subscription_and_nothing_more_is_posted(app, runner, web, push_service):
    tourist = web.add()
    push_service.answer(tourist["browser"], (410, {}))
    raise_sos(app, tourist["card_id"])
    sweep(runner)
    [delivery] = deliveries(app)
    assert delivery.status == "dropped" and delivery.last_error.startswith("410")
    assert subscription_of(app, tourist["device_ids"][0]) is None

    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident
    from backend.extensions import db

    with app.app_context():
        raise_incident(card_id=tourist["card_id"], kind=IncidentKind.LEFT_AREA, severity=Severity.HIGH)
        db.session.commit()
    sweep(runner)
    assert push_service.posts == [tourist["browser"].endpoint.removeprefix(push_service.base)]
    assert len(deliveries(app)) == 1  # no delivery for a device without a subscription


def test_429_and_503_are_retried_later_honouring_retry_after(app, runner, web, push_service):
    from backend.extensions import db
    from backend.models_base import utcnow
    from notifications.models import OutboxDelivery

    tourist = web.add()
    push_service.answer(tourist["browser"], (429, {"Retry-After": "120"}), (503, {}), (201, {}))
    raise_sos(app, tourist["card_id"])

    before = utcnow()
    assert "webpush retry 1" in sweep(runner)
    [delivery] = deliveries(app)
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_error.startswith("429")
    assert delivery.next_attempt_at >= before + timedelta(seconds=119)
    sweep(runner)  # not due yet: not posted again
    assert len(push_service.posts) == 1

    def due_now() -> None:
        with app.app_context():
            db.session.execute(update(OutboxDelivery).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()

    due_now()
    sweep(runner)
    [delivery] = deliveries(app)
    assert delivery.status == "pending" and delivery.attempts == 2 and delivery.last_error.startswith("503")
    assert delivery.next_attempt_at > utcnow() + timedelta(seconds=50)  # our own backoff (60 s)
    due_now()
    sweep(runner)
    sweep(runner)
    [delivery] = deliveries(app)
    assert delivery.status == "sent" and delivery.attempts == 3
    assert len(push_service.for_browser(tourist["browser"])) == 1 and len(push_service.posts) == 3


def test_a_message_queued_before_subscribing_is_not_pushed_but_later_ones_are(app, client, runner, web,
                                                                             push_service):
    tourist = web.add(subscribe=False)
    raise_sos(app, tourist["card_id"])
    sweep(runner)
    assert client.put("/api/v1/mobile/webpush", json=tourist["browser"].subscription(),
                      headers=tourist["headers"]).status_code == 200
    sweep(runner)
    assert push_service.posts == []

    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident
    from backend.extensions import db

    with app.app_context():
        raise_incident(card_id=tourist["card_id"], kind=IncidentKind.LEFT_AREA, severity=Severity.HIGH)
        db.session.commit()
    sweep(runner)
    [got] = push_service.for_browser(tourist["browser"])
    assert got.payload["kind"] == "left_area" and got.payload["url"] == "/app#map"


# --- the subscription API ----------------------------------------------------------------------

def test_subscribe_replace_and_delete(app, client, web, push_service):
    tourist = web.add()
    device_id = tourist["device_ids"][0]
    assert subscription_of(app, device_id).endpoint == tourist["browser"].endpoint
    rotated = push_service.browser()  # the browser rotated its subscription (pushsubscriptionchange)
    response = client.put("/api/v1/mobile/webpush", json=rotated.subscription(), headers=tourist["headers"])
    assert response.status_code == 200
    assert response.get_json() == {"device_id": device_id, "webpush_enabled": True, "endpoint_host": "127.0.0.1"}
    assert subscription_of(app, device_id).endpoint == rotated.endpoint

    from backend.extensions import db
    from notifications.models import WebPushSubscription

    with app.app_context():
        assert db.session.query(WebPushSubscription).count() == 1  # one per device
    assert client.delete("/api/v1/mobile/webpush", headers=tourist["headers"]).status_code == 204
    assert subscription_of(app, device_id) is None
    assert client.delete("/api/v1/mobile/webpush", headers=tourist["headers"]).status_code == 204


def test_another_device_cannot_delete_or_take_over_your_subscription(app, client, web):
    mine = web.add()
    theirs = web.add()
    assert client.delete("/api/v1/mobile/webpush", headers=theirs["headers"]).status_code == 204
    assert subscription_of(app, mine["device_ids"][0]).endpoint == mine["browser"].endpoint
    response = client.put("/api/v1/mobile/webpush", json=mine["browser"].subscription(), headers=theirs["headers"])
    assert response.status_code == 409 and response.get_json()["code"] == 409
    assert subscription_of(app, mine["device_ids"][0]).endpoint == mine["browser"].endpoint
    assert subscription_of(app, theirs["device_ids"][0]) is None  # its own was deleted; the 409 added none


def test_without_a_device_token_401(client, web):
    tourist = web.add(subscribe=False)
    assert client.put("/api/v1/mobile/webpush", json=tourist["browser"].subscription()).status_code == 401
    assert client.delete("/api/v1/mobile/webpush").status_code == 401
    assert client.put("/api/v1/mobile/webpush", json=tourist["browser"].subscription(),
                      headers={"Authorization": "Bearer nonsense"}).status_code == 401


BAD_ENDPOINTS = [
    "https://evil.example.com/push/1",  # not a push service
    "https://fcm.googleapis.com.evil.example.com/wp/1",  # a lookalike
    "http://fcm.googleapis.com/wp/1",  # a listed service, but not https
    "https://notify.windows.com/w/1",  # *.notify.windows.com means a subdomain
    "https://user:pw@fcm.googleapis.com/wp/1",
    "ftp://127.0.0.1/wp/1",
    "not a url",
    "https://" + "a" * 2050 + ".fcm.googleapis.com/",
    "http://127.0.0.1:99999/wp",  # a bad port
]


def test_an_endpoint_not_on_an_allowed_push_service_is_422(app, client, web):
    tourist = web.add(subscribe=False)
    for endpoint in BAD_ENDPOINTS:
        body = {**tourist["browser"].subscription(), "endpoint": endpoint}
        response = client.put("/api/v1/mobile/webpush", json=body, headers=tourist["headers"])
        assert response.status_code == 422, (endpoint, response.get_json())
        assert "endpoint" in response.get_json()["errors"]["json"], endpoint
    assert subscription_of(app, tourist["device_ids"][0]) is None


def test_listed_push_services_and_their_subdomains_are_accepted(app, client, web):
    tourist = web.add(subscribe=False)
    for endpoint in ("https://fcm.googleapis.com/wp/abc", "https://wns2-db5p.notify.windows.com/w/?token=x"):
        body = {**tourist["browser"].subscription(), "endpoint": endpoint}
        assert client.put("/api/v1/mobile/webpush", json=body, headers=tourist["headers"]).status_code == 200


def _other_point() -> str:
    raw = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    return b64url(raw)


BAD_KEYS = [
    ({"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": b64url(b"a" * 16)}, "p256dh"),  # not on the curve
    ({"p256dh": "compressed", "auth": b64url(b"a" * 16)}, "p256dh"),  # 33-byte compressed point
    ({"p256dh": "BOT+/not/base64url+", "auth": b64url(b"a" * 16)}, "p256dh"),
    ({"p256dh": "good", "auth": b64url(b"a" * 15)}, "auth"),
    ({"p256dh": "good", "auth": b64url(b"a" * 32)}, "auth"),
    ({"p256dh": "good", "auth": "***"}, "auth"),
]


def test_bad_keys_are_422(app, client, web):
    tourist = web.add(subscribe=False)
    good = tourist["browser"].subscription()["keys"]
    for keys, bad in BAD_KEYS:
        keys = {k: (good[k] if v == "good" else _other_point() if v == "compressed" else v) for k, v in keys.items()}
        body = {**tourist["browser"].subscription(), "keys": keys}
        response = client.put("/api/v1/mobile/webpush", json=body, headers=tourist["headers"])
        assert response.status_code == 422, (keys, response.get_json())
        assert bad in response.get_json()["errors"]["json"]["keys"], keys
    assert subscription_of(app, tourist["device_ids"][0]) is None


WRONG_BODIES = [
    {"endpoint": None}, {"endpoint": 42}, {"keys": "p256dh"}, {"keys": {"p256dh": 1, "auth": 2}},
    {"keys": {"auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, {"extra": 1}, {"expirationTime": "tomorrow"},
]


def test_wrong_types_missing_and_unknown_fields_are_422(app, client, web):
    tourist = web.add(subscribe=False)
    for change in WRONG_BODIES:
        body = {**tourist["browser"].subscription(), **change}
        response = client.put("/api/v1/mobile/webpush", json=body, headers=tourist["headers"])
        assert response.status_code == 422 and response.get_json()["code"] == 422, change
    body = {k: v for k, v in tourist["browser"].subscription().items() if k != "endpoint"}
    assert client.put("/api/v1/mobile/webpush", json=body, headers=tourist["headers"]).status_code == 422
    assert client.put("/api/v1/mobile/webpush", data="not json", headers={
        **tourist["headers"], "Content-Type": "application/json"}).status_code in (400, 422)
    assert subscription_of(app, tourist["device_ids"][0]) is None


def test_an_oversize_body_is_413(app, client, web):
    tourist = web.add(subscribe=False)
    body = {**tourist["browser"].subscription(), "endpoint": "https://fcm.googleapis.com/" + "x" * 2_000_000}
    response = client.put("/api/v1/mobile/webpush", json=body, headers=tourist["headers"])
    assert response.status_code == 413 and response.get_json()["code"] == 413
    assert subscription_of(app, tourist["device_ids"][0]) is None


def test_concurrent_puts_of_one_subscription_never_fail_with_a_500(app, client, web):
    import threading

    tourist = web.add(subscribe=False)
    body = tourist["browser"].subscription()
    statuses: list[int] = []

    def put() -> None:
        with app.test_client() as own:
            statuses.append(own.put("/api/v1/mobile/webpush", json=body, headers=tourist["headers"]).status_code)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == 6 and set(statuses) <= {200, 409} and 200 in statuses, statuses
    assert subscription_of(app, tourist["device_ids"][0]).endpoint == tourist["browser"].endpoint
