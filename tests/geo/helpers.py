"""Helpers shared by the geo and tracking tests: seeding, sending fixes, reading incidents."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from backend.models_base import utcnow

DATA = Path(__file__).resolve().parents[2] / "geo" / "data"


def zone_features() -> list[dict[str, Any]]:
    """The committed seed zones."""
    return json.loads((DATA / "zones.geojson").read_text(encoding="utf-8"))["features"]


def seed(app) -> None:  # noqa: ANN001
    """Load the Phuket seed data into the test database."""
    from backend.extensions import db
    from geo.seed import seed as run_seed

    with app.app_context():
        run_seed()
        db.session.commit()


@dataclass
class Sent:
    """What a batch did, read back after commit."""

    accepted: int
    duplicates: int
    latest: dict[str, Any] | None
    incidents: list[dict[str, Any]]


def fix(lat: float, lon: float, at: datetime, client_id: str | None = None) -> dict[str, Any]:
    """One fix to send."""
    return {"lat": lat, "lon": lon, "recorded_at": at, "client_id": client_id or str(uuid.uuid4())}


def send(app, card_id: str, *fixes: dict[str, Any]) -> Sent:  # noqa: ANN001
    """Record a batch through the real ``record_pings`` and commit, like the mobile API does."""
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.tracking.service import PingInput, record_pings

    with app.app_context():
        card = db.session.get(Card, card_id)
        pings = [PingInput(client_id=f["client_id"], lat=f["lat"], lon=f["lon"], recorded_at=f["recorded_at"],
                           accuracy_m=10.0) for f in fixes]
        result = record_pings(card=card, device_id=None, pings=pings)
        latest = None
        if result.latest is not None:
            lp = result.latest
            latest = {"lat": lp.lat, "lon": lp.lon, "recorded_at": lp.recorded_at, "at_sea": lp.at_sea,
                      "in_service_area": lp.in_service_area, "danger_zone_id": lp.danger_zone_id,
                      "last_contact_at": lp.last_contact_at}
        incidents = [{"id": i.id, "kind": i.kind, "severity": i.severity, "zone_id": i.zone_id} for i in result.incidents]
        db.session.commit()
        return Sent(result.accepted, result.duplicates, latest, incidents)


def incidents(app, card_id: str) -> list[dict[str, Any]]:  # noqa: ANN001
    """Every incident of a card with its timeline event types, oldest first."""
    from sqlalchemy import select

    from backend.dispatch.models import Incident, IncidentEvent
    from backend.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(Incident).where(Incident.card_id == card_id).order_by(Incident.id)).all()
        out = []
        for incident in rows:
            events = db.session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
                                        .order_by(IncidentEvent.seq)).all()
            out.append({"id": incident.id, "kind": incident.kind, "status": incident.status,
                        "severity": incident.severity, "zone_id": incident.zone_id, "lat": incident.lat,
                        "lon": incident.lon, "events": [e.type for e in events],
                        "details": [e.detail for e in events]})
        return out


def zone_id(app, slug: str) -> int:  # noqa: ANN001
    """The id of a seeded zone."""
    from sqlalchemy import select

    from backend.extensions import db
    from geo.models import Zone

    with app.app_context():
        return db.session.scalar(select(Zone.id).where(Zone.slug == slug))


def minutes_ago(minutes: float) -> datetime:
    """A UTC time ``minutes`` ago."""
    return utcnow() - timedelta(minutes=minutes)
