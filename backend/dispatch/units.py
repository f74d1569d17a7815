"""Units and agencies the 191 center dispatches, nearest first where they have a base.

Units are few (tens, not thousands), so the distance from an incident is computed in Python
(great-circle, the same formula as the nearby facilities) over the whole table: one small query,
no spatial index needed, identical on SpatiaLite and PostGIS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select, update

from backend.dispatch.models import Incident, Unit, UnitAgency
from backend.extensions import db

EARTH_RADIUS_KM = 6371.0088


class UnitNameTaken(Exception):
    """Another unit already has that name."""


@dataclass(frozen=True)
class SeedUnit:
    """A unit that ``flask seed`` creates (or updates, by name)."""

    name: str
    agency: UnitAgency
    phone: str | None
    base: tuple[float, float] | None  # (lat, lon)


# Phuket's responders. Base positions are the stations' map positions used for the seeded
# facilities (geo/data/facilities.geojson) where the unit works from one, to about 100 m;
# phones are the public hotlines (1155 tourist police, 1669 emergency medical, 191 police,
# 1465 Thai-MECC) — a unit's direct line is set by an admin.
SEED_UNITS: tuple[SeedUnit, ...] = (
    SeedUnit("Royal Thai Police 191 Phuket", UnitAgency.POLICE, "191", None),
    SeedUnit("Phuket City Police Station", UnitAgency.POLICE, "191", (7.8845, 98.3915)),
    SeedUnit("Patong Police Station", UnitAgency.POLICE, "191", (7.8947, 98.2964)),
    SeedUnit("Chalong Police Station", UnitAgency.POLICE, "191", (7.8460, 98.3390)),
    SeedUnit("Karon Police Station", UnitAgency.POLICE, "191", (7.8445, 98.2990)),
    SeedUnit("Tourist Police Phuket", UnitAgency.TOURIST_POLICE, "1155", (7.8920, 98.3720)),
    SeedUnit("Patong Tourist Police", UnitAgency.TOURIST_POLICE, "1155", (7.8930, 98.2960)),
    SeedUnit("Marine Police Phuket (Rassada)", UnitAgency.MARINE_POLICE, "191", (7.8570, 98.4005)),
    SeedUnit("Marine Police Phuket (Sapam)", UnitAgency.MARINE_POLICE, "191", (7.9395, 98.4020)),
    SeedUnit("Vachira Phuket Hospital", UnitAgency.HOSPITAL, "1669", (7.8938, 98.3882)),
    SeedUnit("Patong Hospital", UnitAgency.HOSPITAL, "1669", (7.8950, 98.3010)),
    SeedUnit("Bangkok Hospital Phuket", UnitAgency.HOSPITAL, "1669", (7.9050, 98.3710)),
    SeedUnit("Thalang Hospital", UnitAgency.HOSPITAL, "1669", (8.0345, 98.3365)),
    SeedUnit("Kusoldharm Foundation rescue Phuket", UnitAgency.RESCUE, "1669", None),
    SeedUnit("Thai Maritime Enforcement Command Center Region 3", UnitAgency.MARITIME_ENFORCEMENT, "1465", None),
)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass
class ListedUnit:
    """A unit as the dispatch dialog lists it, with its distance from the point asked about."""

    id: int
    name: str
    agency: str
    phone: str | None
    base: dict[str, float] | None
    distance_km: float | None


def listed(unit: Unit, near: tuple[float, float] | None = None) -> ListedUnit:
    """The unit as listed, with its distance from ``near`` when given and the unit has a base."""
    has_base = unit.base_lat is not None and unit.base_lon is not None
    distance = None
    if near is not None and has_base:
        distance = round(distance_km(near[0], near[1], unit.base_lat, unit.base_lon), 2)
    return ListedUnit(id=unit.id, name=unit.name, agency=unit.agency, phone=unit.phone,
                      base={"lat": unit.base_lat, "lon": unit.base_lon} if has_base else None, distance_km=distance)


def list_units(*, near: tuple[float, float] | None = None, agency: str | None = None) -> list[ListedUnit]:
    """Every unit; with ``near`` (lat, lon) nearest first and units without a base last, else by agency and name."""
    query = select(Unit).order_by(Unit.agency, Unit.name)
    if agency:
        query = query.where(Unit.agency == agency)
    items = [listed(u, near) for u in db.session.scalars(query)]
    if near is not None:
        items.sort(key=lambda u: (u.distance_km is None, u.distance_km or 0.0, u.name))
    return items


def get_unit(*, unit_id: int) -> Unit | None:
    """The unit with that id, or None."""
    return db.session.get(Unit, unit_id)


def _name_taken(name: str, *, other_than: int | None = None) -> bool:
    """Whether another unit has ``name`` (any case); the table is small enough to compare in Python."""
    return any(n.lower() == name.lower() and i != other_than for i, n in db.session.execute(select(Unit.id, Unit.name)))


_UNSET = object()


def create_unit(*, name: str, agency: UnitAgency, phone: str | None = None,
                base: tuple[float, float] | None = None) -> Unit:
    """Add a unit; raises UnitNameTaken when the name is in use (case-insensitively)."""
    if _name_taken(name):
        raise UnitNameTaken(name)
    unit = Unit(name=name, agency=agency, phone=phone, base_lat=base[0] if base else None,
                base_lon=base[1] if base else None)
    db.session.add(unit)
    db.session.flush()
    return unit


def update_unit(unit: Unit, *, name: str | None = None, agency: UnitAgency | None = None,
                phone: object = _UNSET, base: object = _UNSET) -> Unit:
    """Change a unit's name, agency, phone or base (``None`` clears phone or base); raises UnitNameTaken."""
    if name is not None and name != unit.name:
        if _name_taken(name, other_than=unit.id):
            raise UnitNameTaken(name)
        unit.name = name
    if agency is not None:
        unit.agency = agency
    if phone is not _UNSET:
        unit.phone = phone  # type: ignore[assignment]
    if base is not _UNSET:
        lat_lon = base if isinstance(base, tuple) else None
        unit.base_lat, unit.base_lon = (lat_lon if lat_lon else (None, None))
    db.session.flush()
    return unit


def delete_unit(unit: Unit) -> None:
    """Remove a unit; incidents it was sent to keep its name as free text (``unit: {name}``)."""
    db.session.execute(update(Incident).where(Incident.unit_id == unit.id).values(unit_id=None)
                       .execution_options(synchronize_session=False))
    db.session.delete(unit)
    db.session.flush()


def seed_units() -> tuple[int, int]:
    """Create or update the seeded units by name; returns (created, updated). The caller commits."""
    existing = {u.name: u for u in db.session.scalars(select(Unit))}
    created = updated = 0
    for seed in SEED_UNITS:
        values = {"agency": seed.agency, "phone": seed.phone,
                  "base_lat": seed.base[0] if seed.base else None, "base_lon": seed.base[1] if seed.base else None}
        unit = existing.get(seed.name)
        if unit is None:
            db.session.add(Unit(name=seed.name, **values))
            created += 1
        elif any(getattr(unit, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(unit, key, value)
            updated += 1
    db.session.flush()
    return created, updated
