"""Periodic jobs of the marine domain: overdue boats, expired warnings, manifest retention.

They run in ``flask sweep`` and in the server's scheduler, one runner at a time (:mod:`backend.jobs`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, or_, select, update

from backend.dispatch.models import OPEN_STATUSES, Incident
from backend.extensions import db
from backend.jobs import periodic_job
from backend.marine import conditions, service
from backend.marine.models import Passenger, Trip, TripStatus
from backend.models_base import utcnow
from backend.tracking.retention import due_cards


@periodic_job("boat_overdue")
def boat_overdue_job() -> str:
    """Raise ``boat_overdue`` for trips at sea after returns_by + BOAT_OVERDUE_GRACE_S."""
    return f"{service.raise_overdue_boats()} boats overdue"


@periodic_job("marine_warnings")
def marine_warnings_job() -> str:
    """End marine warnings MARINE_WARNING_TTL_S after their station's last observation."""
    return f"{conditions.end_expired_warnings()} warnings ended"


def purge_manifests(now: datetime | None = None) -> int:
    """Delete manifest entries with the ping retention; how many (the caller commits).

    An entry goes when its card's pings are due (``RETENTION_DAYS`` after its tracking ended) or
    ``RETENTION_DAYS`` after its trip returned — unless the trip has an incident still open (the
    191 center's evidence). The trips stay (vessel and times are no personal data) without
    their last position once returned that long ago.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=int(current_app.config["RETENTION_DAYS"]))
    open_incident = exists().where(Incident.trip_id == Passenger.trip_id,
                                   Incident.status.in_(OPEN_STATUSES))
    old_trips = select(Trip.id).where(Trip.status == TripStatus.RETURNED, Trip.returned_at < cutoff)
    result = db.session.execute(
        delete(Passenger).where(or_(Passenger.card_id.in_(due_cards(now)), Passenger.trip_id.in_(old_trips)),
                                ~open_incident).execution_options(synchronize_session=False))
    db.session.execute(update(Trip).where(Trip.status == TripStatus.RETURNED, Trip.returned_at < cutoff,
                                          Trip.last_lat.is_not(None))
                       .values(last_lat=None, last_lon=None, last_recorded_at=None)
                       .execution_options(synchronize_session=False))
    return result.rowcount or 0


@periodic_job("marine_retention")
def marine_retention_job() -> str:
    """Delete trip manifests with the ping retention (RETENTION_DAYS)."""
    return f"purged {purge_manifests()} manifest entries"
