"""A card presented to staff: its QR code scanned, or its id typed with the holder's passport number.

One check for every desk that takes a card from a tourist's hand (the hotel's check-in, the pier's
boarding scan): the refusal reason codes and the staff-readable messages the server sends (English;
the pages show their own Thai for each code), the passport number as compared, the token path
(:func:`card_by_token`) and the card id + passport number path (:func:`card_by_passport`) with its
throttle (:class:`PassportThrottle`: each desk keeps its own scope and config keys, so its own
counters). Both paths return the card or raise one :class:`CardRefused`; nothing here audits or
commits, the desk does (its own audit actions).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from flask import current_app

from backend.auth import throttle
from backend.auth.models import User
from backend.card_ids import canonical
from backend.cards.models import Card
from backend.cards.service import verify_card_token
from backend.extensions import db

# Why a presented card is refused, as staff read it. The keys are the stable reason codes of
# backend.cards.service.verify_card_token, plus ``unknown_card``, ``card_mismatch`` (a typed card id
# that is not the scanned card's) and ``passport_mismatch`` (the card id + passport number check).
REFUSAL_MESSAGES = {
    "malformed": "This is not a Smart Tourist Card code.",
    "wrong_type": "This code is not a Smart Tourist Card.",
    "bad_signature": "The card's signature is not valid: the card may be forged or altered.",
    "bad_algorithm": "The card's code is not signed the way Smart Tourist Cards are: it may be forged.",
    "unknown_key": "The card was not signed by a key of the Smart Tourist Card system.",
    "wrong_issuer": "The card was not issued by the Phuket Smart Tourist Card system.",
    "expired": "The card has expired.",
    "revoked": "The card has been revoked.",
    "closed": "The card was closed: the holder has left Phuket.",
    "unknown_card": "The card is not known to the system.",
    "card_mismatch": "The card id typed does not match the scanned card.",
    "passport_mismatch": "The card id and passport number do not belong together.",
}
# Reasons given only after the signature was checked: the card's data may then be shown.
SIGNED_REASONS = frozenset({"expired", "revoked", "closed"})


def refusal_message(reason: str) -> str:
    """The staff-readable explanation of a refusal reason code."""
    return REFUSAL_MESSAGES.get(reason, "The card is not valid.")


class CardRefused(Exception):
    """The presented card is refused: ``reason`` is a stable code, ``field`` the body field it concerns.

    ``card`` is the card only when its holder may be named (the signature was verified, or the card
    id and passport number belonged together), so a forged code never reveals whose card id it names.
    """

    def __init__(self, reason: str, field: str | None = None, card: Card | None = None) -> None:
        self.reason = reason
        self.field = field
        self.card = card
        self.message = refusal_message(reason)
        super().__init__(self.message)


class CardThrottled(Exception):
    """Too many card id + passport number pairs that did not belong together: wait ``retry_after`` s."""

    def __init__(self, retry_after: int, message: str) -> None:
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class PassportThrottle:
    """How one desk counts wrong card id + passport number pairs, like wrong passwords.

    A (card, staff account) pair is locked out after ``max_failures`` (config key), a staff account
    guessing across many cards after ``CHECKIN_MAX_FAILURES_PER_MANAGER``; the card itself is only
    slowed, so another desk with the right pair still gets it. ``scope`` keeps the desk's counters
    apart; ``message`` is its 429 text, ``{retry_after}`` filled in.
    """

    scope: str
    max_failures_key: str
    message: str
    max_failures_default: int | None = None  # None: the key must be configured

    def policy(self) -> throttle.Policy:
        """The :class:`backend.auth.throttle.Policy` from the app's config."""
        cfg = current_app.config
        if self.max_failures_default is None:
            per_pair = int(cfg[self.max_failures_key])
        else:
            per_pair = int(cfg.get(self.max_failures_key, self.max_failures_default))
        return throttle.Policy(scope=self.scope, pair_limit=per_pair,
                               address_limit=int(cfg.get("CHECKIN_MAX_FAILURES_PER_MANAGER", 20)),
                               lockout_s=int(cfg.get("CHECKIN_LOCKOUT_S", 300)), slow_after=max(1, per_pair - 2),
                               slow_max_s=float(cfg.get("THROTTLE_SLOW_MAX_S", 5)))


def passport_key(passport_number: str) -> str:
    """A passport number as stored and compared: without spaces and hyphens, upper case."""
    return re.sub(r"[\s\-]", "", passport_number).upper()


def card_by_token(card_token: str, *, card_id: str | None = None) -> Card:
    """The card of a scanned QR code, verified completely (signature, key, type, issuer, expiry,
    revocation, closure), or :class:`CardRefused` (``field`` ``card_token``).

    ``card_id``, when typed from the printed card too, must be the card the token belongs to
    (``card_mismatch``).
    """
    verification = verify_card_token(card_token.strip())
    card = verification.card
    if not verification.valid:
        reason = verification.reason or "malformed"
        raise CardRefused(reason, "card_token", card if reason in SIGNED_REASONS else None)
    if card is None:
        raise CardRefused("unknown_card", "card_token")
    if card_id and canonical(card_id) != card.id:
        raise CardRefused("card_mismatch", "card_token")
    return card


def card_by_passport(card_id: str, passport_number: str, *, by: User | None,
                     limits: PassportThrottle) -> Card:
    """The card of a typed card id whose holder's passport number is ``passport_number``.

    A pair that does not belong together (or an unknown card id: the same answer, so card ids
    cannot be probed) raises :class:`CardRefused` ``passport_mismatch`` (``field``
    ``passport_number``) and is counted under ``limits``, keyed by the card and the staff account;
    past the limits :class:`CardThrottled`. A right pair for a card that is not active is refused
    with its status (``expired``, ``revoked``, ``closed``; ``card`` set). The caller commits, also
    after a refusal (the count).
    """
    policy = limits.policy()
    attempt = throttle.keys(policy, account=canonical(card_id), address=f"staff:{by.id}" if by else None)
    wait = throttle.before_attempt(policy, attempt)
    if wait:
        raise CardThrottled(wait, limits.message.format(retry_after=wait))
    card = db.session.get(Card, canonical(card_id))
    given = passport_key(passport_number).encode()
    stored = passport_key(card.tourist.passport_number).encode() if card is not None else b"\0"
    if card is None or not hmac.compare_digest(given, stored):
        throttle.failed(policy, attempt)
        raise CardRefused("passport_mismatch", "passport_number")
    throttle.succeeded(attempt)
    status = card.effective_status()
    if status != "active":
        raise CardRefused(status, None, card)
    return card
