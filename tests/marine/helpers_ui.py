"""Helpers of the marine front-end tests (the /marine page, the console's layer, the simulator)."""

from __future__ import annotations

from typing import Any

import requests

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def operator_account(app, *, name: str, username: str, password: str) -> int:  # noqa: ANN001
    """A boat operator and one ``marine_operator`` account bound to it; returns the operator's id."""
    from backend.auth import service as auth_service
    from backend.auth.models import Role
    from backend.extensions import db
    from backend.marine.service import create_operator

    with app.app_context():
        operator = create_operator(name=name)
        auth_service.create_user(username=username, password=password, role=Role.MARINE_OPERATOR,
                                 operator_id=operator.id)
        db.session.commit()
        return operator.id


def login(url: str, username: str, password: str) -> dict[str, str]:
    """Authorization headers of a staff account signed in over HTTP."""
    response = requests.post(f"{url}/api/v1/auth/login", json={"username": username, "password": password},
                             timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def watch_problems(page: Any) -> list[str]:
    """Collect the page's script errors, console errors and failed requests."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return problems
