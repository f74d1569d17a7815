"""Group commit: many cards' pings stored together give each card exactly what it would get alone."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.geo.helpers import fix, incidents, minutes_ago, send, zone_features

PATONG = (7.8961, 98.2966)
TOWN = (7.8804, 98.3923)
KRABI = (8.0863, 98.9063)
CHALONG_BAY = (7.80, 98.37)  # at sea inside the service area, no danger zone on the way from town
DANGER = next(f["properties"] for f in zone_features() if f["properties"]["kind"] == "danger")


def _inputs(*fixes):
    from backend.tracking.service import PingInput

    return [PingInput(client_id=f["client_id"], lat=f["lat"], lon=f["lon"], recorded_at=f["recorded_at"])
            for f in fixes]


def test_one_group_of_several_cards_evaluates_each_against_its_own_previous_fix(seeded, factories):
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.tracking.service import CardPings, record_groups

    to_krabi, into_danger, unmoved, repeat = (factories.card() for _ in range(4))
    send(seeded, to_krabi, fix(*TOWN, minutes_ago(60)))
    send(seeded, into_danger, fix(*PATONG, minutes_ago(60)))
    old = fix(*TOWN, minutes_ago(40))
    send(seeded, repeat, old)
    danger_lat, danger_lon = DANGER["test_point"]

    with seeded.app_context():
        groups = [
            CardPings(db.session.get(Card, to_krabi), None, _inputs(fix(*KRABI, minutes_ago(5)))),
            CardPings(db.session.get(Card, into_danger), None, _inputs(fix(danger_lat, danger_lon, minutes_ago(5)))),
            CardPings(db.session.get(Card, unmoved), None, _inputs(fix(*TOWN, minutes_ago(5)), fix(*TOWN, minutes_ago(3)))),
            CardPings(db.session.get(Card, repeat), None, _inputs(old, fix(*CHALONG_BAY, minutes_ago(5)))),
        ]
        results = record_groups(groups)
        summary = [(r.accepted, r.duplicates, r.latest.in_service_area, r.latest.at_sea, r.latest.danger_zone_id is not None)
                   for r in results]
        db.session.commit()

    assert summary == [(1, 0, False, False, False), (1, 0, True, True, True), (2, 0, True, False, False),
                       (1, 1, True, True, False)]
    assert [i["kind"] for i in incidents(seeded, to_krabi)] == ["left_area"]
    assert [i["kind"] for i in incidents(seeded, into_danger)] == ["danger_zone"]
    assert incidents(seeded, unmoved) == [] and incidents(seeded, repeat) == []


def test_a_group_holds_each_card_once(seeded, factories):
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.tracking.service import CardPings, record_groups

    card_id = factories.card()
    with seeded.app_context():
        card = db.session.get(Card, card_id)
        with pytest.raises(ValueError, match="once"):
            record_groups([CardPings(card, None, _inputs(fix(*PATONG, minutes_ago(5)))),
                           CardPings(card, None, _inputs(fix(*TOWN, minutes_ago(4))))])


def _devices(app, factories, count: int, *, per_card: int = 1) -> list[tuple[str, str]]:
    """(device id, card id) of ``count`` cards with ``per_card`` enrolled devices each."""
    from backend.extensions import db
    from backend.tracking.models import Device

    made = []
    for _ in range(count):
        card_id = factories.card()
        with app.app_context():
            for _ in range(per_card):
                device = Device(id=f"dev-{uuid.uuid4().hex[:16]}", card_id=card_id, platform="android",
                                osmand_id=uuid.uuid4().hex)
                db.session.add(device)
                made.append((device.id, card_id))
            db.session.commit()
    return made


def _write_concurrently(app, writer, jobs):  # noqa: ANN001
    """Call ``writer.write`` for every (device id, pings) at once from its own thread; results in order."""
    results: list = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(index: int, device_id: str, pings) -> None:  # noqa: ANN001
        start.wait()
        try:
            results[index] = writer.write(device_id=device_id, pings=pings, source="app")
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, d, p)) for i, (d, p) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def _stored(app) -> list[tuple[str, str]]:
    from backend.extensions import db
    from backend.tracking.models import Ping

    with app.app_context():
        return sorted(db.session.execute(select(Ping.card_id, Ping.client_id)).tuples())


def test_concurrent_requests_are_each_stored_once_and_answered_with_their_own_counts(seeded, factories):
    from backend.tracking.writer import PingWriter, Recorded

    devices = _devices(seeded, factories, 24)
    first = {device: _inputs(fix(*TOWN, minutes_ago(10))) for device, _ in devices}
    writer = PingWriter(seeded)
    results = _write_concurrently(seeded, writer, list(first.items()))
    assert results == [Recorded(accepted=1, duplicates=0, at_sea=False, open_incident=False)] * len(devices)

    # the phones did not hear back and send the same pings again, plus a new one at sea
    again = [(device, pings + _inputs(fix(*CHALONG_BAY, minutes_ago(2)))) for device, pings in first.items()]
    results = _write_concurrently(seeded, writer, again)
    assert results == [Recorded(accepted=1, duplicates=1, at_sea=True, open_incident=False)] * len(devices)

    stored = _stored(seeded)
    assert len(stored) == 2 * len(devices) == len(set(stored))
    with seeded.app_context():
        from backend.extensions import db
        from backend.tracking.models import LatestPosition

        assert db.session.scalar(select(func.count()).select_from(LatestPosition)
                                 .where(LatestPosition.at_sea.is_(True))) == len(devices)


def test_two_phones_of_one_card_in_the_same_moment_keep_the_newest_fix(seeded, factories):
    from backend.tracking.writer import PingWriter

    (phone_a, card_id), (phone_b, _) = _devices(seeded, factories, 1, per_card=2)
    newest = fix(*KRABI, minutes_ago(1))
    results = _write_concurrently(seeded, PingWriter(seeded), [
        (phone_a, _inputs(fix(*TOWN, minutes_ago(20)), fix(*PATONG, minutes_ago(10)))),
        (phone_b, _inputs(newest)),
    ])
    assert [r.accepted for r in results] == [2, 1]
    assert len(_stored(seeded)) == 3
    [incident] = incidents(seeded, card_id)  # whichever group came first: leaving for Krabi is seen once
    assert incident["kind"] == "left_area"
    again = send(seeded, card_id)
    assert (again.latest["lat"], again.latest["lon"]) == KRABI


def test_a_card_closed_meanwhile_is_refused_without_failing_the_others(seeded, factories):
    from backend.cards.models import Card, CardStatus
    from backend.extensions import db
    from backend.tracking.service import CardNotTrackable
    from backend.tracking.writer import PingWriter, Recorded

    devices = _devices(seeded, factories, 6)
    closed_device, closed_card = devices[2]
    with seeded.app_context():  # closed at departure after the phone was let in, before its pings were stored
        card = db.session.get(Card, closed_card)
        card.status = CardStatus.CLOSED.value
        card.closed_at = card.tracking_ended_at = card.issued_at + timedelta(minutes=1)
        db.session.commit()

    results = _write_concurrently(seeded, PingWriter(seeded),
                                  [(device, _inputs(fix(*PATONG, minutes_ago(3)))) for device, _ in devices])
    assert isinstance(results[2], CardNotTrackable)
    assert [r for i, r in enumerate(results) if i != 2] == [Recorded(1, 0, False, False)] * 5
    assert closed_card not in {card for card, _ in _stored(seeded)}
    assert len(_stored(seeded)) == 5


def test_a_failing_group_fails_only_its_requests_and_the_writer_carries_on(seeded, factories, monkeypatch):
    """A fault while storing (here: injected into the group store once) is that request's error alone."""
    from backend.tracking import writer as writer_module
    from backend.tracking.writer import PingWriter, Recorded

    real = writer_module.record_groups
    calls = {"n": 0}

    def fails_once(groups, **options):  # noqa: ANN001, ANN003
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk full")
        return real(groups, **options)

    monkeypatch.setattr(writer_module, "record_groups", fails_once)
    (device, _), (other, _) = _devices(seeded, factories, 2)
    writer = PingWriter(seeded)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.write(device_id=device, pings=_inputs(fix(*TOWN, minutes_ago(3))), source="app")
    assert _stored(seeded) == []  # rolled back: nothing half-stored
    assert writer.write(device_id=other, pings=_inputs(fix(*TOWN, minutes_ago(2))), source="app") == \
        Recorded(1, 0, False, False)
    assert writer.write(device_id=device, pings=_inputs(fix(*TOWN, minutes_ago(1))), source="app") == \
        Recorded(1, 0, False, False)
    assert len(_stored(seeded)) == 2
