"""Socket.IO namespace ``/dispatch``: the 191 console's live incident feed and tourist positions.

- ``connect(auth)``: ``auth={"token": <staff access token>}`` of a dispatcher or admin, else
  refused. The client joins the dispatchers' room, where every committed incident event is
  emitted as ``incident`` in ``seq`` order, and ``sync {last_seq}`` every few seconds (see
  :mod:`notifications.realtime`), and receives ``hello`` ``{username, role, last_seq}``.
- The session lasts while it has the right to: every ``POSITION_TICK_S`` each process checks all
  its consoles against the users table (one query) and disconnects those whose token expired or
  was revoked, or whose account was deactivated — in whichever process that happened.
- ``resume {after_seq}``: every stored event with a larger ``seq`` is emitted again as
  ``incident``, in order, to this client only; the acknowledgement is ``{replayed, last_seq}``.
- ``viewport {bbox}``: the map's viewport (``"minLon,minLat,maxLon,maxLat"`` or four numbers).
  The client gets the tourists inside at once as ``positions {reset: true, items, truncated}``,
  then, every ``POSITION_TICK_S`` seconds, ``positions {reset: false, items}`` with only what
  changed inside the viewport.

The position feed works with any number of server processes without a message queue: each
process polls the database for positions heard since its last tick (one indexed query per tick
for all its consoles) and sends each of its own clients the changes inside that client's
viewport. Changes are coalesced per tourist and at most ``POSITION_BATCH`` are sent per tick, so
10,000 moving tourists arrive as a steady trickle of small batches, never as a flood.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from backend import signals
from backend.audit.service import record
from backend.auth.decorators import admits, has_role, staff_session
from backend.auth.models import Role, User
from backend.database import MAX_ID
from backend.dispatch import positions, service
from backend.dispatch.rooms import DISPATCHERS_ROOM, NAMESPACE
from backend.extensions import db, socketio
from backend.models_base import utcnow
from backend.web.transactions import unit_of_work

log = logging.getLogger(__name__)

POSITION_TICK_S = 2.0
POSITION_BATCH = 500  # positions sent to one console per tick, at most
SNAPSHOT_LIMIT = 10_000  # tourists sent when a viewport is set, at most
# how far back each tick looks: a row written by a transaction that committed late (or by a
# server whose clock is slightly behind) is still seen; repeats are filtered by recorded_at
LOOKBACK = timedelta(seconds=15)
REPLAY_PAGE = 1000


@dataclass
class Console:
    """One connected dispatcher console (a Socket.IO session of this process)."""

    user_id: int
    username: str
    expires_at: datetime | None
    claims: dict[str, Any] = field(default_factory=dict)  # of the token it connected with
    bbox: positions.BBox | None = None
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # card id -> newest item, coalesced


class PositionFeed:
    """This process's consoles and the background task that sends them position changes."""

    def __init__(self) -> None:
        self.consoles: dict[str, Console] = {}
        self.lock = threading.Lock()
        self._started = False
        self._sent: dict[str, datetime] = {}  # card id -> recorded_at already sent (within LOOKBACK)
        self._since: datetime | None = None

    def start(self, app: Flask) -> None:
        """Start the background task once per process (on the first console)."""
        with self.lock:
            if self._started:
                return
            self._started = True
        socketio.start_background_task(self._loop, app)

    def _loop(self, app: Flask) -> None:
        while True:
            socketio.sleep(POSITION_TICK_S)
            with app.app_context():
                try:
                    self.tick()
                except Exception:  # the feed must survive a database hiccup
                    log.exception("position feed tick failed")
                finally:
                    db.session.remove()

    def sweep_sessions(self) -> list[str]:
        """Disconnect every console whose token expired or was revoked, or whose account is deactivated
        (or no longer a dispatcher's).

        One query for all of this process's consoles, against the users table: every process
        enforces it by itself, with or without a message queue. Returns the sids disconnected.
        """
        now = utcnow()
        with self.lock:
            consoles = dict(self.consoles)
        if not consoles:
            return []
        # expired tokens first, without the database: they end even while it is away
        expired = [sid for sid, c in consoles.items() if c.expires_at is not None and c.expires_at <= now]
        self._end(expired)
        rest = {sid: c for sid, c in consoles.items() if sid not in set(expired)}
        if not rest:
            return expired
        ids = {c.user_id for c in rest.values()}
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
        ended = [sid for sid, c in rest.items() if not self._may_stay(c, users.get(c.user_id), now)]
        self._end(ended)
        return expired + ended

    def _end(self, sids: list[str]) -> None:
        for sid in sids:
            with self.lock:
                self.consoles.pop(sid, None)
            socketio.server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)

    @staticmethod
    def _may_stay(console: Console, user: User | None, now: datetime) -> bool:
        """Unexpired token, not revoked, account active and still a dispatcher (or admin)."""
        if console.expires_at is not None and console.expires_at <= now:
            return False
        return user is not None and admits(user, console.claims) and has_role(user, (Role.DISPATCHER,))

    def tick(self) -> None:
        """One pass: end sessions that lost their right, gather position changes, send each console its batch."""
        ended = set(self.sweep_sessions())
        now = utcnow()
        with self.lock:
            consoles = {sid: c for sid, c in self.consoles.items() if sid not in ended}
        watching = {sid: c for sid, c in consoles.items() if c.bbox is not None}
        since = (self._since or now) - LOOKBACK
        self._since = now
        if not watching:
            self._sent.clear()
            return
        changed = positions.positions_contacted_since(since=since)
        sent = {p.card_id: p.recorded_at for p in changed}
        fresh = [p for p in changed if self._sent.get(p.card_id) != p.recorded_at]
        self._sent = sent
        for sid, console in watching.items():
            with self.lock:
                for p in fresh:
                    if console.bbox is not None and console.bbox.contains(p.lat, p.lon):
                        console.pending.pop(p.card_id, None)
                        console.pending[p.card_id] = p.item()
                batch = [console.pending.pop(k) for k in list(console.pending)[:POSITION_BATCH]]
            if batch:
                socketio.server.emit("positions", {"reset": False, "items": batch, "pending": len(console.pending)},
                                     to=sid, namespace=NAMESPACE, ignore_queue=True)

    def set_viewport(self, sid: str, bbox: positions.BBox) -> None:
        """Remember the console's viewport (what was pending for the old one is dropped)."""
        with self.lock:
            console = self.consoles.get(sid)
            if console is not None:
                console.bbox = bbox
                console.pending.clear()


feed = PositionFeed()


def on_connect(auth: Any = None) -> None:
    """Admit dispatchers and admins with a valid access token; refuse everyone else."""
    token = auth.get("token") if isinstance(auth, dict) else None
    session = staff_session(token if isinstance(token, str) else None)
    if session is None:
        raise ConnectionRefusedError("a valid staff access token is required (auth={token})")
    user, claims = session
    if not has_role(user, (Role.DISPATCHER,)):
        raise ConnectionRefusedError("only dispatchers and admins may connect")
    exp = claims.get("exp")
    with feed.lock:
        feed.consoles[request.sid] = Console(user_id=user.id, username=user.username, claims=claims,
                                             expires_at=None if exp is None else datetime.fromtimestamp(int(exp), UTC))
    join_room(DISPATCHERS_ROOM)
    app = current_app._get_current_object()
    last_seq = service.last_seq()
    signals.dispatch_console_connected.send(app, last_seq=last_seq)  # the realtime relay starts
    feed.start(app)
    socketio.server.emit("hello", {"username": user.username, "role": user.role, "last_seq": last_seq},
                         to=request.sid, namespace=NAMESPACE, ignore_queue=True)


def on_disconnect(*_args: Any) -> None:
    """Forget the console."""
    with feed.lock:
        feed.consoles.pop(request.sid, None)


def _console() -> Console | None:
    """This client's console while its token is unexpired and its account active (set as ``g.staff``)."""
    with feed.lock:
        console = feed.consoles.get(request.sid)
    if console is None or (console.expires_at is not None and console.expires_at <= utcnow()):
        return None
    user = db.session.get(User, console.user_id)
    if user is None or not admits(user, console.claims):
        return None
    g.staff = user
    return console


@unit_of_work  # the replay's audit entry is committed before the acknowledgement
def on_resume(data: Any = None) -> dict[str, Any]:
    """Re-emit every stored event after ``after_seq`` to this console, in order."""
    if _console() is None:
        return {"error": "session expired: sign in again"}
    after = data.get("after_seq") if isinstance(data, dict) else None
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_ID:
        return {"error": "after_seq must be a non-negative integer"}
    replayed, last = 0, after
    while True:
        rows = service.events_after(last, limit=REPLAY_PAGE)
        for row in rows:
            socketio.server.emit("incident", service.event_payload(row), to=request.sid, namespace=NAMESPACE,
                                 ignore_queue=True)
            last = row.seq
        replayed += len(rows)
        if len(rows) < REPLAY_PAGE:
            break
    if replayed:  # the replayed representations carry tourists' personal data
        record("incident.replay", subject_type="incident", detail={"after_seq": after, "count": replayed})
    return {"replayed": replayed, "last_seq": last}


def on_viewport(data: Any = None) -> dict[str, Any]:
    """Set the map viewport; the tourists inside are sent at once, then their changes every tick."""
    console = _console()
    if console is None:
        return {"error": "session expired: sign in again"}
    try:
        bbox = positions.BBox.parse(data.get("bbox") if isinstance(data, dict) else None)
    except ValueError as exc:
        return {"error": str(exc)}
    feed.set_viewport(request.sid, bbox)
    found, truncated = _audited_positions(bbox)
    socketio.server.emit("positions", {"reset": True, "items": [p.item() for p in found], "truncated": truncated},
                         to=request.sid, namespace=NAMESPACE, ignore_queue=True)
    return {"ok": True, "count": len(found), "truncated": truncated}


@unit_of_work  # the read is audited (committed) before the positions are sent
def _audited_positions(bbox: positions.BBox) -> tuple[list[positions.TouristPosition], bool]:
    found, truncated = positions.positions_in(bbox=bbox, limit=SNAPSHOT_LIMIT)
    record("positions.read", subject_type="position",
           detail={"bbox": [bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat], "count": len(found),
                   "via": "socket"})
    return found, truncated


def emit_zone_mutes(_session: Any, *, items: list[dict[str, Any]]) -> None:
    """After commit: ``zone_mute`` {zone_id, zone_name, until|null, by} to every dispatcher of every process.

    Through the message queue when one is configured (Flask-SocketIO's own fan-out). Not in the
    incident event log: a console that was away reads GET /api/v1/dispatch/mutes on reconnecting.
    """
    for payload in items:
        try:
            socketio.emit("zone_mute", payload, to=DISPATCHERS_ROOM, namespace=NAMESPACE)
        except Exception:  # noqa: BLE001 - the mute is stored; consoles read the list when they reconnect
            log.warning("zone_mute not emitted (message queue away?)", exc_info=True)


def register() -> None:
    """Bind the handlers to the current Socket.IO server (called by every ``create_app``)."""
    for name, handler in (("connect", on_connect), ("disconnect", on_disconnect), ("resume", on_resume),
                          ("viewport", on_viewport)):
        socketio.on_event(name, handler, namespace=NAMESPACE)
