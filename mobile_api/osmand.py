"""Traccar Client / OsmAnd protocol mapped onto pings and SOS.

Written from Traccar's own ``OsmAndProtocolDecoder`` and its documentation (traccar.org/osmand):

- query or form fields: ``id`` (or ``deviceid``), ``lat``, ``lon`` (or ``location=lat,lon``),
  ``timestamp`` (epoch seconds, or milliseconds when above 2^31, ISO 8601, or
  ``yyyy-MM-dd HH:mm:ss`` in UTC; missing = now), ``accuracy`` (m), ``speed`` (KNOTS),
  ``bearing``/``heading`` (degrees), ``altitude`` (m), ``batt`` (%), ``alarm`` (``sos``);
  ``lat=0&lon=0`` means "no fix", as Traccar reads it. Traccar reads the fields from the URL,
  else from the body whatever its content type: so do we.
- JSON (Traccar Client 9+, the background-geolocation SDK's format): ``{"device_id",
  "location": {"timestamp" (ISO), "uuid", "coords": {"latitude", "longitude", "accuracy",
  "speed" (m/s), "heading", "altitude"}, "battery": {"level" (0–1)}, "alarm", "extras":
  {"alarm": "sos"}}}``; ``-1`` means unknown for speed, heading and battery level. ``location``
  may also be an array (the SDK's batch sync).

The alarm is read wherever a Traccar decoder has read it: the query or form field, the JSON
body's top level (``alarm``, and ``extras.alarm`` as Traccar 6.7 read it), ``location.alarm``
(Traccar Client 9's SOS button, read first since Traccar 6.8) and ``location.extras.alarm``.
An SOS alarm is never dropped for a bad or missing field: it is raised with what is usable
(no position: the last known one; no usable time: the server's).
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from backend.models_base import utcnow
from mobile_api.schemas import (
    MAX_PINGS_PER_BATCH,
    OsmAndLocationSchema,
    OsmAndNumber,
    OsmAndQuerySchema,
    parse_timestamp,
)

KNOT_TO_MPS = 1852 / 3600
SOS = "sos"
_location_schema = OsmAndLocationSchema()
_query_schema = OsmAndQuerySchema()
_number_field = OsmAndNumber()

__all__ = ["KNOT_TO_MPS", "SOS", "OsmAndError", "OsmAndFix", "OsmAndMessage", "alarm_value", "json_alarm",
           "parse_fields", "parse_json", "parse_timestamp"]


class OsmAndError(Exception):
    """The request is not a usable OsmAnd message; ``errors`` names each bad field."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("not a usable OsmAnd message")
        self.errors = errors


@dataclass(frozen=True)
class OsmAndFix:
    """One position report, in our units; ``lat``/``lon`` are None when the phone had no fix."""

    lat: float | None
    lon: float | None
    recorded_at: datetime
    timestamp_given: bool
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    client_uuid: str | None = None
    alarm: str | None = None


@dataclass
class OsmAndMessage:
    """Who sent it (``osmand_id``) and its fixes (with their index); refused fixes in ``errors``."""

    osmand_id: str
    fixes: list[tuple[int, OsmAndFix]] = field(default_factory=list)
    errors: dict[str, Any] = field(default_factory=dict)

    def raise_alarm(self, alarm: str | None) -> None:
        """Apply a message-wide ``sos`` alarm (query, form or the JSON top level) to the newest fix.

        Without any usable fix the SOS still stands, as a fix without a position.
        """
        if alarm != SOS or any(fix.alarm == SOS for _, fix in self.fixes):
            return
        if not self.fixes:
            self.fixes.append((0, OsmAndFix(lat=None, lon=None, recorded_at=utcnow(), timestamp_given=False,
                                            alarm=SOS)))
            return
        newest = max(range(len(self.fixes)), key=lambda i: self.fixes[i][1].recorded_at)
        index, fix = self.fixes[newest]
        self.fixes[newest] = (index, replace(fix, alarm=SOS))


def alarm_value(*values: Any) -> str | None:
    """The alarm among ``values`` as Traccar stores it (a non-empty string, here lower case); ``sos`` wins."""
    alarms = [value.strip().lower() for value in values if isinstance(value, str) and value.strip()]
    return SOS if SOS in alarms else (alarms[0] if alarms else None)


def json_alarm(container: Any) -> str | None:
    """``alarm`` or ``extras.alarm`` of a JSON object (a location, or the body itself)."""
    if not isinstance(container, dict):
        return None
    extras = container.get("extras")
    return alarm_value(container.get("alarm"), extras.get("alarm") if isinstance(extras, dict) else None)


def _number(value: Any, name: str, errors: dict[str, Any]) -> float | None:
    """A salvaged number (of a location that failed validation); a bad one is noted in ``errors``."""
    try:
        return _number_field.deserialize(value)
    except ValidationError as exc:
        errors[name] = exc.messages
        return None


def _known(value: float | None) -> float | None:
    """The SDK reports -1 for an unknown speed, heading or battery level."""
    return None if value is None or value < 0 else value


def _coordinates(lat: float | None, lon: float | None, errors: dict[str, Any]) -> tuple[float | None, float | None]:
    if lat is not None and not -90 <= lat <= 90:
        errors["lat"] = ["must be between -90 and 90"]
    if lon is not None and not -180 <= lon <= 180:
        errors["lon"] = ["must be between -180 and 180"]
    if errors.get("lat") or errors.get("lon"):
        return None, None
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None, None  # no fix
    return lat, lon


def parse_fields(params: MultiDict) -> OsmAndMessage:
    """Parse the query/form variant with :class:`OsmAndQuerySchema` (speed in knots, batt in %).

    A bad field is reported in ``errors`` and its fix dropped, unless it carries an SOS alarm: then
    the fields that loaded are used (a bad position is no position, a bad time is the server's).
    """
    try:
        data, errors = _query_schema.load(params), {}
    except ValidationError as exc:
        data, errors = exc.valid_data or {}, dict(exc.messages) if isinstance(exc.messages, dict) else {}
    if "id" in errors:
        raise OsmAndError({"id": ["Missing data for required field."]})
    lat, lon = data.get("lat"), data.get("lon")
    if lat is None and lon is None and "lat" not in errors and "lon" not in errors:
        lat, lon = data.get("location") or (None, None)
    else:
        errors.pop("location", None)  # read only when lat and lon are not sent
    lat, lon = _coordinates(lat, lon, errors)
    recorded_at = data.get("timestamp")
    speed, heading = data.get("speed"), data.get("bearing")
    fix = OsmAndFix(
        lat=lat, lon=lon, recorded_at=recorded_at or utcnow(), timestamp_given=recorded_at is not None,
        accuracy_m=_known(data.get("accuracy")),
        speed_mps=None if _known(speed) is None else speed * KNOT_TO_MPS,
        heading_deg=_known(heading), altitude_m=data.get("altitude"), battery_pct=_known(data.get("batt")),
        alarm=alarm_value(*data.get("alarm", ())))
    message = OsmAndMessage(osmand_id=data["id"])
    if errors:
        message.errors["0"] = errors
        if fix.alarm == SOS:  # never lose the SOS for a bad field: what is usable is kept
            message.fixes.append((0, fix))
    else:
        message.fixes.append((0, fix))
    return message


def parse_json(body: Any, *, alarm: str | None = None) -> OsmAndMessage:
    """Parse the Traccar Client 9+ JSON variant (speed in m/s, battery level 0–1).

    ``alarm`` is one sent beside the body (in the query); an SOS survives a bad or missing location.
    """
    if not isinstance(body, dict):
        raise OsmAndError({"_schema": ["expected a JSON object"]})
    osmand_id = body.get("device_id")
    if not isinstance(osmand_id, str | int) or isinstance(osmand_id, bool) or not str(osmand_id).strip():
        raise OsmAndError({"device_id": ["Missing data for required field."]})
    message_alarm = alarm_value(alarm, json_alarm(body))
    locations = body.get("location")
    items = locations if isinstance(locations, list) else [] if locations is None else [locations]
    if len(items) > MAX_PINGS_PER_BATCH or (not items and message_alarm != SOS):
        raise OsmAndError({"location": [f"send 1 to {MAX_PINGS_PER_BATCH} locations"]})
    message = OsmAndMessage(osmand_id=str(osmand_id).strip())
    for index, item in enumerate(items):
        item_alarm = json_alarm(item)
        try:
            message.fixes.append((index, _json_fix(_location_schema.load(item if isinstance(item, dict) else {}),
                                                   item_alarm)))
        except ValidationError as exc:
            message.errors[str(index)] = exc.messages
            if item_alarm == SOS:
                message.fixes.append((index, _salvaged_fix(item, item_alarm)))
    message.raise_alarm(message_alarm)
    return message


def _json_fix(data: dict[str, Any], alarm: str | None) -> OsmAndFix:
    errors: dict[str, Any] = {}
    coords = data["coords"]
    lat, lon = _coordinates(coords["latitude"], coords["longitude"], errors)
    if errors:
        raise ValidationError({"coords": errors})
    recorded_at, given = utcnow(), False
    if data.get("timestamp"):
        try:
            recorded_at, given = parse_timestamp(data["timestamp"]), True
        except ValueError as exc:
            raise ValidationError({"timestamp": [str(exc)]}) from exc
    battery = data.get("battery") or {}
    level = _known(battery.get("level"))
    return OsmAndFix(
        lat=lat, lon=lon, recorded_at=recorded_at, timestamp_given=given, accuracy_m=_known(coords.get("accuracy")),
        speed_mps=_known(coords.get("speed")), heading_deg=_known(coords.get("heading")),
        altitude_m=coords.get("altitude"), battery_pct=None if level is None else min(level, 1.0) * 100,
        client_uuid=_client_uuid(data.get("uuid")), alarm=alarm)


def _client_uuid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value))) if value else None
    except ValueError:
        return None


def _salvaged_fix(item: Any, alarm: str) -> OsmAndFix:
    """The usable part of a location that failed validation but carries an alarm (position, time, uuid)."""
    item = item if isinstance(item, dict) else {}
    coords = item.get("coords") if isinstance(item.get("coords"), dict) else {}
    errors: dict[str, Any] = {}
    lat, lon = _coordinates(_number(coords.get("latitude"), "lat", errors),
                            _number(coords.get("longitude"), "lon", errors), errors)
    recorded_at, given = utcnow(), False
    if isinstance(item.get("timestamp"), str | int) and not isinstance(item.get("timestamp"), bool):
        with contextlib.suppress(ValueError):
            recorded_at, given = parse_timestamp(str(item["timestamp"])), True
    return OsmAndFix(lat=lat, lon=lon, recorded_at=recorded_at, timestamp_given=given,
                     accuracy_m=_known(_number(coords.get("accuracy"), "accuracy", errors)),
                     client_uuid=_client_uuid(item.get("uuid")), alarm=alarm)
