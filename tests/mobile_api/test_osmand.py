"""Traccar Client / OsmAnd protocol with requests from Traccar's own decoder tests."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import select

from backend.dispatch.models import Incident, SosSignal
from backend.extensions import db
from backend.tracking.models import Ping
from tests.mobile_api.conftest import PATONG_RIP, PHUKET_TOWN

OSMAND = "/api/v1/mobile/osmand"

# Query strings from Traccar's OsmAndProtocolDecoderTest (testDecodeQuery), in their original form.
TRACCAR_QUERIES = [
    "id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0&altitude=224.0&speed=0.0",
    "id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579&hdop=6.0&altitude=224.0&speed=0.0",
    "lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11&altitude=384.7&speed=0.0&id=353861053849681",
    "id=123456&timestamp=1377177267&lat=60.0&lon=30.0&speed=0.0&bearing=0.0&altitude=0&hdop=0.0",
    "id=123456&timestamp=1377177267&lat=60.0&lon=30.0",
    "id=123456&timestamp=1377177267&location=60.0,30.0",
    "id=123456789012345&timestamp=1504763810&lat=40.7232948571&lon=-74.0061408571&bearing=7.19889788244&speed=40"
    "&ignition=true&rpm=933&fuel=24",
]
# Without a timestamp (the server's time is used), and with ``deviceid`` instead of ``id``.
TRACCAR_QUERIES_WITHOUT_TIME = [
    "lat=60.0&lon=30.0&speed=0.0&heading=0.0&vacc=0&hacc=0&altitude=0&deviceid=123456",
    "id=861001000719969&lat=41.666667&lon=-0.883333&altitude=350.059479&speed=0.000000&batt=87",
]
# JSON bodies from Traccar's OsmAndProtocolDecoderTest (testDecodeJson): Traccar Client 9+.
TRACCAR_JSON = [
    {"location": {"timestamp": "2025-06-15T13:45:12.862Z", "coords": {
        "latitude": 37.4219983, "longitude": -122.084, "accuracy": 5, "speed": 0, "heading": -1, "altitude": 5},
        "is_moving": False, "odometer": 0, "event": "motionchange", "battery": {"level": 1, "is_charging": False},
        "activity": {"type": "still"}, "extras": {},
        "_": "&id=48241179&lat=37.4219983&lon=-122.084&timestamp=2025-06-15T13:45:12.862Z&"},
     "device_id": "48241179"},
    {"location": {"extras": {}, "mock": True, "coords": {
        "speed_accuracy": -1, "speed": -1, "longitude": -122.406417, "ellipsoidal_altitude": 0, "floor": None,
        "heading_accuracy": -1, "latitude": 37.785834000000001, "accuracy": 5, "altitude_accuracy": -1,
        "altitude": 0, "heading": -1}, "is_moving": False, "age": 188, "odometer": 0,
        "uuid": "2FB04C65-99CF-42AB-8DD3-EBCB4B108BF8", "event": "motionchange",
        "battery": {"level": -1, "is_charging": False}, "activity": {"type": "unknown", "confidence": 100},
        "timestamp": "2025-05-09T04:11:30.579Z"}, "device_id": "658765"},
    {"location": {"event": "motionchange", "is_moving": False, "uuid": "0e9a2473-a9a7-4c00-997b-fb97d2154e75",
                  "timestamp": "2021-07-21T08:06:34.444Z", "odometer": 0, "coords": {
                      "latitude": -6.1148096, "longitude": 106.6837015, "accuracy": 3.8, "speed": 18.67,
                      "speed_accuracy": 0.26, "heading": 63, "heading_accuracy": 0.28, "altitude": 35.7,
                      "altitude_accuracy": 3.8},
                  "activity": {"type": "still", "confidence": 100},
                  "battery": {"is_charging": False, "level": 0.79}, "extras": {}},
     "device_id": "8737767034"},
]


def recent(value: str, age_s: int = 120) -> str:
    """A timestamp ``age_s`` ago written in the same format as ``value`` (s, ms, ISO, or SQL)."""
    moment = datetime.now(UTC) - timedelta(seconds=age_s)
    if value.isdigit():
        return str(int(moment.timestamp() * 1000)) if len(value) > 10 else str(int(moment.timestamp()))
    if "T" in value:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{moment.microsecond // 1000:03d}Z" if "." in value else "Z")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def for_phone(query: str, osmand_id: str, lat_lon: tuple[float, float] = PHUKET_TOWN, age_s: int = 120) -> dict:
    """A Traccar query, sent by this phone, moved to Phuket and to a time during the stay."""
    fields = dict(parse_qsl(query))
    fields.pop("deviceid", None)
    fields["id"] = osmand_id
    if "location" in fields:
        fields["location"] = f"{lat_lon[0]},{lat_lon[1]}"
    else:
        fields["lat"], fields["lon"] = str(lat_lon[0]), str(lat_lon[1])
    if "timestamp" in fields:
        fields["timestamp"] = recent(fields["timestamp"], age_s)
    return fields


def json_for_phone(body: dict, osmand_id: str, lat_lon: tuple[float, float] = PHUKET_TOWN, age_s: int = 120) -> dict:
    """A Traccar Client JSON body, sent by this phone, moved to Phuket and to a time during the stay."""
    body = json.loads(json.dumps(body))
    body["device_id"] = osmand_id
    body["location"]["coords"]["latitude"], body["location"]["coords"]["longitude"] = lat_lon
    body["location"]["timestamp"] = recent(body["location"]["timestamp"], age_s)
    return body


def stored_pings(app, card_id: str) -> list[Ping]:  # noqa: ANN001
    with app.app_context():
        rows = list(db.session.scalars(select(Ping).where(Ping.card_id == card_id).order_by(Ping.id)))
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize("query", TRACCAR_QUERIES + TRACCAR_QUERIES_WITHOUT_TIME)
def test_traccar_queries_by_get_and_by_form_post(client, mobile, app, query):
    phone = mobile.enroll()
    fields = for_phone(query, phone.osmand_id)
    assert client.get(f"{OSMAND}?{urlencode(fields)}").status_code == 200
    response = client.post(OSMAND, data=for_phone(query, phone.osmand_id, age_s=60))  # form-encoded
    assert response.status_code == 200
    pings = stored_pings(app, phone.card_id)
    assert len(pings) == 2
    assert {(p.lat, p.lon, p.source, p.device_id) for p in pings} == {(*PHUKET_TOWN, "osmand", phone.device_id)}


def test_query_units_and_fields(client, mobile, app):
    phone = mobile.enroll()
    fields = for_phone(TRACCAR_QUERIES[6], phone.osmand_id)
    fields.update(accuracy="12.5", batt="64", altitude="31")
    assert client.get(OSMAND, query_string=fields).status_code == 200
    [stored] = stored_pings(app, phone.card_id)
    assert stored.speed_mps == pytest.approx(40 * 1852 / 3600)  # OsmAnd speed is in knots
    assert stored.heading_deg == pytest.approx(7.19889788244)
    assert (stored.accuracy_m, stored.battery_pct, stored.altitude_m) == (12.5, 64, 31)
    assert int(stored.recorded_at.timestamp()) == int(fields["timestamp"])


def test_millisecond_iso_and_sql_timestamps(client, mobile, app):
    phone = mobile.enroll()
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for i, stamp in enumerate([str(int(moment.timestamp() * 1000)), moment.isoformat().replace("+00:00", "Z"),
                               moment.strftime("%Y-%m-%d %H:%M:%S"), str(int(moment.timestamp()))]):
        query = {"id": phone.osmand_id, "lat": PHUKET_TOWN[0], "lon": PHUKET_TOWN[1], "timestamp": stamp}
        assert client.get(OSMAND, query_string=query).status_code == 200, stamp
        pings = stored_pings(app, phone.card_id)
        # the same moment in four notations is the same fix: stored once
        assert len(pings) == 1 and pings[0].recorded_at == moment, (i, stamp)


@pytest.mark.parametrize("index", range(len(TRACCAR_JSON)))
def test_traccar_client_json(client, mobile, app, index):
    phone = mobile.enroll()
    body = json_for_phone(TRACCAR_JSON[index], phone.osmand_id)
    response = client.post(OSMAND, json=body)
    assert response.status_code == 200
    assert client.post(OSMAND, json=body).status_code == 200  # a re-send is stored once
    [stored] = stored_pings(app, phone.card_id)
    coords, battery = TRACCAR_JSON[index]["location"]["coords"], TRACCAR_JSON[index]["location"]["battery"]
    assert (stored.lat, stored.lon) == PHUKET_TOWN
    assert stored.speed_mps == (coords["speed"] if coords["speed"] >= 0 else None)  # m/s; -1 = unknown
    assert stored.heading_deg == (coords["heading"] if coords["heading"] >= 0 else None)
    assert stored.battery_pct == (pytest.approx(battery["level"] * 100) if battery["level"] >= 0 else None)
    assert stored.accuracy_m == coords["accuracy"]
    if "uuid" in TRACCAR_JSON[index]["location"]:  # the SDK's own id makes re-sends idempotent
        assert stored.client_id == str(uuid.UUID(TRACCAR_JSON[index]["location"]["uuid"]))


def test_json_without_content_type_and_batched_locations(client, mobile, app):
    phone = mobile.enroll()
    first = json_for_phone(TRACCAR_JSON[2], phone.osmand_id, age_s=600)["location"]
    second = json_for_phone(TRACCAR_JSON[0], phone.osmand_id, PATONG_RIP, age_s=60)["location"]
    body = json.dumps({"device_id": phone.osmand_id, "location": [first, second]})
    response = client.post(OSMAND, data=body, content_type="text/plain")
    assert response.status_code == 200
    assert len(stored_pings(app, phone.card_id)) == 2


def test_traccar_requests_as_is_are_refused_for_their_old_times(client, mobile, app):
    phone = mobile.enroll()
    fields = dict(parse_qsl(TRACCAR_QUERIES[0]))
    fields["id"] = phone.osmand_id
    response = client.get(OSMAND, query_string=fields)
    assert response.status_code == 422
    body = dict(TRACCAR_JSON[0], device_id=phone.osmand_id)
    assert client.post(OSMAND, json=body).status_code == 422
    assert stored_pings(app, phone.card_id) == []


def test_unknown_or_missing_id(client, mobile):
    fields = for_phone(TRACCAR_QUERIES[4], "123456")
    assert client.get(OSMAND, query_string=fields).status_code == 404
    assert client.post(OSMAND, json=json_for_phone(TRACCAR_JSON[0], "48241179")).status_code == 404
    fields.pop("id")
    assert client.get(OSMAND, query_string=fields).status_code == 422
    assert client.post(OSMAND, json={"location": TRACCAR_JSON[0]["location"]}).status_code == 422


@pytest.mark.parametrize("bad", [
    {"lat": "200"}, {"lon": "-190"}, {"lat": "north"}, {"lat": "NaN"}, {"timestamp": "soon"},
    {"timestamp": "0"}, {"timestamp": str(int(time.time()) + 400 * 86400)}, {"speed": "fast"},
])
def test_bad_reports_are_422_and_store_nothing(client, mobile, app, bad):
    phone = mobile.enroll()
    fields = {**for_phone(TRACCAR_QUERIES[3], phone.osmand_id), **bad}
    response = client.get(OSMAND, query_string=fields)
    assert response.status_code == 422
    assert response.get_json()["code"] == 422
    assert stored_pings(app, phone.card_id) == []


def test_a_report_without_a_fix_is_a_sign_of_life_but_no_ping(client, mobile, app):
    phone = mobile.enroll()
    for no_fix in ({"lat": "0", "lon": "0"}, {"lat": None, "lon": None}):
        fields = {k: v for k, v in {**for_phone(TRACCAR_QUERIES[3], phone.osmand_id), **no_fix}.items() if v}
        response = client.get(OSMAND, query_string=fields)
        assert response.status_code == 200 and response.get_json()["accepted"] == 0
    assert stored_pings(app, phone.card_id) == []


def test_an_ended_card_is_403_and_nothing_stored(client, mobile, app):
    phone = mobile.enroll()
    mobile.set_card(phone.card_id, status="revoked")
    assert client.get(OSMAND, query_string=for_phone(TRACCAR_QUERIES[3], phone.osmand_id)).status_code == 403
    assert stored_pings(app, phone.card_id) == []


def test_alarm_sos_in_the_query_raises_one_sos(client, mobile, app):
    phone = mobile.enroll()
    fields = {**for_phone(TRACCAR_QUERIES[3], phone.osmand_id, PATONG_RIP), "alarm": "sos"}
    for _ in range(3):  # Traccar Client retries until it hears 200
        assert client.get(OSMAND, query_string=fields).status_code == 200
    with app.app_context():
        sos = db.session.scalars(select(Incident).where(Incident.card_id == phone.card_id,
                                                        Incident.kind == "sos")).all()
        assert len(sos) == 1 and (sos[0].lat, sos[0].lon) == PATONG_RIP and sos[0].severity == "critical"
        assert db.session.scalar(select(SosSignal.device_id).where(SosSignal.card_id == phone.card_id)) == \
            phone.device_id
    assert len(stored_pings(app, phone.card_id)) == 1


def test_alarm_sos_in_traccar_client_json_extras(client, mobile, app):
    phone = mobile.enroll()
    body = json_for_phone(TRACCAR_JSON[2], phone.osmand_id)
    body["location"]["extras"] = {"alarm": "sos"}  # what Traccar Client's SOS button sends
    assert client.post(OSMAND, json=body).status_code == 200
    assert client.post(OSMAND, json=body).status_code == 200
    with app.app_context():
        kinds = db.session.scalars(select(Incident.kind).where(Incident.card_id == phone.card_id)).all()
    assert kinds == ["sos"]


def test_alarm_sos_from_an_ended_card_and_without_a_fix(client, mobile, app):
    phone = mobile.enroll()
    client.get(OSMAND, query_string=for_phone(TRACCAR_QUERIES[4], phone.osmand_id, age_s=900))
    mobile.set_card(phone.card_id, status="closed")
    # no fix: Traccar Client sends what it has; the last known position is used
    response = client.get(OSMAND, query_string={"id": phone.osmand_id, "alarm": "sos"})
    assert response.status_code == 200
    with app.app_context():
        [sos] = db.session.scalars(select(Incident).where(Incident.card_id == phone.card_id)).all()
    assert sos.kind == "sos" and (sos.lat, sos.lon) == PHUKET_TOWN


# --- the SOS in every place a Traccar decoder reads it ---------------------------------------
# Traccar Client 9 (flutter_background_geolocation) sends its SOS button's ``extras: {alarm: sos}``
# merged into the location (``location.alarm``) or, with the ``"extras": {}`` of its location
# template, as ``location.extras.alarm`` (lib/preferences.dart, lib/quick_actions.dart); Traccar
# reads ``location.alarm`` first, then ``location.extras.alarm`` (OsmAndProtocolDecoder.decodeJson),
# and Traccar 6.7 read ``extras.alarm`` at the body's top level.

def sos_incidents(app, card_id: str) -> list[Incident]:  # noqa: ANN001
    with app.app_context():
        rows = list(db.session.scalars(select(Incident).where(Incident.card_id == card_id, Incident.kind == "sos")))
        db.session.expunge_all()
        return rows


def with_alarm(body: dict, where: str, alarm: str = "sos") -> dict:
    """A Traccar Client JSON body with the alarm put ``where``."""
    body = json.loads(json.dumps(body))
    location = body["location"]
    if where == "location.alarm":
        location["alarm"] = alarm
    elif where == "location.extras.alarm":
        location["extras"] = {**location.get("extras", {}), "alarm": alarm}
    elif where == "alarm":
        body["alarm"] = alarm
    elif where == "extras.alarm":
        body["extras"] = {"alarm": alarm}
    return body


@pytest.mark.parametrize("where", ["location.alarm", "location.extras.alarm", "alarm", "extras.alarm"])
@pytest.mark.parametrize("index", range(len(TRACCAR_JSON)))
def test_alarm_sos_in_traccar_client_json_raises_one_sos(client, mobile, app, where, index):
    phone = mobile.enroll()
    body = with_alarm(json_for_phone(TRACCAR_JSON[index], phone.osmand_id, PATONG_RIP), where)
    for _ in range(2):  # the app sends again until it hears 200
        response = client.post(OSMAND, json=body)
        assert response.status_code == 200 and response.get_json()["sos"] is True
    [sos] = sos_incidents(app, phone.card_id)
    assert (sos.lat, sos.lon, sos.severity, sos.status) == (*PATONG_RIP, "critical", "new")
    assert [(p.lat, p.lon) for p in stored_pings(app, phone.card_id)] == [PATONG_RIP]  # stored once, by the SOS


@pytest.mark.parametrize("alarm", ["SOS", " sos "])
def test_alarm_sos_in_any_case(client, mobile, app, alarm):
    phone = mobile.enroll()
    body = with_alarm(json_for_phone(TRACCAR_JSON[0], phone.osmand_id), "location.alarm", alarm)
    assert client.post(OSMAND, json=body).get_json()["sos"] is True
    assert client.get(OSMAND, query_string={**for_phone(TRACCAR_QUERIES[4], phone.osmand_id), "alarm": alarm}
                      ).status_code == 200
    assert len(sos_incidents(app, phone.card_id)) == 1


def test_another_alarm_is_not_an_sos(client, mobile, app):
    phone = mobile.enroll()
    body = with_alarm(json_for_phone(TRACCAR_JSON[0], phone.osmand_id), "location.alarm", "lowBattery")
    assert client.post(OSMAND, json=body).get_json()["sos"] is False
    assert sos_incidents(app, phone.card_id) == [] and len(stored_pings(app, phone.card_id)) == 1


@pytest.mark.parametrize("send", ["form", "text body", "query of a json post", "query of a form post"])
def test_alarm_sos_in_the_form_body_and_query_raises_an_sos(client, mobile, app, send):
    phone = mobile.enroll()
    fields = {**for_phone(TRACCAR_QUERIES[3], phone.osmand_id, PATONG_RIP), "alarm": "sos"}
    if send == "form":
        response = client.post(OSMAND, data=fields)
    elif send == "text body":  # Traccar reads fields from a body of any content type
        response = client.post(OSMAND, data=urlencode(fields), content_type="text/plain")
    elif send == "query of a json post":
        response = client.post(f"{OSMAND}?alarm=sos", json=json_for_phone(TRACCAR_JSON[2], phone.osmand_id, PATONG_RIP))
    else:
        response = client.post(f"{OSMAND}?alarm=sos", data={k: v for k, v in fields.items() if k != "alarm"})
    assert response.status_code == 200 and response.get_json()["sos"] is True
    [sos] = sos_incidents(app, phone.card_id)
    assert (sos.lat, sos.lon) == PATONG_RIP


def test_alarm_sos_without_coords_uses_the_last_known_position(client, mobile, app):
    phone = mobile.enroll()
    assert client.post(OSMAND, json=json_for_phone(TRACCAR_JSON[0], phone.osmand_id, age_s=600)).status_code == 200
    body = json_for_phone(TRACCAR_JSON[0], phone.osmand_id)
    del body["location"]["coords"]  # Traccar's decoder takes the last location then
    body["location"]["alarm"] = "sos"
    assert client.post(OSMAND, json=body).get_json()["sos"] is True
    no_location = {"device_id": phone.osmand_id, "alarm": "sos"}
    assert client.post(OSMAND, json=no_location).get_json()["sos"] is True
    [sos] = sos_incidents(app, phone.card_id)
    assert (sos.lat, sos.lon) == PHUKET_TOWN


@pytest.mark.parametrize("bad", [{"lat": "north"}, {"timestamp": "soon"}, {"speed": "fast"}, {"lat": "200"}])
def test_alarm_sos_survives_a_bad_field_in_the_query(client, mobile, app, bad):
    phone = mobile.enroll()
    client.get(OSMAND, query_string=for_phone(TRACCAR_QUERIES[4], phone.osmand_id, age_s=600))
    fields = {**for_phone(TRACCAR_QUERIES[3], phone.osmand_id, PATONG_RIP), **bad, "alarm": "sos"}
    response = client.get(OSMAND, query_string=fields)
    assert response.status_code == 200 and response.get_json()["sos"] is True
    assert response.get_json()["rejected"]  # the bad field is still named
    assert len(sos_incidents(app, phone.card_id)) == 1


@pytest.mark.parametrize("bad", [{"timestamp": "soon"}, {"coords": {"latitude": "north", "longitude": 98.3}},
                                 {"coords": "none"}, {"battery": "full"}])
def test_alarm_sos_survives_a_bad_location_in_json(client, mobile, app, bad):
    phone = mobile.enroll()
    client.get(OSMAND, query_string=for_phone(TRACCAR_QUERIES[4], phone.osmand_id, age_s=600))
    body = with_alarm(json_for_phone(TRACCAR_JSON[0], phone.osmand_id, PATONG_RIP), "location.alarm")
    body["location"].update(bad)
    response = client.post(OSMAND, json=body)
    assert response.status_code == 200 and response.get_json()["sos"] is True
    assert len(sos_incidents(app, phone.card_id)) == 1


def test_alarm_sos_at_the_top_of_a_batch_goes_with_the_newest_location(client, mobile, app):
    phone = mobile.enroll()
    older = json_for_phone(TRACCAR_JSON[2], phone.osmand_id, PHUKET_TOWN, age_s=900)["location"]
    newer = json_for_phone(TRACCAR_JSON[0], phone.osmand_id, PATONG_RIP, age_s=60)["location"]
    body = {"device_id": phone.osmand_id, "location": [newer, older], "alarm": "sos"}
    assert client.post(OSMAND, json=body).get_json()["sos"] is True
    [sos] = sos_incidents(app, phone.card_id)
    assert (sos.lat, sos.lon) == PATONG_RIP
    assert len(stored_pings(app, phone.card_id)) == 2


def test_alarm_sos_in_json_from_an_ended_card(client, mobile, app):
    phone = mobile.enroll()
    mobile.set_card(phone.card_id, status="revoked")
    body = with_alarm(json_for_phone(TRACCAR_JSON[1], phone.osmand_id, PATONG_RIP), "location.extras.alarm")
    assert client.post(OSMAND, json=body).status_code == 200
    assert len(sos_incidents(app, phone.card_id)) == 1
    assert stored_pings(app, phone.card_id) == []  # tracking stopped with the card
