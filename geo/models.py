"""Zones (service area, island, danger, caution) and facilities (hospitals, police, checkpoints)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models_base import UTCDateTime, enum_column, utcnow
from backend.vocab import Severity


class ZoneKind(StrEnum):
    """What a zone means to the rules."""

    SERVICE_AREA = "service_area"
    ISLAND = "island"
    DANGER = "danger"
    CAUTION = "caution"


class FacilityKind(StrEnum):
    """Places that help."""

    CHECKPOINT = "checkpoint"
    HOSPITAL = "hospital"
    POLICE = "police"
    TOURIST_POLICE = "tourist_police"
    MARINE_POLICE = "marine_police"


class Zone(db.Model):
    """An area the rules watch."""

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str | None] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_th: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[ZoneKind] = mapped_column(enum_column(ZoneKind, 20), index=True)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, 10))
    description: Mapped[str | None] = mapped_column(Text)
    advice: Mapped[str | None] = mapped_column(Text)
    season_months: Mapped[list[int] | None] = mapped_column(JSON)
    # {lang: {name, description, advice}} for the languages other than English (geo/data/zones.i18n.json)
    translations: Mapped[dict[str, dict[str, str]] | None] = mapped_column(JSON)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def localized(self, language: str) -> tuple[str, str | None, str | None]:
        """(name, description, advice) in ``language``; English for what the zone has no translation of."""
        own = (self.translations or {}).get(language) or {}
        name = own.get("name") or (self.name_th if language == "th" and self.name_th else self.name)
        if language == "en":
            return name, self.description, self.advice
        return name, own.get("description"), own.get("advice")


class Facility(db.Model):
    """A hospital, police station, marine police base or entry checkpoint."""

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_th: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[FacilityKind] = mapped_column(enum_column(FacilityKind, 20), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    code: Mapped[str | None] = mapped_column(String(20))
    lat: Mapped[float]
    lon: Mapped[float]
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
