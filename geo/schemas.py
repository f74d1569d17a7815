"""Payloads of the zones and facilities API (GeoJSON, RFC 7946)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from backend.vocab import Severity
from geo.models import FacilityKind, ZoneKind
from geo.validation import GeometryError, parse_zone_geometry


class ZoneGeometryField(fields.Field):
    """A GeoJSON Polygon or MultiPolygon, checked and loaded as a shapely MultiPolygon."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "object", "description": "GeoJSON Polygon or MultiPolygon (lon, lat)",
                    "example": {"type": "Polygon", "coordinates": [[[98.28, 7.89], [98.29, 7.89], [98.29, 7.9],
                                                                     [98.28, 7.89]]]}}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return parse_zone_geometry(value)
        except GeometryError as exc:
            raise ValidationError(str(exc)) from exc

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class ZonePropertiesSchema(Schema):
    """What an admin says about a zone (extra properties, e.g. from a GET, are ignored)."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_th = fields.String(allow_none=True, validate=validate.Length(max=200))
    kind = fields.Enum(ZoneKind, by_value=fields.String, required=True)
    severity = fields.Enum(Severity, by_value=fields.String, required=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    advice = fields.String(allow_none=True, validate=validate.Length(max=2000))
    season_months = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=12)),
                                allow_none=True, validate=validate.Length(max=12),
                                metadata={"description": "months (1-12) when the danger is highest"})
    slug = fields.String(allow_none=True, validate=[validate.Length(min=1, max=80),
                                                   validate.Regexp(r"^[a-z0-9][a-z0-9-]*$")])

    @validates_schema
    def _strip_name(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "name" in data and not data["name"].strip():
            raise ValidationError("the zone needs a name", "name")


class ZoneFeatureInSchema(Schema):
    """A zone as a GeoJSON Feature, as admins send it."""

    type = fields.String(required=True, validate=validate.Equal("Feature"))
    id = fields.Raw(allow_none=True, load_only=True, metadata={"description": "ignored"})
    bbox = fields.Raw(allow_none=True, load_only=True, metadata={"description": "ignored"})
    geometry = ZoneGeometryField(required=True)
    properties = fields.Nested(ZonePropertiesSchema, required=True)


class ZoneOutPropertiesSchema(Schema):
    """A zone's properties as served."""

    id = fields.Integer(required=True)
    slug = fields.String(allow_none=True)
    name = fields.String(required=True)
    name_th = fields.String(allow_none=True)
    kind = fields.String(required=True)
    severity = fields.String(required=True)
    description = fields.String(allow_none=True)
    advice = fields.String(allow_none=True)
    season_months = fields.List(fields.Integer(), allow_none=True)
    translations = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.String()),
                               allow_none=True, metadata={
                                   "description": "name, description and advice by language (not English, which "
                                                  "is above)", "example": {"ru": {"name": "…", "advice": "…"}}})
    updated_at = fields.String(allow_none=True)


class GeoJSONGeometrySchema(Schema):
    """A GeoJSON geometry."""

    type = fields.String(required=True)
    coordinates = fields.Raw(required=True)


class ZoneFeatureSchema(Schema):
    """A zone as a GeoJSON Feature."""

    type = fields.String(required=True, metadata={"example": "Feature"})
    id = fields.Integer(required=True)
    properties = fields.Nested(ZoneOutPropertiesSchema, required=True)
    geometry = fields.Nested(GeoJSONGeometrySchema, required=True)


class ZoneCollectionSchema(Schema):
    """Every zone as a GeoJSON FeatureCollection."""

    type = fields.String(required=True, metadata={"example": "FeatureCollection"})
    features = fields.List(fields.Nested(ZoneFeatureSchema), required=True)


class ZoneQuerySchema(Schema):
    """Filters of the zone list."""

    kind = fields.List(fields.Enum(ZoneKind, by_value=fields.String),
                       metadata={"description": "only zones of these kinds (repeatable)"})


class FacilityQuerySchema(Schema):
    """Where to look from, and for what."""

    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False)
    lon = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)
    kind = fields.List(fields.Enum(FacilityKind, by_value=fields.String),
                       metadata={"description": "only facilities of these kinds (repeatable)"})
    limit = fields.Integer(validate=validate.Range(min=1, max=100),
                           metadata={"description": "at most this many (default 3 from a point, else all)"})

    @validates_schema
    def _both_or_neither(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("lat" in data) != ("lon" in data):
            raise ValidationError("give both lat and lon, or neither", "lat" if "lat" not in data else "lon")


class FacilityPropertiesSchema(Schema):
    """A facility's properties."""

    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    name_th = fields.String(allow_none=True)
    kind = fields.String(required=True)
    phone = fields.String(allow_none=True)
    code = fields.String(allow_none=True, metadata={"description": "checkpoint code (checkpoints only)"})
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    distance_m = fields.Float(allow_none=True, metadata={"description": "metres from the asked point"})


class FacilityFeatureSchema(Schema):
    """A facility as a GeoJSON Feature."""

    type = fields.String(required=True)
    id = fields.Integer(required=True)
    properties = fields.Nested(FacilityPropertiesSchema, required=True)
    geometry = fields.Nested(GeoJSONGeometrySchema, required=True)


class FacilityCollectionSchema(Schema):
    """Facilities as a GeoJSON FeatureCollection (nearest first when asked from a point)."""

    type = fields.String(required=True)
    features = fields.List(fields.Nested(FacilityFeatureSchema), required=True)
