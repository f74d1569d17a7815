"""Argon2id hashers, and the cheap one the test suite asks for.

Staff passwords use argon2-cffi's defaults (RFC 9106's low-memory profile: 3 passes over 64 MiB,
about half a second a hash here); enrollment codes use OWASP's minimum (2 passes over 19 MiB). The
test suite creates and signs in thousands of accounts and issues thousands of cards, so its
applications set ``ARGON2_CHEAP_FOR_TESTS`` (``TestingConfig``; the live servers the tests start get
the environment variable of that name explicitly, from ``tests/live_server.py``) and every hash is
made with the least work argon2 accepts. Nothing else sets it: production parameters are unchanged,
and a hash carries its own parameters, so a production hash still verifies either way.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from flask import current_app, has_app_context

# 1 pass over 8 KiB: the minimum argon2 allows (RFC 9106 §3.1) — for tests only, never for real secrets.
CHEAP_FOR_TESTS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def hasher(production: PasswordHasher) -> PasswordHasher:
    """``production``, unless the current application is a test's (``ARGON2_CHEAP_FOR_TESTS``)."""
    if has_app_context() and current_app.config.get("ARGON2_CHEAP_FOR_TESTS"):
        return CHEAP_FOR_TESTS
    return production
