"""Fixtures of the hotels tests: two hotels, their managers, cards, and helpers."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app, tmp_path):
    """``python wsgi.py`` on the test's database, secret and key folder; yields its base URL."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
           "HOST": "127.0.0.1", "PORT": str(port), "RUN_PERIODIC_JOBS": "0", "THREADS": "8", "LOG_LEVEL": "WARNING",
           "INSTANCE_PATH": str(tmp_path / "instance-server"), "CARD_KEYS_DIR": app.config["CARD_KEYS_DIR"],
           "SOCKETIO_CHANNEL": f"pts-test-hotels-{os.getpid()}-{port}"}
    env.pop("SOCKETIO_MESSAGE_QUEUE", None)
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    if requests.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
