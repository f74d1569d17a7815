"""Helpers for the companion web app's tests: an enrolled phone."""

from __future__ import annotations

from typing import Any

import pytest


class Phone:
    """A phone enrolled with a freshly issued card, talking to ``client``."""

    def __init__(self, client, card: dict[str, str], enrollment: dict[str, Any]) -> None:  # noqa: ANN001
        self.client = client
        self.card = card
        self.enrollment = enrollment

    @property
    def headers(self) -> dict[str, str]:
        """The device's bearer token."""
        return {"Authorization": f"Bearer {self.enrollment['device_token']}"}


@pytest.fixture
def enroll(client, factories):
    """Issue a card (overrides go to the card) and enroll a phone with it through the API."""

    def make(**card_overrides: Any) -> Phone:
        card = factories.issued_card(**card_overrides)
        response = client.post("/api/v1/mobile/enroll", json={
            "card_id": card["card_id"], "enrollment_code": card["enrollment_code"], "platform": "android"})
        assert response.status_code == 201, response.get_json()
        return Phone(client, card, response.get_json())

    return make
