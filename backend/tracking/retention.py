"""Retention of positions (Thailand PDPA): pings are purged ``RETENTION_DAYS`` after tracking ends.

Tracking ends when a card is closed or revoked (``Card.tracking_ended_at``) or expires
(``Card.expires_at``). From then on its pings are refused; ``RETENTION_DAYS`` (default 30) later
they are deleted, except the pings attached to an incident (``Ping.incident_id``), which are
the 191 center's evidence. The card's latest position goes with them.

On PostgreSQL the ping table is partitioned by month of ``recorded_at``: a month whose pings
are all due (and none attached to an incident) is dropped whole, which frees its space at once
and costs no row-by-row work; whatever is due in the other partitions is removed with one set
based ``DELETE``. Either way exactly the due pings go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, case, column, delete, exists, func, or_, select, table, text

from backend.availability import long_transaction
from backend.cards.models import Card, CardStatus
from backend.extensions import db
from backend.models_base import utcnow
from backend.tracking import partitions
from backend.tracking.models import LatestPosition, Ping


@dataclass(frozen=True)
class PurgeResult:
    """What a retention pass removed."""

    pings: int
    latest_positions: int
    dropped_partitions: tuple[str, ...]

    def __str__(self) -> str:
        dropped = f", dropped partitions {', '.join(self.dropped_partitions)}" if self.dropped_partitions else ""
        return f"purged {self.pings} pings and {self.latest_positions} latest positions{dropped}"


def tracking_ended_at():  # noqa: ANN201
    """SQL: when the card's tracking ended (its expiry while it is still active)."""
    return case(
        (Card.status == CardStatus.ACTIVE, Card.expires_at),
        else_=func.coalesce(Card.tracking_ended_at, Card.closed_at, Card.revoked_at, Card.expires_at),
    )


def due_cards(now: datetime | None = None) -> Select:
    """SQL: ids of the cards whose pings are due for purging."""
    cutoff = (now or utcnow()) - timedelta(days=int(current_app.config["RETENTION_DAYS"]))
    return select(Card.id).where(tracking_ended_at() < cutoff)


DROP_LOCK_TIMEOUT = "2s"


def _drop_due_partitions(now: datetime) -> tuple[int, list[str]]:
    """Drop every monthly partition holding only due pings; (pings removed, partition names).

    Each partition in a transaction of its own: the scans may take long (no limit, and no lock
    that stops writers); the detach waits at most ``DROP_LOCK_TIMEOUT`` for its table lock, and
    the commit right after it lets go of that lock, so ping inserts are held up for moments only.
    """
    cutoff = now - timedelta(days=int(current_app.config["RETENTION_DAYS"]))
    removed, dropped = 0, []
    for partition in partitions.monthly_partitions():
        if partition.end > cutoff:  # a due card ended before the cutoff, so its pings are older
            continue
        long_transaction()
        rows = table(partition.name, column("card_id"), column("incident_id"))
        keep = db.session.execute(select(exists().where(
            or_(rows.c.incident_id.is_not(None), rows.c.card_id.not_in(due_cards(now)))))).scalar()
        if keep:
            continue
        count = db.session.execute(select(func.count()).select_from(rows)).scalar() or 0
        db.session.execute(text(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'"))  # never queue before writers long
        partitions.drop_partition(partition)
        db.session.commit()
        removed += count
        dropped.append(partition.name)
    return removed, dropped


def purge(now: datetime | None = None) -> PurgeResult:
    """Delete the pings (not attached to an incident) and latest positions that are due; the caller commits.

    A month of a busy season's pings may take longer than a request's statement limit: no limit
    here. Whole partitions are dropped first, each committed at once (see _drop_due_partitions).
    """
    now = now or utcnow()
    removed, dropped = _drop_due_partitions(now) if partitions.is_partitioned() else (0, [])
    long_transaction()
    due = due_cards(now)
    result = db.session.execute(
        delete(Ping).where(Ping.card_id.in_(due), Ping.incident_id.is_(None)).execution_options(
            synchronize_session=False))
    removed += result.rowcount or 0
    latest = db.session.execute(
        delete(LatestPosition).where(LatestPosition.card_id.in_(due)).execution_options(synchronize_session=False))
    return PurgeResult(pings=removed, latest_positions=latest.rowcount or 0, dropped_partitions=tuple(dropped))

