"""Check the committed zones and facilities against the spot checks in README.md.

Run from the repository root: ``.venv/bin/python geo/data/check.py``. It prints the
figures and exits non-zero if any check fails. It needs only the two committed GeoJSON
files.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

HERE = Path(__file__).resolve().parent
M_PER_DEG = 111_320.0  # rough metres per degree, good enough for the tolerances below
COS_LAT = math.cos(math.radians(7.9))

# (name, lat, lon, expected inside the service area)
SPOT_CHECKS = (
    ("Patong", 7.8961, 98.2966, True),
    ("Phuket Town", 7.8804, 98.3923, True),
    ("Airport", 8.1132, 98.3063, True),
    ("Boat off Patong", 7.89, 98.25, True),
    ("Sarasin bridge area", 8.19, 98.30, True),
    ("Krabi Town", 8.0863, 98.9063, False),
    ("Phang Nga town", 8.4509, 98.5256, False),
    ("Khao Lak", 8.6400, 98.2500, False),
)
WATERFRONT = {
    "ao-chalong-pier",
    "rassada-pier",
    "ao-po-grand-marina",
    "marine-police-phuket",
}
LAND_TOLERANCE_M = 200.0
WATERFRONT_TOLERANCE_M = 2_000.0


def load(name: str) -> list[dict[str, Any]]:
    """Read a FeatureCollection's features."""
    return json.loads((HERE / name).read_text(encoding="utf-8"))["features"]


def metres(geom: BaseGeometry) -> BaseGeometry:
    """Rough local metric coordinates (x scaled by cos 7.9°) for distances and areas."""
    return shapely.transform(geom, lambda c: c * [M_PER_DEG * COS_LAT, M_PER_DEG])


def main() -> int:
    """Run every check, print the figures, and return the exit status."""
    failures: list[str] = []

    def expect(ok: bool, message: str) -> None:
        print(("ok   " if ok else "FAIL ") + message)
        if not ok:
            failures.append(message)

    zones = load("zones.geojson")
    facilities = load("facilities.geojson")
    by_slug = {z["properties"]["slug"]: z for z in zones}
    expect(len(by_slug) == len(zones), f"{len(zones)} zones with unique slugs")
    geoms = {slug: shape(z["geometry"]) for slug, z in by_slug.items()}
    island, area = geoms["phuket-island"], geoms["phuket-service-area"]
    island_m = metres(island)

    for slug, geom in geoms.items():
        props = by_slug[slug]["properties"]
        expect(
            geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon"),
            f"{slug}: valid {geom.geom_type}, {shapely.get_num_coordinates(geom)} vertices",
        )
        lat, lon = props["test_point"]
        expect(geom.contains(Point(lon, lat)), f"{slug}: contains test point {lat}, {lon}")
        if props["kind"] in ("danger", "caution"):
            overlap = metres(geom).intersection(island_m).area
            expect(
                overlap < 1.0,
                f"{slug}: {metres(geom).area / 1e6:.3f} km², land overlap {overlap:.4f} m²",
            )
            expect(area.contains(geom), f"{slug}: inside the service area")

    print(f"service area: {metres(area).area / 1e6:.0f} km², {shapely.get_num_coordinates(area)} vertices")
    expect(shapely.get_num_coordinates(area) < 2000, "service area < 2,000 vertices")
    missing = metres(island).difference(metres(area)).area
    expect(missing < 1.0, f"island outside the service area: {missing:.4f} m²")
    for name, lat, lon, inside in SPOT_CHECKS:
        got = area.contains(Point(lon, lat))
        expect(got == inside, f"{name} ({lat}, {lon}) {'inside' if got else 'outside'}")

    for f in facilities:
        p = f["properties"]
        point = shape(f["geometry"])
        off = 0.0 if island.contains(point) else metres(point).distance(island_m)
        limit = WATERFRONT_TOLERANCE_M if p["slug"] in WATERFRONT else LAND_TOLERANCE_M
        expect(
            area.contains(point) and off <= limit,
            f"{p['slug']} ({p['kind']}): in service area, {off:.0f} m from island land (limit {limit:.0f} m)",
        )
        expect((p["code"] is not None) == (p["kind"] == "checkpoint"), f"{p['slug']}: code")

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
