"""Push outbox and safety broadcasts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models_base import UTCDateTime, utcnow


class OutboxMessage(db.Model):
    """A message to a tourist, stored first and delivered (with retries) by the periodic job.

    It is also the tourist's inbox in the companion app.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), index=True)
    topic: Mapped[str] = mapped_column(String(40))  # sos_received, danger_zone, broadcast, …
    language: Mapped[str] = mapped_column(String(35), default="en")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending|sent|failed|dropped|held
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Broadcast(db.Model):
    """A geo-targeted safety broadcast, also published as an OASIS CAP 1.2 alert."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(120), unique=True)
    headline: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    translations: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {lang: {headline, message}}
    severity: Mapped[str] = mapped_column(String(10))  # Extreme | Severe | Moderate | Minor
    urgency: Mapped[str] = mapped_column(String(12), default="Immediate")
    certainty: Mapped[str] = mapped_column(String(12), default="Observed")
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"))
    area: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    area_desc: Mapped[str | None] = mapped_column(String(300))
    recipients: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
