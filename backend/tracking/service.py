"""Recording pings and keeping each card's latest position.

:func:`record_pings` is the one path every position takes (our app, OwnTracks, Traccar
Client, SOS): it stores new pings, skips ones already stored (by the phone's client id),
keeps the newest fix (by device time) as the card's latest position, and hands the move to
the geofence rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from backend.cards.models import Card
from backend.extensions import db
from backend.geometry import point
from backend.models_base import utcnow
from backend.tracking.models import LatestPosition, Ping


class CardNotTrackable(Exception):
    """The card is closed, revoked or expired: its positions are not stored (PDPA)."""


@dataclass(frozen=True)
class PingInput:
    """One validated fix from a phone."""

    client_id: str
    lat: float
    lon: float
    recorded_at: datetime
    accuracy_m: float | None = None
    battery_pct: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None


@dataclass(frozen=True)
class RecordResult:
    """What a batch changed."""

    accepted: int
    duplicates: int
    latest: LatestPosition | None


def record_pings(*, card: Card, device_id: str | None, pings: list[PingInput], source: str = "app") -> RecordResult:
    """Store a batch of pings for ``card``; idempotent by client id; the caller commits.

    Raises :class:`CardNotTrackable` (and stores nothing) for a closed, revoked or expired card.
    """
    if not card.is_trackable():
        raise CardNotTrackable(f"card {card.id} is {card.effective_status()}")
    if not pings:
        return RecordResult(0, 0, db.session.get(LatestPosition, card.id))
    now = utcnow()
    unique: dict[str, PingInput] = {}
    for ping in pings:
        unique.setdefault(ping.client_id, ping)
    known = set(db.session.scalars(
        select(Ping.client_id).where(Ping.card_id == card.id, Ping.client_id.in_(list(unique)))))
    new = [p for cid, p in unique.items() if cid not in known]
    for p in new:
        db.session.add(Ping(card_id=card.id, device_id=device_id, client_id=p.client_id, lat=p.lat, lon=p.lon,
                            geom=point(p.lat, p.lon), recorded_at=p.recorded_at, received_at=now,
                            accuracy_m=p.accuracy_m, battery_pct=p.battery_pct, speed_mps=p.speed_mps,
                            heading_deg=p.heading_deg, altitude_m=p.altitude_m, source=source))
    latest = _update_latest(card, new, now)
    return RecordResult(accepted=len(new), duplicates=len(pings) - len(new), latest=latest)


def _update_latest(card: Card, new: list[PingInput], now: datetime) -> LatestPosition | None:
    current = db.session.get(LatestPosition, card.id)
    if current is not None:
        current.last_contact_at = now
    if not new:
        return current
    newest = max(new, key=lambda p: p.recorded_at)
    if current is not None and current.recorded_at >= newest.recorded_at:
        return current
    if current is None:
        current = LatestPosition(card_id=card.id)
        db.session.add(current)
    current.lat, current.lon, current.geom = newest.lat, newest.lon, point(newest.lat, newest.lon)
    current.recorded_at, current.received_at, current.last_contact_at = newest.recorded_at, now, now
    current.accuracy_m, current.battery_pct = newest.accuracy_m, newest.battery_pct
    return current
