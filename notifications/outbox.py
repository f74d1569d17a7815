"""The push outbox: every message is stored first, then delivered by the ``push`` job.

- Queueing happens in the transaction of the change that caused it (an incident event, a
  broadcast, the card-expiry job), so a rolled-back change never leaves a message behind.
  Once that transaction commits, the server's scheduler is nudged to push at once (an SOS
  acknowledgement reaches the phone in seconds); the periodic pass is the safety net.
- One row per target device, in that device's language (else the card holder's, else English);
  rows of one event share ``event_key``, which is also what the in-app inbox de-duplicates on.
- Delivery (:func:`deliver_due`) claims due rows — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
  sweep's job lease on SQLite — sends them through the configured channel and records each
  outcome in the same transaction: sent rows are never picked again (nothing is sent twice);
  ``UNREGISTERED`` clears the device's token and drops the message; temporary failures are
  retried with exponential backoff (honouring ``Retry-After``) up to ``MAX_ATTEMPTS``.
- Without FCM credentials the log-only channel marks messages ``held``: they stay in the outbox
  and the inbox, with one log line each, and are not retried.
- **Web Push** is a second channel beside FCM: a message queued for a device with a browser
  subscription also gets an ``outbox_deliveries`` row (channel ``webpush``), made in the same
  transaction, and the same job delivers it with the same claim, backoff and outcomes; a 404/410
  removes the subscription. A device with a subscription and no FCM token is reached this way
  (its message row itself stays ``held`` for FCM).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event, exists, insert, literal, select, update
from sqlalchemy.orm import Session

from backend import signals
from backend.cards.models import Card, CardStatus
from backend.database import is_postgres
from backend.dispatch.models import Incident, IncidentEvent
from backend.extensions import db
from backend.jobs import nudge, periodic_job
from backend.models_base import UTCDateTime, utcnow
from backend.tracking.models import Device
from geo.models import Zone
from notifications import messages, push, webpush
from notifications.models import OutboxDelivery, OutboxMessage, OutboxStatus, WebPushSubscription

log = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_BATCHES_PER_PASS = 25
MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 30
BACKOFF_MAX_S = 3600
URGENT_TOPICS = frozenset({"sos_received", "sos_acknowledged", "sos_dispatched", "danger_zone", "left_area",
                           "overdue"})

Compose = Callable[[str], messages.Rendered]


# --- queueing -------------------------------------------------------------------------------

def target_devices(card: Card, *, include_ended: bool = False) -> list[Device]:
    """The card's devices that may receive messages (also those revoked with the card, for SOS)."""
    query = select(Device).where(Device.card_id == card.id).order_by(Device.created_at)
    if not (include_ended and card.status != CardStatus.ACTIVE):
        query = query.where(Device.revoked_at.is_(None))
    return list(db.session.scalars(query))


def queue_for_card(*, card: Card, topic: str, event_key: str, compose: Compose,
                   data: dict[str, Any] | None = None, broadcast_id: int | None = None,
                   expires_at: datetime | None = None, devices: list[Device] | None = None) -> int:
    """Store one message per device of ``card`` (one inbox-only row when it has none); returns the count.

    ``compose(language)`` renders the message in a device's language. The caller commits.
    """
    if devices is None:
        devices = target_devices(card, include_ended=topic.startswith("sos_"))
    rows = [_row(card=card, device=device, topic=topic, event_key=event_key, compose=compose, data=data,
                 broadcast_id=broadcast_id, expires_at=expires_at) for device in (devices or [None])]
    db.session.execute(insert(OutboxMessage), rows)
    signals.after_commit(db.session, signals.outbox_queued, len(rows))
    if any(device is not None for device in devices):
        db.session.info.setdefault(_EVENT_KEYS, set()).add(event_key)
    return len(rows)


_EVENT_KEYS = "pts_outbox_event_keys"
WEBPUSH = "webpush"


@event.listens_for(Session, "before_commit")
def _queue_webpush(session: Session) -> None:
    """One statement per transaction: a Web Push delivery for each new message to a subscribed device."""
    if session.in_nested_transaction():  # a savepoint released: the transaction may queue more messages
        return
    keys = session.info.pop(_EVENT_KEYS, None)
    if keys:
        queue_webpush_deliveries(session, event_keys=sorted(keys))


def queue_webpush_deliveries(session: Session, *, event_keys: list[str]) -> None:
    """Add the ``webpush`` delivery of every pending message of ``event_keys`` whose device is subscribed."""
    now = utcnow()
    when = literal(now, UTCDateTime())
    already = exists().where(OutboxDelivery.message_id == OutboxMessage.id, OutboxDelivery.channel == WEBPUSH)
    rows = (select(OutboxMessage.id, literal(WEBPUSH), literal(OutboxStatus.PENDING, OutboxDelivery.status.type), literal(0), when, when)
            .join(WebPushSubscription, WebPushSubscription.device_id == OutboxMessage.device_id)
            .where(OutboxMessage.event_key.in_(event_keys), OutboxMessage.status == OutboxStatus.PENDING,
                   ~already))
    session.execute(insert(OutboxDelivery).from_select(
        ["message_id", "channel", "status", "attempts", "next_attempt_at", "created_at"], rows))


def deliver_soon(_session: Any, **_: Any) -> None:
    """Messages were committed (``signals.outbox_queued``): the server's scheduler pushes them now."""
    nudge("push")


@event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint rolled back: the transaction's other messages stand
        return  # (a key of a message rolled back with the savepoint matches no row: nothing is queued for it)
    session.info.pop(_EVENT_KEYS, None)


def _row(*, card: Card, device: Device | None, topic: str, event_key: str, compose: Compose,
         data: dict[str, Any] | None, broadcast_id: int | None, expires_at: datetime | None) -> dict[str, Any]:
    now = utcnow()
    rendered = compose(messages.choose_language(device.language if device else None, card.tourist.language))
    return {
        "card_id": card.id, "device_id": device.id if device else None, "topic": topic, "event_key": event_key,
        "language": rendered.language, "title": rendered.title[:300], "body": rendered.body,
        "data": data or {}, "broadcast_id": broadcast_id, "status": OutboxStatus.PENDING, "attempts": 0,
        "next_attempt_at": now, "created_at": now, "expires_at": expires_at,
    }


# --- what tourists receive about their incidents ----------------------------------------------

_INCIDENT_TOPICS = {
    ("sos", "created"): "sos_received",
    ("sos", "acknowledged"): "sos_acknowledged",
    ("sos", "dispatched"): "sos_dispatched",
    ("sos", "resolved"): "sos_resolved",
    ("danger_zone", "created"): "danger_zone",
    ("left_area", "created"): "left_area",
    ("overdue", "created"): "overdue",
}


def notify_incident_event(incident: Incident, event: IncidentEvent) -> None:
    """Queue the tourist's message for an incident event (``signals.incident_event``, inside its transaction)."""
    topic = _INCIDENT_TOPICS.get((incident.kind, event.type))
    if topic is None or incident.card_id is None:  # a card-less 191 call has no tourist's phone to tell
        return
    card = db.session.get(Card, incident.card_id)
    if card is None:
        return
    compose = _incident_composer(topic, incident)
    queue_for_card(card=card, topic=topic, event_key=f"incident:{incident.id}:{event.type}", compose=compose,
                   data={"incident_id": incident.id, "status": incident.status, "kind": incident.kind})


def _incident_composer(topic: str, incident: Incident) -> Compose:
    if topic == "sos_dispatched":
        return lambda lang: messages.render(topic, lang, unit=incident.unit or messages.DEFAULT_UNIT.get(
            lang, messages.DEFAULT_UNIT["en"]))
    if topic == "danger_zone":
        zone = db.session.get(Zone, incident.zone_id) if incident.zone_id is not None else None
        return lambda lang: render_danger_zone(zone, lang)
    return lambda lang: messages.render(topic, lang)


def render_danger_zone(zone: Any, language: str) -> messages.Rendered:
    """The danger-zone warning: the zone's own name, description and advice in ``language``.

    Zones carry their texts in English and, from the seed data, in every other supported language
    (``Zone.translations``, geo/data/zones.i18n.json); a zone without a translation gets a
    translated general warning followed by its English specifics.
    """
    lang = language if language in messages.SUPPORTED_LANGUAGES else messages.DEFAULT_LANGUAGE
    default_description, default_advice = messages.zone_defaults(lang)
    if zone is None:
        return messages.render("danger_zone", lang, zone="?", description=default_description, advice=default_advice)
    name, description, advice = zone.localized(lang)
    rendered = messages.render("danger_zone", lang, zone=name, description=description or default_description,
                               advice=advice or default_advice)
    if lang != "en" and not (description and advice) and (zone.description or zone.advice):
        specifics = " ".join(t for t in (zone.description, zone.advice) if t)
        rendered = messages.Rendered(rendered.language, rendered.title, f"{rendered.body}\n\n(EN) {specifics}")
    return rendered


# --- card about to expire ---------------------------------------------------------------------

@periodic_job("card_expiry_notice")
def queue_card_expiry_notices(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Tell each tracked tourist once that their card expires within ``CARD_EXPIRY_NOTICE_S``."""
    now = now or utcnow()
    window = timedelta(seconds=current_app.config.get("CARD_EXPIRY_NOTICE_S", 2 * 86400))
    already = exists().where(OutboxMessage.card_id == Card.id, OutboxMessage.topic == "card_expiring")
    cards = list(db.session.scalars(
        select(Card).where(Card.status == CardStatus.ACTIVE, Card.expires_at > now,
                           Card.expires_at <= now + window, ~already).order_by(Card.expires_at).limit(limit)))
    for card in cards:
        expires_on = messages.local_date(card.expires_at)
        queue_for_card(card=card, topic="card_expiring", event_key=f"card:{card.id}:expiring",
                       compose=lambda lang, c=card, d=expires_on: messages.render("card_expiring", lang,
                                                                                  card_id=c.id, expires_on=d),
                       data={"card_id": card.id, "expires_at": card.expires_at.isoformat()},
                       expires_at=card.expires_at)
    return len(cards)


# --- delivery ---------------------------------------------------------------------------------

@periodic_job("push")
def deliver_push() -> str:
    """Deliver due outbox messages (the sweep's ``push`` job); returns a printable summary."""
    totals = deliver_due()
    return ", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "nothing due"


def deliver_due(*, channel: push.PushChannel | None = None, webpush_channel: push.PushChannel | None = None,
                batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES_PER_PASS) -> Counter[str]:
    """Send due messages batch by batch, committing each batch's outcomes; returns counts by outcome.

    FCM (the message rows) first, then the Web Push deliveries (counted as ``webpush <outcome>``).
    """
    channel = channel or push.channel_for(current_app.config)
    totals: Counter[str] = Counter()
    for _ in range(max_batches):
        claimed = deliver_batch(channel=channel, limit=batch_size)
        db.session.commit()
        totals.update(claimed)
        if sum(claimed.values()) < batch_size:
            break
    channels: list[push.PushChannel] = [webpush_channel] if webpush_channel is not None else []

    def web_channel() -> push.PushChannel:  # the VAPID key is loaded only when something is due
        if not channels:
            channels.append(webpush.channel_for(current_app.config))
        return channels[0]

    for _ in range(max_batches):
        claimed = deliver_webpush_batch(channel=web_channel, limit=batch_size)
        db.session.commit()
        totals.update({f"{WEBPUSH} {k}": v for k, v in claimed.items()})
        if sum(claimed.values()) < batch_size:
            break
    return totals


def _claim(limit: int, now: datetime) -> list[OutboxMessage]:
    query = (select(OutboxMessage)
             .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if is_postgres():
        query = query.with_for_update(skip_locked=True)  # held until the batch's outcomes commit
    return list(db.session.scalars(query))


def deliver_batch(*, channel: push.PushChannel, limit: int = BATCH_SIZE) -> Counter[str]:
    """Claim up to ``limit`` due messages, push them, and record each outcome (the caller commits)."""
    now = utcnow()
    rows = _claim(limit, now)
    counts: Counter[str] = Counter()
    if not rows:
        return counts
    devices = {d.id: d for d in db.session.scalars(
        select(Device).where(Device.id.in_({r.device_id for r in rows if r.device_id})))}
    sendable: list[tuple[OutboxMessage, Device]] = []
    for row in rows:
        device = devices.get(row.device_id) if row.device_id else None
        if row.expires_at is not None and row.expires_at <= now:
            _finish(row, OutboxStatus.FAILED, "expired before it could be delivered")
        elif device is None or not device.push_token:
            _finish(row, OutboxStatus.HELD, "no push token for this device")
        else:
            sendable.append((row, device))
            continue
        counts[row.status] += 1
    if sendable:
        results = channel.send([_request(row, device, now) for row, device in sendable])
        answered = utcnow()  # backoff counts from the failure, not from the claim
        for (row, device), result in zip(sendable, results, strict=True):
            _apply(row, result, answered,
                   forget=lambda d=device: forget_token(device_id=d.id, token=d.push_token))
            counts[row.status if row.status != OutboxStatus.PENDING else "retry"] += 1
    return counts


def _claim_webpush(limit: int, now: datetime) -> list[OutboxDelivery]:
    query = (select(OutboxDelivery)
             .where(OutboxDelivery.channel == WEBPUSH, OutboxDelivery.status == OutboxStatus.PENDING,
                    OutboxDelivery.next_attempt_at <= now)
             .order_by(OutboxDelivery.next_attempt_at, OutboxDelivery.id).limit(limit))
    if is_postgres():
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def deliver_webpush_batch(*, channel: Callable[[], push.PushChannel], limit: int = BATCH_SIZE) -> Counter[str]:
    """Claim up to ``limit`` due Web Push deliveries, push them, record each outcome (the caller commits)."""
    now = utcnow()
    rows = _claim_webpush(limit, now)
    counts: Counter[str] = Counter()
    if not rows:
        return counts
    messages_by_id = {m.id: m for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_({r.message_id for r in rows})))}
    device_ids = {m.device_id for m in messages_by_id.values() if m.device_id}
    devices = {d.id: d for d in db.session.scalars(select(Device).where(Device.id.in_(device_ids)))}
    subscriptions = {s.device_id: s for s in db.session.scalars(
        select(WebPushSubscription).where(WebPushSubscription.device_id.in_(device_ids)))}
    sendable: list[tuple[OutboxDelivery, push.PushRequest, WebPushSubscription]] = []
    for row in rows:
        message = messages_by_id.get(row.message_id)
        device = devices.get(message.device_id) if message and message.device_id else None
        subscription = subscriptions.get(device.id) if device else None
        if message is None or device is None or subscription is None:
            _finish(row, OutboxStatus.DROPPED, "no Web Push subscription for this device any more")
        elif message.expires_at is not None and message.expires_at <= now:
            _finish(row, OutboxStatus.FAILED, "expired before it could be delivered")
        else:
            target = webpush.WebPushTarget(subscription.endpoint, subscription.p256dh, subscription.auth)
            request = replace(_request(message, device, now), token=subscription.endpoint, webpush=target)
            sendable.append((row, request, subscription))
            continue
        counts[row.status] += 1
    if sendable:
        results = channel().send([request for _, request, _ in sendable])
        answered = utcnow()
        for (row, _, subscription), result in zip(sendable, results, strict=True):
            _apply(row, result, answered, forget=lambda s=subscription: webpush.forget_subscription(
                device_id=s.device_id, endpoint=s.endpoint))
            counts[row.status if row.status != OutboxStatus.PENDING else "retry"] += 1
    return counts


def _request(row: OutboxMessage, device: Device, now: datetime) -> push.PushRequest:
    data = {str(k): "" if v is None else str(v) for k, v in (row.data or {}).items()}
    data.update({"topic": row.topic, "message_id": str(row.id), "language": row.language})
    ttl = int((row.expires_at - now).total_seconds()) if row.expires_at else None
    urgent = row.topic in URGENT_TOPICS or (row.data or {}).get("severity") in ("Extreme", "Severe")
    return push.PushRequest(token=device.push_token or "", title=row.title, body=row.body, data=data,
                            urgent=urgent, ttl_s=ttl)


def _finish(row: OutboxMessage | OutboxDelivery, status: OutboxStatus, error: str | None) -> None:
    row.status = status
    row.last_error = error[:500] if error else None


def _apply(row: OutboxMessage | OutboxDelivery, result: push.PushResult, now: datetime, *,
           forget: Callable[[], None]) -> None:
    """Record one channel's answer on a message (FCM) or a delivery (Web Push); ``forget`` drops a dead target."""
    row.attempts += 1
    outcome = result.outcome
    if outcome is push.Outcome.SENT:
        row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
        row.provider_message_id = (result.provider_message_id or "")[:300] or None
    elif outcome is push.Outcome.HELD:
        _finish(row, OutboxStatus.HELD, result.error)
    elif outcome is push.Outcome.UNREGISTERED:
        _finish(row, OutboxStatus.DROPPED, result.error)
        forget()
    elif outcome is push.Outcome.REJECTED:
        _finish(row, OutboxStatus.FAILED, result.error)
    elif row.attempts >= MAX_ATTEMPTS:
        _finish(row, OutboxStatus.FAILED, f"gave up after {row.attempts} attempts: {result.error}")
    else:
        row.last_error = (result.error or "temporary failure")[:500]
        row.next_attempt_at = now + timedelta(seconds=backoff_s(row.attempts, result.retry_after_s))


def backoff_s(attempts: int, retry_after_s: float | None = None) -> float:
    """Seconds to wait after ``attempts`` failed tries: 30 s doubling to 1 h, at least ``Retry-After``."""
    delay = min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S)
    return max(delay, min(retry_after_s or 0, BACKOFF_MAX_S))


def forget_token(*, device_id: str, token: str | None) -> None:
    """Clear a dead push token from its device (unless the app has registered a new one since)."""
    db.session.execute(update(Device).where(Device.id == device_id, Device.push_token == token)
                       .values(push_token=None))
    log.info("push token of device %s is unregistered: cleared", device_id)


# --- the tourist's inbox ----------------------------------------------------------------------

def inbox(*, card_id: str, device_id: str | None, limit: int = 50,
          before_id: int | None = None) -> list[OutboxMessage]:
    """The card's messages, newest first, one per event (the row of ``device_id`` when there is one)."""
    query = select(OutboxMessage).where(OutboxMessage.card_id == card_id)
    if before_id is not None:  # the next page: older than that message, and not of its event
        query = query.where(OutboxMessage.id < before_id)
        cursor = db.session.get(OutboxMessage, before_id)
        if cursor is not None and cursor.card_id == card_id and cursor.event_key:
            query = query.where((OutboxMessage.event_key.is_(None)) | (OutboxMessage.event_key != cursor.event_key))
    rows = db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit * 4))
    return _one_per_event(rows, device_id)[:limit]


def _one_per_event(rows: Iterable[OutboxMessage], device_id: str | None) -> list[OutboxMessage]:
    chosen: dict[str, OutboxMessage] = {}
    for row in rows:
        key = row.event_key or f"id:{row.id}"
        current = chosen.get(key)
        if current is None or (row.device_id == device_id and current.device_id != device_id):
            chosen[key] = row
    return sorted(chosen.values(), key=lambda r: (r.created_at, r.id), reverse=True)
