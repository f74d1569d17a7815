"""Fixtures of the hotels tests: two hotels, their managers, cards, and helpers."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec


@dataclass
class Hotels:
    """Hotel A and hotel B with one manager each (Authorization headers)."""

    a: int
    b: int
    manager_a: dict[str, str]
    manager_b: dict[str, str]
    admin: dict[str, str]


@pytest.fixture
def hotels(factories, auth) -> Hotels:
    """Two hotels, each with its manager, and an admin."""
    a = factories.hotel(name="Patong Seaview Hotel", lat=7.8935, lon=98.2975)
    b = factories.hotel(name="Kata Beach Resort", lat=7.8205, lon=98.2990)
    return Hotels(a=a, b=b, manager_a=auth.headers("hotel_manager", hotel_id=a),
                  manager_b=auth.headers("hotel_manager", hotel_id=b), admin=auth.headers("admin"))


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode base64url without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def edited_payload(token: str, **changes: Any) -> str:
    """The token with claims changed but the original signature kept (a forgery)."""
    header, payload, signature = token.split(".")
    claims = json.loads(unb64url(payload))
    claims.update(changes)
    return ".".join([header, b64url(json.dumps(claims).encode()), signature])


def signed_with_other_key(token: str, *, kid: str | None = None) -> str:
    """The token's claims signed with a key that is not ours (same kid unless ``kid`` is given)."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims, key, algorithm="ES256",
                      headers={"kid": kid or header["kid"], "typ": header["typ"]})


def checkin(client, hotel_id: int, headers: dict[str, str], card_token: str, **extra: Any):  # noqa: ANN001
    """POST a check-in."""
    return client.post(f"/api/v1/hotels/{hotel_id}/checkins", headers=headers,
                       json={"card_token": card_token, **extra})


def guest_list(client, hotel_id: int, headers: dict[str, str]) -> list[dict[str, Any]]:  # noqa: ANN001
    """GET the guest list and return its items (asserting 200)."""
    response = client.get(f"/api/v1/hotels/{hotel_id}/guests", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


@pytest.fixture
def server(start_server) -> str:
    """``python wsgi.py`` on the test's database, secret and key folder; its base URL."""
    return start_server(THREADS="8").url
