"""Signed tokens for staff and devices, each its own type and audience (RFC 8725).

Staff access tokens and device tokens are HS256 JWTs signed with the app's secret; the
``typ`` header and the audience keep one from ever being accepted in the other's place.
Card tokens are a third type, ES256 with a published key, in :mod:`backend.cards`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

import jwt
from flask import current_app

from backend.models_base import utcnow


@dataclass(frozen=True)
class TokenType:
    """A kind of token: its JOSE ``typ`` header and its audience."""

    typ: str
    audience: str


class TokenKind(Enum):
    """The token types this service signs with its own secret."""

    STAFF_ACCESS = TokenType(typ="at+jwt", audience="pts:staff")
    DEVICE = TokenType(typ="pts-device+jwt", audience="pts:device")


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


def _issuer() -> str:
    return current_app.config["CARD_ISSUER"]


def encode(kind: TokenKind, subject: str, *, ttl_s: int | None, claims: dict[str, Any] | None = None) -> str:
    """Sign a token of ``kind`` for ``subject``; ``ttl_s=None`` means no expiry (device tokens)."""
    now = utcnow()
    payload: dict[str, Any] = {
        "iss": _issuer(),
        "aud": kind.value.audience,
        "sub": subject,
        "iat": now,
        "jti": secrets.token_urlsafe(16),
        **(claims or {}),
    }
    if ttl_s is not None:
        payload["exp"] = now + timedelta(seconds=ttl_s)
    return jwt.encode(payload, current_app.config["SECRET_KEY"], algorithm="HS256", headers={"typ": kind.value.typ})


def decode(kind: TokenKind, token: str) -> dict[str, Any]:
    """Verify ``token`` as a token of ``kind`` and return its claims, or raise InvalidToken."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != kind.value.typ or header.get("alg") != "HS256":
            raise InvalidToken("wrong token type")
        return jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=["HS256"],
            audience=kind.value.audience,
            issuer=_issuer(),
            options={"require": ["sub", "iat", "aud", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
