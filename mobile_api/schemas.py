"""Payloads of the companion app API (one schema per payload; they also document /openapi.json)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate

from backend.card_ids import CardId
from backend.vocab import SosCategory

PLATFORMS = ("android", "ios", "other")
MAX_PINGS_PER_BATCH = 500


class JsonNumber(fields.Float):
    """A JSON number: strings, booleans, NaN and infinities are refused (our own app sends numbers)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


def latitude(**kwargs: Any) -> JsonNumber:
    """A WGS 84 latitude in decimal degrees."""
    return JsonNumber(validate=validate.Range(-90, 90), metadata={"example": 7.8961}, **kwargs)


def longitude(**kwargs: Any) -> JsonNumber:
    """A WGS 84 longitude in decimal degrees."""
    return JsonNumber(validate=validate.Range(-180, 180), metadata={"example": 98.2960}, **kwargs)


# --- enrollment ----------------------------------------------------------------------------

class EnrollSchema(Schema):
    """Enroll a phone with the card id and the enrollment code printed on the card."""

    class Meta:
        unknown = RAISE

    card_id = CardId(required=True)
    enrollment_code = fields.String(required=True, validate=validate.Length(min=1, max=64), load_only=True)
    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS))
    push_token = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=4096))
    language = fields.String(load_default=None, allow_none=True,
                             validate=validate.Regexp(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
                             metadata={"description": "BCP 47, e.g. en, th, ru, zh-Hans"})


class DeviceBriefSchema(Schema):
    """One of the card's enrolled phones."""

    device_id = fields.String(attribute="id")
    platform = fields.String()
    created_at = fields.AwareDateTime()
    last_seen_at = fields.AwareDateTime(allow_none=True)


class EnrollmentSchema(Schema):
    """A new device: keep ``device_token`` secret; ``osmand_id`` is the Traccar Client identifier."""

    device_id = fields.String(required=True)
    device_token = fields.String(required=True)
    ping_interval_s = fields.Integer(required=True)
    osmand_id = fields.String(required=True)
    card_id = fields.String()
    devices = fields.List(fields.Nested(DeviceBriefSchema), metadata={
        "description": "the card's active devices after this enrollment (the oldest beyond the limit are revoked)"})
    revoked_device_ids = fields.List(fields.String())


# --- pings ---------------------------------------------------------------------------------

class PingSchema(Schema):
    """One position fix as buffered by the app; unknown extra fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    id = fields.UUID(required=True, metadata={"description": "client-generated UUID; re-sends are idempotent"})
    lat = latitude(required=True)
    lon = longitude(required=True)
    recorded_at = fields.AwareDateTime(required=True, metadata={"description": "RFC 3339 with offset"})
    accuracy_m = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(0, 100_000))
    battery_pct = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(0, 100))
    speed_mps = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(0, 350))
    heading_deg = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(0, 360))
    altitude_m = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(-500, 20_000))


class EachPing(fields.Nested):
    """Documents a ping as :class:`PingSchema` but keeps it raw: each ping is validated on its own."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return value


class PingBatchSchema(Schema):
    """A batch of 1–500 buffered pings, in any order."""

    class Meta:
        unknown = RAISE

    pings = fields.List(EachPing(PingSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_PINGS_PER_BATCH))


class RejectedPingSchema(Schema):
    """A ping that was not stored, and why."""

    index = fields.Integer(required=True)
    id = fields.String(allow_none=True)
    errors = fields.Dict(required=True)


class PingResultSchema(Schema):
    """What the batch changed and when to send the next one."""

    accepted = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    rejected = fields.List(fields.Nested(RejectedPingSchema), required=True)
    next_ping_in_s = fields.Integer(required=True)


# --- SOS -----------------------------------------------------------------------------------

class SosSchema(Schema):
    """An SOS press; ``id`` is the app's UUID for it, so a retry never raises a second incident."""

    class Meta:
        unknown = RAISE

    id = fields.UUID(required=True)
    lat = latitude(required=True)
    lon = longitude(required=True)
    recorded_at = fields.AwareDateTime(required=True, metadata={
        "description": "RFC 3339; a device clock far off is replaced by the server's time, never refused"})
    accuracy_m = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(0, 100_000))
    category = fields.Enum(SosCategory, by_value=True, load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    battery_pct = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(0, 100))


class SosStatusSchema(Schema):
    """The state of an SOS as the app shows it."""

    incident_id = fields.Integer(required=True)
    status = fields.String(required=True)
    updated_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    dispatched_at = fields.AwareDateTime(allow_none=True)
    unit = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "when the SOS was resolved or cancelled (null while open)"})
    closed_by = fields.String(allow_none=True, validate=validate.OneOf(("dispatcher", "tourist", "system")), metadata={
        "description": "who closed it: a 191 dispatcher, the tourist (cancelled from a phone) or the system; "
                       "staff user names are not shown to tourists"})
    resolution = fields.String(allow_none=True, metadata={"description": "the dispatcher's closing words, if any"})


class SosCancelSchema(Schema):
    """Why the tourist cancels (optional)."""

    class Meta:
        unknown = RAISE

    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


# --- push token, me --------------------------------------------------------------------------

class PushTokenSchema(Schema):
    """The phone's FCM registration token; ``null`` stops push messages."""

    class Meta:
        unknown = RAISE

    push_token = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=4096))


class PushTokenResultSchema(Schema):
    """The device after its push token changed."""

    device_id = fields.String(required=True)
    push_enabled = fields.Boolean(required=True)


class WebPushKeysSchema(Schema):
    """The browser's ``PushSubscription.toJSON().keys`` (base64url)."""

    class Meta:
        unknown = RAISE

    p256dh = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "the browser's P-256 public key, uncompressed (65 bytes), base64url"})
    auth = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "the 16-byte authentication secret, base64url"})


class WebPushSubscriptionSchema(Schema):
    """A Web Push subscription as ``PushSubscription.toJSON()`` gives it."""

    class Meta:
        unknown = RAISE

    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=2048), metadata={
        "description": "https:// URL on a host of WEBPUSH_ALLOWED_HOSTS (else 422)",
        "example": "https://fcm.googleapis.com/fcm/send/dXJ…"})
    keys = fields.Nested(WebPushKeysSchema, required=True)
    expirationTime = JsonNumber(load_default=None, allow_none=True, data_key="expirationTime",  # noqa: N815
                                metadata={"description": "as the browser sends it (ignored)"})


class WebPushResultSchema(Schema):
    """The device's Web Push subscription after the change."""

    device_id = fields.String(required=True)
    webpush_enabled = fields.Boolean(required=True)
    endpoint_host = fields.String(allow_none=True)


class WebPushKeySchema(Schema):
    """The VAPID application server key for ``pushManager.subscribe``."""

    public_key = fields.String(required=True, metadata={
        "description": "uncompressed P-256 public key (65 bytes), base64url without padding"})


class MeCardSchema(Schema):
    """The tourist's card, as the app shows it."""

    card_id = fields.String(attribute="id")
    full_name = fields.Method("dump_full_name")
    nationality = fields.Method("dump_nationality")
    status = fields.Method("dump_status")
    kind = fields.String()
    issued_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()

    def dump_full_name(self, card: Any) -> str:
        """The holder's name."""
        return card.tourist.full_name

    def dump_nationality(self, card: Any) -> str:
        """The holder's nationality (ISO 3166-1 alpha-3)."""
        return card.tourist.nationality

    def dump_status(self, card: Any) -> str:
        """``active``, ``revoked``, ``closed`` or ``expired``."""
        return card.effective_status()


class MeStaySchema(Schema):
    """The tourist's open hotel stay."""

    hotel = fields.String()
    hotel_id = fields.Integer()
    room = fields.String(allow_none=True)
    checked_in_at = fields.AwareDateTime()


class MePositionSchema(Schema):
    """The newest position the server holds for the card."""

    lat = fields.Float()
    lon = fields.Float()
    recorded_at = fields.AwareDateTime()
    at_sea = fields.Boolean()


class MeSchema(Schema):
    """The tourist's card, stay and last position."""

    card = fields.Nested(MeCardSchema, required=True)
    stay = fields.Nested(MeStaySchema, allow_none=True, required=True)
    last_position = fields.Nested(MePositionSchema, allow_none=True, required=True)
    device_id = fields.String()
    devices = fields.List(fields.Nested(DeviceBriefSchema))
    next_ping_in_s = fields.Integer()
    language = fields.String(required=True, metadata={
        "description": "the language of every message to this phone (its own choice, else the card holder's, "
                       "else en); one of GET /api/v1/languages", "example": "th"})


def _supported_language(value: str) -> None:
    """One of the languages the service writes in (a BCP 47 tag whose language is supported)."""
    from notifications.messages import SUPPORTED_LANGUAGES, supported_language

    if supported_language(value) is None:
        raise ValidationError(f"not a supported language; use one of {', '.join(SUPPORTED_LANGUAGES)}")


class MeUpdateSchema(Schema):
    """What the tourist may change from the phone: the language of the messages it receives."""

    class Meta:
        unknown = RAISE

    language = fields.String(required=True, validate=[
        validate.Length(min=2, max=35), validate.Regexp(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                                                        error="not a BCP 47 language tag"),
        _supported_language], metadata={
        "description": "BCP 47 tag of a supported language (GET /api/v1/languages); a region or script "
                       "subtag is accepted and reduced to the language (zh-Hans-CN → zh)", "example": "ar"})


# --- OwnTracks and OsmAnd / Traccar Client ---------------------------------------------------

class LenientNumber(fields.Float):
    """A number that may arrive as a string ("7.89"), as OwnTracks and OsmAnd clients send them."""


class OwnTracksLocationSchema(Schema):
    """OwnTracks ``_type: location`` (HTTP mode): vel in km/h, tst in epoch seconds, batt in %."""

    class Meta:
        unknown = EXCLUDE

    _type = fields.String(required=True, data_key="_type", metadata={"example": "location"})
    lat = LenientNumber(required=True, validate=validate.Range(-90, 90))
    lon = LenientNumber(required=True, validate=validate.Range(-180, 180))
    tst = LenientNumber(required=True, validate=validate.Range(0, 1e11), metadata={"description": "epoch seconds"})
    acc = LenientNumber(load_default=None, allow_none=True, validate=validate.Range(0, 100_000))
    alt = LenientNumber(load_default=None, allow_none=True)
    batt = LenientNumber(load_default=None, allow_none=True)
    vel = LenientNumber(load_default=None, allow_none=True, metadata={"description": "km/h"})
    cog = LenientNumber(load_default=None, allow_none=True)
    tid = fields.String(load_default=None, allow_none=True)
    t = fields.String(load_default=None, allow_none=True)
    created_at = LenientNumber(load_default=None, allow_none=True)


_EPOCH_MS_ABOVE = 2**31 - 1  # a larger epoch is in milliseconds (Traccar's rule)


def parse_timestamp(value: str) -> datetime:
    """Epoch seconds or milliseconds, ISO 8601, or ``yyyy-MM-dd HH:mm:ss`` (UTC), as Traccar reads them."""
    text = value.strip()
    try:
        number = int(text)
    except ValueError:
        number = None
    try:
        if number is not None:
            return datetime.fromtimestamp(number / 1000 if number > _EPOCH_MS_ABOVE else number, UTC)
        if "T" not in text and " " in text:
            return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise ValueError("not a timestamp (epoch s or ms, ISO 8601)") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class OsmAndNumber(fields.Float):
    """A number as a query or form field (a string); an empty field is one not sent."""

    default_error_messages = {"invalid": "not a number", "special": "not a finite number"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise self.make_error("invalid") from exc
        if not math.isfinite(number):
            raise self.make_error("special")
        return number


class OsmAndTimestamp(fields.Field):
    """When the fix was taken: epoch s or ms, ISO 8601, or ``yyyy-MM-dd HH:mm:ss`` (UTC); empty = now."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime | None:
        if not value:
            return None
        try:
            return parse_timestamp(str(value))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class OsmAndLocation(fields.Field):
    """``location=lat,lon``: the position in one field, read when ``lat`` and ``lon`` are not sent."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[float, float] | None:
        if not value:
            return None
        parts = str(value).split(",")
        if len(parts) != 2:
            raise ValidationError("expected latitude,longitude")
        number = OsmAndNumber()
        lat, lon = (number.deserialize(part) for part in parts)
        return None if lat is None or lon is None else (lat, lon)


def osmand_number(description: str | None = None, *, metadata: dict[str, Any] | None = None,
                  **kwargs: Any) -> OsmAndNumber:
    """An optional numeric OsmAnd field (absent or empty is None; ``-1`` for unknown is the caller's to read)."""
    return OsmAndNumber(load_default=None, allow_none=True, metadata={
        **({"description": description} if description else {}), **(metadata or {})}, **kwargs)


class OsmAndQuerySchema(Schema):
    """Traccar Client / OsmAnd query or form fields (speed in knots, batt in %): parses them.

    Loaded from the merged query and form (``mobile_api.osmand.parse_fields``); a field's error
    never drops an SOS alarm, so the fields that did load are used (``ValidationError.valid_data``).
    """

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1), metadata={
        "description": "the device's osmand_id (also accepted as deviceid)"})
    lat = osmand_number(validate=validate.Range(-90, 90, error="must be between -90 and 90"),
                        metadata={"example": "7.8961"})
    lon = osmand_number(validate=validate.Range(-180, 180, error="must be between -180 and 180"),
                        metadata={"example": "98.2960"})
    location = OsmAndLocation(load_default=None, metadata={
        "type": "string", "description": "latitude,longitude (when lat and lon are not sent)"})
    timestamp = OsmAndTimestamp(load_default=None, metadata={
        "type": "string", "description": "epoch s or ms, ISO 8601, or yyyy-MM-dd HH:mm:ss (UTC); missing = now"})
    accuracy = osmand_number("metres")
    speed = osmand_number("knots")
    bearing = osmand_number("degrees (also accepted as heading)")
    altitude = osmand_number("metres")
    batt = osmand_number("battery %")
    alarm = fields.List(fields.String(), load_default=list, metadata={"description": "sos raises an SOS"})

    @pre_load
    def _as_traccar_reads_them(self, data: Any, **_: Any) -> dict[str, Any]:
        """One value per field (the first), every ``alarm``; ``deviceid`` and ``heading`` as aliases."""
        getlist = getattr(data, "getlist", None)
        fields_ = {key: data.get(key) for key in data}
        fields_["alarm"] = list(getlist("alarm")) if getlist else [a for a in [data.get("alarm")] if a is not None]
        fields_["id"] = (data.get("id") or data.get("deviceid") or "").strip()
        fields_["bearing"] = data.get("bearing") or data.get("heading")
        return fields_


class OsmAndCoordsSchema(Schema):
    """Traccar Client 9+ JSON ``location.coords`` (speed in m/s; -1 means unknown)."""

    class Meta:
        unknown = EXCLUDE

    latitude = LenientNumber(required=True, validate=validate.Range(-90, 90))
    longitude = LenientNumber(required=True, validate=validate.Range(-180, 180))
    accuracy = LenientNumber(load_default=None, allow_none=True)
    speed = LenientNumber(load_default=None, allow_none=True)
    heading = LenientNumber(load_default=None, allow_none=True)
    altitude = LenientNumber(load_default=None, allow_none=True)


class OsmAndBatterySchema(Schema):
    """Battery level 0–1 (-1 when unknown)."""

    class Meta:
        unknown = EXCLUDE

    level = LenientNumber(load_default=None, allow_none=True)
    is_charging = fields.Boolean(load_default=None, allow_none=True)


class OsmAndLocationSchema(Schema):
    """Traccar Client 9+ JSON ``location`` (the background-geolocation SDK's format)."""

    class Meta:
        unknown = EXCLUDE

    timestamp = fields.String(load_default=None, allow_none=True)
    uuid = fields.String(load_default=None, allow_none=True)
    coords = fields.Nested(OsmAndCoordsSchema, required=True)
    battery = fields.Nested(OsmAndBatterySchema, load_default=None, allow_none=True)
    # read from the raw location (an SOS is raised even when the location fails validation)
    alarm = fields.Raw(load_default=None, metadata={"type": "string", "description": "sos raises an SOS (Traccar Client 9)"})
    extras = fields.Dict(load_default=None, allow_none=True, metadata={"description": '{"alarm": "sos"} raises an SOS'})


class OsmAndJsonSchema(Schema):
    """Traccar Client 9+ JSON body."""

    class Meta:
        unknown = EXCLUDE

    device_id = fields.String(required=True)
    location = fields.Nested(OsmAndLocationSchema, metadata={
        "description": "one location, or an array of them; may be left out when the body carries an SOS alarm"})
    alarm = fields.String(load_default=None, allow_none=True, metadata={"description": "sos raises an SOS"})
    extras = fields.Dict(load_default=None, allow_none=True, metadata={"description": '{"alarm": "sos"} raises an SOS'})


def load_or_errors(schema: Schema, data: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Load ``data`` with ``schema``: (result, None) or (None, errors)."""
    try:
        return schema.load(data), None
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return None, errors
