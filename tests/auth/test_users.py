"""Staff accounts die with their right to exist: admins list, deactivate and activate them (API and CLI)."""

from __future__ import annotations

import pytest

PASSWORD = "correct horse battery"


def _login(client, username: str, password: str = PASSWORD):  # noqa: ANN001
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_lists_every_staff_account(client, auth, factories):
    hotel_id = factories.hotel()
    manager = auth.user("hotel_manager", hotel_id=hotel_id, username="front-desk")
    admin = auth.headers("admin")
    response = client.get("/api/v1/users", headers=admin)
    assert response.status_code == 200
    items = {u["username"]: u for u in response.get_json()["items"]}
    assert items["front-desk"] == {"id": manager.id, "username": "front-desk", "role": "hotel_manager",
                                   "hotel_id": hotel_id, "operator_id": None, "active": True, "full_name": None,
                                   "last_login_at": None}
    assert {u["role"] for u in items.values()} == {"hotel_manager", "admin"}
    assert all("password" not in key for u in items.values() for key in u)


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/users/1/deactivate", "/api/v1/users/1/activate"])
def test_only_admins_manage_accounts(client, auth, path):
    method = client.get if path == "/api/v1/users" else client.post
    assert method(path).status_code == 401
    assert method(path, headers={"Authorization": "Bearer forged"}).status_code == 401
    for role in ("dispatcher", "immigration"):
        response = method(path, headers=auth.headers(role))
        assert response.status_code == 403
        assert response.get_json()["code"] == 403


def test_unknown_accounts_are_404(client, auth):
    admin = auth.headers("admin")
    for user_id in (999_999, 2**31 - 1):
        for action in ("deactivate", "activate"):
            response = client.post(f"/api/v1/users/{user_id}/{action}", headers=admin)
            assert response.status_code == 404
            assert response.get_json()["code"] == 404
    assert client.post(f"/api/v1/users/{2**40}/deactivate", headers=admin).status_code == 404


def test_a_deactivated_account_cannot_sign_in_and_its_tokens_stop_at_once(client, auth):
    dispatcher = auth.user("dispatcher", username="somchai")
    token = _login(client, "somchai").get_json()["access_token"]
    assert client.get("/api/v1/dispatch/incidents", headers=_bearer(token)).status_code == 200
    admin = auth.headers("admin")

    response = client.post(f"/api/v1/users/{dispatcher.id}/deactivate", headers=admin)
    assert response.status_code == 200
    assert response.get_json()["active"] is False and response.get_json()["username"] == "somchai"
    for path in ("/api/v1/auth/me", "/api/v1/dispatch/incidents"):  # the very next request
        refused = client.get(path, headers=_bearer(token))
        assert refused.status_code == 401
        assert refused.get_json()["code"] == 401
    assert _login(client, "somchai").status_code == 401
    again = client.post(f"/api/v1/users/{dispatcher.id}/deactivate", headers=admin)
    assert again.status_code == 200 and again.get_json()["active"] is False  # idempotent

    # activated again: a new sign-in works, the token from before the deactivation never does
    response = client.post(f"/api/v1/users/{dispatcher.id}/activate", headers=admin)
    assert response.status_code == 200 and response.get_json()["active"] is True
    assert client.get("/api/v1/auth/me", headers=_bearer(token)).status_code == 401
    fresh = _login(client, "somchai")
    assert fresh.status_code == 200
    assert client.get("/api/v1/auth/me", headers=_bearer(fresh.get_json()["access_token"])).status_code == 200

    audit = client.get("/api/v1/audit", headers=admin).get_json()["items"]
    changes = [e for e in audit if e["action"] in ("staff.deactivate", "staff.activate")]
    assert [e["action"] for e in changes][:2] == ["staff.activate", "staff.deactivate"]  # newest first
    assert all(e["subject_id"] == str(dispatcher.id) and e["actor_role"] == "admin" for e in changes)


def test_the_cli_deactivates_and_activates_by_username(client, runner, auth):
    auth.user("immigration", username="officer-hkt")
    token = _login(client, "officer-hkt").get_json()["access_token"]

    result = runner.invoke(args=["users", "deactivate", "officer-hkt"])
    assert result.exit_code == 0, result.output
    assert "officer-hkt" in result.output and "deactivated" in result.output
    assert client.get("/api/v1/auth/me", headers=_bearer(token)).status_code == 401
    assert _login(client, "officer-hkt").status_code == 401

    result = runner.invoke(args=["users", "activate", "officer-hkt"])
    assert result.exit_code == 0, result.output
    assert _login(client, "officer-hkt").status_code == 200
    assert client.get("/api/v1/auth/me", headers=_bearer(token)).status_code == 401  # revoked for good

    unknown = runner.invoke(args=["users", "deactivate", "nobody"])
    assert unknown.exit_code != 0 and "nobody" in unknown.output
    audit = client.get("/api/v1/audit", headers=auth.headers("admin")).get_json()["items"]
    assert {"staff.deactivate", "staff.activate"} <= {e["action"] for e in audit}


def test_a_hotel_managers_deactivation_revokes_their_tokens_too(client, auth, factories):
    hotel_id = factories.hotel()
    manager = auth.user("hotel_manager", hotel_id=hotel_id, username="desk-1")
    token = _login(client, "desk-1").get_json()["access_token"]
    admin = auth.headers("admin")
    assert client.post(f"/api/v1/hotels/{hotel_id}/managers/{manager.id}/deactivate", headers=admin).status_code == 200
    assert client.post(f"/api/v1/hotels/{hotel_id}/managers/{manager.id}/activate", headers=admin).status_code == 200
    assert client.get("/api/v1/auth/me", headers=_bearer(token)).status_code == 401


def test_the_openapi_document_describes_the_users_api(client):
    spec = client.get("/openapi.json").get_json()
    assert {"/api/v1/users", "/api/v1/users/{user_id}/deactivate", "/api/v1/users/{user_id}/activate"} <= set(
        spec["paths"])
    listed = spec["paths"]["/api/v1/users"]["get"]
    assert listed["security"] == [{"staffToken": []}]
    assert "200" in listed["responses"]
    assert "active" in spec["components"]["schemas"]["User"]["properties"]
    assert "404" in spec["paths"]["/api/v1/users/{user_id}/deactivate"]["post"]["responses"]
