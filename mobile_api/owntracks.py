"""OwnTracks (HTTP mode) payloads mapped onto pings.

The app POSTs the same JSON it would publish over MQTT (booklet: "JSON" and "HTTP" pages):
``{"_type": "location", "lat", "lon", "tst" (epoch s), "acc" (m), "alt" (m), "batt" (%),
"vel" (km/h), "cog" (degrees), "tid", "t", ...}``. Numbers may arrive as strings. Every other
``_type`` (transition, waypoint(s), lwt, card, status, encrypted …) is accepted and ignored.
The Android app re-queues a message that gets any non-2xx answer and sends nothing else until it
goes through; the iOS app drops it on a 4xx and retries on a 5xx. So every message the service
does not store is still answered ``200 []`` (a JSON array of messages for the device).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError

from mobile_api.schemas import MAX_PINGS_PER_BATCH, OwnTracksLocationSchema

KMH_TO_MPS = 1 / 3.6
_location_schema = OwnTracksLocationSchema()


@dataclass(frozen=True)
class OwnTracksFix:
    """One ``_type: location`` message, in our units."""

    lat: float
    lon: float
    recorded_at: datetime
    accuracy_m: float | None
    altitude_m: float | None
    battery_pct: float | None
    speed_mps: float | None
    heading_deg: float | None


@dataclass
class OwnTracksBatch:
    """The locations of one POST, the messages ignored, and the locations refused (by index)."""

    fixes: list[tuple[int, OwnTracksFix]] = field(default_factory=list)
    ignored: int = 0
    ignored_types: set[str] = field(default_factory=set)
    errors: dict[str, Any] = field(default_factory=dict)


class OwnTracksError(Exception):
    """The body is not an OwnTracks message (or array of them)."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("not an OwnTracks message")
        self.errors = errors


def parse(body: Any) -> OwnTracksBatch:
    """Split a POSTed body (one message or an array of them) into location fixes and the rest."""
    messages = body if isinstance(body, list) else [body]
    if not messages or len(messages) > MAX_PINGS_PER_BATCH:
        raise OwnTracksError({"_schema": [f"send 1 to {MAX_PINGS_PER_BATCH} messages"]})
    batch = OwnTracksBatch()
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("_type"), str):
            batch.errors[str(index)] = {"_type": ["an OwnTracks message is a JSON object with a _type"]}
            continue
        if message["_type"] != "location":
            batch.ignored += 1
            batch.ignored_types.add(message["_type"][:40])
            continue
        try:
            batch.fixes.append((index, to_fix(_location_schema.load(message))))
        except ValidationError as exc:
            batch.errors[str(index)] = exc.messages
    return batch


def to_fix(data: dict[str, Any]) -> OwnTracksFix:
    """Convert a validated location message to our units (vel km/h → m/s)."""
    try:
        recorded_at = datetime.fromtimestamp(float(data["tst"]), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValidationError({"tst": ["not a valid epoch timestamp"]}) from exc
    vel = data.get("vel")
    return OwnTracksFix(
        lat=data["lat"], lon=data["lon"], recorded_at=recorded_at, accuracy_m=data.get("acc"),
        altitude_m=data.get("alt"), battery_pct=data.get("batt"),
        speed_mps=None if vel is None else vel * KMH_TO_MPS, heading_deg=data.get("cog"))
