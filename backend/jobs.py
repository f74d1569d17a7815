"""Periodic jobs (overdue detection, push delivery, retention purge …), one runner at a time.

Domains register a job with :func:`periodic_job`; ``flask sweep`` runs one pass and the running
server runs passes on its own schedule. A lock row in the database keeps a single runner even
when several processes (web workers, CLI) try at once.

Some work should not wait for the next pass: a tourist who pressed SOS expects "help is on the
way" on the phone within seconds, not a minute later. Code that commits such work calls
:func:`nudge` with the job's name; the server's scheduler then runs that job alone at once
(under the same lock), and the regular passes stay the safety net (other processes, cron).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import String, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models_base import UTCDateTime, utcnow

log = logging.getLogger(__name__)

Job = Callable[[], Any]
_JOBS: dict[str, Job] = {}

NUDGE_GATHER_S = 0.2  # after a nudge, wait this long for the rest of a burst (one run for many commits)
NUDGE_RETRY_S = 1.0  # another process holds the lock: try again this soon …
NUDGE_RETRIES = 30  # … this many times, then leave it to the regular pass
_nudged: set[str] = set()
_nudge_lock = threading.Lock()
_nudge_event = threading.Event()


class JobLock(db.Model):
    """A lease that one process holds while it runs the periodic jobs."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


def periodic_job(name: str) -> Callable[[Job], Job]:
    """Register ``func`` to run on every sweep pass under ``name`` (returns a printable result)."""

    def decorator(func: Job) -> Job:
        _JOBS[name] = func
        return func

    return decorator


def registered_jobs() -> dict[str, Job]:
    """The jobs a sweep runs, by name, in registration order."""
    return dict(_JOBS)


def nudge(name: str) -> None:
    """Ask this process's scheduler to run job ``name`` now (a no-op where no scheduler runs)."""
    with _nudge_lock:
        _nudged.add(name)
    _nudge_event.set()


def _take_nudged() -> set[str]:
    with _nudge_lock:
        names = set(_nudged)
        _nudged.clear()
        _nudge_event.clear()
    return names


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lock(name: str = "sweep", lease_s: int = 300) -> bool:
    """Take the named lease if it is free or expired; True when this process holds it."""
    now = utcnow()
    holder = _holder()
    result = db.session.execute(
        update(JobLock)
        .where(JobLock.name == name, or_(JobLock.locked_until.is_(None), JobLock.locked_until < now,
                                         JobLock.holder == holder))
        .values(holder=holder, locked_until=now + timedelta(seconds=lease_s))
    )
    if result.rowcount == 0:
        try:
            db.session.execute(insert(JobLock).values(name=name, holder=holder,
                                                      locked_until=now + timedelta(seconds=lease_s)))
        except IntegrityError:
            db.session.rollback()
            return False
    db.session.commit()
    return True


def release_lock(name: str = "sweep") -> None:
    """Give the lease back."""
    db.session.execute(update(JobLock).where(JobLock.name == name, JobLock.holder == _holder())
                       .values(holder=None, locked_until=None))
    db.session.commit()


def run_sweep(only: set[str] | None = None) -> dict[str, Any] | None:
    """Run every registered job once (or those in ``only``); None when another process holds the lock.

    A failing job is logged and reported; it never stops the others.
    """
    if not acquire_lock():
        return None
    results: dict[str, Any] = {}
    try:
        for name, job in registered_jobs().items():
            if only is not None and name not in only:
                continue
            try:
                results[name] = job()
                db.session.commit()
            except Exception as exc:  # keep the other jobs running
                db.session.rollback()
                log.exception("periodic job %s failed", name)
                results[name] = f"error: {exc.__class__.__name__}: {exc}"
    finally:
        release_lock()
    return results


def start_scheduler(app: Flask) -> None:
    """Run sweeps in the server's background every ``SWEEP_INTERVAL_S`` seconds, and nudged jobs at once."""
    from backend.extensions import socketio

    def run(only: set[str] | None) -> bool:
        with app.app_context():
            try:
                return run_sweep(only) is not None
            except Exception:  # the loop must survive a database hiccup
                log.exception("sweep pass failed")
                return True
            finally:
                db.session.remove()

    def loop() -> None:
        interval = app.config["SWEEP_INTERVAL_S"]
        next_pass = time.monotonic() + interval
        retries = 0
        while True:
            if _nudge_event.wait(timeout=max(next_pass - time.monotonic(), 0)):
                time.sleep(NUDGE_GATHER_S)
            if time.monotonic() >= next_pass:
                _take_nudged()  # the full pass runs every job
                run(None)
                next_pass = time.monotonic() + interval
                retries = 0
                continue
            names = _take_nudged()
            if names and not run(names):  # another process is mid-pass: try again shortly
                retries += 1
                if retries <= NUDGE_RETRIES:
                    time.sleep(NUDGE_RETRY_S)
                    for name in names:
                        nudge(name)
            else:
                retries = 0

    socketio.start_background_task(loop)


@click.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Run one pass of the periodic jobs (overdue, push outbox, retention purge)."""
    results = run_sweep()
    if results is None:
        click.echo("another process is running the periodic jobs; nothing done")
        return
    if not results:
        click.echo("no periodic jobs registered")
    for name, result in results.items():
        click.echo(f"{name}: {result}")
