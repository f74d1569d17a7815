"""Zones and facilities: reading them as GeoJSON, admin changes, and nearest-facility queries."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon, mapping
from sqlalchemy import cast, func, select
from sqlalchemy.exc import IntegrityError

from backend import signals
from backend.database import is_postgres
from backend.extensions import db
from backend.geometry import to_element
from backend.models_base import utcnow
from geo.models import Facility, FacilityKind, Zone, ZoneKind
from geo.validation import as_multipolygon

COORD_DECIMALS = 6


class ZoneConflict(ValueError):
    """Another zone already has that slug."""


@dataclass(frozen=True)
class ZoneCollection:
    """The zones as a serialized GeoJSON FeatureCollection and its strong ETag."""

    body: bytes
    etag: str


_collection_cache: dict[tuple[Any, ...], ZoneCollection] = {}
_cache_lock = threading.Lock()


def _rounded(value: Any) -> Any:
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], float | int) and not isinstance(value[0], bool):
            return [round(float(v), COORD_DECIMALS) for v in value]
        return [_rounded(v) for v in value]
    return value


def geometry_geojson(element: Any) -> dict[str, Any]:
    """A GeoJSON geometry (lon, lat; 6 decimals) from a geometry column value."""
    geometry = mapping(to_shape(element))
    return {"type": geometry["type"], "coordinates": _rounded(geometry["coordinates"])}


def zone_feature(zone: Zone) -> dict[str, Any]:
    """A zone as a GeoJSON Feature (the properties of the contract plus descriptive fields)."""
    return {
        "type": "Feature",
        "id": zone.id,
        "properties": {
            "id": zone.id,
            "slug": zone.slug,
            "name": zone.name,
            "name_th": zone.name_th,
            "kind": zone.kind,
            "severity": zone.severity,
            "description": zone.description,
            "advice": zone.advice,
            "season_months": zone.season_months,
            "translations": zone.translations,
            "updated_at": zone.updated_at.isoformat().replace("+00:00", "Z") if zone.updated_at else None,
        },
        "geometry": geometry_geojson(zone.geom),
    }


def zones_collection(*, kinds: list[str] | None = None) -> ZoneCollection:
    """All zones (optionally of ``kinds``) as GeoJSON, cached until any zone changes."""
    query = select(func.count(Zone.id), func.max(Zone.updated_at), func.coalesce(func.sum(Zone.id), 0))
    if kinds:
        query = query.where(Zone.kind.in_(kinds))
    count, last_change, id_sum = db.session.execute(query).one()
    key = (db.engine.url.render_as_string(), tuple(sorted(kinds or ())), count, str(last_change), int(id_sum))
    with _cache_lock:
        cached = _collection_cache.get(key)
    if cached is not None:
        return cached
    zones_query = select(Zone).order_by(Zone.id)
    if kinds:
        zones_query = zones_query.where(Zone.kind.in_(kinds))
    features = [zone_feature(z) for z in db.session.scalars(zones_query)]
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      separators=(",", ":")).encode()
    collection = ZoneCollection(body=body, etag=hashlib.sha256(body).hexdigest()[:32])
    with _cache_lock:
        if len(_collection_cache) > 64:
            _collection_cache.clear()
        _collection_cache[key] = collection
    return collection


def get_zone(*, zone_id: int) -> Zone | None:
    """One zone by id."""
    return db.session.get(Zone, zone_id)


def _apply(zone: Zone, *, geometry: MultiPolygon, properties: dict[str, Any]) -> None:
    zone.name = properties["name"]
    zone.kind = properties["kind"]
    zone.severity = properties["severity"]
    zone.name_th = properties.get("name_th")
    zone.description = properties.get("description")
    zone.advice = properties.get("advice")
    months = properties.get("season_months")
    zone.season_months = sorted(set(months)) if months else None
    if "slug" in properties:
        zone.slug = properties.get("slug") or None
    zone.geom = to_element(as_multipolygon(geometry))
    zone.updated_at = utcnow()


def _save(zone: Zone, *, geometry: MultiPolygon, properties: dict[str, Any], new: bool) -> None:
    """Apply and flush inside a savepoint, so a duplicate slug leaves the session usable.

    The changes must be made inside the savepoint: opening one flushes what is pending first,
    and a duplicate slug would then fail outside of it.
    """
    try:
        with db.session.begin_nested():
            _apply(zone, geometry=geometry, properties=properties)
            if new:
                db.session.add(zone)
            db.session.flush()
    except IntegrityError as exc:
        raise ZoneConflict(f"another zone already has the slug {properties.get('slug')!r}") from exc


def create_zone(*, geometry: MultiPolygon, properties: dict[str, Any]) -> Zone:
    """Add a zone from validated geometry and properties; the caller commits."""
    zone = Zone(created_at=utcnow())
    _save(zone, geometry=geometry, properties=properties, new=True)
    return zone


def update_zone(*, zone: Zone, geometry: MultiPolygon, properties: dict[str, Any]) -> Zone:
    """Replace a zone's geometry and properties; the caller commits."""
    _save(zone, geometry=geometry, properties=properties, new=False)
    return zone


def delete_zone(*, zone: Zone) -> None:
    """Remove a zone; incidents keep their history (their zone becomes null); the caller commits."""
    signals.zone_deleting.send(zone)  # tracking forgets the positions inside it
    db.session.delete(zone)
    db.session.flush()


def zone_kinds() -> list[str]:
    """The zone kinds the rules understand."""
    return [k.value for k in ZoneKind]


def facility_kinds() -> list[str]:
    """The facility kinds."""
    return [k.value for k in FacilityKind]


def _distance_expr(lat: float, lon: float):  # noqa: ANN202
    """Real distance in metres from (lat, lon): geography on PostGIS, the ellipsoid on SpatiaLite."""
    here = _point_sql(lat, lon)
    if is_postgres():
        from geoalchemy2 import Geography

        return func.ST_Distance(cast(Facility.geom, Geography), cast(here, Geography))
    return func.ST_Distance(Facility.geom, here, True)


def _point_sql(lat: float, lon: float):  # noqa: ANN202
    """SQL: the WGS 84 point (lat, lon)."""
    return func.ST_GeomFromText(f"POINT({float(lon)!r} {float(lat)!r})", 4326)


def nearest_facilities(*, lat: float, lon: float, kinds: list[str] | None = None,
                       limit: int = 3) -> list[tuple[Facility, float]]:
    """The ``limit`` facilities (of ``kinds``) nearest to (lat, lon), with their distance in metres."""
    distance = _distance_expr(lat, lon).label("distance_m")
    query = select(Facility, distance)
    if kinds:
        query = query.where(Facility.kind.in_(list(kinds)))
    if is_postgres():
        # Index-assisted (KNN on the GiST index) shortlist, then the exact geodesic order.
        shortlist = select(Facility.id).order_by(Facility.geom.op("<->")(_point_sql(lat, lon)))
        if kinds:
            shortlist = shortlist.where(Facility.kind.in_(list(kinds)))
        query = query.where(Facility.id.in_(shortlist.limit(max(limit * 4, 20)).scalar_subquery()))
    rows = db.session.execute(query.order_by(distance, Facility.id).limit(limit)).all()
    return [(facility, float(metres)) for facility, metres in rows]


def list_facilities(*, kinds: list[str] | None = None) -> list[Facility]:
    """Every facility (of ``kinds``), by kind and name."""
    query = select(Facility).order_by(Facility.kind, Facility.name)
    if kinds:
        query = query.where(Facility.kind.in_(list(kinds)))
    return list(db.session.scalars(query))


def facility_feature(facility: Facility, distance_m: float | None = None) -> dict[str, Any]:
    """A facility as a GeoJSON Feature, with its distance when asked from a point."""
    return {
        "type": "Feature",
        "id": facility.id,
        "properties": {
            "id": facility.id,
            "slug": facility.slug,
            "name": facility.name,
            "name_th": facility.name_th,
            "kind": facility.kind,
            "phone": facility.phone,
            "code": facility.code,
            "lat": facility.lat,
            "lon": facility.lon,
            "distance_m": None if distance_m is None else round(distance_m, 1),
        },
        "geometry": {"type": "Point", "coordinates": [facility.lon, facility.lat]},
    }
