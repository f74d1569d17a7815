"""A timeline people read, and the track of positions around an incident.

Each stored :class:`~backend.dispatch.models.IncidentEvent` becomes ``{at, kind, text, actor}``:
``text`` is the sentence a dispatcher reads ("Enrolled phone sent SOS (medical)",
"Acknowledged by somchai"), ``actor`` the staff username or null for the system and the
tourist's phone. Nothing of the stored detail is passed through: device ids, client ids and
the raw rule payloads stay in the database (and in the audit trail), never on the console.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from backend.dispatch import sources
from backend.dispatch.models import Incident, IncidentEvent, IncidentKind
from backend.extensions import db
from backend.models_base import utcnow

TRACK_BEFORE = timedelta(hours=1)
TRACK_LIMIT = 200
CALL_SOURCE = "191 call"

KIND_LABELS = {
    IncidentKind.SOS: "SOS",
    IncidentKind.LEFT_AREA: "Left the service area",
    IncidentKind.DANGER_ZONE: "Danger zone",
    IncidentKind.OVERDUE: "Overdue",
}


def staff_actor(actor: str | None) -> str | None:
    """The staff username behind an event's actor; None for the system and for devices."""
    if not actor or actor == "system" or actor.startswith("device:"):
        return None
    return actor


def _kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def _zone_name(incident: Incident, detail: dict[str, Any]) -> str:
    name = detail.get("zone")
    if isinstance(name, str) and name:
        return name
    zone = incident.zone
    return zone.name if zone is not None else "a danger zone"


def _silent_for(detail: dict[str, Any], at: datetime) -> str:
    try:
        last = datetime.fromisoformat(detail["last_contact_at"])
    except (KeyError, TypeError, ValueError):
        return "Phone silent"
    minutes = max(0, int((at - last).total_seconds() // 60))
    return f"Phone silent for {minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else \
        f"Phone silent for {minutes} min"


def _raised_text(incident: Incident, event: IncidentEvent, detail: dict[str, Any], *, repeat: bool) -> str:
    kind = incident.kind
    if detail.get("source") == CALL_SOURCE:
        who = staff_actor(event.actor) or "the 191 center"
        if incident.card_id is None:
            return f"Phone call logged by {who} ({_kind_label(kind)}, no card)"
        return f"Phone call logged by {who} ({_kind_label(kind)})"
    if kind == IncidentKind.SOS:
        if repeat:
            return "SOS position updated" if "note" not in detail else "SOS repeated with a note"
        category = detail.get("category") or incident.category
        return f"Enrolled phone sent SOS ({category})" if category else "Enrolled phone sent SOS"
    if kind == IncidentKind.DANGER_ZONE:
        verb = "Crossed" if detail.get("rule") == "crossed_danger_zone" else "Entered"
        return f"{verb} {_zone_name(incident, detail)}" + (" again" if repeat else "")
    if kind == IncidentKind.LEFT_AREA:
        return "Still outside the service area" if repeat else "Left the service area"
    if kind == IncidentKind.OVERDUE:
        if detail.get("never_located"):
            return "Enrolled phone never sent a position"
        return ("Still no contact: " if repeat else "") + _silent_for(detail, event.at)
    return f"{_kind_label(kind)} updated" if repeat else f"{_kind_label(kind)} raised"


def entry_text(incident: Incident, event: IncidentEvent) -> str:
    """The sentence a dispatcher reads for one event."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    who = staff_actor(event.actor)
    by = f" by {who}" if who else ""
    note = detail.get("note")
    with_note = f": {note}" if isinstance(note, str) and note else ""
    match event.type:
        case "created":
            return _raised_text(incident, event, detail, repeat=False)
        case "updated":
            return _raised_text(incident, event, detail, repeat=True)
        case "acknowledged":
            return f"Acknowledged{by}{with_note}"
        case "dispatched":
            unit = detail.get("unit") or incident.unit or "a unit"
            return f"Dispatched {unit}{by}{with_note}"
        case "resolved":
            resolution = detail.get("resolution")
            text = f"Resolved{by}" + (f": {resolution}" if resolution else "")
            return text + (f" ({note})" if isinstance(note, str) and note else "")
        case "cancelled":
            if event.actor and event.actor.startswith("device:"):
                return "Cancelled by the tourist on the phone" + with_note
            return f"Cancelled{by}{with_note}"
        case "note":
            return f"Note{by}{with_note}"
        case "returned":
            reason = detail.get("reason")
            if incident.kind == IncidentKind.DANGER_ZONE:
                return f"Left {_zone_name(incident, detail)}"
            if isinstance(reason, str) and reason:
                return reason[0].upper() + reason[1:]
            return f"Returned{by}"
        case other:
            return other.replace("_", " ").capitalize() + by + with_note


def readable_timeline(incident: Incident) -> list[dict[str, Any]]:
    """The incident's events, oldest first, as ``{at, kind, text, actor}``."""
    events = db.session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
                                .order_by(IncidentEvent.seq))
    return [{"at": e.at, "kind": e.type, "text": entry_text(incident, e), "actor": staff_actor(e.actor)}
            for e in events]


def incident_track(incident: Incident, *, limit: int = TRACK_LIMIT) -> list[dict[str, Any]]:
    """The card's positions from an hour before the incident until it closed (or now), oldest first.

    At most ``limit`` points: when there are more, the newest (closest to what is happening now).
    The pings are tracking's (:mod:`backend.dispatch.sources`).
    """
    if incident.card_id is None:  # a card-less call: no phone, no positions
        return []
    start = incident.created_at - TRACK_BEFORE
    end = incident.resolved_at or incident.cancelled_at or utcnow()
    return sources.current().positions.track(card_id=incident.card_id, start=start, end=end, limit=limit)
