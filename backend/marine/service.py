"""Boat trips and their manifests: registration, boarding and ashore scans, departure, return.

A ``marine_operator`` works only on its own operator's trips (the views check it); a manifest is
personal data, so every staff read of one is audited (:func:`read_manifest`). Incidents about a
trip carry it (``Incident.trip_id``): ``passenger_unaccounted`` is a passenger card's, raised through
:func:`backend.dispatch.service.raise_incident` like any other; ``boat_overdue`` is the trip's own
(no card: whoever is aboard). Both reach the console, the event log and the timeline; what the
console shows of the trip (:func:`trip_brief`, :func:`incident_manifest`) and how its search finds
a boat (:func:`trips_named`, :func:`trips_carrying`) are read by dispatch as its ``trips`` source
(:mod:`backend.dispatch.sources`, provided in :mod:`backend.wiring`).

Every function leaves committing to its caller; trip changes are announced to the dispatchers
after the commit (:func:`backend.marine.events.trip_changed`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from backend.audit import service as audit
from backend.auth.models import User
from backend.card_ids import canonical
from backend.cards.models import Card, Tourist
from backend.cards.presented import PassportThrottle, card_by_passport, card_by_token
from backend.database import lower
from backend.dispatch import service as dispatch
from backend.dispatch.models import OPEN_STATUSES, Incident, IncidentKind, IncidentStatus, Severity
from backend.extensions import db
from backend.marine import events
from backend.marine.models import Operator, Passenger, Pier, Trip, TripStatus
from backend.models_base import utcnow

# Wrong card id + passport pairs, as at hotel check-in but counted apart: lock a (card, staff member)
# pair or a staff member guessing many cards; only slow a card (another crew with the right pair
# still boards it). A refused card raises backend.cards.presented.CardRefused (422), too many
# wrong pairs its CardThrottled (429).
BOARD_LIMITS = PassportThrottle(scope="marine_board", max_failures_key="MARINE_BOARD_MAX_FAILURES",
                                message="too many wrong card and passport pairs; try again in {retry_after} s")


class TripConflict(Exception):
    """The trip's status does not allow this (board after departure, return before it …): 409."""


class CapacityReached(Exception):
    """The boat is full: 409."""


@dataclass(frozen=True)
class Boarding:
    """A boarding scan: the manifest entry and whether it is new."""

    passenger: Passenger
    created: bool


# --- operators --------------------------------------------------------------------------------

def create_operator(*, name: str, licence: str | None = None) -> Operator:
    """Register a boat-tour operator; the caller commits."""
    if not name.strip():
        raise ValueError("the operator needs a name")
    operator = Operator(name=name.strip(), licence=(licence or "").strip() or None)
    db.session.add(operator)
    db.session.flush()
    audit.record("operator.create", subject_type="operator", subject_id=operator.id,
                 detail={"name": operator.name, "licence": operator.licence})
    return operator


def get_operator(operator_id: int) -> Operator | None:
    """The operator with this id, if any."""
    return db.session.get(Operator, operator_id)


def list_operators() -> list[Operator]:
    """Every operator, by name."""
    return list(db.session.scalars(select(Operator).order_by(Operator.name, Operator.id)))


# --- trips ------------------------------------------------------------------------------------

def pier_code(pier: str) -> str:
    """``AO_CHALONG``, ``RASSADA`` or ``AO_PO`` for those piers however typed; other piers as given."""
    text = " ".join(pier.split())
    code = text.upper().replace(" ", "_").replace("-", "_")
    return code if code in Pier.__members__ else text


def create_trip(*, operator: Operator, vessel_name: str, vessel_registration: str, pier: str, destination: str,
                departs_at: datetime, returns_by: datetime, crew_phone: str | None = None,
                capacity: int | None = None, by: User | None = None) -> Trip:
    """Register a trip (status ``planned``); ``returns_by`` must follow ``departs_at``. The caller commits."""
    if returns_by <= departs_at:
        raise ValueError("returns_by must be after departs_at")
    trip = Trip(operator_id=operator.id, vessel_name=vessel_name, vessel_registration=vessel_registration,
                pier=pier_code(pier), destination=destination, departs_at=departs_at, returns_by=returns_by,
                crew_phone=crew_phone, capacity=capacity, status=TripStatus.PLANNED,
                created_by=by.id if by else None, created_at=utcnow(), updated_at=utcnow())
    db.session.add(trip)
    db.session.flush()
    audit.record("trip.create", subject_type="trip", subject_id=trip.id,
                 detail={"operator_id": operator.id, "vessel": vessel_name, "pier": trip.pier})
    events.trip_changed(trip)
    return trip


def get_trip(trip_id: int) -> Trip | None:
    """The trip with this id, if any."""
    return db.session.get(Trip, trip_id)


def list_trips(*, operator_id: int | None = None, statuses: tuple[str, ...] | None = None,
               limit: int = 500) -> list[Trip]:
    """Trips (of one operator, or all), of ``statuses``; at sea first, then the newest departures."""
    order = case({TripStatus.AT_SEA: 0, TripStatus.PLANNED: 1}, value=Trip.status, else_=2)
    query = select(Trip).order_by(order, Trip.departs_at.desc(), Trip.id.desc()).limit(limit)
    if operator_id is not None:
        query = query.where(Trip.operator_id == operator_id)
    if statuses:
        query = query.where(Trip.status.in_(statuses))
    return list(db.session.scalars(query))


def head_counts(trip_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(aboard, ashore) for each trip, in one query: aboard = scanned aboard and not yet ashore."""
    if not trip_ids:
        return {}
    rows = db.session.execute(
        select(Passenger.trip_id,
               func.sum(case((Passenger.ashore_at.is_(None), 1), else_=0)),
               func.sum(case((Passenger.ashore_at.is_not(None), 1), else_=0)))
        .where(Passenger.trip_id.in_(trip_ids)).group_by(Passenger.trip_id))
    counts = {trip_id: (int(aboard or 0), int(ashore or 0)) for trip_id, aboard, ashore in rows}
    return {trip_id: counts.get(trip_id, (0, 0)) for trip_id in trip_ids}


def _position(lat: float | None, lon: float | None, recorded_at: datetime | None) -> dict[str, Any] | None:
    if lat is None or lon is None or recorded_at is None:
        return None
    return {"lat": lat, "lon": lon, "recorded_at": recorded_at}


def trip_view(trip: Trip, counts: tuple[int, int] | None = None) -> dict[str, Any]:
    """The contract's trip representation (without the manifest)."""
    aboard, ashore = counts if counts is not None else head_counts([trip.id])[trip.id]
    return {
        "id": trip.id, "status": trip.status,
        "operator": {"id": trip.operator.id, "name": trip.operator.name},
        "vessel_name": trip.vessel_name, "vessel_registration": trip.vessel_registration, "pier": trip.pier,
        "destination": trip.destination, "departs_at": trip.departs_at, "returns_by": trip.returns_by,
        "crew_phone": trip.crew_phone, "capacity": trip.capacity, "departed_at": trip.departed_at,
        "returned_at": trip.returned_at, "passengers_aboard": aboard, "passengers_ashore": ashore,
        "last_position": _position(trip.last_lat, trip.last_lon, trip.last_recorded_at),
        "overdue": trip.overdue_raised_at is not None,
    }


def trip_views(trips: list[Trip]) -> list[dict[str, Any]]:
    """Representations of several trips (two queries whatever their number)."""
    counts = head_counts([t.id for t in trips])
    return [trip_view(t, counts[t.id]) for t in trips]


def trip_brief(trip_id: int) -> dict[str, Any] | None:
    """What an incident shows of its trip: ``{id, vessel_name, pier, destination, returns_by, passengers_aboard}``."""
    trip = db.session.get(Trip, trip_id)
    if trip is None:
        return None
    aboard, _ = head_counts([trip.id])[trip.id]
    return {"id": trip.id, "vessel_name": trip.vessel_name, "pier": trip.pier, "destination": trip.destination,
            "returns_by": trip.returns_by, "passengers_aboard": aboard, "status": trip.status}


def passengers(trip: Trip) -> list[Passenger]:
    """The trip's manifest, in boarding order."""
    return list(db.session.scalars(select(Passenger).where(Passenger.trip_id == trip.id)
                                   .order_by(Passenger.boarded_at, Passenger.id)))


def passenger_view(passenger: Passenger) -> dict[str, Any]:
    """A manifest entry: who, when aboard and ashore, their last fix at sea."""
    tourist = passenger.card.tourist
    return {"card_id": passenger.card_id, "full_name": tourist.full_name, "nationality": tourist.nationality,
            "phone": tourist.phone, "boarded_at": passenger.boarded_at, "ashore_at": passenger.ashore_at,
            "last_position": _position(passenger.last_lat, passenger.last_lon, passenger.last_recorded_at)}


def read_manifest(trip: Trip, *, purpose: str = "trip") -> list[dict[str, Any]]:
    """The trip's manifest for a staff member, audited (personal data)."""
    items = [passenger_view(p) for p in passengers(trip)]
    audit.record("trip.manifest_read", subject_type="trip", subject_id=trip.id,
                 detail={"purpose": purpose, "count": len(items), "card_ids": [i["card_id"] for i in items]})
    return items


# --- boarding and ashore ----------------------------------------------------------------------

def _lock_trip(trip: Trip) -> Trip:
    """Hold the trip against concurrent changes until commit (head counts, status)."""
    if db.session.get_bind().dialect.name == "sqlite":  # take the write lock before reading
        db.session.execute(update(Trip).where(Trip.id == trip.id).values(status=Trip.status))
    locked = db.session.scalars(select(Trip).where(Trip.id == trip.id).with_for_update(of=Trip)
                                .execution_options(populate_existing=True)).one()
    return locked


def _lock_aboard_cards(trip: Trip) -> None:
    """Lock the cards of the passengers not yet ashore, before the trip (PostgreSQL).

    The ping writer locks a group's cards and then updates their trips; a return locks the trip
    and then raises ``passenger_unaccounted`` incidents, whose card references take a share lock
    on those cards. Taking the cards first (in card id order, as the writer does) keeps one lock
    order, so a ping that arrives as its boat returns waits instead of deadlocking.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite has a single writer
    aboard = select(Passenger.card_id).where(Passenger.trip_id == trip.id, Passenger.ashore_at.is_(None))
    db.session.execute(select(Card.id).where(Card.id.in_(aboard)).order_by(Card.id).with_for_update(of=Card))


def check_card(*, card_token: str | None = None, card_id: str | None = None, passport_number: str | None = None,
               by: User | None = None) -> Card:
    """The card of a boarding scan, verified completely, or ``CardRefused`` with the reason.

    A token is verified like a hotel check-in (signature, key, type, issuer, expiry, revocation,
    closure). A card id with a passport number must belong together (an unknown card id gets the
    same answer, so card ids cannot be probed); wrong pairs are counted like a wrong password,
    keyed by the card and the staff member, as hotel check-in does but under the scope
    ``marine_board`` (:data:`BOARD_LIMITS`; ``CardThrottled``). Both paths are
    :mod:`backend.cards.presented`'s. The caller commits, also after a refusal (the count).
    """
    if card_token is not None:
        return card_by_token(card_token)
    assert card_id is not None and passport_number is not None
    return card_by_passport(card_id, passport_number, by=by, limits=BOARD_LIMITS)


def board(*, trip: Trip, card: Card, by: User | None = None) -> Boarding:
    """Put a verified card on the trip's manifest (the same card again: its entry); the caller commits.

    Raises :class:`TripConflict` once the trip has left or while the card is aboard another trip at
    sea (not scanned ashore there), :class:`CapacityReached` when the boat is full.
    """
    trip = _lock_trip(trip)
    if trip.status != TripStatus.PLANNED:
        raise TripConflict(f"the trip is {trip.status}: passengers board before it departs")
    existing = db.session.scalar(select(Passenger).where(Passenger.trip_id == trip.id, Passenger.card_id == card.id))
    if existing is not None and existing.ashore_at is None:
        return Boarding(existing, created=False)
    elsewhere = db.session.scalar(
        select(Trip.vessel_name).join(Passenger, Passenger.trip_id == Trip.id)
        .where(Passenger.card_id == card.id, Passenger.ashore_at.is_(None), Trip.status == TripStatus.AT_SEA,
               Trip.id != trip.id).limit(1))
    if elsewhere is not None:  # one boat at a time: that crew scans the passenger ashore first
        raise TripConflict(f"this card is aboard {elsewhere}, at sea; it must be scanned ashore there first")
    aboard, _ = head_counts([trip.id])[trip.id]
    if trip.capacity is not None and aboard >= trip.capacity:
        raise CapacityReached(f"the boat is full: {aboard} of {trip.capacity} aboard")
    now = utcnow()
    if existing is not None:  # went ashore before departure and boards again
        existing.ashore_at, existing.ashore_by = None, None
        existing.boarded_at, existing.boarded_by = now, by.id if by else None
        passenger, created = existing, False
    else:
        passenger = Passenger(trip_id=trip.id, card_id=card.id, boarded_at=now, boarded_by=by.id if by else None)
        try:
            with db.session.begin_nested():
                db.session.add(passenger)
                db.session.flush()
        except IntegrityError:  # the same card scanned twice at once: one passenger
            passenger = db.session.scalars(select(Passenger).where(Passenger.trip_id == trip.id,
                                                                   Passenger.card_id == card.id)).one()
            return Boarding(passenger, created=False)
        created = True
    trip.updated_at = now
    audit.record("trip.board", subject_type="trip", subject_id=trip.id, card_id=card.id,
                 detail={"vessel": trip.vessel_name})
    events.trip_changed(trip)
    return Boarding(passenger, created=created)


def scan_ashore(*, trip: Trip, card_id: str, by: User | None = None) -> Passenger | None:
    """Mark a passenger ashore (None: not on the manifest); repeating it changes nothing. The caller commits.

    A passenger scanned ashore after the trip returned ends the search: their open
    ``passenger_unaccounted`` incident of this trip records it on its timeline.
    """
    if trip.status == TripStatus.RETURNED:
        dispatch.serialize_event_log()  # an incident event may follow: the event log's lock before the trip's
    trip = _lock_trip(trip)
    passenger = db.session.scalar(select(Passenger).where(Passenger.trip_id == trip.id,
                                                          Passenger.card_id == canonical(card_id)))
    if passenger is None or passenger.ashore_at is not None:
        return passenger
    now = utcnow()
    passenger.ashore_at, passenger.ashore_by = now, by.id if by else None
    trip.updated_at = now
    audit.record("trip.ashore", subject_type="trip", subject_id=trip.id, card_id=passenger.card_id,
                 detail={"vessel": trip.vessel_name, "trip_status": trip.status})
    if trip.status == TripStatus.RETURNED:
        incident = _open_trip_incident(trip, IncidentKind.PASSENGER_UNACCOUNTED, card_id=passenger.card_id)
        if incident is not None:
            incident.updated_at = now
            dispatch.record_event(incident, "returned", actor=by.username if by else "system",
                                  detail={"reason": "scanned ashore", "trip_id": trip.id})
    events.trip_changed(trip)
    return passenger


def _open_trip_incident(trip: Trip, kind: IncidentKind, *, card_id: str | None = None) -> Incident | None:
    query = select(Incident).where(Incident.trip_id == trip.id, Incident.kind == kind,
                                   Incident.status.in_(OPEN_STATUSES))
    if card_id is not None:
        query = query.where(Incident.card_id == card_id)
    return db.session.scalars(query.order_by(Incident.id)).first()


# --- departure and return ---------------------------------------------------------------------

def depart(*, trip: Trip, by: User | None = None, override_reason: str | None = None,
           may_override: bool = False, now: datetime | None = None) -> Trip:
    """Send the trip to sea; the caller commits.

    Refused with :class:`backend.marine.conditions.DepartureHeld` while a marine warning covers
    the pier (within ``MARINE_WARNING_RADIUS_KM`` of a warning station), unless ``may_override``
    (an admin) gives an ``override_reason``, which is audited. Departing again changes nothing;
    a returned trip cannot depart (:class:`TripConflict`).
    """
    from backend.marine import conditions

    trip = _lock_trip(trip)
    if trip.status == TripStatus.AT_SEA:
        return trip
    if trip.status != TripStatus.PLANNED:
        raise TripConflict(f"the trip is {trip.status}")
    now = now or utcnow()
    hold = conditions.departure_hold(trip.pier, now=now)
    if hold is not None:
        if not override_reason:
            audit.record("trip.depart_held", subject_type="trip", subject_id=trip.id,
                         detail={"warning_id": hold.warning_id, "station": hold.station_name, "warning": hold.reason})
            raise conditions.DepartureHeld(hold)
        if not may_override:
            raise conditions.OverrideForbidden("only an admin may override a marine warning")
        audit.record("trip.depart_override", subject_type="trip", subject_id=trip.id,
                     detail={"reason": override_reason, "warning_id": hold.warning_id,
                             "station": hold.station_name, "warning": hold.reason})
    trip.status = TripStatus.AT_SEA
    trip.departed_at = now
    _note_trip_at_sea()
    trip.updated_at = now
    audit.record("trip.depart", subject_type="trip", subject_id=trip.id,
                 detail={"vessel": trip.vessel_name, "pier": trip.pier})
    events.trip_changed(trip)
    return trip


def return_trip(*, trip: Trip, by: User | None = None, now: datetime | None = None) -> tuple[Trip, list[Incident]]:
    """The boat is back: status ``returned``; every passenger not scanned ashore raises a critical
    ``passenger_unaccounted`` incident at once. Returning again changes nothing. The caller commits."""
    dispatch.serialize_event_log()  # the lock order of every incident writer: event log, then rows
    _lock_aboard_cards(trip)
    trip = _lock_trip(trip)
    if trip.status == TripStatus.RETURNED:
        return trip, []
    if trip.status != TripStatus.AT_SEA:
        raise TripConflict(f"the trip is {trip.status}: it has not departed")
    now = now or utcnow()
    trip.status = TripStatus.RETURNED
    trip.returned_at = now
    trip.updated_at = now
    actor = by.username if by else "system"
    raised: list[Incident] = []
    missing = [p for p in passengers(trip) if p.ashore_at is None]
    for passenger in missing:
        lat = passenger.last_lat if passenger.last_lat is not None else trip.last_lat
        lon = passenger.last_lon if passenger.last_lon is not None else trip.last_lon
        incident, _ = dispatch.raise_incident(
            card_id=passenger.card_id, kind=IncidentKind.PASSENGER_UNACCOUNTED, severity=Severity.CRITICAL,
            lat=lat, lon=lon, trip_id=trip.id, at=now,
            note=f"Not scanned ashore when {trip.vessel_name} returned to {trip.pier}",
            detail={"rule": "not_scanned_ashore", "trip_id": trip.id, "vessel": trip.vessel_name,
                    "pier": trip.pier, "returned_at": now.isoformat()})
        raised.append(incident)
    overdue = _open_trip_incident(trip, IncidentKind.BOAT_OVERDUE)
    if overdue is not None:
        overdue.updated_at = now
        dispatch.record_event(overdue, "returned", actor=actor,
                              detail={"reason": "the boat returned", "trip_id": trip.id,
                                      "unaccounted": len(missing)})
    audit.record("trip.return", subject_type="trip", subject_id=trip.id,
                 detail={"vessel": trip.vessel_name, "unaccounted": [p.card_id for p in missing]})
    events.trip_changed(trip)
    return trip, raised


# --- the sea watches itself -------------------------------------------------------------------

def grace() -> timedelta:
    """How long after ``returns_by`` a trip still at sea is overdue (``BOAT_OVERDUE_GRACE_S``)."""
    return timedelta(seconds=int(current_app.config["BOAT_OVERDUE_GRACE_S"]))


def raise_overdue_boats(now: datetime | None = None) -> int:
    """Raise one critical ``boat_overdue`` per trip still at sea after returns_by + grace; how many.

    The incident is the trip's, not a passenger's: ``card_id`` null, ``trip_id`` set, raised
    whoever is aboard (a boat with nobody scanned aboard still has its crew). Each trip is
    raised once, ever (``overdue_raised_at``), under the trip's row lock: the sweep takes the
    event-log lock first and then the trip rows (skipping any a concurrent sweep holds), the
    lock order of every incident writer; as the incident names no card, the sweep locks no card
    row either (the ping path locks cards, then trips). On SQLite the sweep takes the single
    write lock before it reads the trips, so a second process's sweep waits and then sees the
    trip raised. A trip that somehow has an open ``boat_overdue`` already gets no second one.
    """
    now = now or utcnow()
    dispatch.serialize_event_log()  # the lock order of every incident writer: event log, then rows
    due = (Trip.status == TripStatus.AT_SEA, Trip.returns_by < now - grace(), Trip.overdue_raised_at.is_(None))
    if db.session.get_bind().dialect.name == "sqlite":  # the write lock before reading, like _lock_trip
        db.session.execute(update(Trip).where(*due).values(status=Trip.status)
                           .execution_options(synchronize_session=False))
    query = (select(Trip).where(*due).order_by(Trip.returns_by).limit(200)
             .with_for_update(skip_locked=True, of=Trip).execution_options(populate_existing=True))
    raised = 0
    for trip in db.session.scalars(query).all():
        trip.overdue_raised_at = now
        events.trip_changed(trip)
        if _open_trip_incident(trip, IncidentKind.BOAT_OVERDUE) is not None:
            continue
        aboard, _ = head_counts([trip.id])[trip.id]
        overdue_s = int((now - trip.returns_by).total_seconds())
        _raise_trip_incident(
            trip, kind=IncidentKind.BOAT_OVERDUE, severity=Severity.CRITICAL, at=now,
            note=f"{trip.vessel_name} ({trip.vessel_registration}) from {trip.pier} to {trip.destination} "
                 f"was due back by {trip.returns_by.isoformat()}",
            detail={"rule": "boat_overdue", "trip_id": trip.id, "vessel": trip.vessel_name,
                    "returns_by": trip.returns_by.isoformat(), "overdue_s": overdue_s, "passengers": aboard})
        raised += 1
    db.session.flush()
    return raised


def _raise_trip_incident(trip: Trip, *, kind: IncidentKind, severity: Severity, at: datetime, note: str,
                         detail: dict[str, Any]) -> Incident:
    """A new incident of the trip itself (no card: whoever is aboard), at its last position.

    The caller holds the event-log lock and the trip's row lock and has checked that the trip has
    no open incident of ``kind``. The ``created`` event carries the trip, like any incident's.
    """
    incident = Incident(card_id=None, kind=kind, status=IncidentStatus.NEW, severity=severity,
                        lat=trip.last_lat, lon=trip.last_lon, note=note, trip_id=trip.id, created_at=at,
                        updated_at=utcnow())
    db.session.add(incident)
    db.session.flush()
    dispatch.record_event(incident, "created", actor="system", detail=detail)
    return incident


AT_SEA_RECHECK_S = 2.0  # how long a process trusts "no trip is at sea anywhere" before asking again


def _note_trip_at_sea() -> None:
    """This process sent a trip to sea: its pings feed trips again at once."""
    current_app.extensions["pts_marine_at_sea"] = [time.monotonic(), True]


def _any_trip_at_sea() -> bool:
    """Whether any trip is at sea, asked at most every AT_SEA_RECHECK_S per process.

    Most ping groups arrive while no boat is out (at night, in the monsoon): then the ping path
    pays nothing at all. A trip sent to sea by another process is seen within the interval.
    """
    cache = current_app.extensions.setdefault("pts_marine_at_sea", [float("-inf"), True])
    now = time.monotonic()
    if now - cache[0] >= AT_SEA_RECHECK_S:
        out = db.session.scalar(select(Trip.id).where(Trip.status == TripStatus.AT_SEA).limit(1))
        cache[1] = out is not None
        cache[0] = now
    return bool(cache[1])


def record_positions(newest: dict[str, tuple[float, float, datetime]]) -> int:
    """Passengers' new fixes feed their trips at sea; how many passengers.

    ``newest``: each card's newest new fix of a ping group (lat, lon, recorded_at). Runs inside
    the group's transaction: one query per group while a trip is at sea, none otherwise.
    """
    if not newest or not _any_trip_at_sea():
        return 0
    rows = db.session.execute(
        select(Passenger, Trip).join(Trip, Trip.id == Passenger.trip_id)
        .where(Passenger.card_id.in_(list(newest)), Passenger.ashore_at.is_(None),
               Trip.status == TripStatus.AT_SEA)).all()
    for passenger, trip in rows:
        lat, lon, recorded_at = newest[passenger.card_id]
        if passenger.last_recorded_at is None or recorded_at > passenger.last_recorded_at:
            passenger.last_lat, passenger.last_lon, passenger.last_recorded_at = lat, lon, recorded_at
        if trip.last_recorded_at is None or recorded_at > trip.last_recorded_at:
            trip.last_lat, trip.last_lon, trip.last_recorded_at = lat, lon, recorded_at
            events.trip_changed(trip)
    return len(rows)


def feed_trips(_sender: Any = None, *, newest: dict[str, tuple[float, float, datetime]], **_: Any) -> None:
    """``signals.positions_recorded``: a ping group's newest fixes feed the trips at sea."""
    record_positions(newest)


def incident_manifest(incident: Any) -> list[dict[str, Any]] | None:
    """The manifest of an incident's trip (the incident detail's ``manifest``), or None (no trip)."""
    trip_id = getattr(incident, "trip_id", None)
    if trip_id is None:
        return None
    trip = db.session.get(Trip, trip_id)
    if trip is None:
        return None
    # audited with the detail read itself (``incident.read`` of the 191 center's detail view)
    return [passenger_view(p) for p in passengers(trip)]


def trips_named(folded: str) -> Any:
    """The ids of the trips whose vessel a 191 search ``q`` names (dispatch's ``trips`` source, see
    :mod:`backend.dispatch.sources`, for :mod:`backend.dispatch.search`):
    the name (``folded``: ``q`` lower-cased; a substring) or the registration (spaces and case ignored)."""
    compact = "".join(folded.split()).upper()
    return select(Trip.id).where(or_(lower(Trip.vessel_name).contains(folded, autoescape=True),
                                     func.upper(func.replace(Trip.vessel_registration, " ", "")) == compact))


def trips_carrying(holder: list[Any]) -> Any:
    """The ids of the trips with a passenger on the manifest whose card's holder matches ``holder``
    (the search's conditions on :class:`backend.cards.models.Tourist`): a card-less ``boat_overdue``
    is found by who is aboard."""
    return (select(Passenger.trip_id).join(Card, Card.id == Passenger.card_id)
            .join(Tourist, Tourist.id == Card.tourist_id).where(or_(*holder)))
