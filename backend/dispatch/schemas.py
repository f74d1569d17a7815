"""Incident payloads (the contract's representation)."""

from __future__ import annotations

from marshmallow import Schema, fields


class TouristBriefSchema(Schema):
    """What a dispatcher needs to know of the card holder."""

    full_name = fields.String()
    nationality = fields.String()
    phone = fields.String(allow_none=True)
    language = fields.String()


class ZoneRefSchema(Schema):
    """The zone an incident is about."""

    id = fields.Integer()
    name = fields.String()


class IncidentSchema(Schema):
    """An incident as the 191 center sees it (and as emitted over Socket.IO)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    severity = fields.String(required=True)
    card_id = fields.String(required=True)
    tourist = fields.Method("dump_tourist")
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    dispatched_at = fields.AwareDateTime(allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    category = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)
    zone = fields.Method("dump_zone", allow_none=True)

    def dump_tourist(self, incident) -> dict | None:  # noqa: ANN001
        """The holder's name, nationality and phone."""
        from backend.cards.models import Card
        from backend.extensions import db

        card = db.session.get(Card, incident.card_id)
        if card is None:
            return None
        return TouristBriefSchema().dump(card.tourist)

    def dump_zone(self, incident) -> dict | None:  # noqa: ANN001
        """The zone's id and name, when the incident is about a zone."""
        if incident.zone_id is None:
            return None
        from backend.extensions import db
        from geo.models import Zone

        zone = db.session.get(Zone, incident.zone_id)
        return None if zone is None else ZoneRefSchema().dump(zone)


class IncidentEventSchema(Schema):
    """One entry of an incident's timeline."""

    seq = fields.Integer()
    type = fields.String()
    at = fields.AwareDateTime()
    actor = fields.String(allow_none=True)
    detail = fields.Dict(allow_none=True)
