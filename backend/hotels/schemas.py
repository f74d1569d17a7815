"""Payloads of the hotels API: hotels, managers, check-in, the guest list."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from backend.card_ids import CardId
from backend.cards.presented import REFUSAL_MESSAGES
from backend.cards.schemas import CardPresentationSchema
from backend.hotels.service import GUEST_STATUSES

LATIN_NAME_DOC = "the passport's Latin-script name as in its machine-readable zone (A-Z), null when unknown"
STAY_UNTIL_DOC = ("the date printed on the card (valid until; a Thai date): show it as is, never through a time "
                  "zone. `expires_at` is the end of that day, Thai time")

# A generous box around Phuket province (island, Koh Racha, the bays): hotels of the programme.
PHUKET_LAT = (7.0, 8.6)
PHUKET_LON = (97.8, 99.0)

_REASONS = ", ".join(f"`{code}` ({text})" for code, text in REFUSAL_MESSAGES.items())


def _strip_strings(data: object) -> object:
    if isinstance(data, dict):
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    return data


class HotelInputSchema(Schema):
    """A hotel's details (creation, or full replacement with PUT)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    sha_plus_cert = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64),
                                  metadata={"description": "SHA Plus certificate number"})
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))

    @pre_load
    def strip(self, data: object, **_kwargs: object) -> object:
        """Trim surrounding spaces of text fields."""
        return _strip_strings(data)

    @validates_schema
    def in_phuket(self, data: dict, **_kwargs: object) -> None:
        """Hotels of the programme are in Phuket province."""
        lat, lon = data.get("lat"), data.get("lon")
        if lat is None or lon is None:
            return
        if not (PHUKET_LAT[0] <= lat <= PHUKET_LAT[1] and PHUKET_LON[0] <= lon <= PHUKET_LON[1]):
            raise ValidationError("the hotel must be in Phuket province (check lat and lon are not swapped)",
                                  field_name="lat")


class HotelSchema(Schema):
    """A hotel."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    sha_plus_cert = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime(allow_none=True)
    guests_in_house = fields.Integer(metadata={"description": "open stays (only on GET of one hotel)"})


class HotelListSchema(Schema):
    """Hotels (an admin sees all; a manager their own)."""

    items = fields.List(fields.Nested(HotelSchema), required=True)


class ManagerInputSchema(Schema):
    """A new manager account for the hotel."""

    username = fields.String(required=True, validate=[
        validate.Length(min=3, max=80),
        validate.Regexp(r"^[A-Za-z0-9._@-]+$", error="letters, digits and . _ @ - only"),
    ])
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=256))
    full_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class ManagerSchema(Schema):
    """A hotel manager's account."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True)
    hotel_id = fields.Integer(allow_none=True)
    full_name = fields.String(allow_none=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.AwareDateTime()
    last_login_at = fields.AwareDateTime(allow_none=True)


class ManagerListSchema(Schema):
    """The hotel's manager accounts."""

    items = fields.List(fields.Nested(ManagerSchema), required=True)


class CardScanSchema(Schema):
    """A scanned (or pasted) card, to check before check-in."""

    card_token = fields.String(required=True, validate=validate.Length(min=1, max=4096),
                               metadata={"description": "the content of the card's QR code"})
    card_id = CardId(load_default=None, allow_none=True, validate=validate.Length(max=32),
                     metadata={"description": "the card id printed on the card (as printed or typed); when given "
                                              "it must match the scanned card"})


class CheckinInputSchema(CardPresentationSchema):
    """Check a guest in: the scanned card token, or (no camera) the card id with the passport number."""

    token_takes_card_id = True

    card_id = CardId(load_default=None, allow_none=True, validate=validate.Length(max=32),
                     metadata={"description": "the card id printed on the card (as printed or typed): with "
                                              "`card_token` it must match the scanned card; without it, it goes "
                                              "with `passport_number`"})
    room = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))


class CardBriefSchema(Schema):
    """What the hotel sees of a scanned card."""

    card_id = fields.String(attribute="id", required=True)
    full_name = fields.Function(lambda card: card.tourist.full_name)
    latin_name = fields.Function(lambda card: card.tourist.latin_name, allow_none=True,
                                 metadata={"description": LATIN_NAME_DOC, "type": "string", "nullable": True})
    nationality = fields.Function(lambda card: card.tourist.nationality)
    kind = fields.String()
    status = fields.Function(lambda card: card.effective_status(),
                             metadata={"description": "active, expired, revoked or closed"})
    stay_until = fields.Date(metadata={"description": STAY_UNTIL_DOC})
    expires_at = fields.AwareDateTime()


class StayRefSchema(Schema):
    """The card's open stay at this hotel."""

    stay_id = fields.Integer(attribute="id")
    room = fields.String(allow_none=True)
    checked_in_at = fields.AwareDateTime()


class CardCheckSchema(Schema):
    """The result of checking a scanned card at the hotel."""

    valid = fields.Boolean(required=True)
    reason = fields.String(allow_none=True, metadata={"description": f"why the card is refused: {_REASONS}"})
    message = fields.String(allow_none=True)
    card = fields.Nested(CardBriefSchema, allow_none=True,
                         metadata={"description": "shown only when the card's signature is genuine"})
    stay = fields.Nested(StayRefSchema, allow_none=True,
                         metadata={"description": "the guest is already checked in here"})
    staying_elsewhere = fields.Boolean(metadata={"description": "checking in here ends the stay at another hotel"})


class CheckinSchema(Schema):
    """A guest checked in."""

    stay_id = fields.Integer(required=True)
    card_id = fields.String(required=True)
    full_name = fields.String(required=True)
    latin_name = fields.String(allow_none=True, metadata={"description": LATIN_NAME_DOC})
    nationality = fields.String(required=True)
    stay_until = fields.Date(metadata={"description": STAY_UNTIL_DOC})
    checked_in_at = fields.AwareDateTime(required=True)
    room = fields.String(allow_none=True)
    hotel_id = fields.Integer()
    previous_stay_ended = fields.Boolean(metadata={"description": "an open stay at another hotel was ended"})


class CardRefusalSchema(Schema):
    """A refused check-in: the card's ``reason``, or (without one) the request's own field errors."""

    code = fields.Integer(required=True)
    status = fields.String()
    message = fields.String(required=True)
    reason = fields.String(metadata={"description": f"present when the card itself is refused: {_REASONS}"})
    errors = fields.Dict(required=True)


class IncidentBriefSchema(Schema):
    """An open incident of a guest (no position)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    severity = fields.String(required=True)
    created_at = fields.AwareDateTime()


class GuestSchema(Schema):
    """A guest in house and their safety status."""

    stay_id = fields.Integer(required=True)
    card_id = fields.String(required=True)
    full_name = fields.String(required=True)
    latin_name = fields.String(allow_none=True, metadata={"description": LATIN_NAME_DOC})
    nationality = fields.String(required=True)
    stay_until = fields.Date(metadata={"description": STAY_UNTIL_DOC})
    room = fields.String(allow_none=True)
    checked_in_at = fields.AwareDateTime(required=True)
    last_seen_at = fields.AwareDateTime(allow_none=True,
                                        metadata={"description": "when the guest's phone was last heard from"})
    status = fields.String(required=True, validate=validate.OneOf(GUEST_STATUSES), metadata={
        "description": "the most serious that applies, in this order: sos (an open SOS), in_danger (in a "
                       "danger zone), overdue (no contact for OVERDUE_AFTER_S, or an open overdue incident), "
                       "outside_area (outside the service area), ok",
        "enum": list(GUEST_STATUSES)})
    open_incidents = fields.List(fields.Nested(IncidentBriefSchema), required=True)
    tracked = fields.Boolean(metadata={"description": "false until the guest's phone has reported once"})
    card_status = fields.String(metadata={"description": "active, expired, revoked or closed"})


class GuestListSchema(Schema):
    """The hotel's guests in house, most serious status first."""

    items = fields.List(fields.Nested(GuestSchema), required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "guests per status"})
    generated_at = fields.AwareDateTime()


class StaySchema(Schema):
    """A stay (after check-out)."""

    stay_id = fields.Integer(attribute="id", required=True)
    hotel_id = fields.Integer()
    card_id = fields.String(required=True)
    full_name = fields.Function(lambda stay: stay.card.tourist.full_name)
    nationality = fields.Function(lambda stay: stay.card.tourist.nationality)
    room = fields.String(allow_none=True)
    checked_in_at = fields.AwareDateTime()
    checked_out_at = fields.AwareDateTime(allow_none=True)
    end_reason = fields.String(allow_none=True, metadata={"description": "checked_out or checked_in_elsewhere"})
