"""OwnTracks (HTTP mode) with payloads from the OwnTracks booklet and apps."""

from __future__ import annotations

import base64
import time

import pytest
from sqlalchemy import select

from backend.dispatch.models import Incident
from backend.extensions import db
from backend.tracking.models import LatestPosition, Ping
from tests.mobile_api.conftest import PATONG_RIP, PHUKET_TOWN

OWNTRACKS = "/api/v1/mobile/owntracks"

# From the OwnTracks booklet (features/traccar.md): "an HTTP payload that an OwnTracks app produces".
BOOKLET_LOCATION = {"cog": 271, "batt": 41, "lon": 2.29513, "acc": 5, "vel": 61, "vac": 21, "lat": 48.85833, "t": "u",
                    "tst": 1497508651, "alt": 167, "_type": "location", "topic": "owntracks/jane/iphone", "p": 71,
                    "tid": "JJ"}
# From the OwnTracks Android app's tests (LocationMessageRetryTest).
ANDROID_LOCATION = {"_type": "location", "acc": 20, "al": 0, "batt": 100, "bs": 0, "conn": "w",
                    "created_at": 1610748273, "lat": 51.2, "lon": -4, "tid": "aa", "tst": 1610799026, "vac": 40,
                    "vel": 7}
# Other message types from the booklet: accepted and ignored.
OTHER_MESSAGES = [
    {"_type": "transition", "wtst": 1425042603, "lat": 12.34, "lon": 44.5, "tst": 1427634603, "acc": 130,
     "tid": "JP", "event": "enter", "desc": "my Indian restaurant", "t": "b"},
    {"_type": "lwt", "tst": 1497508651},
    {"_type": "waypoint", "desc": "Hotel", "lat": 7.89, "lon": 98.30, "rad": 100, "tst": 1497508651},
    {"_type": "encrypted", "data": "c2VjcmV0"},
    {"_type": "status", "android": {"hib": 0}},
]


def basic(phone) -> dict[str, str]:  # noqa: ANN001
    """OwnTracks' HTTP Basic authorization: device_id / device_token."""
    raw = f"{phone.device_id}:{phone.device_token}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def in_phuket(message: dict, lat_lon: tuple[float, float] = PHUKET_TOWN, age_s: int = 60) -> dict:
    """The same message, moved to Phuket and to a time during this card's stay."""
    return {**message, "lat": lat_lon[0], "lon": lat_lon[1], "tst": int(time.time()) - age_s}


def stored_pings(app, card_id: str) -> list[Ping]:  # noqa: ANN001
    with app.app_context():
        rows = list(db.session.scalars(select(Ping).where(Ping.card_id == card_id).order_by(Ping.recorded_at)))
        db.session.expunge_all()
        return rows


def test_booklet_location_is_stored_with_units_converted(client, mobile, app):
    phone = mobile.enroll()
    message = in_phuket(BOOKLET_LOCATION)
    response = client.post(OWNTRACKS, json=message, headers=basic(phone))
    assert response.status_code == 200
    assert response.get_json() == []
    [stored] = stored_pings(app, phone.card_id)
    assert (stored.lat, stored.lon, stored.source) == (*PHUKET_TOWN, "owntracks")
    assert stored.speed_mps == pytest.approx(61 / 3.6)  # vel is km/h
    assert (stored.heading_deg, stored.accuracy_m, stored.altitude_m, stored.battery_pct) == (271, 5, 167, 41)
    assert int(stored.recorded_at.timestamp()) == message["tst"]


def test_android_location_and_numbers_as_strings(client, mobile, app):
    phone = mobile.enroll()
    assert client.post(OWNTRACKS, json=in_phuket(ANDROID_LOCATION, age_s=600), headers=basic(phone)).status_code == 200
    as_strings = {key: str(value) for key, value in in_phuket(ANDROID_LOCATION, PATONG_RIP).items()}
    response = client.post(OWNTRACKS, json=as_strings, headers=basic(phone))
    assert response.status_code == 200 and response.get_json() == []
    older, newer = stored_pings(app, phone.card_id)
    assert newer.lat == PATONG_RIP[0] and newer.speed_mps == pytest.approx(7 / 3.6) and newer.battery_pct == 100


def test_a_resent_location_is_stored_once(client, mobile, app):
    phone = mobile.enroll()
    message = in_phuket(BOOKLET_LOCATION)
    for _ in range(3):
        assert client.post(OWNTRACKS, json=message, headers=basic(phone)).status_code == 200
    assert len(stored_pings(app, phone.card_id)) == 1


def test_other_message_types_are_accepted_and_ignored(client, mobile, app):
    phone = mobile.enroll()
    for message in OTHER_MESSAGES:
        response = client.post(OWNTRACKS, json=message, headers=basic(phone))
        assert response.status_code == 200 and response.get_json() == []
    assert stored_pings(app, phone.card_id) == []


def test_owntracks_locations_run_the_geofence_rules(client, mobile, app, seeded):
    phone = mobile.enroll()
    client.post(OWNTRACKS, json=in_phuket(BOOKLET_LOCATION, PHUKET_TOWN, age_s=900), headers=basic(phone))
    client.post(OWNTRACKS, json=in_phuket(ANDROID_LOCATION, PATONG_RIP, age_s=30), headers=basic(phone))
    with app.app_context():
        kinds = set(db.session.scalars(select(Incident.kind).where(Incident.card_id == phone.card_id)))
        assert db.session.get(LatestPosition, phone.card_id).danger_zone_id is not None
    assert kinds == {"danger_zone"}


def test_the_booklet_payload_as_is_is_refused_for_its_2017_time(client, mobile, app):
    phone = mobile.enroll()
    response = client.post(OWNTRACKS, json=BOOKLET_LOCATION, headers=basic(phone))
    assert response.status_code == 422
    assert "timestamp" in response.get_json()["errors"]["json"]["0"]
    assert stored_pings(app, phone.card_id) == []


@pytest.mark.parametrize("bad", [
    {"lat": 200}, {"lat": "north"}, {"lon": None}, {"tst": "yesterday"}, {"tst": 0},
    {"tst": int(time.time()) + 400 * 86400}, {"lat": "NaN"},
])
def test_bad_locations_are_422_and_store_nothing(client, mobile, app, bad):
    phone = mobile.enroll()
    response = client.post(OWNTRACKS, json={**in_phuket(BOOKLET_LOCATION), **bad}, headers=basic(phone))
    assert response.status_code == 422
    assert stored_pings(app, phone.card_id) == []


@pytest.mark.parametrize("body", [[], "location", 5, {"lat": 7.9}, [{"_type": 5}]])
def test_non_owntracks_bodies_are_422(client, mobile, body):
    phone = mobile.enroll()
    assert client.post(OWNTRACKS, json=body, headers=basic(phone)).status_code == 422


def test_wrong_credentials_are_401(client, mobile):
    anna, ben = mobile.enroll(), mobile.enroll(full_name="Ben Lee")
    message = in_phuket(BOOKLET_LOCATION)
    assert client.post(OWNTRACKS, json=message).status_code == 401
    crossed = base64.b64encode(f"{ben.device_id}:{anna.device_token}".encode()).decode()
    response = client.post(OWNTRACKS, json=message, headers={"Authorization": f"Basic {crossed}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    wrong = base64.b64encode(f"{anna.device_id}:nope".encode()).decode()
    assert client.post(OWNTRACKS, json=message, headers={"Authorization": f"Basic {wrong}"}).status_code == 401


def test_an_ended_card_is_403_and_nothing_stored(client, mobile, app):
    phone = mobile.enroll()
    mobile.set_card(phone.card_id, status="closed")
    assert client.post(OWNTRACKS, json=in_phuket(BOOKLET_LOCATION), headers=basic(phone)).status_code == 403
    assert stored_pings(app, phone.card_id) == []
