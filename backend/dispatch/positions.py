"""Tourists on the 191 map: latest positions in a viewport, their status, tracks, nearby help.

A tourist's map status is derived, most urgent first: ``sos`` (an open SOS), ``danger`` (in a
danger zone), ``outside`` (outside the service area), ``overdue`` (an open overdue incident, or
silent for longer than the overdue threshold), else ``ok``.

The positions themselves are tracking's rows, read through :mod:`backend.dispatch.sources`
(``backend.tracking.positions``): tracking sits above dispatch, since it raises incidents.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from backend.dispatch import sources
from backend.dispatch.models import OPEN_STATUSES, Incident, IncidentKind
from backend.extensions import db
from backend.models_base import utcnow
from geo.models import Facility
from geo.service import nearest_facilities

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BBox:
    """A map viewport in WGS 84: west, south, east, north."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, value: Any) -> BBox:
        """From ``"minLon,minLat,maxLon,maxLat"`` or a list of four numbers; ValueError if invalid."""
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, list | tuple) or len(parts) != 4:
            raise ValueError("bbox must be four numbers: minLon,minLat,maxLon,maxLat")
        try:
            nums = [float(p) for p in parts]
        except (TypeError, ValueError):
            raise ValueError("bbox must be four numbers: minLon,minLat,maxLon,maxLat") from None
        if isinstance(parts[0], bool) or not all(math.isfinite(n) for n in nums):
            raise ValueError("bbox must be four finite numbers")
        min_lon, min_lat, max_lon, max_lat = nums
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat <= 90 and -90 <= max_lat <= 90):
            raise ValueError("bbox is out of range (longitude -180…180, latitude -90…90)")
        if min_lon >= max_lon or min_lat >= max_lat:
            raise ValueError("bbox must have minLon < maxLon and minLat < maxLat")
        return cls(min_lon, min_lat, max_lon, max_lat)

    def contains(self, lat: float, lon: float) -> bool:
        """True when the point lies inside (or on the edge of) the box."""
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


@dataclass(frozen=True)
class TouristPosition:
    """One tourist's latest position as the map shows it."""

    card_id: str
    lat: float
    lon: float
    recorded_at: datetime
    last_contact_at: datetime
    status: str
    full_name: str
    nationality: str
    accuracy_m: float | None
    battery_pct: float | None

    def item(self) -> dict[str, Any]:
        """A compact JSON object for the Socket.IO position feed."""
        return {"card_id": self.card_id, "lat": self.lat, "lon": self.lon,
                "recorded_at": self.recorded_at.isoformat(), "status": self.status,
                "full_name": self.full_name, "nationality": self.nationality}

    def feature(self) -> dict[str, Any]:
        """A GeoJSON Feature (RFC 7946) for the REST endpoint."""
        return {"type": "Feature", "id": self.card_id,
                "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
                "properties": {"card_id": self.card_id, "recorded_at": self.recorded_at,
                               "last_contact_at": self.last_contact_at, "status": self.status,
                               "full_name": self.full_name, "nationality": self.nationality,
                               "accuracy_m": self.accuracy_m, "battery_pct": self.battery_pct}}


def _open_incident_kinds() -> dict[str, set[str]]:
    """Card id -> kinds of its open incidents (open incidents are few next to tourists)."""
    kinds: dict[str, set[str]] = defaultdict(set)
    rows = db.session.execute(select(Incident.card_id, Incident.kind)
                              .where(Incident.status.in_(OPEN_STATUSES)))
    for card_id, kind in rows:
        kinds[card_id].add(kind)
    return kinds


def tourist_status(position: sources.LatestFix, open_kinds: set[str], now: datetime) -> str:
    """The map status of a tourist from their latest position and open incidents."""
    cfg = current_app.config
    if IncidentKind.SOS in open_kinds:
        return "sos"
    if position.danger_zone_id is not None or IncidentKind.DANGER_ZONE in open_kinds:
        return "danger"
    if not position.in_service_area or IncidentKind.LEFT_AREA in open_kinds:
        return "outside"
    silent_after = cfg["OVERDUE_AT_SEA_AFTER_S"] if position.at_sea else cfg["OVERDUE_AFTER_S"]
    if IncidentKind.OVERDUE in open_kinds or position.last_contact_at < now - timedelta(seconds=silent_after):
        return "overdue"
    return "ok"


def _positions(rows, now: datetime) -> list[TouristPosition]:  # noqa: ANN001
    kinds = _open_incident_kinds()
    return [TouristPosition(card_id=p.card_id, lat=p.lat, lon=p.lon, recorded_at=p.recorded_at,
                            last_contact_at=p.last_contact_at, status=tourist_status(p, kinds.get(p.card_id, set()), now),
                            full_name=name, nationality=nationality, accuracy_m=p.accuracy_m,
                            battery_pct=p.battery_pct)
            for p, name, nationality in rows]


def positions_in(*, bbox: BBox, limit: int) -> tuple[list[TouristPosition], bool]:
    """Latest positions of tracked cards inside ``bbox`` (newest first), and whether capped."""
    now = utcnow()
    rows = sources.current().positions.tracked_in(bbox=bbox, limit=limit + 1, now=now)
    return _positions(rows[:limit], now), len(rows) > limit


def positions_contacted_since(*, since: datetime, limit: int = 50_000) -> list[TouristPosition]:
    """Latest positions of tracked cards heard from after ``since`` (the live feed's poll)."""
    now = utcnow()
    return _positions(sources.current().positions.tracked_contacted_since(since=since, limit=limit, now=now), now)


def card_track(*, card_id: str, hours: float, limit: int = 2000) -> list[Any]:
    """The card's pings of the last ``hours`` (by device time), oldest first, at most ``limit``."""
    since = utcnow() - timedelta(hours=hours)
    return sources.current().positions.pings_since(card_id=card_id, since=since, limit=limit)


# --- help nearby ---------------------------------------------------------------------------

NEARBY_KINDS: dict[str, int] = {"hospital": 2, "police": 1, "tourist_police": 1, "marine_police": 1}


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _nearest(*, lat: float, lon: float, kind: str, limit: int) -> list[tuple[Any, float]]:
    if nearest_facilities is not None:
        try:
            with db.session.begin_nested():
                return list(nearest_facilities(lat=lat, lon=lon, kinds=[kind], limit=limit))
        except Exception:  # a dispatcher must still see help nearby: fall back, and say so in the log
            log.exception("geo.service.nearest_facilities failed; using great-circle distances")
    rows = db.session.scalars(select(Facility).where(Facility.kind == kind))
    return sorted(((f, _haversine_m(lat, lon, f.lat, f.lon)) for f in rows), key=lambda t: t[1])[:limit]


def nearby_help(*, lat: float, lon: float) -> list[dict[str, Any]]:
    """The nearest hospitals, police, tourist police and marine police to a position, nearest first.

    Uses ``geo.service.nearest_facilities`` (real distances in the database) when the geo
    domain provides it; otherwise a great-circle distance over the (few dozen) facilities.
    """
    found: list[tuple[Any, float]] = []
    for kind, limit in NEARBY_KINDS.items():
        found.extend(_nearest(lat=lat, lon=lon, kind=kind, limit=limit))
    found.sort(key=lambda t: t[1])
    return [{"id": f.id, "kind": f.kind, "name": f.name, "name_th": f.name_th, "phone": f.phone,
             "lat": f.lat, "lon": f.lon, "distance_m": round(float(d), 1)} for f, d in found]
