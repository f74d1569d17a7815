"""``flask seed``: Phuket's zones, facilities and entry checkpoints, idempotently.

The data comes from ``geo/data/zones.geojson`` and ``geo/data/facilities.geojson`` (see
``geo/data/README.md`` for sources and method). Zones and facilities are matched by their
``slug``: a second run changes nothing, and a run after the data files changed updates the
rows in place (zone ids, and so incidents' references, stay stable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import shape
from sqlalchemy import select

from backend.extensions import db
from backend.geometry import point, to_element
from backend.models_base import utcnow
from geo.models import Facility, Zone
from geo.validation import as_multipolygon

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class SeedResult:
    """What a seed run changed."""

    zones_created: int
    zones_updated: int
    facilities_created: int
    facilities_updated: int


def _features(name: str) -> list[dict[str, Any]]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))["features"]


def zone_translations() -> dict[str, dict[str, dict[str, str]]]:
    """Zone slug → language → {name, description, advice}, from ``geo/data/zones.i18n.json``."""
    return json.loads((DATA_DIR / "zones.i18n.json").read_text(encoding="utf-8"))["zones"]


def _seed_zones() -> tuple[int, int]:
    existing = {z.slug: z for z in db.session.scalars(select(Zone).where(Zone.slug.is_not(None)))}
    translations = zone_translations()
    created = updated = 0
    for feature in _features("zones.geojson"):
        props = feature["properties"]
        geometry = as_multipolygon(shape(feature["geometry"]))
        values = {
            "name": props["name"], "name_th": props.get("name_th"), "kind": props["kind"],
            "severity": props["severity"], "description": props.get("description"),
            "advice": props.get("advice"), "season_months": props.get("season_months"),
            "translations": translations.get(props["slug"]),
        }
        zone = existing.get(props["slug"])
        if zone is None:
            now = utcnow()
            db.session.add(Zone(slug=props["slug"], geom=to_element(geometry), created_at=now, updated_at=now,
                                **values))
            created += 1
            continue
        changed = any(getattr(zone, key) != value for key, value in values.items())
        if not to_shape(zone.geom).equals_exact(geometry, 1e-9):
            zone.geom = to_element(geometry)
            changed = True
        if changed:
            for key, value in values.items():
                setattr(zone, key, value)
            zone.updated_at = utcnow()
            updated += 1
    return created, updated


def _seed_facilities() -> tuple[int, int]:
    existing = {f.slug: f for f in db.session.scalars(select(Facility))}
    created = updated = 0
    for feature in _features("facilities.geojson"):
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        values = {"name": props["name"], "name_th": props.get("name_th"), "kind": props["kind"],
                  "phone": props.get("phone"), "code": props.get("code"), "lat": lat, "lon": lon}
        facility = existing.get(props["slug"])
        if facility is None and props.get("code"):  # a checkpoint added by hand: match it by its code
            facility = db.session.scalar(select(Facility).where(Facility.code == props["code"]))
        if facility is None:
            db.session.add(Facility(slug=props["slug"], geom=point(lat, lon), **values))
            created += 1
        elif any(getattr(facility, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(facility, key, value)
            facility.slug = props["slug"]
            facility.geom = point(lat, lon)
            updated += 1
    return created, updated


def seed() -> SeedResult:
    """Create or update Phuket's zones and facilities; the caller commits."""
    zones_created, zones_updated = _seed_zones()
    facilities_created, facilities_updated = _seed_facilities()
    db.session.flush()
    return SeedResult(zones_created, zones_updated, facilities_created, facilities_updated)

