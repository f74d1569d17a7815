"""Card endpoints (``/api/v1/cards``), the JWKS, the checkpoint page and the printable card.

Who may do what (least privilege):

- issue, revoke, close, renew the enrollment code and print: ``immigration`` (and ``admin``);
- find a card by passport number, name or card id: ``immigration`` and ``dispatcher`` (the 191
  center links a phone call to the card of the person in trouble), audited alike; hotel
  managers find their guests through their guest list;
- read a card with its holder and its QR: ``immigration``, ``dispatcher`` (the 191 center
  identifies a tourist in trouble) and ``admin``. Hotel managers see their own guests through
  the hotels API, never an arbitrary card;
- verify a card token: every staff role (hotels check guests in with it);
- the JWKS and the revocation list: anyone (offline verifiers need them).

Every read of a holder's data, issuance, verification, revocation and closure is audited.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Response, current_app, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from backend import card_ids
from backend.audit.service import record
from backend.auth.decorators import current_staff, staff_required
from backend.auth.models import Role
from backend.cards import enrollment, qr, search, service
from backend.cards.models import Card
from backend.cards.schemas import (
    CardIssueSchema,
    CardSchema,
    CardSearchArgsSchema,
    CardSearchSchema,
    EnrollmentCodeSchema,
    EnrollmentQrRequestSchema,
    IssuedCardSchema,
    JwksSchema,
    RevocationListSchema,
    RevokeSchema,
    VerificationSchema,
    VerifyRequestSchema,
    card_links,
)
from backend.models_base import utcnow
from backend.web.transactions import unit_of_work

blp = Blueprint("cards", __name__, url_prefix="/api/v1/cards",
                description="Smart Tourist Cards: issuance at the checkpoints, verification, revocation. "
                            "Verification reasons: " + "; ".join(f"`{k}` — {v}" for k, v in service.REASONS.items()))
jwks_blp = Blueprint("jwks", __name__, url_prefix="/.well-known", description="Card-signing public keys")
pages = PageBlueprint("card_pages", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static/cards")

READERS = (Role.IMMIGRATION, Role.DISPATCHER)
PNG_DOC = {"type": "string", "format": "binary"}
SVG_DOC = {"type": "string"}


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def _card_or_404(card_id: str) -> Card:
    card = service.get_card(card_id=card_id)
    if card is None:
        typed = card_ids.canonical(card_id)
        if len(typed) == card_ids.LENGTH and not card_ids.is_valid(typed):
            abort(404, message="no such card: the check character does not match, is the card id mistyped?")
        abort(404, message="no such card")
    return card


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("")
class Cards(MethodView):
    """Issue a card at a checkpoint; find cards."""

    @staff_required(Role.IMMIGRATION, Role.DISPATCHER)
    @blp.arguments(CardSearchArgsSchema, location="query")
    @blp.response(200, CardSearchSchema)
    @unit_of_work
    def get(self, args: dict[str, Any]):
        """Find cards by passport number, name (any script, or the Latin-script name) or card id (immigration;
        dispatchers too, to link a 191 call to a card).

        Newest first, paged by `cursor`. Every search is audited as a read of personal data, with
        what was typed and the cards shown.
        """
        cursor = search.Cursor.decode(args["cursor"]) if args.get("cursor") else None
        page = search.search_cards(q=args["q"], limit=args["limit"], cursor=cursor)
        typed = args["q"].strip()
        record("card.search", subject_type="card", detail={"q": typed, "count": len(page.items)})
        for card in page.items:  # each holder's record shows who saw it, as for GET /cards/{id}
            record("card.read", subject_type="card", subject_id=card.id, card_id=card.id,
                   detail={"view": "search", "q": typed})
        return {"items": page.items, "next_cursor": page.next_cursor}, 200, {"Cache-Control": "no-store"}

    @staff_required(Role.IMMIGRATION)
    @blp.arguments(CardIssueSchema)
    @blp.response(201, IssuedCardSchema)
    @blp.alt_response(422, description="Invalid input (unknown checkpoint, nationality, stay in the past …)")
    @unit_of_work
    def post(self, body: dict[str, Any]):
        """Issue a Smart Tourist Card (immigration); the enrollment code is shown only in this answer."""
        issued = service.issue_card(issued_by=current_staff().id, **body)
        card = issued.card
        return {
            "card_id": card.id, "card_id_display": card_ids.display(card.id), "card_token": issued.card_token,
            "enrollment_code": issued.enrollment_code,
            "enrollment_url": service.enrollment_url(card_id=card.id, code=issued.enrollment_code,
                                                     base_url=_base_url()),
            "status": card.effective_status(), "kind": card.kind, "checkpoint": card.checkpoint,
            "issued_at": card.issued_at, "expires_at": card.expires_at, "links": card_links(card),
        }


@blp.route("/verify")
class Verify(MethodView):
    """Verify a card token read from a QR."""

    # every staff role (contract), the boat operators at the pier included
    @staff_required(Role.IMMIGRATION, Role.DISPATCHER, Role.HOTEL_MANAGER, Role.MARINE_OPERATOR)
    @blp.arguments(VerifyRequestSchema)
    @blp.response(200, VerificationSchema)
    @unit_of_work
    def post(self, body: dict[str, Any]):
        """Check signature, key, algorithm, type, expiry, revocation and closure (any staff role)."""
        outcome = service.verify_card_token(body["card_token"])
        if outcome.card is not None:
            record("card.verify", subject_type="card", subject_id=outcome.card.id, card_id=outcome.card.id,
                   detail={"valid": outcome.valid, "reason": outcome.reason})
        return {"valid": outcome.valid, "reason": outcome.reason, "card": outcome.card}


@blp.route("/revocations")
class Revocations(MethodView):
    """The public revocation list for offline verifiers."""

    @blp.response(200, RevocationListSchema)
    def get(self):
        """Unexpired cards that are revoked or closed, by ``jti`` (public)."""
        return {"generated_at": utcnow(), "revoked": service.revocation_list()}, 200, {
            "Cache-Control": "public, max-age=60"}


@blp.route("/<card_id>")
class CardDetail(MethodView):
    """One card and its holder."""

    @staff_required(*READERS)
    @blp.response(200, CardSchema)
    @unit_of_work
    def get(self, card_id: str):
        """The card and its holder (immigration, dispatcher; audited)."""
        card = _card_or_404(card_id)
        record("card.read", subject_type="card", subject_id=card.id, card_id=card.id)
        return card, 200, {"Cache-Control": "no-store"}


@unit_of_work  # the read is audited (committed) before the image is made and sent
def _audited_token(card_id: str, fmt: str) -> str:
    card = _card_or_404(card_id)
    if not card.token:
        abort(404, message="this card has no signed token")
    record("card.read", subject_type="card", subject_id=card.id, card_id=card.id, detail={"view": f"qr.{fmt}"})
    return card.token


def _qr_response(card_id: str, fmt: str) -> Response:
    token = _audited_token(card_id, fmt)
    if fmt == "png":
        return _no_store(Response(qr.png(token), mimetype="image/png"))
    return _no_store(Response(qr.svg(token), mimetype="image/svg+xml"))


@blp.route("/<card_id>/qr.png")
class CardQrPng(MethodView):
    """The card's QR code as PNG."""

    @staff_required(*READERS)
    @blp.response(200, PNG_DOC, content_type="image/png")
    def get(self, card_id: str):
        """A PNG QR code whose content is exactly the card token (audited)."""
        return _qr_response(card_id, "png")


@blp.route("/<card_id>/qr.svg")
class CardQrSvg(MethodView):
    """The card's QR code as SVG."""

    @staff_required(*READERS)
    @blp.response(200, SVG_DOC, content_type="image/svg+xml")
    def get(self, card_id: str):
        """An SVG QR code whose content is exactly the card token (audited)."""
        return _qr_response(card_id, "svg")


@blp.route("/<card_id>/revoke")
class Revoke(MethodView):
    """Revoke a card."""

    @staff_required(Role.IMMIGRATION)
    @blp.arguments(RevokeSchema)
    @blp.response(200, CardSchema)
    @unit_of_work
    def post(self, body: dict[str, Any], card_id: str):
        """Revoke a card (immigration): it stops verifying and tracking; its devices are signed out."""
        card = _card_or_404(card_id)
        service.revoke_card(card=card, reason=body["reason"].strip())
        return card


@blp.route("/<card_id>/close")
class Close(MethodView):
    """Close a card at departure."""

    @staff_required(Role.IMMIGRATION)
    @blp.response(200, CardSchema)
    @blp.alt_response(409, description="The card is revoked")
    @unit_of_work
    def post(self, card_id: str):
        """Close a card when the holder leaves (immigration): tracking stops (PDPA)."""
        card = _card_or_404(card_id)
        service.close_card(card=card)
        return card


@blp.route("/<card_id>/enrollment-code")
class EnrollmentCode(MethodView):
    """A fresh enrollment code for a reprint."""

    @staff_required(Role.IMMIGRATION)
    @blp.response(201, EnrollmentCodeSchema)
    @blp.alt_response(409, description="The card is closed, revoked or expired")
    @unit_of_work
    def post(self, card_id: str):
        """Issue a new one-time enrollment code (immigration); the previous code stops working."""
        card = _card_or_404(card_id)
        code = service.renew_enrollment_code(card=card)
        return {"card_id": card.id, "enrollment_code": code,
                "enrollment_url": service.enrollment_url(card_id=card.id, code=code, base_url=_base_url()),
                "enrollment_code_issued_at": card.enrollment_code_issued_at}


@blp.route("/<card_id>/enrollment-qr.svg")
class EnrollmentQr(MethodView):
    """The enrollment QR for the printed card."""

    @staff_required(Role.IMMIGRATION)
    @blp.arguments(EnrollmentQrRequestSchema)
    @blp.response(200, SVG_DOC, content_type="image/svg+xml")
    @blp.alt_response(422, description="Not the card's current enrollment code")
    def post(self, body: dict[str, Any], card_id: str):
        """An SVG QR of the companion-app link ``<base>/app#card_id=…&code=…`` (immigration).

        The code is known only to whoever issued it: it must match the card's current code.
        """
        card = _card_or_404(card_id)
        code = body["enrollment_code"].strip().upper()
        if not enrollment.check(card.enrollment_code_hash, code):
            abort(422, message="not this card's current enrollment code",
                  errors={"json": {"enrollment_code": ["does not match (issue a fresh code for a reprint)"]}})
        url = service.enrollment_url(card_id=card.id, code=code, base_url=_base_url())
        return _no_store(Response(qr.svg(url), mimetype="image/svg+xml"))


@jwks_blp.route("/jwks.json")
class Jwks(MethodView):
    """The card-signing public keys."""

    @jwks_blp.response(200, JwksSchema)
    def get(self):
        """The current key and every retired key that still has unexpired cards (public)."""
        return service.jwks(), 200, {"Cache-Control": "public, max-age=300"}


# -- pages --------------------------------------------------------------------------------
# The pages' Content-Security-Policy and other security headers are set by backend.web.security.
@pages.get("/checkpoint")
def checkpoint_page():
    """The immigration officer's page: sign in, issue a card, print it."""
    from backend.cards.models import Checkpoint

    return render_template("cards/checkpoint.html", checkpoints=CHECKPOINT_NAMES,
                           checkpoint_codes=[c.value for c in Checkpoint])


@pages.get("/cards/<card_id>/print")
def print_page(card_id: str):
    """The printable card (credit-card size); its data loads with the officer's token in the page."""
    return render_template("cards/print.html", card_id=card_ids.canonical(card_id)[:32],
                           public_base=_base_url())


CHECKPOINT_NAMES = {
    "HKT": ("Phuket International Airport", "ท่าอากาศยานภูเก็ต"),
    "THA_CHATCHAI": ("Tha Chatchai land checkpoint", "ด่านท่าฉัตรไชย"),
    "AO_CHALONG": ("Ao Chalong sea port", "ท่าเรืออ่าวฉลอง"),
    "RASSADA": ("Rassada pier", "ท่าเรือรัษฎา"),
    "AO_PO": ("Ao Po Grand Marina", "ท่าเรืออ่าวปอ"),
}
