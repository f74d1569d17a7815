"""Ping batches: validation per ping, idempotency, refusal for ended cards, next ping interval."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.dispatch.models import Incident
from backend.extensions import db
from backend.tracking.models import LatestPosition, Ping
from tests.mobile_api.conftest import CHALONG_BAY, PATONG_RIP, PHI_PHI, PHUKET_TOWN, now_iso, ping

PINGS = "/api/v1/mobile/pings"


def test_a_batch_in_any_order_is_stored_and_the_newest_fix_wins(client, mobile, app, seeded):
    phone = mobile.enroll()
    newest = ping(*PHUKET_TOWN, delta_s=-60, accuracy_m=8.5, battery_pct=71, speed_mps=1.2, heading_deg=90)
    batch = [ping(7.8900, 98.3900, delta_s=-3600), newest, ping(7.8850, 98.3910, delta_s=-1800)]
    response = client.post(PINGS, json={"pings": batch}, headers=phone.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"accepted": 3, "duplicates": 0, "rejected": [], "next_ping_in_s": app.config["PING_INTERVAL_S"]}
    with app.app_context():
        latest = db.session.get(LatestPosition, phone.card_id)
        assert (latest.lat, latest.lon) == PHUKET_TOWN
        stored = db.session.scalar(select(Ping).where(Ping.client_id == newest["id"]))
        assert stored.device_id == phone.device_id and stored.source == "app"
        assert (stored.accuracy_m, stored.battery_pct, stored.speed_mps, stored.heading_deg) == (8.5, 71, 1.2, 90)


def test_resending_a_batch_changes_nothing(client, mobile):
    phone = mobile.enroll()
    batch = [ping(*PHUKET_TOWN, delta_s=-120), ping(*PHUKET_TOWN, delta_s=-60)]
    assert client.post(PINGS, json={"pings": batch}, headers=phone.headers).get_json()["accepted"] == 2
    again = client.post(PINGS, json={"pings": batch + [batch[0]]}, headers=phone.headers).get_json()
    assert again["accepted"] == 0 and again["duplicates"] == 3
    assert mobile.count(Ping, card_id=phone.card_id) == 2


def test_one_bad_ping_never_drops_the_good_ones(client, mobile):
    phone = mobile.enroll()
    good = [ping(*PHUKET_TOWN, delta_s=-300), ping(*PHUKET_TOWN, delta_s=-200)]
    bad = [
        ping(lat=200),
        {**ping(), "lat": float("nan")},
        ping(lon="98.3"),
        {**ping(), "id": "not-a-uuid"},
        ping(delta_s=86400 * 365),
        {**ping(), "recorded_at": "1970-01-01T00:00:00Z"},
        {**ping(), "recorded_at": "yesterday"},
        ping(battery_pct=140),
        "a string",
        {"id": str(uuid.uuid4())},
    ]
    batch = [good[0], *bad, good[1]]
    body = json.dumps({"pings": batch}, allow_nan=True)  # a NaN literal, as a sloppy client may send
    response = client.post(PINGS, data=body, content_type="application/json", headers=phone.headers)
    assert response.status_code == 200
    result = response.get_json()
    assert result["accepted"] == 2
    assert [r["index"] for r in result["rejected"]] == list(range(1, len(bad) + 1))
    fields = [set(r["errors"]) for r in result["rejected"]]
    assert fields[0] == {"lat"} and fields[1] == {"lat"} and fields[2] == {"lon"} and fields[3] == {"id"}
    assert fields[4] == {"recorded_at"} and fields[5] == {"recorded_at"} and fields[7] == {"battery_pct"}
    assert mobile.count(Ping, card_id=phone.card_id) == 2


@pytest.mark.parametrize("bad", [
    {"lat": 200}, {"lat": -90.5}, {"lon": 181}, {"lat": "7.9"}, {"lat": None}, {"lat": True},
    {"lat": float("inf")}, {"id": "1234"}, {"id": 42}, {"recorded_at": "1970-01-01T00:00:00Z"},
    {"recorded_at": "2010-01-01T00:00:00+07:00"}, {"recorded_at": now_iso(2 * 86400)},
    {"recorded_at": "2026-01-01T00:00:00"}, {"recorded_at": 1764000000}, {"accuracy_m": -5},
    {"heading_deg": 400}, {"speed_mps": "fast"},
])
def test_a_batch_without_any_valid_ping_is_422_and_stores_nothing(client, mobile, bad):
    phone = mobile.enroll()
    body = json.dumps({"pings": [{**ping(*PHUKET_TOWN), **bad}]}, allow_nan=True)
    response = client.post(PINGS, data=body, content_type="application/json", headers=phone.headers)
    assert response.status_code == 422
    payload = response.get_json()
    assert payload["code"] == 422 and payload["errors"]["json"]["pings"]["0"]
    assert mobile.count(Ping, card_id=phone.card_id) == 0
    assert mobile.count(LatestPosition, card_id=phone.card_id) == 0


@pytest.mark.parametrize("body", [
    {}, {"pings": []}, {"pings": "many"}, {"pings": {"0": {}}}, [], {"pings": [], "extra": 1},
])
def test_malformed_batches_are_422(client, mobile, body):
    phone = mobile.enroll()
    response = client.post(PINGS, json=body, headers=phone.headers)
    assert response.status_code == 422
    assert response.get_json()["code"] == 422


def test_501_pings_are_422_and_500_are_fine(client, mobile):
    phone = mobile.enroll()
    base = datetime.now(UTC) - timedelta(hours=10)
    batch = [{"id": str(uuid.uuid4()), "lat": PHUKET_TOWN[0], "lon": PHUKET_TOWN[1],
              "recorded_at": (base + timedelta(seconds=i)).isoformat()} for i in range(501)]
    too_many = client.post(PINGS, json={"pings": batch}, headers=phone.headers)
    assert too_many.status_code == 422
    assert "pings" in too_many.get_json()["errors"]["json"]
    assert mobile.count(Ping, card_id=phone.card_id) == 0
    ok = client.post(PINGS, json={"pings": batch[:500]}, headers=phone.headers)
    assert ok.status_code == 200 and ok.get_json()["accepted"] == 500


def test_a_10_mb_body_is_413(client, mobile):
    phone = mobile.enroll()
    big = json.dumps({"pings": [ping()], "padding": "x" * (10 * 1024 * 1024)})
    response = client.post(PINGS, data=big, content_type="application/json", headers=phone.headers)
    assert response.status_code == 413
    assert response.get_json()["code"] == 413
    assert mobile.count(Ping, card_id=phone.card_id) == 0


def test_not_json_is_400(client, mobile):
    phone = mobile.enroll()
    response = client.post(PINGS, data="{pings: [", content_type="application/json", headers=phone.headers)
    assert response.status_code == 400


def test_pings_need_a_device_token(client, mobile, auth):
    assert client.post(PINGS, json={"pings": [ping()]}).status_code == 401
    assert client.post(PINGS, json={"pings": [ping()]}, headers=auth.headers("admin")).status_code == 401


@pytest.mark.parametrize("change", [
    {"status": "closed"}, {"status": "revoked"}, {"expires_at": datetime.now(UTC) - timedelta(minutes=1)},
])
def test_pings_of_an_ended_card_are_403_and_nothing_is_stored(client, mobile, change):
    phone = mobile.enroll()
    mobile.set_card(phone.card_id, **change)
    response = client.post(PINGS, json={"pings": [ping(*PHUKET_TOWN)]}, headers=phone.headers)
    assert response.status_code == 403
    assert response.get_json()["code"] == 403
    assert mobile.count(Ping, card_id=phone.card_id) == 0


def test_device_revoked_with_its_card_gets_403(client, mobile, app):
    from backend.tracking.models import Device

    phone = mobile.enroll()
    now = datetime.now(UTC)
    mobile.set_card(phone.card_id, status="closed", closed_at=now, tracking_ended_at=now)
    with app.app_context():
        db.session.get(Device, phone.device_id).revoked_at = now
        db.session.commit()
    assert client.post(PINGS, json={"pings": [ping()]}, headers=phone.headers).status_code == 403
    assert mobile.count(Ping, card_id=phone.card_id) == 0


def test_someone_elses_pings_land_on_their_own_card(client, mobile, app):
    anna, ben = mobile.enroll(), mobile.enroll(full_name="Ben Lee", nationality="GBR")
    shared_id = str(uuid.uuid4())
    for phone in (anna, ben):
        batch = [{**ping(*PHUKET_TOWN), "id": shared_id}]
        assert client.post(PINGS, json={"pings": batch}, headers=phone.headers).get_json()["accepted"] == 1
    assert mobile.count(Ping, card_id=anna.card_id) == 1 and mobile.count(Ping, card_id=ben.card_id) == 1


def test_pings_run_the_geofence_rules(client, mobile, app, seeded):
    phone = mobile.enroll()
    assert client.post(PINGS, json={"pings": [ping(*PHUKET_TOWN, delta_s=-1200)]},
                       headers=phone.headers).get_json()["next_ping_in_s"] == app.config["PING_INTERVAL_S"]
    response = client.post(PINGS, json={"pings": [ping(*PATONG_RIP, delta_s=-600)]}, headers=phone.headers)
    assert response.status_code == 200
    # an open incident: the app is asked to report more often
    assert response.get_json()["next_ping_in_s"] == app.config["PING_INTERVAL_ALERT_S"]
    with app.app_context():
        kinds = set(db.session.scalars(select(Incident.kind).where(Incident.card_id == phone.card_id)))
    assert kinds == {"danger_zone"}


def test_leaving_the_province_raises_left_area(client, mobile, app, seeded):
    phone = mobile.enroll()
    batch = [ping(*CHALONG_BAY, delta_s=-5400), ping(*PHUKET_TOWN, delta_s=-7200), ping(*PHI_PHI, delta_s=-60)]
    response = client.post(PINGS, json={"pings": batch}, headers=phone.headers)
    assert response.status_code == 200 and response.get_json()["accepted"] == 3
    with app.app_context():
        kinds = set(db.session.scalars(select(Incident.kind).where(Incident.card_id == phone.card_id)))
    assert "left_area" in kinds


def test_at_sea_the_app_reports_more_often(client, mobile, app, seeded):
    phone = mobile.enroll()
    response = client.post(PINGS, json={"pings": [ping(*CHALONG_BAY)]}, headers=phone.headers)
    assert response.get_json()["next_ping_in_s"] == app.config["PING_INTERVAL_ALERT_S"]
    back = client.post(PINGS, json={"pings": [ping(*PHUKET_TOWN, delta_s=-10)]}, headers=phone.headers)
    assert back.get_json()["next_ping_in_s"] == app.config["PING_INTERVAL_S"]
