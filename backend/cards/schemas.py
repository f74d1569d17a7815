"""Payloads of the Smart Tourist Card API."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates, validates_schema

from backend import card_ids
from backend.cards import latin_names
from backend.cards.models import Card, CardKind, Checkpoint
from backend.cards.nationalities import is_nationality
from backend.cards.presented import passport_key
from backend.cards.service import REASONS, clean_name, name_problem, stay_problem

# BCP 47 language tag, loosely: language[-script][-region][-variants]
BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8}|-[0-9][A-Za-z0-9]{3})*$")
LATIN_NAME_DOC = ("The passport's Latin-script name as in its machine-readable zone (A-Z; `SURNAME, GIVEN` when "
                  "typed from the MRZ), null when unknown")
STAY_UNTIL_DOC = ("The date printed on the card (\"valid until\"): the last day of the stay, a Thai date. Show it "
                  "as a date, never converted through a time zone; `expires_at` is the end of that day, Thai time")
PASSPORT = re.compile(r"[A-Z0-9]{3,20}")  # a passport number as compared (presented.passport_key)
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,38}$")


class CardIssueSchema(Schema):
    """What the immigration officer enters at the checkpoint."""

    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                              metadata={"description": "As in the passport, any script", "example": "Anna Schmidt"})
    latin_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "The passport's Latin-script name as in its machine-readable zone, e.g. "
                       "`IVANOV<<IVAN` (stored and shown as `IVANOV, IVAN`) or `Ivan Ivanov`; optional: "
                       "when absent and `full_name` is in Latin script it is derived from it (upper case, "
                       "ICAO 9303 transliteration: `Müller` → `MUELLER`)",
        "example": "IVANOV<<IVAN"})
    nationality = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-3", "example": "DEU"})
    passport_number = fields.String(required=True, load_only=True, validate=validate.Length(min=3, max=24),
                                    metadata={"example": "C01X00T47"})
    checkpoint = fields.Enum(Checkpoint, by_value=fields.String, required=True)
    stay_until = fields.Date(required=True, metadata={"description": "Last day of the stay (Thai date)"})
    date_of_birth = fields.Date(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(PHONE, error="not a phone number"))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    language = fields.String(load_default="en", validate=[validate.Length(max=35),
                                                          validate.Regexp(BCP47, error="not a BCP 47 language tag")])
    emergency_contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    kind = fields.Enum(CardKind, by_value=fields.String, load_default=CardKind.TOURIST)

    @pre_load
    def _tidy(self, data: Any, **_: Any) -> Any:
        """Upper-case the nationality; empty optional strings mean "not given"."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("nationality"), str):
            data["nationality"] = data["nationality"].strip().upper()
        for key in ("date_of_birth", "phone", "email", "emergency_contact", "latin_name"):
            if isinstance(data.get(key), str) and not data[key].strip():
                data[key] = None
        if data.get("language") in ("", None):
            data.pop("language", None)
        return data

    @validates("full_name")
    def _full_name(self, value: str, **_: Any) -> None:
        if problem := name_problem(clean_name(value)):
            raise ValidationError(problem)

    @validates("latin_name")
    def _latin_name(self, value: str | None, **_: Any) -> None:
        if value is not None:
            try:
                latin_names.normalize(value)
            except latin_names.LatinNameError as exc:
                raise ValidationError(str(exc)) from None

    @validates("nationality")
    def _nationality(self, value: str, **_: Any) -> None:
        if not is_nationality(value):
            raise ValidationError("not an ISO 3166-1 alpha-3 country code (e.g. DEU, RUS, CHN)")

    @validates("passport_number")
    def _passport(self, value: str, **_: Any) -> None:
        if not re.fullmatch(r"[A-Za-z0-9]{3,20}", re.sub(r"[\s-]", "", value)):
            raise ValidationError("3 to 20 letters and digits")

    @validates("emergency_contact")
    def _emergency_contact(self, value: str | None, **_: Any) -> None:
        if value is not None and re.search(r"[\x00-\x08\x0b-\x1f\x7f]", value):
            raise ValidationError("must not contain control characters")

    @validates("date_of_birth")
    def _date_of_birth(self, value: Any, **_: Any) -> None:
        from backend.cards.service import today_in_phuket

        if value is not None and not (value.year >= 1900 and value <= today_in_phuket()):
            raise ValidationError("must be a date in the past")

    @validates_schema(skip_on_field_errors=False)
    def _stay(self, data: dict[str, Any], **_: Any) -> None:
        """The stay must not end in the past nor too far ahead (reported with the other errors)."""
        stay_until, kind = data.get("stay_until"), data.get("kind")
        if isinstance(stay_until, date) and (problem := stay_problem(stay_until, kind or CardKind.TOURIST)):
            raise ValidationError(problem, field_name="stay_until")


def card_links(card: Card) -> dict[str, str]:
    """Relative links to a card's QR codes and printable page."""
    return {"qr_png": f"/api/v1/cards/{card.id}/qr.png", "qr_svg": f"/api/v1/cards/{card.id}/qr.svg",
            "print": f"/cards/{card.id}/print"}


class CardLinksSchema(Schema):
    """Where the card's QR codes and printable page are."""

    qr_png = fields.String()
    qr_svg = fields.String()
    print = fields.String()


class IssuedCardSchema(Schema):
    """A new card: the token for the QR and the one-time enrollment code (shown only now)."""

    card_id = fields.String(required=True)
    card_id_display = fields.String(metadata={"description": "The card id grouped for printing"})
    card_token = fields.String(required=True, metadata={"description": "Compact JWS (ES256) — the QR content"})
    enrollment_code = fields.String(required=True, metadata={"description": "One-time code for the companion app; "
                                                             "stored only as a hash, never shown again"})
    enrollment_url = fields.String(metadata={"description": "The link the enrollment QR encodes"})
    status = fields.String(required=True)
    kind = fields.String()
    checkpoint = fields.String()
    issued_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)
    links = fields.Nested(CardLinksSchema, required=True)


class HolderSchema(Schema):
    """The card holder's personal data (staff only; every read is audited)."""

    full_name = fields.String()
    latin_name = fields.String(allow_none=True, metadata={"description": LATIN_NAME_DOC})
    nationality = fields.String()
    passport_number = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    language = fields.String()
    emergency_contact = fields.String(allow_none=True)


class CardBasicsSchema(Schema):
    """What every staff view of a card starts with: its id as stored and as printed, its state, the holder's names."""

    card_id = fields.String(attribute="id")
    card_id_display = fields.Function(lambda card: card_ids.display(card.id))
    status = fields.Function(lambda card: card.effective_status(),
                             metadata={"description": "active, revoked, closed or expired"})
    kind = fields.String()
    checkpoint = fields.String()
    full_name = fields.String(attribute="tourist.full_name")
    latin_name = fields.String(attribute="tourist.latin_name", allow_none=True,
                               metadata={"description": LATIN_NAME_DOC})
    nationality = fields.String(attribute="tourist.nationality")


class CardSchema(CardBasicsSchema):
    """A card and its holder."""

    stay_until = fields.Date(metadata={"description": STAY_UNTIL_DOC})
    issued_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    tracking_ended_at = fields.AwareDateTime(allow_none=True)
    enrollment_code_issued_at = fields.AwareDateTime(allow_none=True)
    holder = fields.Nested(HolderSchema, attribute="tourist")
    links = fields.Function(card_links, metadata={"description": "qr_png, qr_svg, print"})


class CardSummarySchema(Schema):
    """What a verifier sees of a card: enough to compare with the person in front of them."""

    card_id = fields.String(attribute="id")
    status = fields.Function(lambda card: card.effective_status())
    kind = fields.String()
    full_name = fields.String(attribute="tourist.full_name")
    latin_name = fields.String(attribute="tourist.latin_name", allow_none=True,
                               metadata={"description": LATIN_NAME_DOC})
    nationality = fields.String(attribute="tourist.nationality")
    stay_until = fields.Date(metadata={"description": STAY_UNTIL_DOC})
    expires_at = fields.AwareDateTime()


class CardSearchArgsSchema(Schema):
    """What the checkpoint officer typed to find a card."""

    q = fields.String(required=True, validate=validate.Length(min=2, max=100), metadata={
        "description": "a passport number, a name in any script or the Latin-script (MRZ) name (every word must "
                       "match), or a card id as printed or typed",
        "example": "ivanov"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100),
                           metadata={"description": "1-100, default 20"})
    cursor = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "`next_cursor` of the previous page"})

    @validates("q")
    def _q(self, value: str, **_: Any) -> None:
        if len(value.strip()) < 2:
            raise ValidationError("type at least 2 characters")
        if re.search(r"[\x00-\x1f\x7f]", value):
            raise ValidationError("must not contain control characters")


class CardFoundSchema(CardBasicsSchema):
    """A card found at the checkpoint: enough to recognise the holder and act on the card."""

    passport_number = fields.String(attribute="tourist.passport_number")
    date_of_birth = fields.Date(attribute="tourist.date_of_birth", allow_none=True)
    stay_until = fields.Date(metadata={"description": STAY_UNTIL_DOC})
    issued_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    revoke_reason = fields.String(allow_none=True)
    links = fields.Function(card_links, metadata={"description": "qr_png, qr_svg, print"})


class CardSearchSchema(Schema):
    """One page of the cards found, newest first."""

    items = fields.List(fields.Nested(CardFoundSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "pass as `cursor` for the next page; null on the last"})


class CardPresentationSchema(Schema):
    """A card presented to staff: its QR code (``card_token``), or its printed id with the passport number.

    The body of every desk that takes a card from a tourist (the hotel's check-in, the pier's
    boarding scan; :mod:`backend.cards.presented` checks it). Empty strings mean "not given" (a
    form's empty input). A desk whose ``token_takes_card_id`` is true also accepts the printed
    ``card_id`` next to ``card_token`` (it must then be the scanned card's).
    """

    token_takes_card_id: ClassVar[bool] = False

    card_token = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=4096),
                               metadata={"description": "the content of the card's QR code"})
    card_id = card_ids.CardId(load_default=None, allow_none=True, validate=validate.Length(max=32),
                              metadata={"description": "the card id printed on the card, with `passport_number`"})
    passport_number = fields.String(load_default=None, allow_none=True, load_only=True,
                                    validate=validate.Length(min=1, max=24), metadata={
                                        "description": "the holder's passport number, checked against the card "
                                                       "(case, spaces and hyphens do not matter); with "
                                                       "`card_id`, instead of `card_token`",
                                        "example": "C01X00T47"})

    @pre_load
    def _blank_is_absent(self, data: object, **_kwargs: object) -> object:
        """Empty strings of the card fields mean "not given" (a form's empty input)."""
        if isinstance(data, dict):
            data = dict(data)
            for key in ("card_token", "card_id", "passport_number"):
                if isinstance(data.get(key), str) and not data[key].strip():
                    data[key] = None
        return data

    @validates_schema
    def _one_way(self, data: dict, **_kwargs: object) -> None:
        """Either ``card_token`` (with ``card_id`` where the desk takes both) or ``card_id`` + ``passport_number``."""
        token, card_id, passport = data.get("card_token"), data.get("card_id"), data.get("passport_number")
        if token is not None:
            if passport is not None:
                raise ValidationError("send it with card_id instead of card_token, not both",
                                      field_name="passport_number")
            if card_id is not None and not self.token_takes_card_id:
                raise ValidationError("send card_token alone, or card_id with passport_number", field_name="card_id")
            return
        if card_id is None and passport is None:
            raise ValidationError("give card_token (the content of the card's QR code), or card_id with "
                                  "passport_number", field_name="card_token")
        if passport is None:
            raise ValidationError("required with card_id when there is no card_token", field_name="passport_number")
        if card_id is None:
            raise ValidationError("required with passport_number when there is no card_token", field_name="card_id")
        if not PASSPORT.fullmatch(passport_key(passport)):
            raise ValidationError("3 to 20 letters and digits", field_name="passport_number")


class VerifyRequestSchema(Schema):
    """A card token as read from the QR."""

    card_token = fields.String(required=True, validate=validate.Length(min=1, max=8192))


_REASON_DOC = "; ".join(f"`{code}`: {text}" for code, text in REASONS.items())


class VerificationSchema(Schema):
    """The outcome of verifying a card token."""

    valid = fields.Boolean(required=True)
    reason = fields.String(allow_none=True, required=True,
                           metadata={"description": "null when valid, else one of: " + _REASON_DOC,
                                     "enum": [str(r) for r in REASONS]})
    card = fields.Nested(CardSummarySchema, allow_none=True, required=True,
                         metadata={"description": "The card when the signature was valid (also when it is "
                                                  "expired, revoked or closed), else null"})


class RevokeSchema(Schema):
    """Why a card is revoked."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=300),
                           metadata={"example": "passport reported stolen"})

    @validates("reason")
    def _reason(self, value: str, **_: Any) -> None:
        if not value.strip():
            raise ValidationError("give a reason")


class RevocationSchema(Schema):
    """One card that verifiers must refuse although its signature is valid.

    Public, so only the token's ``jti`` and when: never the card id, nor whether the holder was
    revoked or simply left the country (``closed``).
    """

    jti = fields.String(required=True)
    revoked_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "when the card was revoked or closed"})


class RevocationListSchema(Schema):
    """The revocation list for offline verifiers (unexpired revoked and closed cards)."""

    generated_at = fields.AwareDateTime(required=True)
    revoked = fields.List(fields.Nested(RevocationSchema), required=True)


class EnrollmentCodeSchema(Schema):
    """A fresh one-time enrollment code (the previous one no longer works)."""

    card_id = fields.String(required=True)
    enrollment_code = fields.String(required=True)
    enrollment_url = fields.String(required=True)
    enrollment_code_issued_at = fields.AwareDateTime()


class EnrollmentQrRequestSchema(Schema):
    """The enrollment code to print as a QR (it must be the card's current code)."""

    enrollment_code = fields.String(required=True, validate=validate.Length(min=4, max=20))


class JwksSchema(Schema):
    """A JSON Web Key Set (RFC 7517) of the card-signing public keys."""

    keys = fields.List(fields.Dict(), required=True)
