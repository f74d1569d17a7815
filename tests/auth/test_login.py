"""Staff sign-in, roles and throttling."""

from __future__ import annotations

import pytest

from backend.auth.tokens import TokenKind, encode

ROLES = ["admin", "immigration", "dispatcher", "hotel_manager"]


@pytest.mark.parametrize("role", ROLES)
def test_login_per_role(app, client, auth, factories, role):
    hotel_id = factories.hotel() if role == "hotel_manager" else None
    user = auth.user(role, hotel_id=hotel_id)
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": "correct horse battery"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["role"] == role
    assert body["expires_in"] == app.config["ACCESS_TOKEN_TTL_S"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == user.username
    assert me.get_json()["hotel_id"] == hotel_id


def test_wrong_password_and_unknown_user_are_401(client, auth):
    user = auth.user("dispatcher")
    for payload in ({"username": user.username, "password": "wrong-password"},
                    {"username": "nobody", "password": "whatever123"}):
        response = client.post("/api/v1/auth/login", json=payload)
        assert response.status_code == 401
        assert response.get_json()["code"] == 401
        assert "message" in response.get_json()


def test_missing_or_bad_token_is_401(client, app):
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401
    with app.app_context():
        device_token = encode(TokenKind.DEVICE, "1", ttl_s=None)
    # a device token is never accepted as a staff token
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {device_token}"}).status_code == 401


def test_expired_token_is_401(client, auth, app):
    user = auth.user("admin")
    with app.app_context():
        token = encode(TokenKind.STAFF_ACCESS, str(user.id), ttl_s=-10, claims={"role": "admin"})
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_wrong_role_is_403(client, auth):
    headers = auth.headers("dispatcher")
    response = client.get("/api/v1/audit", headers=headers)
    assert response.status_code == 403
    assert response.get_json()["code"] == 403
    assert client.get("/api/v1/audit", headers=auth.headers("admin")).status_code == 200


def test_repeated_bad_passwords_are_throttled(client, auth, app):
    user = auth.user("immigration")
    limit = app.config["LOGIN_MAX_FAILURES"]
    codes = [client.post("/api/v1/auth/login", json={"username": user.username, "password": f"bad{i}"}).status_code
             for i in range(limit)]
    assert codes == [401] * limit
    # now even the right password is refused until the lock expires
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": "correct horse battery"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("payload", [
    {}, {"username": "x"}, {"password": "y"}, {"username": 5, "password": "y"},
    {"username": "", "password": "y"}, {"username": "x" * 81, "password": "y"},
])
def test_login_validation_is_422(client, payload):
    response = client.post("/api/v1/auth/login", json=payload)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == 422 and body["message"] and isinstance(body["errors"], dict)


def test_users_create_cli(runner, app, client):
    result = runner.invoke(args=["users", "create", "officer1", "--role", "immigration", "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    assert client.post("/api/v1/auth/login", json={"username": "officer1", "password": "s3cret-pass"}).status_code == 200
    bad = runner.invoke(args=["users", "create", "mgr", "--role", "hotel_manager", "--password", "s3cret-pass"])
    assert bad.exit_code != 0
    assert "hotel" in bad.output


def test_hotels_create_cli_prints_id_last(runner, app, client):
    result = runner.invoke(args=["hotels", "create", "--name", "Kata Beach Resort", "--lat", "7.8205", "--lon", "98.2990",
                                 "--sha-plus-cert", "SHA-123"])
    assert result.exit_code == 0, result.output
    hotel_id = int(result.output.strip().splitlines()[-1])
    manager = runner.invoke(args=["users", "create", "mgr", "--role", "hotel_manager", "--password", "s3cret-pass",
                                  "--hotel-id", str(hotel_id)])
    assert manager.exit_code == 0, manager.output
    body = client.post("/api/v1/auth/login", json={"username": "mgr", "password": "s3cret-pass"}).get_json()
    assert body["hotel_id"] == hotel_id
