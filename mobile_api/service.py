"""The companion app's use cases: enrollment, ping batches, SOS, push token, the tourist's view.

Views (ours, OwnTracks, OsmAnd) parse their protocol into the plain values used here; every
position goes through :mod:`backend.tracking` (the group-commit writer for pings,
:func:`backend.tracking.service.record_pings` for an SOS's own position), every SOS through
:func:`backend.dispatch.service.raise_incident`. Functions here never commit, except where
the docstring says so (an SOS is committed before the app hears back).
"""

from __future__ import annotations

import logging
import math
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from backend.audit import service as audit
from backend.auth import throttle
from backend.auth.tokens import TokenKind, encode
from backend.cards import enrollment
from backend.cards.models import Card
from backend.dispatch import service as dispatch
from backend.dispatch.models import Incident, IncidentEvent, IncidentKind, IncidentStatus, Severity, SosSignal
from backend.extensions import db
from backend.hotels.models import Hotel, Stay
from backend.models_base import utcnow
from backend.tracking.devices import DeviceCredential, token_hash
from backend.tracking.models import Device, LatestPosition, Ping
from backend.tracking.service import CardNotTrackable, PingInput, record_pings, time_error
from backend.tracking.writer import Recorded, cards_with_open_incidents, ping_writer, touch_device
from backend.vocab import SosCategory

log = logging.getLogger(__name__)

# Client ids of pings from OwnTracks / Traccar Client, which send none: uuid5 in this namespace.
PROTOCOL_PING_NAMESPACE = uuid.UUID("6f1d7c1e-3a52-4f0e-9b7a-5c0e2f1d9a11")
# A hash to check a code against when the card does not exist, so timing does not reveal it.
_DUMMY_CODE_HASH = enrollment.new_code()[1]


# --- errors --------------------------------------------------------------------------------

class EnrollmentRefused(Exception):
    """Unknown card or wrong enrollment code."""


class EnrollmentThrottled(Exception):
    """Too many wrong codes for this card or from this address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many wrong enrollment codes; retry in {retry_after} s")
        self.retry_after = retry_after


class CardNotEnrollable(Exception):
    """The code is right but the card is closed, revoked or expired."""


class SosRace(Exception):
    """A concurrent request stored the same SOS first; roll back and read it."""


class CannotCancel(Exception):
    """The SOS is already resolved."""


# --- settings ------------------------------------------------------------------------------

def _cfg(name: str, default: Any) -> Any:
    return current_app.config.get(name, default)


def max_devices_per_card() -> int:
    """How many phones a card may have enrolled at once (the oldest beyond it are revoked)."""
    return int(_cfg("MOBILE_MAX_DEVICES_PER_CARD", 3))


# --- enrollment ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Enrollment:
    """A freshly enrolled device, its secret token, and the devices it replaced."""

    device: Device
    device_token: str
    card: Card
    revoked_device_ids: list[str] = field(default_factory=list)


def enroll_policy() -> throttle.Policy:
    """Wrong codes lock a (card, address) or an address (an airport's Wi-Fi: high), only slow a card."""
    per_card = int(_cfg("ENROLL_MAX_FAILURES", 5))
    return throttle.Policy(scope="enroll", pair_limit=per_card,
                           address_limit=int(_cfg("ENROLL_MAX_FAILURES_PER_ADDR", 30)),
                           lockout_s=int(_cfg("ENROLL_LOCKOUT_S", 300)), slow_after=per_card,
                           slow_max_s=float(_cfg("THROTTLE_SLOW_MAX_S", 5)))


def enroll(*, card_id: str, code: str, platform: str, push_token: str | None, language: str | None,
           client_addr: str | None) -> Enrollment:
    """Enroll a phone with a card id and its enrollment code; the caller commits (also on failure).

    Raises EnrollmentThrottled, EnrollmentRefused (failures are counted per card and address, per
    address and per card: see :mod:`backend.auth.throttle`) or CardNotEnrollable. A card keeps at
    most ``max_devices_per_card()`` devices: the least recently seen beyond that are revoked.
    """
    policy = enroll_policy()
    attempt = throttle.keys(policy, account=card_id.strip().upper(), address=client_addr)
    wait = throttle.before_attempt(policy, attempt)
    if wait:
        raise EnrollmentThrottled(wait)
    card = db.session.get(Card, card_id.strip().upper()) or db.session.get(Card, card_id.strip())
    if not enrollment.check(card.enrollment_code_hash if card else _DUMMY_CODE_HASH, code) or card is None:
        throttle.failed(policy, attempt)
        raise EnrollmentRefused("unknown card or wrong enrollment code")
    throttle.succeeded(attempt)
    if not card.is_trackable():
        raise CardNotEnrollable(f"this card is {card.effective_status()}")
    device = Device(id=str(uuid.uuid4()), card_id=card.id, platform=platform, push_token=push_token,
                    language=language, osmand_id=secrets.token_urlsafe(24), created_at=utcnow())
    token = encode(TokenKind.DEVICE, device.id, ttl_s=None, claims={"card": card.id})
    device.token_hash = token_hash(token)
    db.session.add(device)
    db.session.flush()
    revoked = _revoke_beyond_limit(card)
    audit.record("device.enrolled", subject_type="device", subject_id=device.id, card_id=card.id,
                 detail={"platform": platform, "revoked": revoked or None}, actor_type="device", actor_id=device.id)
    return Enrollment(device=device, device_token=token, card=card, revoked_device_ids=revoked)


def active_devices(card_id: str) -> list[Device]:
    """The card's devices that are not revoked, most recently active first."""
    seen = func.coalesce(Device.last_seen_at, Device.created_at)
    return list(db.session.scalars(
        select(Device).where(Device.card_id == card_id, Device.revoked_at.is_(None))
        .order_by(seen.desc(), Device.created_at.desc())))


def _revoke_beyond_limit(card: Card) -> list[str]:
    devices = active_devices(card.id)
    now = utcnow()
    revoked = []
    for device in devices[max_devices_per_card():]:
        device.revoked_at = now
        revoked.append(device.id)
    return revoked


# --- pings ---------------------------------------------------------------------------------

def ping_input(*, client_id: str, lat: float, lon: float, recorded_at: datetime, accuracy_m: float | None = None,
               battery_pct: float | None = None, speed_mps: float | None = None, heading_deg: float | None = None,
               altitude_m: float | None = None) -> PingInput:
    """A :class:`PingInput` with physically meaningless optional values dropped (negative = unknown)."""

    def clean(value: float | None, low: float, high: float) -> float | None:
        if value is None or not math.isfinite(value) or value < low or value > high:
            return None
        return float(value)

    return PingInput(client_id=client_id, lat=float(lat), lon=float(lon), recorded_at=recorded_at,
                     accuracy_m=clean(accuracy_m, 0, 100_000), battery_pct=clean(battery_pct, 0, 100),
                     speed_mps=clean(speed_mps, 0, 350), heading_deg=clean(heading_deg, 0, 360),
                     altitude_m=clean(altitude_m, -500, 20_000))


def protocol_client_id(*, device_id: str, protocol: str, recorded_at: datetime) -> str:
    """A stable client id for a protocol ping that carries none (re-sends stay idempotent)."""
    stamp = recorded_at.isoformat(timespec="milliseconds")
    return str(uuid.uuid5(PROTOCOL_PING_NAMESPACE, f"{protocol}:{device_id}:{stamp}"))


def touch(device: Device) -> None:
    """Note that the device was heard from (written at most once a minute per device)."""
    touch_device(device)


def record(*, device_id: str, pings: list[PingInput], source: str, credential: DeviceCredential | None = None,
           screen_times: bool = False, deadline: float | None = None) -> Recorded:
    """Store pings with the process's group commit (geofence rules run there); returns once committed.

    See :meth:`backend.tracking.writer.PingWriter.write` for ``credential`` and ``screen_times``.
    Raises DeviceRefused for a credential the device no longer honours, CardNotTrackable for a
    closed, revoked or expired card (nothing is stored) and WriterBusy when the database could
    not take them in time.
    """
    return ping_writer().write(device_id=device_id, pings=pings, source=source, credential=credential,
                               screen_times=screen_times, deadline=deadline)


def has_open_incident(card_id: str) -> bool:
    """True when the card has an incident the 191 center is still working on."""
    return bool(cards_with_open_incidents([card_id]))


def ping_interval_s(*, at_sea: bool, open_incident: bool) -> int:
    """When the app should send next: sooner at sea or while an incident is open."""
    if at_sea or open_incident:
        return int(_cfg("PING_INTERVAL_ALERT_S", 300))
    return int(_cfg("PING_INTERVAL_S", 1800))


def next_ping_in_s(card_id: str, latest: LatestPosition | None) -> int:
    """:func:`ping_interval_s` for a card, read from the database."""
    if latest is None:
        latest = db.session.get(LatestPosition, card_id)
    return ping_interval_s(at_sea=latest is not None and latest.at_sea, open_incident=has_open_incident(card_id))


# --- SOS -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SosInput:
    """One SOS press, whatever the protocol."""

    client_id: str
    lat: float | None
    lon: float | None
    recorded_at: datetime | None
    accuracy_m: float | None = None
    category: SosCategory | None = None
    note: str | None = None
    battery_pct: float | None = None


@dataclass(frozen=True)
class SosOutcome:
    """The incident an SOS raised or joined; ``created`` only for a brand-new incident."""

    incident: Incident
    created: bool


def _lock_card(card_id: str, device_id: str) -> None:
    """Serialize SOS handling per card: a row lock on PostgreSQL; on SQLite the first write
    takes the database's write lock before anything is read in this transaction."""
    db.session.execute(select(Card.id).where(Card.id == card_id).with_for_update())
    db.session.execute(update(Device).where(Device.id == device_id).values(last_seen_at=utcnow()))


def raise_sos(*, device: Device, card: Card, sos: SosInput, source: str) -> SosOutcome:
    """Raise (or join) the card's SOS incident, idempotent by the SOS's client id; the caller commits.

    Accepted for every enrolled device even when the card has ended (safety first). A device
    time that is implausible is replaced by the server's time rather than refused. When the
    card is trackable, the SOS position is also stored as a ping (failures there never stop
    the SOS). Raises SosRace when a concurrent request stored the same SOS first.
    """
    _lock_card(card.id, device.id)
    signal = db.session.scalar(select(SosSignal).where(SosSignal.card_id == card.id,
                                                       SosSignal.client_id == sos.client_id))
    if signal is not None:
        return SosOutcome(db.session.get(Incident, signal.incident_id), created=False)
    now = utcnow()
    clock_off = sos.recorded_at is None or time_error(card, sos.recorded_at, now) is not None
    recorded_at = now if clock_off else sos.recorded_at
    lat, lon, accuracy_m = sos.lat, sos.lon, sos.accuracy_m
    if lat is None or lon is None:  # no fix (OsmAnd alarm without a position): the last known one
        latest = db.session.get(LatestPosition, card.id)
        if latest is not None:
            lat, lon, accuracy_m = latest.lat, latest.lon, latest.accuracy_m
    detail = {k: v for k, v in {
        "client_id": sos.client_id, "device_id": device.id, "source": source, "lat": lat, "lon": lon,
        "accuracy_m": accuracy_m, "category": sos.category, "note": sos.note, "battery_pct": sos.battery_pct,
        "recorded_at": recorded_at.isoformat(), "device_clock_off": clock_off or None,
        "card_status": card.effective_status(),
    }.items() if v is not None}
    incident, created = dispatch.raise_incident(
        card_id=card.id, kind=IncidentKind.SOS, severity=Severity.CRITICAL, lat=lat, lon=lon,
        accuracy_m=accuracy_m, category=sos.category, note=sos.note, at=recorded_at,
        actor=f"device:{device.id}", detail=detail)
    if lat is not None and lon is not None:
        try:
            with db.session.begin_nested():
                db.session.add(SosSignal(card_id=card.id, device_id=device.id, client_id=sos.client_id,
                                         incident_id=incident.id, lat=lat, lon=lon, accuracy_m=accuracy_m,
                                         category=sos.category, note=sos.note, recorded_at=recorded_at,
                                         received_at=now))
        except IntegrityError as exc:
            raise SosRace(sos.client_id) from exc
        if card.is_trackable() and not clock_off:
            _store_sos_position(device, card, sos.client_id, lat, lon, recorded_at, accuracy_m,
                                sos.battery_pct, source, incident.id)
    return SosOutcome(incident, created)


def _store_sos_position(device: Device, card: Card, client_id: str, lat: float, lon: float, recorded_at: datetime,
                        accuracy_m: float | None, battery_pct: float | None, source: str, incident_id: int) -> None:
    try:
        with db.session.begin_nested():
            record_pings(card=card, device_id=device.id, source=source, pings=[ping_input(
                client_id=client_id, lat=lat, lon=lon, recorded_at=recorded_at, accuracy_m=accuracy_m,
                battery_pct=battery_pct)])
            db.session.execute(update(Ping).where(Ping.card_id == card.id, Ping.client_id == client_id)
                               .values(incident_id=incident_id))
    except CardNotTrackable:
        pass
    except Exception:  # the SOS itself must go through whatever happens to its ping
        log.exception("storing the position of SOS %s failed", client_id)


def card_sos(*, card: Card, incident_id: int) -> Incident | None:
    """The card's own SOS incident with that id (None for anyone else's)."""
    incident = db.session.get(Incident, incident_id)
    if incident is None or incident.card_id != card.id or incident.kind != IncidentKind.SOS:
        return None
    return incident


def sos_closure(incident: Incident) -> dict[str, Any]:
    """How a closed SOS ended, as the tourist may see it: ``closed_at``, ``closed_by``, ``resolution``.

    ``closed_by`` is ``dispatcher`` (the 191 center), ``tourist`` (cancelled from a phone) or
    ``system``; staff user names are sign-in names and are not shown to the public.
    """
    if incident.status not in (IncidentStatus.RESOLVED, IncidentStatus.CANCELLED):
        return {"closed_at": None, "closed_by": None, "resolution": None}
    closing = db.session.scalar(
        select(IncidentEvent).where(IncidentEvent.incident_id == incident.id, IncidentEvent.type == incident.status)
        .order_by(IncidentEvent.seq.desc()).limit(1))
    actor = (closing.actor if closing else None) or ""
    by = "tourist" if actor.startswith("device:") else ("system" if actor in ("", "system") else "dispatcher")
    closed_at = incident.resolved_at if incident.status == IncidentStatus.RESOLVED else incident.cancelled_at
    return {"closed_at": closed_at or (closing.at if closing else incident.updated_at), "closed_by": by,
            "resolution": incident.resolution}


def cancel_sos(*, device: Device, incident: Incident, reason: str | None) -> Incident:
    """The tourist calls off the SOS (idempotent once cancelled); the caller commits.

    Raises CannotCancel when the 191 center has already resolved it.
    """
    if incident.status == IncidentStatus.CANCELLED:
        return incident
    if incident.status == IncidentStatus.RESOLVED:
        raise CannotCancel("this SOS is already resolved")
    note = f"cancelled by the tourist: {reason}" if reason else "cancelled by the tourist"
    return dispatch.transition(incident, IncidentStatus.CANCELLED, actor=f"device:{device.id}", note=note)


# --- push token, me ------------------------------------------------------------------------

def set_push_token(*, device: Device, push_token: str | None) -> Device:
    """Store (or clear) the device's FCM registration token; the caller commits."""
    device.push_token = push_token
    touch(device)
    return device


def open_stay(card_id: str) -> tuple[Stay, Hotel] | None:
    """The card's open hotel stay and its hotel, if any."""
    row = db.session.execute(
        select(Stay, Hotel).join(Hotel, Hotel.id == Stay.hotel_id)
        .where(Stay.card_id == card_id, Stay.checked_out_at.is_(None))).first()
    return None if row is None else (row[0], row[1])


def set_language(*, device: Device, language: str) -> Device:
    """The language of every later message to this phone (a supported BCP 47 tag); the caller commits."""
    from notifications.messages import supported_language

    device.language = supported_language(language)
    touch(device)
    return device


def me(*, device: Device, card: Card) -> dict[str, Any]:
    """What the app shows the tourist: card, stay, last position, devices, next ping, message language."""
    from notifications import messages

    stay = open_stay(card.id)
    latest = db.session.get(LatestPosition, card.id)
    return {
        "card": card,
        "stay": None if stay is None else {"hotel": stay[1].name, "hotel_id": stay[1].id, "room": stay[0].room,
                                           "checked_in_at": stay[0].checked_in_at},
        "last_position": None if latest is None else {"lat": latest.lat, "lon": latest.lon,
                                                      "recorded_at": latest.recorded_at, "at_sea": latest.at_sea},
        "device_id": device.id,
        "devices": active_devices(card.id),
        "next_ping_in_s": next_ping_in_s(card.id, latest),
        "language": messages.choose_language(device.language, card.tourist.language),
    }
