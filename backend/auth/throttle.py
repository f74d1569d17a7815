"""Guessing throttles shared by staff sign-in and app enrollment (across processes, in the database).

A failed attempt for an *account* (a username, a card) from an *address* is counted three times,
each in one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (so concurrent failures are all
counted and never collide):

- per (account, address): locked (``429`` + ``Retry-After``) after ``pair_limit`` failures;
- per address: locked after ``address_limit`` failures, set high because a whole office (a 191
  center, an airport's Wi-Fi) may sit behind one address;
- per account: never locked, only *slowed*: once it has ``slow_after`` failures, every attempt
  for it waits a little longer (up to ``slow_max_s``) before it is checked. So an attacker's
  wrong guesses from elsewhere cannot lock the owner out, and one account's failures never stop
  another account.

Counts live in a window of ``window_s`` from the first failure (or from the end of a lock).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case, delete, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from backend.auth.models import Throttle
from backend.extensions import db
from backend.models_base import UTCDateTime, utcnow


@dataclass(frozen=True)
class Policy:
    """How many failures each key allows, and how an account under attack is slowed."""

    scope: str  # "login", "enroll": keeps the counters of different doors apart
    pair_limit: int
    address_limit: int
    lockout_s: int
    slow_after: int
    slow_step_s: float = 0.5
    slow_max_s: float = 5.0
    window_s: int = 900


@dataclass(frozen=True)
class Keys:
    """The three counters of one attempt."""

    account: str
    pair: str | None
    address: str | None

    def lockable(self) -> list[str]:
        """The keys whose lock refuses the attempt (never the account's alone)."""
        return [key for key in (self.pair, self.address) if key]


def keys(policy: Policy, *, account: str, address: str | None) -> Keys:
    """The counters of an attempt for ``account`` from ``address`` (None when unknown)."""
    base = f"{policy.scope}:{account}"
    return Keys(account=f"{base}:any", pair=f"{base}@{address}" if address else None,
                address=f"{policy.scope}@{address}" if address else None)


def retry_after(*names: str) -> int:
    """Seconds until every one of ``names`` may try again; 0 when none is locked."""
    now = utcnow()
    until = db.session.scalars(select(Throttle.locked_until).where(
        Throttle.key.in_(names), Throttle.locked_until.is_not(None))).all()
    remaining = max([(moment - now).total_seconds() for moment in until], default=0)
    return max(0, int(remaining + 0.999))


def current_failures(name: str, *, window_s: int) -> int:
    """The failures counted for ``name`` in its current window (0 when none, or expired)."""
    row = db.session.execute(select(Throttle.failures, Throttle.window_started_at, Throttle.locked_until)
                             .where(Throttle.key == name)).first()
    if row is None:
        return 0
    now = utcnow()
    if (now - row.window_started_at).total_seconds() > window_s or (row.locked_until and row.locked_until <= now):
        return 0
    return row.failures


def slowdown_s(policy: Policy, failures: int) -> float:
    """How long an attempt for an account with ``failures`` recent failures waits: doubling, bounded."""
    if failures < policy.slow_after:
        return 0.0
    return min(policy.slow_max_s, policy.slow_step_s * 2 ** (failures - policy.slow_after))


def before_attempt(policy: Policy, attempt: Keys) -> int:
    """Call before checking a secret: the seconds to refuse with (429), or 0 to go on.

    When the account is under attack this first waits (a cooperative sleep under gevent),
    after ending the session's transaction so no database connection is held meanwhile;
    call it before the request has changed anything.
    """
    wait = retry_after(*attempt.lockable())
    if wait:
        return wait
    delay = slowdown_s(policy, current_failures(attempt.account, window_s=policy.window_s))
    if delay:
        db.session.rollback()
        pause(delay)
    return 0


def pause(seconds: float) -> None:
    """Wait before checking an attacked account's secret (cooperative under gevent's patched sleep)."""
    time.sleep(seconds)


def failed(policy: Policy, attempt: Keys) -> None:
    """Count a failed attempt on its three counters, in one statement. The caller commits (at once)."""
    limits: dict[str, int | None] = {attempt.account: None}
    if attempt.pair:
        limits[attempt.pair] = policy.pair_limit
    if attempt.address:
        limits[attempt.address] = policy.address_limit
    count(limits, lockout_s=policy.lockout_s, window_s=policy.window_s)


def succeeded(attempt: Keys) -> None:
    """Forget the account's failures and this address's for it (not the address's own). The caller commits."""
    clear(attempt.account, *([attempt.pair] if attempt.pair else []))


def count(limits: dict[str, int | None], *, lockout_s: int, window_s: int = 900) -> dict[str, int]:
    """Count one failure for each key of ``limits`` in one atomic statement; lock a key at its limit.

    A limit of None never locks (the key only counts). Returns the failures now counted per key.
    Rows are written in key order, so concurrent attempts never deadlock. The caller commits.
    """
    now = utcnow()
    until = now + timedelta(seconds=lockout_s)
    table = Throttle.__table__
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    stale = or_(table.c.window_started_at < now - timedelta(seconds=window_s),
                and_(table.c.locked_until.is_not(None), table.c.locked_until <= now))
    failures = case((stale, 1), else_=table.c.failures + 1)
    lockable = {key: limit for key, limit in limits.items() if limit is not None}
    never = literal(None, UTCDateTime())
    if lockable:  # a key without a limit compares with NULL: never locked
        limit_of = case(lockable, value=table.c.key, else_=None)
        locked_until = case((failures >= limit_of, literal(until, UTCDateTime())), (stale, never),
                            else_=table.c.locked_until)
    else:
        locked_until = case((stale, never), else_=table.c.locked_until)
    statement = (
        dialect.insert(table)
        .values([{"key": key, "failures": 1, "window_started_at": now,
                  "locked_until": until if limit is not None and limit <= 1 else None}
                 for key, limit in sorted(limits.items())])
        .on_conflict_do_update(index_elements=[table.c.key], set_={
            "failures": failures,
            "window_started_at": case((stale, literal(now, UTCDateTime())), else_=table.c.window_started_at),
            "locked_until": locked_until,
        })
        .returning(table.c.key, table.c.failures)
    )
    return dict(db.session.execute(statement).tuples().all())


def clear(*names: str) -> None:
    """Forget the failures of ``names`` in one statement (a concurrent delete is harmless). The caller commits."""
    if names:
        db.session.execute(delete(Throttle).where(Throttle.key.in_(names)))
