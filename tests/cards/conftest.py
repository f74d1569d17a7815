"""Helpers for the card tests: a valid issuance payload and an immigration officer."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from tests.qr import read_one_qr_code


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/cards`` body."""
    body: dict[str, Any] = {
        "full_name": "Anna Schmidt",
        "nationality": "DEU",
        "passport_number": "C01X00T47",
        "checkpoint": "HKT",
        "stay_until": (date.today() + timedelta(days=14)).isoformat(),
        "date_of_birth": "1990-04-01",
        "phone": "+49 30 1234567",
        "email": "anna@example.de",
        "language": "de",
        "emergency_contact": "Jonas Schmidt +49 170 1234567",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def decode_qr_png(data: bytes) -> str:
    """The text of the one QR code in a PNG, read by a real decoder (zxing-cpp)."""
    return read_one_qr_code(data)


def verify_offline(jwks_json: dict[str, Any], token: str) -> dict[str, Any]:
    """Verify a card token with jwcrypto from the JWKS alone (the offline verifier's path)."""
    from jwcrypto import jwk, jwt

    keyset = jwk.JWKSet.from_json(json.dumps(jwks_json))
    checked = jwt.JWT(jwt=token, key=keyset, algs=["ES256"], expected_type="JWS")
    return json.loads(checked.claims)


@pytest.fixture
def officer(auth) -> dict[str, str]:
    """Authorization headers of an immigration officer."""
    return auth.headers("immigration")


@pytest.fixture
def issue(client, officer):
    """Issue a card over HTTP; returns the 201 body."""

    def _issue(**overrides: Any) -> dict[str, Any]:
        response = client.post("/api/v1/cards", json=payload(**overrides), headers=officer)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return _issue
