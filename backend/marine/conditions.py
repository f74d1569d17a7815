"""Sea conditions: stations and their observations, marine warnings and the departure hold.

A red flag, or waves or wind over ``MARINE_WARNING_WAVE_M`` / ``MARINE_WARNING_WIND_MPS``, in a
station's newest observation puts the station's area under a marine warning: its zone becomes
``critical`` (what ``GET /api/v1/zones`` shows and the geofence rules use), the dispatchers get
``marine_warning`` with a broadcast draft, and trips may not leave a pier within
``MARINE_WARNING_RADIUS_KM`` of the station unless an admin overrides. The warning ends with the
station's newest observation below the thresholds and not red, or ``MARINE_WARNING_TTL_S`` after
its last observation (read at once by every check; the zone's severity is restored by the next
observation or sweep).

A station authenticates with its own token (``pts_station_…``), a type of its own: not a JWT,
so never mistaken for a staff or device token; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from backend.audit import service as audit
from backend.extensions import db
from backend.marine import events
from backend.marine.models import Flag, MarineWarning, Observation, Station
from backend.models_base import utcnow
from backend.vocab import Severity

TOKEN_PREFIX = "pts_station_"
EARTH_RADIUS_KM = 6371.0088


class DepartureHeld(Exception):
    """A marine warning covers the trip's pier: 409 naming it."""

    def __init__(self, hold: Hold) -> None:
        self.hold = hold
        super().__init__(f"departure held: marine warning at {hold.station_name} ({hold.reason}), "
                         f"{hold.distance_km:.1f} km from the pier")


class OverrideForbidden(Exception):
    """Only an admin may override a departure hold: 403."""


@dataclass(frozen=True)
class Hold:
    """The warning that holds departures from a pier."""

    warning_id: int
    station_id: int
    station_name: str
    lat: float
    lon: float
    reason: str
    since: datetime
    distance_km: float

    def as_dict(self) -> dict[str, Any]:
        """The 409's ``warning``."""
        return {"id": self.warning_id, "reason": self.reason, "since": rfc3339(self.since),
                "distance_km": round(self.distance_km, 2),
                "station": {"id": self.station_id, "name": self.station_name, "lat": self.lat, "lon": self.lon}}


def rfc3339(moment: datetime) -> str:
    """A UTC time as RFC 3339 with ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius): metres of error at these ranges."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def token_hash(token: str) -> str:
    """What is stored of a station token."""
    return hashlib.sha256(token.encode()).hexdigest()


def ttl() -> timedelta:
    """How long a warning lasts after its last observation (``MARINE_WARNING_TTL_S``)."""
    return timedelta(seconds=int(current_app.config["MARINE_WARNING_TTL_S"]))


# --- stations ---------------------------------------------------------------------------------

def create_station(*, name: str, lat: float, lon: float, zone_id: int | None = None) -> tuple[Station, str]:
    """Register a station; returns it and its token (shown once, only its hash is kept). The caller commits."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    station = Station(name=name, lat=lat, lon=lon, zone_id=zone_id, token_hash=token_hash(token),
                      created_at=utcnow())
    db.session.add(station)
    db.session.flush()
    audit.record("station.create", subject_type="station", subject_id=station.id,
                 detail={"name": name, "lat": lat, "lon": lon, "zone_id": zone_id})
    return station, token


def station_for_token(token: str | None) -> Station | None:
    """The station a bearer token belongs to, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return db.session.scalar(select(Station).where(Station.token_hash == token_hash(token)))


# --- observations and warnings ----------------------------------------------------------------

def warning_reasons(obs: Observation) -> list[str]:
    """Why an observation puts its area under a warning (empty: it does not)."""
    cfg = current_app.config
    wave_limit, wind_limit = float(cfg["MARINE_WARNING_WAVE_M"]), float(cfg["MARINE_WARNING_WIND_MPS"])
    reasons = []
    if obs.flag == Flag.RED:
        reasons.append("red flag")
    if obs.wave_height_m is not None and obs.wave_height_m > wave_limit:
        reasons.append(f"waves {obs.wave_height_m:g} m (over {wave_limit:g} m)")
    if obs.wind_speed_mps is not None and obs.wind_speed_mps > wind_limit:
        reasons.append(f"wind {obs.wind_speed_mps:g} m/s (over {wind_limit:g} m/s)")
    return reasons


def _template(obs: Observation) -> str:
    """The broadcast template of the draft: a storm for waves or wind, rip currents for a red flag alone."""
    cfg = current_app.config
    rough = ((obs.wave_height_m or 0) > float(cfg["MARINE_WARNING_WAVE_M"])
             or (obs.wind_speed_mps or 0) > float(cfg["MARINE_WARNING_WIND_MPS"]))
    return "storm_small_boat" if rough else "rip_current_red_flag"


def is_active(warning: MarineWarning, now: datetime) -> bool:
    """Not ended and within the TTL of its last observation."""
    return warning.ended_at is None and warning.last_observed_at + ttl() > now


def open_warning(station: Station) -> MarineWarning | None:
    """The station's open warning row (possibly past its TTL, until it is ended)."""
    return db.session.scalar(select(MarineWarning).where(MarineWarning.station_id == station.id,
                                                         MarineWarning.ended_at.is_(None)))


def record_observation(*, station: Station, observed_at: datetime, wave_height_m: float | None = None,
                       wind_speed_mps: float | None = None, gust_mps: float | None = None,
                       flag: str | None = None, now: datetime | None = None) -> tuple[Observation, MarineWarning | None]:
    """Store an observation and start, extend or end the station's warning; returns it and the active warning.

    Only the station's newest observation decides (a late, older report is stored and changes
    nothing). The caller commits.
    """
    now = now or utcnow()
    newest_before = db.session.scalar(select(func.max(Observation.observed_at))
                                      .where(Observation.station_id == station.id))
    obs = Observation(station_id=station.id, observed_at=observed_at, received_at=now, wave_height_m=wave_height_m,
                      wind_speed_mps=wind_speed_mps, gust_mps=gust_mps, flag=flag)
    db.session.add(obs)
    db.session.flush()
    warning = open_warning(station)
    if warning is not None and not is_active(warning, now):
        end_warning(warning, now=now)
        warning = None
    if newest_before is not None and observed_at < newest_before:
        return obs, warning
    reasons = warning_reasons(obs)
    if reasons and observed_at + ttl() > now:
        if warning is None:
            warning = _start_warning(station, obs, "; ".join(reasons))
        else:
            warning.last_observed_at = observed_at
            warning.reason = "; ".join(reasons)[:200]
    elif warning is not None and not reasons:
        end_warning(warning, now=now)
        warning = None
    return obs, warning


def _start_warning(station: Station, obs: Observation, reason: str) -> MarineWarning:
    from geo.models import Zone

    zone = db.session.get(Zone, station.zone_id) if station.zone_id is not None else None
    base = None
    if zone is not None:
        # another station's warning may have raised this zone already: keep the zone's own severity
        other = db.session.scalar(select(MarineWarning).where(MarineWarning.zone_id == zone.id,
                                                              MarineWarning.ended_at.is_(None)))
        base = other.zone_base_severity if other is not None else zone.severity
        if zone.severity != Severity.CRITICAL:
            zone.severity = Severity.CRITICAL
            zone.updated_at = utcnow()
    warning = MarineWarning(station_id=station.id, zone_id=zone.id if zone else None, zone_base_severity=base,
                            reason=reason[:200], since=obs.observed_at, last_observed_at=obs.observed_at)
    db.session.add(warning)
    db.session.flush()
    audit.record("marine.warning_start", subject_type="station", subject_id=station.id,
                 detail={"warning_id": warning.id, "reason": warning.reason, "zone_id": warning.zone_id})
    events.warning_raised(warning_payload(warning, station, zone, _template(obs)))
    return warning


def end_warning(warning: MarineWarning, *, now: datetime | None = None) -> None:
    """End a warning; its zone gets its own severity back unless another warning still covers it."""
    from geo.models import Zone

    now = now or utcnow()
    warning.ended_at = now
    db.session.flush()
    if warning.zone_id is not None:
        still = db.session.scalar(select(func.count(MarineWarning.id)).where(
            MarineWarning.zone_id == warning.zone_id, MarineWarning.ended_at.is_(None)))
        zone = db.session.get(Zone, warning.zone_id)
        if not still and zone is not None and warning.zone_base_severity and zone.severity == Severity.CRITICAL:
            zone.severity = warning.zone_base_severity
            zone.updated_at = now
    audit.record("marine.warning_end", subject_type="station", subject_id=warning.station_id,
                 detail={"warning_id": warning.id})


def end_expired_warnings(now: datetime | None = None) -> int:
    """End every warning past its TTL (the sweep); how many."""
    now = now or utcnow()
    rows = list(db.session.scalars(select(MarineWarning).where(MarineWarning.ended_at.is_(None),
                                                               MarineWarning.last_observed_at <= now - ttl())))
    for warning in rows:
        end_warning(warning, now=now)
    return len(rows)


def _circle(lat: float, lon: float, radius_km: float, sides: int = 32) -> dict[str, Any]:
    """A GeoJSON Polygon approximating a circle (lon, lat; counter-clockwise, closed)."""
    ring = []
    for i in range(sides):
        angle = 2 * math.pi * i / sides
        dlat = radius_km / 111.32 * math.sin(angle)
        dlon = radius_km / (111.32 * math.cos(math.radians(lat))) * math.cos(angle)
        ring.append([round(lon + dlon, 6), round(lat + dlat, 6)])
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def warning_payload(warning: MarineWarning, station: Station, zone: Any, template: str) -> dict[str, Any]:
    """The ``marine_warning`` event: the station, the warning, its zone and a broadcast draft."""
    radius = float(current_app.config["MARINE_WARNING_RADIUS_KM"])
    area = {"zone_id": zone.id} if zone is not None else _circle(station.lat, station.lon, radius)
    return {
        "station": {"id": station.id, "name": station.name, "lat": station.lat, "lon": station.lon},
        "warning": {"reason": warning.reason, "since": rfc3339(warning.since)},
        "zone": {"id": zone.id, "name": zone.name} if zone is not None else None,
        "broadcast_draft": {"template": template, "severity": "Severe", "urgency": "Immediate", "area": area},
    }


def active_warnings(now: datetime | None = None) -> list[MarineWarning]:
    """Warnings in force now."""
    now = now or utcnow()
    return list(db.session.scalars(select(MarineWarning).where(MarineWarning.ended_at.is_(None),
                                                               MarineWarning.last_observed_at > now - ttl())))


def pier_position(pier: str) -> tuple[float, float] | None:
    """A seeded pier's (lat, lon) by its code (the sea-port checkpoints of ``flask seed``); None for others."""
    from geo.models import Facility

    row = db.session.execute(select(Facility.lat, Facility.lon).where(Facility.code == pier)).first()
    return None if row is None else (row.lat, row.lon)


def departure_hold(pier: str, *, now: datetime | None = None) -> Hold | None:
    """The nearest warning in force within ``MARINE_WARNING_RADIUS_KM`` of the pier, or None.

    A pier given in free text has no known position and is never held.
    """
    position = pier_position(pier)
    if position is None:
        return None
    radius = float(current_app.config["MARINE_WARNING_RADIUS_KM"])
    holds = []
    for warning in active_warnings(now):
        station = warning.station
        km = distance_km(position[0], position[1], station.lat, station.lon)
        if km <= radius:
            holds.append(Hold(warning.id, station.id, station.name, station.lat, station.lon, warning.reason,
                              warning.since, km))
    return min(holds, key=lambda h: h.distance_km, default=None)


def conditions(now: datetime | None = None) -> list[dict[str, Any]]:
    """Every station with its newest observation and its warning in force (three queries)."""
    now = now or utcnow()
    newest = (select(Observation.station_id, func.max(Observation.observed_at).label("observed_at"))
              .group_by(Observation.station_id).subquery())
    rows = db.session.execute(
        select(Station, Observation).outerjoin(newest, newest.c.station_id == Station.id)
        .outerjoin(Observation, (Observation.station_id == Station.id)
                   & (Observation.observed_at == newest.c.observed_at))
        .order_by(Station.name, Station.id, Observation.id.desc())).all()
    warnings = {w.station_id: w for w in active_warnings(now)}
    result: dict[int, dict[str, Any]] = {}
    for station, obs in rows:
        if station.id in result:  # two observations at the same instant: the last stored
            continue
        warning = warnings.get(station.id)
        result[station.id] = {
            "id": station.id, "name": station.name, "lat": station.lat, "lon": station.lon,
            "zone_id": station.zone_id,
            "observed_at": obs.observed_at if obs else None,
            "wave_height_m": obs.wave_height_m if obs else None,
            "wind_speed_mps": obs.wind_speed_mps if obs else None,
            "gust_mps": obs.gust_mps if obs else None,
            "flag": obs.flag if obs else None,
            "warning": None if warning is None else {"reason": warning.reason, "since": warning.since},
        }
    return list(result.values())
