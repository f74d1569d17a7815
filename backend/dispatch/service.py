"""Incidents: raising them (one open per card and kind), their lifecycle, and their event log.

Every creation and status change stores an :class:`IncidentEvent` whose ``seq`` grows with
every event and sends :data:`backend.signals.incident_event` inside the transaction (e.g. a push
message to the tourist is queued in the outbox, committing or rolling back with the change);
after the transaction commits, :data:`backend.signals.incident_events_committed` carries the
stored events to the 191 center's Socket.IO feed, so nothing is emitted for a rolled-back change.
Who hears them is listed in :mod:`backend.wiring`.

Ordering of ``seq`` under concurrent writers: on PostgreSQL a sequence value is taken at
insert time, so without care transaction A could take seq 10, B take 11 and commit first; a
dispatcher who resumed in between would hold 11 and never see 10. Every transaction that
writes an incident event therefore first takes one transaction-level advisory lock
(:func:`serialize_event_log`), held until it commits or rolls back: event-writing transactions
commit one after another, so seq order equals commit order and "everything after my last seq"
is always complete. Incident events are rare next to pings (the lock is only taken by
transactions that raise or change an incident), so the serialisation costs nothing that
matters. The lock is taken before the incident row is locked or updated, so two writers never
wait on each other in opposite orders. SQLite has a single writer, which gives the same
guarantee by itself.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from backend import signals
from backend.cards.models import Card
from backend.dispatch import sources
from backend.dispatch.models import (
    OPEN_STATUSES,
    Incident,
    IncidentEvent,
    IncidentKind,
    IncidentStatus,
    Severity,
)
from backend.dispatch.schemas import IncidentSchema
from backend.extensions import db
from backend.models_base import utcnow
from backend.vocab import SosCategory

log = logging.getLogger(__name__)

_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}

# status -> statuses it may move to
TRANSITIONS: dict[IncidentStatus, tuple[IncidentStatus, ...]] = {
    IncidentStatus.NEW: (IncidentStatus.ACKNOWLEDGED, IncidentStatus.DISPATCHED, IncidentStatus.RESOLVED,
                         IncidentStatus.CANCELLED),
    IncidentStatus.ACKNOWLEDGED: (IncidentStatus.DISPATCHED, IncidentStatus.RESOLVED, IncidentStatus.CANCELLED),
    IncidentStatus.DISPATCHED: (IncidentStatus.RESOLVED, IncidentStatus.CANCELLED),
    IncidentStatus.RESOLVED: (),
    IncidentStatus.CANCELLED: (),
}

# pg_advisory_xact_lock key of the incident event log (any constant unique to this purpose)
EVENT_LOG_LOCK_KEY = 191_0001


class InvalidTransition(Exception):
    """The incident cannot move to that status from its current one (e.g. resolve twice)."""


def representation(incident: Incident) -> dict[str, Any]:
    """The contract's JSON representation of an incident."""
    return IncidentSchema().dump(incident)


def serialize_event_log() -> None:
    """Hold the event-log lock until this transaction ends (PostgreSQL; a no-op on SQLite).

    Re-entrant: taking it again in the same transaction costs one round trip and never waits.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_LOG_LOCK_KEY})


def record_event(incident: Incident, type_: str, *, actor: str | None = None,
                 detail: dict[str, Any] | None = None) -> IncidentEvent:
    """Store an event (with a new ``seq``) for ``incident``, to be emitted after commit."""
    serialize_event_log()
    db.session.flush()
    row = IncidentEvent(incident_id=incident.id, type=type_, actor=actor, detail=detail,
                        snapshot=representation(incident), at=utcnow())
    db.session.add(row)
    db.session.flush()
    signals.after_commit(db.session, signals.incident_events_committed, event_payload(row))
    signals.incident_event.send(incident, event=row)
    return row


def open_incident(*, card_id: str, kind: IncidentKind | str) -> Incident | None:
    """The card's open incident of ``kind``, if any."""
    return db.session.scalar(
        select(Incident).where(Incident.card_id == card_id, Incident.kind == kind, Incident.status.in_(OPEN_STATUSES))
    )


def raise_incident(*, card_id: str, kind: IncidentKind, severity: Severity, lat: float | None = None,
                   lon: float | None = None, accuracy_m: float | None = None, category: SosCategory | None = None,
                   note: str | None = None, zone_id: int | None = None, at: datetime | None = None,
                   actor: str | None = "system", detail: dict[str, Any] | None = None,
                   trip_id: int | None = None, caller_name: str | None = None,
                   caller_phone: str | None = None) -> tuple[Incident, bool]:
    """Open an incident, or update the card's open one of the same kind; returns (incident, created).

    A repeat updates position, note and zone (and the boat trip: ``trip_id``) and may raise the
    severity; it never opens a second incident (a partial unique index enforces this even under
    concurrent requests).
    """
    serialize_event_log()
    existing = open_incident(card_id=card_id, kind=kind)
    if existing is None:
        incident = Incident(card_id=card_id, kind=kind, status=IncidentStatus.NEW,
                            severity=severity, lat=lat, lon=lon, accuracy_m=accuracy_m, category=category,
                            note=note, zone_id=zone_id, trip_id=trip_id, created_at=at or utcnow(),
                            updated_at=utcnow(), caller_name=caller_name, caller_phone=caller_phone)
        try:
            with db.session.begin_nested():
                db.session.add(incident)
                db.session.flush()
        except IntegrityError:
            existing = open_incident(card_id=card_id, kind=kind)  # a concurrent request won the race
            if existing is None:
                raise
        else:
            record_event(incident, "created", actor=actor, detail=detail)
            return incident, True
    _update_open(existing, severity=severity, lat=lat, lon=lon, accuracy_m=accuracy_m, category=category,
                 note=note, zone_id=zone_id)
    if trip_id is not None:
        existing.trip_id = trip_id
    record_event(existing, "updated", actor=actor, detail=detail)
    return existing, False


def _update_open(incident: Incident, *, severity: Severity, lat: float | None, lon: float | None,
                 accuracy_m: float | None, category: SosCategory | None, note: str | None, zone_id: int | None) -> None:
    if lat is not None and lon is not None:
        incident.lat, incident.lon, incident.accuracy_m = lat, lon, accuracy_m
    if note:
        incident.note = note if not incident.note else f"{incident.note}\n{note}"
    if category:
        incident.category = category
    if zone_id is not None and zone_id != incident.zone_id:
        incident.zone_id = zone_id
        db.session.expire(incident, ["zone"])  # the representation reads the zone just set
    if _SEVERITY_RANK[severity] > _SEVERITY_RANK[incident.severity]:
        incident.severity = severity
    incident.updated_at = utcnow()


_STAMPED_BY = (IncidentStatus.ACKNOWLEDGED, IncidentStatus.DISPATCHED, IncidentStatus.RESOLVED)


def transition(incident: Incident, to: IncidentStatus, *, actor: str | None, unit: str | None = None,
               resolution: str | None = None, note: str | None = None, unit_id: int | None = None) -> Incident:
    """Move ``incident`` to status ``to`` (validated), stamp the time and who, and record the event.

    ``unit_id`` names a listed unit (``unit`` is then its name); ``unit`` alone is free text.
    """
    from backend.dispatch.timeline import staff_actor

    if to not in TRANSITIONS[incident.status]:
        raise InvalidTransition(f"an incident that is {incident.status} cannot become {to}")
    now = utcnow()
    incident.status = to
    incident.updated_at = now
    setattr(incident, f"{to}_at", now)
    if to in _STAMPED_BY:
        setattr(incident, f"{to}_by", staff_actor(actor))
    if unit is not None:
        incident.unit = unit
        incident.unit_id = unit_id
        db.session.expire(incident, ["listed_unit"])  # the representation reads the unit just set
    if resolution is not None:
        incident.resolution = resolution
    if note:
        incident.note = note if not incident.note else f"{incident.note}\n{note}"
    detail = {k: v for k, v in {"unit": unit, "resolution": resolution, "note": note}.items() if v}
    record_event(incident, to.value, actor=actor, detail=detail or None)
    return incident


def add_note(incident: Incident, note: str, *, actor: str | None) -> IncidentEvent:
    """Add a note to the incident's timeline (no status change)."""
    incident.updated_at = utcnow()
    return record_event(incident, "note", actor=actor, detail={"note": note})


def timeline(incident_id: int) -> list[IncidentEvent]:
    """The incident's events, oldest first."""
    return list(db.session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.seq)))


def events_after(after_seq: int, limit: int = 1000) -> list[IncidentEvent]:
    """Stored events with a larger ``seq``, in order (the replay of a reconnecting dispatcher)."""
    return list(db.session.scalars(
        select(IncidentEvent).where(IncidentEvent.seq > after_seq).order_by(IncidentEvent.seq).limit(limit)))


def event_payload(row: IncidentEvent) -> dict[str, Any]:
    """What a dispatcher receives for one event: the representation plus ``seq`` and the event type."""
    return {**row.snapshot, "seq": row.seq, "event": row.type}


# --- the 191 center's workflow -----------------------------------------------------------

class IncidentNotFound(Exception):
    """No incident has that id."""


# finding incidents (filters, q, paging): backend.dispatch.search


def last_seq() -> int:
    """The newest committed event's ``seq`` (0 when there is none)."""
    return db.session.scalar(select(func.max(IncidentEvent.seq))) or 0


def get_incident(*, incident_id: int) -> Incident | None:
    """The incident with that id, or None."""
    return db.session.get(Incident, incident_id)


def lock_incident(*, incident_id: int) -> Incident | None:
    """Load the incident for a change, locked against concurrent changes until commit.

    The event-log lock comes first (see the module docstring), then the row: ``FOR UPDATE``
    on PostgreSQL; on SQLite a no-op write takes the database's write lock before the read, so
    the status read below is the latest and no other writer can change it before we commit.
    """
    serialize_event_log()
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(Incident).where(Incident.id == incident_id).values(status=Incident.status))
    return db.session.scalars(
        select(Incident).where(Incident.id == incident_id).with_for_update()
        .execution_options(populate_existing=True)).first()


class UnknownUnit(Exception):
    """No unit has that id."""


def change_status(*, incident_id: int, to: IncidentStatus, actor: str | None, unit: str | None = None,
                  resolution: str | None = None, note: str | None = None, unit_id: int | None = None) -> Incident:
    """Move an incident along its lifecycle; raises IncidentNotFound, UnknownUnit or InvalidTransition."""
    from backend.dispatch.units import get_unit

    listed = None
    if unit_id is not None:
        listed = get_unit(unit_id=unit_id)
        if listed is None:
            raise UnknownUnit(unit_id)
    incident = lock_incident(incident_id=incident_id)
    if incident is None:
        raise IncidentNotFound(incident_id)
    if listed is not None:
        return transition(incident, to, actor=actor, unit=listed.name, unit_id=listed.id, resolution=resolution,
                          note=note)
    return transition(incident, to, actor=actor, unit=unit, resolution=resolution, note=note)


def note_incident(*, incident_id: int, note: str, actor: str | None) -> Incident:
    """Add a dispatcher's note to an incident's timeline; raises IncidentNotFound."""
    incident = lock_incident(incident_id=incident_id)
    if incident is None:
        raise IncidentNotFound(incident_id)
    add_note(incident, note, actor=actor)
    return incident


class IncidentDetail:
    """An incident plus what the detail view adds (timeline, holder, card, stay, last position)."""

    def __init__(self, incident: Incident, **extra: Any) -> None:
        self._incident = incident
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._incident, name)


def incident_detail(incident: Incident) -> IncidentDetail:
    """The incident with its timeline, holder, card, current stay and last position.

    The stay is the hotels domain's and the position tracking's (:mod:`backend.dispatch.sources`).
    """
    owners = sources.current()  # the domains that own the stay and the positions
    card = None if incident.card_id is None else db.session.get(Card, incident.card_id)
    stay = None if card is None else owners.stays.current_stay(card.id)
    from backend.dispatch.timeline import incident_track, readable_timeline

    return IncidentDetail(
        incident,
        timeline=readable_timeline(incident),
        track=incident_track(incident),
        holder=card.tourist if card else None,
        card=None if card is None else {"card_id": card.id, "kind": card.kind, "status": card.effective_status(),
                                        "checkpoint": card.checkpoint, "expires_at": card.expires_at},
        stay=stay,
        last_position=None if card is None else owners.positions.latest(card.id),
    )


class UnknownCard(Exception):
    """No card has that id."""


def open_call_incident(*, card_id: str | None, kind: IncidentKind, severity: Severity | None, lat: float | None,
                       lon: float | None, accuracy_m: float | None, category: SosCategory | None, note: str | None,
                       actor: str, caller_name: str | None = None,
                       caller_phone: str | None = None) -> tuple[Incident, bool]:
    """Open (or join) an incident from a 191 call; returns (incident, created).

    With a card it joins the card's open incident of that kind; without one (``card_id`` None:
    the schema then requires a position) it always opens a new incident noting the caller.
    """
    if card_id is not None and db.session.get(Card, card_id) is None:
        raise UnknownCard(card_id)
    if severity is None:
        severity = Severity.CRITICAL if kind == IncidentKind.SOS else Severity.HIGH
    detail = {"source": "191 call"}
    if card_id is None:
        return open_cardless_incident(kind=kind, severity=severity, lat=lat, lon=lon, accuracy_m=accuracy_m,
                                      category=category, note=note, actor=actor, caller_name=caller_name,
                                      caller_phone=caller_phone, detail=detail), True
    # the caller noted with a carded call is kept when the call opens the incident (a join keeps the first)
    return raise_incident(card_id=card_id, kind=kind, severity=severity, lat=lat, lon=lon, accuracy_m=accuracy_m,
                          category=category, note=note, actor=actor, detail=detail, caller_name=caller_name,
                          caller_phone=caller_phone)


def open_cardless_incident(*, kind: IncidentKind, severity: Severity, lat: float | None, lon: float | None,
                           accuracy_m: float | None, category: SosCategory | None, note: str | None, actor: str | None,
                           caller_name: str | None, caller_phone: str | None,
                           detail: dict[str, Any] | None = None) -> Incident:
    """A new incident about someone without a card (never merged: nobody to match it by)."""
    serialize_event_log()
    incident = Incident(card_id=None, kind=kind, status=IncidentStatus.NEW, severity=severity,
                        lat=lat, lon=lon, accuracy_m=accuracy_m, category=category, note=note,
                        caller_name=caller_name, caller_phone=caller_phone, created_at=utcnow(), updated_at=utcnow())
    db.session.add(incident)
    db.session.flush()
    record_event(incident, "created", actor=actor, detail=detail)
    return incident
