"""Checking drawn areas before they reach the database: zones from admins, broadcast areas.

An area must be a GeoJSON Polygon or MultiPolygon (RFC 7946, lon/lat) whose rings are closed,
valid (no self-intersection), not empty, inside the region around Phuket
(:data:`backend.geometry.PHUKET_REGION`) and, for a zone, not absurdly large. Every problem is
reported as a plain sentence so the admin or the dispatcher can fix it. This is the one polygon
validation of the service (:func:`parse_area`); zones and broadcasts differ only in its limits.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity

from backend.geometry import PHUKET_REGION
from backend.runtime import off_loop

# Phuket's land and waters are ~2,800 km²; a zone more than three times larger is a mistake.
MAX_AREA_KM2 = 10_000.0
MAX_VERTICES = 50_000
_M_PER_DEG = 111_320.0


class GeometryError(ValueError):
    """The GeoJSON geometry cannot be a zone; ``str(exc)`` says why."""


def _position(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise GeometryError(f"{where}: a position must be [lon, lat] (or [lon, lat, altitude])")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise GeometryError(f"{where}: coordinates must be finite numbers")
    lon, lat = float(value[0]), float(value[1])
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise GeometryError(f"{where}: [{lon}, {lat}] is not a [lon, lat] position on Earth")
    return lon, lat


def _ring(value: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(value, list | tuple):
        raise GeometryError(f"{where}: a ring must be a list of positions")
    points = [_position(p, f"{where}[{i}]") for i, p in enumerate(value)]
    if len(points) < 4:
        raise GeometryError(f"{where}: a ring needs at least 4 positions (the first repeated last)")
    if points[0] != points[-1]:
        raise GeometryError(f"{where}: the ring is not closed (its last position must equal its first)")
    return points


def _polygon(value: Any, where: str, holes: bool) -> Polygon:
    if not isinstance(value, list | tuple) or not value:
        raise GeometryError(f"{where}: a polygon must be a non-empty list of rings")
    if not holes and len(value) != 1:
        raise GeometryError(f"{where}: the polygon must have exactly one ring (no holes)")
    rings = [_ring(r, f"{where}[{i}]") for i, r in enumerate(value)]
    return Polygon(rings[0], rings[1:])


def parse_zone_geometry(geometry: Any) -> MultiPolygon:
    """A valid MultiPolygon from a GeoJSON Polygon/MultiPolygon, or :class:`GeometryError`.

    Up to ``MAX_VERTICES`` positions: checked off the event loop (shapely releases the GIL).
    """
    return off_loop(parse_area, geometry)


def parse_area(geometry: Any, *, kinds: tuple[str, ...] = ("Polygon", "MultiPolygon"), holes: bool = True,
               max_vertices: int = MAX_VERTICES, max_area_km2: float | None = MAX_AREA_KM2) -> MultiPolygon:
    """A valid MultiPolygon inside :data:`PHUKET_REGION` from GeoJSON, or :class:`GeometryError`.

    The defaults are a zone's limits; a broadcast area is one Polygon without holes, of any size.
    """
    if not isinstance(geometry, dict):
        raise GeometryError("geometry must be a GeoJSON object")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind not in kinds:
        raise GeometryError(f"geometry must be a {' or a '.join(kinds)}")
    if kind == "Polygon":
        polygons = [_polygon(coordinates, "coordinates", holes)]
    else:
        if not isinstance(coordinates, list | tuple) or not coordinates:
            raise GeometryError("coordinates: a MultiPolygon needs at least one polygon")
        polygons = [_polygon(p, f"coordinates[{i}]", holes) for i, p in enumerate(coordinates)]
    shape = MultiPolygon(polygons)
    if shapely.get_num_coordinates(shape) > max_vertices:
        raise GeometryError(f"geometry has more than {max_vertices} positions")
    if shape.is_empty:
        raise GeometryError("geometry is empty (it encloses no area)")
    if not shape.is_valid:
        raise GeometryError(f"geometry is invalid: {explain_validity(shape)}")
    if shape.area == 0:
        raise GeometryError("geometry is empty (it encloses no area)")
    if not PHUKET_REGION.covers(shape):
        raise GeometryError("geometry lies (partly) far away from Phuket; check the lon/lat order")
    if max_area_km2 is not None and area_km2(shape) > max_area_km2:
        raise GeometryError(f"geometry covers {area_km2(shape):,.0f} km², more than {max_area_km2:,.0f} km²")
    return shape


def area_km2(shape: Polygon | MultiPolygon) -> float:
    """Approximate area in km² (local equirectangular scale at the shape's latitude)."""
    lat = shape.centroid.y
    return shape.area * _M_PER_DEG * _M_PER_DEG * math.cos(math.radians(lat)) / 1e6


def as_multipolygon(shape: Polygon | MultiPolygon) -> MultiPolygon:
    """Zones are stored as MultiPolygons."""
    return shape if isinstance(shape, MultiPolygon) else MultiPolygon([shape])
