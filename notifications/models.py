"""Push outbox and safety broadcasts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models_base import UTCDateTime, enum_column, utcnow


class OutboxStatus(StrEnum):
    """Where a message is on its way to the phone.

    ``held``: kept in the outbox (and the tourist's in-app inbox) but not pushed — no push
    channel is configured (the embedded default logs it instead) or the device has no push token.
    """

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up: too many attempts, rejected by FCM, or expired
    DROPPED = "dropped"  # the device's token is dead (UNREGISTERED): token cleared
    HELD = "held"


class OutboxMessage(db.Model):
    """A message to a tourist, stored first and delivered (with retries) by the periodic job.

    One row per target device (``device_id`` NULL when the card has no device yet); rows of the
    same event share ``event_key``. It is also the tourist's inbox in the companion app.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_card_event", "card_id", "event_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), index=True)
    topic: Mapped[str] = mapped_column(String(40))  # sos_received, danger_zone, broadcast, …
    event_key: Mapped[str | None] = mapped_column(String(120))  # e.g. "incident:12:acknowledged"
    language: Mapped[str] = mapped_column(String(35), default="en")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus, 12), default=OutboxStatus.PENDING,
                                                 index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # not pushed after this


class Broadcast(db.Model):
    """A geo-targeted safety broadcast, also published as an OASIS CAP 1.2 alert."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(120), unique=True)
    language: Mapped[str] = mapped_column(String(35), default="en")  # of headline/message
    headline: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    instruction: Mapped[str | None] = mapped_column(Text)
    # {lang: {headline, message, instruction?}}
    translations: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(10), default="Safety")  # CAP category
    event: Mapped[str] = mapped_column(String(120), default="Safety warning")  # CAP event
    severity: Mapped[str] = mapped_column(String(10))  # Extreme | Severe | Moderate | Minor
    urgency: Mapped[str] = mapped_column(String(12), default="Immediate")
    certainty: Mapped[str] = mapped_column(String(12), default="Observed")
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"))
    area: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    area_desc: Mapped[str | None] = mapped_column(String(300))
    recipients: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[int | None]  # staff user id (no FK: SQLite cannot add one in place)

    def is_active(self, now: datetime | None = None) -> bool:
        """Not cancelled and not expired."""
        now = now or utcnow()
        return self.cancelled_at is None and (self.expires_at is None or self.expires_at > now)


class WebPushSubscription(db.Model):
    """A browser's Web Push subscription (RFC 8030/8291) for one device; re-subscribing replaces it.

    ``endpoint`` is on a host of ``WEBPUSH_ALLOWED_HOSTS`` (checked when it is stored and again
    before each post); ``p256dh`` and ``auth`` are the browser's keys, base64url as it sent them.
    """

    __tablename__ = "webpush_subscriptions"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxDelivery(db.Model):
    """The delivery state of one outbox message on a channel other than the row's own (FCM).

    ``OutboxMessage`` carries its FCM state itself; a message for a device with a Web Push
    subscription also gets a ``webpush`` delivery, retried and finished on its own, so one
    channel's failure or success never re-sends on the other.
    """

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        Index("uq_outbox_deliveries_message_channel", "message_id", "channel", unique=True),
        Index("ix_outbox_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # webpush
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus, 12), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
