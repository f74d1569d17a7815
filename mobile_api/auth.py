"""Device authentication for the companion app: ``device_required`` and ``current_device()``.

A device token is an HS256 JWT of its own type and audience (:data:`TokenKind.DEVICE`), with
no expiry: it lives as long as the device's enrollment. It is accepted only while

- its signature, type, audience and issuer are right,
- the :class:`Device` it names exists and the token is the one issued to it (its SHA-256 is
  stored on the device, so re-enrolling or unlinking a device kills its old token), and
- the device was not revoked on its own (replaced by a newer enrollment of the card).

A device revoked *together with its card* (the card was closed or revoked) and a device of an
expired card still authenticate, but only endpoints that opt in with
``device_required(allow_ended_card=True)`` accept them (SOS, its status and cancel, ``/me``):
safety first, a tourist whose card has ended can still call for help. Every other endpoint
answers such a device ``403`` (valid but no longer allowed), which is also what the contract
asks for pings of a closed, revoked or expired card.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from flask import g
from flask_smorest import abort
from sqlalchemy import select

from backend.auth.decorators import bearer_token
from backend.auth.tokens import InvalidToken, TokenKind, decode
from backend.cards.models import Card
from backend.extensions import db
from backend.tracking.models import Device

F = TypeVar("F", bound=Callable[..., Any])

DEVICE_SECURITY = [{"deviceToken": []}]
# A device revoked up to this long before its card ended counts as revoked with the card
# (the cards service stamps both in one transaction, but clocks are read separately).
_WITH_CARD_SLACK = timedelta(seconds=5)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a device token, as stored on its device."""
    return hashlib.sha256(token.encode()).hexdigest()


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


def authenticate(token: str | None, *, device_id: str | None = None) -> tuple[Device, Card] | None:
    """The device (and its card) a device token belongs to, or None when it is not accepted.

    ``device_id`` (HTTP Basic user name of OwnTracks) must match the token's device when given.
    Devices revoked on their own are refused; devices revoked with their card are returned.
    """
    if not token:
        return None
    try:
        subject = str(decode(TokenKind.DEVICE, token)["sub"])
    except (InvalidToken, KeyError):
        return None
    if device_id is not None and device_id != subject:
        return None
    row = db.session.execute(select(Device, Card).join(Card, Card.id == Device.card_id)
                             .where(Device.id == subject)).first()  # one round trip on the hot path
    if row is None:
        return None
    device, card = row
    if not device.token_hash or not hmac.compare_digest(device.token_hash, token_hash(token)):
        return None
    if device.revoked_at is not None and not revoked_with_card(device, card):
        return None
    return device, card


def current_device() -> Device:
    """The device of this request (only inside a ``device_required`` view)."""
    return g.device


def current_card() -> Card:
    """The card of this request's device (only inside a ``device_required`` view)."""
    return g.card


def admit(found: tuple[Device, Card] | None, *, allow_ended_card: bool, realm: str = "device",
          scheme: str = "Bearer") -> None:
    """Set ``g.device`` and ``g.card``, or abort: 401 unknown credentials, 403 ended card."""
    if found is None:
        abort(401, message="missing or invalid device token",
              headers={"WWW-Authenticate": f'{scheme} realm="{realm}"'})
    device, card = found
    if not allow_ended_card and (device.revoked_at is not None or not card.is_trackable()):
        abort(403, message=f"this card is {card.effective_status()}: enroll again with a valid card")
    g.device, g.card = device, card


@overload
def device_required(func: F) -> F: ...


@overload
def device_required(*, allow_ended_card: bool = False) -> Callable[[F], F]: ...


def device_required(func: F | None = None, *, allow_ended_card: bool = False) -> Any:
    """Require ``Authorization: Bearer <device token>``; sets ``g.device`` and ``g.card``.

    Use bare (``@device_required``) or with ``allow_ended_card=True`` for the endpoints a
    device of a closed, revoked or expired card may still use (SOS). 401 for a missing,
    invalid or replaced token; 403 when the card has ended and the endpoint does not allow it.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            admit(authenticate(bearer_token()), allow_ended_card=allow_ended_card)
            return view(*args, **kwargs)

        apidoc = getattr(wrapper, "_apidoc", {})
        manual = dict(apidoc.get("manual_doc", {}))
        manual["security"] = DEVICE_SECURITY
        wrapper._apidoc = {**apidoc, "manual_doc": manual}  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    if func is not None:
        return decorator(func)
    return decorator
