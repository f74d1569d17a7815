"""Device credentials: what makes a device token acceptable, shared by every path that takes one.

A device token is an HS256 JWT of its own type and audience (:data:`TokenKind.DEVICE`), with no
expiry: it lives as long as the device's enrollment. Checking it has two halves:

- :func:`credential` — the signature, type, audience and issuer, in memory (microseconds);
- :func:`accepts` — the :class:`Device` row it names still holds that token (its SHA-256 is stored
  on the device, so re-enrolling or unlinking kills an old token) and was not revoked on its own.

Most endpoints do both at once (:func:`device_required`). The ping path does the first half in the
request (:func:`device_signed`) and leaves the second to the group-commit writer, which loads the
rows of the whole group in one query anyway: a ping request costs no database round trip of its own.

The view decorators live here, beside the :class:`Device` rows they check, for every interface that
takes a device token (``mobile_api``, the inbox in ``notifications``, both above tracking); they
read the token the way staff authentication does (``backend.auth.decorators.bearer_token``,
``backend.auth.tokens``), which tracking may import, as it may the cards it checks. A device
revoked *together with its card* (the card was closed or revoked) and a device of an expired card
still authenticate, but only endpoints that opt in with ``device_required(allow_ended_card=True)``
accept them (SOS, its status and cancel, ``/me``): safety first, a tourist whose card has ended can
still call for help. Every other endpoint answers such a device ``403`` (valid but no longer
allowed), which is also what the contract asks for pings of a closed, revoked or expired card.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from flask import current_app, g
from flask_smorest import abort
from sqlalchemy import select

from backend.auth.decorators import bearer_token
from backend.auth.tokens import InvalidToken, TokenKind, decode
from backend.cards.models import Card
from backend.extensions import db
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


# --- the views' decorators ------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])

DEVICE_SECURITY = [{"deviceToken": []}]


def authenticate(token: str | None, *, device_id: str | None = None) -> tuple[Device, Card] | None:
    """The device (and its card) a device token belongs to, or None when it is not accepted.

    ``device_id`` (HTTP Basic user name of OwnTracks) must match the token's device when given.
    Devices revoked on their own are refused; devices revoked with their card are returned.
    """
    found = credential(token, device_id=device_id)
    if found is None:
        return None
    row = db.session.execute(select(Device, Card).join(Card, Card.id == Device.card_id)
                             .where(Device.id == found.device_id)).first()  # one round trip
    if row is None or not accepts(row[0], row[1], found):
        return None
    return row[0], row[1]


def unauthorized(*, realm: str = "device", scheme: str = "Bearer") -> None:
    """Abort with the contract's 401 for a missing, invalid or replaced device credential."""
    abort(401, message="missing or invalid device token", headers={"WWW-Authenticate": f'{scheme} realm="{realm}"'})


def _documented(wrapper: Any) -> Any:
    """Mark a view as taking a device token in the OpenAPI document."""
    apidoc = getattr(wrapper, "_apidoc", {})
    manual = dict(apidoc.get("manual_doc", {}))
    manual["security"] = DEVICE_SECURITY
    wrapper._apidoc = {**apidoc, "manual_doc": manual}
    return wrapper


def device_signed(view: F) -> F:
    """Require a correctly signed device token, checked in memory; sets ``g.device_credential``.

    For the ping path only: the group-commit writer checks the credential against the device
    row (401 when it is no longer the device's, 403 when the card has ended) with the rest of
    its group, so the request itself never waits for the database.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        found = credential(bearer_token())
        if found is None:
            unauthorized()
        g.device_credential = found
        return view(*args, **kwargs)

    return _documented(wrapper)  # type: ignore[return-value]


def current_credential() -> DeviceCredential:
    """The signed device credential of this request (only inside a ``device_signed`` view)."""
    return g.device_credential


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
        unauthorized(realm=realm, scheme=scheme)
        return
    device, card = found
    if not allow_ended_card and not may_track(device, card):
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

        return _documented(wrapper)  # type: ignore[return-value]

    if func is not None:
        return decorator(func)
    return decorator
