"""Smart Tourist Cards: issuance, the signed card token, verification, revocation and closure.

The card token is a compact JWS signed with ES256 (``kid`` in the JWKS, ``typ`` =
``pts-card+jwt``). It is printed as a QR code that anyone can read, so it carries only what a
verifier needs to recognise the holder: the card id, a short form of the name, the
nationality and the kind of card — never the passport number, birth date or contacts.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

import jwt
from flask import current_app
from sqlalchemy import select

from backend import card_ids, signals
from backend.audit.service import record
from backend.cards import enrollment, keys, latin_names
from backend.cards.models import Card, CardKind, CardStatus, Checkpoint, Tourist
from backend.cards.nationalities import is_nationality
from backend.extensions import db
from backend.models_base import utcnow

CARD_TOKEN_TYPE = "pts-card+jwt"
ALGORITHM = keys.ALGORITHM
PHUKET_TZ = timezone(timedelta(hours=7), "ICT")  # Thailand: UTC+7, no daylight saving
# UTF-8 bytes of the name carried in the QR (the printed card and every API reply show it all).
# The QR's size follows the token's length: with at most 48 bytes of name every token fits a
# version-16 symbol at level M (81 modules + the quiet zone), which the printed card draws with
# modules of at least 0.5 mm (backend/cards/static/cards.css; measured by tests/cards/test_print_qr.py).
NAME_CLAIM_MAX_BYTES = 48
MAX_TOKEN_LENGTH = 4096
MAX_STAY_DAYS = {CardKind.TOURIST: 366, CardKind.RESIDENT: 5 * 366}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class Reason(StrEnum):
    """Why a card token was refused; short strings that API clients may rely on."""

    MALFORMED = "malformed"
    WRONG_TYPE = "wrong_type"
    BAD_ALGORITHM = "bad_algorithm"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    UNKNOWN_CARD = "unknown_card"
    EXPIRED = "expired"
    REVOKED = "revoked"
    CLOSED = "closed"


REASONS: dict[str, str] = {
    Reason.MALFORMED: "not a compact JWS card token, or required claims are missing",
    Reason.WRONG_TYPE: f"the JOSE header's typ is not {CARD_TOKEN_TYPE} (e.g. a staff or device token)",
    Reason.BAD_ALGORITHM: "the header's alg is not ES256 (none, HS256 … are never accepted)",
    Reason.UNKNOWN_KEY: "the kid is not one of our card-signing keys",
    Reason.BAD_SIGNATURE: "the signature does not match: forged or edited token",
    Reason.WRONG_ISSUER: "the iss claim is not this service",
    Reason.UNKNOWN_CARD: "validly signed, but no such card is on record",
    Reason.EXPIRED: "the card's validity (end of stay) has passed",
    Reason.REVOKED: "the card was revoked by immigration",
    Reason.CLOSED: "the card was closed at departure",
}


class CardInputError(ValueError):
    """Issuance input that breaks a rule; ``errors`` names each bad field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class CardStateError(Exception):
    """The card's status does not allow this change (e.g. closing a revoked card)."""


@dataclass(frozen=True)
class IssuedCard:
    """A new card with its signed token and the one-time enrollment code (shown once)."""

    card: Card
    card_token: str
    enrollment_code: str


@dataclass(frozen=True)
class CardVerification:
    """The outcome of checking a card token: ``reason`` is one of :class:`Reason` when invalid."""

    valid: bool
    reason: str | None
    card: Card | None


# -- helpers ------------------------------------------------------------------------------
def today_in_phuket(now: datetime | None = None) -> date:
    """Today's date in Thailand."""
    return (now or utcnow()).astimezone(PHUKET_TZ).date()


def expiry_for(stay_until: date) -> datetime:
    """A card is valid until the end (midnight, Thai time) of the last day of the stay."""
    return datetime.combine(stay_until + timedelta(days=1), time(0), tzinfo=PHUKET_TZ).astimezone(UTC)


def clean_name(name: str) -> str:
    """NFC-normalised, trimmed, single-spaced (names in any script are welcome)."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be printed on a card, or None."""
    if not name:
        return "the name must not be empty"
    if _CONTROL.search(name):
        return "the name must not contain control characters"
    if len(name) > 200:
        return "the name may have at most 200 characters"
    if not any(ch.isalpha() for ch in name):
        return "the name must contain letters"
    return None


def stay_problem(stay_until: date, kind: str, *, today: date | None = None) -> str | None:
    """Why ``stay_until`` is not acceptable for a new card of ``kind``, or None."""
    today = today or today_in_phuket()
    if stay_until < today:
        return "the stay must not end in the past"
    limit = MAX_STAY_DAYS.get(kind, MAX_STAY_DAYS[CardKind.TOURIST])
    if stay_until > today + timedelta(days=limit):
        return f"a {kind} card is valid for at most {limit} days"
    return None


def get_card(*, card_id: str) -> Card | None:
    """The card with this id, as stored or as typed (lower case, dashes, O for 0 …)."""
    if not card_id or len(card_id) > 64:
        return None
    card = db.session.get(Card, card_id)
    if card is None:
        canonical = card_ids.canonical(card_id)
        if canonical != card_id:
            card = db.session.get(Card, canonical)
    return card


def enrollment_url(*, card_id: str, code: str, base_url: str) -> str:
    """The companion-app link printed as the enrollment QR."""
    return f"{base_url.rstrip('/')}/app#card_id={card_id}&code={code}"


# -- issuance -----------------------------------------------------------------------------
def _validate(*, full_name: str, nationality: str, passport_number: str, checkpoint: str, kind: str,
              stay_until: date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if problem := name_problem(full_name):
        errors["full_name"] = [problem]
    if not is_nationality(nationality):
        errors["nationality"] = ["not an ISO 3166-1 alpha-3 country code"]
    if not re.fullmatch(r"[A-Z0-9]{3,20}", passport_number):
        errors["passport_number"] = ["3 to 20 letters and digits"]
    if checkpoint not in {c.value for c in Checkpoint}:
        errors["checkpoint"] = ["unknown checkpoint"]
    if kind not in {k.value for k in CardKind}:
        errors["kind"] = ["must be tourist or resident"]
    elif problem := stay_problem(stay_until, kind):
        errors["stay_until"] = [problem]
    return errors


def _new_card_id() -> str:
    while True:
        candidate = card_ids.new_card_id()
        if db.session.get(Card, candidate) is None:
            return candidate


def display_name_claim(full_name: str) -> str:
    """The name as the QR carries it: whole when it fits ``NAME_CLAIM_MAX_BYTES``, else cut with "…"."""
    if len(full_name.encode("utf-8")) <= NAME_CLAIM_MAX_BYTES:
        return full_name
    budget = NAME_CLAIM_MAX_BYTES - len("…".encode())
    n = len(full_name.encode("utf-8")[:budget].decode("utf-8", errors="ignore"))
    # never keep a letter without the marks that follow it (Thai vowels and tones, accents)
    while n > 0 and unicodedata.category(full_name[n]) == "Mn":
        n -= 1
    return full_name[:n].rstrip() + "…"


def sign_card_token(card: Card) -> str:
    """Sign the card token of ``card`` with the current key (sets ``card.kid``)."""
    signing_key, private_key = keys.store().current()
    claims: dict[str, Any] = {
        "iss": current_app.config["CARD_ISSUER"],
        "sub": card.id,
        "jti": card.jti,
        "iat": int(card.issued_at.timestamp()),
        "exp": int(card.expires_at.timestamp()),
        "name": display_name_claim(card.tourist.full_name),
        "nationality": card.tourist.nationality,
        "kind": card.kind,
    }
    # UTF-8 rather than \u escapes: a Thai or Chinese name takes half the room in the QR.
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    card.kid = signing_key.kid
    return jwt.api_jws.encode(payload, private_key, algorithm=ALGORITHM,
                              headers={"kid": signing_key.kid, "typ": CARD_TOKEN_TYPE})


def _supersede_previous(*, nationality: str, passport_number: str, new_card_id: str) -> None:
    """One active card per passport: a new card revokes the holder's previous active ones."""
    previous = db.session.scalars(
        select(Card).join(Tourist).where(Tourist.nationality == nationality,
                                         Tourist.passport_number == passport_number,
                                         Card.status == CardStatus.ACTIVE,
                                         Card.expires_at > utcnow()))
    for card in previous:
        revoke_card(card=card, reason=f"superseded by card {new_card_id}")


def issue_card(*, full_name: str, nationality: str, passport_number: str, checkpoint: str | Checkpoint,
               stay_until: date, issued_by: int | None, date_of_birth: date | None = None,
               phone: str | None = None, email: str | None = None, language: str = "en",
               emergency_contact: str | None = None, kind: str | CardKind = "tourist",
               latin_name: str | None = None) -> IssuedCard:
    """Issue a card at a checkpoint: holder, signed token, enrollment code, audit; the caller commits.

    ``latin_name`` is the passport's machine-readable-zone name (see :mod:`backend.cards.latin_names`);
    when it is not given it is derived from a ``full_name`` in Latin script.
    Raises :class:`CardInputError` for input that breaks a rule (nothing is changed then).
    """
    full_name = clean_name(full_name)
    nationality = nationality.strip().upper()
    passport_number = re.sub(r"[\s-]", "", passport_number).upper()
    checkpoint, kind = str(checkpoint), str(kind)
    errors = _validate(full_name=full_name, nationality=nationality, passport_number=passport_number,
                       checkpoint=checkpoint, kind=kind, stay_until=stay_until)
    try:
        latin_name = latin_names.latin_name_for(full_name=full_name, latin_name=latin_name)
    except latin_names.LatinNameError as exc:
        errors["latin_name"] = [str(exc)]
    if errors:
        raise CardInputError(errors)
    now = utcnow().replace(microsecond=0)
    new_id = _new_card_id()
    _supersede_previous(nationality=nationality, passport_number=passport_number, new_card_id=new_id)
    tourist = Tourist(full_name=full_name, latin_name=latin_name, nationality=nationality, passport_number=passport_number,
                      date_of_birth=date_of_birth, phone=phone, email=email, language=language or "en",
                      emergency_contact=emergency_contact, created_at=now)
    code, code_hash = enrollment.new_code()
    card = Card(id=new_id, tourist=tourist, kind=CardKind(kind), status=CardStatus.ACTIVE, checkpoint=Checkpoint(checkpoint),
                jti=secrets.token_urlsafe(12), kid="", stay_until=stay_until, issued_at=now,
                expires_at=expiry_for(stay_until), issued_by=issued_by, enrollment_code_hash=code_hash,
                enrollment_code_issued_at=now)
    card.token = sign_card_token(card)
    db.session.add(card)
    db.session.flush()
    record("card.issue", subject_type="card", subject_id=card.id, card_id=card.id,
           detail={"checkpoint": checkpoint, "kind": kind, "kid": card.kid, "expires_at": card.expires_at.isoformat()})
    return IssuedCard(card=card, card_token=card.token, enrollment_code=code)


def renew_enrollment_code(*, card: Card) -> str:
    """A fresh one-time enrollment code for a reprint; the previous code stops working. Caller commits."""
    if not card.is_trackable():
        raise CardStateError(f"the card is {card.effective_status()}: no app can enroll with it")
    code, code_hash = enrollment.new_code()
    card.enrollment_code_hash = code_hash
    card.enrollment_code_issued_at = utcnow()
    record("card.enrollment_code", subject_type="card", subject_id=card.id, card_id=card.id)
    return code


# -- verification -------------------------------------------------------------------------
def _refused(reason: Reason, card: Card | None = None) -> CardVerification:
    return CardVerification(valid=False, reason=reason.value, card=card)


def _check_signature(token: str) -> dict[str, Any] | Reason:
    """The verified claims of a card token, or why it is refused (before any database read)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        return Reason.MALFORMED
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return Reason.MALFORMED
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() != CARD_TOKEN_TYPE:
        return Reason.WRONG_TYPE
    if header.get("alg") != ALGORITHM:
        return Reason.BAD_ALGORITHM
    if "crit" in header:  # we define no extensions, so none can be understood (RFC 7515 §4.1.11)
        return Reason.MALFORMED
    kid = header.get("kid")
    signing_key = keys.store().public_key(kid) if isinstance(kid, str) else None
    if signing_key is None:
        return Reason.UNKNOWN_KEY
    try:
        claims = jwt.decode(token, signing_key.public_key, algorithms=[ALGORITHM],
                            issuer=current_app.config["CARD_ISSUER"],
                            options={"require": ["iss", "sub", "jti", "iat", "exp"], "verify_exp": False,
                                     "verify_iat": False, "verify_aud": False})
    except jwt.InvalidSignatureError:
        return Reason.BAD_SIGNATURE
    except jwt.InvalidIssuerError:
        return Reason.WRONG_ISSUER
    except jwt.PyJWTError:
        return Reason.MALFORMED
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("exp"), int | float):
        return Reason.MALFORMED
    return claims


def verify_card_token(token: str) -> CardVerification:
    """Check a card token fully: type, algorithm, key, signature, issuer, card on record, expiry, status."""
    checked = _check_signature(token)
    if isinstance(checked, Reason):
        return _refused(checked)
    card = db.session.get(Card, checked["sub"])
    if card is None or card.jti != checked.get("jti"):
        return _refused(Reason.UNKNOWN_CARD)
    if card.status == CardStatus.REVOKED:
        return _refused(Reason.REVOKED, card)
    if card.status == CardStatus.CLOSED:
        return _refused(Reason.CLOSED, card)
    now = utcnow()
    if checked["exp"] <= now.timestamp() or card.is_expired(now):
        return _refused(Reason.EXPIRED, card)
    return CardVerification(valid=True, reason=None, card=card)


# -- the end of a card --------------------------------------------------------------------
def _end_tracking(card: Card, now: datetime) -> None:
    """Stop tracking (PDPA): mark when it ended, revoke the card's devices, forbid new enrollments."""
    if card.tracking_ended_at is None:
        card.tracking_ended_at = min(now, card.expires_at)
    card.enrollment_code_hash = None
    signals.card_tracking_ended.send(card, at=now)  # tracking revokes the card's devices


def revoke_card(*, card: Card, reason: str) -> Card:
    """Revoke a card (lost, stolen, fraud …): it no longer verifies and stops tracking. Caller commits.

    Revoking a revoked card changes nothing; a closed card may still be revoked.
    """
    if card.status == CardStatus.REVOKED:
        return card
    now = utcnow()
    previous = card.status
    card.status = CardStatus.REVOKED
    card.revoked_at = now
    card.revoke_reason = reason
    _end_tracking(card, now)
    record("card.revoke", subject_type="card", subject_id=card.id, card_id=card.id,
           detail={"reason": reason, "previous_status": previous})
    return card


def close_card(*, card: Card) -> Card:
    """Close a card at departure: tracking stops and it no longer verifies. Caller commits.

    Closing a closed card changes nothing; a revoked card cannot be closed (:class:`CardStateError`).
    """
    if card.status == CardStatus.CLOSED:
        return card
    if card.status == CardStatus.REVOKED:
        raise CardStateError("the card is revoked; it cannot be closed")
    now = utcnow()
    card.status = CardStatus.CLOSED
    card.closed_at = now
    _end_tracking(card, now)
    record("card.close", subject_type="card", subject_id=card.id, card_id=card.id)
    return card


# -- what offline verifiers download ------------------------------------------------------
def revocation_list() -> list[dict[str, Any]]:
    """Revoked and closed cards that have not expired yet (expired tokens fail on their own)."""
    rows = db.session.execute(
        select(Card.jti, Card.status, Card.revoked_at, Card.closed_at)
        .where(Card.status.in_([CardStatus.REVOKED, CardStatus.CLOSED]), Card.expires_at > utcnow()))
    # Public data only: the jti and when, never the card id or why (a closed card is a departure).
    items = [{"jti": jti, "revoked_at": revoked_at if status == CardStatus.REVOKED else closed_at}
             for jti, status, revoked_at, closed_at in rows]
    return sorted(items, key=lambda item: (item["revoked_at"] is None, item["revoked_at"] or utcnow()))


def jwks() -> dict[str, list[dict[str, str]]]:
    """The public keys: the current one and every retired one that still has unexpired cards."""
    store = keys.store()
    current = store.current_kid()
    retired = [k.kid for k in store.all_keys() if k.kid != current]
    in_use: set[str] = set()
    if retired:
        in_use = set(db.session.scalars(
            select(Card.kid).where(Card.kid.in_(retired), Card.expires_at > utcnow()).distinct()))
    ordered = sorted(store.all_keys(), key=lambda k: (k.kid != current, k.created_at))
    return {"keys": [k.jwk() for k in ordered if k.kid == current or k.kid in in_use]}


def rotate_keys() -> keys.SigningKey:
    """Make a new signing key current; cards signed with the old one keep verifying."""
    new_key = keys.store().rotate()
    record("keys.rotate", subject_type="signing_key", subject_id=new_key.kid)
    return new_key
