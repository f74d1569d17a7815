"""Staff accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models_base import UTCDateTime, enum_column, utcnow


class Role(StrEnum):
    """What a staff member may do; ``admin`` may do everything."""

    ADMIN = "admin"
    IMMIGRATION = "immigration"
    DISPATCHER = "dispatcher"
    HOTEL_MANAGER = "hotel_manager"
    MARINE_OPERATOR = "marine_operator"  # a boat-tour operator's staff, bound to one operator


class User(db.Model):
    """A staff account: immigration officer, 191 dispatcher, hotel manager or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, 20))
    hotel_id: Mapped[int | None] = mapped_column(ForeignKey("hotels.id"), index=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("marine_operators.id"), index=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    # in every access token (claim ``ver``); deactivation increments it, revoking the tokens issued so far
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Throttle(db.Model):
    """Failure counter for a key (a username, a client address, a card) to slow guessing."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
