"""Monthly range partitions of the ping table on PostgreSQL (``pings_yYYYYmMM`` plus ``pings_default``).

Migration 0003 turns ``pings`` into a table partitioned by ``recorded_at``. The ``ping_partitions``
job keeps partitions ready from last month to :data:`MONTHS_AHEAD` months ahead; a ping outside
them (a phone with a wrong clock) lands in the default partition, so nothing is ever refused for
lack of a partition. The retention job drops a whole month at once when none of its pings must
be kept (see :mod:`backend.tracking.retention`). SQLite has one plain table and none of this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from backend.extensions import db
from backend.models_base import utcnow

MONTHS_AHEAD = 3
_NAME = re.compile(r"^pings_y(\d{4})m(\d{2})$")


@dataclass(frozen=True)
class Partition:
    """One monthly partition: rows with ``start <= recorded_at < end``."""

    name: str
    start: datetime
    end: datetime


def _month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def month_partition(year: int, month: int) -> Partition:
    """The partition that holds ``year``-``month``."""
    start = _month_start(year, month)
    return Partition(f"pings_y{start.year:04d}m{start.month:02d}", start, _month_start(start.year, start.month + 1))


def is_partitioned() -> bool:
    """True when ``pings`` is a partitioned table (PostgreSQL after migration 0003)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    return bool(db.session.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = 'pings' AND c.relnamespace = 'public'::regnamespace)")).scalar())


def monthly_partitions() -> list[Partition]:
    """The attached monthly partitions, oldest first."""
    names = db.session.scalars(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'public.pings'::regclass"))
    found = []
    for name in names:
        match = _NAME.match(name)
        if match:
            found.append(month_partition(int(match.group(1)), int(match.group(2))))
    return sorted(found, key=lambda p: p.start)


def create_partition(partition: Partition) -> bool:
    """Create and attach ``partition`` (moving its rows out of the default partition); True if new."""
    exists = db.session.execute(text("SELECT to_regclass(:name) IS NOT NULL"),
                                {"name": f"public.{partition.name}"}).scalar()
    if exists:
        return False
    bounds = {"start": partition.start, "end": partition.end}
    db.session.execute(text(f'CREATE TABLE "{partition.name}" (LIKE pings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'))
    db.session.execute(text(
        f'WITH moved AS (DELETE FROM pings_default WHERE recorded_at >= :start AND recorded_at < :end RETURNING *) '
        f'INSERT INTO "{partition.name}" SELECT * FROM moved'), bounds)
    start, end = partition.start.isoformat(), partition.end.isoformat()
    db.session.execute(text(
        f"ALTER TABLE pings ATTACH PARTITION \"{partition.name}\" FOR VALUES FROM ('{start}') TO ('{end}')"))
    return True


def ensure_partitions(now: datetime | None = None, months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """Make sure last month's, this month's and the next months' partitions exist; the new names."""
    if not is_partitioned():
        return []
    now = now or utcnow()
    created = []
    for offset in range(-1, months_ahead + 1):
        partition = month_partition(now.year, now.month + offset)
        if create_partition(partition):
            created.append(partition.name)
    return created


def drop_partition(partition: Partition) -> None:
    """Detach and drop one monthly partition (its rows go with it)."""
    db.session.execute(text(f'ALTER TABLE pings DETACH PARTITION "{partition.name}"'))
    db.session.execute(text(f'DROP TABLE "{partition.name}"'))
