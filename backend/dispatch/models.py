"""Incidents, their sequence-numbered event log, and SOS signals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models_base import UTCDateTime, enum_column, utcnow
from backend.vocab import Severity as Severity  # the shared vocabulary, re-exported for dispatch's callers
from backend.vocab import SosCategory


class IncidentKind(StrEnum):
    """What raised the incident."""

    SOS = "sos"
    LEFT_AREA = "left_area"
    DANGER_ZONE = "danger_zone"
    OVERDUE = "overdue"
    BOAT_OVERDUE = "boat_overdue"  # a trip still at sea after its return-by time (backend.marine)
    PASSENGER_UNACCOUNTED = "passenger_unaccounted"  # aboard a returned trip, not scanned ashore


class IncidentStatus(StrEnum):
    """Lifecycle of an incident at the 191 center."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


OPEN_STATUSES = (IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED, IncidentStatus.DISPATCHED)
_OPEN_SQL = "status IN ('new', 'acknowledged', 'dispatched')"


class Incident(db.Model):
    """Something the 191 center must act on; one open incident per card and kind.

    Card-less incidents (``card_id`` null, from a 191 call) are never deduplicated: the partial
    unique index treats nulls as distinct on SQLite and PostgreSQL.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        Index("uq_incidents_open_card_kind", "card_id", "kind", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("ix_incidents_kind_severity", "kind", "severity"),
        Index("ix_incidents_created_id", "created_at", "id"),  # the list's keyset, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IncidentKind] = mapped_column(enum_column(IncidentKind, 24))
    status: Mapped[IncidentStatus] = mapped_column(enum_column(IncidentStatus, 16), default=IncidentStatus.NEW,
                                                   index=True)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, 10))
    # null for a 191 call about someone without a card (then the caller and a position are noted)
    card_id: Mapped[str | None] = mapped_column(ForeignKey("cards.id"), index=True)
    caller_name: Mapped[str | None] = mapped_column(String(120))
    caller_phone: Mapped[str | None] = mapped_column(String(40))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    category: Mapped[SosCategory | None] = mapped_column(enum_column(SosCategory, 16))
    note: Mapped[str | None] = mapped_column(Text)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"))
    # the boat trip of a boat_overdue / passenger_unaccounted incident (backend.marine)
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("marine_trips.id", ondelete="SET NULL"),
                                               index=True)
    unit: Mapped[str | None] = mapped_column(String(120))  # the unit's name (listed or free text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # usernames of the staff who moved it along (null for the system or a device)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    dispatched_by: Mapped[str | None] = mapped_column(String(80))
    resolved_by: Mapped[str | None] = mapped_column(String(80))

    # loaded in bulk by the list (selectinload), never one by one per row
    holder_card = relationship("Card", lazy="select", viewonly=True)
    zone = relationship("Zone", lazy="select", viewonly=True)
    listed_unit: Mapped[Unit | None] = relationship("Unit", lazy="select", viewonly=True)

    @property
    def is_open(self) -> bool:
        """New, acknowledged or dispatched."""
        return self.status in OPEN_STATUSES


class IncidentEvent(db.Model):
    """A stored incident event; ``seq`` grows with every event and drives realtime replay."""

    __tablename__ = "incident_events"
    # SQLite would otherwise reuse the largest rowid after a delete; seq must never repeat.
    __table_args__ = (
        Index("ix_incident_events_incident_seq", "incident_id", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(20))  # created, updated, acknowledged, … , note
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # the incident representation at this event, as emitted to dispatchers
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


class SosSignal(db.Model):
    """One SOS press from the app, by client id, mapped to the incident it raised or joined."""

    __tablename__ = "sos_signals"
    __table_args__ = (UniqueConstraint("card_id", "client_id", name="uq_sos_card_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float | None]
    category: Mapped[SosCategory | None] = mapped_column(enum_column(SosCategory, 16))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UnitAgency(StrEnum):
    """Who a unit belongs to."""

    POLICE = "police"
    TOURIST_POLICE = "tourist_police"
    MARINE_POLICE = "marine_police"
    HOSPITAL = "hospital"
    RESCUE = "rescue"
    MARITIME_ENFORCEMENT = "maritime_enforcement"


class Unit(db.Model):
    """A unit the 191 center dispatches: a police station, a hospital's ambulances, a rescue team, a boat."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    agency: Mapped[UnitAgency] = mapped_column(enum_column(UnitAgency, 24), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    base_lat: Mapped[float | None]
    base_lon: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ZoneMute(db.Model):
    """A dispatcher silenced one zone's danger-zone alerts until ``until`` (never SOS or other kinds).

    Rows are kept after they end (lifted or expired) as the record of who muted what; a mute is
    in force while ``lifted_at`` is null and ``until`` lies ahead.
    """

    __tablename__ = "zone_mutes"
    __table_args__ = (Index("ix_zone_mutes_zone_until", "zone_id", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(80))

    zone = relationship("Zone", lazy="joined", viewonly=True)
