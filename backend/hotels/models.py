"""Hotels and stays."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.cards.models import Card
from backend.extensions import db
from backend.models_base import UTCDateTime, enum_column, utcnow


class StayEndReason(StrEnum):
    """Why a stay ended."""

    CHECKED_OUT = "checked_out"  # the hotel checked the guest out
    CHECKED_IN_ELSEWHERE = "checked_in_elsewhere"  # the card was checked in at another hotel


class Hotel(db.Model):
    """A hotel in Phuket; SHA Plus certified ones carry their certificate number."""

    __tablename__ = "hotels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float]
    lon: Mapped[float]
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    sha_plus_cert: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class Stay(db.Model):
    """A guest's stay at a hotel, from check-in (card scanned) to check-out."""

    __tablename__ = "stays"
    __table_args__ = (
        # one open stay per card at a time
        Index("uq_stays_open_card", "card_id", unique=True,
              sqlite_where=text("checked_out_at IS NULL"), postgresql_where=text("checked_out_at IS NULL")),
        # a hotel's guests in house (the guest list)
        Index("ix_stays_open_hotel", "hotel_id",
              sqlite_where=text("checked_out_at IS NULL"), postgresql_where=text("checked_out_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hotel_id: Mapped[int] = mapped_column(ForeignKey("hotels.id"), index=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.id"), index=True)
    room: Mapped[str | None] = mapped_column(String(20))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_in_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    end_reason: Mapped[StayEndReason | None] = mapped_column(enum_column(StayEndReason, 24))

    card: Mapped[Card] = relationship(lazy="select")

    @property
    def is_open(self) -> bool:
        """The guest is still in house."""
        return self.checked_out_at is None
