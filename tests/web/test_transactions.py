"""One unit of work per view (commit on return, roll back on raise) and domain errors answered as JSON."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from backend.extensions import db
from backend.geometry import to_element
from backend.models_base import utcnow
from backend.web.transactions import unit_of_work
from geo import service
from geo.models import Zone

AREA = MultiPolygon([box(98.27, 7.89, 98.28, 7.90)])


@unit_of_work
def _add_zone(slug: str, *, then: Exception | None = None) -> Zone:
    zone = Zone(slug=slug, name=slug, kind="caution", severity="medium", geom=to_element(AREA),
                created_at=utcnow(), updated_at=utcnow())
    db.session.add(zone)
    db.session.flush()
    if then is not None:
        raise then
    return zone


def test_a_view_s_changes_commit_when_it_returns_and_roll_back_when_it_raises(app):
    with app.test_request_context():
        _add_zone("kept")
        with pytest.raises(RuntimeError):
            _add_zone("bug", then=RuntimeError("a bug"))
        with pytest.raises(NotFound):
            _add_zone("aborted", then=NotFound())
        with pytest.raises(service.ZoneConflict):
            _add_zone("conflict", then=service.ZoneConflict("a domain error"))
    with app.app_context():
        assert list(db.session.scalars(select(Zone.slug))) == ["kept"]


@unit_of_work
def _create_zone_then_fail(slug: str) -> None:
    service.create_zone(geometry=AREA, properties={"name": slug, "kind": "caution", "severity": "medium",
                                                   "slug": slug})  # flushed inside a savepoint, released
    raise RuntimeError("a later step fails")


def test_a_released_savepoint_is_rolled_back_with_its_transaction(app):
    """SQLite: a savepoint that is the transaction's first write no longer commits on its own."""
    with app.test_request_context(), pytest.raises(RuntimeError):
        _create_zone_then_fail("first-write")
    with app.app_context():
        assert list(db.session.scalars(select(Zone.slug))) == []


def test_a_registered_domain_exception_is_the_api_s_json_error(app, client, auth):
    headers = auth.headers("admin")
    body = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in
                                                                                AREA.geoms[0].exterior.coords]]},
            "properties": {"name": "Lane", "kind": "caution", "severity": "medium", "slug": "lane"}}
    assert client.post("/api/v1/zones", json=body, headers=headers).status_code == 201
    response = client.post("/api/v1/zones", json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json() == {
        "code": 422, "status": "Unprocessable Entity", "message": "another zone already has the slug 'lane'",
        "errors": {"json": {"properties": {"slug": ["another zone already has the slug 'lane'"]}}}}
    assert len(client.get("/api/v1/zones").get_json()["features"]) == 1
