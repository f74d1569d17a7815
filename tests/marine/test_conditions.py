"""Sea conditions: stations and their tokens, observations, warning thresholds and TTL, the departure hold."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditEntry
from backend.extensions import db
from backend.marine.models import Observation, Station
from backend.models_base import utcnow
from tests.marine.conftest import act, enrolled_phone, iso, new_trip

RASSADA_SEA = (7.8500, 98.4200)  # 2 km off Rassada pier


def _station(client, marine, *, lat: float = RASSADA_SEA[0], lon: float = RASSADA_SEA[1], **extra) -> dict:  # noqa: ANN001, ANN003
    response = client.post("/api/v1/marine/stations", headers=marine.admin,
                           json={"name": "Rassada buoy", "lat": lat, "lon": lon, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _observe(client, station: dict, **body):  # noqa: ANN001, ANN003
    return client.post("/api/v1/marine/observations", headers={"Authorization": f"Bearer {station['station_token']}"},
                       json={"observed_at": iso(-60), **body})


def _conditions(client) -> dict[int, dict]:  # noqa: ANN001
    response = client.get("/api/v1/marine/conditions")
    assert response.status_code == 200
    return {s["id"]: s for s in response.get_json()["stations"]}


def _zone(app, slug: str) -> tuple[int, str]:  # noqa: ANN001
    from geo.models import Zone

    with app.app_context():
        zone = db.session.scalar(select(Zone).where(Zone.slug == slug))
        return zone.id, zone.severity


def _zone_severity(client, zone_id: int) -> str:  # noqa: ANN001
    features = client.get("/api/v1/zones").get_json()["features"]
    return next(f["properties"]["severity"] for f in features if f["properties"]["id"] == zone_id)


def test_an_admin_registers_a_station_and_only_its_hash_is_kept(app, client, marine):
    station = _station(client, marine)
    assert station["id"] and station["station_token"].startswith("pts_station_")
    with app.app_context():
        row = db.session.get(Station, station["id"])
        assert station["station_token"] not in (row.token_hash, row.name)
        assert len(row.token_hash) == 64
    assert client.post("/api/v1/marine/stations", json={"name": "x", "lat": 7.8, "lon": 98.3}).status_code == 401
    for headers in (marine.dispatcher, marine.crew_a):
        response = client.post("/api/v1/marine/stations", headers=headers, json={"name": "x", "lat": 7.8, "lon": 98.3})
        assert response.status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "lat": 91, "lon": 98.3}, "lat"),
    ({"name": "x", "lat": 7.8, "lon": -181}, "lon"),
    ({"name": "x", "lat": "north", "lon": 98.3}, "lat"),
    ({"name": "x", "lat": 7.8}, "lon"),
    ({"lat": 7.8, "lon": 98.3}, "name"),
    ({"name": "", "lat": 7.8, "lon": 98.3}, "name"),
    ({"name": "x", "lat": 7.8, "lon": 98.3, "zone_id": "patong"}, "zone_id"),
    ({"name": "x", "lat": 7.8, "lon": 98.3, "zone_id": 999999}, "zone_id"),
])
def test_invalid_stations_are_422(app, client, marine, body, field):
    response = client.post("/api/v1/marine/stations", headers=marine.admin, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    response = client.post("/api/v1/marine/stations", headers=marine.admin,
                           json={"name": "x" * 2_000_000, "lat": 7.8, "lon": 98.3})
    assert response.status_code == 413 and response.get_json()["code"] == 413
    with app.app_context():
        assert db.session.scalar(select(func.count(Station.id))) == 0


def test_observations_need_the_station_token(client, marine, auth):
    station = _station(client, marine)
    body = {"observed_at": iso(-60), "wave_height_m": 1.0}
    assert client.post("/api/v1/marine/observations", json=body).status_code == 401
    for token in (auth.token("admin"), "pts_station_forged", station["station_token"] + "x"):
        response = client.post("/api/v1/marine/observations", headers={"Authorization": f"Bearer {token}"}, json=body)
        assert response.status_code == 401 and response.get_json()["code"] == 401
    response = _observe(client, station, wave_height_m=1.2, wind_speed_mps=6.5, gust_mps=9.0, flag="green")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["warning"] is None
    # the station token is no staff token
    assert client.get("/api/v1/marine/trips", headers={"Authorization": f"Bearer {station['station_token']}"}
                      ).status_code == 401
    shown = _conditions(client)[station["id"]]
    assert shown["wave_height_m"] == 1.2 and shown["wind_speed_mps"] == 6.5 and shown["gust_mps"] == 9.0
    assert shown["flag"] == "green" and shown["warning"] is None and shown["observed_at"]


@pytest.mark.parametrize(("body", "field"), [
    ({"observed_at": None, "flag": "red"}, "observed_at"),
    ({"observed_at": "yesterday", "flag": "red"}, "observed_at"),
    ({"observed_at": iso(3600), "flag": "red"}, "observed_at"),
    ({"wave_height_m": -1}, "wave_height_m"),
    ({"wave_height_m": "high"}, "wave_height_m"),
    ({"wind_speed_mps": 500}, "wind_speed_mps"),
    ({"gust_mps": -3}, "gust_mps"),
    ({"flag": "purple"}, "flag"),
    ({}, "flag"),  # nothing observed
])
def test_invalid_observations_are_422_and_store_nothing(app, client, marine, body, field):
    station = _station(client, marine)
    response = _observe(client, station, **body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Observation.id))) == 0


@pytest.mark.parametrize(("body", "warned"), [
    ({"wave_height_m": 2.5}, False),  # at the threshold, not over it
    ({"wave_height_m": 2.6}, True),
    ({"wind_speed_mps": 13.9}, False),
    ({"wind_speed_mps": 14.2}, True),
    ({"gust_mps": 30.0}, False),  # gusts alone do not warn
    ({"flag": "yellow"}, False),
    ({"flag": "red"}, True),
])
def test_the_warning_thresholds(client, marine, body, warned):
    station = _station(client, marine)
    response = _observe(client, station, **body)
    assert response.status_code == 201, response.get_json()
    warning = _conditions(client)[station["id"]]["warning"]
    assert (warning is not None) is warned
    if warned:
        assert warning["since"] and warning["reason"]


def test_a_warning_makes_its_zone_critical_until_a_calm_observation(app, client, marine, seeded):
    zone_id, severity = _zone(app, "rip-patong")
    assert severity != "critical"
    station = _station(client, marine, lat=7.8950, lon=98.2900, zone_id=zone_id)
    assert _observe(client, station, flag="red", observed_at=iso(-600)).status_code == 201
    assert _zone_severity(client, zone_id) == "critical"
    # a late report from before the red flag changes nothing
    assert _observe(client, station, flag="green", observed_at=iso(-1200)).status_code == 201
    assert _conditions(client)[station["id"]]["warning"]["reason"] == "red flag"
    assert _zone_severity(client, zone_id) == "critical"
    calm = _observe(client, station, flag="green", wave_height_m=0.8, observed_at=iso(-30))
    assert calm.status_code == 201 and calm.get_json()["warning"] is None
    assert _conditions(client)[station["id"]]["warning"] is None
    assert _zone_severity(client, zone_id) == severity


def test_a_warning_ends_ttl_after_its_last_observation(app, client, marine, seeded):
    from backend.marine import conditions

    zone_id, severity = _zone(app, "rip-kata")
    ttl = app.config["MARINE_WARNING_TTL_S"]
    station = _station(client, marine, lat=7.8200, lon=98.2950, zone_id=zone_id)
    # an observation older than the TTL starts nothing
    assert _observe(client, station, flag="red", observed_at=iso(-ttl - 60)).get_json()["warning"] is None
    assert _observe(client, station, wave_height_m=3.1, observed_at=iso(-ttl + 60)).get_json()["warning"]
    assert _zone_severity(client, zone_id) == "critical"
    with app.app_context():
        later = utcnow() + timedelta(seconds=120)
        assert conditions.departure_hold("RASSADA", now=later) is None
        assert [s["warning"] for s in conditions.conditions(later)] == [None]
        assert conditions.end_expired_warnings(later) == 1
        db.session.commit()
    assert _zone_severity(client, zone_id) == severity


def test_the_broadcast_draft(app, client, marine, seeded):
    from backend.marine import conditions
    from backend.marine.models import MarineWarning
    from geo.models import Zone

    zone_id, _ = _zone(app, "rip-patong")
    in_zone = _station(client, marine, lat=7.8950, lon=98.2900, zone_id=zone_id)
    at_sea = _station(client, marine, lat=7.75, lon=98.77)
    _observe(client, in_zone, flag="red")
    _observe(client, at_sea, wave_height_m=3.4, wind_speed_mps=16)
    with app.app_context():
        drafts = {}
        for warning in db.session.scalars(select(MarineWarning)):
            obs = db.session.scalars(select(Observation).where(Observation.station_id == warning.station_id)).one()
            zone = db.session.get(Zone, warning.zone_id) if warning.zone_id else None
            drafts[warning.station_id] = conditions.warning_payload(warning, warning.station, zone,
                                                                    conditions._template(obs))
    red, storm = drafts[in_zone["id"]], drafts[at_sea["id"]]
    assert red["broadcast_draft"]["template"] == "rip_current_red_flag"
    assert red["broadcast_draft"]["area"] == {"zone_id": zone_id} and red["zone"]["id"] == zone_id
    assert storm["broadcast_draft"]["template"] == "storm_small_boat" and storm["zone"] is None
    ring = storm["broadcast_draft"]["area"]["coordinates"][0]
    assert storm["broadcast_draft"]["area"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) > 8
    assert "waves 3.4 m" in storm["warning"]["reason"] and "wind 16 m/s" in storm["warning"]["reason"]


def test_departures_near_a_warning_are_held_unless_an_admin_overrides(app, client, marine, seeded):
    held = new_trip(client, marine.crew_a)  # Rassada
    far = new_trip(client, marine.crew_a, pier="AO_CHALONG", destination="Racha Yai")
    free_text = new_trip(client, marine.crew_a, pier="Koh Sirey fishing jetty")
    station = _station(client, marine)
    assert _observe(client, station, flag="red").status_code == 201
    app.config["MARINE_WARNING_RADIUS_KM"] = 5  # Chalong pier is ~7 km from the buoy
    response = act(client, held["id"], "depart", marine.crew_a)
    assert response.status_code == 409, response.get_json()
    body = response.get_json()
    assert body["code"] == 409 and "Rassada buoy" in body["message"] and "red flag" in body["message"]
    assert body["warning"]["station"]["name"] == "Rassada buoy" and body["warning"]["reason"] == "red flag"
    assert body["warning"]["distance_km"] < 5
    assert client.get(f"/api/v1/marine/trips/{held['id']}", headers=marine.crew_a).get_json()["status"] == "planned"
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "trip.depart_held")).all()
        assert entry.subject_id == str(held["id"]) and entry.detail["warning"] == "red flag"
    # the operator may not override; an admin may, with a reason, audited
    assert act(client, held["id"], "depart", marine.crew_a, json={"override_reason": "rescue run"}).status_code == 403
    assert act(client, held["id"], "depart", marine.admin, json={"override_reason": "   "}).status_code == 422
    response = act(client, held["id"], "depart", marine.admin,
                   json={"override_reason": "Marine Police escort, harbour master agreed"})
    assert response.status_code == 200 and response.get_json()["status"] == "at_sea"
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "trip.depart_override")).all()
        assert entry.actor_role == "admin" and entry.detail["reason"].startswith("Marine Police escort")
        assert entry.detail["station"] == "Rassada buoy"
    # outside the radius, or from a pier of unknown position, nothing holds the trip
    assert act(client, far["id"], "depart", marine.crew_a).status_code == 200
    assert act(client, free_text["id"], "depart", marine.crew_a).status_code == 200


def test_the_geofence_uses_the_critical_severity(app, client, marine, factories, seeded):
    from geoalchemy2.shape import to_shape

    from backend.dispatch.models import Incident
    from geo.models import Zone
    zone_id, _ = _zone(app, "rip-patong")
    with app.app_context():
        inside = to_shape(db.session.get(Zone, zone_id).geom).representative_point()
    station = _station(client, marine, lat=7.8950, lon=98.2900, zone_id=zone_id)
    assert _observe(client, station, flag="red").status_code == 201
    phone = enrolled_phone(client, factories.issued_card())
    response = client.post("/api/v1/mobile/pings", headers=phone, json={"pings": [
        {"id": str(uuid.uuid4()), "lat": inside.y, "lon": inside.x, "recorded_at": iso(-30)}]})
    assert response.status_code == 200 and response.get_json()["accepted"] == 1, response.get_json()
    with app.app_context():
        [incident] = db.session.scalars(select(Incident).where(Incident.kind == "danger_zone")).all()
        assert incident.severity == "critical" and incident.zone_id == zone_id
