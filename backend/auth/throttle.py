"""Failure throttling shared by staff sign-in and app enrollment (works across processes)."""

from __future__ import annotations

from datetime import timedelta

from backend.auth.models import Throttle
from backend.extensions import db
from backend.models_base import utcnow


def retry_after(key: str) -> int:
    """Seconds until ``key`` may try again; 0 when it is not locked."""
    row = db.session.get(Throttle, key)
    if row is None or row.locked_until is None:
        return 0
    remaining = (row.locked_until - utcnow()).total_seconds()
    return max(0, int(remaining + 0.999))


def record_failure(key: str, *, max_failures: int, lockout_s: int, window_s: int = 900) -> int:
    """Count one failure for ``key``; lock it for ``lockout_s`` after ``max_failures``.

    Returns the seconds the key is now locked for (0 when not locked). The caller commits.
    """
    now = utcnow()
    row = db.session.get(Throttle, key)
    if row is None:
        row = Throttle(key=key, failures=0, window_started_at=now)
        db.session.add(row)
    if (now - row.window_started_at).total_seconds() > window_s or (
        row.locked_until is not None and row.locked_until <= now
    ):
        row.failures = 0
        row.window_started_at = now
        row.locked_until = None
    row.failures += 1
    if row.failures >= max_failures:
        row.locked_until = now + timedelta(seconds=lockout_s)
        return lockout_s
    return 0


def clear(key: str) -> None:
    """Forget the failures of ``key`` (after a success). The caller commits."""
    row = db.session.get(Throttle, key)
    if row is not None:
        db.session.delete(row)
