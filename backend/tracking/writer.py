"""Group commit of ping requests: one writer thread per process stores what many requests brought.

OwnTracks and Traccar Client send one fix per request, and so does our app when it is online;
done one request at a time, each fix costs its own lock, duplicate lookup, insert, geofence
query, position update and commit. Here every ping request hands its validated pings to the
process's :class:`PingWriter` and waits; the writer takes everything that has arrived (while it
was busy with the previous group, more requests queued up), stores it with
:func:`backend.tracking.service.record_groups` — a fixed number of statements for the whole
group — commits once, and only then answers each waiting request. Nothing is acknowledged
before it is committed, so the app's "sent" still means stored.

- A group holds each card once; a second request of the same card waits for the next group
  (its pings must be compared with the first request's newest fix).
- A group that fails (a deadlock with another process, a constraint) is rolled back and each of
  its requests is stored on its own, so one bad request never fails the others.
- A request may bring only a *signed* device credential (the app's ping path): the writer checks
  it against the device row it loads for the whole group anyway (refused: :class:`DeviceRefused`),
  and screens each ping's device time against the card (refused pings are reported, not stored).
  So a ping request costs no database round trip of its own.
- On PostgreSQL :data:`WRITERS` loops take groups from the same queue, so that one group is
  stored while another waits for its commit (a commit is a round trip and a WAL flush: with one
  loop, a busy database would leave the process idle between groups).
- The loops start with the first ping request and end after :data:`IDLE_EXIT_S` without work;
  the next request starts them again (nothing lingers in CLI processes or tests).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from backend.availability import DatabaseUnavailable, discard_session, is_lost, is_unavailable
from backend.cards.models import Card
from backend.dispatch.models import OPEN_STATUSES, Incident
from backend.extensions import db
from backend.models_base import utcnow
from backend.tracking.devices import DeviceCredential, accepts, may_track
from backend.tracking.models import Device
from backend.tracking.service import CardNotTrackable, CardPings, PingInput, record_groups, time_error

log = logging.getLogger(__name__)

MAX_GROUP_PINGS = 1000  # keeps the geofence query's parameters well inside every database's limit
IDLE_EXIT_S = 5.0
WRITERS = 2  # group loops per process on PostgreSQL (PING_WRITERS)
WAIT_S = 4.5  # a request gives up after this long: a 503 (the app retries; pings are idempotent)
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


class WriterBusy(Exception):
    """The writer did not store the request's pings in time (the database is overloaded)."""


class DeviceRefused(Exception):
    """The device credential is not (or no longer) the device's: unknown, replaced or revoked."""


@dataclass(frozen=True)
class Recorded:
    """What one request's pings did, as its reply needs it."""

    accepted: int
    duplicates: int
    at_sea: bool  # the card's latest position is at sea
    open_incident: bool  # the card has an incident the 191 center is working on
    refused: tuple[tuple[int, str], ...] = ()  # (position in the request's pings, why its time is refused)


@dataclass
class _Request:
    device_id: str
    pings: list[PingInput]
    source: str
    credential: DeviceCredential | None = None  # to check against the device row (None: checked already)
    screen_times: bool = False  # refuse pings whose device time is implausible for the card
    done: threading.Event = field(default_factory=threading.Event)
    result: Recorded | None = None
    error: BaseException | None = None
    abandoned: bool = False  # its waiter gave up (answered 503): not stored any more, the app sends it again

    def finish(self, result: Recorded | None = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


def touch_device(device: Device) -> None:
    """Note that the device was heard from (written at most once a minute per device)."""
    now = utcnow()
    if device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_RESOLUTION:
        device.last_seen_at = now


def cards_with_open_incidents(card_ids: list[str]) -> set[str]:
    """Those of the cards that have an incident the 191 center is still working on."""
    if not card_ids:
        return set()
    return set(db.session.scalars(
        select(Incident.card_id).where(Incident.card_id.in_(card_ids),
                                       Incident.status.in_(OPEN_STATUSES)).distinct()))


class PingWriter:
    """The process's group-commit writer for one application."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        # within the contract's 5 s for a 503 when the database is away (DB_UNAVAILABLE_AFTER_S)
        self._wait_s = float(app.config.get("DB_UNAVAILABLE_AFTER_S") or WAIT_S)
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        # PostgreSQL: while one group waits for its commit the next one is stored (row locks keep
        # concurrent groups apart, in card id order). SQLite has one writer at a time: one loop.
        with app.app_context():
            default = 1 if db.engine.dialect.name == "sqlite" else WRITERS
        self._writers = max(1, int(app.config.get("PING_WRITERS") or default))

    def write(self, *, device_id: str, pings: list[PingInput], source: str,
              credential: DeviceCredential | None = None, screen_times: bool = False,
              deadline: float | None = None) -> Recorded:
        """Store ``pings`` of the device's card with the next group; returns once committed.

        With ``credential``, the device row must still honour it (else :class:`DeviceRefused`);
        with ``screen_times``, pings whose device time is implausible for the card are listed in
        ``refused`` and not stored (when none is left, nothing at all is written).
        Raises :class:`CardNotTrackable` when the card stopped being tracked (nothing stored) and
        :class:`WriterBusy` when the group could not be stored within ``DB_UNAVAILABLE_AFTER_S``
        (the database is away or overloaded: the app is told to retry) — or by ``deadline``
        (``time.monotonic()``) when the request already spent some of that time elsewhere.
        """
        request = _Request(device_id, pings, source, credential, screen_times)
        self._queue.put(request)
        self._ensure_writers()
        wait_s = self._wait_s if deadline is None else max(0.0, min(self._wait_s, deadline - time.monotonic()))
        if not request.done.wait(wait_s):
            request.abandoned = True
            raise WriterBusy("the pings could not be stored in time; send them again")
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _ensure_writers(self) -> None:
        with self._lock:
            while len(self._threads) < self._writers:
                thread = threading.Thread(target=self._run, name="ping-writer", daemon=True)
                self._threads.add(thread)
                thread.start()

    def _run(self) -> None:
        try:
            self._loop()
        finally:  # whatever ended the loop, the next request must find a writer
            with self._lock:
                self._threads.discard(threading.current_thread())
            if not self._queue.empty():
                self._ensure_writers()

    def _loop(self) -> None:
        waiting: list[_Request] = []  # requests of a card that already had one in the last group
        while True:
            if waiting:
                batch, waiting = waiting, []
            else:
                try:
                    batch = [self._queue.get(timeout=IDLE_EXIT_S)]
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():
                            self._threads.discard(threading.current_thread())
                            return
                    continue
            count = sum(len(r.pings) for r in batch)
            while count < MAX_GROUP_PINGS:
                try:
                    request = self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(request)
                count += len(request.pings)
            batch = [request for request in batch if not request.abandoned]
            if not batch:
                continue
            try:
                waiting = self._store(batch)
            except Exception as exc:  # noqa: BLE001 - never leave a request waiting, never die
                log.exception("the ping writer failed on a group of %d requests", len(batch))
                for request in batch:
                    if not request.done.is_set():
                        request.finish(error=exc)

    def _store(self, batch: list[_Request]) -> list[_Request]:
        """Store a group (falling back to one request at a time); the requests left for the next group."""
        with self._app.app_context():
            try:
                return self._commit(batch)
            except Exception as exc:  # noqa: BLE001 - isolate the requests from each other
                discard_session()
                if is_lost(exc):  # the database is away: one by one would only wait longer, in series
                    self._fail_all(batch, f"the pings could not be stored: {exc}")
                    return []
                if is_unavailable(exc):  # a lock or statement timeout: this group only, answered 503
                    for request in batch:
                        request.finish(error=DatabaseUnavailable(f"the pings could not be stored in time: {exc}"))
                    return []
                if len(batch) == 1:
                    log.exception("storing pings of device %s failed", batch[0].device_id)
                    batch[0].finish(error=exc)
                    return []
                log.warning("a group of %d ping requests failed (%s); storing them one by one", len(batch), exc)
            finally:
                db.session.remove()
        left: list[_Request] = []
        for request in batch:
            if not request.done.is_set():
                left.extend(self._store([request]))
        return left

    def _fail_all(self, batch: list[_Request], why: str) -> None:
        """Answer the group and every request queued behind it with a 503 (the app retries them)."""
        log.warning("the database is unavailable: %d ping requests answered 503 (%s)", len(batch), why)
        for request in batch:
            if not request.done.is_set():
                request.finish(error=DatabaseUnavailable(why))
        while True:
            try:
                self._queue.get_nowait().finish(error=DatabaseUnavailable(why))
            except queue.Empty:
                return

    def _commit(self, batch: list[_Request]) -> list[_Request]:
        found, open_before = _load_and_lock(batch)
        members: list[tuple[_Request, Device, CardPings, tuple[tuple[int, str], ...]]] = []
        left: list[_Request] = []
        cards: set[str] = set()
        for request in batch:
            device, card = found.get(request.device_id, (None, None))
            if request.credential is not None and not accepts(device, card, request.credential):
                request.finish(error=DeviceRefused("missing or invalid device token"))
            elif device is None or card is None or not may_track(device, card):
                status = card.effective_status() if card is not None else "unknown"
                request.finish(error=CardNotTrackable(f"card {card.id if card else '?'} is {status}"))
            elif card.id in cards:
                left.append(request)
            else:
                kept, refused = _screen(card, request) if request.screen_times else (request.pings, ())
                if not kept:  # nothing to store: the request changes nothing
                    request.finish(Recorded(accepted=0, duplicates=0, at_sea=False, open_incident=False,
                                            refused=refused))
                    continue
                cards.add(card.id)
                members.append((request, device, CardPings(card, device.id, kept, request.source), refused))
        if not members:
            return left
        results = record_groups([pings for _, _, pings, _ in members], cards_locked=True)
        for _, device, _, _ in members:
            touch_device(device)  # after the card locks: the same lock order as an SOS
        outcomes = [Recorded(accepted=result.accepted, duplicates=result.duplicates,
                             at_sea=bool(result.latest is not None and result.latest.at_sea),
                             open_incident=pings.card.id in open_before or any(i.is_open for i in result.incidents),
                             refused=refused)
                    for (_, _, pings, refused), result in zip(members, results, strict=True)]
        db.session.commit()  # nothing is answered before this
        for (request, _, _, _), outcome in zip(members, outcomes, strict=True):
            request.finish(outcome)
        return left


def _load_and_lock(batch: list[_Request]) -> tuple[dict[str, tuple[Device, Card]], set[str]]:
    """The group's devices and cards, their cards locked in id order (PostgreSQL) before they are
    read — so a revocation or an SOS committed while the lock was awaited is seen — and which of
    them have an incident the 191 center is working on."""
    device_ids = {r.device_id for r in batch}
    if db.engine.dialect.name == "postgresql":  # the same lock order as an SOS and the overdue job
        db.session.execute(select(Card.id).join(Device, Device.card_id == Card.id)
                           .where(Device.id.in_(device_ids)).order_by(Card.id).with_for_update(of=Card))
    open_incident = (select(Incident.id).where(Incident.card_id == Card.id,
                                               Incident.status.in_(OPEN_STATUSES))
                     .exists().label("open_incident"))
    query = (select(Device, Card, open_incident).join(Card, Card.id == Device.card_id)
             .where(Device.id.in_(device_ids)).options(lazyload(Card.tourist)))  # the holder only if needed
    found: dict[str, tuple[Device, Card]] = {}
    open_before: set[str] = set()
    for device, card, is_open in db.session.execute(query):
        found[device.id] = (device, card)
        if is_open:
            open_before.add(card.id)
    return found, open_before


def _screen(card: Card, request: _Request) -> tuple[list[PingInput], tuple[tuple[int, str], ...]]:
    """The request's pings whose device time is plausible for the card, and the others with the reason."""
    now = utcnow()
    kept: list[PingInput] = []
    refused: list[tuple[int, str]] = []
    for position, ping in enumerate(request.pings):
        problem = time_error(card, ping.recorded_at, now)
        if problem:
            refused.append((position, f"the device time {problem}"))
        else:
            kept.append(ping)
    return kept, tuple(refused)


_create_lock = threading.Lock()


def ping_writer() -> PingWriter:
    """The current application's writer (created on first use, in the process that uses it)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    writer = app.extensions.get("pts_ping_writer")
    if writer is None:
        with _create_lock:
            writer = app.extensions.setdefault("pts_ping_writer", PingWriter(app))
    return writer
