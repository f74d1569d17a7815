"""The tracked cards' positions as the 191 console reads them (dispatch's ``Positions`` source).

The map's viewport and live feed, a card's recent pings and an incident's track: queries on
tracking's tables, which ``backend.dispatch.positions`` and the incident detail turn into what
dispatchers see (map status, GeoJSON, the socket feed). Provided to dispatch by
:mod:`backend.wiring` (see :mod:`backend.dispatch.sources`), since dispatch sits below tracking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select

from backend.cards.models import Card, CardStatus, Tourist
from backend.dispatch.positions import BBox
from backend.extensions import db
from backend.tracking.models import LatestPosition, Ping


def _tracked(now: datetime):
    return (select(LatestPosition, Tourist.full_name, Tourist.nationality)
            .join(Card, Card.id == LatestPosition.card_id)
            .join(Tourist, Tourist.id == Card.tourist_id)
            .where(Card.status == CardStatus.ACTIVE, Card.expires_at > now))


def _inside(bbox: BBox):
    if db.session.get_bind().dialect.name == "postgresql":
        # the GiST index on geom answers the box test (&&)
        return LatestPosition.geom.intersects(
            func.ST_MakeEnvelope(bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat, 4326))
    return and_(LatestPosition.lat.between(bbox.min_lat, bbox.max_lat),
                LatestPosition.lon.between(bbox.min_lon, bbox.max_lon))


def tracked_in(*, bbox: BBox, limit: int, now: datetime) -> list[Any]:
    """Rows ``(LatestPosition, full name, nationality)`` of tracked cards inside ``bbox``, newest first."""
    return list(db.session.execute(_tracked(now).where(_inside(bbox))
                                   .order_by(LatestPosition.recorded_at.desc()).limit(limit)).all())


def tracked_contacted_since(*, since: datetime, limit: int, now: datetime) -> list[Any]:
    """Rows ``(LatestPosition, full name, nationality)`` of tracked cards heard from after ``since``."""
    return list(db.session.execute(_tracked(now).where(LatestPosition.last_contact_at > since)
                                   .order_by(LatestPosition.last_contact_at).limit(limit)).all())


def pings_since(*, card_id: str, since: datetime, limit: int) -> list[Ping]:
    """The card's pings recorded (device time) since ``since``, oldest first, at most ``limit`` (the newest)."""
    newest = list(db.session.scalars(
        select(Ping).where(Ping.card_id == card_id, Ping.recorded_at >= since)
        .order_by(Ping.recorded_at.desc()).limit(limit)))
    return newest[::-1]


def track(*, card_id: str, start: datetime, end: datetime, limit: int) -> list[dict[str, Any]]:
    """The card's fixes between ``start`` and ``end`` as ``{lat, lon, recorded_at}``, oldest first.

    At most ``limit`` points: when there are more, the newest (closest to what is happening now).
    """
    rows = db.session.execute(
        select(Ping.lat, Ping.lon, Ping.recorded_at)
        .where(Ping.card_id == card_id, Ping.recorded_at >= start, Ping.recorded_at <= end)
        .order_by(Ping.recorded_at.desc(), Ping.id.desc()).limit(limit)).all()
    return [{"lat": r.lat, "lon": r.lon, "recorded_at": r.recorded_at} for r in reversed(rows)]


def latest(card_id: str) -> LatestPosition | None:
    """The card's latest position, or None."""
    return db.session.get(LatestPosition, card_id)
