"""Incidents: raising them (one open per card and kind), their lifecycle, and their event log.

Every creation and status change stores an :class:`IncidentEvent` whose ``seq`` grows with
every event; after the transaction commits, the stored events are handed to the registered
emitters (the 191 center's Socket.IO feed), so nothing is emitted for a rolled-back change.
Listeners registered with :func:`on_incident_event` run inside the transaction (e.g. queueing
a push message to the tourist in the outbox), so they commit or roll back with the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_sqlalchemy.session import Session
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

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

log = logging.getLogger(__name__)

_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}
_OPEN = tuple(s.value for s in OPEN_STATUSES)

# status -> statuses it may move to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    IncidentStatus.NEW: (IncidentStatus.ACKNOWLEDGED, IncidentStatus.DISPATCHED, IncidentStatus.RESOLVED,
                         IncidentStatus.CANCELLED),
    IncidentStatus.ACKNOWLEDGED: (IncidentStatus.DISPATCHED, IncidentStatus.RESOLVED, IncidentStatus.CANCELLED),
    IncidentStatus.DISPATCHED: (IncidentStatus.RESOLVED, IncidentStatus.CANCELLED),
    IncidentStatus.RESOLVED: (),
    IncidentStatus.CANCELLED: (),
}

IncidentListener = Callable[[Incident, IncidentEvent], None]
EventEmitter = Callable[[list[dict[str, Any]]], None]
_listeners: list[IncidentListener] = []
_emitters: list[EventEmitter] = []


class InvalidTransition(Exception):
    """The incident cannot move to that status from its current one (e.g. resolve twice)."""


def on_incident_event(listener: IncidentListener) -> IncidentListener:
    """Register ``listener(incident, event)`` to run inside the transaction of every event."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def on_committed_events(emitter: EventEmitter) -> EventEmitter:
    """Register ``emitter(payloads)`` to receive committed events (representation + ``seq``)."""
    if emitter not in _emitters:
        _emitters.append(emitter)
    return emitter


def representation(incident: Incident) -> dict[str, Any]:
    """The contract's JSON representation of an incident."""
    return IncidentSchema().dump(incident)


def record_event(incident: Incident, type_: str, *, actor: str | None = None,
                 detail: dict[str, Any] | None = None) -> IncidentEvent:
    """Store an event (with a new ``seq``) for ``incident``, to be emitted after commit."""
    db.session.flush()
    row = IncidentEvent(incident_id=incident.id, type=type_, actor=actor, detail=detail,
                        snapshot=representation(incident), at=utcnow())
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault("pts_incident_events", []).append(event_payload(row))
    for listener in list(_listeners):
        listener(incident, row)
    return row


def open_incident(*, card_id: str, kind: IncidentKind | str) -> Incident | None:
    """The card's open incident of ``kind``, if any."""
    return db.session.scalar(
        select(Incident).where(Incident.card_id == card_id, Incident.kind == str(kind), Incident.status.in_(_OPEN))
    )


def raise_incident(*, card_id: str, kind: IncidentKind, severity: Severity, lat: float | None = None,
                   lon: float | None = None, accuracy_m: float | None = None, category: str | None = None,
                   note: str | None = None, zone_id: int | None = None, at: datetime | None = None,
                   actor: str | None = "system", detail: dict[str, Any] | None = None) -> tuple[Incident, bool]:
    """Open an incident, or update the card's open one of the same kind; returns (incident, created).

    A repeat updates position, note and zone and may raise the severity; it never opens a
    second incident (a partial unique index enforces this even under concurrent requests).
    """
    existing = open_incident(card_id=card_id, kind=kind)
    if existing is None:
        incident = Incident(card_id=card_id, kind=str(kind), status=IncidentStatus.NEW.value,
                            severity=str(severity), lat=lat, lon=lon, accuracy_m=accuracy_m, category=category,
                            note=note, zone_id=zone_id, created_at=at or utcnow(), updated_at=utcnow())
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
    record_event(existing, "updated", actor=actor, detail=detail)
    return existing, False


def _update_open(incident: Incident, *, severity: Severity, lat: float | None, lon: float | None,
                 accuracy_m: float | None, category: str | None, note: str | None, zone_id: int | None) -> None:
    if lat is not None and lon is not None:
        incident.lat, incident.lon, incident.accuracy_m = lat, lon, accuracy_m
    if note:
        incident.note = note if not incident.note else f"{incident.note}\n{note}"
    if category:
        incident.category = category
    if zone_id is not None:
        incident.zone_id = zone_id
    if _SEVERITY_RANK[Severity(severity)] > _SEVERITY_RANK[Severity(incident.severity)]:
        incident.severity = str(severity)
    incident.updated_at = utcnow()


def transition(incident: Incident, to: IncidentStatus, *, actor: str | None, unit: str | None = None,
               resolution: str | None = None, note: str | None = None) -> Incident:
    """Move ``incident`` to status ``to`` (validated), stamp the time, and record the event."""
    if to.value not in TRANSITIONS[IncidentStatus(incident.status)]:
        raise InvalidTransition(f"an incident that is {incident.status} cannot become {to.value}")
    now = utcnow()
    incident.status = to.value
    incident.updated_at = now
    setattr(incident, f"{to.value}_at", now)
    if unit is not None:
        incident.unit = unit
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


@event.listens_for(Session, "after_commit")
def _emit_committed(session: Session) -> None:
    payloads = session.info.pop("pts_incident_events", None)
    if not payloads or not _emitters:
        return
    for emitter in list(_emitters):
        try:
            emitter(payloads)
        except Exception:  # the events are stored: a reconnecting client replays them
            log.exception("emitting incident events failed")


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop("pts_incident_events", None)
