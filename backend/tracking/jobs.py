"""Periodic jobs of tracking: overdue detection, ping partitions, retention purge.

They run in ``flask sweep`` and in the server's scheduler, one runner at a time (see
:mod:`backend.jobs`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select

from backend.cards.models import Card, CardStatus
from backend.dispatch import service as dispatch
from backend.dispatch.models import Incident, IncidentKind, Severity
from backend.extensions import db
from backend.jobs import periodic_job
from backend.models_base import utcnow
from backend.tracking import partitions, retention
from backend.tracking.models import Device, LatestPosition
from backend.tracking.service import overdue_threshold

OVERDUE_CHUNK = 500


def overdue_candidates(now: datetime, limit: int = OVERDUE_CHUNK) -> list[LatestPosition]:
    """Tracked cards silent for longer than their threshold and not yet reported for this silence."""
    land_cutoff = now - overdue_threshold(at_sea=False)
    sea_cutoff = now - overdue_threshold(at_sea=True)
    reported = and_(LatestPosition.overdue_contact_at.is_not(None),
                    LatestPosition.overdue_contact_at >= LatestPosition.last_contact_at)  # this silence
    query = (
        select(LatestPosition)
        .join(Card, Card.id == LatestPosition.card_id)
        .where(Card.status == CardStatus.ACTIVE, Card.expires_at > now,
               or_(and_(LatestPosition.at_sea.is_(True), LatestPosition.last_contact_at < sea_cutoff),
                   and_(LatestPosition.at_sea.is_(False), LatestPosition.last_contact_at < land_cutoff)),
               ~reported)
        .order_by(LatestPosition.last_contact_at)
        .limit(limit)
        # Lock card and position first, as record_pings and the SOS path do (card before any
        # incident lock, so no deadlock), skipping cards being written right now: not silent.
        .with_for_update(of=(Card, LatestPosition), skip_locked=True)
    )
    return list(db.session.scalars(query))


def raise_overdue(now: datetime | None = None) -> int:
    """Raise ``overdue`` once per silence for every tracked card past its threshold; how many."""
    now = now or utcnow()
    raised = 0
    while True:
        batch = overdue_candidates(now)
        for position in batch:
            silent_s = int((now - position.last_contact_at).total_seconds())
            dispatch.raise_incident(
                card_id=position.card_id, kind=IncidentKind.OVERDUE,
                severity=Severity.HIGH if position.at_sea else Severity.MEDIUM,
                lat=position.lat, lon=position.lon, accuracy_m=position.accuracy_m,
                detail={"rule": "no_contact", "last_contact_at": position.last_contact_at.isoformat(),
                        "silent_s": silent_s, "at_sea": position.at_sea})
            position.overdue_contact_at = position.last_contact_at
            raised += 1
        db.session.flush()
        if len(batch) < OVERDUE_CHUNK:
            return raised


def silent_unlocated_cards(now: datetime, limit: int = OVERDUE_CHUNK) -> list[tuple[str, datetime]]:
    """Tracked cards with an enrolled phone that never sent a position and has been silent too long.

    Their last contact is the newest of their devices' enrollment or last request. Each silence
    is reported once: not when an ``overdue`` incident of the card was opened after that contact.
    Returns (card id, last contact), longest silent first.
    """
    last_contact = func.max(func.coalesce(Device.last_seen_at, Device.created_at))
    silent = (
        select(Device.card_id.label("card_id"), last_contact.label("last_contact"))
        .join(Card, Card.id == Device.card_id)
        .where(Device.revoked_at.is_(None), Card.status == CardStatus.ACTIVE, Card.expires_at > now,
               ~exists().where(LatestPosition.card_id == Device.card_id))
        .group_by(Device.card_id)
        .having(last_contact < now - overdue_threshold(at_sea=False))
        .subquery()
    )
    reported = exists().where(Incident.card_id == silent.c.card_id, Incident.kind == IncidentKind.OVERDUE,
                              Incident.created_at >= silent.c.last_contact)
    rows = db.session.execute(select(silent.c.card_id, silent.c.last_contact).where(~reported)
                              .order_by(silent.c.last_contact).limit(limit))
    return [(card_id, contact) for card_id, contact in rows]


def raise_overdue_unlocated(now: datetime | None = None) -> int:
    """Raise ``overdue`` (without a position) for enrolled phones that never sent one; how many.

    A phone enrolled at the airport and never heard from again is as silent as one that stopped
    pinging: the 191 center sees the tourist's details and phone number, and no position.
    """
    now = now or utcnow()
    raised = 0
    for card_id, contact in silent_unlocated_cards(now):
        # lock the card (skipping one being written right now) and make sure no position came meanwhile
        locked = db.session.scalar(select(Card.id).where(Card.id == card_id)
                                   .with_for_update(skip_locked=True))
        if locked is None or db.session.get(LatestPosition, card_id) is not None:
            continue
        dispatch.raise_incident(
            card_id=card_id, kind=IncidentKind.OVERDUE, severity=Severity.MEDIUM,
            detail={"rule": "no_contact", "never_located": True, "last_contact_at": contact.isoformat(),
                    "silent_s": int((now - contact).total_seconds()), "at_sea": False})
        raised += 1
    db.session.flush()
    return raised


@periodic_job("overdue")
def overdue_job() -> str:
    """Raise ``overdue`` for cards with no contact for OVERDUE_AFTER_S (OVERDUE_AT_SEA_AFTER_S at sea)."""
    located = raise_overdue()
    unlocated = raise_overdue_unlocated()
    return f"{located + unlocated} overdue" + (f" ({unlocated} never located)" if unlocated else "")


@periodic_job("ping_partitions")
def ping_partitions_job() -> str:
    """Create the coming months' ping partitions ahead of time (PostgreSQL)."""
    created = partitions.ensure_partitions()
    return f"created {', '.join(created)}" if created else "nothing to create"


@periodic_job("retention")
def retention_job() -> str:
    """Purge pings RETENTION_DAYS after their card stopped being tracked (incident evidence kept)."""
    return str(retention.purge())
