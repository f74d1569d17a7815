"""Column helpers shared by every domain's models.

:func:`enum_column` is the one way an enum is stored: a ``StrEnum`` column reads back as its
members and stores their values in the same ``VARCHAR(n)`` the migrations created.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Enum, TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        """Normalise to UTC before storing; naive values are taken as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        """Return an aware UTC datetime whatever the backend gave back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum: type[StrEnum], length: int) -> Enum:
    """The column type of a ``StrEnum``: ``VARCHAR(length)`` holding the members' values.

    No native enum and no CHECK constraint, so the schema is the plain string column the
    migrations made (no migration, old rows load) and a new member needs no DDL. Rows read back
    as members; a member or its value may be written, compared or bound in ``update().values()``;
    any other string raises ``LookupError`` (wrapped in ``StatementError``) before it reaches the
    database, so input from outside is validated by its schema first (a 422, never a stored typo).
    """
    return Enum(enum, native_enum=False, create_constraint=False, length=length,
                values_callable=lambda members: [m.value for m in members], validate_strings=True)
