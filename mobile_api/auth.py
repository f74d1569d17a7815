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
from collections.abc import Callable
from typing import Any, TypeVar, overload

from flask import g
from flask_smorest import abort
from sqlalchemy import select

from backend.auth.decorators import bearer_token
from backend.auth.devices import DeviceCredential, accepts, credential, may_track, revoked_with_card, token_hash
from backend.cards.models import Card
from backend.extensions import db
from backend.tracking.models import Device

__all__ = ["admit", "authenticate", "current_card", "current_credential", "current_device", "device_required",
           "device_signed", "revoked_with_card", "token_hash", "unauthorized"]

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
