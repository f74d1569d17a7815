"""One-time enrollment codes for the companion app, stored only as a hash."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend import passwords
from backend.card_ids import ALPHABET, normalize  # the card ids' alphabet and reading
from backend.runtime import off_loop

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def new_code() -> tuple[str, str]:
    """A fresh code shown once to the tourist (``XXXX-XXXX``) and the hash to store."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}", off_loop(passwords.hasher(_hasher).hash, raw)  # CPU-heavy: off the event loop


def check(code_hash: str | None, code: str) -> bool:
    """True when ``code`` matches the stored hash."""
    if not code_hash or not code:
        return False
    return off_loop(_matches, code_hash, normalize(code))  # CPU-heavy: off the event loop


def _matches(code_hash: str, code: str) -> bool:
    """Whether ``code`` matches (a wrong code is False, not an exception crossing threads)."""
    try:
        return _hasher.verify(code_hash, code)  # the hash names its own parameters
    except (VerificationError, InvalidHashError):
        return False
