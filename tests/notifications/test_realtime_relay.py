"""The incident relay of one Socket.IO process: whatever arrives in whatever order, each seq once, in order.

Events reach a relay from its own process, from the message queue and from the event log, in any
order and more than once; a seq may also be missing for good (a rolled-back transaction took it on
PostgreSQL). What the dispatchers' room gets is every committed event exactly once, in seq order.
"""

from __future__ import annotations

import threading

import pytest

from backend.dispatch import service
from backend.dispatch.models import IncidentKind, Severity
from backend.extensions import db, socketio
from notifications.realtime import DISPATCHERS_ROOM, NAMESPACE, IncidentRelay


class Room:
    """Stands in for the Socket.IO server: records what is emitted to the dispatchers' room."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    def emit(self, event: str, data: dict, *, to: str, namespace: str, ignore_queue: bool) -> None:
        """Record one emit (only to this process's own dispatchers)."""
        assert (to, namespace, ignore_queue) == (DISPATCHERS_ROOM, NAMESPACE, True)
        self.sent.append((event, data["seq"] if event == "incident" else data))

    def seqs(self) -> list[int]:
        """The seq of every ``incident`` emitted, in order."""
        return [seq for event, seq in self.sent if event == "incident"]


@pytest.fixture
def room(monkeypatch: pytest.MonkeyPatch) -> Room:
    """The dispatchers' room of this process."""
    fake = Room()
    monkeypatch.setattr(socketio, "server", fake)
    return fake


def _relay() -> IncidentRelay:
    relay = IncidentRelay()
    relay.last_seq = service.last_seq()  # as started by the first console
    relay._wake = threading.Event()
    return relay


def _sos(card_id: str) -> dict:
    """Raise and commit an SOS; returns the event's payload (what the queue would carry)."""
    incident, _ = service.raise_incident(card_id=card_id, kind=IncidentKind.SOS, severity=Severity.CRITICAL)
    db.session.commit()
    return service.event_payload(service.timeline(incident.id)[-1])


def test_out_of_order_and_repeated_events_are_emitted_once_in_seq_order(app, factories, room):
    cards = [factories.card() for _ in range(3)]
    with app.app_context():
        relay = _relay()
        first, second, third = (_sos(card_id) for card_id in cards)
        assert first["seq"] < second["seq"] < third["seq"]

        relay.offer([third])  # arrived ahead of the others (another process, through Redis)
        assert room.seqs() == [] and relay._wake.is_set()  # held, and the log is asked at once
        relay.offer([first])
        relay.offer([first])  # again (its own process and the queue's echo)
        relay.catch_up()  # the log has the second, and the third again
        relay.offer([second, third])  # late arrivals of what the log already gave
        relay.catch_up()

    assert room.seqs() == [first["seq"], second["seq"], third["seq"]]
    assert relay.held == {} and relay.last_seq == third["seq"]


def test_a_seq_that_never_committed_does_not_hold_up_the_next_one(app, factories, room):
    cards = [factories.card() for _ in range(3)]
    with app.app_context():
        relay = _relay()
        before_gap = _sos(cards[0])
        relay.offer([before_gap])
        service.raise_incident(card_id=cards[1], kind=IncidentKind.SOS, severity=Severity.CRITICAL)
        db.session.rollback()  # on PostgreSQL its seq is taken and will never commit
        after_gap = _sos(cards[2])
        if db.engine.dialect.name == "postgresql":
            assert after_gap["seq"] == before_gap["seq"] + 2
        relay.offer([after_gap])
        assert room.seqs() == [before_gap["seq"]] or db.engine.dialect.name == "sqlite"  # held: is a seq missing?
        relay.catch_up()  # the log shows nothing in between: the gap is not an event
        relay.catch_up()

    assert room.seqs()[-1] == after_gap["seq"] and len(room.seqs()) == len(set(room.seqs())) == 2
    assert relay.held == {}


def test_sync_tells_the_room_the_last_seq_relayed(app, factories, room):
    with app.app_context():
        relay = _relay()
        before = relay.last_seq
        relay.sync()
        payload = _sos(factories.card())
        relay.catch_up()  # no queue at all: the log alone delivers it
        relay.sync()
    assert room.sent == [("sync", {"last_seq": before}), ("incident", payload["seq"]),
                         ("sync", {"last_seq": payload["seq"]})]


def test_a_process_that_relays_nothing_ignores_what_it_commits(app, factories, room):
    with app.app_context():
        idle = IncidentRelay()  # no console ever connected here (a REST worker, `flask sweep`)
        idle.offer([_sos(factories.card())])
        assert idle.catch_up() == 0
    assert room.sent == []
