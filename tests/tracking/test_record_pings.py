"""record_pings: idempotent, order-independent, and silent for cards that are no longer tracked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.models_base import utcnow
from tests.geo.helpers import fix, incidents, minutes_ago, send


def _ping_count(app, card_id: str) -> int:
    from backend.extensions import db
    from backend.tracking.models import Ping

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ping).where(Ping.card_id == card_id))


def _event_count(app) -> int:
    from backend.dispatch.models import IncidentEvent
    from backend.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(IncidentEvent))


def test_duplicates_change_nothing(seeded, factories):
    card = factories.card()
    batch = [fix(7.8804, 98.3923, minutes_ago(30)), fix(8.0863, 98.9063, minutes_ago(10))]  # town, then Krabi
    first = send(seeded, card, *batch)
    assert (first.accepted, first.duplicates) == (2, 0)
    events = _event_count(seeded)
    assert events == 1  # left_area created
    again = send(seeded, card, *batch)
    assert (again.accepted, again.duplicates) == (0, 2)
    assert again.incidents == []
    assert _ping_count(seeded, card) == 2 and _event_count(seeded) == events
    assert again.latest["recorded_at"] == first.latest["recorded_at"]
    assert again.latest["last_contact_at"] > first.latest["last_contact_at"]  # a re-send is still contact
    # the same id twice inside one batch is stored once
    twice = fix(7.8961, 98.2966, minutes_ago(5))
    mixed = send(seeded, card, twice, twice, batch[0])
    assert (mixed.accepted, mixed.duplicates) == (1, 2)
    assert _ping_count(seeded, card) == 3


def test_latest_is_the_newest_fix_whatever_the_arrival_order(seeded, factories):
    card = factories.card()
    newest = fix(7.8961, 98.2966, minutes_ago(5))
    sent = send(seeded, card, newest, fix(7.8804, 98.3923, minutes_ago(65)), fix(8.1132, 98.3063, minutes_ago(35)))
    assert (sent.latest["lat"], sent.latest["lon"]) == (7.8961, 98.2966)
    # a fix buffered offline arrives late: stored, but the latest position stays the newest
    late = send(seeded, card, fix(8.0863, 98.9063, minutes_ago(120)))  # an old fix in Krabi
    assert late.accepted == 1
    assert (late.latest["lat"], late.latest["lon"]) == (7.8961, 98.2966)
    assert late.incidents == [] and incidents(seeded, card) == []
    assert _ping_count(seeded, card) == 4


def test_one_open_incident_per_card_and_kind(seeded, factories):
    card = factories.card()
    krabi, patong = (8.0863, 98.9063), (7.8961, 98.2966)
    for minutes in (100, 80, 60, 40, 20):
        where = krabi if minutes in (100, 60, 20) else patong
        send(seeded, card, fix(*where, minutes_ago(minutes)))
    (incident,) = incidents(seeded, card)
    assert incident["kind"] == "left_area"
    assert incident["events"] == ["created", "returned", "updated", "returned", "updated"]


def test_the_pings_that_raised_an_incident_are_attached_to_it(seeded, factories):
    from backend.extensions import db
    from backend.tracking.models import Ping

    card = factories.card()
    send(seeded, card, fix(7.8804, 98.3923, minutes_ago(30)))
    away = fix(8.0863, 98.9063, minutes_ago(10))
    send(seeded, card, away)
    (incident,) = incidents(seeded, card)
    with seeded.app_context():
        attached = db.session.execute(select(Ping.client_id, Ping.incident_id).where(Ping.card_id == card)).all()
    assert dict(attached)[away["client_id"]] == incident["id"]
    assert sum(1 for _, iid in attached if iid) == 1


@pytest.mark.parametrize("state", ["closed", "revoked", "expired"])
def test_untracked_cards_are_refused_and_nothing_is_stored(seeded, factories, state):
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.tracking.models import LatestPosition
    from backend.tracking.service import CardNotTrackable, PingInput, record_pings

    card_id = factories.card(days=-1) if state == "expired" else factories.card(status=state)
    with seeded.app_context():
        card = db.session.get(Card, card_id)
        with pytest.raises(CardNotTrackable):
            record_pings(card=card, device_id=None, pings=[
                PingInput(client_id="9b2f3c1e-6a4d-4c8e-9f00-000000000001", lat=8.0863, lon=98.9063,
                          recorded_at=utcnow() - timedelta(minutes=1))])
        db.session.commit()
        assert db.session.get(LatestPosition, card_id) is None
    assert _ping_count(seeded, card_id) == 0 and incidents(seeded, card_id) == []
