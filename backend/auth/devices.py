"""Device credentials: what makes a device token acceptable, shared by every path that takes one.

A device token is an HS256 JWT of its own type and audience (:data:`TokenKind.DEVICE`), with no
expiry: it lives as long as the device's enrollment. Checking it has two halves:

- :func:`credential` — the signature, type, audience and issuer, in memory (microseconds);
- :func:`accepts` — the :class:`Device` row it names still holds that token (its SHA-256 is stored
  on the device, so re-enrolling or unlinking kills an old token) and was not revoked on its own.

Most endpoints do both at once (``mobile_api.auth.device_required``). The ping path does the first
half in the request and leaves the second to the group-commit writer, which loads the rows of the
whole group in one query anyway: a ping request costs no database round trip of its own.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from backend.auth.tokens import InvalidToken, TokenKind, decode
from backend.cards.models import Card
from backend.tracking.models import Device

# A device revoked up to this long before its card ended counts as revoked with the card
# (the cards service stamps both in one transaction, but clocks are read separately).
_WITH_CARD_SLACK = timedelta(seconds=5)


@dataclass(frozen=True)
class DeviceCredential:
    """A correctly signed device token: the device it names and the token's SHA-256."""

    device_id: str
    token_hash: str


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a device token, as stored on its device."""
    return hashlib.sha256(token.encode()).hexdigest()


# Verified device tokens of this process: a device token never expires, so its signature check
# (tens of microseconds) is done once per token and secret. Bounded: emptied when full.
_VERIFIED_MAX = 50_000
_verified: dict[tuple[str, str, str], DeviceCredential] = {}


def _verify(token: str) -> DeviceCredential | None:
    key = (token, current_app.config["SECRET_KEY"], current_app.config["CARD_ISSUER"])
    found = _verified.get(key)
    if found is not None:
        return found
    try:
        claims = decode(TokenKind.DEVICE, token)
        found = DeviceCredential(str(claims["sub"]), token_hash(token))
    except (InvalidToken, KeyError):
        return None
    if "exp" not in claims:  # only what can never expire is remembered
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[key] = found
    return found


def credential(token: str | None, *, device_id: str | None = None) -> DeviceCredential | None:
    """The credential of a correctly signed device token, or None (no database access).

    ``device_id`` (HTTP Basic user name of OwnTracks) must match the token's device when given.
    Whether the device still holds the token is :func:`accepts`' question, asked every time.
    """
    if not token:
        return None
    found = _verify(token)
    if found is None or (device_id is not None and device_id != found.device_id):
        return None
    return found


def card_ended_at(card: Card) -> datetime | None:
    """When the card stopped being valid (closed or revoked), or None while it is active."""
    stamps = [t for t in (card.tracking_ended_at, card.revoked_at, card.closed_at) if t is not None]
    return min(stamps) if stamps else None


def revoked_with_card(device: Device, card: Card) -> bool:
    """True when the device was revoked because its card was closed or revoked (not on its own)."""
    if device.revoked_at is None or card.status == "active":
        return False
    ended = card_ended_at(card)
    return ended is None or device.revoked_at >= ended - _WITH_CARD_SLACK


def accepts(device: Device | None, card: Card | None, found: DeviceCredential) -> bool:
    """True when the device row still honours the credential (devices revoked with their card do)."""
    if device is None or card is None or device.id != found.device_id:
        return False
    if not device.token_hash or not hmac.compare_digest(device.token_hash, found.token_hash):
        return False
    return device.revoked_at is None or revoked_with_card(device, card)


def may_track(device: Device, card: Card) -> bool:
    """True when the device's positions may be stored: not revoked, and its card is trackable (PDPA)."""
    return device.revoked_at is None and card.is_trackable()
