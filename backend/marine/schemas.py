"""Payloads of the marine API: trips, boarding scans, stations, observations, conditions."""

from __future__ import annotations

import re
from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backend.cards.schemas import CardPresentationSchema
from backend.marine.models import Flag, TripStatus
from backend.models_base import utcnow

TRIP_STATUSES = tuple(s.value for s in TripStatus)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Text(fields.String):
    """A trimmed, non-blank string of at most ``max_length`` characters."""

    def __init__(self, max_length: int, **kwargs) -> None:  # noqa: ANN003
        super().__init__(validate=validate.Length(min=1, max=max_length), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ValidationError("must not be blank")
        if _CONTROL.search(text):  # PostgreSQL cannot store NUL; no control character belongs in these
            raise ValidationError("must not contain control characters")
        return text


class Latitude(fields.Float):
    """WGS 84 latitude in degrees."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(validate=validate.Range(min=-90, max=90), allow_nan=False, **kwargs)


class Longitude(fields.Float):
    """WGS 84 longitude in degrees."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(validate=validate.Range(min=-180, max=180), allow_nan=False, **kwargs)


# --- operators --------------------------------------------------------------------------------

class OperatorRefSchema(Schema):
    """The trip's operator."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)


class OperatorSchema(OperatorRefSchema):
    """A boat-tour operator."""

    licence = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class OperatorInputSchema(Schema):
    """Registering an operator (admin)."""

    name = Text(200, required=True)
    licence = Text(64)


class OperatorListSchema(Schema):
    """Operators."""

    items = fields.List(fields.Nested(OperatorSchema), required=True)


# --- trips ------------------------------------------------------------------------------------

class TripPositionSchema(Schema):
    """A fix."""

    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    recorded_at = fields.AwareDateTime(required=True)


class TripInputSchema(Schema):
    """Registering a trip at the pier (``departs_at`` may lie in the past: registered late)."""

    vessel_name = Text(120, required=True, metadata={"example": "Sea Star 3"})
    vessel_registration = Text(40, required=True, metadata={"example": "PKT-1234"})
    pier = Text(120, required=True, metadata={"description": "AO_CHALONG, RASSADA, AO_PO or another pier's name",
                                              "example": "RASSADA"})
    destination = Text(200, required=True, metadata={"example": "Phi Phi Islands"})
    departs_at = fields.AwareDateTime(required=True)
    returns_by = fields.AwareDateTime(required=True)
    crew_phone = Text(40, metadata={"example": "+66 81 234 5678"})
    capacity = fields.Integer(validate=validate.Range(min=1, max=2000), strict=True)
    operator_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1),
                                 metadata={"description": "the operator (an admin only; an operator's staff: theirs)"})

    @validates_schema
    def _times(self, data: dict, **_kwargs) -> None:
        departs, returns = data.get("departs_at"), data.get("returns_by")
        if departs is None or returns is None:
            return
        if returns <= departs:
            raise ValidationError("returns_by must be after departs_at", "returns_by")
        now = utcnow()
        if departs < now - timedelta(days=2) or departs > now + timedelta(days=366):
            raise ValidationError("departs_at must lie within two days ago and a year ahead", "departs_at")
        if returns - departs > timedelta(days=30):
            raise ValidationError("a trip lasts at most 30 days", "returns_by")


class TripQuerySchema(Schema):
    """Filters of the trip list."""

    status = fields.String(metadata={"description": "planned, at_sea, returned, or a comma-separated list"})
    operator_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))

    @validates_schema
    def _statuses(self, data: dict, **_kwargs) -> None:
        if "status" in data:
            statuses = tuple(s.strip() for s in data["status"].split(",") if s.strip())
            unknown = [s for s in statuses if s not in TRIP_STATUSES]
            if unknown or not statuses:
                raise ValidationError(f"unknown status; one of {', '.join(TRIP_STATUSES)}", "status")


class TripSchema(Schema):
    """A trip."""

    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "planned, at_sea or returned"})
    operator = fields.Nested(OperatorRefSchema, required=True)
    vessel_name = fields.String(required=True)
    vessel_registration = fields.String(required=True)
    pier = fields.String(required=True)
    destination = fields.String(required=True)
    departs_at = fields.AwareDateTime(required=True)
    returns_by = fields.AwareDateTime(required=True)
    crew_phone = fields.String(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    departed_at = fields.AwareDateTime(allow_none=True)
    returned_at = fields.AwareDateTime(allow_none=True)
    passengers_aboard = fields.Integer(required=True, metadata={"description": "scanned aboard, not yet ashore"})
    passengers_ashore = fields.Integer(required=True)
    last_position = fields.Nested(TripPositionSchema, allow_none=True,
                                  metadata={"description": "the newest fix of any passenger at sea"})
    overdue = fields.Boolean(metadata={"description": "a boat_overdue incident was raised for it"})


class PassengerSchema(Schema):
    """A manifest entry."""

    card_id = fields.String(required=True)
    full_name = fields.String(required=True)
    nationality = fields.String(required=True)
    phone = fields.String(allow_none=True)
    boarded_at = fields.AwareDateTime(required=True)
    ashore_at = fields.AwareDateTime(allow_none=True)
    last_position = fields.Nested(TripPositionSchema, allow_none=True)


class TripDetailSchema(TripSchema):
    """A trip with its manifest."""

    passengers = fields.List(fields.Nested(PassengerSchema), required=True)


class TripListSchema(Schema):
    """Trips: at sea first, then the newest departures."""

    items = fields.List(fields.Nested(TripSchema), required=True)


class BoardingInputSchema(CardPresentationSchema):
    """A boarding scan: the card's QR code alone, or its id typed with the holder's passport number."""


class BoardingSchema(Schema):
    """A passenger aboard."""

    card_id = fields.String(required=True)
    full_name = fields.String(required=True)
    nationality = fields.String(required=True)
    boarded_at = fields.AwareDateTime(required=True)
    ashore_at = fields.AwareDateTime(allow_none=True)
    trip_id = fields.Integer()
    passengers_aboard = fields.Integer()


class BoardingRefusalSchema(Schema):
    """A refused card: ``reason`` is a stable code."""

    code = fields.Integer(required=True)
    status = fields.String()
    message = fields.String(required=True)
    reason = fields.String(required=True, metadata={
        "description": "malformed, wrong_type, bad_signature, bad_algorithm, unknown_key, wrong_issuer, expired, "
                       "revoked, closed, unknown_card or passport_mismatch"})
    errors = fields.Dict()


class DepartInputSchema(Schema):
    """Departure; an admin may override a marine warning's hold with a reason (audited)."""

    override_reason = Text(300)


class HoldSchema(Schema):
    """The 409 of a held departure."""

    code = fields.Integer(required=True)
    status = fields.String()
    message = fields.String(required=True)
    warning = fields.Dict(required=True, metadata={"description": "{id, reason, since, distance_km, station}"})


# --- sea conditions ---------------------------------------------------------------------------

class StationInputSchema(Schema):
    """Registering a sea-condition station (admin)."""

    name = Text(120, required=True, metadata={"example": "Patong beach lifeguard tower"})
    lat = Latitude(required=True)
    lon = Longitude(required=True)
    zone_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class StationCreatedSchema(Schema):
    """A new station and its token (shown once)."""

    id = fields.Integer(required=True)
    name = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    zone_id = fields.Integer(allow_none=True)
    station_token = fields.String(required=True, metadata={
        "description": "Authorization: Bearer <station_token> for POST /api/v1/marine/observations; only its "
                       "hash is stored"})


class ObservationInputSchema(Schema):
    """One report of a station (at least one measurement or a flag)."""

    observed_at = fields.AwareDateTime(required=True)
    wave_height_m = fields.Float(validate=validate.Range(min=0, max=30), allow_nan=False, allow_none=True)
    wind_speed_mps = fields.Float(validate=validate.Range(min=0, max=100), allow_nan=False, allow_none=True)
    gust_mps = fields.Float(validate=validate.Range(min=0, max=150), allow_nan=False, allow_none=True)
    flag = fields.Enum(Flag, by_value=fields.String, allow_none=True)

    @validates_schema
    def _something(self, data: dict, **_kwargs) -> None:
        if all(data.get(k) is None for k in ("wave_height_m", "wind_speed_mps", "gust_mps", "flag")):
            raise ValidationError("give at least one of wave_height_m, wind_speed_mps, gust_mps, flag", "flag")
        observed = data.get("observed_at")
        if observed is not None and observed > utcnow() + timedelta(minutes=10):
            raise ValidationError("must not lie in the future", "observed_at")


class ObservationSchema(Schema):
    """A stored observation, and whether its station is under a warning now."""

    id = fields.Integer(required=True)
    station_id = fields.Integer(required=True)
    observed_at = fields.AwareDateTime(required=True)
    wave_height_m = fields.Float(allow_none=True)
    wind_speed_mps = fields.Float(allow_none=True)
    gust_mps = fields.Float(allow_none=True)
    flag = fields.String(allow_none=True)
    warning = fields.Dict(allow_none=True, metadata={"description": "{reason, since} while a warning is in force"})


class WarningSchema(Schema):
    """A marine warning in force."""

    reason = fields.String(required=True)
    since = fields.AwareDateTime(required=True)


class StationConditionsSchema(Schema):
    """A station's newest observation."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    zone_id = fields.Integer(allow_none=True)
    observed_at = fields.AwareDateTime(allow_none=True)
    wave_height_m = fields.Float(allow_none=True)
    wind_speed_mps = fields.Float(allow_none=True)
    gust_mps = fields.Float(allow_none=True)
    flag = fields.String(allow_none=True)
    warning = fields.Nested(WarningSchema, allow_none=True)


class ConditionsSchema(Schema):
    """Sea conditions at every station (public)."""

    stations = fields.List(fields.Nested(StationConditionsSchema), required=True)
    generated_at = fields.AwareDateTime()


# --- the map of boats at sea ------------------------------------------------------------------

class TripPointSchema(Schema):
    """A GeoJSON Point."""

    type = fields.String(required=True)
    coordinates = fields.List(fields.Float(), required=True, metadata={"description": "[lon, lat]"})


class TripFeaturePropertiesSchema(Schema):
    """What the map shows of a boat."""

    trip_id = fields.Integer(required=True)
    vessel_name = fields.String(required=True)
    vessel_registration = fields.String()
    operator = fields.String()
    pier = fields.String()
    destination = fields.String()
    status = fields.String(required=True)
    returns_by = fields.AwareDateTime()
    passengers_aboard = fields.Integer(required=True)
    recorded_at = fields.AwareDateTime(allow_none=True)
    position_source = fields.String(metadata={"description": "passenger (a passenger's fix) or pier (no fix yet)"})
    overdue = fields.Boolean()


class TripFeatureSchema(Schema):
    """A trip at its last position."""

    type = fields.String(required=True)
    id = fields.Integer()
    geometry = fields.Nested(TripPointSchema, required=True)
    properties = fields.Nested(TripFeaturePropertiesSchema, required=True)


class TripCollectionSchema(Schema):
    """Trips at their last position (GeoJSON FeatureCollection)."""

    type = fields.String(required=True)
    features = fields.List(fields.Nested(TripFeatureSchema), required=True)
