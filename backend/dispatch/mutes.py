"""Zone mutes: a dispatcher silences one zone's danger-zone alerts for a while (never SOS).

A mute changes only how the console presents ``danger_zone`` incidents of that zone: they are
still raised, stored, listed and emitted, with ``muted: true``, and the console neither sounds
nor highlights them. Every other kind (SOS above all) is never muted. A mute ends by itself when
``until`` passes (compared with now on every read: no job), or when a dispatcher lifts it.

After commit every change is sent as :data:`backend.signals.zone_mutes_committed` (heard by the
``zone_mute`` Socket.IO event to every dispatcher, see :mod:`backend.wiring`). Mutes are not in the incident event log: they are not incident
events, and a console that was away reads the current mutes (``GET /api/v1/dispatch/mutes``)
when it reconnects, which is all it needs — a mute is a state, not a history to replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from backend import signals
from backend.dispatch.models import Incident, IncidentKind, ZoneMute
from backend.extensions import db
from backend.models_base import utcnow
from geo.models import Zone, ZoneKind

MIN_MINUTES = 5
MAX_MINUTES = 720


class UnknownZone(Exception):
    """No zone has that id."""


class NotADangerZone(Exception):
    """Only danger zones raise danger-zone alerts: there is nothing to mute."""


def _in_force(now: datetime) -> Any:
    return (ZoneMute.lifted_at.is_(None)) & (ZoneMute.until > now)


def active_mutes(*, now: datetime | None = None) -> list[ZoneMute]:
    """Mutes in force now, the soonest to end first."""
    now = now or utcnow()
    return list(db.session.scalars(select(ZoneMute).where(_in_force(now)).order_by(ZoneMute.until, ZoneMute.id)))


def active_mute(*, zone_id: int, now: datetime | None = None) -> ZoneMute | None:
    """The zone's mute in force now, if any."""
    now = now or utcnow()
    return db.session.scalars(select(ZoneMute).where(ZoneMute.zone_id == zone_id, _in_force(now))
                              .order_by(ZoneMute.until.desc())).first()


def muted_zone_ids(zone_ids: Iterable[int], *, now: datetime | None = None) -> set[int]:
    """Which of ``zone_ids`` are muted now (one query)."""
    ids = {z for z in zone_ids if z is not None}
    if not ids:
        return set()
    now = now or utcnow()
    return set(db.session.scalars(select(ZoneMute.zone_id).where(ZoneMute.zone_id.in_(ids), _in_force(now))))


def is_muted(incident: Incident) -> bool:
    """A danger-zone incident of a zone under a mute (never any other kind)."""
    if incident.kind != IncidentKind.DANGER_ZONE or incident.zone_id is None:
        return False
    cached = incident.__dict__.get("_pts_muted")
    if cached is not None:
        return cached
    return bool(muted_zone_ids([incident.zone_id]))


def mark_muted(incidents: Iterable[Incident]) -> None:
    """Work out ``muted`` for many incidents at once (one query), so the representation reads no more."""
    incidents = list(incidents)
    danger = [i for i in incidents if i.kind == IncidentKind.DANGER_ZONE and i.zone_id is not None]
    muted = muted_zone_ids(i.zone_id for i in danger) if danger else set()
    for incident in incidents:
        incident.__dict__["_pts_muted"] = False
    for incident in danger:
        incident.__dict__["_pts_muted"] = incident.zone_id in muted


def mute_zone(*, zone_id: int, minutes: int, reason: str, by: str) -> ZoneMute:
    """Mute the zone's danger alerts for ``minutes`` from now (replacing a mute in force).

    Raises UnknownZone, or NotADangerZone for a zone that raises no danger alerts.
    """
    zone = db.session.get(Zone, zone_id)
    if zone is None:
        raise UnknownZone(zone_id)
    if zone.kind != ZoneKind.DANGER:
        raise NotADangerZone(zone_id)
    now = utcnow()
    current = active_mute(zone_id=zone_id, now=now)
    if current is not None:
        current.lifted_at, current.lifted_by = now, by
    mute = ZoneMute(zone_id=zone_id, until=now + timedelta(minutes=minutes), by=by, reason=reason,
                    created_at=now)
    db.session.add(mute)
    db.session.flush()
    _queue({"zone_id": zone.id, "zone_name": zone.name, "until": mute.until.isoformat(), "by": by})
    return mute


def unmute_zone(*, zone_id: int, by: str) -> ZoneMute | None:
    """Lift the zone's mute in force; returns it, or None when there was none (raises UnknownZone)."""
    zone = db.session.get(Zone, zone_id)
    if zone is None:
        raise UnknownZone(zone_id)
    current = active_mute(zone_id=zone_id)
    if current is None:
        return None
    current.lifted_at, current.lifted_by = utcnow(), by
    _queue({"zone_id": zone.id, "zone_name": zone.name, "until": None, "by": by})
    return current


def _queue(payload: dict[str, Any]) -> None:
    signals.after_commit(db.session, signals.zone_mutes_committed, payload)
