"""Socket.IO events of the marine domain to the 191 center (namespace ``/dispatch``).

- ``trip``: the trip representation, after the commit of every change of a trip record
  (registered, boarding, ashore, departure, return, a new position at sea, overdue).
- ``marine_warning``: a station's area came under a marine warning, with a broadcast draft.

They are announcements, not records: the API is the record (``GET /api/v1/marine/trips``,
``/conditions``), so a console that reconnects reads it again. They are emitted from a background
task (through ``SOCKETIO_MESSAGE_QUEUE`` when set), so a slow or lost queue never holds up the
request or the ping writer; a ``flask sweep`` process may exit before its task has emitted. Each change is announced once per
transaction (the representation is taken just before the commit, so it is the committed state)
and never for a rolled-back change: they travel as the after-commit signal
``signals.marine_announced`` (held by :func:`backend.signals.after_commit`, heard by
:func:`emit_announcements`, wired in :mod:`backend.wiring`); this module's own session hooks only
turn the trips a transaction changed into their representations just before it commits.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_sqlalchemy.session import Session
from sqlalchemy import event

from backend import signals
from backend.extensions import socketio

log = logging.getLogger(__name__)

NAMESPACE = "/dispatch"
DISPATCHERS_ROOM = "dispatchers"
_TRIPS = "pts_marine_trips"  # session.info: ids of the trips changed in this transaction


def trip_changed(trip: Any) -> None:
    """Announce ``trip`` to the dispatchers once this transaction commits."""
    from backend.extensions import db

    db.session.info.setdefault(_TRIPS, set()).add(trip.id)


def warning_raised(payload: dict[str, Any]) -> None:
    """Send ``marine_warning`` with ``payload`` to the dispatchers once this transaction commits."""
    from backend.extensions import db

    signals.after_commit(db.session, signals.marine_announced, ("marine_warning", payload))


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer transaction may still change the trips
        return
    trip_ids = session.info.pop(_TRIPS, None)
    if not trip_ids:
        return
    from backend.marine import service
    from backend.marine.models import Trip
    from backend.marine.schemas import TripSchema

    trips = [t for t in (session.get(Trip, trip_id) for trip_id in sorted(trip_ids)) if t is not None]
    for view in service.trip_views(trips):
        signals.after_commit(session, signals.marine_announced, ("trip", TripSchema().dump(view)))


def _emit(ready: list[tuple[str, dict[str, Any]]]) -> None:
    for name, payload in ready:
        try:
            socketio.emit(name, payload, to=DISPATCHERS_ROOM, namespace=NAMESPACE)
        except Exception:  # an announcement: the API stays the record
            log.exception("emitting %s failed", name)


def emit_announcements(_session: Any, *, items: list[tuple[str, dict[str, Any]]]) -> None:
    """The marine announcements of a committed transaction (``signals.marine_announced``) go out."""
    # in a task of its own: a message queue that hangs never holds up the request or the ping writer
    socketio.start_background_task(_emit, items)


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint rolled back: the rest of the transaction stands
        return
    session.info.pop(_TRIPS, None)


def register() -> None:
    """Hook the trips' representations into every session's commit (idempotent)."""
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _after_rollback)
