"""Argon2 at production cost everywhere except in the test suite's own applications and servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from backend.auth.service import hash_password
from backend.cards import enrollment

ROOT = Path(__file__).resolve().parents[2]


def params(argon2_hash: str) -> str:
    """The ``m=…,t=…,p=…`` part of an encoded argon2 hash."""
    return argon2_hash.split("$")[3]


@pytest.mark.parametrize(("cheap", "staff", "code"), [
    (False, "m=65536,t=3,p=4", "m=19456,t=2,p=1"),  # production: argon2-cffi's defaults; OWASP's minimum
    (True, "m=8,t=1,p=1", "m=8,t=1,p=1"),
])
def test_hashes_are_made_at_the_configured_cost(cheap, staff, code):
    app = Flask(__name__)
    app.config["ARGON2_CHEAP_FOR_TESTS"] = cheap
    with app.app_context():
        assert params(hash_password("correct horse battery")) == staff
        shown, stored = enrollment.new_code()
        assert params(stored) == code
        assert enrollment.check(stored, shown)


def test_outside_an_application_the_production_cost_applies():
    assert params(hash_password("correct horse battery")) == "m=65536,t=3,p=4"


def test_a_production_hash_still_verifies_in_a_cheap_application(app, auth, client):
    from argon2 import PasswordHasher

    from backend.auth.models import User
    from backend.extensions import db

    user = auth.user("dispatcher")
    with app.app_context():
        db.session.get(User, user.id).password_hash = PasswordHasher().hash("s3cret-password")
        db.session.commit()
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": "s3cret-password"})
    assert response.status_code == 200


@pytest.mark.parametrize(("environment", "cheap"), [(None, "False"), ("0", "False"), ("1", "True")])
def test_only_the_explicit_environment_variable_makes_a_server_cheap(environment, cheap):
    env = {k: v for k, v in os.environ.items() if k != "ARGON2_CHEAP_FOR_TESTS"}
    if environment is not None:
        env["ARGON2_CHEAP_FOR_TESTS"] = environment
    done = subprocess.run([sys.executable, "-c", "from backend.config import Config; print(Config.ARGON2_CHEAP_FOR_TESTS)"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == cheap
