"""OwnTracks (HTTP mode) with payloads from the OwnTracks booklet and apps.

The Android app re-queues a message that gets a non-2xx answer and sends nothing after it until it
goes through (``HttpMessageProcessorEndpoint.sendMessage``); so only wrong credentials get one.
"""

from __future__ import annotations

import base64
import logging
import time
from datetime import UTC, datetime, timedelta

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
# The Android app's own test fixtures (project/app/src/test/resources/fixtures/), as it serializes them.
ANDROID_MULTIPLE = [  # location_multiple_messages.json: an array in one POST
    {"_type": "location", "tid": "s5", "acc": 1600, "alt": 0.0, "batt": 99, "cog": 45, "conn": "w", "lat": 52.3153748,
     "lon": 5.0408462, "t": "p", "tst": 1514455575, "vac": 0},
    {"_type": "location", "tid": "s5", "acc": 95, "alt": 0.0, "batt": 99, "cog": 56, "conn": "w", "lat": 12.3153748,
     "lon": 15.0408462, "t": "p", "tst": 1514455579, "vac": 0},
]
ANDROID_WITH_CREATED_AT = {  # location_with_created_at.json
    "_type": "location", "BSSID": "00:13:10:85:fe:01", "SSID": "AndroidWifi", "acc": 5, "alt": 50, "batt": 100, "bs": 0,
    "conn": "w", "created_at": 1709037052, "lat": 51.0, "lon": 0.0, "m": 1, "randomId": 9302, "tid": "aa",
    "tst": 1709037003, "vac": 0, "vel": 0}
ANDROID_BEACON = {  # location_beacon_trigger.json
    "_type": "location", "acc": 5, "alt": 84, "batt": 34, "bs": 1, "cog": 277, "conn": "m", "lat": -25.762245,
    "lon": 126.074502, "m": 2, "p": 100.477, "tid": "AA", "t": "b", "tst": 1721896446, "vac": 3, "vel": 79}
ANDROID_EXTENDED = {  # location_deserialize_extended.json
    "_type": "location", "tid": "s5", "acc": 1600, "alt": 0.0, "batt": 99, "bs": 3, "cog": 56, "conn": "w",
    "_id": "inputTestId", "lat": 52.3153748, "lon": 5.0408462, "t": "p", "tst": 1514455575, "vac": 0,
    "inregions": ["Testregion1", "Testregion2"]}
# The iOS app's location as OwnTracking.m (waypointAsJSON) builds it with extended data, plus the
# ``topic`` Connection.m adds in HTTP mode.
IOS_LOCATION = {
    "_type": "location", "t": "u", "lat": 7.880400, "lon": 98.392300, "tst": 1764547200, "created_at": 1764547260,
    "acc": 12, "alt": 9, "vac": 4, "vel": 5, "cog": 181, "p": 101.325, "motionactivities": ["walking"], "conn": "w",
    "ssid": "HotelGuest", "bssid": "aa:bb:cc:dd:ee:ff", "m": 2, "tid": "AN", "batt": 76, "bs": 1,
    "inregions": ["Patong"], "inrids": ["5f2b"], "poi": "beach", "tag": "swim", "topic": "owntracks/anna/iphone"}
ANDROID_NOT_STORED = {  # fixtures the app itself holds invalid, and an empty location
    "location_empty": {"_type": "location"},
    "invalid_location_message_zero_timestamp": {"_type": "location", "tst": 0, "tid": "xx", "lat": 0.000,
                                                "lon": 0.000, "acc": 15, "alt": 300},
    "unknown_message": {"some": "invalid message"},
}
# Other message types from the booklet and the apps' fixtures: accepted and ignored.
OTHER_MESSAGES = [
    {"_type": "transition", "wtst": 1425042603, "lat": 12.34, "lon": 44.5, "tst": 1427634603, "acc": 130,
     "tid": "JP", "event": "enter", "desc": "my Indian restaurant", "t": "b"},
    {"_type": "lwt", "tst": 1497508651},
    {"_type": "waypoint", "desc": "Hotel", "lat": 7.89, "lon": 98.30, "rad": 100, "tst": 1497508651},
    {"_type": "encrypted", "data": "c2VjcmV0"},
    {"_type": "status", "android": {"hib": 0}},
    # Android fixtures: transition_message.json, waypoint_message.json, valid_card_message.json, cmd_status.json
    {"_type": "transition", "acc": 3, "desc": "myregion", "event": "leave", "lat": 52.71234, "lon": -1.61234123,
     "t": "l", "tid": "ce", "tst": 1603209966, "wtst": 1558351273},
    {"_type": "waypoint", "desc": "mypoint", "lat": 52.0027789, "lon": -1.0829312, "rad": 150, "tst": 1558351273},
    {"_type": "card", "tid": "xx", "name": "X X"},
    {"_type": "cmd", "action": "status"},
    # iOS: status (OwnTracksAppDelegate.m) and its transition with rid
    {"_type": "status", "iOS": {"version": "26.3.1", "locale": "th_TH", "localeUsesMetricSystem": True}},
    {"_type": "transition", "lat": 7.8804, "lon": 98.3923, "tst": 1764547200, "acc": 10, "tid": "AN",
     "event": "enter", "t": "c", "desc": "Hotel", "wtst": 1764500000, "rid": "5f2b", "topic": "owntracks/anna/iphone"},
]


def basic(phone) -> dict[str, str]:  # noqa: ANN001
    """OwnTracks' HTTP Basic authorization: device_id / device_token."""
    raw = f"{phone.device_id}:{phone.device_token}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def in_phuket(message: dict, lat_lon: tuple[float, float] = PHUKET_TOWN, age_s: int = 60) -> dict:
    """The same message, moved to Phuket and to a time during this card's stay."""
    return {**message, "lat": lat_lon[0], "lon": lat_lon[1], "tst": int(time.time()) - age_s}


def during_stay(message: dict, age_s: int = 60) -> dict:
    """The same message (position kept) at a time during this card's stay."""
    return {**message, "tst": int(time.time()) - age_s}


def not_stored_logged(caplog, count: int = 1) -> None:  # noqa: ANN001
    """The operators see each message that was not stored in the log."""
    lines = [r for r in caplog.records if r.name == "mobile_api.views" and "not stored" in r.getMessage()]
    assert len(lines) >= count, [r.getMessage() for r in caplog.records]
    caplog.clear()


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


def test_android_fixtures_are_stored(client, mobile, app):
    phone = mobile.enroll()
    batch = [in_phuket(m, PHUKET_TOWN, age_s=900 - i) for i, m in enumerate(ANDROID_MULTIPLE)]
    response = client.post(OWNTRACKS, json=batch, headers=basic(phone))
    assert response.status_code == 200 and response.get_json() == []
    for age_s, message in ((600, ANDROID_WITH_CREATED_AT), (300, ANDROID_BEACON), (120, ANDROID_EXTENDED)):
        assert client.post(OWNTRACKS, json=in_phuket(message, age_s=age_s), headers=basic(phone)).get_json() == []
    pings = stored_pings(app, phone.card_id)
    assert len(pings) == 5
    assert pings[3].speed_mps == pytest.approx(79 / 3.6) and pings[3].heading_deg == 277


def test_ios_location_with_extended_data_is_stored(client, mobile, app):
    phone = mobile.enroll()
    response = client.post(OWNTRACKS, json=during_stay(IOS_LOCATION), headers=basic(phone))
    assert response.status_code == 200 and response.get_json() == []
    [stored] = stored_pings(app, phone.card_id)
    assert (stored.lat, stored.lon, stored.accuracy_m, stored.battery_pct) == (7.8804, 98.3923, 12, 76)


def test_the_booklet_payload_as_is_is_answered_but_not_stored_for_its_2017_time(client, mobile, app, caplog):
    caplog.set_level(logging.INFO)
    phone = mobile.enroll()
    for message in (BOOKLET_LOCATION, ANDROID_LOCATION, ANDROID_MULTIPLE, ANDROID_BEACON):  # their own old times
        response = client.post(OWNTRACKS, json=message, headers=basic(phone))
        assert response.status_code == 200 and response.get_json() == []
        not_stored_logged(caplog)
    assert stored_pings(app, phone.card_id) == []


def test_an_old_location_never_stalls_the_queue_behind_it(client, mobile, app, caplog):
    phone = mobile.enroll()
    before_issue = in_phuket(BOOKLET_LOCATION, age_s=30 * 86400)  # a month ago: before the card was issued
    assert client.post(OWNTRACKS, json=before_issue, headers=basic(phone)).get_json() == []
    assert client.post(OWNTRACKS, json=in_phuket(BOOKLET_LOCATION), headers=basic(phone)).get_json() == []
    mixed = [in_phuket(ANDROID_LOCATION, age_s=400 * 86400), in_phuket(ANDROID_LOCATION, PATONG_RIP, age_s=30)]
    assert client.post(OWNTRACKS, json=mixed, headers=basic(phone)).get_json() == []
    assert [(p.lat, p.lon) for p in stored_pings(app, phone.card_id)] == [PHUKET_TOWN, PATONG_RIP]
    not_stored_logged(caplog, 2)


@pytest.mark.parametrize("bad", [
    {"lat": 200}, {"lat": "north"}, {"lon": None}, {"tst": "yesterday"}, {"tst": 0},
    {"tst": int(time.time()) + 400 * 86400}, {"lat": "NaN"},
])
def test_bad_locations_are_answered_200_and_store_nothing(client, mobile, app, caplog, bad):
    phone = mobile.enroll()
    response = client.post(OWNTRACKS, json={**in_phuket(BOOKLET_LOCATION), **bad}, headers=basic(phone))
    assert response.status_code == 200 and response.get_json() == []
    assert stored_pings(app, phone.card_id) == []
    not_stored_logged(caplog)


@pytest.mark.parametrize("name", sorted(ANDROID_NOT_STORED))
def test_messages_the_android_app_holds_invalid_are_answered_200(client, mobile, app, caplog, name):
    phone = mobile.enroll()
    response = client.post(OWNTRACKS, json=ANDROID_NOT_STORED[name], headers=basic(phone))
    assert response.status_code == 200 and response.get_json() == []
    assert stored_pings(app, phone.card_id) == []
    not_stored_logged(caplog)


@pytest.mark.parametrize("body", [[], "location", 5, None, {"lat": 7.9}, [{"_type": 5}], [None]])
def test_non_owntracks_json_is_answered_200(client, mobile, app, caplog, body):
    phone = mobile.enroll()
    response = client.post(OWNTRACKS, json=body, headers=basic(phone))
    assert response.status_code == 200 and response.get_json() == []
    assert stored_pings(app, phone.card_id) == []
    not_stored_logged(caplog)


@pytest.mark.parametrize(("data", "content_type"), [
    (b"", "application/json"), (b"", None), (b"{\"_type\": \"location\", ", "application/json"),
    (b"\xff\xfe not json", "application/json"), (b"_type=location&lat=7.88", "application/x-www-form-urlencoded"),
])
def test_an_empty_or_malformed_body_is_answered_200(client, mobile, app, caplog, data, content_type):
    phone = mobile.enroll()
    response = client.post(OWNTRACKS, data=data, content_type=content_type, headers=basic(phone))
    assert response.status_code == 200 and response.get_json() == []
    assert stored_pings(app, phone.card_id) == []
    not_stored_logged(caplog)
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


@pytest.mark.parametrize("ending", [
    {"status": "closed"}, {"status": "revoked"}, {"expires_at": datetime.now(UTC) - timedelta(minutes=1)},
])
def test_an_ended_card_is_answered_200_and_nothing_stored(client, mobile, app, caplog, ending):
    phone = mobile.enroll()
    mobile.set_card(phone.card_id, **ending)
    for message in (in_phuket(BOOKLET_LOCATION), [in_phuket(ANDROID_LOCATION)], OTHER_MESSAGES[1]):
        response = client.post(OWNTRACKS, json=message, headers=basic(phone))
        assert response.status_code == 200 and response.get_json() == []
    assert stored_pings(app, phone.card_id) == []
    not_stored_logged(caplog, 2)


def test_only_wrong_credentials_are_refused_for_an_ended_card(client, mobile):
    phone = mobile.enroll()
    mobile.set_card(phone.card_id, status="closed")
    wrong = base64.b64encode(f"{phone.device_id}:nope".encode()).decode()
    response = client.post(OWNTRACKS, json=in_phuket(BOOKLET_LOCATION), headers={"Authorization": f"Basic {wrong}"})
    assert response.status_code == 401
