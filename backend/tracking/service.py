"""Recording pings and keeping each card's latest position.

:func:`record_pings` is the one path every position takes (our app, OwnTracks, Traccar
Client, SOS): it stores new pings, skips ones already stored (by the phone's client id),
keeps the newest fix (by device time) as the card's latest position, and hands the move to
the geofence rules (:func:`geo.rules.evaluate`, one spatial query per batch), which raise or
update incidents through :func:`backend.dispatch.service.raise_incident`.

Idempotency: a ping is identified by (card, client id). The batch is de-duplicated in memory,
ids already stored are looked up in one query, and the insert itself is
``INSERT … ON CONFLICT DO NOTHING`` so that two concurrent deliveries of the same batch store
each ping once (on PostgreSQL the unique key also holds ``recorded_at``, the partition key;
see ``geo/data/README.md``, "Pings, partitions and retention").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from backend import signals
from backend.cards.models import Card
from backend.dispatch import service as dispatch
from backend.dispatch.models import Incident, IncidentKind
from backend.extensions import db
from backend.geometry import point
from backend.models_base import utcnow
from backend.tracking.models import Device, LatestPosition, Ping
from geo import rules


class CardNotTrackable(Exception):
    """The card is closed, revoked or expired: its positions are not stored (PDPA)."""


@dataclass(frozen=True)
class PingInput:
    """One validated fix from a phone."""

    client_id: str
    lat: float
    lon: float
    recorded_at: datetime
    accuracy_m: float | None = None
    battery_pct: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None


@dataclass(frozen=True)
class RecordResult:
    """What a batch changed (``incidents``: those the rules raised or updated)."""

    accepted: int
    duplicates: int
    latest: LatestPosition | None
    incidents: tuple[Incident, ...] = ()


@dataclass(frozen=True)
class CardPings:
    """One card's new pings in a group (at most one per card in a group)."""

    card: Card
    device_id: str | None
    pings: list[PingInput]
    source: str = "app"


def clock_skew() -> timedelta:
    """How far in the future a device time may be (phone clocks drift)."""
    return timedelta(seconds=int(current_app.config.get("MOBILE_CLOCK_SKEW_S", 600)))


def earliest_allowed(card: Card) -> datetime:
    """The oldest device time accepted for a card: a day before it was issued."""
    return card.issued_at - timedelta(days=1)


def time_error(card: Card, recorded_at: datetime, now: datetime | None = None) -> str | None:
    """Why a device time is implausible for this card, or None when it is fine."""
    now = now or utcnow()
    if recorded_at > now + clock_skew():
        return "is in the future"
    if recorded_at < earliest_allowed(card):
        return "is before the card was issued"
    return None


def record_pings(*, card: Card, device_id: str | None, pings: list[PingInput], source: str = "app") -> RecordResult:
    """Store a batch of pings for ``card``; idempotent by client id; the caller commits.

    Raises :class:`CardNotTrackable` (and stores nothing) for a closed, revoked or expired card.
    """
    if not card.is_trackable():
        raise CardNotTrackable(f"card {card.id} is {card.effective_status()}")
    return record_groups([CardPings(card, device_id, pings, source)])[0]


def record_groups(groups: list[CardPings], *, cards_locked: bool = False) -> list[RecordResult]:
    """Store the pings of several cards together (a group commit): one result per card, in order.

    The same work as :func:`record_pings` for each card, but with a fixed number of statements
    for the whole group — one lock query, one duplicate lookup, one insert, one geofence query —
    instead of that many per card. Every card must be trackable and appear once; the caller commits.
    ``cards_locked``: the caller already locked the card rows, in card id order (the ping writer).
    """
    cards = [g.card.id for g in groups]
    if len(set(cards)) != len(cards):
        raise ValueError("a group holds each card once")
    latest_by_card = _lock_latest_many(cards, cards_locked=cards_locked)
    now = utcnow()
    candidates: list[list[PingInput]] = []
    for group in groups:
        unique: dict[str, PingInput] = {}
        for ping in group.pings:
            unique.setdefault(ping.client_id, ping)
        candidates.append(list(unique.values()))
    known = _known_client_ids(cards, [p.client_id for c in candidates for p in c])
    candidates = [[p for p in c if (g.card.id, p.client_id) not in known] for g, c in zip(groups, candidates, strict=True)]
    stored = _insert_many([(g, c) for g, c in zip(groups, candidates, strict=True)], now)
    new = [[p for p in c if (g.card.id, p.client_id) in stored] for g, c in zip(groups, candidates, strict=True)]

    moves: list[tuple[int, rules.Move]] = []
    newer_by_group: list[list[PingInput]] = []
    for index, (group, fresh) in enumerate(zip(groups, new, strict=True)):
        latest = latest_by_card.get(group.card.id)
        newer = sorted((p for p in fresh if latest is None or p.recorded_at > latest.recorded_at),
                       key=lambda p: p.recorded_at)
        newer_by_group.append(newer)
        if newer:
            moves.append((index, rules.Move(_previous_state(latest),
                                            [rules.Fix(p.lat, p.lon, p.recorded_at, p.client_id) for p in newer])))
    evaluations = dict(zip([i for i, _ in moves], rules.evaluate_moves([m for _, m in moves]) if moves else [],
                           strict=True))

    results = []
    written: dict[str, LatestPosition] = {}  # card id -> row; PostgreSQL: stored together at the end
    for index, group in enumerate(groups):
        card_id = group.card.id
        latest = latest_by_card.get(card_id)
        if not group.pings:
            results.append(RecordResult(0, 0, latest))
            continue
        previous_contact = latest.last_contact_at if latest is not None else None
        latest = _advance_latest(card_id, latest, newer_by_group[index], evaluations.get(index), now, written)
        incidents: list[Incident] = []
        if index in evaluations:
            incidents.extend(_apply_rules(card_id, evaluations[index]))
        if previous_contact is not None:
            _close_overdue_loop(card_id, previous_contact, latest, now)
        elif latest is not None:  # the first position ever: ends an overdue raised while it never came
            _returned(card_id, IncidentKind.OVERDUE, {"reason": "first position received", **_latest_detail(latest)})
        results.append(RecordResult(accepted=len(new[index]), duplicates=len(group.pings) - len(new[index]),
                                    latest=latest, incidents=tuple(dict.fromkeys(incidents))))
    _write_latest(written)
    newest = {group.card.id: (newer[-1].lat, newer[-1].lon, newer[-1].recorded_at)
              for group, newer in zip(groups, newer_by_group, strict=True) if newer}
    if newest:  # one signal per group (the marine domain: passengers' fixes feed their boat trip)
        signals.positions_recorded.send(None, newest=newest)
    return results


def _lock_latest_many(card_ids: list[str], *, cards_locked: bool = False) -> dict[str, LatestPosition]:
    """The cards' latest positions, locked on PostgreSQL so concurrent writers of a card queue.

    The card rows are locked first, like the SOS path and the overdue job do, so that every
    writer takes the locks in the same order (card, position, incident log), and in card id
    order within a group: no deadlocks. SQLite has one writer at a time and needs none of this.
    """
    postgres = db.engine.dialect.name == "postgresql"
    ordered = sorted(card_ids)
    if postgres and not cards_locked:
        db.session.execute(select(Card.id).where(Card.id.in_(ordered)).order_by(Card.id).with_for_update())
    query = select(LatestPosition).where(LatestPosition.card_id.in_(ordered)).order_by(LatestPosition.card_id)
    if postgres:
        query = query.with_for_update()
    rows = db.session.scalars(query.execution_options(populate_existing=True))
    return {row.card_id: row for row in rows}


def _lock_latest(card_id: str) -> LatestPosition | None:
    """One card's latest position, locked as in :func:`_lock_latest_many`."""
    return _lock_latest_many([card_id]).get(card_id)


def _known_client_ids(card_ids: list[str], client_ids: list[str]) -> set[tuple[str, str]]:
    """(card, client id) pairs already stored, among those of the group."""
    if not client_ids:
        return set()
    rows = db.session.execute(select(Ping.card_id, Ping.client_id)
                              .where(Ping.card_id.in_(card_ids), Ping.client_id.in_(client_ids)))
    return {(card_id, client_id) for card_id, client_id in rows}


_PING_COLUMNS = ("card_id", "device_id", "client_id", "lat", "lon", "recorded_at", "received_at", "accuracy_m",
                 "battery_pct", "speed_mps", "heading_deg", "altitude_m", "source")
# PostgreSQL: one constant statement for any group size (prepared once per connection, no ORM, no
# per-row geometry objects: the point is made by PostGIS from lat/lon); each column is one array.
_PG_INSERT_PINGS = text(
    "INSERT INTO pings (card_id, device_id, client_id, lat, lon, geom, recorded_at, received_at, accuracy_m,"
    " battery_pct, speed_mps, heading_deg, altitude_m, source)"
    " SELECT r.card_id, r.device_id, r.client_id, r.lat, r.lon, ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326),"
    " r.recorded_at, r.received_at, r.accuracy_m, r.battery_pct, r.speed_mps, r.heading_deg, r.altitude_m, r.source"
    " FROM unnest(CAST(:card_id AS varchar[]), CAST(:device_id AS varchar[]), CAST(:client_id AS varchar[]),"
    " CAST(:lat AS float8[]), CAST(:lon AS float8[]), CAST(:recorded_at AS timestamptz[]),"
    " CAST(:received_at AS timestamptz[]), CAST(:accuracy_m AS float8[]), CAST(:battery_pct AS float8[]),"
    " CAST(:speed_mps AS float8[]), CAST(:heading_deg AS float8[]), CAST(:altitude_m AS float8[]),"
    " CAST(:source AS varchar[]))"
    " AS r(card_id, device_id, client_id, lat, lon, recorded_at, received_at, accuracy_m, battery_pct, speed_mps,"
    " heading_deg, altitude_m, source)"
    " ON CONFLICT DO NOTHING RETURNING card_id, client_id")


def _insert_many(groups: list[tuple[CardPings, list[PingInput]]], now: datetime) -> set[tuple[str, str]]:
    """Insert the pings, skipping any that a concurrent request stored first; their (card, client id)."""
    rows = [(group.card.id, group.device_id, p.client_id, p.lat, p.lon, p.recorded_at, now, p.accuracy_m,
             p.battery_pct, p.speed_mps, p.heading_deg, p.altitude_m, group.source)
            for group, pings in groups for p in pings]
    if not rows:
        return set()
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        arrays = {name: list(column) for name, column in zip(_PING_COLUMNS, zip(*rows, strict=True), strict=True)}
        return {(card_id, client_id) for card_id, client_id in connection.execute(_PG_INSERT_PINGS, arrays)}
    # SpatiaLite: one compiled statement, executed as "insertmanyvalues" batches (RETURNING only what was new)
    values = [{**dict(zip(_PING_COLUMNS, row, strict=True)), "geom": point(row[3], row[4])} for row in rows]
    statement = sqlite.insert(Ping).on_conflict_do_nothing().returning(Ping.card_id, Ping.client_id)
    return {(card_id, client_id) for card_id, client_id in connection.execute(statement, values)}


def _previous_state(latest: LatestPosition | None) -> rules.PreviousState | None:
    if latest is None:
        return None
    return rules.PreviousState(fix=rules.Fix(latest.lat, latest.lon, latest.recorded_at),
                               in_service_area=latest.in_service_area, at_sea=latest.at_sea,
                               danger_zone_id=latest.danger_zone_id)


def _advance_latest(card_id: str, latest: LatestPosition | None, newer: list[PingInput],
                    evaluation: rules.Evaluation | None, now: datetime, written: dict[str, LatestPosition]) -> LatestPosition | None:
    """Move the latest position to the newest fix (by device time), as the rules evaluated it."""
    if latest is not None:
        _assign(latest, written, last_contact_at=now)
    if not newer or evaluation is None:
        return latest
    newest = newer[-1]
    if latest is None:
        latest = _create_latest(card_id)
    _assign(latest, written, lat=newest.lat, lon=newest.lon, recorded_at=newest.recorded_at, received_at=now,
            last_contact_at=now, accuracy_m=newest.accuracy_m, battery_pct=newest.battery_pct,
            in_service_area=evaluation.in_service_area, at_sea=evaluation.at_sea,
            danger_zone_id=evaluation.danger_zone_id)
    return latest


def _assign(latest: LatestPosition, written: dict[str, LatestPosition], **values: Any) -> None:
    """Set a latest position's columns: through the ORM on SQLite, with one statement per group on PostgreSQL.

    On PostgreSQL the row object takes the values as already stored (no flush per row) and joins
    ``written`` (once per card), which :func:`_write_latest` stores in one ``UPDATE … FROM unnest(…)``.
    """
    if db.engine.dialect.name != "postgresql":
        for name, value in values.items():
            setattr(latest, name, value)
        if "lat" in values:
            latest.geom = point(values["lat"], values["lon"])
        return
    for name, value in values.items():
        set_committed_value(latest, name, value)
    if "lat" in values:
        db.session.expire(latest, ["geom"])  # PostGIS makes it from lat/lon; read again if anyone asks
    written[latest.card_id] = latest


_PG_UPDATE_LATEST = text(
    "UPDATE latest_positions AS l SET lat = u.lat, lon = u.lon, geom = ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326),"
    " recorded_at = u.recorded_at, received_at = u.received_at, last_contact_at = u.last_contact_at,"
    " accuracy_m = u.accuracy_m, battery_pct = u.battery_pct, in_service_area = u.in_service_area,"
    " at_sea = u.at_sea, danger_zone_id = u.danger_zone_id"
    " FROM unnest(CAST(:card_id AS varchar[]), CAST(:lat AS float8[]), CAST(:lon AS float8[]),"
    " CAST(:recorded_at AS timestamptz[]), CAST(:received_at AS timestamptz[]), CAST(:last_contact_at AS timestamptz[]),"
    " CAST(:accuracy_m AS float8[]), CAST(:battery_pct AS float8[]), CAST(:in_service_area AS boolean[]),"
    " CAST(:at_sea AS boolean[]), CAST(:danger_zone_id AS integer[]))"
    " AS u(card_id, lat, lon, recorded_at, received_at, last_contact_at, accuracy_m, battery_pct, in_service_area,"
    " at_sea, danger_zone_id)"
    " WHERE l.card_id = u.card_id")
_LATEST_COLUMNS = ("card_id", "lat", "lon", "recorded_at", "received_at", "last_contact_at", "accuracy_m",
                   "battery_pct", "in_service_area", "at_sea", "danger_zone_id")


def _write_latest(written: dict[str, LatestPosition]) -> None:
    """Store the group's latest positions in one statement (PostgreSQL; SQLite's ORM flush did it)."""
    if written:
        db.session.execute(_PG_UPDATE_LATEST, {name: [getattr(row, name) for row in written.values()]
                                               for name in _LATEST_COLUMNS})


def _create_latest(card_id: str) -> LatestPosition:
    """A new latest-position row (a concurrent first batch of the same card may have made it)."""
    row = LatestPosition(card_id=card_id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            row.lat, row.lon, row.geom = 0.0, 0.0, point(0.0, 0.0)
            row.recorded_at = row.received_at = row.last_contact_at = utcnow()
            db.session.flush()
    except IntegrityError:
        row = _lock_latest(card_id)
        if row is None:
            raise
    return row


def _fix_detail(fix: rules.Fix) -> dict[str, Any]:
    return {"lat": fix.lat, "lon": fix.lon, "recorded_at": fix.recorded_at.isoformat()}


def _apply_rules(card_id: str, evaluation: rules.Evaluation) -> list[Incident]:
    """Raise, update or close the loop on incidents for the move's events, in time order."""
    touched: list[Incident] = []
    for event in evaluation.events:
        fix = event.fix
        if event.type == "left_area":
            incident, _ = dispatch.raise_incident(
                card_id=card_id, kind=IncidentKind.LEFT_AREA, severity=event.severity, lat=fix.lat, lon=fix.lon,
                detail={"rule": "left_service_area", **_fix_detail(fix)})
            _attach(card_id, incident, [fix])
            touched.append(incident)
        elif event.type in ("entered_danger", "crossed_danger"):
            assert event.zone is not None
            crossed = event.type == "crossed_danger"
            incident, _ = dispatch.raise_incident(
                card_id=card_id, kind=IncidentKind.DANGER_ZONE, severity=event.severity, lat=fix.lat, lon=fix.lon,
                zone_id=event.zone.id,
                detail={"rule": "crossed_danger_zone" if crossed else "entered_danger_zone",
                        "zone_id": event.zone.id, "zone": event.zone.name, **_fix_detail(fix)})
            _attach(card_id, incident, [fix, event.previous] if crossed and event.previous else [fix])
            touched.append(incident)
        elif event.type == "returned_area":
            incident = _returned(card_id, IncidentKind.LEFT_AREA, {"reason": "back inside the service area",
                                                                  **_fix_detail(fix)})
            touched.extend([incident] if incident else [])
        elif event.type == "left_danger":
            incident = _returned(card_id, IncidentKind.DANGER_ZONE,
                                 {"reason": "out of the danger zone",
                                  "zone_id": event.zone.id if event.zone else None, **_fix_detail(fix)})
            touched.extend([incident] if incident else [])
    return touched


def _returned(card_id: str, kind: IncidentKind, detail: dict[str, Any]) -> Incident | None:
    """Record on the open incident's timeline that the tourist is back (it stays open for the 191 center)."""
    incident = dispatch.open_incident(card_id=card_id, kind=kind)
    if incident is None:
        return None
    incident.updated_at = utcnow()
    dispatch.record_event(incident, "returned", actor="system", detail=detail)
    return incident


def _attach(card_id: str, incident: Incident, fixes: list[rules.Fix | None]) -> None:
    """Keep the pings that raised an incident past the retention period (evidence)."""
    client_ids = [f.client_id for f in fixes if f is not None and f.client_id]
    if client_ids:
        db.session.execute(update(Ping).where(Ping.card_id == card_id, Ping.client_id.in_(client_ids),
                                              Ping.incident_id.is_(None)).values(incident_id=incident.id))


def forget_zone(zone: Any, **_: Any) -> None:
    """A zone is being deleted (``signals.zone_deleting``): no latest position stays in it as a danger zone."""
    db.session.execute(update(LatestPosition).where(LatestPosition.danger_zone_id == zone.id)
                       .values(danger_zone_id=None))


def revoke_card_devices(card: Card, *, at: datetime, **_: Any) -> None:
    """The card stopped being tracked (``signals.card_tracking_ended``): revoke its devices still in use."""
    db.session.execute(update(Device).where(Device.card_id == card.id, Device.revoked_at.is_(None))
                       .values(revoked_at=at))


def overdue_threshold(*, at_sea: bool) -> timedelta:
    """How long without contact before a card is overdue (shorter when last seen at sea)."""
    config = current_app.config
    seconds = config["OVERDUE_AT_SEA_AFTER_S"] if at_sea else config["OVERDUE_AFTER_S"]
    return timedelta(seconds=int(seconds))


def _latest_detail(latest: LatestPosition) -> dict[str, Any]:
    return {"lat": latest.lat, "lon": latest.lon, "recorded_at": latest.recorded_at.isoformat()}


def _close_overdue_loop(card_id: str, previous_contact: datetime, latest: LatestPosition | None,
                        now: datetime) -> None:
    """Contact again after a silence long enough to be overdue: note it on the open overdue incident."""
    shortest = min(overdue_threshold(at_sea=True), overdue_threshold(at_sea=False))
    if now - previous_contact < shortest:
        return
    detail: dict[str, Any] = {"reason": "contact again", "silent_s": int((now - previous_contact).total_seconds())}
    if latest is not None:
        detail.update(_latest_detail(latest))
    _returned(card_id, IncidentKind.OVERDUE, detail)
