"""Incident payloads (the contract's representation)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backend.cards.card_id import CardId


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


# --- the 191 center's REST payloads ---------------------------------------------------------

INCIDENT_KINDS = ("sos", "left_area", "danger_zone", "overdue")
SEVERITIES = ("critical", "high", "medium", "low")
STATUS_FILTERS = ("open", "closed", "new", "acknowledged", "dispatched", "resolved", "cancelled")
SOS_CATEGORIES = ("medical", "crime", "marine", "lost", "other")


class Text(fields.String):
    """A trimmed, non-blank string of at most ``max_length`` characters."""

    def __init__(self, max_length: int, **kwargs) -> None:  # noqa: ANN003
        super().__init__(validate=validate.Length(min=1, max=max_length), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003
        return super()._deserialize(value, attr, data, **kwargs).strip()


class BBoxField(fields.String):
    """``minLon,minLat,maxLon,maxLat`` in WGS 84 degrees."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003
        from backend.dispatch.positions import BBox

        try:
            return BBox.parse(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class IncidentQuerySchema(Schema):
    """Filters of the incident list."""

    status = fields.String(validate=validate.OneOf(STATUS_FILTERS),
                           metadata={"description": "open = new, acknowledged or dispatched; closed = resolved "
                                                    "or cancelled; or one status"})
    kind = fields.String(validate=validate.OneOf(INCIDENT_KINDS))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    card_id = CardId()
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class IncidentListSchema(Schema):
    """Incidents, most severe and longest waiting first."""

    items = fields.List(fields.Nested(IncidentSchema), required=True)
    last_seq = fields.Integer(required=True, metadata={
        "description": "seq of the newest incident event when the list was read: resume after it"})


class IncidentHolderSchema(Schema):
    """The card holder's details a dispatcher may need to help them."""

    full_name = fields.String()
    nationality = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    language = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    emergency_contact = fields.String(allow_none=True)


class IncidentCardSchema(Schema):
    """The incident's card."""

    card_id = fields.String()
    kind = fields.String()
    status = fields.String(metadata={"description": "active, revoked, closed or expired"})
    checkpoint = fields.String()
    expires_at = fields.AwareDateTime()


class IncidentStaySchema(Schema):
    """Where the tourist is checked in, if anywhere."""

    hotel_id = fields.Integer()
    hotel = fields.String()
    hotel_phone = fields.String(allow_none=True)
    room = fields.String(allow_none=True)
    checked_in_at = fields.AwareDateTime()


class IncidentLastPositionSchema(Schema):
    """The tourist's newest fix."""

    lat = fields.Float()
    lon = fields.Float()
    recorded_at = fields.AwareDateTime()
    last_contact_at = fields.AwareDateTime()
    accuracy_m = fields.Float(allow_none=True)
    battery_pct = fields.Float(allow_none=True)
    at_sea = fields.Boolean()


class IncidentDetailSchema(IncidentSchema):
    """An incident with its timeline and what the dispatcher needs to act on it."""

    timeline = fields.List(fields.Nested(IncidentEventSchema), required=True)
    holder = fields.Nested(IncidentHolderSchema, allow_none=True)
    card = fields.Nested(IncidentCardSchema, allow_none=True)
    stay = fields.Nested(IncidentStaySchema, allow_none=True)
    last_position = fields.Nested(IncidentLastPositionSchema, allow_none=True)


class IncidentCreateSchema(Schema):
    """An incident opened by a dispatcher, e.g. from a 191 phone call about a card holder."""

    card_id = CardId(required=True)
    kind = fields.String(load_default="sos", validate=validate.OneOf(INCIDENT_KINDS))
    severity = fields.String(validate=validate.OneOf(SEVERITIES),
                             metadata={"description": "default: critical for sos, high otherwise"})
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False)
    lon = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)
    accuracy_m = fields.Float(validate=validate.Range(min=0, max=100_000), allow_nan=False)
    category = fields.String(validate=validate.OneOf(SOS_CATEGORIES))
    note = Text(2000)

    @validates_schema
    def _position_pair(self, data: dict, **_kwargs) -> None:
        if ("lat" in data) != ("lon" in data):
            raise ValidationError("give both lat and lon, or neither", "lat" if "lon" in data else "lon")


class IncidentAcknowledgeSchema(Schema):
    """Acknowledging an incident, optionally with a note."""

    note = Text(2000)


class IncidentDispatchSchema(Schema):
    """Sending a unit to an incident."""

    unit = Text(120, required=True, metadata={"example": "Patong Police 3 / Kusoldharm ambulance 12"})
    note = Text(2000)


class IncidentResolveSchema(Schema):
    """Closing an incident."""

    resolution = Text(120, metadata={"example": "assisted on scene"})
    note = Text(2000)


class IncidentNoteSchema(Schema):
    """A dispatcher's note on an incident's timeline."""

    note = Text(2000, required=True)


class MapPositionsQuerySchema(Schema):
    """The map viewport."""

    bbox = BBoxField(required=True, metadata={"example": "98.25,7.75,98.45,8.2",
                                              "description": "minLon,minLat,maxLon,maxLat"})
    limit = fields.Integer(load_default=10_000, validate=validate.Range(min=1, max=50_000))


class MapPointSchema(Schema):
    """A GeoJSON Point."""

    type = fields.String(required=True, metadata={"example": "Point"})
    coordinates = fields.List(fields.Float(), required=True, metadata={"description": "[lon, lat]"})


class MapPositionPropertiesSchema(Schema):
    """What the map shows of a tourist."""

    card_id = fields.String(required=True)
    recorded_at = fields.AwareDateTime(required=True)
    last_contact_at = fields.AwareDateTime()
    status = fields.String(required=True, metadata={"description": "sos, danger, outside, overdue or ok"})
    full_name = fields.String()
    nationality = fields.String()
    accuracy_m = fields.Float(allow_none=True)
    battery_pct = fields.Float(allow_none=True)


class MapPositionFeatureSchema(Schema):
    """One tourist's latest position."""

    type = fields.String(required=True)
    id = fields.String()
    geometry = fields.Nested(MapPointSchema, required=True)
    properties = fields.Nested(MapPositionPropertiesSchema, required=True)


class MapPositionCollectionSchema(Schema):
    """Latest positions inside the viewport (GeoJSON FeatureCollection)."""

    type = fields.String(required=True)
    features = fields.List(fields.Nested(MapPositionFeatureSchema), required=True)
    truncated = fields.Boolean(metadata={"description": "more tourists are inside than the limit"})


class CardTrackQuerySchema(Schema):
    """How far back a track goes."""

    hours = fields.Float(load_default=24, validate=validate.Range(min=0.1, max=24 * 14), allow_nan=False)


class CardTrackPropertiesSchema(Schema):
    """One ping of a track."""

    recorded_at = fields.AwareDateTime(required=True)
    accuracy_m = fields.Float(allow_none=True)
    speed_mps = fields.Float(allow_none=True)
    battery_pct = fields.Float(allow_none=True)
    source = fields.String()


class CardTrackFeatureSchema(Schema):
    """One ping as a GeoJSON Feature."""

    type = fields.String(required=True)
    geometry = fields.Nested(MapPointSchema, required=True)
    properties = fields.Nested(CardTrackPropertiesSchema, required=True)


class CardTrackSchema(Schema):
    """A card's recent pings, oldest first (GeoJSON FeatureCollection)."""

    type = fields.String(required=True)
    card_id = fields.String(required=True)
    features = fields.List(fields.Nested(CardTrackFeatureSchema), required=True)


class IncidentNearbyFacilitySchema(Schema):
    """A place that helps, with its distance from the incident."""

    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    name_th = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    lat = fields.Float()
    lon = fields.Float()
    distance_m = fields.Float()


class IncidentNearbyFacilitiesSchema(Schema):
    """The nearest hospitals, police and marine police, nearest first."""

    items = fields.List(fields.Nested(IncidentNearbyFacilitySchema), required=True)
