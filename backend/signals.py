"""Every side effect the application wires between domains, named in one place.

Each signal below says who sends it, with what, and when — inside the transaction (its
receivers' writes commit or roll back with the change) or after commit (nothing is heard of a
rolled-back change). Who hears what is decided in one place, :mod:`backend.wiring`, called by
``create_app``; a sending module never imports its receivers, so a signal is also how a lower
domain tells a higher one (dispatch → notifications, geo → tracking) without an import cycle.
(A lower domain *reading* a higher one's rows uses a typed source instead, one answer from the
domain that owns them: :mod:`backend.dispatch.sources`, provided in the same ``wiring.py``.)

Receivers are called as ``receiver(sender, **kwargs)`` (blinker). The in-transaction signals
propagate a receiver's exception to the sender (the change fails as a whole); the after-commit
ones log it and carry on (what they announce is already stored).
"""

from __future__ import annotations

import logging
from typing import Any

from blinker import NamedSignal, Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_signals = Namespace()

# --- incidents (sent by backend.dispatch.service) -------------------------------------------

incident_event = _signals.signal("incident_event", doc="""\
An incident event was stored (created, updated, acknowledged, dispatched, resolved, note …).

Sent by ``backend.dispatch.service.record_event`` INSIDE the transaction, after the
``IncidentEvent`` row is flushed (it has its ``seq``). Sender: the ``Incident``; ``event``: the
``IncidentEvent``. Receivers' writes (a push message queued for the tourist) commit or roll back
with the incident.""")

incident_events_committed = _signals.signal("incident_events", doc="""\
Incident events were committed.

Sent AFTER COMMIT of every transaction that stored incident events (queued by
``backend.dispatch.service.record_event`` with :func:`after_commit`; also kept in
``session.info["pts_incident_events"]`` until then). Sender: the ``Session``; ``items``: the
events' payloads (the representation plus ``seq`` and ``event``), in ``seq`` order. Nothing is
sent for a rolled-back transaction.""")

zone_mutes_committed = _signals.signal("zone_mutes", doc="""\
Zone mutes were set or lifted.

Sent AFTER COMMIT of a transaction in which ``backend.dispatch.mutes`` muted or unmuted zones
(queued with :func:`after_commit`). Sender: the ``Session``; ``items``: the ``zone_mute``
payloads ``{zone_id, zone_name, until|null, by}``, in order.""")

# --- the dispatch console (sent by backend.dispatch.events) --------------------------------

dispatch_console_connected = _signals.signal("dispatch_console_connected", doc="""\
A dispatcher's console joined this process's dispatchers' room.

Sent by ``backend.dispatch.events.on_connect`` after the staff token was accepted and before
``hello`` is emitted (no transaction). Sender: the Flask app; ``last_seq``: the newest committed
event's ``seq``, which the console receives in ``hello``. The realtime relay starts relaying
after it (once per process).""")

# --- cards (sent by backend.cards.service) ---------------------------------------------------

card_tracking_ended = _signals.signal("card_tracking_ended", doc="""\
A card stopped being tracked (PDPA): it was revoked or closed.

Sent by ``backend.cards.service`` INSIDE the transaction that revokes or closes the card, after
``tracking_ended_at`` is set. Sender: the ``Card``; ``at``: when. Receivers stop what follows the
card (tracking: its devices are revoked, in the same transaction, so no ping of it is stored).""")

# --- push messages (sent by notifications.outbox) --------------------------------------------

outbox_queued = _signals.signal("outbox_queued", doc="""\
Push messages were committed to the outbox.

Sent AFTER COMMIT of a transaction in which ``notifications.outbox.queue_for_card`` stored
messages (queued with :func:`after_commit`). Sender: the ``Session``; ``items``: how many rows
each call stored. The server's scheduler is nudged to push at once (the periodic pass stays the
safety net).""")

# --- boats at sea (sent by backend.marine.events) ------------------------------------------

marine_announced = _signals.signal("marine_announced", doc="""\
Trips changed or an area came under a marine warning.

Sent AFTER COMMIT of a transaction that changed a trip record or raised a marine warning (held
with :func:`after_commit` by ``backend.marine.events``: a trip's representation is taken just
before the commit). Sender: the ``Session``; ``items``: ``(event, payload)`` pairs — ``("trip",
the trip's representation)`` or ``("marine_warning", the warning with its broadcast draft)`` — in
order. The consoles get them as Socket.IO events.""")

# --- zones (sent by geo.service) -------------------------------------------------------------

zone_deleting = _signals.signal("zone_deleting", doc="""\
A zone is about to be deleted.

Sent by ``geo.service.delete_zone`` INSIDE the transaction, before the zone row is deleted.
Sender: the ``Zone``. Receivers drop their references to it (tracking: the latest positions that
were inside it as a danger zone).""")

# --- positions (sent by backend.tracking.service) --------------------------------------------

positions_recorded = _signals.signal("positions_recorded", doc="""\
A ping group moved some cards' latest positions.

Sent by ``backend.tracking.service.record_groups`` INSIDE the transaction, once per group (not
per ping), after the latest positions were advanced. Sender: None; ``newest``: ``{card_id:
(lat, lon, recorded_at)}``, each card's newest new fix of the group. Receivers must stay cheap
(the ping path is benchmarked): the marine domain spends one query to learn which of the cards
are aboard a trip at sea, and feeds their trip's last position.""")


# --- after commit ----------------------------------------------------------------------------

_AFTER_COMMIT = "pts_after_commit"  # session.info: the signals with items waiting for the commit
_SAVEPOINTS = "pts_after_commit_savepoints"  # session.info: {savepoint: how many items each signal held}


def info_key(signal: NamedSignal) -> str:
    """Where ``session.info`` keeps the items of ``signal`` until the transaction ends."""
    return f"pts_{signal.name}"


def after_commit(session: Any, signal: NamedSignal, item: Any) -> None:
    """Hold ``item`` until ``session``'s transaction commits, then send ``signal`` with all held items.

    The items of one transaction travel together (``items=[…]``, in the order held); a rollback
    drops them. Savepoints (``session.begin_nested()``) count as part of their transaction: one
    released is not a commit (SQLAlchemy's ``after_commit`` event fires for it too, and an SOS
    would otherwise be announced — and its push nudged — before the SOS is stored), and one
    rolled back drops only the items held inside it. Call :func:`install_session_hooks` once
    (``create_app`` does).
    """
    session.info.setdefault(info_key(signal), []).append(item)
    session.info.setdefault(_AFTER_COMMIT, {})[signal.name] = signal


def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    """A savepoint began: note how many items each signal holds, to drop only its own on rollback."""
    if transaction.nested:
        waiting: dict[str, NamedSignal] = session.info.get(_AFTER_COMMIT) or {}
        session.info.setdefault(_SAVEPOINTS, {})[transaction] = {
            name: len(session.info.get(info_key(signal)) or ()) for name, signal in waiting.items()}


def _send_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released: the transaction's commit is still to come
        return
    session.info.pop(_SAVEPOINTS, None)
    waiting: dict[str, NamedSignal] = session.info.pop(_AFTER_COMMIT, None) or {}
    for signal in waiting.values():
        items = session.info.pop(info_key(signal), None)
        if not items:
            continue
        for receiver in list(signal.receivers_for(session)):
            try:
                receiver(session, items=items)
            except Exception:  # what they announce is stored: a receiver's failure is logged, not raised
                log.exception("a receiver of %s failed", signal.name)


def _drop_savepoint_items(session: Session, previous_transaction: SessionTransaction) -> None:
    """A savepoint rolled back: drop what was held inside it; the rest of the transaction stands."""
    if not previous_transaction.nested:
        return
    held = (session.info.get(_SAVEPOINTS) or {}).pop(previous_transaction, None)
    if held is None:
        return
    for name, signal in (session.info.get(_AFTER_COMMIT) or {}).items():
        items = session.info.get(info_key(signal))
        if items:
            del items[held.get(name, 0):]


def _drop_ended(session: Session, transaction: SessionTransaction) -> None:
    """The transaction ended: what is still held was never committed (rolled back, or the session closed)."""
    if transaction.nested or transaction.parent is not None:
        return
    session.info.pop(_SAVEPOINTS, None)
    waiting: dict[str, NamedSignal] = session.info.pop(_AFTER_COMMIT, None) or {}
    for signal in waiting.values():
        session.info.pop(info_key(signal), None)


def install_session_hooks() -> None:
    """Send the after-commit signals from every session (idempotent: one set of hooks per process)."""
    if not event.contains(Session, "after_commit", _send_committed):
        event.listen(Session, "after_transaction_create", _mark_savepoint)
        event.listen(Session, "after_commit", _send_committed)
        event.listen(Session, "after_soft_rollback", _drop_savepoint_items)
        event.listen(Session, "after_transaction_end", _drop_ended)
