"""Payloads of safety broadcasts and the tourist's inbox."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from backend.database import MAX_ID
from backend.models_base import utcnow
from notifications import broadcasts

LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")  # BCP 47, loosely
MAX_EXPIRY_DAYS = 14


class TranslationSchema(Schema):
    """The broadcast's texts in one more language."""

    headline = fields.String(required=True, validate=validate.Length(min=1, max=200))
    message = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    instruction = fields.String(validate=validate.Length(max=2000), allow_none=True)


class BroadcastAreaSchema(Schema):
    """A GeoJSON Polygon (``type`` + ``coordinates``, [lon, lat]) or an existing zone (``zone_id``)."""

    type = fields.String(validate=validate.OneOf(["Polygon"]), metadata={"example": "Polygon"})
    coordinates = fields.List(
        fields.List(fields.List(fields.Float(allow_nan=False), validate=validate.Length(min=2, max=3)),
                    validate=validate.Length(min=4, max=broadcasts.MAX_VERTICES)),
        validate=validate.Length(min=1, max=1),
        metadata={"description": "one closed outer ring of [lon, lat] positions (no holes)"})
    zone_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))

    @validates_schema
    def polygon_or_zone(self, data: dict, **_kwargs) -> None:
        """Exactly one of a polygon and a zone; a polygon must be valid and in the Phuket region."""
        has_polygon = "type" in data or "coordinates" in data
        if has_polygon == ("zone_id" in data):
            raise ValidationError("give either a GeoJSON Polygon (type, coordinates) or a zone_id", "_schema")
        if has_polygon:
            if "type" not in data or "coordinates" not in data:
                raise ValidationError("a GeoJSON Polygon needs type and coordinates", "coordinates")
            try:
                broadcasts.polygon_from_geojson(data["coordinates"])
            except broadcasts.AreaError as exc:
                raise ValidationError(str(exc), "coordinates") from exc

    @post_load
    def to_shape(self, data: dict, **_kwargs) -> dict:
        """Add the validated polygon as a shapely geometry (``polygon``)."""
        if "coordinates" in data:
            data["polygon"] = broadcasts.polygon_from_geojson(data["coordinates"])
        return data


class BroadcastCreateSchema(Schema):
    """A safety broadcast from the 191 center: free text, or a template written in every language."""

    template = fields.String(validate=validate.OneOf(list(broadcasts.TEMPLATES)), metadata={
        "description": "a template id (GET /api/v1/broadcasts/templates): headline, message, severity and "
                       "urgency then default to the template's, and every recipient reads it in their own "
                       "language; a free-text message given with it reaches everyone as written under the "
                       "template's headline in their language"})
    headline = fields.String(validate=validate.Length(min=1, max=200),
                             metadata={"description": "required without a template"})
    message = fields.String(validate=validate.Length(min=1, max=4000),
                            metadata={"description": "required without a template"})
    instruction = fields.String(validate=validate.Length(max=2000), allow_none=True,
                                metadata={"description": "what to do (CAP instruction)"})
    language = fields.String(load_default="en", validate=validate.Regexp(LANGUAGE_TAG),
                             metadata={"description": "language of headline/message (BCP 47), default en"})
    translations = fields.Dict(keys=fields.String(validate=validate.Regexp(LANGUAGE_TAG)),
                               values=fields.Nested(TranslationSchema), validate=validate.Length(max=20),
                               metadata={"example": {"th": {"headline": "…", "message": "…"}}})
    severity = fields.String(validate=validate.OneOf(broadcasts.SEVERITIES),
                             metadata={"description": "required without a template"})
    urgency = fields.String(validate=validate.OneOf(broadcasts.URGENCIES),
                            metadata={"description": "default: the template's, else Immediate"})
    certainty = fields.String(validate=validate.OneOf(broadcasts.CERTAINTIES),
                              metadata={"description": "default: the template's, else Observed"})
    category = fields.String(validate=validate.OneOf(broadcasts.CATEGORIES),
                             metadata={"description": "default: the template's, else Safety"})
    event = fields.String(validate=validate.Length(min=1, max=120),
                          metadata={"description": "what happens, e.g. 'Rip current', 'Tsunami warning'"})
    area = fields.Nested(BroadcastAreaSchema, required=True)
    area_desc = fields.String(validate=validate.Length(min=1, max=300))
    expires_at = fields.AwareDateTime(metadata={"description": f"in the future, at most {MAX_EXPIRY_DAYS} days"})

    @validates_schema
    def text_or_template(self, data: dict, **_kwargs) -> None:
        """Without a template, headline, message and severity are required."""
        if "template" in data:
            return
        errors = {name: ["Missing data for required field (or give a template)."]
                  for name in ("headline", "message", "severity") if name not in data}
        if errors:
            raise ValidationError(errors)

    @validates("expires_at")
    def future_expiry(self, value, **_kwargs) -> None:  # noqa: ANN001
        """An expiry in the past or years ahead is a mistake."""
        now = utcnow()
        if value <= now:
            raise ValidationError("expires_at must be in the future")
        if (value - now).days >= MAX_EXPIRY_DAYS:
            raise ValidationError(f"expires_at must be within {MAX_EXPIRY_DAYS} days")


class BroadcastPreviewSchema(Schema):
    """The area of a broadcast not sent yet (the same ``area`` as POST /api/v1/broadcasts)."""

    area = fields.Nested(BroadcastAreaSchema, required=True)


class PreviewLanguageSchema(Schema):
    """How many recipients read one language."""

    tag = fields.String(required=True, metadata={"example": "ru"})
    name = fields.String(required=True, metadata={"description": "in the language itself", "example": "Русский"})
    count = fields.Integer(required=True)


class BroadcastPreviewResultSchema(Schema):
    """Who would receive a broadcast to the area now, by language (most first)."""

    recipients = fields.Integer(required=True, metadata={"description": "tracked tourists inside the area"})
    languages = fields.List(fields.Nested(PreviewLanguageSchema), required=True)


class TemplateSchema(Schema):
    """A broadcast template, in every supported language."""

    id = fields.String(required=True, metadata={"example": "rip_current_red_flag"})
    severity = fields.String(required=True)
    urgency = fields.String(required=True)
    certainty = fields.String(required=True)
    category = fields.String(required=True)
    event = fields.String(required=True)
    headline = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                           metadata={"description": "language tag → headline"})
    message = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                          metadata={"description": "language tag → message"})


class TemplateListSchema(Schema):
    """The broadcast templates."""

    items = fields.List(fields.Nested(TemplateSchema))


class LanguageSchema(Schema):
    """A language the service writes messages in."""

    tag = fields.String(required=True, metadata={"description": "BCP 47", "example": "th"})
    name = fields.String(required=True, metadata={"description": "in the language itself", "example": "ไทย"})


class LanguagesSchema(Schema):
    """The languages of the service's messages."""

    default = fields.String(required=True, metadata={"example": "en"})
    supported = fields.List(fields.Nested(LanguageSchema), required=True)


class BroadcastCreatedSchema(Schema):
    """What the 191 center learns when a broadcast is sent."""

    id = fields.Integer(required=True)
    recipients = fields.Integer(required=True, metadata={"description": "tracked tourists inside the area"})
    cap_url = fields.String(required=True)


class BroadcastSchema(Schema):
    """A stored broadcast."""

    id = fields.Integer()
    identifier = fields.String(metadata={"description": "CAP identifier"})
    headline = fields.String()
    message = fields.String()
    instruction = fields.String(allow_none=True)
    language = fields.String()
    translations = fields.Dict(allow_none=True)
    severity = fields.String()
    urgency = fields.String()
    certainty = fields.String()
    category = fields.String()
    event = fields.String()
    zone_id = fields.Integer(allow_none=True)
    area_desc = fields.String(allow_none=True)
    area = fields.Method("dump_area", metadata={"description": "GeoJSON MultiPolygon"})
    recipients = fields.Integer()
    created_by = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    active = fields.Method("dump_active")
    cap_url = fields.Method("dump_cap_url")

    def dump_area(self, broadcast) -> dict:  # noqa: ANN001
        """The area as GeoJSON."""
        return broadcasts.area_geojson(broadcast)

    def dump_active(self, broadcast) -> bool:  # noqa: ANN001
        """Not cancelled and not expired."""
        return broadcast.is_active()

    def dump_cap_url(self, broadcast) -> str:  # noqa: ANN001
        """Where the CAP document is."""
        return f"/api/v1/broadcasts/{broadcast.id}/cap.xml"


class BroadcastListSchema(Schema):
    """Broadcasts, newest first."""

    items = fields.List(fields.Nested(BroadcastSchema))


class PublicBroadcastSchema(BroadcastSchema):
    """A broadcast as the public sees it (no staff ids)."""

    class Meta:
        exclude = ("created_by",)


class PublicBroadcastListSchema(Schema):
    """Active broadcasts, newest first."""

    items = fields.List(fields.Nested(PublicBroadcastSchema))


class BroadcastQuerySchema(Schema):
    """Filters of the broadcast list."""

    active = fields.Boolean(load_default=False, metadata={"description": "only not expired, not cancelled"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class InboxQuerySchema(Schema):
    """Paging of the tourist's inbox."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    before_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID),
                               metadata={"description": "only messages older than this id (next page)"})


class InboxMessageSchema(Schema):
    """One message in the companion app's inbox."""

    id = fields.Integer()
    topic = fields.String(metadata={"description": "sos_received, sos_acknowledged, sos_dispatched, "
                                                   "sos_resolved, danger_zone, left_area, overdue, "
                                                   "card_expiring, broadcast"})
    language = fields.String()
    title = fields.String()
    body = fields.String()
    data = fields.Dict(allow_none=True)
    broadcast_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    delivery = fields.String(attribute="status", metadata={"description": "push delivery state"})


class InboxSchema(Schema):
    """The tourist's messages, newest first."""

    items = fields.List(fields.Nested(InboxMessageSchema))
