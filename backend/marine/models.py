"""Marine tourism: boat operators, their trips, the trips' manifests (by card), sea-condition stations.

A trip's manifest is personal data (who was aboard which boat): staff reads are audited and the
passengers' rows go with the ping retention (:mod:`backend.marine.jobs`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.cards.models import Card
from backend.extensions import db
from backend.models_base import UTCDateTime, enum_column, utcnow
from backend.vocab import Severity


class TripStatus(StrEnum):
    """A trip's lifecycle: registered at the pier, at sea, back."""

    PLANNED = "planned"
    AT_SEA = "at_sea"
    RETURNED = "returned"


class Pier(StrEnum):
    """Phuket's passenger piers; a trip may also name another pier in free text."""

    AO_CHALONG = "AO_CHALONG"
    RASSADA = "RASSADA"
    AO_PO = "AO_PO"


class Flag(StrEnum):
    """The beach flag a station reports."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Operator(db.Model):
    """A licensed boat-tour operator; its ``marine_operator`` staff accounts see only its trips."""

    __tablename__ = "marine_operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    licence: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Trip(db.Model):
    """One boat's outing from a pier, with the return-by time that the overdue sweep watches."""

    __tablename__ = "marine_trips"
    __table_args__ = (Index("ix_marine_trips_status_returns_by", "status", "returns_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("marine_operators.id"), index=True)
    vessel_name: Mapped[str] = mapped_column(String(120))
    vessel_registration: Mapped[str] = mapped_column(String(40))
    pier: Mapped[str] = mapped_column(String(120))
    destination: Mapped[str] = mapped_column(String(200))
    departs_at: Mapped[datetime] = mapped_column(UTCDateTime)
    returns_by: Mapped[datetime] = mapped_column(UTCDateTime)
    crew_phone: Mapped[str | None] = mapped_column(String(40))
    capacity: Mapped[int | None]
    status: Mapped[TripStatus] = mapped_column(enum_column(TripStatus, 12), default=TripStatus.PLANNED)
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the newest fix of any passenger while at sea
    last_lat: Mapped[float | None]
    last_lon: Mapped[float | None]
    last_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set when the overdue sweep raised this trip's boat_overdue incident (once per trip)
    overdue_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    operator: Mapped[Operator] = relationship(lazy="joined")


class Passenger(db.Model):
    """A card scanned aboard a trip (boarding), and ashore again on return."""

    __tablename__ = "marine_passengers"
    __table_args__ = (
        UniqueConstraint("trip_id", "card_id", name="uq_marine_passengers_trip_card"),
        # the ping path's lookup: which of these cards are aboard (not yet ashore)
        Index("ix_marine_passengers_aboard_card", "card_id",
              sqlite_where=text("ashore_at IS NULL"), postgresql_where=text("ashore_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("marine_trips.id", ondelete="CASCADE"), index=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.id"))
    boarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    boarded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ashore_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ashore_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_lat: Mapped[float | None]
    last_lon: Mapped[float | None]
    last_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    card: Mapped[Card] = relationship(lazy="joined")


class Station(db.Model):
    """A sea-condition station (buoy, lifeguard tower); it posts observations with its own token."""

    __tablename__ = "marine_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float]
    lon: Mapped[float]
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the station token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Observation(db.Model):
    """One report of a station."""

    __tablename__ = "marine_observations"
    __table_args__ = (Index("ix_marine_observations_station_observed", "station_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("marine_stations.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    wave_height_m: Mapped[float | None]
    wind_speed_mps: Mapped[float | None]
    gust_mps: Mapped[float | None]
    flag: Mapped[Flag | None] = mapped_column(enum_column(Flag, 8))


class MarineWarning(db.Model):
    """A station's area under a marine warning, from the first bad observation until it ends.

    While it lasts the station's zone is ``critical``; ``zone_base_severity`` is what it goes
    back to. A warning ends with a calm newest observation or ``MARINE_WARNING_TTL_S`` after the
    last observation (``ended_at`` is then set by the next observation or sweep).
    """

    __tablename__ = "marine_warnings"
    __table_args__ = (
        Index("uq_marine_warnings_open_station", "station_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("marine_stations.id", ondelete="CASCADE"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"))
    zone_base_severity: Mapped[Severity | None] = mapped_column(enum_column(Severity, 10))
    reason: Mapped[str] = mapped_column(String(200))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    last_observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    station: Mapped[Station] = relationship(lazy="joined")
