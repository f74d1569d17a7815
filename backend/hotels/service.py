"""Hotels: registration, managers, check-in by card scan, check-out and the guests' safety status.

A hotel manager sees only the guests of their own hotel, and of each guest only what the hotel
needs: who is in house, when the phone was last heard from, a status and the open incidents.
Never a position or a track (Thailand PDPA). Every check-in, check-out and guest-list read is
audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.audit import service as audit
from backend.auth import service as auth_service
from backend.auth.models import Role, User
from backend.card_ids import canonical
from backend.cards.models import Card
from backend.cards.presented import CardRefused, PassportThrottle, card_by_passport, card_by_token
from backend.dispatch.models import OPEN_STATUSES, Incident, IncidentKind
from backend.extensions import db
from backend.geometry import point
from backend.hotels.models import Hotel, Stay, StayEndReason
from backend.models_base import utcnow
from backend.tracking.models import LatestPosition

# Guest statuses, least to most serious; a guest shows the most serious that applies.
# A silent phone (overdue) outranks a phone that is heard from outside the province: the
# hotel can act on it (call the guest, check the room), and nobody knows where the guest is.
GUEST_STATUSES = ("ok", "outside_area", "overdue", "in_danger", "sos")
_RANK = {status: rank for rank, status in enumerate(GUEST_STATUSES)}
_INCIDENT_STATUS = {
    IncidentKind.SOS: "sos",
    IncidentKind.DANGER_ZONE: "in_danger",
    IncidentKind.OVERDUE: "overdue",
    IncidentKind.LEFT_AREA: "outside_area",
}

# Wrong card id + passport pairs: lock a (card, manager) pair or a manager guessing many cards; only slow a card.
CHECKIN_LIMITS = PassportThrottle(
    scope="checkin", max_failures_key="CHECKIN_MAX_FAILURES", max_failures_default=5,
    message="too many wrong card id and passport number pairs; try again in {retry_after} s")


class UsernameTaken(Exception):
    """A staff account with this username exists already."""


class StayConflict(Exception):
    """Another check-in of the same card won a race; the request may be repeated."""


@dataclass(frozen=True)
class CardCheck:
    """The outcome of checking a scanned card at a hotel."""

    valid: bool
    reason: str | None
    card: Card | None  # only when the token's signature was verified
    stay: Stay | None = None  # the card's open stay at this hotel
    staying_elsewhere: bool = False


@dataclass(frozen=True)
class CheckIn:
    """A check-in: the stay, whether it is new, and whether a stay elsewhere was ended."""

    stay: Stay
    card: Card
    created: bool
    ended_elsewhere: Stay | None = None


@dataclass(frozen=True)
class IncidentBrief:
    """An open incident as a hotel sees it: no position."""

    id: int
    kind: str
    status: str
    severity: str
    created_at: datetime


@dataclass
class Guest:
    """A guest in house and their safety status (never their position)."""

    stay: Stay
    card: Card
    last_seen_at: datetime | None
    status: str
    tracked: bool
    open_incidents: list[IncidentBrief] = field(default_factory=list)

    @property
    def stay_id(self) -> int:
        """The stay's id."""
        return self.stay.id

    @property
    def card_id(self) -> str:
        """The guest's card id."""
        return self.card.id

    @property
    def full_name(self) -> str:
        """The holder's name."""
        return self.card.tourist.full_name

    @property
    def latin_name(self) -> str | None:
        """The holder's Latin-script (passport MRZ) name, if known."""
        return self.card.tourist.latin_name

    @property
    def nationality(self) -> str:
        """The holder's nationality (ISO 3166-1 alpha-3)."""
        return self.card.tourist.nationality

    @property
    def stay_until(self) -> date:
        """The date printed on the guest's card (last day of the stay, Thai date)."""
        return self.card.stay_until

    @property
    def room(self) -> str | None:
        """The room, if the hotel gave one."""
        return self.stay.room

    @property
    def checked_in_at(self) -> datetime:
        """When the guest was checked in."""
        return self.stay.checked_in_at

    @property
    def card_status(self) -> str:
        """``active``, ``expired``, ``revoked`` or ``closed``."""
        return self.card.effective_status()


# --- hotels ---------------------------------------------------------------------------------

def _check_position(lat: float, lon: float) -> None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("lat must be within ±90 and lon within ±180")


def create_hotel(*, name: str, lat: float, lon: float, sha_plus_cert: str | None = None,
                 address: str | None = None, phone: str | None = None) -> Hotel:
    """Register a hotel at a position; the caller commits."""
    _check_position(lat, lon)
    if not name.strip():
        raise ValueError("the hotel needs a name")
    hotel = Hotel(name=name.strip(), lat=lat, lon=lon, geom=point(lat, lon), sha_plus_cert=sha_plus_cert,
                  address=address, phone=phone)
    db.session.add(hotel)
    db.session.flush()
    return hotel


def update_hotel(*, hotel: Hotel, name: str, lat: float, lon: float, sha_plus_cert: str | None = None,
                 address: str | None = None, phone: str | None = None) -> Hotel:
    """Replace a hotel's details; the caller commits."""
    _check_position(lat, lon)
    if not name.strip():
        raise ValueError("the hotel needs a name")
    hotel.name, hotel.lat, hotel.lon, hotel.geom = name.strip(), lat, lon, point(lat, lon)
    hotel.sha_plus_cert, hotel.address, hotel.phone = sha_plus_cert, address, phone
    hotel.updated_at = utcnow()
    db.session.flush()
    return hotel


def get_hotel(hotel_id: int) -> Hotel | None:
    """The hotel with this id, if any."""
    return db.session.get(Hotel, hotel_id)


def list_hotels(*, hotel_id: int | None = None) -> list[Hotel]:
    """Every hotel by name (or only ``hotel_id``'s, for its manager)."""
    query = select(Hotel).order_by(Hotel.name, Hotel.id)
    if hotel_id is not None:
        query = query.where(Hotel.id == hotel_id)
    return list(db.session.scalars(query))


def guests_in_house(*, hotel: Hotel) -> int:
    """How many guests are checked in at the hotel."""
    return db.session.scalar(
        select(func.count(Stay.id)).where(Stay.hotel_id == hotel.id, Stay.checked_out_at.is_(None))) or 0


# --- managers -------------------------------------------------------------------------------

def create_manager(*, hotel: Hotel, username: str, password: str, full_name: str | None = None) -> User:
    """Create a manager account bound to ``hotel``; never takes over an existing account."""
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise UsernameTaken(f"the username {username!r} is taken")
    user = auth_service.create_user(username=username, password=password, role=Role.HOTEL_MANAGER,
                                    hotel_id=hotel.id, full_name=full_name)
    audit.record("staff.create", subject_type="user", subject_id=user.id,
                 detail={"role": user.role, "hotel_id": hotel.id, "username": user.username})
    return user


def managers(*, hotel: Hotel) -> list[User]:
    """The hotel's manager accounts, active ones first."""
    return list(db.session.scalars(
        select(User).where(User.hotel_id == hotel.id, User.role == Role.HOTEL_MANAGER)
        .order_by(User.is_active.desc(), User.username)))


def set_manager_active(*, hotel: Hotel, user_id: int, active: bool) -> User | None:
    """Deactivate (or reactivate) one of the hotel's managers; None when not theirs."""
    user = db.session.get(User, user_id)
    if user is None or user.hotel_id != hotel.id or user.role != Role.HOTEL_MANAGER:
        return None
    return auth_service.set_active(user, active=active)  # audited; deactivation revokes the tokens


# --- check-in and check-out -----------------------------------------------------------------

def open_stay(*, card_id: str) -> Stay | None:
    """The card's open stay, wherever it is."""
    return db.session.scalar(select(Stay).where(Stay.card_id == card_id, Stay.checked_out_at.is_(None)))


def current_stay(card_id: str) -> dict[str, Any] | None:
    """The card's open stay as an incident shows it, or None (dispatch's ``Stays`` source, see backend.wiring)."""
    row = db.session.execute(
        select(Stay, Hotel).join(Hotel, Hotel.id == Stay.hotel_id)
        .where(Stay.card_id == card_id, Stay.checked_out_at.is_(None))).first()
    if row is None:
        return None
    stay, hotel = row
    return {"hotel_id": hotel.id, "hotel": hotel.name, "hotel_phone": hotel.phone, "room": stay.room,
            "checked_in_at": stay.checked_in_at}


def check_card(*, hotel: Hotel, card_token: str, card_id: str | None = None) -> CardCheck:
    """Verify a scanned card completely (signature, key, type, expiry, revocation, closure).

    ``card_id``, when typed from the printed card, must be the card the token belongs to.
    The card itself is returned only when its signature was verified, so a forged code never
    reveals whose card id it names.
    """
    try:
        card = card_by_token(card_token, card_id=card_id)
    except CardRefused as refused:
        return CardCheck(valid=False, reason=refused.reason, card=refused.card)
    current = open_stay(card_id=card.id)
    here = current if current is not None and current.hotel_id == hotel.id else None
    return CardCheck(valid=True, reason=None, card=card, stay=here,
                     staying_elsewhere=current is not None and here is None)


def verify_for_hotel(*, hotel: Hotel, card_token: str, card_id: str | None = None) -> CardCheck:
    """Check a scanned card before check-in (what the manager sees first), audited."""
    check = check_card(hotel=hotel, card_token=card_token, card_id=card_id)
    audit.record("hotel.card_verify", subject_type="hotel", subject_id=hotel.id,
                 card_id=check.card.id if check.card else None,
                 detail={"valid": check.valid, "reason": check.reason})
    return check


def check_in(*, hotel: Hotel, card_token: str, room: str | None = None, card_id: str | None = None,
             by: User | None = None) -> CheckIn:
    """Check a card's holder in by the scanned card token; the caller commits.

    Raises :class:`CardRefused` for a card that is not valid (the refusal is audited; the
    caller commits the audit entry). Checking in a card already in house here returns its
    stay (with the new room, if one is given); a card staying at another hotel has that stay
    ended first, with an audit entry: one open stay per card.
    """
    check = check_card(hotel=hotel, card_token=card_token, card_id=card_id)
    if not check.valid or check.card is None:
        _refuse(hotel, check.card, check.reason or "malformed", via="card_token")
    return _stay_for(hotel=hotel, card=check.card, room=room, by=by)


def check_in_by_passport(*, hotel: Hotel, card_id: str, passport_number: str, room: str | None = None,
                         by: User) -> CheckIn:
    """Check a guest in without a camera: the card id typed from the card and the passport number.

    A pair that does not belong together (or an unknown card id: the same answer, so card ids
    cannot be probed) raises :class:`CardRefused` ``passport_mismatch`` and is counted like a
    wrong password (:mod:`backend.auth.throttle`), keyed by the card and the staff account: one
    manager guessing a card's passport number is slowed, then locked out with
    :class:`~backend.cards.presented.CardThrottled` (429); a manager guessing across many cards is locked out too; the
    card itself is only slowed, so another hotel's manager with the right pair still checks the
    guest in. A right pair for a revoked, closed or expired card is refused with that reason.
    The caller commits (also after a refusal: the count and the audit entry).
    """
    try:
        card = card_by_passport(card_id, passport_number, by=by, limits=CHECKIN_LIMITS)
    except CardRefused as refused:
        detail = {"card_id": canonical(card_id)} if refused.reason == "passport_mismatch" else None
        _refuse(hotel, refused.card, refused.reason, via="passport", detail=detail)
    return _stay_for(hotel=hotel, card=card, room=room, by=by)


def _refuse(hotel: Hotel, card: Card | None, reason: str, *, via: str, detail: dict | None = None) -> None:
    """Audit a refused check-in and raise :class:`CardRefused` (``field`` ``card_token`` for a scanned card;
    None by passport: the reply names both the card id and the passport number)."""
    audit.record("stay.checkin_refused", subject_type="hotel", subject_id=hotel.id,
                 card_id=card.id if card else None, detail={"reason": reason, "via": via, **(detail or {})})
    raise CardRefused(reason, "card_token" if via == "card_token" else None)


def _stay_for(*, hotel: Hotel, card: Card, room: str | None, by: User | None) -> CheckIn:
    """The card's stay here: the open one (room updated) or a new one ending a stay elsewhere."""
    room = (room.strip() or None) if room is not None else None
    current = open_stay(card_id=card.id)
    if current is not None and current.hotel_id == hotel.id:
        if room is not None and room != current.room:
            audit.record("stay.room_change", subject_type="stay", subject_id=current.id, card_id=card.id,
                         detail={"hotel_id": hotel.id, "room": room, "previous_room": current.room})
            current.room = room
        return CheckIn(stay=current, card=card, created=False)
    ended = None
    if current is not None:
        ended = _end_stay(current, reason=StayEndReason.CHECKED_IN_ELSEWHERE, by=None,
                          detail={"hotel_id": current.hotel_id, "new_hotel_id": hotel.id})
    stay = Stay(hotel_id=hotel.id, card_id=card.id, room=room, checked_in_at=utcnow(),
                checked_in_by=by.id if by else None)
    try:
        with db.session.begin_nested():
            db.session.add(stay)
            db.session.flush()
    except IntegrityError as exc:  # a concurrent check-in of the same card won the race
        winner = open_stay(card_id=card.id)
        if winner is not None and winner.hotel_id == hotel.id:  # a double submit here: one stay
            return CheckIn(stay=winner, card=card, created=False)
        raise StayConflict("the card was checked in at the same moment elsewhere; try again") from exc
    audit.record("stay.checkin", subject_type="stay", subject_id=stay.id, card_id=card.id,
                 detail={"hotel_id": hotel.id, "room": room,
                         "ended_stay_id": ended.id if ended is not None else None})
    return CheckIn(stay=stay, card=card, created=True, ended_elsewhere=ended)


def _end_stay(stay: Stay, *, reason: StayEndReason, by: User | None, detail: dict) -> Stay:
    stay.checked_out_at = utcnow()
    stay.checked_out_by = by.id if by else None
    stay.end_reason = reason
    action = "stay.checkout" if reason is StayEndReason.CHECKED_OUT else "stay.end"
    audit.record(action, subject_type="stay", subject_id=stay.id, card_id=stay.card_id,
                 detail={"reason": reason.value, **detail})
    db.session.flush()
    return stay


def get_stay(*, hotel: Hotel, stay_id: int) -> Stay | None:
    """One of the hotel's stays (open or ended), or None."""
    stay = db.session.get(Stay, stay_id)
    return stay if stay is not None and stay.hotel_id == hotel.id else None


def check_out(*, hotel: Hotel, stay_id: int, by: User | None = None) -> Stay | None:
    """Check a guest out; None when the stay is not this hotel's. Repeating it changes nothing."""
    stay = get_stay(hotel=hotel, stay_id=stay_id)
    if stay is None:
        return None
    if stay.is_open:
        _end_stay(stay, reason=StayEndReason.CHECKED_OUT, by=by, detail={"hotel_id": hotel.id, "room": stay.room})
    return stay


# --- guests and their safety status ---------------------------------------------------------

def guest_status(*, card: Card, last_contact_at: datetime | None, at_sea: bool | None,
                 in_service_area: bool | None, danger_zone_id: int | None, incident_kinds: set[str],
                 now: datetime) -> str:
    """The most serious of: sos, in_danger, overdue, outside_area, ok.

    Open incidents count first; the latest position's flags and the time since the phone was
    last heard from count too, so a guest shows as overdue or outside the area as soon as the
    facts say so. A card that is no longer tracked (closed, revoked, expired) is never made
    overdue by its silence: its phone is not expected to report.
    """
    found = {_INCIDENT_STATUS[k] for k in incident_kinds if k in _INCIDENT_STATUS}
    if last_contact_at is not None:
        if danger_zone_id is not None:
            found.add("in_danger")
        if in_service_area is False:
            found.add("outside_area")
        cfg = current_app.config
        threshold = cfg["OVERDUE_AFTER_S"]
        if at_sea:
            threshold = min(threshold, cfg.get("OVERDUE_AT_SEA_AFTER_S", threshold))
        if card.is_trackable(now) and now - last_contact_at > timedelta(seconds=threshold):
            found.add("overdue")
    return max(found, key=_RANK.__getitem__, default="ok")


def guests(*, hotel: Hotel, now: datetime | None = None) -> list[Guest]:
    """The hotel's guests in house with their status, by room; audited as a read of personal data.

    Two queries whatever the number of guests; no position column is ever read.
    """
    now = now or utcnow()
    open_here = select(Stay.card_id).where(Stay.hotel_id == hotel.id, Stay.checked_out_at.is_(None))
    rows = db.session.execute(
        select(Stay, Card, LatestPosition.last_contact_at, LatestPosition.at_sea, LatestPosition.in_service_area,
               LatestPosition.danger_zone_id)
        .join(Card, Card.id == Stay.card_id)
        .outerjoin(LatestPosition, LatestPosition.card_id == Stay.card_id)
        .where(Stay.hotel_id == hotel.id, Stay.checked_out_at.is_(None))
        .order_by(Stay.checked_in_at.desc(), Stay.id.desc())
    ).all()
    incidents: dict[str, list[IncidentBrief]] = {}
    for inc in db.session.execute(
        select(Incident.id, Incident.card_id, Incident.kind, Incident.status, Incident.severity, Incident.created_at)
        .where(Incident.card_id.in_(open_here), Incident.status.in_(OPEN_STATUSES))
        .order_by(Incident.created_at)
    ):
        incidents.setdefault(inc.card_id, []).append(
            IncidentBrief(id=inc.id, kind=inc.kind, status=inc.status, severity=inc.severity,
                          created_at=inc.created_at))
    result = []
    for stay, card, last_contact_at, at_sea, in_service_area, danger_zone_id in rows:
        open_incidents = incidents.get(card.id, [])
        status = guest_status(card=card, last_contact_at=last_contact_at, at_sea=at_sea,
                              in_service_area=in_service_area, danger_zone_id=danger_zone_id,
                              incident_kinds={i.kind for i in open_incidents}, now=now)
        result.append(Guest(stay=stay, card=card, last_seen_at=last_contact_at, status=status,
                            tracked=last_contact_at is not None, open_incidents=open_incidents))
    result.sort(key=lambda g: (-_RANK[g.status], g.room is None, g.room or "", g.full_name.lower()))
    audit.record("hotel.guests_read", subject_type="hotel", subject_id=hotel.id,
                 detail={"count": len(result), "card_ids": [g.card_id for g in result]})
    return result


def status_counts(items: list[Guest]) -> dict[str, int]:
    """How many guests have each status."""
    counts = dict.fromkeys(GUEST_STATUSES, 0)
    for guest in items:
        counts[guest.status] += 1
    return counts

