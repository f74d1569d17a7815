"""Admins manage hotels and their managers through the API."""

from __future__ import annotations

import pytest


def test_register_list_read_and_update_a_hotel(client, auth):
    admin = auth.headers("admin")
    created = client.post("/api/v1/hotels", headers=admin, json={
        "name": "  Karon Sunset Resort ", "lat": 7.8467, "lon": 98.2946, "sha_plus_cert": "SHA-PLUS-0042",
        "address": "Karon, Mueang Phuket", "phone": "+66 76 123 456"})
    assert created.status_code == 201, created.get_json()
    hotel = created.get_json()
    assert hotel["name"] == "Karon Sunset Resort" and hotel["sha_plus_cert"] == "SHA-PLUS-0042"
    assert (hotel["lat"], hotel["lon"]) == (7.8467, 98.2946)

    assert [h["id"] for h in client.get("/api/v1/hotels", headers=admin).get_json()["items"]] == [hotel["id"]]
    read = client.get(f"/api/v1/hotels/{hotel['id']}", headers=admin).get_json()
    assert read["guests_in_house"] == 0 and read["address"] == "Karon, Mueang Phuket"

    updated = client.put(f"/api/v1/hotels/{hotel['id']}", headers=admin, json={
        "name": "Karon Sunset Resort & Spa", "lat": 7.8470, "lon": 98.2950, "sha_plus_cert": "SHA-PLUS-0043"})
    assert updated.status_code == 200
    body = updated.get_json()
    assert body["name"] == "Karon Sunset Resort & Spa" and body["sha_plus_cert"] == "SHA-PLUS-0043"
    assert body["address"] is None and body["updated_at"]
    assert client.put("/api/v1/hotels/999999", headers=admin, json={"name": "X", "lat": 7.9, "lon": 98.3}).status_code == 404


@pytest.mark.parametrize("payload", [
    {}, {"name": "No position"}, {"name": "", "lat": 7.9, "lon": 98.3}, {"name": "x" * 201, "lat": 7.9, "lon": 98.3},
    {"name": "Swapped", "lat": 98.3, "lon": 7.9}, {"name": "Bangkok", "lat": 13.75, "lon": 100.5},
    {"name": "Out of range", "lat": 7.9, "lon": 500}, {"name": "Text", "lat": "north", "lon": 98.3},
    {"name": "NaN", "lat": "NaN", "lon": 98.3}, {"name": "Cert", "lat": 7.9, "lon": 98.3, "sha_plus_cert": "C" * 65},
    {"name": ["list"], "lat": 7.9, "lon": 98.3},
])
def test_bad_hotel_input_is_422(client, auth, payload):
    admin = auth.headers("admin")
    response = client.post("/api/v1/hotels", headers=admin, json=payload)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]
    assert client.get("/api/v1/hotels", headers=admin).get_json()["items"] == []


def test_managers_are_created_bound_listed_and_deactivated(client, auth, factories):
    admin = auth.headers("admin")
    hotel_id = factories.hotel()
    created = client.post(f"/api/v1/hotels/{hotel_id}/managers", headers=admin,
                          json={"username": "frontdesk.patong", "password": "sea breeze 2026", "full_name": "Nok"})
    assert created.status_code == 201, created.get_json()
    manager = created.get_json()
    assert manager["role"] == "hotel_manager" and manager["hotel_id"] == hotel_id and manager["is_active"] is True
    assert "password" not in manager and "password_hash" not in manager

    login = client.post("/api/v1/auth/login", json={"username": "frontdesk.patong", "password": "sea breeze 2026"})
    assert login.status_code == 200 and login.get_json()["hotel_id"] == hotel_id
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    assert client.get(f"/api/v1/hotels/{hotel_id}/guests", headers=headers).status_code == 200

    listed = client.get(f"/api/v1/hotels/{hotel_id}/managers", headers=admin).get_json()["items"]
    assert [m["username"] for m in listed] == ["frontdesk.patong"]

    off = client.post(f"/api/v1/hotels/{hotel_id}/managers/{manager['id']}/deactivate", headers=admin)
    assert off.status_code == 200 and off.get_json()["is_active"] is False
    assert client.get(f"/api/v1/hotels/{hotel_id}/guests", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/login",
                       json={"username": "frontdesk.patong", "password": "sea breeze 2026"}).status_code == 401
    on = client.post(f"/api/v1/hotels/{hotel_id}/managers/{manager['id']}/activate", headers=admin)
    assert on.status_code == 200 and on.get_json()["is_active"] is True
    # the token from before the deactivation stays revoked; signing in again works
    assert client.get(f"/api/v1/hotels/{hotel_id}/guests", headers=headers).status_code == 401
    again = client.post("/api/v1/auth/login", json={"username": "frontdesk.patong", "password": "sea breeze 2026"})
    fresh = {"Authorization": f"Bearer {again.get_json()['access_token']}"}
    assert client.get(f"/api/v1/hotels/{hotel_id}/guests", headers=fresh).status_code == 200


def test_creating_a_manager_never_takes_over_an_existing_account(client, auth, factories):
    admin_user = auth.user("admin", username="root.admin")
    admin = auth.headers("admin")
    hotel_id = factories.hotel()
    for username in ("root.admin", "ROOT.ADMIN"):
        response = client.post(f"/api/v1/hotels/{hotel_id}/managers", headers=admin,
                               json={"username": username, "password": "hijack the admin"})
        assert response.status_code == 409
    # the admin account still signs in with its own password and role
    login = client.post("/api/v1/auth/login", json={"username": admin_user.username, "password": "correct horse battery"})
    assert login.status_code == 200 and login.get_json()["role"] == "admin"


def test_deactivating_someone_who_is_not_this_hotels_manager_is_404(client, auth, factories):
    admin = auth.headers("admin")
    a, b = factories.hotel(), factories.hotel(name="Other")
    manager_b = auth.user("hotel_manager", hotel_id=b)
    dispatcher = auth.user("dispatcher")
    for user_id in (manager_b.id, dispatcher.id, 999999):
        assert client.post(f"/api/v1/hotels/{a}/managers/{user_id}/deactivate", headers=admin).status_code == 404
    assert client.post("/api/v1/hotels/999999/managers", headers=admin,
                       json={"username": "ghost", "password": "long enough pw"}).status_code == 404


@pytest.mark.parametrize("payload", [
    {}, {"username": "ab", "password": "long enough pw"}, {"username": "has space", "password": "long enough pw"},
    {"username": "short.pw", "password": "1234567"}, {"username": "x" * 81, "password": "long enough pw"},
    {"username": "typed", "password": 12345678},
])
def test_bad_manager_input_is_422(client, auth, factories, payload):
    admin = auth.headers("admin")
    hotel_id = factories.hotel()
    response = client.post(f"/api/v1/hotels/{hotel_id}/managers", headers=admin, json=payload)
    assert response.status_code == 422 and response.get_json()["errors"]
    assert client.get(f"/api/v1/hotels/{hotel_id}/managers", headers=admin).get_json()["items"] == []


def test_hotels_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/api/v1/hotels", "/api/v1/hotels/{hotel_id}", "/api/v1/hotels/{hotel_id}/checkins",
                 "/api/v1/hotels/{hotel_id}/guests", "/api/v1/hotels/{hotel_id}/stays/{stay_id}/checkout",
                 "/api/v1/hotels/{hotel_id}/managers"):
        assert path in paths, path
    assert "422" in paths["/api/v1/hotels/{hotel_id}/checkins"]["post"]["responses"]
