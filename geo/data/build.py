"""Build Phuket's reference zones and facilities from the shared province boundaries.

Run from the repository root::

    .venv/bin/python geo/data/build.py

It reads ``phuket_province.geojson`` and ``neighbour_provinces.geojson`` from the
shared data folder (``<repo>/../shared/data``, or the folder named by
``PHUKET_SHARED_DATA``) and writes ``zones.geojson`` and ``facilities.geojson`` beside
this file. The output is deterministic: the same input always gives byte-identical
files, which are committed so that the app never needs the shared folder at run time.
``README.md`` beside this file explains every choice.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# Local equirectangular projection centred on Phuket (WGS 84 metres per degree at
# 7.9° N). Over Phuket's span (7.45°-8.25° N) the scale error is below 0.1 %, far under
# the data's own accuracy, so no projection library is needed.
LAT0 = 7.9
LON0 = 98.35
_PHI = math.radians(LAT0)
M_PER_DEG_LAT = 111_132.92 - 559.82 * math.cos(2 * _PHI) + 1.175 * math.cos(4 * _PHI)
M_PER_DEG_LON = 111_412.84 * math.cos(_PHI) - 93.5 * math.cos(3 * _PHI)

SEA_BUFFER_M = 12_000.0  # Phuket's waters: 12 km from any Phuket land (see README)
NEIGHBOUR_MARGIN_M = 200.0  # neighbours' land plus this margin is never Phuket's
MEDIAN_SPACING_M = 400.0  # boundary sampling for the equidistance (median) line
SIMPLIFY_M = 100.0  # service-area simplification tolerance, < NEIGHBOUR_MARGIN_M
LAND_GAP_M = 1.0  # sea zones keep this gap from land so rounding never overlaps it
RIP_WIDTH_M = 350.0  # rip-current strip: this far out from the shoreline
BEACH_WINDOW_M = 1_500.0  # how far either side of a beach line the strip may be looked for
COAST_REACH_M = 700.0  # island coastline this close to a beach line counts as its shore
LANE_HALF_WIDTH_M = 300.0  # caution corridors: half width
COORD_DECIMALS = 6
MONSOON_MONTHS = [5, 6, 7, 8, 9, 10]

LatLon = tuple[float, float]


@dataclass(frozen=True)
class Beach:
    """A west-coast beach whose waters get a rip-current danger zone."""

    slug: str
    name: str
    name_th: str
    shore: Sequence[LatLon]  # hand-placed shoreline points (lat, lon), beach end to end


@dataclass(frozen=True)
class Lane:
    """A caution corridor (boat or jet-ski traffic) along a line of sea points."""

    slug: str
    name: str
    name_th: str
    description: str
    advice: str
    line: Sequence[LatLon]
    test_point: LatLon


@dataclass(frozen=True)
class Facility:
    """A checkpoint, hospital or police station."""

    slug: str
    name: str
    name_th: str
    kind: str
    lat: float
    lon: float
    phone: str | None
    code: str | None = None


BEACHES: tuple[Beach, ...] = (
    Beach(
        "mai-khao",
        "Mai Khao Beach",
        "หาดไม้ขาว",
        ((8.1880, 98.2860), (8.1520, 98.2960), (8.1170, 98.2990)),
    ),
    Beach("nai-yang", "Nai Yang Beach", "หาดในยาง", ((8.1040, 98.2990), (8.0890, 98.2945))),
    Beach(
        "bang-tao",
        "Bang Tao Beach",
        "หาดบางเทา",
        ((8.0290, 98.2895), (8.0040, 98.2935), (7.9880, 98.2880)),
    ),
    Beach("surin", "Surin Beach", "หาดสุรินทร์", ((7.9790, 98.2787), (7.9725, 98.2790))),
    Beach(
        "laem-singh",
        "Laem Singh Beach",
        "หาดแหลมสิงห์",
        ((7.9690, 98.2775), (7.9655, 98.2785)),
    ),
    Beach("kamala", "Kamala Beach", "หาดกมลา", ((7.9625, 98.2822), (7.9480, 98.2800))),
    Beach("patong", "Patong Beach", "หาดป่าตอง", ((7.9090, 98.2990), (7.8830, 98.2930))),
    Beach("freedom", "Freedom Beach", "หาดฟรีด้อม", ((7.8765, 98.2748), (7.8735, 98.2752))),
    Beach("karon", "Karon Beach", "หาดกะรน", ((7.8475, 98.2940), (7.8265, 98.2960))),
    Beach(
        "kata",
        "Kata Beach (Kata Yai)",
        "หาดกะตะ",
        ((7.8245, 98.2962), (7.8150, 98.2990)),
    ),
    Beach(
        "kata-noi",
        "Kata Noi Beach",
        "หาดกะตะน้อย",
        ((7.8112, 98.2978), (7.8060, 98.2988)),
    ),
    Beach("nai-harn", "Nai Harn Beach", "หาดในหาน", ((7.7810, 98.3050), (7.7755, 98.3058))),
)

LANES: tuple[Lane, ...] = (
    Lane(
        "caution-ao-chalong-pier",
        "Ao Chalong pier approach",
        "ร่องน้ำเข้าท่าเทียบเรืออ่าวฉลอง",
        "Busy approach to Ao Chalong pier where tour speedboats and longtails come and go all day.",
        "Do not swim or paddle here; keep clear of boats and board only at the pier.",
        ((7.8225, 98.3612), (7.8140, 98.3625), (7.8030, 98.3660)),
        (7.8150, 98.3622),
    ),
    Lane(
        "caution-rassada-pier",
        "Rassada pier approach",
        "ร่องน้ำเข้าท่าเทียบเรือรัษฎา",
        "Channel into Rassada pier used by ferries and speedboats to Phi Phi and Krabi.",
        "Do not swim or use small craft in the channel; keep clear of ferries.",
        ((7.8575, 98.4005), (7.8480, 98.4030), (7.8400, 98.4060)),
        (7.8520, 98.4020),
    ),
    Lane(
        "caution-patong-boat-lane",
        "Patong Bay speedboat and jet-ski area",
        "เขตเรือเร็วและเจ็ตสกี อ่าวป่าตอง",
        "Open water of Patong Bay beyond the swimming area where jet-skis, parasail boats and speedboats run fast.",
        "Swim only inside the buoyed area near the beach and never swim out into boat traffic.",
        ((7.9070, 98.2905), (7.8860, 98.2850)),
        (7.8960, 98.2865),
    ),
)

FACILITIES: tuple[Facility, ...] = (
    Facility(
        "hkt-airport",
        "Phuket International Airport",
        "ท่าอากาศยานภูเก็ต",
        "checkpoint",
        8.1132,
        98.3063,
        None,
        "HKT",
    ),
    Facility(
        "tha-chatchai-checkpoint",
        "Tha Chatchai checkpoint",
        "ด่านท่าฉัตรไชย",
        "checkpoint",
        8.1790,
        98.3050,
        None,
        "THA_CHATCHAI",
    ),
    Facility(
        "ao-chalong-pier",
        "Ao Chalong pier",
        "ท่าเทียบเรืออ่าวฉลอง",
        "checkpoint",
        7.8220,
        98.3610,
        None,
        "AO_CHALONG",
    ),
    Facility(
        "rassada-pier",
        "Rassada pier",
        "ท่าเทียบเรือรัษฎา",
        "checkpoint",
        7.8570,
        98.4005,
        None,
        "RASSADA",
    ),
    Facility(
        "ao-po-grand-marina",
        "Ao Po Grand Marina",
        "ท่าเรืออ่าวปอแกรนด์มารีน่า",
        "checkpoint",
        8.0680,
        98.4420,
        None,
        "AO_PO",
    ),
    Facility(
        "vachira-phuket-hospital",
        "Vachira Phuket Hospital",
        "โรงพยาบาลวชิระภูเก็ต",
        "hospital",
        7.8938,
        98.3882,
        "1669",
    ),
    Facility(
        "bangkok-hospital-phuket",
        "Bangkok Hospital Phuket",
        "โรงพยาบาลกรุงเทพภูเก็ต",
        "hospital",
        7.9050,
        98.3710,
        "1669",
    ),
    Facility(
        "bangkok-hospital-siriroj",
        "Bangkok Hospital Siriroj",
        "โรงพยาบาลกรุงเทพสิริโรจน์",
        "hospital",
        7.8930,
        98.3620,
        "1669",
    ),
    Facility(
        "mission-hospital-phuket",
        "Mission Hospital Phuket",
        "โรงพยาบาลมิชชั่นภูเก็ต",
        "hospital",
        7.9013,
        98.3897,
        "1669",
    ),
    Facility(
        "patong-hospital",
        "Patong Hospital",
        "โรงพยาบาลป่าตอง",
        "hospital",
        7.8950,
        98.3010,
        "1669",
    ),
    Facility(
        "thalang-hospital",
        "Thalang Hospital",
        "โรงพยาบาลถลาง",
        "hospital",
        8.0345,
        98.3365,
        "1669",
    ),
    Facility(
        "phuket-city-police",
        "Phuket City Police Station",
        "สถานีตำรวจภูธรเมืองภูเก็ต",
        "police",
        7.8845,
        98.3915,
        "191",
    ),
    Facility(
        "patong-police",
        "Patong Police Station",
        "สถานีตำรวจภูธรป่าตอง",
        "police",
        7.8947,
        98.2964,
        "191",
    ),
    Facility(
        "chalong-police",
        "Chalong Police Station",
        "สถานีตำรวจภูธรฉลอง",
        "police",
        7.8460,
        98.3390,
        "191",
    ),
    Facility(
        "karon-police",
        "Karon Police Station",
        "สถานีตำรวจภูธรกะรน",
        "police",
        7.8445,
        98.2990,
        "191",
    ),
    Facility(
        "thalang-police",
        "Thalang Police Station",
        "สถานีตำรวจภูธรถลาง",
        "police",
        8.0300,
        98.3380,
        "191",
    ),
    Facility(
        "tourist-police-phuket",
        "Tourist Police Phuket",
        "ตำรวจท่องเที่ยวภูเก็ต",
        "tourist_police",
        7.8920,
        98.3720,
        "1155",
    ),
    Facility(
        "tourist-police-patong",
        "Patong Tourist Police",
        "ตำรวจท่องเที่ยวป่าตอง",
        "tourist_police",
        7.8930,
        98.2960,
        "1155",
    ),
    Facility(
        "marine-police-phuket",
        "Phuket Marine Police Station (Sapam)",
        "สถานีตำรวจน้ำภูเก็ต",
        "marine_police",
        7.9395,
        98.4020,
        "191",
    ),
)


def shared_data_dir() -> Path:
    """Return the shared data folder, honouring the PHUKET_SHARED_DATA override."""
    override = os.environ.get("PHUKET_SHARED_DATA")
    return Path(override) if override else DEFAULT_SHARED_DATA


def to_metric(geom: BaseGeometry) -> BaseGeometry:
    """Project lon/lat to local equirectangular metres around (LAT0, LON0)."""
    return shapely.transform(
        geom,
        lambda c: np.column_stack(((c[:, 0] - LON0) * M_PER_DEG_LON, (c[:, 1] - LAT0) * M_PER_DEG_LAT)),
    )


def to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """Invert :func:`to_metric`."""
    return shapely.transform(
        geom,
        lambda c: np.column_stack((c[:, 0] / M_PER_DEG_LON + LON0, c[:, 1] / M_PER_DEG_LAT + LAT0)),
    )


def metric_point(lat: float, lon: float) -> Point:
    """Return the metric point for a (lat, lon) pair."""
    return Point((lon - LON0) * M_PER_DEG_LON, (lat - LAT0) * M_PER_DEG_LAT)


def metric_line(points: Iterable[LatLon]) -> LineString:
    """Return the metric line through (lat, lon) points."""
    return LineString([metric_point(lat, lon) for lat, lon in points])


def load_provinces(path: Path) -> dict[str, BaseGeometry]:
    """Read a province FeatureCollection as {English name: lon/lat geometry}."""
    collection = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"]["pro_en"]: shape(f["geometry"]) for f in collection["features"]}


def polygons_only(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """Keep the polygonal parts of a geometry as a Polygon or MultiPolygon."""
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(sorted(parts, key=lambda p: (-p.area, p.bounds)))


def finish(geom_m: BaseGeometry) -> Polygon | MultiPolygon:
    """Back to lon/lat, snapped to the 6-decimal grid, valid and RFC 7946 oriented."""
    snapped = shapely.set_precision(to_lonlat(geom_m), 10.0**-COORD_DECIMALS)
    return polygons_only(shapely.orient_polygons(polygons_only(snapped)))


def phuket_side_of_median(land: BaseGeometry, neighbours: BaseGeometry, extent: BaseGeometry) -> BaseGeometry:
    """Return the part of ``extent`` nearer to Phuket's land than to the neighbours'.

    This is the equidistance (median) line used between opposite or adjacent coasts,
    approximated by the Voronoi cells of points sampled every MEDIAN_SPACING_M along
    both coastlines.
    """
    own = shapely.get_coordinates(shapely.segmentize(land.boundary, MEDIAN_SPACING_M))
    other = shapely.get_coordinates(shapely.segmentize(neighbours.boundary, MEDIAN_SPACING_M))
    own = np.unique(own.round(1), axis=0)
    other = np.unique(other.round(1), axis=0)
    # Where the provinces touch (the bridges) a shared point counts as Phuket's.
    shared = {tuple(p) for p in own.tolist()}
    other = np.array([p for p in other.tolist() if tuple(p) not in shared])
    points = shapely.multipoints(np.vstack((own, other)))
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=extent, ordered=True))
    return shapely.union_all(cells[: len(own)]).intersection(extent)


def build_service_area(land: BaseGeometry, neighbours: BaseGeometry) -> BaseGeometry:
    """Phuket's land plus its waters (metric): see README, 'Service area'."""
    buffered = land.buffer(SEA_BUFFER_M, quad_segs=8)
    extent = buffered.envelope.buffer(5_000, join_style="mitre")
    nearby = neighbours.intersection(extent.buffer(SEA_BUFFER_M, join_style="mitre"))
    sea = buffered.intersection(phuket_side_of_median(land, nearby, extent))
    keep_out = nearby.buffer(NEIGHBOUR_MARGIN_M)
    sea = sea.difference(keep_out).simplify(SIMPLIFY_M)
    # Simplifying moves an edge at most SIMPLIFY_M, less than the margin; subtract again
    # so that the neighbours' land itself is certainly outside.
    sea = sea.difference(nearby.buffer(NEIGHBOUR_MARGIN_M - SIMPLIFY_M, quad_segs=2))
    # Phuket's own land always belongs, with a hair of margin so rounding keeps it
    # inside (at the bridges the neighbours' margin reaches over Phuket's shore).
    return shapely.union(sea, land.buffer(LAND_GAP_M, join_style="mitre"))


def beach_strip(beach: Beach, land: BaseGeometry, land_gap: BaseGeometry) -> BaseGeometry:
    """Sea within RIP_WIDTH_M of a beach's shoreline, between its two ends (metric).

    The shoreline is both the hand-placed beach line and the island boundary near it
    (within COAST_REACH_M, between the beach's ends), because the shared boundary is
    coarse and can lie a few hundred metres off the real beach (see README).
    """
    line = metric_line(beach.shore)
    window = line.buffer(BEACH_WINDOW_M, cap_style="flat")
    coast = land.boundary.intersection(window).intersection(line.buffer(COAST_REACH_M))
    shoreline = shapely.union(line, coast)
    return shoreline.buffer(RIP_WIDTH_M).intersection(window).difference(land_gap)


def offshore_test_point(zone: BaseGeometry, shore: Sequence[LatLon]) -> LatLon:
    """Pick a point well inside ``zone``, due west (seaward) of the beach's middle."""
    middle = metric_line(shore).interpolate(0.5, normalized=True)
    core = zone.buffer(-40.0)
    for step in range(-40, 121):  # 25 m steps from 1 km east to 3 km west
        probe = Point(middle.x - step * 25.0, middle.y)
        lat = round(probe.y / M_PER_DEG_LAT + LAT0, 5)
        lon = round(probe.x / M_PER_DEG_LON + LON0, 5)
        if core.contains(metric_point(lat, lon)):
            return (lat, lon)
    raise ValueError("no offshore test point found")


def zone_feature(geom: BaseGeometry, **properties: Any) -> dict[str, Any]:
    """Return a GeoJSON Feature for a metric zone geometry."""
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": rounded(finish(geom)),
    }


def rounded(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry with every coordinate rounded to COORD_DECIMALS."""

    def walk(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if value and isinstance(value[0], float):
                return [round(v, COORD_DECIMALS) for v in value]
            return [walk(v) for v in value]
        return value

    geometry = mapping(geom)
    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def build_zones(phuket: BaseGeometry, neighbours: BaseGeometry) -> list[dict[str, Any]]:
    """Every zone feature, in a stable order."""
    land = to_metric(phuket)
    land_gap = land.buffer(LAND_GAP_M, join_style="mitre")
    features = [
        {
            "type": "Feature",
            "properties": {
                "slug": "phuket-island",
                "name": "Phuket Island",
                "name_th": "เกาะภูเก็ต",
                "kind": "island",
                "severity": "low",
                "description": "The land of Phuket province: the main island and its 22 smaller islands.",
                "advice": "No special precautions; follow local safety guidance.",
                "season_months": None,
                "test_point": [7.8804, 98.3923],
            },
            "geometry": rounded(shapely.orient_polygons(phuket)),
        },
        zone_feature(
            build_service_area(land, to_metric(neighbours)),
            slug="phuket-service-area",
            name="Phuket province land and waters",
            name_th="พื้นที่จังหวัดภูเก็ตและน่านน้ำ",
            kind="service_area",
            severity="low",
            description="Phuket's land and the sea within 12 km of it, where this service can follow and help you.",
            advice="Tell your hotel or the tourist police before travelling outside Phuket.",
            season_months=None,
            test_point=[7.8961, 98.2966],
        ),
    ]
    taken = shapely.Polygon()
    for beach in BEACHES:
        strip = beach_strip(beach, land, land_gap).difference(taken)
        taken = taken.union(strip)
        features.append(
            zone_feature(
                strip,
                slug=f"rip-{beach.slug}",
                name=f"{beach.name} rip currents",
                name_th=f"เขตอันตรายกระแสน้ำย้อนกลับ {beach.name_th}",
                kind="danger",
                severity="high",
                description=f"Strong rip currents off {beach.name} in the southwest "
                "monsoon can pull even strong swimmers out to sea.",
                advice="Do not swim when red flags fly; swim only near lifeguards and, "
                "if caught, swim parallel to the shore and signal for help.",
                season_months=MONSOON_MONTHS,
                test_point=list(offshore_test_point(strip, beach.shore)),
            )
        )
    for lane in LANES:
        corridor = metric_line(lane.line).buffer(LANE_HALF_WIDTH_M)
        corridor = corridor.difference(land_gap).difference(taken.buffer(LAND_GAP_M))
        features.append(
            zone_feature(
                corridor,
                slug=lane.slug,
                name=lane.name,
                name_th=lane.name_th,
                kind="caution",
                severity="medium",
                description=lane.description,
                advice=lane.advice,
                season_months=None,
                test_point=list(lane.test_point),
            )
        )
    return features


def build_facilities() -> list[dict[str, Any]]:
    """Every facility feature, in a stable order."""
    return [
        {
            "type": "Feature",
            "properties": {
                "slug": f.slug,
                "name": f.name,
                "name_th": f.name_th,
                "kind": f.kind,
                "phone": f.phone,
                "code": f.code,
            },
            "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]},
        }
        for f in FACILITIES
    ]


def write_collection(path: Path, features: list[dict[str, Any]]) -> None:
    """Write a FeatureCollection with one feature per line (readable diffs)."""
    lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    path.write_text(
        '{"type": "FeatureCollection", "features": [\n' + lines + "\n]}\n",
        encoding="utf-8",
    )


def main() -> None:
    """Build zones.geojson and facilities.geojson from the shared data."""
    data = shared_data_dir()
    phuket = load_provinces(data / "phuket_province.geojson")["Phuket"]
    neighbours = shapely.union_all(list(load_provinces(data / "neighbour_provinces.geojson").values()))
    zones = build_zones(phuket, neighbours)
    write_collection(HERE / "zones.geojson", zones)
    write_collection(HERE / "facilities.geojson", build_facilities())
    print(f"wrote {len(zones)} zones and {len(FACILITIES)} facilities to {HERE}")


if __name__ == "__main__":
    main()
