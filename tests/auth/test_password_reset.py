"""A password reset (``users create`` of an existing account) ends every token issued before it."""

from __future__ import annotations


def test_tokens_issued_before_a_password_reset_are_refused(client, auth, runner):
    user = auth.user("dispatcher", username="somchai", password="old password 1")
    old = client.post("/api/v1/auth/login", json={"username": "somchai", "password": "old password 1"})
    token = old.get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/dispatch/incidents", headers=headers).status_code == 200

    reset = runner.invoke(args=["users", "create", user.username, "--role", "dispatcher",
                                "--password", "new password 2"])
    assert reset.exit_code == 0, reset.output
    assert client.get("/api/v1/dispatch/incidents", headers=headers).status_code == 401
    fresh = client.post("/api/v1/auth/login", json={"username": "somchai", "password": "new password 2"})
    assert fresh.status_code == 200
    assert client.get("/api/v1/dispatch/incidents",
                      headers={"Authorization": f"Bearer {fresh.get_json()['access_token']}"}).status_code == 200
