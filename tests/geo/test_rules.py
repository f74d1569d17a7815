"""Geofence rules through the real record_pings, on SpatiaLite and PostGIS."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import LineString, Point, shape

from tests.geo.helpers import fix, incidents, minutes_ago, send, zone_features, zone_id

# (name, lat, lon, on the island, inside the service area) — geo/data/README.md "Test points"
SPOTS = [
    ("Patong", 7.8961, 98.2966, True, True),
    ("Phuket Town", 7.8804, 98.3923, True, True),
    ("Airport", 8.1132, 98.3063, True, True),
    ("Boat off Patong", 7.89, 98.25, False, True),
    ("Sarasin bridge area", 8.19, 98.30, True, True),
    ("Krabi Town", 8.0863, 98.9063, False, False),
    ("Phang Nga town", 8.4509, 98.5256, False, False),
    ("Khao Lak", 8.6400, 98.2500, False, False),
    ("Phi Phi Don", 7.7407, 98.7784, False, False),
]
DANGER_SLUGS = [f["properties"]["slug"] for f in zone_features() if f["properties"]["kind"] == "danger"]
TEST_POINTS = {f["properties"]["slug"]: f["properties"]["test_point"] for f in zone_features()}
JULY = datetime(2026, 7, 15, 3, 0, tzinfo=UTC)  # southwest monsoon: rip-current season
JANUARY = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("name", "lat", "lon", "on_land", "inside"), SPOTS, ids=[s[0] for s in SPOTS])
def test_spot_points(seeded, factories, name, lat, lon, on_land, inside):
    card = factories.card()
    sent = send(seeded, card, fix(lat, lon, minutes_ago(5)))
    assert sent.accepted == 1
    assert sent.latest["in_service_area"] is inside
    assert sent.latest["at_sea"] is (inside and not on_land)
    assert sent.latest["danger_zone_id"] is None
    kinds = [i["kind"] for i in incidents(seeded, card)]
    assert kinds == ([] if inside else ["left_area"])


def test_leaving_for_krabi_and_coming_back_closes_the_loop(seeded, factories):
    card = factories.card()
    send(seeded, card, fix(7.8804, 98.3923, minutes_ago(90)))  # Phuket Town
    away = send(seeded, card, fix(8.0863, 98.9063, minutes_ago(60)))  # Krabi Town
    assert [i["kind"] for i in away.incidents] == ["left_area"]
    send(seeded, card, fix(8.0870, 98.9070, minutes_ago(45)))  # still in Krabi: no repeat
    back = send(seeded, card, fix(7.8961, 98.2966, minutes_ago(30)))  # Patong
    assert back.latest["in_service_area"] is True
    (incident,) = incidents(seeded, card)
    assert incident["kind"] == "left_area" and incident["status"] == "new"
    assert (incident["lat"], incident["lon"]) == (8.0863, 98.9063)
    assert incident["events"] == ["created", "returned"]
    assert incident["details"][1]["lat"] == 7.8961
    # leaving again updates the same open incident instead of opening a second one
    send(seeded, card, fix(8.4509, 98.5256, minutes_ago(10)))  # Phang Nga town
    (incident,) = incidents(seeded, card)
    assert incident["events"] == ["created", "returned", "updated"]


@pytest.mark.parametrize("slug", DANGER_SLUGS)
def test_entering_each_danger_zone(seeded, factories, slug):
    card = factories.card()
    lat, lon = TEST_POINTS[slug]
    sent = send(seeded, card, fix(lat, lon, JULY))
    assert sent.latest["danger_zone_id"] == zone_id(seeded, slug)
    assert sent.latest["at_sea"] is True and sent.latest["in_service_area"] is True
    (incident,) = incidents(seeded, card)
    assert incident["kind"] == "danger_zone"
    assert incident["zone_id"] == zone_id(seeded, slug)
    assert incident["severity"] == "high"  # July is in the season


def test_danger_severity_depends_on_season(seeded, factories):
    lat, lon = TEST_POINTS["rip-patong"]
    in_season, off_season = factories.card(), factories.card()
    send(seeded, in_season, fix(lat, lon, JULY))
    send(seeded, off_season, fix(lat, lon, JANUARY))
    assert incidents(seeded, in_season)[0]["severity"] == "high"
    assert incidents(seeded, off_season)[0]["severity"] == "medium"


def test_staying_in_a_danger_zone_is_one_event_and_leaving_it_is_noted(seeded, factories, client, auth):
    card = factories.card()
    lat, lon = TEST_POINTS["rip-karon"]
    send(seeded, card, fix(lat, lon, JULY))
    send(seeded, card, fix(lat + 0.0001, lon, JULY + timedelta(minutes=5)))  # still in the same zone
    out = send(seeded, card, fix(7.8380, 98.3050, JULY + timedelta(minutes=10)))  # on the beach road
    assert out.latest["danger_zone_id"] is None
    (incident,) = incidents(seeded, card)
    assert incident["events"] == ["created", "returned"]
    assert incident["details"][1]["reason"] == "out of the danger zone"


# A speedboat: two fixes five minutes apart, both at sea and outside every danger zone, whose
# straight track crosses the Patong rip-current zone.
BOAT_FROM, BOAT_TO = (7.9115, 98.2940), (7.8941, 98.2853)
# A drive between the two headlands of Patong bay: both fixes on land, the straight line over the bay.
DRIVE_FROM, DRIVE_TO = (7.9143, 98.2930), (7.8849, 98.2903)


def _zones_by_slug():
    return {f["properties"]["slug"]: shape(f["geometry"]) for f in zone_features()}


def test_boat_jumping_across_a_danger_zone_between_two_fixes(seeded, factories):
    zones = _zones_by_slug()
    a, b = Point(BOAT_FROM[1], BOAT_FROM[0]), Point(BOAT_TO[1], BOAT_TO[0])
    assert not any(zones[s].intersects(p) for s in DANGER_SLUGS for p in (a, b))  # neither fix is in danger
    assert not zones["phuket-island"].intersects(LineString([a, b]))
    assert zones["rip-patong"].intersects(LineString([a, b]))
    card = factories.card()
    start = minutes_ago(20)
    first = send(seeded, card, fix(*BOAT_FROM, start))
    assert first.incidents == [] and first.latest["at_sea"] is True
    second = send(seeded, card, fix(*BOAT_TO, start + timedelta(minutes=5)))
    assert [i["kind"] for i in second.incidents] == ["danger_zone"]
    assert second.latest["danger_zone_id"] is None  # it is past the zone now
    (incident,) = incidents(seeded, card)
    assert incident["zone_id"] == zone_id(seeded, "rip-patong")
    assert incident["details"][0]["rule"] == "crossed_danger_zone"


def test_crossing_inside_one_buffered_batch(seeded, factories):
    card = factories.card()
    start = minutes_ago(40)
    sent = send(seeded, card, fix(*BOAT_TO, start + timedelta(minutes=5)), fix(*BOAT_FROM, start))  # any order
    assert [i["kind"] for i in sent.incidents] == ["danger_zone"]


def test_land_to_land_move_over_a_bay_is_not_a_crossing(seeded, factories):
    zones = _zones_by_slug()
    a, b = Point(DRIVE_FROM[1], DRIVE_FROM[0]), Point(DRIVE_TO[1], DRIVE_TO[0])
    assert zones["phuket-island"].contains(a) and zones["phuket-island"].contains(b)
    assert zones["rip-patong"].intersects(LineString([a, b]))
    card = factories.card()
    start = minutes_ago(40)
    send(seeded, card, fix(*DRIVE_FROM, start))
    sent = send(seeded, card, fix(*DRIVE_TO, start + timedelta(minutes=30)))
    assert sent.incidents == [] and incidents(seeded, card) == []


def test_a_segment_after_a_long_silence_says_nothing(seeded, factories):
    card = factories.card()
    start = minutes_ago(600)
    send(seeded, card, fix(*BOAT_FROM, start))
    sent = send(seeded, card, fix(*BOAT_TO, start + timedelta(hours=5)))
    assert sent.incidents == []


def test_no_zones_means_no_incidents(app, factories):
    card = factories.card()
    sent = send(app, card, fix(8.0863, 98.9063, minutes_ago(5)))  # Krabi, but nothing is seeded
    assert sent.latest["in_service_area"] is True and sent.incidents == []


def _random_points(n: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    points = [(rng.uniform(7.40, 8.35), rng.uniform(98.05, 98.75)) for _ in range(n)]
    # and a dense sample along the west coast, where the danger zones are narrow strips
    points += [(rng.uniform(7.77, 8.19), rng.uniform(98.27, 98.31)) for _ in range(n)]
    return points


def test_spatial_decisions_agree_with_shapely(seeded):
    from backend.extensions import db
    from geo import rules
    from geo.models import Zone

    zones = _zones_by_slug()
    danger = {s: zones[s] for s in DANGER_SLUGS}
    with seeded.app_context():
        ids = {z.slug: z.id for z in db.session.query(Zone)}
        disagreements = []
        hits = {"land": 0, "sea": 0, "outside": 0, "danger": 0}
        for lat, lon in _random_points(200, seed=20260527):
            here = Point(lon, lat)
            expected_area = zones["phuket-service-area"].intersects(here)
            expected_land = zones["phuket-island"].intersects(here)
            expected_danger = {ids[s] for s, g in danger.items() if g.intersects(here)}
            got = rules.evaluate(previous=None, fixes=[rules.Fix(lat, lon, JULY)])
            if (got.in_service_area, got.on_land) != (expected_area, expected_land) or (
                    (got.danger_zone_id is None) != (not expected_danger)
                    or (expected_danger and got.danger_zone_id not in expected_danger)):
                disagreements.append((lat, lon, got, expected_area, expected_land, expected_danger))
            hits["outside" if not expected_area else "land" if expected_land else "sea"] += 1
            hits["danger"] += bool(expected_danger)
        assert disagreements == []
        assert min(hits.values()) > 0, hits  # the sample really covers every case


def test_one_spatial_query_per_batch(seeded, factories):
    from sqlalchemy import event

    from backend.extensions import db

    card = factories.card()
    start = minutes_ago(500)
    batch = [fix(7.70 + i * 0.004, 98.20 + (i % 7) * 0.01, start + timedelta(minutes=5 * i)) for i in range(100)]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        statements.append(statement)

    with seeded.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            send(seeded, card, *batch)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    spatial = [s for s in statements if "ST_Intersects" in s]
    assert len(spatial) == 1
    assert len(statements) < 30, statements  # no per-ping or per-zone round trips
