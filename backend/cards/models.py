"""Card holders and their cards."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models_base import UTCDateTime, enum_column, utcnow


class Checkpoint(StrEnum):
    """Entry checkpoints where cards are issued."""

    HKT = "HKT"  # Phuket International Airport
    THA_CHATCHAI = "THA_CHATCHAI"  # land checkpoint at the Sarasin bridge
    AO_CHALONG = "AO_CHALONG"
    RASSADA = "RASSADA"
    AO_PO = "AO_PO"


class CardKind(StrEnum):
    """Who the card is for."""

    TOURIST = "tourist"
    RESIDENT = "resident"


class CardStatus(StrEnum):
    """Stored lifecycle of a card; expiry is derived from ``expires_at``."""

    ACTIVE = "active"
    REVOKED = "revoked"
    CLOSED = "closed"


class Tourist(db.Model):
    """The holder of a card: a tourist or a long-stay foreign resident."""

    __tablename__ = "tourists"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # the passport's Latin-script name as its machine-readable zone spells it (A-Z, "SURNAME, GIVEN"
    # when typed from the MRZ); None when unknown (a native-script name with no Latin form given)
    latin_name: Mapped[str | None] = mapped_column(String(200))
    nationality: Mapped[str] = mapped_column(String(3))
    passport_number: Mapped[str] = mapped_column(String(20))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(35), default="en")
    emergency_contact: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cards: Mapped[list[Card]] = relationship(back_populates="tourist")


class Card(db.Model):
    """A Smart Tourist Card; ``id`` is the human-readable card id printed on it."""

    __tablename__ = "cards"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tourist_id: Mapped[int] = mapped_column(ForeignKey("tourists.id"), index=True)
    kind: Mapped[CardKind] = mapped_column(enum_column(CardKind, 10), default=CardKind.TOURIST)
    status: Mapped[CardStatus] = mapped_column(enum_column(CardStatus, 10), default=CardStatus.ACTIVE, index=True)
    checkpoint: Mapped[Checkpoint] = mapped_column(enum_column(Checkpoint, 20))
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    kid: Mapped[str] = mapped_column(String(64), index=True)
    stay_until: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    enrollment_code_hash: Mapped[str | None] = mapped_column(String(255))
    enrollment_code_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the signed card token exactly as issued: the QR always encodes this string
    token: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(300))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when tracking ended (closed, revoked or expired): the retention clock starts here
    tracking_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    tourist: Mapped[Tourist] = relationship(back_populates="cards", lazy="joined")

    def is_expired(self, now: datetime | None = None) -> bool:
        """True once the card's validity has passed."""
        return (now or utcnow()) >= self.expires_at

    def is_trackable(self, now: datetime | None = None) -> bool:
        """Tracking runs only for active, unexpired cards (PDPA: stop when the stay ends)."""
        return self.status == CardStatus.ACTIVE and not self.is_expired(now)

    def effective_status(self, now: datetime | None = None) -> str:
        """``active``, ``revoked``, ``closed`` or ``expired``."""
        if self.status == CardStatus.ACTIVE and self.is_expired(now):
            return "expired"
        return self.status
