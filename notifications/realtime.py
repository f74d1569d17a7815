"""Realtime fan-out to the 191 center: committed incident events to every connected dispatcher.

Redis is the fast path, the database is the record. Every Socket.IO process runs one
:class:`IncidentRelay`, the only way an ``incident`` event reaches its own dispatchers' room:

- a process that commits incident events hands them to its own relay at once (no queue in
  between) and publishes them on the message queue (``SOCKETIO_MESSAGE_QUEUE``, channel
  ``<SOCKETIO_CHANNEL>.incidents``) for the relays of every other process — web workers,
  ``flask sweep`` and background workers publish the same way;
- each relay also reads the event log itself, ``seq > last relayed``, about every second (one
  indexed query per process, however many consoles it holds), so an event the queue lost —
  Redis down, restarting, a subscriber reconnecting — reaches the dispatchers a second or two
  late, never not at all;
- the relay emits strictly in ``seq`` order and each ``seq`` once: what arrives from the queue
  or from the log at or below the last relayed ``seq`` is a duplicate and dropped; an event that
  arrives ahead of a missing one is held, and the log is read at once to fill the gap (a missing
  ``seq`` may also be one that never committed: the log says which);
- every ``SYNC_INTERVAL_S`` it emits ``sync {last_seq}`` to its dispatchers, so a console that
  somehow missed an event notices and resumes without reconnecting.

This is complete because event-writing transactions commit in ``seq`` order (see
:mod:`backend.dispatch.service`): whenever the log shows ``seq`` N, every event below N that will
ever commit has committed. Without a queue, a process's relay sees what this process commits
at once and what other processes commit within a poll.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from typing import Any

from flask import Flask

from backend.dispatch import service
from backend.dispatch.rooms import DISPATCHERS_ROOM, NAMESPACE
from backend.extensions import db, socketio

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 1.0  # how often each process reads the event log for events the queue lost
MIN_POLL_GAP_S = 0.2  # a held (out-of-order) event wakes the poll early, but not more often than this
SYNC_INTERVAL_S = 10.0  # ``sync {last_seq}`` to every dispatcher (the contract: at least every 15 s)
POLL_PAGE = 1000
QUEUE_TIMEOUT_S = 1.0  # connect and command timeout of the queue's clients: a lost Redis never stalls a request
PUBLISH_RETRY_S = 5.0  # after a failed publish, skip the queue this long (a blackholed Redis costs one timeout)
SUBSCRIBE_RETRY_S = 1.0  # a lost subscriber reconnects after this long, every time (no growing back-off)


def _queue_client(url: str) -> Any:
    """A Redis client that fails fast and never retries by itself (the event log is the fallback)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_connect_timeout=QUEUE_TIMEOUT_S, socket_timeout=QUEUE_TIMEOUT_S,
                                retry=Retry(NoBackoff(), 0), health_check_interval=5)


class IncidentPublisher:
    """Publishes committed events on the message queue for the relays of the other processes."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.channel = ""
        self._client: Any = None
        self._retry_at = 0.0
        self._lock = threading.Lock()

    def configure(self, app: Flask) -> None:
        """Take the queue's address and channel from the app's settings."""
        with self._lock:
            self.url = app.config.get("SOCKETIO_MESSAGE_QUEUE") or None
            self.channel = incidents_channel(app)
            self._client = None
            self._retry_at = 0.0

    def publish(self, payloads: list[dict[str, Any]]) -> None:
        """Publish the events; while the queue is failing, skip (the relays read them from the log)."""
        if self.url is None or time.monotonic() < self._retry_at:
            return
        try:
            if self._client is None:
                self._client = _queue_client(self.url)
            self._client.publish(self.channel, json.dumps(payloads, default=str))
        except Exception as exc:  # any failure of the queue: the events are stored, the relays poll
            self._retry_at = time.monotonic() + PUBLISH_RETRY_S
            log.warning("incident events not published on the message queue (%s); relays read them from the log",
                        exc.__class__.__name__)


class IncidentRelay:
    """This process's delivery of incident events to its own dispatchers: each ``seq`` once, in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_seq: int | None = None  # newest seq emitted; None while this process relays nothing
        self.held: dict[int, dict[str, Any]] = {}  # seq -> payload that arrived ahead of a missing seq
        self.queue_up = False  # the subscriber is subscribed (the fast path works)
        self._wake: Any = None
        self._last_sync = 0.0

    def start(self, app: Flask, *, last_seq: int) -> None:
        """Start relaying after ``last_seq`` (once per process, on its first dispatcher)."""
        with self.lock:
            if self.last_seq is not None:
                return
            self.last_seq = last_seq
            self._wake = socketio.server.eio.create_event()
            self._last_sync = time.monotonic()  # a console gets last_seq in hello; the first sync follows
        socketio.start_background_task(self._poll_loop, app)
        socketio.start_background_task(self._sync_loop)
        if app.config.get("SOCKETIO_MESSAGE_QUEUE"):
            socketio.start_background_task(self._listen_loop, app.config["SOCKETIO_MESSAGE_QUEUE"],
                                           incidents_channel(app))

    # --- what arrives ------------------------------------------------------------------------

    def offer(self, payloads: list[dict[str, Any]]) -> None:
        """Events committed in this process or heard on the queue: emit what is next, hold the rest."""
        with self.lock:
            if self.last_seq is None:
                return
            for payload in payloads:
                seq = payload.get("seq")
                if isinstance(seq, int) and seq > self.last_seq:
                    self.held[seq] = payload
            self._release()
            waiting = bool(self.held)
        if waiting:  # something is missing before what we hold: ask the log now
            self._wake.set()

    def catch_up(self) -> int:
        """Read the log after the last relayed seq and emit what is new; returns how many were emitted."""
        emitted = 0
        while True:
            with self.lock:
                after = self.last_seq
            if after is None:
                return emitted
            rows = service.events_after(after, limit=POLL_PAGE)
            with self.lock:
                for row in rows:
                    if row.seq > self.last_seq:
                        self.held.pop(row.seq, None)
                        self._emit(service.event_payload(row))
                        emitted += 1
                # the log is complete up to its newest row: held events below it are duplicates, and
                # a seq missing below a held one never committed
                for seq in [s for s in self.held if s <= self.last_seq]:
                    del self.held[seq]
                self._release()
            if len(rows) < POLL_PAGE:
                return emitted

    def _release(self) -> None:
        """Emit held events that are next in line (the caller holds the lock)."""
        while self.last_seq is not None and self.last_seq + 1 in self.held:
            self._emit(self.held.pop(self.last_seq + 1))

    def _emit(self, payload: dict[str, Any]) -> None:
        socketio.server.emit("incident", payload, to=DISPATCHERS_ROOM, namespace=NAMESPACE, ignore_queue=True)
        self.last_seq = payload["seq"]

    def sync(self) -> None:
        """Tell every dispatcher of this process the newest seq relayed."""
        with self.lock:
            last = self.last_seq
        if last is not None:
            socketio.server.emit("sync", {"last_seq": last}, to=DISPATCHERS_ROOM, namespace=NAMESPACE,
                                 ignore_queue=True)
        self._last_sync = time.monotonic()

    # --- the background tasks -------------------------------------------------------------------

    def _poll_loop(self, app: Flask) -> None:
        failing = False
        while True:
            self._wake.wait(POLL_INTERVAL_S)
            self._wake.clear()
            with app.app_context():
                try:
                    self.catch_up()
                    failing = False
                except Exception:  # the relay must outlive a database outage; it catches up after
                    if not failing:
                        log.exception("reading the incident event log failed; retrying every second")
                    failing = True
                finally:
                    db.session.remove()
            socketio.sleep(MIN_POLL_GAP_S)

    def _sync_loop(self) -> None:
        """``sync`` every SYNC_INTERVAL_S on its own: no database wait (an outage) can delay it."""
        while True:
            socketio.sleep(max(0.0, SYNC_INTERVAL_S - (time.monotonic() - self._last_sync)))
            try:
                if time.monotonic() - self._last_sync >= SYNC_INTERVAL_S:
                    self.sync()
            except Exception:  # noqa: BLE001 - the loop must never end
                log.exception("sending sync failed")
                self._last_sync = time.monotonic()

    def _listen_loop(self, url: str, channel: str) -> None:
        down_since: float | None = None
        while True:
            pubsub = None
            try:
                pubsub = _queue_client(url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(channel)
                self.queue_up = True
                if down_since is not None:
                    log.warning("message queue back after %.0f s; incident events take the fast path again",
                                time.monotonic() - down_since)
                    down_since = None
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._offer_raw(message["data"])
            except Exception as exc:  # Redis gone: the poll delivers meanwhile; retry soon, not with back-off
                self.queue_up = False
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("message queue lost (%s); incident events come from the event log until it is back",
                                exc.__class__.__name__)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # closing a broken connection
                        pubsub.close()
            socketio.sleep(SUBSCRIBE_RETRY_S)

    def _offer_raw(self, data: bytes | str) -> None:
        try:
            payloads = json.loads(data)
        except ValueError:
            log.warning("ignored a malformed message on the incident channel")
            return
        if isinstance(payloads, list):
            self.offer([p for p in payloads if isinstance(p, dict)])


def incidents_channel(app: Flask) -> str:
    """The queue channel on which committed incident events travel between processes."""
    return f"{app.config['SOCKETIO_CHANNEL']}.incidents"


relay = IncidentRelay()
publisher = IncidentPublisher()


def emit_incident_events(_session: Any, *, items: list[dict[str, Any]]) -> None:
    """After commit (``signals.incident_events_committed``): this process's dispatchers at once,
    every other process's through the queue."""
    relay.offer(items)
    publisher.publish(items)


def start_relay(app: Flask, *, last_seq: int) -> None:
    """A console joined (``signals.dispatch_console_connected``): relay after ``last_seq``, once per process."""
    relay.start(app, last_seq=last_seq)


def init_app(app: Flask) -> None:
    """Bind the publisher to ``app``'s message queue."""
    publisher.configure(app)
