"""Small helpers between shapely/GeoJSON and GeoAlchemy2 columns (SRID 4326)."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point, box, mapping
from shapely.geometry.base import BaseGeometry

SRID = 4326
# A generous region around Phuket and its waters (lon 97.0–99.8, lat 6.5–9.5, about ±150 km):
# an area drawn beyond it (a zone, a broadcast) is a mistake — swapped lat/lon, another country.
PHUKET_REGION = box(97.0, 6.5, 99.8, 9.5)


def point(lat: float, lon: float) -> WKBElement:
    """A WGS 84 point column value from latitude and longitude."""
    return from_shape(Point(lon, lat), srid=SRID)


def to_element(geometry: BaseGeometry) -> WKBElement:
    """A column value from a shapely geometry."""
    return from_shape(geometry, srid=SRID)


def to_geojson(element: WKBElement) -> dict[str, Any]:
    """A GeoJSON geometry (lon, lat order) from a column value."""
    return mapping(to_shape(element))
