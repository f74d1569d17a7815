"""The tourist chooses the language of everything sent to the phone: PATCH /api/v1/mobile/me."""

from __future__ import annotations

import pytest

from backend.extensions import db
from backend.tracking.models import Device
from tests.mobile_api.conftest import now_iso


def _outbox(app, **filters):
    from sqlalchemy import select

    from notifications.models import OutboxMessage

    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).filter_by(**filters).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def _device_language(app, device_id: str) -> str | None:
    with app.app_context():
        return db.session.get(Device, device_id).language


def test_the_chosen_language_is_in_me_and_in_every_later_message(client, mobile, app):
    phone = mobile.enroll(language="en")
    assert client.get("/api/v1/mobile/me", headers=phone.headers).get_json()["language"] == "en"

    response = client.patch("/api/v1/mobile/me", json={"language": "ar"}, headers=phone.headers)
    assert response.status_code == 200, response.get_json()
    me = response.get_json()
    assert me["language"] == "ar" and me["card"]["card_id"] == phone.card_id and me["device_id"] == phone.device_id
    assert client.get("/api/v1/mobile/me", headers=phone.headers).get_json()["language"] == "ar"

    sos = client.post("/api/v1/mobile/sos", headers=phone.headers, json={
        "id": "0b7c1c52-1d2f-4b8e-9d55-0a6f5c1f6a01", "lat": 7.8961, "lon": 98.2966, "recorded_at": now_iso(-5)})
    assert sos.status_code == 201, sos.get_json()
    [row] = _outbox(app, device_id=phone.device_id, topic="sos_received")
    assert row.language == "ar" and row.title == "تم استلام نداء الاستغاثة" and "191" in row.body


def test_a_region_or_script_subtag_is_reduced_to_the_language(client, mobile, app):
    phone = mobile.enroll()
    for tag, stored in (("zh-Hans-CN", "zh"), ("HE", "he"), ("pt", None), ("ms-MY", "ms")):
        response = client.patch("/api/v1/mobile/me", json={"language": tag}, headers=phone.headers)
        if stored is None:
            assert response.status_code == 422
            continue
        assert response.status_code == 200, (tag, response.get_json())
        assert response.get_json()["language"] == stored
        assert _device_language(app, phone.device_id) == stored


@pytest.mark.parametrize("body", [
    {}, {"language": None}, {"language": 5}, {"language": ["ar"]}, {"language": {"tag": "ar"}},
    {"language": ""}, {"language": "xx"}, {"language": "klingon"}, {"language": "ar!"}, {"language": "a" * 40},
    {"language": "ar", "push_token": "x"}, ["ar"], "ar",
])
def test_a_wrong_or_unsupported_language_is_422_and_changes_nothing(client, mobile, app, body):
    phone = mobile.enroll(language="th")
    response = client.patch("/api/v1/mobile/me", json=body, headers=phone.headers)
    assert response.status_code == 422, response.get_json()
    payload = response.get_json()
    assert payload["code"] == 422 and payload["message"] and payload["errors"]
    assert _device_language(app, phone.device_id) is None
    assert client.get("/api/v1/mobile/me", headers=phone.headers).get_json()["language"] == "th"


def test_an_unsupported_tag_names_the_supported_ones(client, mobile):
    phone = mobile.enroll()
    response = client.patch("/api/v1/mobile/me", json={"language": "it"}, headers=phone.headers)
    assert response.status_code == 422
    [error] = response.get_json()["errors"]["json"]["language"]
    assert "en" in error and "he" in error


def test_an_oversize_or_non_json_body_is_refused(client, mobile, app):
    phone = mobile.enroll()
    huge = '{"language": "ar", "pad": "' + "x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + '"}'
    response = client.patch("/api/v1/mobile/me", data=huge,
                            headers={**phone.headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.get_json()["code"] == 413
    response = client.patch("/api/v1/mobile/me", data="not json",
                            headers={**phone.headers, "Content-Type": "application/json"})
    assert response.status_code in (400, 422) and response.get_json()["message"]
    assert _device_language(app, phone.device_id) is None


def test_only_a_device_token_may_change_it_and_only_its_own_phone(client, mobile, app, auth):
    first = mobile.enroll()
    second = mobile.enroll()
    assert client.patch("/api/v1/mobile/me", json={"language": "ar"}).status_code == 401
    assert client.patch("/api/v1/mobile/me", json={"language": "ar"},
                        headers=auth.headers("admin")).status_code == 401
    assert client.patch("/api/v1/mobile/me", json={"language": "ar"},
                        headers={"Authorization": "Bearer not-a-token"}).status_code == 401

    response = client.patch("/api/v1/mobile/me", json={"language": "ja"}, headers=second.headers)
    assert response.status_code == 200 and response.get_json()["card"]["card_id"] == second.card_id
    assert _device_language(app, second.device_id) == "ja"
    assert _device_language(app, first.device_id) is None  # the other phone is untouched
    assert client.get("/api/v1/mobile/me", headers=first.headers).get_json()["language"] == "en"


def test_the_language_may_be_changed_after_the_card_ended(client, mobile, app):
    phone = mobile.enroll()
    mobile.set_card(phone.card_id, status="closed")
    response = client.patch("/api/v1/mobile/me", json={"language": "ko"}, headers=phone.headers)
    assert response.status_code == 200 and response.get_json()["language"] == "ko"  # SOS updates still reach it


def test_patch_me_is_documented(client):
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/mobile/me"]["patch"]
    assert "422" in operation["responses"] and "requestBody" in operation
    me = spec["components"]["schemas"]["Me"]
    assert "language" in me["properties"]
