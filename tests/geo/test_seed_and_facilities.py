"""``flask seed`` and the facilities API (nearest first, real distances)."""

from __future__ import annotations

import math

import pytest

CHECKPOINTS = {"HKT", "THA_CHATCHAI", "AO_CHALONG", "RASSADA", "AO_PO"}


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the mean Earth radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def test_seed_is_idempotent(runner, client):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "17 created" in first.output
    zones = client.get("/api/v1/zones")
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert "zones: 0 created, 0 updated" in second.output
    assert "facilities: 0 created, 0 updated" in second.output
    again = client.get("/api/v1/zones")
    assert again.get_json() == zones.get_json() and again.headers["ETag"] == zones.headers["ETag"]
    kinds = [f["properties"]["kind"] for f in zones.get_json()["features"]]
    assert kinds.count("service_area") == 1 and kinds.count("island") == 1 and kinds.count("danger") >= 10


def test_seed_has_the_checkpoints_hospitals_and_police(seeded, client):
    features = client.get("/api/v1/facilities").get_json()["features"]
    by_kind: dict[str, list] = {}
    for f in features:
        by_kind.setdefault(f["properties"]["kind"], []).append(f["properties"])
    assert {p["code"] for p in by_kind["checkpoint"]} == CHECKPOINTS
    names = {p["name"] for p in by_kind["hospital"]}
    assert {"Vachira Phuket Hospital", "Bangkok Hospital Phuket", "Patong Hospital", "Thalang Hospital"} <= names
    assert by_kind["police"] and by_kind["tourist_police"] and by_kind["marine_police"]
    assert all(f["properties"]["distance_m"] is None for f in features)


def test_nearest_hospital_from_patong_beach(seeded, client):
    response = client.get("/api/v1/facilities", query_string={"lat": 7.8961, "lon": 98.2966, "kind": "hospital"})
    assert response.status_code == 200
    features = response.get_json()["features"]
    assert len(features) == 3
    assert features[0]["properties"]["name"] == "Patong Hospital"
    distances = [f["properties"]["distance_m"] for f in features]
    assert distances == sorted(distances)
    for f in features:
        lon, lat = f["geometry"]["coordinates"]
        expected = haversine_m(7.8961, 98.2966, lat, lon)
        assert f["properties"]["distance_m"] == pytest.approx(expected, rel=0.005)  # ellipsoid vs sphere


def test_nearest_facilities_service(seeded):
    from geo.service import nearest_facilities

    with seeded.app_context():
        found = nearest_facilities(lat=7.8230, lon=98.3600, kinds=["checkpoint", "marine_police"], limit=2)
        assert [f.code for f, _ in found][0] == "AO_CHALONG"
        assert found[0][1] < 300
        everything = nearest_facilities(lat=8.1132, lon=98.3063, limit=50)
        assert everything[0][0].code == "HKT" and everything[0][1] < 1
        assert len(everything) == 19


def test_several_kinds_and_limit(seeded, client):
    response = client.get("/api/v1/facilities?lat=7.88&lon=98.39&kind=police&kind=tourist_police&limit=5")
    kinds = {f["properties"]["kind"] for f in response.get_json()["features"]}
    assert len(response.get_json()["features"]) == 5 and kinds <= {"police", "tourist_police"}


@pytest.mark.parametrize("query", [
    {"lat": 7.9}, {"lon": 98.3}, {"lat": 200, "lon": 98.3}, {"lat": 7.9, "lon": -181},
    {"lat": "north", "lon": 98.3}, {"lat": "nan", "lon": 98.3}, {"lat": 7.9, "lon": 98.3, "kind": "spa"},
    {"lat": 7.9, "lon": 98.3, "limit": 0}, {"lat": 7.9, "lon": 98.3, "limit": 1000},
])
def test_bad_facility_queries_are_422(app, client, query):
    response = client.get("/api/v1/facilities", query_string=query)
    assert response.status_code == 422
    assert response.get_json()["code"] == 422 and response.get_json()["errors"]
