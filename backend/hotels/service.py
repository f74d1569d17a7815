"""Hotels: creation and lookup."""

from __future__ import annotations

from backend.extensions import db
from backend.geometry import point
from backend.hotels.models import Hotel


def create_hotel(*, name: str, lat: float, lon: float, sha_plus_cert: str | None = None,
                 address: str | None = None, phone: str | None = None) -> Hotel:
    """Register a hotel at a position; the caller commits."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("lat must be within ±90 and lon within ±180")
    if not name.strip():
        raise ValueError("the hotel needs a name")
    hotel = Hotel(name=name.strip(), lat=lat, lon=lon, geom=point(lat, lon), sha_plus_cert=sha_plus_cert,
                  address=address, phone=phone)
    db.session.add(hotel)
    db.session.flush()
    return hotel
