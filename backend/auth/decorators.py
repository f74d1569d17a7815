"""Authorization for staff endpoints: bearer access token plus role."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request
from flask_smorest import abort

from backend.auth.models import Role, User
from backend.auth.tokens import InvalidToken, TokenKind, decode
from backend.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

STAFF_SECURITY = [{"staffToken": []}]


def bearer_token() -> str | None:
    """The token from ``Authorization: Bearer …``, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def admits(user: User | None, claims: dict[str, Any]) -> bool:
    """True while ``user`` is active and the token with ``claims`` was issued since its last deactivation."""
    return user is not None and user.is_active and claims.get("ver", 0) == user.token_version


def staff_session(token: str | None) -> tuple[User, dict[str, Any]] | None:
    """The staff member and claims of a valid, unexpired, unrevoked access token of an active account."""
    if not token:
        return None
    try:
        claims = decode(TokenKind.STAFF_ACCESS, token)
        user_id = int(claims["sub"])
    except (InvalidToken, ValueError, KeyError, TypeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or not admits(user, claims):
        return None
    return user, claims


def staff_from_token(token: str | None) -> User | None:
    """The active staff member a valid access token belongs to, or None."""
    session = staff_session(token)
    return None if session is None else session[0]


def current_staff() -> User:
    """The staff member of this request (only inside a ``staff_required`` view)."""
    return g.staff


def has_role(user: User, roles: tuple[Role, ...]) -> bool:
    """True when ``user`` holds one of ``roles``; admins hold every role."""
    return user.role == Role.ADMIN or user.role in roles


def staff_required(*roles: Role) -> Callable[[F], F]:
    """Require a staff access token; with ``roles``, require one of them (admin always passes).

    401 for a missing or invalid token, 403 for a valid token of another role.
    """

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = staff_from_token(bearer_token())
            if user is None:
                abort(401, message="missing or invalid access token",
                      headers={"WWW-Authenticate": 'Bearer realm="staff"'})
            if roles and not has_role(user, roles):
                abort(403, message="your role may not do this")
            g.staff = user
            return func(*args, **kwargs)

        apidoc = getattr(wrapper, "_apidoc", {})
        manual = dict(apidoc.get("manual_doc", {}))
        manual["security"] = STAFF_SECURITY
        wrapper._apidoc = {**apidoc, "manual_doc": manual}  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
