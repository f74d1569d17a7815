"""Enrolled devices, stored pings, latest positions."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models_base import UTCDateTime, utcnow

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Device(db.Model):
    """A phone (our app, OwnTracks or Traccar Client) enrolled with a card."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.id"), index=True)
    platform: Mapped[str] = mapped_column(String(10))
    push_token: Mapped[str | None] = mapped_column(String(4096))
    language: Mapped[str | None] = mapped_column(String(35))
    osmand_id: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Ping(db.Model):
    """One position fix sent by a device; ``client_id`` makes re-sends idempotent."""

    __tablename__ = "pings"
    # On PostgreSQL (partitioned by month of recorded_at, migration 0003) the primary key is
    # (id, recorded_at) and this unique key is (card_id, client_id, recorded_at): a unique key of
    # a partitioned table must hold the partition key. record_pings looks ids up before inserting.
    __table_args__ = (UniqueConstraint("card_id", "client_id", name="uq_pings_card_client"),
                      Index("ix_pings_card_recorded_at", "card_id", "recorded_at"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(64))
    lat: Mapped[float]
    lon: Mapped[float]
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accuracy_m: Mapped[float | None]
    battery_pct: Mapped[float | None]
    speed_mps: Mapped[float | None]
    heading_deg: Mapped[float | None]
    altitude_m: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(12), default="app")  # app | owntracks | osmand
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)  # kept past retention


class LatestPosition(db.Model):
    """The newest fix of a card (by device time, not arrival order)."""

    __tablename__ = "latest_positions"

    card_id: Mapped[str] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    lat: Mapped[float]
    lon: Mapped[float]
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_contact_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    accuracy_m: Mapped[float | None]
    battery_pct: Mapped[float | None]
    at_sea: Mapped[bool] = mapped_column(default=False)
    in_service_area: Mapped[bool] = mapped_column(default=True)
    danger_zone_id: Mapped[int | None] = mapped_column(Integer)
    # the last contact before the silence ``overdue`` was raised for: once per silence, not every sweep
    overdue_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
