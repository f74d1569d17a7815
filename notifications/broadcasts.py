"""Geo-targeted safety broadcasts: store, notify every tracked tourist inside, list, cancel.

The area is a polygon drawn by the dispatcher or an existing zone. Recipients are the cards
that are tracked right now (:meth:`Card.is_trackable`) whose latest position lies inside the
area (its boundary included), found with one spatial query; each of their devices gets an
outbox message in its language, in the same transaction as the broadcast itself.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import func, select

from backend.audit.service import record as audit
from backend.cards.models import Card, CardStatus
from backend.extensions import db
from backend.geometry import SRID, to_element
from backend.models_base import utcnow
from backend.tracking.models import Device, LatestPosition
from geo.models import Zone
from geo.validation import GeometryError, parse_area
from notifications import messages
from notifications.models import Broadcast
from notifications.outbox import queue_for_card

SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
              "CBRNE", "Other")
MAX_VERTICES = 2000


@dataclass(frozen=True)
class Template:
    """A broadcast pre-written in every supported language (texts: ``broadcast.<id>.*`` in the catalogs)."""

    id: str
    severity: str
    urgency: str
    category: str
    event: str
    certainty: str = "Observed"

    def headline(self, language: str) -> str:
        """The headline in ``language`` (English when the catalog lacks it)."""
        return messages.text(f"broadcast.{self.id}.headline", language)

    def message(self, language: str) -> str:
        """The message in ``language`` (English when the catalog lacks it)."""
        return messages.text(f"broadcast.{self.id}.message", language)


TEMPLATES: dict[str, Template] = {t.id: t for t in (
    Template("rip_current_red_flag", "Severe", "Immediate", "Safety", "Rip current red flag"),
    Template("storm_small_boat", "Severe", "Expected", "Met", "Storm and small-boat warning", "Likely"),
    Template("tsunami_warning", "Extreme", "Immediate", "Geo", "Tsunami warning", "Likely"),
    Template("tsunami_all_clear", "Minor", "Past", "Geo", "Tsunami all clear"),
    Template("heat", "Moderate", "Expected", "Met", "Heat warning", "Likely"),
    Template("jellyfish", "Moderate", "Immediate", "Safety", "Jellyfish warning"),
    Template("road_closure", "Minor", "Immediate", "Transport", "Road closure"),
    Template("pier_closure", "Moderate", "Immediate", "Transport", "Pier closure"),
)}


def template_texts(template: Template, *, headline: str | None = None, message: str | None = None,
                   language: str = "en") -> tuple[str, str, dict[str, dict[str, str]]]:
    """The broadcast texts of ``template``: (headline, message) in ``language`` and the translations.

    Without a free text every language gets the template's own headline and message. A free-text
    ``message`` (written in ``language``) reaches everyone as written, under the template's headline
    translated into each recipient's language; a free ``headline`` replaces the template's only in
    ``language``.
    """
    lang = messages.primary_language(language) or messages.DEFAULT_LANGUAGE
    translations = {other: {"headline": template.headline(other), "message": message or template.message(other)}
                    for other in messages.SUPPORTED_LANGUAGES if other != lang}
    own_headline = headline or template.headline(lang)
    own_message = message or template.message(lang)
    return own_headline, own_message, translations


class AreaError(ValueError):
    """The broadcast area cannot be used; ``str(exc)`` says why."""


def polygon_from_geojson(coordinates: list[list[list[float]]]) -> MultiPolygon:
    """A valid area from GeoJSON Polygon coordinates (one closed outer ring, lon/lat), or :class:`AreaError`.

    The zones' validation (:func:`geo.validation.parse_area`) with a broadcast's limits: one ring
    (CAP areas have no holes), at most ``MAX_VERTICES`` positions, any size inside the region.
    """
    try:
        return parse_area({"type": "Polygon", "coordinates": coordinates}, kinds=("Polygon",), holes=False,
                          max_vertices=MAX_VERTICES, max_area_km2=None)
    except GeometryError as exc:
        raise AreaError(str(exc)) from exc


def create_broadcast(*, headline: str | None = None, message: str | None = None, severity: str | None = None,
                     area: MultiPolygon | None = None, zone_id: int | None = None, urgency: str | None = None,
                     certainty: str | None = None, category: str | None = None, event: str | None = None,
                     instruction: str | None = None, translations: dict[str, dict[str, str]] | None = None,
                     language: str = "en", template: str | None = None, area_desc: str | None = None,
                     expires_at: datetime | None = None, created_by: int | None = None) -> Broadcast:
    """Store a broadcast and queue a message for every tracked tourist inside its area; the caller commits.

    Give either ``area`` (a validated polygon) or ``zone_id``; an unknown zone raises :class:`AreaError`.
    With a ``template`` (an id of :data:`TEMPLATES`) the headline, message, severity, urgency,
    certainty, category and event default to the template's, in every supported language
    (:func:`template_texts`); explicit ``translations`` still win. Without one, ``headline``,
    ``message`` and ``severity`` are required.
    """
    if template is not None:
        chosen = TEMPLATES.get(template)
        if chosen is None:
            raise ValueError(f"there is no broadcast template {template!r}")
        headline, message, from_template = template_texts(chosen, headline=headline, message=message,
                                                          language=language)
        translations = {**from_template, **(translations or {})}
        severity, urgency = severity or chosen.severity, urgency or chosen.urgency
        certainty, category = certainty or chosen.certainty, category or chosen.category
        event = event or chosen.event
    if not (headline and message and severity):
        raise ValueError("a broadcast without a template needs headline, message and severity")
    urgency, certainty, category = urgency or "Immediate", certainty or "Observed", category or "Safety"
    if zone_id is not None:
        zone = db.session.get(Zone, zone_id)
        if zone is None:
            raise AreaError(f"there is no zone {zone_id}")
        area_element, area_desc = zone.geom, area_desc or zone.name
    elif area is not None:
        area_element = to_element(area)
    else:
        raise AreaError("give a polygon or a zone_id")
    broadcast = Broadcast(
        identifier=f"PTS-{utcnow():%Y%m%d}-{uuid.uuid4().hex}", language=messages.primary_language(language) or "en",
        headline=headline, message=message, instruction=instruction, translations=_clean(translations),
        category=category, event=event or "Safety warning", severity=severity, urgency=urgency,
        certainty=certainty, zone_id=zone_id, area=area_element, area_desc=area_desc or "Area drawn by the 191 center",
        created_by=created_by, created_at=utcnow().replace(microsecond=0), expires_at=expires_at)
    db.session.add(broadcast)
    db.session.flush()
    broadcast.recipients = _notify_recipients(broadcast)
    audit("broadcast.create", subject_type="broadcast", subject_id=broadcast.id,
          detail={"severity": severity, "recipients": broadcast.recipients, "zone_id": zone_id,
                  "template": template})
    return broadcast


def _clean(translations: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]] | None:
    if not translations:
        return None
    return {messages.primary_language(lang): {k: v for k, v in text.items() if v}
            for lang, text in translations.items()}


def recipient_cards(broadcast: Broadcast, *, now: datetime | None = None) -> list[Card]:
    """Tracked cards whose latest position is inside the broadcast's area (one spatial query)."""
    return cards_inside(area=to_shape(broadcast.area), now=now)


def resolve_area(*, area: MultiPolygon | None = None, zone_id: int | None = None) -> MultiPolygon:
    """The area of a polygon or a zone (:class:`AreaError` for an unknown zone)."""
    if zone_id is not None:
        zone = db.session.get(Zone, zone_id)
        if zone is None:
            raise AreaError(f"there is no zone {zone_id}")
        return to_shape(zone.geom)
    if area is None:
        raise AreaError("give a polygon or a zone_id")
    return area


def cards_inside(*, area: Any, now: datetime | None = None) -> list[Card]:
    """Tracked cards whose latest position lies inside ``area`` (a shapely geometry, boundary included)."""
    now = now or utcnow()
    min_lon, min_lat, max_lon, max_lat = area.bounds
    inside = (select(LatestPosition.card_id)
              # cheap bounding-box test first (SpatiaLite has no index here), then the exact one
              .where(LatestPosition.lat.between(min_lat, max_lat), LatestPosition.lon.between(min_lon, max_lon),
                     func.ST_Intersects(func.ST_GeomFromText(area.wkt, SRID), LatestPosition.geom)))
    return list(db.session.scalars(
        select(Card).where(Card.id.in_(inside), Card.status == CardStatus.ACTIVE, Card.expires_at > now)))


def _recipient_devices(cards: list[Card]) -> dict[str, list[Device]]:
    """The cards' devices that get the broadcast (not revoked), oldest first, by card id."""
    devices: dict[str, list[Device]] = defaultdict(list)
    if cards:
        for device in db.session.scalars(select(Device).where(Device.card_id.in_([c.id for c in cards]),
                                                              Device.revoked_at.is_(None))
                                         .order_by(Device.created_at)):
            devices[device.card_id].append(device)
    return devices


def preview(*, area: MultiPolygon | None = None, zone_id: int | None = None) -> dict[str, Any]:
    """Who a broadcast to this area would reach now, by language; changes nothing.

    Each tourist counts once, in the language of their newest linked phone (else the card
    holder's, else English), the language their message would be written in.
    """
    cards = cards_inside(area=resolve_area(area=area, zone_id=zone_id))
    devices = _recipient_devices(cards)
    counts: Counter[str] = Counter()
    for card in cards:
        newest = devices.get(card.id, [])[-1:]
        counts[messages.choose_language(newest[0].language if newest else None, card.tourist.language)] += 1
    order = {lang: i for i, lang in enumerate(messages.SUPPORTED_LANGUAGES)}
    return {"recipients": len(cards),
            "languages": [{"tag": lang, "name": messages.language_name(lang), "count": count}
                          for lang, count in sorted(counts.items(), key=lambda kv: (-kv[1], order[kv[0]]))]}


def _notify_recipients(broadcast: Broadcast) -> int:
    cards = recipient_cards(broadcast)
    devices = _recipient_devices(cards)
    data = {"broadcast_id": broadcast.id, "severity": broadcast.severity, "urgency": broadcast.urgency}
    for card in cards:
        queue_for_card(card=card, topic="broadcast", event_key=f"broadcast:{broadcast.id}",
                       compose=lambda lang: render_broadcast(broadcast, lang), data=data,
                       broadcast_id=broadcast.id, expires_at=broadcast.expires_at, devices=devices.get(card.id, []))
    return len(cards)


def texts(broadcast: Broadcast) -> dict[str, dict[str, str | None]]:
    """The broadcast's headline, message and instruction by language (its own language first)."""
    out: dict[str, dict[str, str | None]] = {
        broadcast.language: {"headline": broadcast.headline, "message": broadcast.message,
                             "instruction": broadcast.instruction}}
    for lang, text in (broadcast.translations or {}).items():
        if lang != broadcast.language:
            out[lang] = {"headline": text.get("headline") or broadcast.headline,
                         "message": text.get("message") or broadcast.message,
                         "instruction": text.get("instruction") or broadcast.instruction}
    return out


def render_broadcast(broadcast: Broadcast, language: str) -> messages.Rendered:
    """The broadcast as a push message in ``language`` (its own language when not translated)."""
    available = texts(broadcast)
    lang = language if language in available else broadcast.language
    text = available[lang]
    body = text["message"] or ""
    if text.get("instruction"):
        body = f"{body}\n\n{text['instruction']}"
    return messages.Rendered(language=lang, title=(text["headline"] or "")[:300], body=body)


def get_broadcast(*, broadcast_id: int) -> Broadcast | None:
    """One broadcast by id."""
    return db.session.get(Broadcast, broadcast_id)


def list_broadcasts(*, active_only: bool = False, limit: int = 100) -> list[Broadcast]:
    """Broadcasts, newest first; ``active_only`` leaves out expired and cancelled ones."""
    query = select(Broadcast).order_by(Broadcast.created_at.desc(), Broadcast.id.desc()).limit(limit)
    if active_only:
        now = utcnow()
        query = query.where(Broadcast.cancelled_at.is_(None),
                            (Broadcast.expires_at.is_(None)) | (Broadcast.expires_at > now))
    return list(db.session.scalars(query))


def cancel_broadcast(*, broadcast: Broadcast, cancelled_by: int | None) -> Broadcast:
    """End a broadcast early: no longer active, undelivered messages are not pushed; idempotent."""
    from sqlalchemy import update

    from notifications.models import OutboxMessage, OutboxStatus

    if broadcast.cancelled_at is None:
        broadcast.cancelled_at, broadcast.cancelled_by = utcnow().replace(microsecond=0), cancelled_by
        db.session.execute(update(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast.id,
                                                       OutboxMessage.status == OutboxStatus.PENDING)
                           .values(status=OutboxStatus.FAILED, last_error="broadcast cancelled"))
        audit("broadcast.cancel", subject_type="broadcast", subject_id=broadcast.id)
    return broadcast


def area_polygons(broadcast: Broadcast) -> list[Polygon]:
    """The polygons of the broadcast's area."""
    shape = to_shape(broadcast.area)
    return list(shape.geoms) if hasattr(shape, "geoms") else [shape]


def area_geojson(broadcast: Broadcast) -> dict[str, Any]:
    """The area as a GeoJSON MultiPolygon (lon, lat), coordinates rounded to 6 decimals (~0.1 m)."""
    from shapely.geometry import mapping

    def rounded(value: Any) -> Any:
        if isinstance(value, float):
            return round(value, 6)
        return [rounded(v) for v in value]

    geometry = mapping(to_shape(broadcast.area))
    return {"type": geometry["type"], "coordinates": rounded(geometry["coordinates"])}
