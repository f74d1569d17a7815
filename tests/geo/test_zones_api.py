"""Zones API: public GeoJSON with ETag, admin changes, and every kind of bad geometry rejected."""

from __future__ import annotations

import copy

SQUARE = [[98.27, 7.89], [98.28, 7.89], [98.28, 7.90], [98.27, 7.90], [98.27, 7.89]]


def feature(**overrides):
    body = {
        "type": "Feature",
        "properties": {"name": "Surin jet-ski lane", "kind": "caution", "severity": "medium",
                       "name_th": "ช่องทางเจ็ทสกี", "description": "Jet-skis", "advice": "Keep clear",
                       "season_months": [11, 12, 1]},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    }
    for key, value in overrides.items():
        if key in body["properties"] or key in ("slug",):
            body["properties"][key] = value
        else:
            body[key] = value
    return body


def test_zones_after_seed_are_geojson(seeded, client):
    response = client.get("/api/v1/zones")
    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    kinds = {f["properties"]["kind"] for f in body["features"]}
    assert {"service_area", "island", "danger", "caution"} <= kinds
    for f in body["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "MultiPolygon"
        props = f["properties"]
        assert {"id", "name", "name_th", "kind", "severity", "description", "advice", "season_months"} <= set(props)
        lon, lat = f["geometry"]["coordinates"][0][0][0]
        assert 98 < lon < 99 and 7 < lat < 9  # RFC 7946 order
    patong = next(f for f in body["features"] if f["properties"]["slug"] == "rip-patong")
    assert patong["properties"]["season_months"] == [5, 6, 7, 8, 9, 10]
    danger = client.get("/api/v1/zones?kind=danger").get_json()["features"]
    assert len(danger) >= 10 and {f["properties"]["kind"] for f in danger} == {"danger"}


def test_conditional_get(seeded, client, auth):
    first = client.get("/api/v1/zones")
    etag = first.headers["ETag"]
    assert etag
    again = client.get("/api/v1/zones", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    created = client.post("/api/v1/zones", json=feature(), headers=auth.headers("admin"))
    assert created.status_code == 201
    changed = client.get("/api/v1/zones", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(changed.get_json()["features"]) == len(first.get_json()["features"]) + 1


def test_admin_creates_updates_and_deletes_a_zone(app, client, auth):
    headers = auth.headers("admin")
    created = client.post("/api/v1/zones", json=feature(slug="surin-jetski"), headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    zone_id = body["id"]
    assert body["properties"]["id"] == zone_id and body["properties"]["season_months"] == [1, 11, 12]
    assert body["geometry"]["type"] == "MultiPolygon"
    assert client.get(f"/api/v1/zones/{zone_id}").get_json()["properties"]["name"] == "Surin jet-ski lane"

    # a feature as served can be sent back (extra properties are ignored)
    edited = copy.deepcopy(client.get(f"/api/v1/zones/{zone_id}").get_json())
    edited["properties"].update(name="Surin lane", kind="danger", severity="high")
    updated = client.put(f"/api/v1/zones/{zone_id}", json=edited, headers=headers)
    assert updated.status_code == 200, updated.get_json()
    assert updated.get_json()["properties"]["kind"] == "danger"
    assert client.get(f"/api/v1/zones/{zone_id}").get_json()["properties"]["name"] == "Surin lane"

    assert client.delete(f"/api/v1/zones/{zone_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/zones/{zone_id}").status_code == 404
    assert client.delete(f"/api/v1/zones/{zone_id}", headers=headers).status_code == 404
    assert client.put(f"/api/v1/zones/{zone_id}", json=feature(), headers=headers).status_code == 404
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=headers).get_json()["items"]]
    assert {"zone.create", "zone.update", "zone.delete"} <= set(actions)


def test_only_admins_change_zones(app, client, auth):
    assert client.post("/api/v1/zones", json=feature()).status_code == 401
    for role in ("dispatcher", "immigration"):
        assert client.post("/api/v1/zones", json=feature(), headers=auth.headers(role)).status_code == 403
    # auth is checked before the body: a bad body from a non-admin is still 403
    assert client.post("/api/v1/zones", json={"nonsense": 1}, headers=auth.headers("dispatcher")).status_code == 403
    assert client.get("/api/v1/zones").get_json()["features"] == []


def test_a_danger_zone_added_by_an_admin_raises_incidents(seeded, client, auth, factories):
    from tests.geo.helpers import fix, incidents, minutes_ago, send

    lagoon = [[98.2995, 8.0000], [98.3010, 8.0000], [98.3010, 8.0015], [98.2995, 8.0015], [98.2995, 8.0000]]
    body = feature(kind="danger", severity="high", season_months=None)
    body["geometry"]["coordinates"] = [lagoon]
    created = client.post("/api/v1/zones", json=body, headers=auth.headers("admin"))
    assert created.status_code == 201, created.get_json()
    card = factories.card()
    send(seeded, card, fix(8.0007, 98.3002, minutes_ago(5)))
    (incident,) = incidents(seeded, card)
    assert incident["kind"] == "danger_zone" and incident["zone_id"] == created.get_json()["id"]
    assert incident["severity"] == "high"  # no season: the zone's own severity


BOWTIE = [[98.27, 7.89], [98.28, 7.90], [98.28, 7.89], [98.27, 7.90], [98.27, 7.89]]
FAR = [[100.50, 13.70], [100.51, 13.70], [100.51, 13.71], [100.50, 13.70]]  # Bangkok
HUGE = [[97.4, 6.95], [99.3, 6.95], [99.3, 8.85], [97.4, 8.85], [97.4, 6.95]]
SWAPPED = [[7.89, 98.27], [7.89, 98.28], [7.90, 98.28], [7.89, 98.27]]
DEGENERATE = [[98.27, 7.89], [98.28, 7.89], [98.29, 7.89], [98.27, 7.89]]  # a line, no area
OUT_OF_RANGE = [[198.27, 7.89], [98.28, 7.89], [98.28, 7.90], [198.27, 7.89]]


def geometry(kind, coordinates):
    return {"type": kind, "coordinates": coordinates}


BAD_BODIES = {
    "self-intersecting": feature(geometry=geometry("Polygon", [BOWTIE])),
    "unclosed": feature(geometry=geometry("Polygon", [SQUARE[:-1]])),
    "too few positions": feature(geometry=geometry("Polygon", [[SQUARE[0], SQUARE[1], SQUARE[0]]])),
    "empty polygon": feature(geometry=geometry("Polygon", [])),
    "empty ring": feature(geometry=geometry("Polygon", [[]])),
    "empty multipolygon": feature(geometry=geometry("MultiPolygon", [])),
    "no area": feature(geometry=geometry("Polygon", [DEGENERATE])),
    "far away": feature(geometry=geometry("Polygon", [FAR])),
    "absurdly large": feature(geometry=geometry("Polygon", [HUGE])),
    "lat/lon swapped": feature(geometry=geometry("Polygon", [SWAPPED])),
    "out of range": feature(geometry=geometry("Polygon", [OUT_OF_RANGE])),
    "overlapping multipolygon": feature(geometry=geometry("MultiPolygon", [[SQUARE], [SQUARE]])),
    "point": feature(geometry=geometry("Point", [98.27, 7.89])),
    "line": feature(geometry=geometry("LineString", SQUARE)),
    "strings as coordinates": feature(geometry=geometry("Polygon", [[["98.27", "7.89"]] * 4])),
    "booleans as coordinates": feature(geometry=geometry("Polygon", [[[True, False]] * 4])),
    "nested too deep": feature(geometry=geometry("Polygon", [[SQUARE]])),
    "geometry not an object": feature(geometry="POLYGON((98.27 7.89, 98.28 7.89, 98.28 7.9, 98.27 7.89))"),
    "missing geometry": {"type": "Feature", "properties": feature()["properties"]},
    "null geometry": feature(geometry=None),
    "not a feature": {"type": "FeatureCollection", "features": [feature()]},
    "wrong kind": feature(kind="volcano"),
    "wrong severity": feature(severity="apocalyptic"),
    "missing name": feature(name=""),
    "blank name": feature(name="   "),
    "bad season month": feature(season_months=[5, 13]),
    "missing properties": {"type": "Feature", "geometry": feature()["geometry"]},
    "name too long": feature(name="x" * 201),
}


def test_bad_zones_are_rejected_with_422_and_change_nothing(seeded, client, auth):
    headers = auth.headers("admin")
    before = client.get("/api/v1/zones").get_json()["features"]
    target = before[0]["id"]
    for case, bad in BAD_BODIES.items():
        response = client.post("/api/v1/zones", json=bad, headers=headers)
        assert response.status_code == 422, (case, response.get_json())
        body = response.get_json()
        assert body["code"] == 422 and body["message"] and body["errors"], case
        response = client.put(f"/api/v1/zones/{target}", json=bad, headers=headers)
        assert response.status_code == 422, case
    assert client.get("/api/v1/zones").get_json()["features"] == before


def test_geometry_errors_say_what_is_wrong(app, client, auth):
    headers = auth.headers("admin")
    response = client.post("/api/v1/zones", json=BAD_BODIES["self-intersecting"], headers=headers)
    assert "Self-intersection" in str(response.get_json()["errors"])
    response = client.post("/api/v1/zones", json=BAD_BODIES["unclosed"], headers=headers)
    assert "not closed" in str(response.get_json()["errors"])
    response = client.post("/api/v1/zones", json=BAD_BODIES["far away"], headers=headers)
    assert "far away" in str(response.get_json()["errors"])


def test_duplicate_slug_is_rejected(app, client, auth):
    headers = auth.headers("admin")
    assert client.post("/api/v1/zones", json=feature(slug="lane-a"), headers=headers).status_code == 201
    response = client.post("/api/v1/zones", json=feature(slug="lane-a"), headers=headers)
    assert response.status_code == 422
    assert len(client.get("/api/v1/zones").get_json()["features"]) == 1


def test_renaming_a_zone_to_a_taken_slug_is_rejected_and_changes_nothing(app, client, auth):
    headers = auth.headers("admin")
    assert client.post("/api/v1/zones", json=feature(slug="lane-a"), headers=headers).status_code == 201
    second = client.post("/api/v1/zones", json=feature(slug="lane-b", name="Lane B"), headers=headers).get_json()
    zone_id = second["properties"]["id"] if "properties" in second else second["id"]
    response = client.put(f"/api/v1/zones/{zone_id}", json=feature(slug="lane-a", name="Renamed"), headers=headers)
    assert response.status_code == 422, response.get_json()
    assert "lane-a" in response.get_json()["message"]
    names = sorted(f["properties"]["name"] for f in client.get("/api/v1/zones").get_json()["features"])
    assert "Renamed" not in names and len(names) == 2


def test_zones_are_documented_in_openapi(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/zones"])
    assert {"get", "put", "delete"} <= set(paths["/api/v1/zones/{zone_id}"])
    assert "get" in paths["/api/v1/facilities"]
