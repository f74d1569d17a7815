"""Incident payloads (the contract's representation)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backend.card_ids import CardId
from backend.dispatch import sources
from backend.dispatch.models import UnitAgency
from backend.vocab import Severity, SosCategory


class TouristBriefSchema(Schema):
    """What a dispatcher needs to know of the card holder (and how to call them or their family)."""

    full_name = fields.String()
    latin_name = fields.String(allow_none=True, metadata={
        "description": "the passport's Latin-script name (machine-readable zone), null when unknown"})
    nationality = fields.String()
    phone = fields.String(allow_none=True)
    emergency_contact = fields.String(allow_none=True)
    language = fields.String()


class UnitRefSchema(Schema):
    """The unit sent: a listed unit ``{id, name, agency}`` or a free-text one ``{name}``."""

    id = fields.Integer()
    name = fields.String(required=True)
    agency = fields.String()


class ZoneRefSchema(Schema):
    """The zone an incident is about."""

    id = fields.Integer()
    name = fields.String()


class TripRefSchema(Schema):
    """The boat trip a marine incident is about."""

    id = fields.Integer()
    vessel_name = fields.String()
    pier = fields.String()
    destination = fields.String()
    returns_by = fields.AwareDateTime()
    passengers_aboard = fields.Integer()
    status = fields.String()


class ManifestEntrySchema(Schema):
    """A passenger of the incident's boat trip."""

    card_id = fields.String()
    full_name = fields.String()
    nationality = fields.String()
    phone = fields.String(allow_none=True)
    boarded_at = fields.AwareDateTime()
    ashore_at = fields.AwareDateTime(allow_none=True)
    last_position = fields.Dict(allow_none=True, metadata={"description": "{lat, lon, recorded_at}"})


class IncidentSchema(Schema):
    """An incident as the 191 center sees it (and as emitted over Socket.IO)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    severity = fields.String(required=True)
    card_id = fields.String(required=True, allow_none=True, metadata={
        "description": "null for a card-less incident from a 191 call (then `caller` says who called)"})
    tourist = fields.Method("dump_tourist", allow_none=True, metadata={
        "type": "object", "description": "the card holder; null for a card-less incident"})
    caller = fields.Method("dump_caller", allow_none=True, metadata={
        "type": "object", "description": "{name, phone} of whoever called 191 (either may be null): always for a "
                                         "card-less call, else only when the dispatcher noted a caller (null "
                                         "for a trip's boat_overdue)"})
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
    acknowledged_by = fields.String(allow_none=True, metadata={"description": "staff username"})
    dispatched_by = fields.String(allow_none=True, metadata={"description": "staff username"})
    resolved_by = fields.String(allow_none=True, metadata={"description": "staff username"})
    unit = fields.Method("dump_unit", allow_none=True, metadata={
        "type": "object", "description": "{id, name, agency} for a listed unit, {name} for free text, null before "
                                         "dispatch"})
    resolution = fields.String(allow_none=True)
    zone = fields.Method("dump_zone", allow_none=True)
    muted = fields.Method("dump_muted", metadata={
        "type": "boolean",
        "description": "a danger_zone incident of a zone whose danger alerts a dispatcher muted (never SOS)"})
    trip = fields.Method("dump_trip", allow_none=True, metadata={
        "description": "boat_overdue / passenger_unaccounted: {id, vessel_name, pier, destination, returns_by, "
                       "passengers_aboard, status} of the boat trip (backend.marine)"})

    def dump_tourist(self, incident) -> dict | None:  # noqa: ANN001
        """The holder's names, nationality, phone and emergency contact (the card is loaded in bulk by lists)."""
        card = incident.holder_card
        if card is None:
            return None
        return TouristBriefSchema().dump(card.tourist)

    def dump_caller(self, incident) -> dict | None:  # noqa: ANN001
        """Who called 191: always for a card-less call, for a carded one when the dispatcher noted it.

        Null for what no one called in (e.g. a trip's card-less boat_overdue, raised by the sweep).
        """
        if incident.caller_name is None and incident.caller_phone is None and (
                incident.card_id is not None or getattr(incident, "trip_id", None) is not None):
            return None
        return {"name": incident.caller_name, "phone": incident.caller_phone}

    def dump_zone(self, incident) -> dict | None:  # noqa: ANN001
        """The zone's id and name, when the incident is about a zone."""
        if incident.zone_id is None:
            return None
        zone = incident.zone
        return None if zone is None else ZoneRefSchema().dump(zone)

    def dump_unit(self, incident) -> dict | None:  # noqa: ANN001
        """The listed unit, or the free-text unit's name."""
        if incident.unit_id is not None and incident.listed_unit is not None:
            return UnitRefSchema().dump(incident.listed_unit)
        return {"name": incident.unit} if incident.unit else None

    def dump_trip(self, incident) -> dict | None:  # noqa: ANN001
        """The boat trip of a marine incident (no query for other incidents); the marine domain's brief."""
        if getattr(incident, "trip_id", None) is None:
            return None
        briefs = getattr(incident, "_pts_trip_briefs", None)  # a list page's briefs, one per trip (search.py)
        brief = briefs[incident.trip_id] if briefs is not None else sources.current().trips.trip_brief(incident.trip_id)
        return None if brief is None else TripRefSchema().dump(brief)

    def dump_muted(self, incident) -> bool:  # noqa: ANN001
        """Whether the zone of this danger_zone incident is muted now."""
        from backend.dispatch.mutes import is_muted

        return is_muted(incident)


class TimelineEntrySchema(Schema):
    """One entry of an incident's timeline, as a dispatcher reads it (no device or client ids)."""

    at = fields.AwareDateTime(required=True)
    kind = fields.String(required=True, metadata={
        "description": "created, updated, acknowledged, dispatched, resolved, cancelled, note, returned …"})
    text = fields.String(required=True, metadata={"example": "Enrolled phone sent SOS (medical)"})
    actor = fields.String(allow_none=True, metadata={"description": "staff username; null for the system or "
                                                                    "the tourist's phone"})


class TrackPointSchema(Schema):
    """One position of the card around the incident."""

    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    recorded_at = fields.AwareDateTime(required=True)


# --- the 191 center's REST payloads ---------------------------------------------------------

INCIDENT_KINDS = ("sos", "left_area", "danger_zone", "overdue")
SEVERITIES = ("critical", "high", "medium", "low")
STATUS_FILTERS = ("open", "closed", "any", "new", "acknowledged", "dispatched", "resolved", "cancelled")


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


class CommaList(fields.String):
    """A comma-separated list of names, each one of ``choices()`` (loads a tuple without repeats)."""

    def __init__(self, choices, **kwargs) -> None:  # noqa: ANN001, ANN003
        self.choices = choices
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003
        text = super()._deserialize(value, attr, data, **kwargs)
        names = [part.strip() for part in text.split(",") if part.strip()]
        allowed = tuple(self.choices())
        unknown = [n for n in names if n not in allowed]
        if not names or unknown or len(names) > 20:
            raise ValidationError(f"a comma-separated list of: {', '.join(allowed)}"
                                  + (f" (unknown: {', '.join(unknown[:5])})" if unknown else ""))
        return tuple(dict.fromkeys(names))


def _kinds() -> tuple[str, ...]:
    from backend.dispatch.models import IncidentKind

    return tuple(k.value for k in IncidentKind)


class CursorField(fields.String):
    """The opaque ``next_cursor`` of a previous page."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003
        from backend.dispatch.search import BadCursor, Cursor

        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 200:
            raise ValidationError("not a cursor of this list")
        try:
            return Cursor.decode(text)
        except BadCursor as exc:
            raise ValidationError(str(exc)) from exc


class IncidentQuerySchema(Schema):
    """Filters and paging of the incident list (newest first)."""

    status = CommaList(lambda: STATUS_FILTERS, metadata={
        "description": "open (new, acknowledged or dispatched), closed (resolved or cancelled), any, or a "
                       "comma-separated list of these and statuses", "example": "open"})
    kind = CommaList(_kinds, metadata={"description": "comma-separated incident kinds", "example": "sos,danger_zone"})
    severity = CommaList(lambda: SEVERITIES, metadata={"description": "comma-separated severities"})
    q = fields.String(validate=[validate.Length(min=1, max=100), validate.Predicate("strip", error="q is blank")],
                      metadata={
        "description": "the tourist's name in any script (or the passport's Latin-script name), the card id as "
                       "typed, the passport number, or the phone number with or without spaces / +66"})
    card_id = CardId()
    since = fields.AwareDateTime(metadata={"description": "RFC 3339; created at or after"})
    until = fields.AwareDateTime(metadata={"description": "RFC 3339; created before"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = CursorField(metadata={"description": "next_cursor of the previous page"})

    @validates_schema
    def _window(self, data: dict, **_kwargs) -> None:
        if "since" in data and "until" in data and data["until"] <= data["since"]:
            raise ValidationError("until must be later than since", "until")


class IncidentListSchema(Schema):
    """Incidents, newest first, one page at a time."""

    items = fields.List(fields.Nested(IncidentSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True, metadata={
        "description": "pass as cursor for the next (older) page; null on the last page"})
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

    timeline = fields.List(fields.Nested(TimelineEntrySchema), required=True)
    track = fields.List(fields.Nested(TrackPointSchema), required=True, metadata={
        "description": "the card's positions from 1 h before the incident until it closed (or now), oldest "
                       "first, at most 200 (the newest)"})
    holder = fields.Nested(IncidentHolderSchema, allow_none=True)
    card = fields.Nested(IncidentCardSchema, allow_none=True)
    stay = fields.Nested(IncidentStaySchema, allow_none=True)
    last_position = fields.Nested(IncidentLastPositionSchema, allow_none=True)
    manifest = fields.Method("dump_manifest", allow_none=True, metadata={
        "description": "boat_overdue / passenger_unaccounted: the trip's passengers as in GET "
                       "/api/v1/marine/trips/{id} (null for other incidents)"})

    def dump_manifest(self, incident) -> list | None:  # noqa: ANN001
        """The trip's manifest (its read is audited with the detail read)."""
        if getattr(incident, "trip_id", None) is None:
            return None
        manifest = sources.current().trips.incident_manifest(incident)
        return None if manifest is None else ManifestEntrySchema(many=True).dump(manifest)


PHONE_TYPED = r"^\+?[0-9 ()\-]{3,40}$"


class CallerSchema(Schema):
    """Who called 191 about someone without a card (as the dispatcher noted it)."""

    name = Text(120, metadata={"example": "Somchai (hotel night guard)"})
    phone = fields.String(validate=validate.Regexp(PHONE_TYPED, error="3-40 digits, spaces, +, ( ) and - only"),
                          metadata={"example": "+66 81 234 5678"})


class IncidentCreateSchema(Schema):
    """An incident opened by a dispatcher from a 191 phone call: about a card holder, or card-less.

    Without ``card_id`` (a resident, a tourist without a card, a caller who does not know it) the
    call needs a place (``lat``/``lon``) and is never merged with another open incident; ``caller``
    notes who called.
    """

    card_id = CardId(metadata={"description": "the card found by search; omit for a card-less call"})
    caller = fields.Nested(CallerSchema, metadata={"description": "who called (card-less calls)"})
    kind = fields.String(load_default="sos", validate=validate.OneOf(INCIDENT_KINDS))
    severity = fields.Enum(Severity, by_value=fields.String,
                             metadata={"description": "default: critical for sos, high otherwise"})
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False)
    lon = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)
    accuracy_m = fields.Float(validate=validate.Range(min=0, max=100_000), allow_nan=False)
    category = fields.Enum(SosCategory, by_value=True)
    note = Text(2000)

    @validates_schema
    def _position_pair(self, data: dict, **_kwargs) -> None:
        if ("lat" in data) != ("lon" in data):
            raise ValidationError("give both lat and lon, or neither", "lat" if "lon" in data else "lon")
        if "card_id" not in data and "lat" not in data:
            raise ValidationError("a call without a card needs a place: give lat and lon (or a card_id)", "lat")


class IncidentAcknowledgeSchema(Schema):
    """Acknowledging an incident, optionally with a note."""

    note = Text(2000)


class IncidentDispatchSchema(Schema):
    """Sending a unit to an incident: a listed one (``unit_id``) or one named in free text (``unit``)."""

    unit_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "a unit of GET /api/v1/dispatch/units"})
    unit = Text(120, metadata={"example": "Patong Police 3 / Kusoldharm ambulance 12"})
    note = Text(2000)

    @validates_schema
    def _one_unit(self, data: dict, **_kwargs) -> None:
        if ("unit_id" in data) == ("unit" in data):
            raise ValidationError("give unit_id (a listed unit) or unit (free text), not both or neither", "unit")


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


# --- units and agencies ---------------------------------------------------------------------


class LatLonField(fields.String):
    """``LAT,LON`` in WGS 84 degrees (loads a ``(lat, lon)`` tuple)."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003
        import math

        text = super()._deserialize(value, attr, data, **kwargs)
        parts = text.split(",")
        try:
            if len(parts) != 2 or len(text) > 60:
                raise ValueError
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValidationError("LAT,LON in decimal degrees, e.g. 7.8961,98.2962") from None
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationError("latitude must be within -90..90 and longitude within -180..180")
        return lat, lon


class PositionSchema(Schema):
    """A WGS 84 position."""

    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90), allow_nan=False)
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180), allow_nan=False)


class UnitCreateSchema(Schema):
    """A unit the 191 center can dispatch."""

    name = Text(120, required=True, metadata={"example": "Kusoldharm Foundation rescue Phuket"})
    agency = fields.Enum(UnitAgency, by_value=fields.String, required=True)
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 ()\-]{3,40}$",
                                                   error="3-40 digits, spaces, +, ( ) and - only"))
    base = fields.Nested(PositionSchema, metadata={"description": "where the unit works from"})


class UnitUpdateSchema(Schema):
    """A change to a unit: any of its fields (``phone``/``base`` null clears them)."""

    name = Text(120)
    agency = fields.Enum(UnitAgency, by_value=fields.String)
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 ()\-]{3,40}$",
                                                                    error="3-40 digits, spaces, +, ( ) and - only"))
    base = fields.Nested(PositionSchema, allow_none=True)

    @validates_schema
    def _something(self, data: dict, **_kwargs) -> None:
        if not data:
            raise ValidationError("give at least one of name, agency, phone, base", "name")


class UnitSchema(Schema):
    """A unit, with its distance from the point asked about (``near``)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    agency = fields.String(required=True)
    phone = fields.String(allow_none=True)
    base = fields.Nested(PositionSchema, allow_none=True)
    distance_km = fields.Float(allow_none=True, metadata={
        "description": "great-circle distance from near; null without near or without a base"})


class UnitQuerySchema(Schema):
    """Where the dispatcher needs help (nearest first)."""

    near = LatLonField(metadata={"example": "7.8961,98.2962", "description": "LAT,LON: nearest first"})
    agency = fields.Enum(UnitAgency, by_value=fields.String)


class UnitListSchema(Schema):
    """Units: nearest first with ``near`` (units without a base last), else by agency and name."""

    items = fields.List(fields.Nested(UnitSchema), required=True)


# --- zone mutes -----------------------------------------------------------------------------

class ZoneMuteCreateSchema(Schema):
    """Silence a zone's danger-zone alerts for a while (never SOS or any other kind)."""

    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=5, max=720))
    reason = Text(300, required=True, metadata={"example": "red flags up, lifeguards on the beach"})


class ZoneMuteSchema(Schema):
    """A mute in force."""

    zone_id = fields.Integer(required=True)
    zone_name = fields.String(required=True)
    until = fields.AwareDateTime(required=True)
    by = fields.String(required=True, metadata={"description": "the dispatcher's username"})
    reason = fields.String(required=True)
    created_at = fields.AwareDateTime()


class ZoneMuteListSchema(Schema):
    """Mutes in force, the soonest to end first."""

    items = fields.List(fields.Nested(ZoneMuteSchema), required=True)


# --- measured response ----------------------------------------------------------------------

class StatsQuerySchema(Schema):
    """The window of incidents measured (default: the last 24 h)."""

    since = fields.AwareDateTime(metadata={"description": "RFC 3339; default until - 24 h"})
    until = fields.AwareDateTime(metadata={"description": "RFC 3339; default now"})

    @validates_schema
    def _window(self, data: dict, **_kwargs) -> None:
        if "since" in data and "until" in data:
            if data["until"] <= data["since"]:
                raise ValidationError("until must be later than since", "until")
            if (data["until"] - data["since"]).days > 366:
                raise ValidationError("the window is at most 366 days", "since")


class IncidentCountsSchema(Schema):
    """How many incidents, by kind and by status."""

    total = fields.Integer(required=True)
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class DurationSummarySchema(Schema):
    """Seconds from creation to a step: nearest-rank percentiles over the incidents that reached it."""

    p50 = fields.Float(required=True, allow_none=True)
    p90 = fields.Float(required=True, allow_none=True)
    max = fields.Float(required=True, allow_none=True)


class StatsSchema(Schema):
    """Measured response over the incidents created in the window."""

    since = fields.AwareDateTime(required=True)
    until = fields.AwareDateTime(required=True)
    incidents = fields.Nested(IncidentCountsSchema, required=True)
    time_to_acknowledge_s = fields.Nested(DurationSummarySchema, required=True)
    time_to_dispatch_s = fields.Nested(DurationSummarySchema, required=True)
    time_to_resolve_s = fields.Nested(DurationSummarySchema, required=True)
