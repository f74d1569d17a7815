"""Staff accounts and sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from backend import passwords, runtime
from backend.audit import service as audit
from backend.auth import throttle
from backend.auth.models import Role, User
from backend.auth.tokens import TokenKind, encode
from backend.extensions import db
from backend.models_base import utcnow

_hasher = PasswordHasher()
# A hash to verify against when the username is unknown, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
_DUMMY_HASH_FOR_TESTS = passwords.CHEAP_FOR_TESTS.hash("not-a-real-password")


class LoginThrottled(Exception):
    """Too many failed sign-ins for this username from this address, or from this address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class AccessGrant:
    """A signed-in staff member's access token."""

    access_token: str
    expires_in: int
    role: str
    user: User


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return runtime.off_loop(passwords.hasher(_hasher).hash, password)  # CPU-heavy: never on the event loop


def password_matches(password_hash: str, password: str) -> bool:
    """True when ``password`` matches the Argon2 hash; False for a wrong password or a broken hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(*, username: str, password: str, role: Role, hotel_id: int | None = None,
                full_name: str | None = None, operator_id: int | None = None) -> User:
    """Create a staff account (or reset the password and role of an existing one)."""
    if role is Role.HOTEL_MANAGER and hotel_id is None:
        raise ValueError("a hotel_manager must be bound to a hotel (--hotel-id)")
    if role is not Role.HOTEL_MANAGER and hotel_id is not None:
        raise ValueError("only a hotel_manager is bound to a hotel")
    if role is Role.MARINE_OPERATOR and operator_id is None:
        raise ValueError("a marine_operator must be bound to an operator (--operator-id)")
    if role is not Role.MARINE_OPERATOR and operator_id is not None:
        raise ValueError("only a marine_operator is bound to an operator")
    if len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username)
        db.session.add(user)
    else:  # a reset password (or role) ends every token issued before, as a deactivation does
        user.token_version = (user.token_version or 0) + 1
    user.password_hash = hash_password(password)
    user.role = role
    user.hotel_id = hotel_id
    user.operator_id = operator_id
    user.full_name = full_name
    user.is_active = True
    db.session.flush()
    return user


def list_users() -> list[User]:
    """Every staff account, by username."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def get_user(*, user_id: int | None = None, username: str | None = None) -> User | None:
    """The staff account with that id or username, if any."""
    if user_id is not None:
        return db.session.get(User, user_id)
    return db.session.scalar(select(User).where(User.username == username))


def set_active(user: User, *, active: bool) -> User:
    """Deactivate (or activate again) a staff account, audited; the caller commits.

    Deactivation revokes every token issued so far (``token_version``): they stay refused even
    after the account is activated again, and the account's sockets are closed by each
    Socket.IO process's session sweep within seconds.
    """
    if user.is_active == active:
        return user
    user.is_active = active
    if not active:
        user.token_version += 1
    audit.record("staff.activate" if active else "staff.deactivate", subject_type="user", subject_id=user.id,
                 detail={"username": user.username, "role": user.role, "hotel_id": user.hotel_id})
    return user


def login_policy() -> throttle.Policy:
    """Sign-in throttling: lock a (username, address) or an address, only slow a username."""
    cfg = current_app.config
    return throttle.Policy(scope="login", pair_limit=cfg["LOGIN_MAX_FAILURES"],
                           address_limit=cfg["LOGIN_MAX_FAILURES_PER_ADDR"], lockout_s=cfg["LOGIN_LOCKOUT_S"],
                           slow_after=cfg["LOGIN_MAX_FAILURES"], slow_max_s=cfg["THROTTLE_SLOW_MAX_S"])


def login(*, username: str, password: str, client_addr: str | None) -> AccessGrant | None:
    """Check credentials; return a grant, None for wrong credentials, or raise LoginThrottled.

    Failures are counted per (username, address), per address and per username (see
    :mod:`backend.auth.throttle`): an attacker elsewhere can slow the owner, never lock them out.
    The caller commits.
    """
    cfg = current_app.config
    policy = login_policy()
    attempt = throttle.keys(policy, account=username.lower(), address=client_addr)
    wait = throttle.before_attempt(policy, attempt)
    if wait:
        raise LoginThrottled(wait)
    user = db.session.scalar(select(User).where(User.username == username))
    # off the event loop: while argon2 runs, the other sign-ins commit their counts (row locks)
    hasher = passwords.hasher(_hasher)
    dummy = _DUMMY_HASH if hasher is _hasher else _DUMMY_HASH_FOR_TESTS
    ok = runtime.off_loop(password_matches, user.password_hash if user else dummy, password)
    if not ok or user is None or not user.is_active:
        throttle.failed(policy, attempt)
        return None
    throttle.succeeded(attempt)
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    ttl = cfg["ACCESS_TOKEN_TTL_S"]
    token = encode(TokenKind.STAFF_ACCESS, str(user.id), ttl_s=ttl,
                   claims={"role": user.role, "ver": user.token_version})
    return AccessGrant(access_token=token, expires_in=ttl, role=user.role, user=user)
