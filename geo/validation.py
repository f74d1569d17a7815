"""Checking zone geometry from admins before it reaches the database.

A zone must be a GeoJSON Polygon or MultiPolygon (RFC 7946, lon/lat) whose rings are closed,
valid (no self-intersection), not empty, inside a generous region around Phuket and not
absurdly large. Every problem is reported as a plain sentence so the admin can fix it.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.validation import explain_validity

from backend.runtime import off_loop

# A generous region around Phuket (about ±110 km): zones beyond it are mistakes (swapped
# lat/lon, another country), not Phuket's.
REGION = box(97.35, 6.9, 99.35, 8.9)
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


def _polygon(value: Any, where: str) -> Polygon:
    if not isinstance(value, list | tuple) or not value:
        raise GeometryError(f"{where}: a polygon must be a non-empty list of rings")
    rings = [_ring(r, f"{where}[{i}]") for i, r in enumerate(value)]
    return Polygon(rings[0], rings[1:])


def parse_zone_geometry(geometry: Any) -> MultiPolygon:
    """A valid MultiPolygon from a GeoJSON Polygon/MultiPolygon, or :class:`GeometryError`.

    Up to ``MAX_VERTICES`` positions: checked off the event loop (shapely releases the GIL).
    """
    return off_loop(_parse_zone_geometry, geometry)


def _parse_zone_geometry(geometry: Any) -> MultiPolygon:
    if not isinstance(geometry, dict):
        raise GeometryError("geometry must be a GeoJSON object")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError("geometry must be a Polygon or a MultiPolygon")
    if kind == "Polygon":
        polygons = [_polygon(coordinates, "coordinates")]
    else:
        if not isinstance(coordinates, list | tuple) or not coordinates:
            raise GeometryError("coordinates: a MultiPolygon needs at least one polygon")
        polygons = [_polygon(p, f"coordinates[{i}]") for i, p in enumerate(coordinates)]
    shape = MultiPolygon(polygons)
    if shapely.get_num_coordinates(shape) > MAX_VERTICES:
        raise GeometryError(f"geometry has more than {MAX_VERTICES} positions")
    if shape.is_empty:
        raise GeometryError("geometry is empty (it encloses no area)")
    if not shape.is_valid:
        raise GeometryError(f"geometry is invalid: {explain_validity(shape)}")
    if shape.area == 0:
        raise GeometryError("geometry is empty (it encloses no area)")
    if not REGION.covers(shape):
        raise GeometryError("geometry lies (partly) far away from Phuket; check the lon/lat order")
    if area_km2(shape) > MAX_AREA_KM2:
        raise GeometryError(f"geometry covers {area_km2(shape):,.0f} km², more than {MAX_AREA_KM2:,.0f} km²")
    return shape


def area_km2(shape: Polygon | MultiPolygon) -> float:
    """Approximate area in km² (local equirectangular scale at the shape's latitude)."""
    lat = shape.centroid.y
    return shape.area * _M_PER_DEG * _M_PER_DEG * math.cos(math.radians(lat)) / 1e6


def as_multipolygon(shape: Polygon | MultiPolygon) -> MultiPolygon:
    """Zones are stored as MultiPolygons."""
    return shape if isinstance(shape, MultiPolygon) else MultiPolygon([shape])
