"""Periodic jobs through ``flask sweep``: overdue once per silence, retention purge exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backend.models_base import utcnow
from tests.geo.helpers import fix, incidents, minutes_ago, send

PATONG = (7.8961, 98.2966)
OFF_PATONG = (7.89, 98.25)  # at sea, inside the service area


def _set(app, model, key, **values) -> None:  # noqa: ANN001
    from backend.extensions import db

    with app.app_context():
        row = db.session.get(model, key)
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def _silent_for(app, card_id: str, minutes: float) -> None:  # noqa: ANN001
    from backend.tracking.models import LatestPosition

    _set(app, LatestPosition, card_id, last_contact_at=utcnow() - timedelta(minutes=minutes))


def _sweep(runner) -> str:  # noqa: ANN001
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    return result.output


def test_overdue_is_raised_once_per_silence(seeded, factories, runner):
    card = factories.card()
    send(seeded, card, fix(*PATONG, minutes_ago(70)))
    _silent_for(seeded, card, 70)  # OVERDUE_AFTER_S is 3600
    output = _sweep(runner)
    assert "overdue: 1 overdue" in output
    (incident,) = incidents(seeded, card)
    assert incident["kind"] == "overdue" and incident["severity"] == "medium"
    assert (incident["lat"], incident["lon"]) == PATONG
    assert incident["events"] == ["created"]
    for _ in range(2):  # later passes add nothing, not even timeline noise
        assert "overdue: 0 overdue" in _sweep(runner)
    assert incidents(seeded, card)[0]["events"] == ["created"]

    # the phone is heard from again: the open incident's timeline says so
    send(seeded, card, fix(*PATONG, minutes_ago(1)))
    assert incidents(seeded, card)[0]["events"] == ["created", "returned"]
    assert "overdue: 0 overdue" in _sweep(runner)
    # and a new silence is reported again, on the same open incident
    _silent_for(seeded, card, 61)
    assert "overdue: 1 overdue" in _sweep(runner)
    (incident,) = incidents(seeded, card)
    assert incident["events"] == ["created", "returned", "updated"]


def test_at_sea_the_threshold_is_shorter(seeded, factories, runner):
    at_sea, on_land = factories.card(), factories.card()
    send(seeded, at_sea, fix(*OFF_PATONG, minutes_ago(50)))
    send(seeded, on_land, fix(*PATONG, minutes_ago(50)))
    _silent_for(seeded, at_sea, 50)  # OVERDUE_AT_SEA_AFTER_S is 2700
    _silent_for(seeded, on_land, 50)
    assert "overdue: 1 overdue" in _sweep(runner)
    (incident,) = incidents(seeded, at_sea)
    assert incident["kind"] == "overdue" and incident["severity"] == "high"
    assert incidents(seeded, on_land) == []


def test_untracked_cards_never_become_overdue(seeded, factories, runner):
    from backend.cards.models import Card

    closed, expired = factories.card(), factories.card()
    for card in (closed, expired):
        send(seeded, card, fix(*PATONG, minutes_ago(200)))
        _silent_for(seeded, card, 200)
    _set(seeded, Card, closed, status="closed", closed_at=utcnow(), tracking_ended_at=utcnow())
    _set(seeded, Card, expired, expires_at=utcnow() - timedelta(minutes=5))
    assert "overdue: 0 overdue" in _sweep(runner)
    assert incidents(seeded, closed) == [] and incidents(seeded, expired) == []


def test_a_resolved_overdue_is_not_raised_again_for_the_same_silence(seeded, factories, runner):
    from backend.dispatch.models import Incident, IncidentStatus
    from backend.extensions import db

    card = factories.card()
    send(seeded, card, fix(*PATONG, minutes_ago(90)))
    _silent_for(seeded, card, 90)
    _sweep(runner)
    (incident,) = incidents(seeded, card)
    _set(seeded, Incident, incident["id"], status=IncidentStatus.RESOLVED.value)
    assert "overdue: 0 overdue" in _sweep(runner)
    with seeded.app_context():
        assert len(db.session.scalars(select(Incident).where(Incident.card_id == card)).all()) == 1


def _remaining(app) -> dict[str, set[str]]:  # noqa: ANN001
    from backend.extensions import db
    from backend.tracking.models import Ping

    with app.app_context():
        out: dict[str, set[str]] = {}
        for card_id, client_id in db.session.execute(select(Ping.card_id, Ping.client_id)):
            out.setdefault(card_id, set()).add(client_id)
        return out


def _latest_cards(app) -> set[str]:  # noqa: ANN001
    from backend.extensions import db
    from backend.tracking.models import LatestPosition

    with app.app_context():
        return set(db.session.scalars(select(LatestPosition.card_id)))


def test_retention_purges_exactly_the_due_pings(seeded, factories, runner):
    from backend.cards.models import Card

    now = utcnow()
    cards = {name: factories.card() for name in ("closed_31", "closed_29", "active", "expired_40", "revoked_40")}
    sent: dict[str, list[dict]] = {}
    for name, card in cards.items():
        sent[name] = [fix(*PATONG, now - timedelta(days=45, minutes=m)) for m in (30, 20)]
        send(seeded, card, *sent[name])
    # the revoked card left the area: that fix is attached to the incident and must be kept
    evidence = fix(8.0863, 98.9063, now - timedelta(days=45, minutes=10))
    send(seeded, cards["revoked_40"], evidence)
    assert incidents(seeded, cards["revoked_40"])[0]["kind"] == "left_area"

    ended = {"closed_31": 31, "closed_29": 29}
    for name, days in ended.items():
        at = now - timedelta(days=days)
        _set(seeded, Card, cards[name], status="closed", closed_at=at, tracking_ended_at=at)
    _set(seeded, Card, cards["revoked_40"], status="revoked", revoked_at=now - timedelta(days=40),
         tracking_ended_at=now - timedelta(days=40))
    _set(seeded, Card, cards["expired_40"], expires_at=now - timedelta(days=40))

    output = _sweep(runner)
    assert "retention: purged 6 pings and 3 latest positions" in output
    remaining = _remaining(seeded)
    assert remaining == {
        cards["closed_29"]: {f["client_id"] for f in sent["closed_29"]},
        cards["active"]: {f["client_id"] for f in sent["active"]},
        cards["revoked_40"]: {evidence["client_id"]},
    }
    assert _latest_cards(seeded) == {cards["closed_29"], cards["active"]}
    assert "retention: purged 0 pings and 0 latest positions" in _sweep(runner)


def test_retention_days_is_configurable(seeded, factories, runner):
    from backend.cards.models import Card

    seeded.config["RETENTION_DAYS"] = 5
    card = factories.card()
    send(seeded, card, fix(*PATONG, minutes_ago(60 * 24 * 8)))
    _set(seeded, Card, card, status="closed", tracking_ended_at=utcnow() - timedelta(days=6))
    assert "retention: purged 1 pings" in _sweep(runner)
    assert _remaining(seeded) == {}


def test_old_months_are_dropped_whole_on_postgres(seeded, factories, runner):
    """A month whose pings are all due goes at once (PostgreSQL partitions); the result is exact on both."""
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.tracking import partitions

    now = utcnow()
    old_month = datetime(now.year - 1, now.month, 10, 12, 0, tzinfo=UTC)  # a year ago
    kept_month = datetime(now.year - 1, now.month, 1, tzinfo=UTC) - timedelta(days=20)  # the month before
    due, keeper = factories.card(), factories.card()
    send(seeded, due, fix(*PATONG, old_month), fix(*PATONG, old_month + timedelta(minutes=30)))
    keep = fix(8.0863, 98.9063, kept_month + timedelta(minutes=30))  # leaves the area: evidence
    send(seeded, keeper, fix(*PATONG, kept_month), keep)
    for card in (due, keeper):
        _set(seeded, Card, card, status="closed", tracking_ended_at=now - timedelta(days=200))
    with seeded.app_context():
        postgres = partitions.is_partitioned()
        if postgres:
            for when in (old_month, kept_month):
                partitions.create_partition(partitions.month_partition(when.year, when.month))
            db.session.commit()
    output = _sweep(runner)
    assert "retention: purged 3 pings" in output
    assert _remaining(seeded) == {keeper: {keep["client_id"]}}
    if postgres:
        dropped = partitions.month_partition(old_month.year, old_month.month).name
        kept = partitions.month_partition(kept_month.year, kept_month.month).name
        assert f"dropped partitions {dropped}" in output
        with seeded.app_context():
            names = {p.name for p in partitions.monthly_partitions()}
        assert dropped not in names and kept in names


def _phone(app, card_id: str, *, enrolled_minutes_ago: float, revoked: bool = False) -> str:  # noqa: ANN001
    """A phone enrolled with the card ``enrolled_minutes_ago`` and not heard from since."""
    import uuid

    from backend.extensions import db
    from backend.tracking.models import Device

    enrolled = utcnow() - timedelta(minutes=enrolled_minutes_ago)
    with app.app_context():
        device = Device(id=str(uuid.uuid4()), card_id=card_id, platform="android", osmand_id=uuid.uuid4().hex,
                        created_at=enrolled, last_seen_at=enrolled, revoked_at=enrolled if revoked else None)
        db.session.add(device)
        db.session.commit()
        return device.id


def test_a_phone_that_never_sent_a_position_becomes_overdue_once(seeded, factories, runner):
    from backend.dispatch.models import Incident
    from backend.tracking.models import Device

    silent = factories.card(full_name="Mia Jensen", phone="+45 20 123456")
    phone = _phone(seeded, silent, enrolled_minutes_ago=75)  # OVERDUE_AFTER_S is 3600
    recent = factories.card()
    _phone(seeded, recent, enrolled_minutes_ago=20)
    only_revoked = factories.card()
    _phone(seeded, only_revoked, enrolled_minutes_ago=300, revoked=True)
    no_phone = factories.card()

    assert "overdue: 1 overdue (1 never located)" in _sweep(runner)
    (incident,) = incidents(seeded, silent)
    assert incident["kind"] == "overdue" and incident["severity"] == "medium"
    assert (incident["lat"], incident["lon"]) == (None, None)
    assert incident["details"][0]["never_located"] is True and incident["details"][0]["silent_s"] >= 75 * 60
    assert incidents(seeded, recent) == incidents(seeded, only_revoked) == incidents(seeded, no_phone) == []
    assert "overdue: 0 overdue" in _sweep(runner)  # once per silence, also after it is resolved
    _set(seeded, Incident, incident["id"], status="resolved")
    assert "overdue: 0 overdue" in _sweep(runner)

    # the phone is heard from (it opened the app), then falls silent again: a new silence
    _set(seeded, Incident, incident["id"], created_at=utcnow() - timedelta(minutes=200))
    _set(seeded, Device, phone, last_seen_at=utcnow() - timedelta(minutes=65))
    assert "overdue: 1 overdue (1 never located)" in _sweep(runner)
    assert [i["status"] for i in incidents(seeded, silent)] == ["resolved", "new"]


def test_the_first_position_after_an_unlocated_overdue_goes_on_its_timeline(seeded, factories, runner):
    card = factories.card()
    _phone(seeded, card, enrolled_minutes_ago=90)
    _sweep(runner)
    send(seeded, card, fix(*PATONG, minutes_ago(1)))
    (incident,) = incidents(seeded, card)
    assert incident["events"] == ["created", "returned"]
    assert incident["details"][-1]["reason"] == "first position received"
    assert "overdue: 0 overdue" in _sweep(runner)  # located now: the ordinary rule watches it
