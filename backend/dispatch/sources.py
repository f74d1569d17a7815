"""What the dispatch domain reads from the domains above it, provided at ``create_app``.

Tracking, hotels and marine raise and update incidents, so they sit above dispatch in the layers
(``.importlinter``) and import it. The 191 console still shows their rows: a tourist's positions
and track (tracking), the hotel stay of an incident's tourist (hotels), a boat's trip, found by
its vessel or by who is aboard (marine). Each of those reads is named here as a typed protocol;
the domain that owns the rows implements it, and :mod:`backend.wiring` hands the implementations
to the app (:func:`provide`). Dispatch imports no higher domain, and ``wiring.py`` lists who
provides what beside who hears what.

These are reads with one answer each, not announcements: a signal (``backend.signals``) tells
any number of receivers about a change; a source is the one domain that knows the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask, current_app

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select

    from backend.dispatch.positions import BBox

_KEY = "pts_dispatch_sources"  # app.extensions


class LatestFix(Protocol):
    """A card's latest position as the map reads it (tracking's ``LatestPosition``)."""

    card_id: str
    lat: float
    lon: float
    recorded_at: datetime
    last_contact_at: datetime
    danger_zone_id: int | None
    in_service_area: bool
    at_sea: bool
    accuracy_m: float | None
    battery_pct: float | None


class Positions(Protocol):
    """The tracked cards' positions (``backend.tracking.positions``)."""

    def tracked_in(self, *, bbox: BBox, limit: int, now: datetime) -> list[Any]:
        """Rows ``(latest fix, full name, nationality)`` of tracked cards inside ``bbox``, newest first."""

    def tracked_contacted_since(self, *, since: datetime, limit: int, now: datetime) -> list[Any]:
        """Rows ``(latest fix, full name, nationality)`` of tracked cards heard from after ``since``."""

    def pings_since(self, *, card_id: str, since: datetime, limit: int) -> list[Any]:
        """The card's pings recorded since ``since``, oldest first, at most ``limit`` (the newest)."""

    def track(self, *, card_id: str, start: datetime, end: datetime, limit: int) -> list[dict[str, Any]]:
        """The card's fixes between ``start`` and ``end`` as ``{lat, lon, recorded_at}``, oldest first."""

    def latest(self, card_id: str) -> LatestFix | None:
        """The card's latest position, or None."""


class Stays(Protocol):
    """Hotel stays (``backend.hotels.service``)."""

    def current_stay(self, card_id: str) -> dict[str, Any] | None:
        """The card's open stay as an incident shows it (hotel, phone, room, since), or None."""


class Trips(Protocol):
    """Boat trips and their manifests (``backend.marine.service``)."""

    def trip_brief(self, trip_id: int) -> dict[str, Any] | None:
        """What an incident shows of its trip (vessel, operator, manifest), or None."""

    def incident_manifest(self, incident: Any) -> list[dict[str, Any]] | None:
        """The manifest of an incident's trip (audited with the detail read), or None (no trip)."""

    def trips_named(self, folded: str) -> Select[Any]:
        """The ids of the trips whose vessel's name or registration a search names."""

    def trips_carrying(self, holder: list[ColumnElement[bool]]) -> Select[Any]:
        """The ids of the trips carrying a card whose holder matches one of ``holder``."""


@dataclass(frozen=True)
class Sources:
    """The implementations the app was given."""

    positions: Positions
    stays: Stays
    trips: Trips


def provide(app: Flask, sources: Sources) -> None:
    """Give ``app`` the implementations of dispatch's reads (``backend.wiring.init_app`` does)."""
    app.extensions[_KEY] = sources


def current() -> Sources:
    """The current app's sources."""
    return current_app.extensions[_KEY]
