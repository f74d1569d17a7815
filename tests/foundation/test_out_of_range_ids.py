"""Numbers no database can hold, in every id of every route: a 4xx JSON error, never a 500.

SQLite stores integers of at most 64 bits and its driver raises OverflowError past that (found
by fuzzing the API with schemathesis); every ``<int:…>`` of a route and every id in a query or
body must stop such a number before it reaches the database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

TOO_BIG = str(2**64)


def _routes(app, number: str) -> list[tuple[str, str]]:  # noqa: ANN001
    """(method, path with every int id replaced by ``number``) of every route with an id."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "int" not in {type(c).__name__ for c in rule._converters.values()} and not re.search(r"<int:", rule.rule):
            continue
        path = re.sub(r"<int:[^>]+>", number, rule.rule)
        path = re.sub(r"<[^>]+>", "X", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


@pytest.mark.parametrize("number", [str(2**31), TOO_BIG], ids=["past PostgreSQL integer", "past 64 bits"])
def test_every_route_answers_a_too_large_id_without_a_server_error(app, client, auth, factories, number):
    routes = _routes(app, number)
    assert len(routes) >= 20  # incidents, hotels, stays, managers, zones, broadcasts, SOS …
    card = factories.issued_card()
    device = client.post("/api/v1/mobile/enroll", json={"card_id": card["card_id"], "platform": "android",
                                                        "enrollment_code": card["enrollment_code"]}).get_json()
    staff = auth.headers("admin")
    phone = {"Authorization": f"Bearer {device['device_token']}"}
    failures = []
    for method, path in routes:
        headers = phone if path.startswith("/api/v1/mobile/") else staff
        response = client.open(path, method=method, headers=headers, json={})
        if response.status_code >= 500 or not response.is_json:
            failures.append((method, path, response.status_code))
        elif response.status_code == 404:
            assert response.get_json()["code"] == 404
    assert failures == []


@pytest.mark.parametrize(("path", "field"), [("/api/v1/mobile/messages?before_id=" + TOO_BIG, "before_id")])
def test_a_too_large_id_in_a_query_is_a_422(client, factories, path, field):
    card = factories.issued_card()
    device = client.post("/api/v1/mobile/enroll", json={"card_id": card["card_id"], "platform": "android",
                                                        "enrollment_code": card["enrollment_code"]}).get_json()
    response = client.get(path, headers={"Authorization": f"Bearer {device['device_token']}"})
    assert response.status_code == 422
    assert field in str(response.get_json()["errors"])


def test_a_broadcast_to_a_too_large_zone_id_is_a_422_and_sends_nothing(client, auth):
    headers = auth.headers("dispatcher")
    response = client.post("/api/v1/broadcasts", headers=headers, json={
        "headline": "Rip currents", "message": "Stay out of the water", "severity": "Severe",
        "area": {"zone_id": int(TOO_BIG)}})
    assert response.status_code == 422, response.get_json()
    assert "zone_id" in str(response.get_json()["errors"]["json"]["area"])
    assert client.get("/api/v1/broadcasts", headers=headers).get_json()["items"] == []


def test_a_value_that_slips_past_a_schema_is_a_422_not_a_500(app):
    """The safety net behind the schemas: the database's own range errors answer 422 and change nothing."""
    from sqlalchemy import text

    from backend.extensions import db

    @app.get("/test-only/too-big")
    def too_big():  # a query with a number SQLite cannot bind, PostgreSQL cannot cast
        db.session.execute(text("SELECT CAST(:n AS INTEGER)"), {"n": 2**64})
        return {"status": "unreachable"}

    response = app.test_client().get("/test-only/too-big")
    assert response.status_code == 422
    assert response.get_json()["code"] == 422 and "out of range" in response.get_json()["message"]


def test_a_nul_character_in_text_is_a_422_on_both_databases(client, auth):
    """PostgreSQL cannot store NUL in text (found by fuzzing): never a 500, and nothing is stored."""
    headers = auth.headers("dispatcher")
    response = client.post("/api/v1/broadcasts", headers=headers, json={
        "headline": "Rip\u0000currents".encode().decode("unicode_escape"), "message": "Stay out of the water",
        "severity": "Severe", "area": {"type": "Polygon", "coordinates": [[[98.28, 7.88], [98.30, 7.88],
                                                                          [98.30, 7.90], [98.28, 7.88]]]}})
    assert response.status_code == 422, response.get_json()
    assert "headline" in response.get_json()["errors"]["json"]
    assert client.get("/api/v1/broadcasts", headers=headers).get_json()["items"] == []


def test_nul_in_a_traccar_client_form_or_query_is_a_422(client, factories):
    card = factories.issued_card()
    device = client.post("/api/v1/mobile/enroll", json={"card_id": card["card_id"], "platform": "android",
                                                        "enrollment_code": card["enrollment_code"]}).get_json()
    query = client.get(f"/api/v1/mobile/osmand?id={device['osmand_id']}%00&lat=7.89&lon=98.29")
    form = client.post("/api/v1/mobile/osmand", data=f"id={device['osmand_id']}&lat=7.89&lon=98.29&batt=5%00",
                       content_type="application/x-www-form-urlencoded")
    assert (query.status_code, form.status_code) == (422, 422)
    assert query.get_json()["errors"] == {"query": {"id": ["text must not contain NUL characters"]}}
    assert form.get_json()["errors"] == {"form": {"batt": ["text must not contain NUL characters"]}}
    # a percent sign in JSON text is just text
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")  # a fixed date would age past the card's issue
    assert client.post("/api/v1/mobile/osmand", json={"device_id": device["osmand_id"], "location": {
        "timestamp": now, "coords": {"latitude": 7.89, "longitude": 98.29},
        "extras": {"note": "battery 100%00"}}}).status_code != 422


def test_nul_in_sign_in_and_staff_forms_is_a_422(client, auth):
    """Fields where fuzzing found PostgreSQL's NUL error as a 500: sign-in, a hotel's name, a card id."""
    nul = "a\u0000b"
    assert client.post("/api/v1/auth/login", json={"username": nul, "password": "x"}).status_code == 422
    admin = auth.headers("admin")
    assert client.post("/api/v1/hotels", headers=admin, json={"name": nul, "lat": 7.9, "lon": 98.3}).status_code == 422
    assert client.get("/api/v1/cards/%00", headers=admin).status_code in (404, 422)
